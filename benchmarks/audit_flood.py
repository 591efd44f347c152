"""Part 6, inside our stack's worker: the allowed preflight, quiet and amid a flood of refusals.

The flood is refused preflights from distinct random origins, sent through the same Django
handler as the allowed preflight. Each one is a new distinct refusal for the audit, the worst
case for it: the in-memory buffer fills, further refusals are folded into the overflow entry,
and the background thread writes the buffer into the worker's database every
``PREFLIGHT_AUDIT_FLUSH_INTERVAL`` seconds. The audit runs with the package's defaults, and
nothing here flushes it before the end: its thread keeps its own schedule.

Both conditions have the same shape: one allowed preflight is timed after every N other
requests, N allowed ones when quiet, N refused ones in the flood, so both last about as long
and each timed request follows N others. A sample is one request, timed like the loops in
``timing``; the clock's own cost is in both conditions. With each sample goes the CPU time the
audit thread used since the previous one, read from its own CPU clock: it tells the samples
taken while the thread was writing refusals, which a quiet phase can meet when it follows a
slice of the flood.
"""

from __future__ import annotations

import gc
import random
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stacks, timing, workload, wsgi_driver
from benchmarks.subjects import CheckError, DjangoSubject

AUDIT_THREAD = "django-preflight-audit"
WARMUP = 10
FINAL_FLUSH_ATTEMPTS = 3
REFUSED_STATUS = 403
ALLOWED_STATUS = 204


def memory() -> dict[str, int | None]:
    """The process's resident memory now and its peak so far, in bytes (None if unknown)."""
    found: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = found.get("VmHWM")
    if peak is None:
        # ru_maxrss is in kibibytes on Linux, in bytes on macOS.
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = maxrss if sys.platform == "darwin" else maxrss * 1024
    return {"rss_bytes": found.get("VmRSS"), "peak_rss_bytes": peak}


def _audit_thread() -> threading.Thread | None:
    for thread in threading.enumerate():
        if thread.name == AUDIT_THREAD and thread.is_alive():
            return thread
    return None


def _thread_cpu_clock(thread: threading.Thread) -> Callable[[], int]:
    """Nanoseconds of CPU time ``thread`` has used; always 0 where no such clock exists."""
    try:
        clock = time.pthread_getcpuclockid(thread.ident or 0)
        time.clock_gettime_ns(clock)
    except (AttributeError, OSError):
        return lambda: 0
    return lambda: time.clock_gettime_ns(clock)


def _table() -> dict[str, Any]:
    """What the audit table holds: rows, overflow rows, reasons, and the refusals counted."""
    from django.db.models import Sum

    from django_preflight.models import RejectedPreflight

    rows = RejectedPreflight.objects.all()
    return {
        "rows": rows.count(),
        "overflow_rows": rows.filter(is_overflow=True).count(),
        "reasons": sorted(set(rows.values_list("reason", flat=True))),
        "counted": rows.aggregate(total=Sum("count"))["total"] or 0,
    }


class Samples:
    """One phase's samples: CPU and wall nanoseconds, and the audit thread's CPU beside each."""

    def __init__(self, audit_cpu_ns: Callable[[], int]) -> None:
        self.audit_cpu_ns = audit_cpu_ns
        self.cpu_ns: list[float] = []
        self.wall_ns: list[float] = []
        self.audit_ns: list[int] = []
        self.audit_start = self.audit_last = audit_cpu_ns()
        self.cpu_start, self.wall_start = time.thread_time(), time.perf_counter()

    def take(self, operation: Callable[[], object]) -> None:
        """Time one call; note the audit thread's CPU time since the previous sample."""
        sample = timing.per_op(operation, 1)
        audit_now = self.audit_cpu_ns()
        self.audit_ns.append(audit_now - self.audit_last)
        self.audit_last = audit_now
        self.cpu_ns.append(sample.cpu_ns)
        self.wall_ns.append(sample.wall_ns)

    def reply(self) -> dict[str, Any]:
        """The samples, and the phase's wall and CPU seconds and the audit thread's CPU."""
        return {
            "cpu_ns": self.cpu_ns,
            "wall_ns": self.wall_ns,
            "audit_ns": self.audit_ns,
            "wall_seconds": time.perf_counter() - self.wall_start,
            "cpu_seconds": time.thread_time() - self.cpu_start,
            "audit_cpu_seconds": (self.audit_cpu_ns() - self.audit_start) / 1e9,
        }


