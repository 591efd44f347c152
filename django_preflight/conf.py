"""Every setting of django-preflight, with its default, read in one place.

Values are read once and cached, since the middleware needs them on every request; Django's
``setting_changed`` signal (sent by ``override_settings``) clears the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .engine import limits

PREFIX = "PREFLIGHT_"


@dataclass(frozen=True)
class PreflightSettings:
    """Defaults are documented in docs/settings.md; names carry the PREFLIGHT_ prefix."""

    CACHE_ALIAS: str = "default"
    CACHE_KEY: str = "django_preflight:policy-version"
    REFRESH_INTERVAL: float = 5.0
    REFUSED_STATUS: int = 403
    REASON_HEADER: str | None = None
    SHAPE_REFUSALS: bool = False
    LOG_REFUSALS_PER_MINUTE: int = 60
    MAX_REQUESTED_HEADERS: int = limits.MAX_REQUESTED_HEADERS
    AUDIT_ENABLED: bool = True
    AUDIT_MAX_ROWS: int = 10_000
    AUDIT_MAX_VALUE_LENGTH: int = 200
    AUDIT_BUFFER_SIZE: int = 1_000
    AUDIT_FLUSH_INTERVAL: float = 2.0
    AUDIT_RETENTION_DAYS: int = 30
    SCAN_ALLOW_PRIVATE_ADDRESSES: bool = False
    SCAN_TIME_LIMIT: float = 20.0
    NETGUARD_RESOLVER: str | None = None
    RELAY_STATS_INTERVAL: float = 1.0
    METRICS: bool = False


SETTING_NAMES = tuple(PREFIX + f.name for f in fields(PreflightSettings))


@cache
def get() -> PreflightSettings:
    """The current settings, user values over defaults."""
    values: dict[str, Any] = {
        f.name: getattr(django_settings, PREFIX + f.name)
        for f in fields(PreflightSettings)
        if hasattr(django_settings, PREFIX + f.name)
    }
    return PreflightSettings(**values)


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(PREFIX):
        get.cache_clear()
