"""Refused preflights, aggregated in memory and written in the background.

The request thread only counts into a bounded dictionary, with the time as a plain number
(``time.time()``), made a datetime when the counts are written; a daemon thread per process writes
the counts every ``PREFLIGHT_AUDIT_FLUSH_INTERVAL`` seconds in one transaction of a few
statements, whatever the number of distinct refusals.
So a flood of refusals costs the requests a dictionary update, the database a bounded number
of rows, and nothing is lost when the database is briefly away: the counts wait in memory.
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
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings as django_settings
from django.db import connections, transaction
from django.db.models import F

from . import conf, metrics
from .engine.decision import Decision, RequestFacts
from .engine.limits import (
    AUDIT_DETAIL_LENGTH,
    AUDIT_HEADERS_LENGTH,
    AUDIT_METHOD_LENGTH,
    AUDIT_ORIGIN_LENGTH,
    AUDIT_PATH_LENGTH,
)

if TYPE_CHECKING:
    from .models import SharedState

logger = logging.getLogger("django_preflight")

OVERFLOW = "(overflow)"
CHUNK = 250
"""Rows per statement (5 parameters a row at most): under every backend's limits."""


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


REFUSAL_COLUMNS = ("origin", "path", "request_method", "request_headers", "reason", "detail")
"""The audit table's columns that say what was refused and why."""
KEY_COLUMNS = (*REFUSAL_COLUMNS, "policy_id", "is_overflow", "report_only")
"""The audit table's column for each field of ``Key``, in its order."""


@dataclass(slots=True)
class Tally:
    """How often one distinct refusal happened since the last write, first and last when.

    While pending, the times are ``time.time()`` seconds: reading the clock as a number costs
    the request a fraction of building a datetime. They become datetimes when the batch is
    written (see ``stamped``).
    """

    count: int
    first_seen: float
    last_seen: float


@dataclass(slots=True)
class Written:
    """A tally as it is written: its times as datetimes, aware when ``USE_TZ`` is on."""

    count: int
    first_seen: datetime
    last_seen: datetime


def _as_datetime(moment: float, aware: bool) -> datetime:
    """``time.time()`` seconds as ``django.utils.timezone.now()`` would have given them."""
    return datetime.fromtimestamp(moment, tz=dt_timezone.utc if aware else None)


def stamped(batch: dict[Key, Tally]) -> dict[Key, Written]:
    """The pending tallies with their times as datetimes, ready to write."""
    aware = django_settings.USE_TZ
    return {
        key: Written(
            tally.count,
            _as_datetime(tally.first_seen, aware),
            _as_datetime(tally.last_seen, aware),
        )
        for key, tally in batch.items()
    }


def clip(value: str | None, limit: int) -> str:
    """Cut a user-supplied value to ``limit`` characters, marking the cut."""
    text = value or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fingerprint(key: Key) -> str:
    """A fixed-length identity for one distinct refusal, unique in the table."""
    kind = ("overflow" if key.overflow else "refusal") + ("-report" if key.report_only else "")
    parts = (kind, key.origin, key.path, key.method, key.headers, key.reason, key.detail)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


MEMO_MAX_TEXT = 512
"""Refusals whose values are longer than this in total are keyed without the memo, which
therefore never holds much."""