class Flood:
    """The state of one flood: its random origins, how many were sent, the audit before it."""

    def __init__(self, subject: DjangoSubject, seed: int) -> None:
        self.handler = subject.handler
        self.allowed = subject.operation(workload.ALLOWED_PREFLIGHT)
        self.allowed_environ = subject.environs[workload.ALLOWED_PREFLIGHT]
        self.refused_environ = subject.environs[workload.REFUSED_PREFLIGHT]
        self.rng = random.Random(seed)
        self.sent = 0
        self.counted_before = 0
        self.audit_cpu_ns: Callable[[], int] = lambda: 0

    def start(self) -> dict[str, Any]:
        """Write what the setup's checks counted, then describe the audit and the memory."""
        from django_preflight import conf
        from django_preflight.audit import buffer

        settings = conf.get()
        if not settings.AUDIT_ENABLED:
            raise CheckError("the audit is disabled in our stack's settings")
        thread = _audit_thread()
        if thread is None:
            raise CheckError(f"no {AUDIT_THREAD} thread: the setup's refused preflight starts it")
        self.audit_cpu_ns = _thread_cpu_clock(thread)
        buffer.flush()
        before = _table()
        self.counted_before = before["counted"]
        for _ in range(WARMUP):
            self.allowed()
        gc.collect()
        return {
            "settings": {
                "max_rows": settings.AUDIT_MAX_ROWS,
                "buffer_size": settings.AUDIT_BUFFER_SIZE,
                "flush_interval": settings.AUDIT_FLUSH_INTERVAL,
            },
            "table": before,
            "memory": memory(),
        }

    def quiet(self, samples: int, every: int) -> dict[str, Any]:
        """``samples`` times: ``every`` allowed preflights untimed, then one timed."""
        got = Samples(self.audit_cpu_ns)
        for _ in range(samples):
            for _ in range(every):
                self.allowed()
            got.take(self.allowed)
        return got.reply()

    def flood(self, refused: int, every: int) -> dict[str, Any]:
        """``refused`` refused preflights; one allowed preflight timed after every ``every``th.

        The count runs over the whole flood, so slices of any size keep the same spacing.
        """
        from django_preflight.audit import buffer

        got = Samples(self.audit_cpu_ns)
        for _ in range(refused):
            self._send_refused()
            self.sent += 1
            if self.sent % every == 0:
                got.take(self.allowed)
        reply = got.reply()
        self._check_allowed()
        return {**reply, "sent": self.sent, "pending": buffer.pending, **memory()}

    def finish(self) -> dict[str, Any]:
        """Flush what is pending, then check that every refusal sent was counted."""
        from django_preflight.audit import buffer

        for _ in range(FINAL_FLUSH_ATTEMPTS):
            buffer.flush()
            if not buffer.pending:
                break
        after = _table()
        counted = after["counted"] - self.counted_before
        if buffer.pending or counted != self.sent:
            raise CheckError(
                f"the audit counted {counted:,} of {self.sent:,} refused preflights "
                f"({buffer.pending:,} still pending after the final flush)"
            )
        gc.collect()
        return {
            "table": after,
            "flood_counted": counted,
            "audit_thread_alive": _audit_thread() is not None,
            "memory": memory(),
        }

    def _origin(self) -> str:
        """A random origin, distinct from every other of the flood by its sequence number."""
        return f"https://n{self.sent}-{self.rng.getrandbits(32):08x}.flood.example.net"

    def _send_refused(self) -> None:
        environ = dict(self.refused_environ)
        environ["HTTP_ORIGIN"] = origin = self._origin()
        got = wsgi_driver.answer(self.handler, environ)
        if got.status != REFUSED_STATUS:
            raise CheckError(f"refused preflight from {origin}: status {got.status}")

    def _check_allowed(self) -> None:
        got = wsgi_driver.answer(self.handler, self.allowed_environ)
        allow_origin = got.headers.get("access-control-allow-origin")
        if got.status != ALLOWED_STATUS or allow_origin != self.allowed_environ["HTTP_ORIGIN"]:
            raise CheckError(
                f"allowed preflight during the flood: status {got.status}, "
                f"Access-Control-Allow-Origin {allow_origin!r}"
            )


_floods: dict[str, Flood] = {}


def handle(subject: Any, command: dict[str, Any]) -> dict[str, Any]:
    """The worker's flood commands: start, quiet, slice, finish."""
    op = command["op"]
    if op == "flood_start":
        if not isinstance(subject, DjangoSubject) or subject.stack != stacks.OURS:
            raise TypeError("the flood runs in a worker of our stack")
        _floods["current"] = Flood(subject, command["seed"])
        return _floods["current"].start()
    flood = _floods.get("current")
    if flood is None:
        raise RuntimeError(f"{op} before flood_start")
    if op == "flood_quiet":
        return flood.quiet(command["samples"], command["every"])
    if op == "flood_slice":
        return flood.flood(command["refused"], command["every"])
    if op == "flood_finish":
        return flood.finish()
    raise ValueError(f"unknown command {op!r}")
