"""Sends a plan's requests, politely and within bounds, and judges the answers.

Requests go through the probe's HTTP exchange: no redirect is followed, every header line kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from urllib.parse import urlsplit

from ..probe import send
from .findings import Finding, Observation, granted, judge
from .origins import HostileOrigin
from .plan import PREFLIGHT_HEADERS, PREFLIGHT_METHOD, USER_AGENT, Plan, make_plan

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how hard a scan may run."""

    timeout: float = 10.0
    delay: float = 0.0
    deadline: float | None = None
    """A value of ``clock`` after which no request is started."""
    address: str | None = None
    """The checked address to connect to, when the host was resolved beforehand."""


@dataclass(slots=True)
class UrlResult:
    """Everything learnt about one URL."""

    plan: Plan
    credentials: bool
    """The API is called with credentials, so its answers are not public."""
    observations: list[Observation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    complete: bool = True

    @property
    def url(self) -> str:
        """The scanned URL."""
        return self.plan.url


class _DeadlineError(Exception):
    """The deadline passed: stop sending, judge what was received."""


def scan_url(
    url: str,
    trusted: Sequence[str],
    *,
    credentials: bool,
    limits: Limits | None = None,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> UrlResult:
    """Scan one URL; network errors end in ``error``, never in an exception."""
    limits = limits or Limits()
    result = UrlResult(make_plan(url, trusted), credentials)
    exchanger = _Exchanger(result, limits, clock, sleep)
    try:
        for origin in result.plan.trusted:
            exchanger.preflight(origin)
            exchanger.get(origin)
        for hostile in result.plan.hostile:
            if not exchanger.get(hostile.value, hostile):
                exchanger.preflight(hostile.value, hostile)
    except _DeadlineError:
        result.complete = False
        result.notes.append(
            f"Stopped at the time limit after {len(result.observations)} of at most "
            f"{result.plan.max_requests} requests: the findings cover only what was sent."
        )
    except (OSError, ValueError, HTTPException) as exc:
        result.error = f"Could not scan {url}: {exc or type(exc).__name__}"
        result.complete = False
    result.findings, notes = judge(result.observations, credentials=credentials)
    result.notes.extend(notes if result.error is None else [])
    return result


@dataclass(slots=True)
class _Exchanger:
    result: UrlResult
    limits: Limits
    clock: Clock
    sleep: Callable[[float], None]

    def get(self, origin: str, hostile: HostileOrigin | None = None) -> bool:
        """A GET from ``origin``; True when its answer grants the origin."""
        return granted(self._send("GET", origin, (), hostile))

    def preflight(self, origin: str, hostile: HostileOrigin | None = None) -> None:
        """The preflight of a JSON POST from ``origin``; the POST itself is never sent."""
        asked = (
            ("Access-Control-Request-Method", PREFLIGHT_METHOD),
            ("Access-Control-Request-Headers", ",".join(n.lower() for n, _ in PREFLIGHT_HEADERS)),
        )
        self._send("OPTIONS", origin, asked, hostile)

    def _send(
        self,
        method: str,
        origin: str,
        extra: tuple[tuple[str, str], ...],
        hostile: HostileOrigin | None,
    ) -> Observation:
        timeout = self.limits.timeout
        if self.result.observations and self.limits.delay:
            self._wait(self.limits.delay)
        if self.limits.deadline is not None:
            remaining = self.limits.deadline - self.clock()
            if remaining <= 0:
                raise _DeadlineError
            timeout = min(timeout, remaining)
        url = self.result.url
        # Written out so that the evidence is the request exactly as sent.
        host = urlsplit(url).netloc.rpartition("@")[2]
        headers = (
            ("Host", host),
            ("Accept-Encoding", "identity"),
            ("User-Agent", USER_AGENT),
            ("Origin", origin),
            *extra,
        )
        try:
            exchange = send(url, method, headers, timeout, address=self.limits.address)
        except TimeoutError:
            # A wait cut short by the scan's own deadline is the time limit, not a broken server.
            if self.limits.deadline is not None and self.clock() >= self.limits.deadline:
                raise _DeadlineError from None
            raise
        observation = Observation(url, method, origin, headers, exchange.response, hostile)
        self.result.observations.append(observation)
        return observation

    def _wait(self, seconds: float) -> None:
        if self.limits.deadline is not None and self.clock() + seconds >= self.limits.deadline:
            raise _DeadlineError
        self.sleep(seconds)
