"""Per-upstream counters, tallied in memory and written at most once per interval per process.

A relayed call only adds to a dictionary; the call that finds the last write older than
``PREFLIGHT_RELAY_STATS_INTERVAL`` writes every pending tally (one UPDATE per upstream with
activity, counters added with F expressions so processes never overwrite each other). Counts
still pending when a process exits are written at exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone

from .. import conf
from .models import LAST_ERROR_LENGTH, ErrorKind, UpstreamStats

logger = logging.getLogger("django_preflight.relay")


@dataclass
class Tally:
    """What happened to one upstream since the last write."""

    calls: int = 0
    errors: dict[ErrorKind, int] = field(default_factory=dict)
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success_at: datetime | None = None


class Counters:
    """The process's pending tallies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, Tally] = {}
        self._written_at = 0.0

    def record(self, upstream_id: int, error: ErrorKind | None, detail: str = "") -> None:
        """Count one call: a success when ``error`` is None."""
        now = timezone.now()
        with self._lock:
            tally = self._pending.setdefault(upstream_id, Tally())
            tally.calls += 1
            if error is None:
                tally.last_success_at = now
            else:
                tally.errors[error] = tally.errors.get(error, 0) + 1
                tally.last_error = f"{error.label}: {detail}"[:LAST_ERROR_LENGTH]
                tally.last_error_at = now

    def due(self) -> bool:
        """Whether a write is due (cheap; no lock)."""
        interval = conf.get().RELAY_STATS_INTERVAL
        return bool(self._pending) and time.monotonic() - self._written_at >= interval

    def write(self) -> None:
        """Write and clear every pending tally; a failed write keeps them for the next one."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._written_at = time.monotonic()
        for upstream_id, tally in pending.items():
            try:
                _write_one(upstream_id, tally)
            except IntegrityError:
                pass  # the upstream was deleted meanwhile: its counts go with it
            except DatabaseError:
                logger.warning("relay counters of upstream %s not written", upstream_id)
                with self._lock:
                    self._merge_back(upstream_id, tally)

    def _merge_back(self, upstream_id: int, tally: Tally) -> None:
        current = self._pending.setdefault(upstream_id, Tally())
        current.calls += tally.calls
        for kind, count in tally.errors.items():
            current.errors[kind] = current.errors.get(kind, 0) + count
        current.last_error = current.last_error or tally.last_error
        current.last_error_at = current.last_error_at or tally.last_error_at
        current.last_success_at = current.last_success_at or tally.last_success_at


def _write_one(upstream_id: int, tally: Tally) -> None:
    changes: dict[str, Any] = {"calls": F("calls") + tally.calls}
    for kind, count in tally.errors.items():
        name = UpstreamStats.error_field(kind)
        changes[name] = F(name) + count
    if tally.last_error is not None:
        changes["last_error"] = tally.last_error
        changes["last_error_at"] = tally.last_error_at
    if tally.last_success_at is not None:
        changes["last_success_at"] = tally.last_success_at
    if not UpstreamStats.objects.filter(upstream_id=upstream_id).update(**changes):
        UpstreamStats.objects.get_or_create(upstream_id=upstream_id)
        UpstreamStats.objects.filter(upstream_id=upstream_id).update(**changes)


counters = Counters()


def record(upstream_id: int, error: ErrorKind | None, detail: str = "") -> None:
    """Count one call and write the pending counts when the interval has passed."""
    counters.record(upstream_id, error, detail)
    if counters.due():
        counters.write()


async def arecord(upstream_id: int, error: ErrorKind | None, detail: str = "") -> None:
    """``record`` for async views: the write runs in a thread, off the event loop."""
    counters.record(upstream_id, error, detail)
    if counters.due():
        await sync_to_async(counters.write)()


atexit.register(counters.write)
