"""Parts 1 to 4, measured in worker processes: full stack, scaling, engine alone, snapshot.

Every (stack, size) and every engine size is a process of its own, started together and kept
alive, so parts 1 to 3 share one interleaved schedule and are measured side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import pool, stacks, workload
from benchmarks.plan import Plan
from benchmarks.schedule import Cell, run_interleaved
from benchmarks.workload import Size

ONE = Size(1)
SNAPSHOT_TIMEOUT = 600.0


class Workers:
    """Worker processes by (stack, size), each started once however many parts use it."""

    def __init__(self) -> None:
        self.by_key: dict[str, pool.Worker] = {}

    def django(self, stack: str, size: Size) -> pool.Worker:
        """The worker running ``stack`` at ``size``, started on first use."""
        return self._get(f"{stack} @ {size.label}", lambda: pool.django_worker(stack, size))

    def engine(self, size: Size) -> pool.Worker:
        """The worker timing the engine alone at ``size``, started on first use."""
        return self._get(f"engine @ {size.label}", lambda: pool.engine_worker(size))

    def _get(self, key: str, start: Callable[[], pool.Worker]) -> pool.Worker:
        if key not in self.by_key:
            self.by_key[key] = start()
        return self.by_key[key]


class Cells:
    """Cells by (worker, kind): a cell shared by two parts is measured once."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Cell] = {}

    def get(self, worker: pool.Worker, kind: str) -> Cell:
        """The cell for ``kind`` on ``worker``, created on first use."""
        return self.by_key.setdefault((worker.key, kind), Cell(worker, kind))


def _stack_size(plan: Plan, stack: str, exact: int) -> Size:
    """Patterns exist only on our side: django-cors-headers has no subdomain wildcard."""
    return plan.scaling_size(exact) if stack == stacks.OURS else Size(exact)


@dataclass(frozen=True, slots=True)
class Layout:
    """Which cell answers which question of parts 1 to 3, and the worker part 4 runs in."""

    full_stack: dict[str, dict[str, Cell]]
    scaling: dict[str, dict[str, dict[int, Cell]]]
    engine: dict[str, dict[str, Cell]]
    largest: pool.Worker


def _lay_out(plan: Plan, workers: Workers, cells: Cells) -> Layout:
    """Create the cells of every part; this starts the worker processes they need."""
    full_stack = {
        kind: {stack: cells.get(workers.django(stack, ONE), kind) for stack in stacks.STACKS}
        for kind in workload.KINDS
    }
    scaling = {
        kind: {
            stack: {
                exact: cells.get(workers.django(stack, _stack_size(plan, stack, exact)), kind)
                for exact in plan.scaling_exact
            }
            for stack in (stacks.OURS, stacks.CORS_HEADERS)
        }
        for kind in workload.PREFLIGHT_KINDS
    }
    engine = {
        size.label: {kind: cells.get(workers.engine(size), kind) for kind in workload.KINDS}
        for size in plan.engine_sizes
    }
    return Layout(full_stack, scaling, engine, workers.django(stacks.OURS, plan.largest))


def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    """Measure parts 1 to 4 and return their results; every worker is stopped, whatever fails."""
    workers, cells = Workers(), Cells()
    try:
        layout = _lay_out(plan, workers, cells)
        log(f"starting {len(workers.by_key)} worker processes")
        pool.start_all(workers.by_key.values(), plan.worker_start_timeout)
        run_interleaved(cells.by_key.values(), plan, log)
        log("snapshot: build time and memory")
        build = layout.largest.request(
            {"op": "snapshot", "reps": plan.snapshot_reps}, SNAPSHOT_TIMEOUT
        )
        log("snapshot: propagation of a changed origin")
        propagation = layout.largest.request(
            {
                "op": "propagation",
                "interval": plan.propagation_interval,
                "trials": plan.propagation_trials,
            },
            SNAPSHOT_TIMEOUT,
        )
    finally:
        pool.stop_all(workers.by_key.values())
    return {
        "full_stack": {
            "size": ONE.label,
            "kinds": {
                kind: {stack: cell.summary() for stack, cell in row.items()}
                for kind, row in layout.full_stack.items()
            },
        },
        "scaling": {
            kind: {
                stack: {str(exact): cell.summary() for exact, cell in by_size.items()}
                for stack, by_size in by_stack.items()
            }
            for kind, by_stack in layout.scaling.items()
        },
        "engine": {
            label: {kind: cell.summary() for kind, cell in by_kind.items()}
            for label, by_kind in layout.engine.items()
        },
        "snapshot": {"size": plan.largest.label, "build": build, "propagation": propagation},
        "checks": {key: worker.checks for key, worker in workers.by_key.items()},
    }
