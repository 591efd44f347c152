"""Interleaved repetitions: every measured cell gets one repetition per round, in turn.

Drift on a shared machine (a neighbour's job, CPU frequency, a GC storm) then hits every stack
alike instead of whichever happened to run at that moment, and medians over rounds hide the
repetitions it spoiled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import stats, timing
from benchmarks.plan import Plan
from benchmarks.pool import Worker

REPLY_TIMEOUT_FLOOR = 120.0


@dataclass(slots=True)
class Cell:
    """One request kind on one worker, and its samples in nanoseconds per operation."""

    worker: Worker
    kind: str
    loops: int = 0
    warmup: int = 0
    reps: int = 0
    cpu_ns: list[float] = field(default_factory=list)
    wall_ns: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the report and the JSON keep of this cell, raw samples included.

        ``median_us`` is CPU time, the figure every comparison uses; see ``timing``.
        """
        return {
            "median_us": stats.median(self.cpu_ns) / 1_000,
            "spread": stats.spread(self.cpu_ns),
            "wall_median_us": stats.median(self.wall_ns) / 1_000,
            "wall_spread": stats.spread(self.wall_ns),
            "reps": len(self.cpu_ns),
            "loops": self.loops,
            "warmup": self.warmup,
            "cpu_ns": self.cpu_ns,
            "wall_ns": self.wall_ns,
        }


def _takes_part(round_index: int, reps: int, rounds: int) -> bool:
    """Spread ``reps`` repetitions evenly over ``rounds`` rounds."""
    return (round_index + 1) * reps // rounds > round_index * reps // rounds


def run_interleaved(cells: Iterable[Cell], plan: Plan, log: Callable[[str], None]) -> None:
    """Calibrate every cell, then run the rounds; slow cells get fewer repetitions, spread out."""
    cells = list(cells)
    timeouts: dict[int, float] = {}
    for cell in cells:
        reply = cell.worker.request(
            {"op": "calibrate", "kind": cell.kind, "seconds": plan.rep_seconds},
            timeout=REPLY_TIMEOUT_FLOOR,
        )
        cell.loops = reply["loops"]
        cell.warmup = timing.warmup_calls(cell.loops, reply["ns"])
        rep_seconds = (cell.loops + cell.warmup) * reply["ns"] / 1e9
        within_budget = int(plan.cell_budget_seconds / max(rep_seconds, 1e-9))
        cell.reps = min(plan.reps, max(plan.min_reps, within_budget))
        timeouts[id(cell)] = REPLY_TIMEOUT_FLOOR + 20 * rep_seconds
    log(f"calibrated {len(cells)} cells; {plan.reps} interleaved rounds")
    for round_index in range(plan.reps):
        for cell in cells:
            if _takes_part(round_index, cell.reps, plan.reps):
                reply = cell.worker.request(
                    {"op": "time", "kind": cell.kind, "loops": cell.loops, "warmup": cell.warmup},
                    timeout=timeouts[id(cell)],
                )
                cell.cpu_ns.append(reply["cpu_ns"])
                cell.wall_ns.append(reply["wall_ns"])
        if (round_index + 1) % 10 == 0 or round_index + 1 == plan.reps:
            log(f"round {round_index + 1}/{plan.reps}")
