"""Refused preflights, aggregated in memory and written in the background.

The request thread only counts into a bounded dictionary; a daemon thread per process writes
the counts every ``PREFLIGHT_AUDIT_FLUSH_INTERVAL`` seconds, one upsert per distinct refusal.
So a flood of refusals costs the requests a dictionary update (the entry's key is memoised for
short values, so a repeated refusal does not clip and hash its values again), the database a
bounded number of rows, and nothing is lost when the database is briefly away: the counts wait
in memory.
When the buffer or the table is full, new distinct refusals are folded into one overflow entry
per reason, so every refusal is still counted.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings as django_settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from . import conf, metrics
from .engine.decision import Decision, RequestFacts
from .engine.limits import (
    AUDIT_DETAIL_LENGTH,
    AUDIT_HEADERS_LENGTH,
    AUDIT_METHOD_LENGTH,
    AUDIT_ORIGIN_LENGTH,
    AUDIT_PATH_LENGTH,
)

logger = logging.getLogger("django_preflight")

OVERFLOW = "(overflow)"


class Key(NamedTuple):
    """What makes two refusals the same refusal (the policy id is carried, not compared)."""

    origin: str
    path: str
    method: str
    headers: str
    reason: str
    detail: str
    policy_id: int | None
    overflow: bool = False
    report_only: bool = False


@dataclass(slots=True)
class Tally:
    """How often one distinct refusal happened since the last write."""

    count: int
    first_seen: float
    last_seen: float
    """POSIX timestamps: cheaper to take and compare on the request's path than datetimes."""


def clip(value: str | None, limit: int) -> str:
    """Cut a user-supplied value to ``limit`` characters, marking the cut."""
    text = value or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fingerprint(key: Key) -> str:
    """A fixed-length identity for one distinct refusal, unique in the table."""
    kind = ("overflow" if key.overflow else "refusal") + ("-report" if key.report_only else "")
    parts = (kind, key.origin, key.path, key.method, key.headers, key.reason, key.detail)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


FLUSHER_CHECK_EVERY = 1_000
"""Refusals between two checks that the flusher thread is still alive."""
MEMO_MAX_TEXT = 512
"""Refusals whose values are longer than this in total are keyed without the memo, which
therefore never holds much."""


def entry_key(decision: Decision, facts: RequestFacts, report_only: bool, limit: int) -> Key:
    """The audit entry a refusal counts into, with every value clipped to its column."""
    policy_id = decision.policy.id if decision.policy is not None else None
    size = len(facts.origin or "") + len(facts.path) + len(facts.request_headers or "")
    make = _memoised_key if size <= MEMO_MAX_TEXT else _key
    return make(decision.reason.value, decision.detail, policy_id, facts, report_only, limit)


def _key(
    reason: str,
    detail: str,
    policy_id: int | None,
    facts: RequestFacts,
    report_only: bool,
    limit: int,
) -> Key:
    return Key(
        clip(facts.origin, min(limit, AUDIT_ORIGIN_LENGTH)),
        clip(facts.path, min(limit, AUDIT_PATH_LENGTH)),
        clip(facts.request_method, min(limit, AUDIT_METHOD_LENGTH)),
        clip(facts.request_headers, min(limit, AUDIT_HEADERS_LENGTH)),
        reason,
        clip(detail, min(limit, AUDIT_DETAIL_LENGTH)),
        policy_id,
        report_only=report_only,
    )


_memoised_key = lru_cache(maxsize=256)(_key)


def _overflow_key(key: Key) -> Key:
    return Key(OVERFLOW, OVERFLOW, "", "", key.reason, "", None, True, key.report_only)


