"""The per-process policy snapshot: loaded from the database, rebuilt when the version moves.

A request normally touches only memory. At most once per ``PREFLIGHT_REFRESH_INTERVAL`` a
process reads the policy version from the database (one primary-key lookup) and rebuilds its
snapshot when the version moved; a change made by this process rebuilds it on the next request.
No cache is needed for that, so every cache backend and any number of servers work.

A process never decides without a snapshot: its first requests wait for the first load. Each
snapshot built from the database is also published, as plain JSON, in the shared cache, so a
worker started while the database is down can serve the last one instead of refusing everyone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.db import DatabaseError, ProgrammingError

from . import conf, metrics
from .engine import spec_json
from .engine.policy import PolicySet, build_policy_set
from .engine.specs import PolicySpec
from .mapping import load_specs

logger = logging.getLogger("django_preflight")


class PolicyStore:
    """Holds the current snapshot; reads are lock-free, loads are serialised."""

    def __init__(self) -> None:
        self._snapshot: PolicySet | None = None
        self.version: int | None = None
        self.loaded_at: float | None = None
        self.from_cache = False
        self._next_check = 0.0
        self._stale = True
        self._changes = 0
        self._lock = threading.Lock()
        self._async_load: asyncio.Task[None] | None = None
        self._unversioned_logged = False

    def current(self) -> PolicySet | None:
        """The snapshot to decide with, refreshed first if due; None while none could be loaded.

        Concurrent first callers wait for the one load in progress instead of deciding
        against nothing.
        """
        # refresh_due(), inlined: this runs on every request.
        if self._snapshot is None or time.monotonic() >= self._next_check:
            self.refresh()
        return self._snapshot

    def loaded(self) -> PolicySet | None:
        """The snapshot as it is, without any I/O: for the async path after its own refresh."""
        return self._snapshot

    def refresh_due(self) -> bool:
        """True when the next call to ``current`` may do I/O; cheap, for the async path."""
        return self._snapshot is None or time.monotonic() >= self._next_check

    async def arefresh(self) -> None:
        """``refresh`` for async code: run in a thread, one load awaited by every caller of
        the event loop, which is never blocked meanwhile."""
        loop = asyncio.get_running_loop()
        task = self._async_load
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(sync_to_async(self.refresh)())
            self._async_load = task
        await asyncio.shield(task)

    def refresh(self) -> None:
        """Read the version and rebuild when it moved; at most one attempt per interval."""
        with self._lock:
            now = time.monotonic()
            if now < self._next_check:
                return  # another thread checked (or failed to) while this one waited
            settings = conf.get()
            self._next_check = now + settings.REFRESH_INTERVAL
            from .versioning import read_version

            try:
                version: int | None = read_version()
            except ProgrammingError:
                version = None  # the table is missing (code deployed before migrate)
            except DatabaseError:
                self._database_failed(settings)
                return
            try:
                if version is None or version != self.version or self._stale or self.from_cache:
                    self._rebuild(version, settings)
            except DatabaseError:
                self._database_failed(settings)

    def _rebuild(self, version: int | None, settings: conf.PreflightSettings) -> None:
        changes_seen = self._changes
        specs = load_specs()
        if version is None and not self._unversioned_logged:
            self._unversioned_logged = True
            logger.warning(
                "django-preflight cannot read the policy version (run manage.py migrate): "
                "policies are reloaded every refresh interval until it can"
            )
        snapshot = build_policy_set(specs)
        for rejected in snapshot.rejected:
            for problem in rejected.problems:
                logger.error(
                    "django-preflight skipped policy %r (id %s): %s [%s]",
                    rejected.name,
                    rejected.policy_id,
                    problem.message,
                    problem.code.value,
                )
        self._install(snapshot, version, from_cache=False)
        metrics.snapshot_built(snapshot)
        self._stale = self._changes != changes_seen
        _publish_snapshot(settings, version, specs)

    def _install(self, snapshot: PolicySet, version: int | None, *, from_cache: bool) -> None:
        self._snapshot = snapshot
        self.version = version
        self.from_cache = from_cache
        self.loaded_at = time.monotonic()

    def _database_failed(self, settings: conf.PreflightSettings) -> None:
        metrics.snapshot_failed()
        if self._snapshot is not None:
            logger.exception(
                "django-preflight could not load policies; the last good snapshot keeps serving "
                "and the load is retried after the refresh interval"
            )
            return
        published = _read_published(settings)
        if published is None:
            logger.exception(
                "django-preflight could not load policies and cache %r holds no published "
                "snapshot: preflights are answered 503 until the database is reachable",
                settings.CACHE_ALIAS,
            )
            return
        version, specs = published
        self._install(build_policy_set(specs), version, from_cache=True)
        logger.warning(
            "django-preflight could not reach the database; serving the snapshot published in "
            "cache %r (policy version %s, %d policies) until it can",
            settings.CACHE_ALIAS,
            version,
            len(specs),
            exc_info=True,
        )

    def mark_stale(self) -> None:
        """This process changed policies: rebuild on the next request, whatever the version."""
        self._stale = True
        self._changes += 1
        self._next_check = 0.0

    def reset(self) -> None:
        """Forget everything; for tests and for settings changes."""
        with self._lock:
            self.__init__()  # type: ignore[misc]


def _publish_snapshot(
    settings: conf.PreflightSettings, version: int | None, specs: list[PolicySpec]
) -> None:
    """Leave the specs in the shared cache for workers that start without a database."""
    text = spec_json.dumps(version or 0, specs)
    try:
        caches[settings.CACHE_ALIAS].set(settings.CACHE_KEY, text, None)
    except Exception:
        logger.warning(
            "django-preflight could not publish its snapshot to cache %r; workers started "
            "while the database is down will answer preflights 503",
            settings.CACHE_ALIAS,
            exc_info=True,
        )


def _read_published(settings: conf.PreflightSettings) -> tuple[int, list[PolicySpec]] | None:
    try:
        text = caches[settings.CACHE_ALIAS].get(settings.CACHE_KEY)
        return None if text is None else spec_json.loads(str(text))
    except Exception:
        logger.warning(
            "django-preflight could not read a published snapshot from cache %r",
            settings.CACHE_ALIAS,
            exc_info=True,
        )
        return None


def publish_change(using: str = "default") -> None:
    """Tell every process that policies changed, for writes that bypass the ORM (raw SQL).

    Call it inside the writing transaction: the version moves with it, once per transaction.
    """
    from .versioning import note_change

    note_change(using)


def load_policy_set() -> PolicySet:
    """Read and compile every enabled policy, bypassing the snapshot: for operator commands."""
    return build_policy_set(load_specs())


store = PolicyStore()
