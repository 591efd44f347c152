"""Statistics of a change reaching every worker, judged by when requests were sent.

A request's answer reflects the worker's state at some moment between its send and its
receipt. On a loaded machine the receipt can come long after the worker decided, so receipt
times would blame the worker for the client's or the kernel's queue. A stale answer to a request
*sent* after the bound, though, proves the worker was still stale after the bound. So the
bound is checked on the send time of the last stale answer, and each worker must also have
answered the new way to a request sent after its last stale one.

The bound is one refresh interval, with no margin, and holds however loaded the machine is: a
sync worker checks the version on the first request it handles at least an interval after its
previous check, before deciding. So a stale answer means the worker's last check came before
the commit and its next one after the request was handled; the request was sent before it was
handled, so it was sent less than an interval after that last check, hence after the commit by
less than an interval. A slow machine delays when requests are handled, which only makes them
find the new version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pytest

from .web import Reply, burst, preflight

if TYPE_CHECKING:
    from .servers import Gunicorn


@dataclass
class Convergence:
    """Per worker, the send time (after the change) of its last stale answer, if it answered
    the new way after it; the last stale send time over all workers."""

    converged: dict[str, float]
    stale_sent: list[float]
    """When each stale answer's request was sent, in seconds after the change."""
    requests: int
    unexpected: list[Reply]

    @property
    def last_stale(self) -> float:
        """The send time of the last stale answer, after the change."""
        return max(self.stale_sent, default=0.0)

    @property
    def stale(self) -> int:
        """How many answers were stale."""
        return len(self.stale_sent)

    def stale_after(self, interval: float) -> list[float]:
        """Stale answers to requests sent ``interval`` or more after the change: none, when
        every worker checks the version once per ``interval`` (see the module's docstring)."""
        return [sent for sent in self.stale_sent if sent >= interval]

    @property
    def delay(self) -> float:
        """The largest delay: the send time of the slowest worker's last stale answer."""
        return max(self.converged.values(), default=float("inf"))


def watch_change(
    pool: ThreadPoolExecutor,
    servers: Sequence[Gunicorn],
    workers: set[str],
    origin: str,
    change: Callable[[], float],
    *,
    old: int,
    new: int,
    lead_in: float,
    watch_for: float,
    deadline: float,
) -> Convergence:
    """Keep every worker busy, make the change, and poll until all serve ``new`` for ``origin``.

    The load starts ``lead_in`` seconds before the change, so each worker's version checks
    are spread as under real traffic (an idle worker would check on its first request and
    show no delay at all), and goes on while the change is made. ``change`` returns when the
    change took effect (a commit, a service back) on the machine's monotonic clock, which all
    processes here share; delays count from then. Polling goes on ``watch_for`` seconds after
    the change so that a late stale answer would be seen.
    """

    def poll() -> list[Reply]:
        return burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(12)),
        )

    warm_until = time.monotonic() + lead_in
    while time.monotonic() < warm_until:
        poll()
    started = time.monotonic()
    changing = pool.submit(change)
    replies: list[Reply] = []
    while True:
        replies += poll()
        now = time.monotonic()
        if not changing.done():
            if now - started > deadline:
                pytest.fail("the change was not made in time")
            continue
        since = changing.result()
        result = summarise(replies, workers, old, new, since)
        if len(result.converged) == len(workers) and now - since >= watch_for:
            return result
        if now - since > deadline:
            return result


def summarise(
    replies: Sequence[Reply], workers: set[str], old: int, new: int, since: float
) -> Convergence:
    """Judge the replies to requests about one change committed at ``since``."""
    unexpected = [r for r in replies if r.status not in (old, new) or r.worker not in workers]
    stale = [r for r in replies if r.status == old and r.sent > since]
    last_stale_sent: dict[str, float] = {}
    for reply in stale:
        last_stale_sent[reply.worker] = max(last_stale_sent.get(reply.worker, since), reply.sent)
    converged: dict[str, float] = {}
    for reply in replies:
        last = last_stale_sent.get(reply.worker, since)
        if reply.status == new and reply.sent > last:
            converged[reply.worker] = last - since
    return Convergence(
        converged=converged,
        stale_sent=[r.sent - since for r in stale],
        requests=len(replies),
        unexpected=unexpected,
    )
