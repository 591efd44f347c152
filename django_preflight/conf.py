"""Every setting of django-preflight, with its default, read in one place.

Values are read once and cached, since the middleware needs them on every request; Django's
``setting_changed`` signal (sent by ``override_settings``) clears the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .engine import limits

PREFIX = "PREFLIGHT_"


@dataclass(frozen=True)
class PreflightSettings:
    """Defaults are documented in docs/settings.md; names carry the PREFLIGHT_ prefix."""

    CACHE_ALIAS: str = "default"
    CACHE_KEY: str = "django_preflight:snapshot"
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
    POLICIES: dict[str, Any] | None = None


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


def _positive_number(value: object, *, allow_zero: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= 0 if allow_zero else value > 0


def _whole(value: object, low: int, high: float = float("inf")) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _header_name(value: object) -> bool:
    from .engine.tokens import is_token

    return value is None or (isinstance(value, str) and is_token(value))


def _callable_path(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        return callable(import_string(value))
    except ImportError:
        return False


_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "CACHE_ALIAS": (
        lambda v: isinstance(v, str) and v in django_settings.CACHES,
        "a key of CACHES",
    ),
    "CACHE_KEY": (lambda v: isinstance(v, str) and 0 < len(v) <= 200, "a non-empty string"),
    "REFRESH_INTERVAL": (lambda v: _positive_number(v, allow_zero=True), "seconds, 0 or more"),
    "REFUSED_STATUS": (lambda v: _whole(v, 200, 599), "an HTTP status code"),
    "REASON_HEADER": (_header_name, "None or an HTTP header name"),
    "SHAPE_REFUSALS": (lambda v: isinstance(v, bool), "True or False"),
    "LOG_REFUSALS_PER_MINUTE": (lambda v: _whole(v, 0), "a whole number, 0 or more"),
    "MAX_REQUESTED_HEADERS": (lambda v: _whole(v, 1, 1000), "a whole number from 1 to 1000"),
    "AUDIT_ENABLED": (lambda v: isinstance(v, bool), "True or False"),
    "AUDIT_MAX_ROWS": (lambda v: _whole(v, 1), "a positive integer"),
    "AUDIT_MAX_VALUE_LENGTH": (lambda v: _whole(v, 16, 500), "a whole number from 16 to 500"),
    "AUDIT_BUFFER_SIZE": (lambda v: _whole(v, 1), "a positive integer"),
    "AUDIT_FLUSH_INTERVAL": (_positive_number, "seconds, more than 0"),
    "AUDIT_RETENTION_DAYS": (lambda v: _whole(v, 1), "a positive number of days"),
    "SCAN_ALLOW_PRIVATE_ADDRESSES": (lambda v: isinstance(v, bool), "True or False"),
    "SCAN_TIME_LIMIT": (
        lambda v: _positive_number(v) and v <= 300,
        "seconds, more than 0 and at most 300",
    ),
    "NETGUARD_RESOLVER": (_callable_path, "None or the dotted path of a callable"),
    "RELAY_STATS_INTERVAL": (lambda v: _positive_number(v, allow_zero=True), "seconds, 0 or more"),
    "METRICS": (lambda v: isinstance(v, bool), "True or False"),
}


def problems() -> list[str]:
    """One sentence per setting whose value has the wrong type or range, naming the setting."""
    current = get()
    found = []
    for name, (valid, expected) in _RULES.items():
        value = getattr(current, name)
        if not valid(value):
            found.append(f"{PREFIX}{name} is {value!r}; it must be {expected}.")
    return found


def validate() -> None:
    """Refuse to start with a wrong setting: servers such as gunicorn run no system checks,
    so without this every request would fail instead."""
    found = problems()
    if found:
        raise ImproperlyConfigured(" ".join(found))


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(PREFIX):
        get.cache_clear()
