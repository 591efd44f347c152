"""Prometheus metrics from a real gunicorn with two workers, in multiprocess mode.

A known mix of preflights and real cross-origin requests is sent to both workers; the scrape,
served by either worker, must add up every worker's counts: each counter moves by exactly what
was sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .databases import ServerDatabase
from .servers import Gunicorn, ServerStarter
from .web import APP, Reply, burst, create_policy, preflight, send, settle

pytestmark = pytest.mark.services

EVIL = "https://evil.example.net"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Gunicorn) -> Samples:
    reply = send(server.port, "GET", "/_services/metrics/")
    assert reply.status == 200, reply
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, metric: str) -> dict[tuple[tuple[str, str], ...], float]:
    """How much each labelled sample of ``metric`` moved, if it moved."""
    return {
        labels: after[(name, labels)] - before.get((name, labels), 0)
        for name, labels in after
        if name == metric and after[(name, labels)] != before.get((name, labels), 0)
    }


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def get(server: Gunicorn, origin: str, path: str) -> Reply:
    return send(server.port, "GET", path, {"Origin": origin})


def test_every_counter_equals_what_was_sent_across_two_workers(
    start_server: ServerStarter,
    server_database: ServerDatabase,
    redis_url: str,
    pool: ThreadPoolExecutor,
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    server = start_server(
        "metrics",
        database_url=server_database.url,
        redis_url=redis_url,
        workers=2,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        SERVICES_METRICS="1",
        SERVICES_REFRESH_INTERVAL="0.5",
    )
    policy = create_policy(server, "/api/", APP)
    settle(pool, [server], APP, 204)
    before = scrape(server)

    mix: list[tuple[int, Callable[[], Reply]]] = [
        (40, partial(preflight, server.port, APP)),
        (30, partial(preflight, server.port, EVIL)),
        (20, partial(preflight, server.port, APP, method="PATCH")),
        (10, partial(preflight, server.port, APP, "/other/plain/")),
        (25, partial(get, server, APP, "/api/public/")),
        (15, partial(get, server, EVIL, "/api/public/")),
    ]
    replies = burst(pool, [job for count, job in mix for _ in range(count)])
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {204: 40, 403: 60, 200: 40}, statuses
    workers = {reply.worker for reply in replies}
    assert len(workers) == 2, workers

    after = scrape(server)
    assert moved(before, after, "django_preflight_preflights_total") == {
        labels(policy=policy, outcome="allowed", reason="allowed"): 40,
        labels(policy=policy, outcome="refused", reason="origin_not_allowed"): 30,
        labels(policy=policy, outcome="refused", reason="method_not_allowed"): 20,
        labels(policy="", outcome="refused", reason="no_policy_for_path"): 10,
    }
    assert moved(before, after, "django_preflight_cross_origin_requests_total") == {
        labels(policy=policy, outcome="allowed"): 25,
        labels(policy=policy, outcome="not_allowed"): 15,
    }
    assert moved(before, after, "django_preflight_audit_overflow_refusals_total") == {}
    assert after[("django_preflight_snapshot_policies", ())] == 1
    rebuilds = after[("django_preflight_snapshot_rebuilds_total", ())]
    assert rebuilds >= 2  # at least one build per worker
    per_worker = Counter(reply.worker for reply in replies)
    report(f"metrics: 140 requests over workers {dict(per_worker)}, {rebuilds:.0f} rebuilds")
