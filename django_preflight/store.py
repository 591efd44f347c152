"""The per-process policy snapshot: loaded from the database, refreshed when the version moves.

A request normally touches only memory. At most once per ``PREFLIGHT_REFRESH_INTERVAL`` a
process reads a version token from Django's cache (one round trip, no database query); when it
differs from the token the snapshot was built for, the snapshot is rebuilt from the database.
Saving or deleting a policy or an origin writes a new token after the transaction commits and
marks this process's own snapshot stale at once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.core.cache import caches
from django.db import DatabaseError

from . import conf, metrics
from .engine.policy import PolicySet, build_policy_set
from .mapping import load_specs

logger = logging.getLogger("django_preflight")


class PolicyStore:
    """Holds the current snapshot; reads are lock-free, rebuilds are serialised."""

    def __init__(self) -> None:
        self._snapshot: PolicySet | None = None
        self._version: str | None = None
        self._next_check = 0.0
        self._stale = True
        self._changes = 0
        self._lock = threading.Lock()

    def current(self) -> PolicySet:
        """The snapshot to decide with, refreshed first if due. May touch cache and database."""
        if self.refresh_due():
            self.refresh()
        return self.loaded()

    def loaded(self) -> PolicySet:
        """The snapshot as it is, without any I/O: for the async path after its own refresh."""
        snapshot = self._snapshot
        return snapshot if snapshot is not None else EMPTY

    def refresh_due(self) -> bool:
        """True when the next call to ``current`` may do I/O; cheap, for the async path."""
        return time.monotonic() >= self._next_check

    def refresh(self) -> None:
        """Check the shared version and rebuild when it moved or this process changed data."""
        with self._lock:
            if not self.refresh_due():
                return
            settings = conf.get()
            self._next_check = time.monotonic() + settings.REFRESH_INTERVAL
            version = _read_version(settings)
            if version is None and not self._stale and self._snapshot is not None:
                return
            if version is not None and version == self._version and not self._stale:
                return
            self._rebuild(version)

    def _rebuild(self, version: str | None) -> None:
        changes_seen = self._changes
        try:
            snapshot = load_policy_set()
        except DatabaseError:
            metrics.snapshot_failed()
            logger.exception(
                "django-preflight could not load policies; the last good snapshot keeps serving "
                "and the load is retried after the refresh interval"
            )
            return
        for rejected in snapshot.rejected:
            for problem in rejected.problems:
                logger.error(
                    "django-preflight skipped policy %r (id %s): %s [%s]",
                    rejected.name,
                    rejected.policy_id,
                    problem.message,
                    problem.code.value,
                )
        self._snapshot = snapshot
        self._version = version
        metrics.snapshot_built(snapshot)
        self._stale = self._changes != changes_seen

    def mark_stale(self) -> None:
        """This process changed policies: rebuild on the next request, whatever the cache says."""
        self._stale = True
        self._changes += 1
        self._next_check = 0.0

    def reset(self) -> None:
        """Forget everything; for tests and for settings changes."""
        with self._lock:
            self.__init__()  # type: ignore[misc]


def _read_version(settings: conf.PreflightSettings) -> str | None:
    """The shared token, None when the cache is unreachable.

    A missing token (cache restarted, evicted, or never written) is replaced by a new one, so
    a change published just before the loss still makes every process rebuild once.
    """
    cache = caches[settings.CACHE_ALIAS]
    try:
        token = cache.get(settings.CACHE_KEY)
        if token is None:
            cache.add(settings.CACHE_KEY, uuid.uuid4().hex, None)
            token = cache.get(settings.CACHE_KEY)
    except Exception:
        logger.warning(
            "django-preflight could not read the policy version from cache %r; "
            "keeping the current snapshot until the next refresh",
            settings.CACHE_ALIAS,
            exc_info=True,
        )
        return None
    return str(token) if token is not None else None


def publish_change() -> None:
    """Tell every process that policies changed: a new token in the shared cache."""
    store.mark_stale()
    settings = conf.get()
    try:
        caches[settings.CACHE_ALIAS].set(settings.CACHE_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning(
            "django-preflight could not publish a policy change to cache %r; other processes "
            "will not see it until their cache is reachable again",
            settings.CACHE_ALIAS,
            exc_info=True,
        )


def load_policy_set() -> PolicySet:
    """Read every enabled policy and its origins (two queries) and compile them."""
    return build_policy_set(load_specs())


EMPTY = PolicySet()
store = PolicyStore()
