"""Notes in the admin, next to the CORS policies, to watch the frontend's changes land."""

from __future__ import annotations

from django.contrib import admin

from .models import Note


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Lists notes with their owners."""

    list_display = ("title", "owner", "created")
    list_filter = ("owner",)
    search_fields = ("title", "body")
