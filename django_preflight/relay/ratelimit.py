"""A fixed-window rate limit per upstream and caller, counted in Django's cache.

Each call counts against its origin and its user (or its address when it has neither), so one
page cannot exhaust an upstream's quota for everyone, and one user cannot by changing pages.
Any cache backend works; with the local-memory cache the limit holds per process.
"""

from __future__ import annotations

import hashlib
import math
import time

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.http import HttpRequest

from .. import conf

WINDOW = 60


def caller_keys(request: HttpRequest, user_id: object | None) -> list[str]:
    """What one call counts against."""
    keys = []
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        keys.append(f"origin:{origin}")
    if user_id is not None:
        keys.append(f"user:{user_id}")
    if not keys:
        keys.append(f"addr:{request.META.get('REMOTE_ADDR', '')}")
    return keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _cache_keys(upstream_id: int, keys: list[str], now: float) -> list[str]:
    window = int(now // WINDOW)
    return [f"django_preflight:relay:rate:{upstream_id}:{_digest(key)}:{window}" for key in keys]


def _retry_after(now: float) -> int:
    return max(1, math.ceil(WINDOW - now % WINDOW))


def hit(upstream_id: int, limit: int, keys: list[str]) -> int | None:
    """Count one call; the seconds to wait when a key is over ``limit``, else None."""
    if limit <= 0:
        return None
    now = time.time()
    cache = caches[conf.get().CACHE_ALIAS]
    over = False
    for key in _cache_keys(upstream_id, keys, now):
        cache.add(key, 0, WINDOW * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, WINDOW * 2)
            count = 1
        over = count > limit or over
    return _retry_after(now) if over else None


# Django's cache backends implement their async methods by running the sync ones in a thread.
ahit = sync_to_async(hit, thread_sensitive=False)