class AuditBuffer:
    """The process's pending refusals; thread-safe."""

    def __init__(self) -> None:
        self._pending: dict[Key, Tally] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._unchecked = 0
        self.folded = 0
        os.register_at_fork(after_in_child=self._forget_flusher)

    def record(self, decision: Decision, facts: RequestFacts, *, report_only: bool = False) -> None:
        """Count one refused preflight (or one a report-only policy would refuse); memory only."""
        settings = conf.get()
        if not settings.AUDIT_ENABLED:
            return
        key = entry_key(decision, facts, report_only, settings.AUDIT_MAX_VALUE_LENGTH)
        now = time.time()
        with self._lock:
            existing = self._pending.get(key)
            folded = False
            if existing is None:
                folded = self._add(key, Tally(1, now, now), settings.AUDIT_BUFFER_SIZE)
            else:
                # The usual case in a flood: the same refusal again, and the latest one seen.
                existing.count += 1
                existing.last_seen = max(existing.last_seen, now)
        if folded:
            metrics.audit_folded(1)
        self._unchecked += 1
        if self._flusher is None or self._unchecked >= FLUSHER_CHECK_EVERY:
            self._unchecked = 0
            self._ensure_flusher(settings.AUDIT_FLUSH_INTERVAL)

    def reset(self) -> None:
        """Forget every pending refusal without writing it; for tests and settings changes."""
        with self._lock:
            self._pending.clear()
            self.folded = 0

    def _forget_flusher(self) -> None:
        """A forked child has no flusher thread; its first refusal starts one."""
        self._flusher = None

    def _add(self, key: Key, tally: Tally, capacity: int) -> bool:
        """Merge one tally; True when it was folded into its reason's overflow entry."""
        existing = self._pending.get(key)
        folded = existing is None and len(self._pending) >= capacity and not key.overflow
        if folded:
            key = _overflow_key(key)
            self.folded += tally.count
            existing = self._pending.get(key)
        if existing is None:
            self._pending[key] = tally
        else:
            existing.count += tally.count
            existing.first_seen = min(existing.first_seen, tally.first_seen)
            existing.last_seen = max(existing.last_seen, tally.last_seen)
        return folded

    @property
    def pending(self) -> int:
        """Refusals counted but not yet written."""
        with self._lock:
            return sum(t.count for t in self._pending.values())

    @property
    def distinct(self) -> int:
        """Distinct entries waiting to be written (overflow entries included)."""
        with self._lock:
            return len(self._pending)

    def entries(self) -> list[Key]:
        """The distinct entries waiting to be written, as they will be stored."""
        with self._lock:
            return list(self._pending)

    def flush(self) -> int:
        """Write pending counts; returns how many refusals were written. Failures keep them.

        One flush at a time: the exit handler's flush waits for a background one in progress,
        whose batch would otherwise be lost when the interpreter stops daemon threads.
        """
        with self._flushing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, {}
            folded, self.folded = self.folded, 0
        if folded:
            logger.warning(
                "django-preflight audit buffer was full: %d refusals were counted in overflow "
                "rows without their details",
                folded,
            )
        if not batch:
            return 0
        try:
            return _write(batch)
        except Exception:
            # Database errors above all, but any failure must keep the counts, not drop them.
            logger.exception("django-preflight could not write the audit; keeping counts in memory")
            capacity = conf.get().AUDIT_BUFFER_SIZE
            with self._lock:
                for key, tally in batch.items():
                    self._add(key, tally, capacity)
            return 0

    def _ensure_flusher(self, interval: float) -> None:
        if self._flusher is not None and self._flusher.is_alive():
            return
        with self._lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._flusher = threading.Thread(
                target=self._run, args=(interval,), name="django-preflight-audit", daemon=True
            )
            self._flusher.start()
            atexit.register(self.flush)

    def _run(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.flush()
            finally:
                connections.close_all()


def _write(batch: dict[Key, Tally]) -> int:
    """Upsert each entry and drop it from ``batch`` once written, so a failure midway
    leaves exactly the unwritten counts behind."""
    from .models import CorsPolicy, RejectedPreflight

    max_rows = conf.get().AUDIT_MAX_ROWS
    rows = RejectedPreflight.objects.count()
    policy_ids = {key.policy_id for key in batch if key.policy_id is not None}
    existing = set(CorsPolicy.objects.filter(id__in=policy_ids).values_list("id", flat=True))
    written = 0
    for key, tally in list(batch.items()):
        row_key = key if key.policy_id in existing else key._replace(policy_id=None)
        if _upsert(row_key, tally, table_full=rows >= max_rows):
            rows += 1
        del batch[key]
        written += tally.count
    return written


def _upsert(key: Key, tally: Tally, *, table_full: bool) -> bool:
    """Add the tally to its row, creating the row if needed; True when a row was created."""
    if _increment(key, tally):
        return False
    if table_full and not key.overflow:
        key = _overflow_key(key)
        if _increment(key, tally):
            return False
    try:
        _create(key, tally)
    except IntegrityError:
        # Another process inserted the same refusal between our update and our insert.
        if not _increment(key, tally):
            raise
        return False
    return True


def _create(key: Key, tally: Tally) -> None:
    from .models import RejectedPreflight

    with transaction.atomic():
        RejectedPreflight.objects.create(
            fingerprint=fingerprint(key),
            origin=key.origin,
            path=key.path,
            request_method=key.method,
            request_headers=key.headers,
            reason=key.reason,
            detail=key.detail,
            policy_id=key.policy_id,
            is_overflow=key.overflow,
            report_only=key.report_only,
            count=tally.count,
            first_seen=_moment(tally.first_seen),
            last_seen=_moment(tally.last_seen),
        )


def _increment(key: Key, tally: Tally) -> bool:
    from .models import RejectedPreflight

    updated = RejectedPreflight.objects.filter(fingerprint=fingerprint(key)).update(
        count=F("count") + tally.count,
        last_seen=Greatest(F("last_seen"), _moment(tally.last_seen)),
        resolved_at=None,
    )
    return updated > 0


def _moment(timestamp: float) -> datetime:
    """A timestamp as Django stores it: aware with USE_TZ, naive local time without."""
    moment = datetime.fromtimestamp(timestamp, tz=dt_timezone.utc)
    return moment if django_settings.USE_TZ else timezone.make_naive(moment)


buffer = AuditBuffer()
