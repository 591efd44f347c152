"""What happens when a preflight is refused: the audit count, a log line, a signal.

The log is rate-limited per process (``PREFLIGHT_LOG_REFUSALS_PER_MINUTE``) so a flood of
refusals cannot fill it; the next line that is written says how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time

from django.http import HttpRequest

from . import conf
from .audit import buffer, clip
from .engine.decision import Decision, RequestFacts
from .signals import preflight_refused

logger = logging.getLogger("django_preflight")


class RateLimit:
    """At most ``per_minute`` events in any minute-long window that starts with one of them."""

    def __init__(self) -> None:
        self._window_start = 0.0
        self._used = 0
        self.suppressed = 0
        self._lock = threading.Lock()

    def take(self, per_minute: int) -> int | None:
        """None when over the limit; else how many were suppressed since the last one taken."""
        now = time.monotonic()
        with self._lock:
            if now - self._window_start >= 60.0:
                self._window_start, self._used = now, 0
            if self._used >= per_minute:
                self.suppressed += 1
                return None
            self._used += 1
            suppressed, self.suppressed = self.suppressed, 0
            return suppressed


log_limit = RateLimit()


def report_refusal(
    decision: Decision, facts: RequestFacts, request: HttpRequest, *, report_only: bool = False
) -> None:
    """Record, log and signal one refusal; never raises into the request."""
    buffer.record(decision, facts, report_only=report_only)
    settings = conf.get()
    suppressed = log_limit.take(settings.LOG_REFUSALS_PER_MINUTE)
    if suppressed is not None:
        policy = decision.policy.name if decision.policy is not None else None
        limit = settings.AUDIT_MAX_VALUE_LENGTH
        origin, path, method, headers = (
            clip(value, limit) if value is not None else None
            for value in (
                facts.origin,
                facts.path,
                facts.called_method,
                facts.request_headers,
            )
        )
        logger.warning(
            "%s%s refused: reason=%s detail=%r origin=%r path=%r method=%r headers=%r policy=%r%s",
            "report-only " if report_only else "",
            "preflight" if facts.is_preflight else "cross-origin write",
            decision.reason.value,
            decision.detail,
            origin,
            path,
            method,
            headers,
            policy,
            f" ({suppressed} more refusals not logged)" if suppressed else "",
            extra={
                "preflight": {
                    "reason": decision.reason.value,
                    "detail": decision.detail,
                    "origin": origin,
                    "path": path,
                    "method": method,
                    "headers": headers,
                    "policy": policy,
                    "report_only": report_only,
                    "suppressed": suppressed,
                }
            },
        )
    if preflight_refused.receivers:
        # What send_robust checks first; without receivers, the call and its arguments are
        # all it would cost.
        preflight_refused.send_robust(
            sender=None,
            decision=decision,
            facts=facts,
            request=request,
            report_only=report_only,
        )
