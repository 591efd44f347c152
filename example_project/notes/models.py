"""A note belongs to one user: the API must authenticate before it can answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Note(models.Model):
    """A short text owned by a user."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return self.title
