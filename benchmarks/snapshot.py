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
    memory is what tracemalloc still sees allocated once the snapshot is built and held. Each
    repetition also times its two halves on their own, side by side: the database read
    (``load_specs``) and the engine's compilation of what it read (``build_policy_set``).
    """
    from django_preflight.engine.policy import build_policy_set
    from django_preflight.mapping import load_specs
    from django_preflight.store import load_policy_set

    cpu_seconds, wall_seconds, read_seconds, compile_seconds = [], [], [], []
    for _ in range(reps):
        gc.collect()
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        snapshot = load_policy_set()
        wall_seconds.append(time.perf_counter() - wall_start)
        cpu_seconds.append(time.thread_time() - cpu_start)
        del snapshot
        gc.collect()
        cpu_start = time.thread_time()
        specs = load_specs()
        read_seconds.append(time.thread_time() - cpu_start)
        gc.collect()
        cpu_start = time.thread_time()
        snapshot = build_policy_set(specs)
        compile_seconds.append(time.thread_time() - cpu_start)
        del snapshot, specs
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
        "read_cpu_seconds": read_seconds,
        "compile_cpu_seconds": compile_seconds,
        "held_bytes": held - baseline,
        "peak_bytes": peak - baseline,
        "origin_entries": snapshot.origin_count,
        "compilations": count_compilations(),
    }


def count_compilations() -> dict[str, int]:
    """How often one snapshot build parses each kind of entry, against how many there are.

    The engine's own parsers are wrapped with counters for one build: a pattern compiled or a
    prefix checked a second time shows as a count above its number of entries, and so does an
    exact origin not in browser form that was normalised after the check.
    """
    from django_preflight.engine import compiler
    from django_preflight.engine.policy import build_policy_set
    from django_preflight.engine.specs import OriginKind
    from django_preflight.mapping import load_specs

    specs = load_specs()
    counts: dict[str, int] = {}

    def counted(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] = counts.get(name, 0) + 1
            return function(*args, **kwargs)

        return wrapper

    # The parsers the compiler imported, replaced by name in its namespace for the build.
    parsers = {
        "is_serialised_origin": "exact",
        "normalise_origin": "exact",
        "compile_origin_regex": "regex",
        "normalise_subdomain_pattern": "subdomain",
    }
    namespace = vars(compiler)
    patched = {name: counted(kind, namespace[name]) for name, kind in parsers.items()}
    patched["POLICY_RULES"] = tuple(
        counted("path_prefix", rule) if rule is compiler.check_path_prefix else rule
        for rule in compiler.POLICY_RULES
    )
    originals = {name: namespace[name] for name in patched}
    try:
        for name, value in patched.items():
            setattr(compiler, name, value)
        build_policy_set(specs)
    finally:
        for name, value in originals.items():
            setattr(compiler, name, value)
    entries = {
        "exact": sum(o.kind is OriginKind.EXACT for s in specs for o in s.origins),
        "regex": sum(o.kind is OriginKind.REGEX for s in specs for o in s.origins),
        "subdomain": sum(o.kind is OriginKind.SUBDOMAIN for s in specs for o in s.origins),
        "path_prefix": len(specs),
    }
    second = sum(max(0, counts.get(kind, 0) - entries[kind]) for kind in entries)
    return {
        **{f"{kind}_entries": n for kind, n in entries.items()},
        **{f"{kind}_parsed": counts.get(kind, 0) for kind in entries},
        "second_compilations": second,
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
            snapshot = other.current()
            if snapshot is None:
                raise RuntimeError("no snapshot could be loaded")
            if decide(snapshot, facts).outcome is not Outcome.PREFLIGHT_REFUSED:
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
