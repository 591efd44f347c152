"""Invalidation: any saved or deleted policy or origin moves the policy version.

The version moves inside the saving transaction, once per transaction. Queryset ``update``,
``bulk_create`` and ``bulk_update`` on the app's models do the same themselves; only raw SQL
must call ``django_preflight.store.publish_change()``.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

preflight_refused = Signal()
"""Sent on every refused preflight, and on every cross-origin write refused on the server, with
``decision``, ``facts``, ``request`` and ``report_only`` (True when only a report-only policy
would refuse it): for custom alerting."""


def _on_change(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from .versioning import note_change

    note_change(using)


def connect() -> None:
    """Connect the receivers for the models whose rows make up the snapshot."""
    from .models import AllowedOrigin, CorsPolicy

    for model in (CorsPolicy, AllowedOrigin):
        uid = f"django_preflight.{model.__name__}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + ".delete")
