"""The admin's last scans, and the permission to run one."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..engine.limits import MAX_URL_LENGTH

KEEP_RESULTS = 50
"""Older scans are deleted when a new one is saved."""


class ScanResult(models.Model):
    """One scan of one URL run from the admin, with its report as JSON."""

    url = models.CharField(_("URL"), max_length=MAX_URL_LENGTH)
    trusted_origins = models.JSONField(_("trusted origins"), default=list)
    credentials = models.BooleanField(_("called with credentials"), default=False)
    report = models.JSONField(_("report"), default=dict)
    finding_count = models.PositiveIntegerField(_("findings"), default=0)
    highest_severity = models.CharField(_("highest severity"), max_length=10, blank=True)
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("scanned at"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "django_preflight"
        verbose_name = _("scan result")
        verbose_name_plural = _("scan results")
        ordering = ("-created_at", "-id")
        default_permissions = ("view", "delete")
        permissions = (("run_scan", _("Can scan a URL for CORS misconfigurations")),)

    def __str__(self) -> str:
        return self.url

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep only the most recent results."""
        super().save(*args, **kwargs)
        stale = ScanResult.objects.values_list("pk", flat=True)[KEEP_RESULTS:]
        ScanResult.objects.filter(pk__in=list(stale)).delete()