def entry_key(decision: Decision, facts: RequestFacts, report_only: bool, limit: int) -> Key:
    """The audit entry a refusal counts into, with every value clipped to its column."""
    policy_id = decision.policy.id if decision.policy is not None else None
    size = len(facts.origin or "") + len(facts.path) + len(facts.request_headers or "")
    make = _memoised_key if size <= MEMO_MAX_TEXT else _key
    # ``_value_`` is the member's value as a plain attribute; ``.value`` goes through a
    # descriptor written in Python.
    return make(decision.reason._value_, decision.detail, policy_id, facts, report_only, limit)


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
        clip(facts.called_method, min(limit, AUDIT_METHOD_LENGTH)),
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
        self.folded = 0
        _buffers.add(self)

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
                # The usual case in a flood: the same refusal again, and the latest one seen
                # (the clock may step back; the latest stays the latest).
                existing.count += 1
                if now > existing.last_seen:
                    existing.last_seen = now
        if folded:
            metrics.audit_folded(1)
        if self._flusher is None:
            self._ensure_flusher(settings.AUDIT_FLUSH_INTERVAL)

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

    def reset(self) -> None:
        """Forget every pending refusal without writing it; for tests and settings changes."""
        with self._lock:
            self._pending.clear()
            self.folded = 0

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
            return _write(stamped(batch))
        except Exception:
            # Database errors above all, but any failure must keep the counts, not drop them.
            logger.exception("django-preflight could not write the audit; keeping counts in memory")
            capacity = conf.get().AUDIT_BUFFER_SIZE
            with self._lock:
                for key, tally in batch.items():
                    self._add(key, tally, capacity)
            return 0

    def _ensure_flusher(self, interval: float) -> None:
        with self._lock:
            if self._flusher is not None:
                return
            flusher = threading.Thread(
                target=self._run, args=(interval,), name="django-preflight-audit", daemon=True
            )
            flusher.start()
            self._flusher = flusher
            atexit.register(self.flush)

    def _run(self, interval: float) -> None:
        try:
            while True:
                time.sleep(interval)
                try:
                    self.flush()
                finally:
                    connections.close_all()
        finally:
            # Whatever stopped the loop, the next refusal starts a new flusher.
            with self._lock:
                if self._flusher is threading.current_thread():
                    self._flusher = None

    def _forget_flusher(self) -> None:
        """In a forked child: the parent's flusher thread was not copied; start anew."""
        self._flusher = None


_buffers: weakref.WeakSet[AuditBuffer] = weakref.WeakSet()
"""Every buffer of the process, so that a forked child forgets their parent's threads."""


def _after_fork_in_child() -> None:
    for pending in list(_buffers):
        pending._forget_flusher()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork either
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _LockRowMissingError(Exception):
    """The audit's lock row is gone (``manage.py flush``, a transactional test's teardown)."""


def _write(batch: dict[Key, Written]) -> int:
    """Write the batch in turn with every other process; re-create the lock row if it is gone.

    The row is re-created outside any transaction: inside one, writers that all found it
    missing hold MySQL/MariaDB gap locks that make their inserts deadlock.
    """
    from .models import SharedState

    try:
        return _write_in_turn(batch)
    except _LockRowMissingError:
        SharedState.objects.get_or_create(name=SharedState.AUDIT_LOCK, defaults={"number": 0})
        return _write_in_turn(batch)


def _write_in_turn(batch: dict[Key, Written]) -> int:
    """Write the batch in one transaction of a few statements, whatever its size.

    The audit's lock row is taken first, so flushes of every process and server take turns:
    the row count each one compares with ``PREFLIGHT_AUDIT_MAX_ROWS`` is then the real one, and
    the cap holds across processes. Existing rows are incremented by one ``UPDATE`` per chunk,
    new ones inserted by one ``INSERT`` per chunk; a failure rolls it all back and the caller
    keeps the counts.
    """
    from .models import CorsPolicy, RejectedPreflight, SharedState

    written = sum(tally.count for tally in batch.values())
    with transaction.atomic():
        _take_lock(SharedState)
        policy_ids = {key.policy_id for key in batch if key.policy_id is not None}
        existing_policies = set(
            CorsPolicy.objects.filter(id__in=policy_ids).values_list("id", flat=True)
        )
        entries = _merge(
            (key if key.policy_id in existing_policies else key._replace(policy_id=None), tally)
            for key, tally in batch.items()
        )
        overflows = {fingerprint(_overflow_key(key)) for key, _ in entries.values()}
        present = _present([*entries, *overflows])
        room = conf.get().AUDIT_MAX_ROWS - RejectedPreflight.objects.count()
        for fp, (key, tally) in list(entries.items()):
            if fp in present or key.overflow:
                continue
            if room > 0:
                room -= 1
                continue
            del entries[fp]
            _merge([(_overflow_key(key), tally)], entries)
        new = {fp: entry for fp, entry in entries.items() if fp not in present}
        _increment_all({fp: entries[fp][1] for fp in entries if fp in present})
        RejectedPreflight.objects.bulk_create(
            [_row(fp, key, tally) for fp, (key, tally) in new.items()], batch_size=CHUNK
        )
    batch.clear()
    return written


