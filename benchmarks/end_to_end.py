"""Part 5: each stack under gunicorn and under uvicorn, loaded by wrk over loopback, interleaved.

The floor (a middleware answering a constant 204) runs beside the two libraries, so each is
also judged as a share of what Django itself can serve: per round, against the floor's run of
the same round, and the median of those ratios.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from benchmarks import stacks, stats, workload
from benchmarks.load import run_wrk
from benchmarks.plan import Plan
from benchmarks.serve import GUNICORN, SERVERS, UVICORN, Server

E2E_STACKS = (stacks.OURS, stacks.FLOOR, stacks.CORS_HEADERS)
OURS, FLOOR, CORS = E2E_STACKS
# The order of a group's runs, round by round. Where a run stands in its group changes its rate
# (docs/benchmarks.md has the figures), so in each pair of rounds ours and the floor swap places
# while django-cors-headers keeps its own, and over six rounds every stack holds every place
# twice: no ratio to the floor carries a place's advantage.
ROUND_ORDERS = (
    (OURS, FLOOR, CORS),
    (FLOOR, OURS, CORS),
    (CORS, OURS, FLOOR),
    (CORS, FLOOR, OURS),
    (OURS, CORS, FLOOR),
    (FLOOR, CORS, OURS),
)
# uvicorn's workers share one listening socket and each accepts connections in bursts, so wrk's
# connections, opened at once, fall on one worker or are split at random: from run to run the
# same server served half or all of what two workers can. One worker measures the stack.
UVICORN_WORKERS = 1
READY_TIMEOUT = 300.0
SETTLE_SECONDS = 1.0


def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    """Preflights per second and latency percentiles for each stack and size."""
    groups: list[dict[str, Server]] = []
    split = cpu_split()
    try:
        for exact in plan.e2e_exact:
            for kind in SERVERS:
                workers = UVICORN_WORKERS if kind == UVICORN else plan.e2e_workers
                size = workload.Size(exact)
                groups.append({stack: Server(stack, size, workers, kind) for stack in E2E_STACKS})
        servers = [server for group in groups for server in group.values()]
        log(f"starting {len(servers)} servers")
        for server in servers:
            server.wait_ready(READY_TIMEOUT)
            pinned = _pinning(server, split)
            if pinned is not None:
                server.pin(pinned.server)
        for server in servers:
            _load(server, plan, split, plan.e2e_warmup_seconds)
        runs: dict[int, list[dict[str, Any]]] = {id(s): [] for s in servers}
        for rep in range(plan.e2e_reps):
            for group in groups:
                for stack in ROUND_ORDERS[rep % len(ROUND_ORDERS)]:
                    server = group[stack]
                    runs[id(server)].append(_load(server, plan, split, plan.e2e_seconds))
            if (rep + 1) % 10 == 0 or rep + 1 == plan.e2e_reps:
                log(f"wrk round {rep + 1}/{plan.e2e_reps}")
    finally:
        for group in groups:
            for server in group.values():
                server.stop()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for server in servers:
        by_size = results.setdefault(server.server, {})
        by_size.setdefault(str(server.size.exact), {})[server.stack] = _summary(runs[id(server)])
    for by_size in results.values():
        for by_stack in by_size.values():
            floor = [run["per_second"] for run in by_stack[FLOOR]["runs"]]
            for summary in by_stack.values():
                rates = [run["per_second"] for run in summary["runs"]]
                ratios = stats.paired_ratios(rates, floor)
                if len(ratios) > 1:
                    ratios = stats.balanced_ratios(ratios)
                summary["x_floor"] = stats.median(ratios)
                summary["x_floor_quartiles"] = stats.quartiles(ratios)
    return {
        "workers": {GUNICORN: plan.e2e_workers, UVICORN: UVICORN_WORKERS},
        "pinned": None
        if split is None
        else {UVICORN: sorted(split.server), "wrk": sorted(split.load)},
        "connections": plan.e2e_connections,
        "seconds": plan.e2e_seconds,
        "warmup_seconds": plan.e2e_warmup_seconds,
        "reps": plan.e2e_reps,
        "by_server": results,
    }


class CpuSplit(NamedTuple):
    """The CPU a uvicorn server runs on, and the CPUs wrk loads it from."""

    server: frozenset[int]
    load: frozenset[int]


def cpu_split() -> CpuSplit | None:
    """The last CPU this process may use for the server, the others for wrk; None with one.

    One uvicorn worker is one event loop and the threads it hands sync work to. Left to the
    scheduler, the loop, its threads and wrk moved between the two CPUs, and the same server's
    rounds differed by a fifth; pinned, a server and its load no longer take turns on one CPU.
    gunicorn's two workers keep the whole machine, as in a deployment.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return CpuSplit(frozenset(cpus[-1:]), frozenset(cpus[:-1]))


def _pinning(server: Server, split: CpuSplit | None) -> CpuSplit | None:
    """The split that applies to ``server``: uvicorn's, when the machine has one."""
    return split if server.server == UVICORN else None


def _load(server: Server, plan: Plan, split: CpuSplit | None, seconds: int) -> dict[str, Any]:
    """One wrk run of the allowed preflight against ``server``, then a pause for its backlog."""
    probe = workload.probes(server.size)[workload.ALLOWED_PREFLIGHT]
    pinned = _pinning(server, split)
    load_cpus = None if pinned is None else pinned.load
    result = run_wrk(server.url, probe, seconds, plan.e2e_connections, load_cpus)
    # A slow server may still be working through requests wrk gave up on: at most one
    # request per connection, each answered within the slowest latency wrk saw.
    time.sleep(min(SETTLE_SECONDS, 2 * result["p99_us"] / 1e6))
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs; errors are summed, since any error makes the run suspect."""
    return {
        "per_second": stats.median([r["per_second"] for r in runs]),
        "p50_us": stats.median([r["p50_us"] for r in runs]),
        "p90_us": stats.median([r["p90_us"] for r in runs]),
        "p99_us": stats.median([r["p99_us"] for r in runs]),
        "errors": sum(r["socket_errors"] + r["status_errors"] for r in runs),
        "runs": runs,
    }
