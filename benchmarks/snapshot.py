"""Snapshot costs, measured inside our stack's worker: build time, memory held, propagation.

Propagation uses a second ``PolicyStore`` sharing the process's cache: it behaves as another
process would (it learns of the change only through the version token), while the saving side
goes through the ORM, the commit and the ``on_commit`` publish like an admin save.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from typing import Any

from benchmarks import workload

POLL_SECONDS = 0.001
PROPAGATION_TIMEOUT_EXTRA = 60.0


def measure_build(reps: int) -> dict[str, Any]:
    """Seconds per ``load_policy_set`` (two queries and compilation) and the memory it holds.

    Timed by the thread's CPU clock and the wall clock, like the loops in ``timing``; the
    memory is what tracemalloc still sees allocated once the snapshot is built and held.
    """
    from django_preflight.store import load_policy_set

    cpu_seconds, wall_seconds = [], []
    for _ in range(reps):
        gc.collect()
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        snapshot = load_policy_set()
        wall_seconds.append(time.perf_counter() - wall_start)
        cpu_seconds.append(time.thread_time() - cpu_start)
        del snapshot
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        snapshot = load_policy_set()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "cpu_seconds": cpu_seconds,
        "wall_seconds": wall_seconds,
        "held_bytes": held - baseline,
        "peak_bytes": peak - baseline,
        "origin_entries": snapshot.origin_count,
    }


def measure_propagation(interval: float, trials: int, seed: int = 1) -> dict[str, Any]:
    """Seconds from a committed new origin until the other store's next decision allows it.

    Each trial waits a random fraction of the interval before saving, so the trials fall at
    different points of the other store's refresh cycle.
    """
    from django.db import transaction
    from django.test import override_settings

    from django_preflight.engine import Outcome, RequestFacts, decide
    from django_preflight.models import AllowedOrigin, CorsPolicy
    from django_preflight.store import PolicyStore

    policy = CorsPolicy.objects.get(name="benchmarks")
    rng = random.Random(seed)
    latencies: list[float] = []
    rebuilds: list[float] = []
    with override_settings(PREFLIGHT_REFRESH_INTERVAL=interval):
        other = PolicyStore()
        other.current()
        for trial in range(trials):
            facts = RequestFacts(
                "OPTIONS",
                workload.PATH,
                f"https://changed{trial}.example.com",
                workload.REQUESTED_METHOD,
                workload.REQUESTED_HEADERS,
            )
            if decide(other.current(), facts).outcome is not Outcome.PREFLIGHT_REFUSED:
                raise RuntimeError("the new origin was allowed before it was saved")
            time.sleep(rng.uniform(0, interval))
            with transaction.atomic():
                AllowedOrigin.objects.create(policy=policy, value=facts.origin or "")
                committed = time.perf_counter()
            latency, rebuild = _wait_until_allowed(other, facts, committed, interval)
            latencies.append(latency)
            rebuilds.append(rebuild)
    return {
        "interval": interval,
        "poll_seconds": POLL_SECONDS,
        "latencies": latencies,
        "rebuilds": rebuilds,
    }


def _wait_until_allowed(
    store: Any, facts: Any, committed: float, interval: float
) -> tuple[float, float]:
    """Poll like a stream of requests; return (seconds since commit, duration of the rebuild)."""
    from django_preflight.engine import Outcome, decide

    deadline = committed + interval + PROPAGATION_TIMEOUT_EXTRA
    while time.perf_counter() < deadline:
        call_start = time.perf_counter()
        snapshot = store.current()
        call_seconds = time.perf_counter() - call_start
        if decide(snapshot, facts).outcome is Outcome.PREFLIGHT_ALLOWED:
            return time.perf_counter() - committed, call_seconds
        time.sleep(POLL_SECONDS)
    raise TimeoutError("the changed origin was not served within the refresh interval + 60 s")
