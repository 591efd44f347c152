"""Prometheus counters and gauges, when ``PREFLIGHT_METRICS`` is on (needs ``prometheus-client``).

Labels are bounded: a policy's name (admin-controlled), an outcome and a refusal reason (fixed
sets); never an origin, a path or a header, which a caller chooses. The metrics live in
prometheus-client's default registry, so an existing ``/metrics`` endpoint (django-prometheus)
exports them; ``metrics_view`` is a small one for projects without it. Under gunicorn, set
``PROMETHEUS_MULTIPROC_DIR`` and every worker's counts are summed at scrape time.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Literal

from django.http import HttpRequest, HttpResponse

from . import conf
from .engine.decision import Decision, Outcome

if TYPE_CHECKING:
    from .engine.policy import PolicySet

NAMESPACE = "django_preflight"
MAX_CHILDREN = 10_000


class _Metrics:
    """The metric objects, created on first use so that importing this module needs nothing."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge

        def counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, documentation, labels, namespace=NAMESPACE)

        def gauge(name: str, documentation: str, across: Literal["livemin", "livemax"]) -> Gauge:
            """``across``: how the live worker processes' values combine at scrape time."""
            return Gauge(name, documentation, namespace=NAMESPACE, multiprocess_mode=across)

        self.preflights = counter(
            "preflights",
            "Preflights answered, by policy, outcome (allowed, refused) and reason.",
            ("policy", "outcome", "reason"),
        )
        self.requests = counter(
            "cross_origin_requests",
            "Real cross-origin requests on covered paths, by policy and outcome "
            "(allowed, not_allowed: answered without CORS headers, blocked: refused with 403).",
            ("policy", "outcome"),
        )
        self.csrf_trusted = counter(
            "csrf_origins_trusted",
            "CSRF origin checks passed because a credentialed policy allows the origin.",
            ("policy",),
        )
        self.rebuilds = counter("snapshot_rebuilds", "Policy snapshots built by this process.")
        self.load_failures = counter(
            "snapshot_load_failures",
            "Snapshot rebuilds that failed (the last good snapshot kept serving).",
        )
        self.built = gauge(
            "snapshot_built_timestamp_seconds",
            "Unix time the oldest live process built its snapshot; age = time() - this.",
            "livemin",
        )
        self.policies = gauge(
            "snapshot_policies",
            "Enabled policies in the snapshot (the largest among live processes).",
            "livemax",
        )
        self.origins = gauge(
            "snapshot_origins",
            "Allowed-origin entries in the snapshot (the largest among live processes).",
            "livemax",
        )
        self.audit_overflow = counter(
            "audit_overflow_refusals",
            "Refusals counted in an overflow row without their details (audit buffer full).",
        )
        self._children: dict[tuple[Any, ...], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """A labelled child, cached: prometheus-client's own lookup takes a lock."""
        key = (metric, *labels)
        found = self._children.get(key)
        if found is None:
            if len(self._children) >= MAX_CHILDREN:
                self._children.clear()
            found = self._children[key] = metric.labels(*labels)
        return found


_metrics: _Metrics | None = None


def enabled() -> bool:
    """Whether ``PREFLIGHT_METRICS`` is on."""
    return conf.get().METRICS


def _get() -> _Metrics | None:
    global _metrics
    if not conf.get().METRICS:
        return None
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics


def _policy(decision: Decision) -> str:
    return decision.policy.name if decision.policy is not None else ""


def count_preflight(decision: Decision) -> None:
    """One answered preflight."""
    metrics = _get()
    if metrics is not None:
        outcome = "allowed" if decision.outcome is Outcome.PREFLIGHT_ALLOWED else "refused"
        metrics.child(metrics.preflights, _policy(decision), outcome, decision.reason.value).inc()


def count_request(decision: Decision, outcome: str) -> None:
    """One real cross-origin request: 'allowed', 'not_allowed' or 'blocked'."""
    metrics = _get()
    if metrics is not None:
        metrics.child(metrics.requests, _policy(decision), outcome).inc()


def count_csrf_trust(policy: str) -> None:
    """One CSRF origin check passed thanks to ``policy``."""
    metrics = _get()
    if metrics is not None:
        metrics.child(metrics.csrf_trusted, policy).inc()


def snapshot_built(snapshot: PolicySet) -> None:
    """A snapshot was (re)built."""
    metrics = _get()
    if metrics is not None:
        metrics.rebuilds.inc()
        metrics.built.set(time.time())
        metrics.policies.set(len(snapshot.policies) + len(snapshot.views.views_only))
        metrics.origins.set(snapshot.origin_count)


def snapshot_failed() -> None:
    """A rebuild failed."""
    metrics = _get()
    if metrics is not None:
        metrics.load_failures.inc()


def audit_folded(count: int) -> None:
    """Refusals folded into an overflow row."""
    metrics = _get()
    if metrics is not None:
        metrics.audit_overflow.inc(count)


def render() -> tuple[bytes, str]:
    """The exposition text of every metric of the default registry, all workers summed in
    multiprocess mode, and its content type."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``path("metrics", metrics_view)``: the Prometheus endpoint. Keep it off the public
    internet (an allow-list in the proxy, or a separate port)."""
    body, content_type = render()
    return HttpResponse(body, content_type=content_type)


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: drop a dead worker's live gauges (multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
