"""Invalidation: any saved or deleted policy or origin publishes a change after commit.

Bulk operations that send no signals (``QuerySet.update``, ``bulk_create``, raw SQL) must call
``django_preflight.store.publish_change()`` themselves.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from .store import publish_change

preflight_refused = Signal()
"""Sent on every refused preflight, with ``decision``, ``facts``, ``request`` and
``report_only`` (True when only a report-only policy would refuse it): for custom alerting."""


def _on_change(sender: Any, using: str = "default", **kwargs: Any) -> None:
    transaction.on_commit(publish_change, using=using)


def connect() -> None:
    """Connect the receivers for the models whose rows make up the snapshot."""
    from .models import AllowedOrigin, CorsPolicy

    for model in (CorsPolicy, AllowedOrigin):
        uid = f"django_preflight.{model.__name__}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + ".delete")
