"""Part 5: each stack under gunicorn and under uvicorn, loaded by wrk over loopback, interleaved.

The floor (a middleware answering a constant 204) runs beside the two libraries, so each is
also judged as a share of what Django itself can serve: per round, against the floor's run of
the same round, and the median of those ratios.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks import stacks, stats, workload
from benchmarks.load import run_wrk
from benchmarks.plan import Plan
from benchmarks.serve import GUNICORN, SERVERS, UVICORN, Server

E2E_STACKS = (stacks.OURS, stacks.CORS_HEADERS, stacks.FLOOR)
# uvicorn's workers share one listening socket and each accepts connections in bursts, so wrk's
# connections, opened at once, fall on one worker or are split at random: from run to run the
# same server served half or all of what two workers can. One worker measures the stack.
UVICORN_WORKERS = 1
READY_TIMEOUT = 300.0
SETTLE_SECONDS = 1.0


def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    """Preflights per second and latency percentiles for each stack and size."""
    servers: list[Server] = []
    try:
        for exact in plan.e2e_exact:
            for kind in SERVERS:
                for stack in E2E_STACKS:
                    workers = UVICORN_WORKERS if kind == UVICORN else plan.e2e_workers
                    servers.append(Server(stack, workload.Size(exact), workers, kind))
        log(f"starting {len(servers)} servers")
        for server in servers:
            server.wait_ready(READY_TIMEOUT)
        runs: dict[int, list[dict[str, Any]]] = {id(s): [] for s in servers}
        for rep in range(plan.e2e_reps):
            for server in servers:
                probe = workload.probes(server.size)[workload.ALLOWED_PREFLIGHT]
                result = run_wrk(server.url, probe, plan.e2e_seconds, plan.e2e_connections)
                runs[id(server)].append(result)
                # A slow server may still be working through requests wrk gave up on.
                time.sleep(SETTLE_SECONDS)
            log(f"wrk round {rep + 1}/{plan.e2e_reps}")
    finally:
        for server in servers:
            server.stop()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for server in servers:
        by_size = results.setdefault(server.server, {})
        by_size.setdefault(str(server.size.exact), {})[server.stack] = _summary(runs[id(server)])
    for by_size in results.values():
        for by_stack in by_size.values():
            floor = [run["per_second"] for run in by_stack[stacks.FLOOR]["runs"]]
            for summary in by_stack.values():
                rates = [run["per_second"] for run in summary["runs"]]
                summary["x_floor"] = stats.paired_ratio(rates, floor)
    return {
        "workers": {GUNICORN: plan.e2e_workers, UVICORN: UVICORN_WORKERS},
        "connections": plan.e2e_connections,
        "seconds": plan.e2e_seconds,
        "reps": plan.e2e_reps,
        "by_server": results,
    }


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