def _take_lock(shared_state: type[SharedState]) -> None:
    """Lock the audit's row until commit. Without it no flush would wait for another and two
    could insert the same new refusal, so a missing row stops the write."""
    if not shared_state.objects.filter(name=shared_state.AUDIT_LOCK).update(number=F("number") + 1):
        raise _LockRowMissingError


def _merge(
    items: Iterable[tuple[Key, Written]], into: dict[str, tuple[Key, Written]] | None = None
) -> dict[str, tuple[Key, Written]]:
    """Entries by fingerprint, adding the tallies of keys that end up the same row."""
    merged = into if into is not None else {}
    for key, tally in items:
        fp = fingerprint(key)
        found = merged.get(fp)
        if found is None:
            merged[fp] = (key, Written(tally.count, tally.first_seen, tally.last_seen))
        else:
            total = found[1]
            total.count += tally.count
            total.first_seen = min(total.first_seen, tally.first_seen)
            total.last_seen = max(total.last_seen, tally.last_seen)
    return merged


def _present(fingerprints: list[str]) -> set[str]:
    """Which of these rows exist: one query per chunk."""
    from .models import RejectedPreflight

    found: set[str] = set()
    for start in range(0, len(fingerprints), CHUNK):
        chunk = fingerprints[start : start + CHUNK]
        found.update(
            RejectedPreflight.objects.filter(fingerprint__in=chunk).values_list(
                "fingerprint", flat=True
            )
        )
    return found


def _increment_all(tallies: dict[str, Written]) -> None:
    """Add each tally to its row: one UPDATE per chunk, the amounts chosen per row by CASE.

    Written as SQL: the ORM resolves each ``When`` as a separate filter, which costs
    milliseconds per row, more than the statement itself.
    """
    from .models import RejectedPreflight

    connection = connections[RejectedPreflight.objects.db]
    quote = connection.ops.quote_name
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    table = quote(RejectedPreflight._meta.db_table)
    columns = {f.name: str(f.column) for f in RejectedPreflight._meta.concrete_fields}
    fp, count, last_seen, resolved = (
        quote(columns[name]) for name in ("fingerprint", "count", "last_seen", "resolved_at")
    )
    items = list(tallies.items())
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        whens = " ".join(["WHEN %s THEN %s"] * len(chunk))
        marks = ", ".join(["%s"] * len(chunk))
        sql = (
            f"UPDATE {table} SET {count} = {count} + (CASE {fp} {whens} END), "
            f"{last_seen} = {greatest}({last_seen}, CASE {fp} {whens} END), {resolved} = NULL "
            f"WHERE {fp} IN ({marks})"
        )
        params: list[Any] = [v for key, t in chunk for v in (key, t.count)]
        params += [
            v
            for key, t in chunk
            for v in (key, connection.ops.adapt_datetimefield_value(t.last_seen))
        ]
        params += [key for key, _ in chunk]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _row(fp: str, key: Key, tally: Written) -> Any:
    from .models import RejectedPreflight

    return RejectedPreflight(
        fingerprint=fp,
        count=tally.count,
        first_seen=tally.first_seen,
        last_seen=tally.last_seen,
        **dict(zip(KEY_COLUMNS, key, strict=True)),
    )


buffer = AuditBuffer()
