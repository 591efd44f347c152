"""Part 6: the allowed preflight in our stack, quiet and during a flood of refused preflights.

One worker of our stack at one origin, the audit on with its defaults and its background thread
writing into the worker's database. Each round is a quiet phase (one allowed preflight timed
after every ``flood_every`` untimed allowed ones) and a slice of the flood (one allowed
preflight timed after every ``flood_every`` refused ones), with as many samples in each; rounds
repeat until the whole flood is sent, so drift on the machine hits both conditions alike.

The audit thread writes on its own schedule, so it is sometimes still writing a slice's
refusals during the next quiet phase: quiet samples taken while it ran are the flood's cost,
not quiet, and are left out of the quiet median (kept in the JSON). The flood's median keeps
every sample; it is also given apart for samples taken while the thread ran and while it did
not. See ``audit_flood`` for what the worker does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import pool, stacks, stats, workload
from benchmarks.plan import Plan
from benchmarks.schedule import Cell

ONE = workload.Size(1)
SEED = 1
REPLY_TIMEOUT = 300.0
LOG_EVERY_ROUNDS = 5


def _slice(plan: Plan, round_index: int) -> int:
    """Refused preflights in round ``round_index``: the flood split evenly over the rounds."""
    total, rounds = plan.flood_refused, plan.flood_rounds
    return (round_index + 1) * total // rounds - round_index * total // rounds


class Phases:
    """Every phase of one condition: its samples, and the audit thread's CPU time beside each."""

    def __init__(self, worker: pool.Worker) -> None:
        self.worker = worker
        self.cpu_ns: list[float] = []
        self.wall_ns: list[float] = []
        self.audit_ns: list[int] = []
        self.phases: list[dict[str, Any]] = []

    def add(self, reply: dict[str, Any]) -> dict[str, Any]:
        """Keep the samples of one phase; return the rest of the reply."""
        self.cpu_ns += reply.pop("cpu_ns")
        self.wall_ns += reply.pop("wall_ns")
        self.audit_ns += reply.pop("audit_ns")
        self.phases.append(reply)
        return reply

    def _cell(self, audit_ran: bool | None) -> Cell:
        """The samples taken while the audit thread ran (True), did not (False), or all."""
        cell = Cell(self.worker, workload.ALLOWED_PREFLIGHT, loops=1)
        for cpu, wall, audit in zip(self.cpu_ns, self.wall_ns, self.audit_ns, strict=True):
            if audit_ran is None or bool(audit) is audit_ran:
                cell.cpu_ns.append(cpu)
                cell.wall_ns.append(wall)
        return cell

    def summary(self, *, audit_idle_only: bool) -> dict[str, Any]:
        """The samples' summary, of those the audit thread did not disturb if asked and any
        were; then the medians apart while the thread ran and while it did not."""
        idle, busy = self._cell(False), self._cell(True)
        kept = idle if audit_idle_only and idle.cpu_ns else self._cell(None)
        apart = {
            name: {
                "samples": len(cell.cpu_ns),
                "median_us": stats.median(cell.cpu_ns) / 1_000 if cell.cpu_ns else None,
            }
            for name, cell in (("audit_ran", busy), ("audit_idle", idle))
        }
        return {
            **kept.summary(),
            "audit_idle_only": kept is idle,
            **apart,
            "all_cpu_ns": self.cpu_ns,
            "all_wall_ns": self.wall_ns,
            "audit_ns": self.audit_ns,
            "wall_seconds": sum(p["wall_seconds"] for p in self.phases),
            "audit_cpu_seconds": sum(p["audit_cpu_seconds"] for p in self.phases),
            "phases": self.phases,
        }


def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    """Medians of both conditions, the audit table after the flood, and the memory around it."""
    worker = pool.django_worker(stacks.OURS, ONE, key=f"{stacks.OURS} @ {ONE.label} (flood)")
    quiet, during = Phases(worker), Phases(worker)
    every = plan.flood_every
    try:
        log("starting 1 worker process")
        pool.start_all([worker], plan.worker_start_timeout)
        start = worker.request({"op": "flood_start", "seed": SEED}, REPLY_TIMEOUT)
        sent = 0
        for round_index in range(plan.flood_rounds):
            refused = _slice(plan, round_index)
            samples = (sent + refused) // every - sent // every
            quiet.add(
                worker.request(
                    {"op": "flood_quiet", "samples": samples, "every": every}, REPLY_TIMEOUT
                )
            )
            got = during.add(
                worker.request(
                    {"op": "flood_slice", "refused": refused, "every": every}, REPLY_TIMEOUT
                )
            )
            sent = got["sent"]
            if (round_index + 1) % LOG_EVERY_ROUNDS == 0 or round_index + 1 == plan.flood_rounds:
                log(f"round {round_index + 1}/{plan.flood_rounds}: {sent:,} refused sent")
        log("final flush of the audit")
        finish = worker.request({"op": "flood_finish"}, REPLY_TIMEOUT)
    finally:
        pool.stop_all([worker])
    settings = start["settings"]
    return {
        "size": ONE.label,
        "refused": sent,
        "every": every,
        "rounds": plan.flood_rounds,
        "quiet": quiet.summary(audit_idle_only=True),
        "flood": during.summary(audit_idle_only=False),
        "audit": {
            **settings,
            "before": start["table"],
            "after": finish["table"],
            "flood_counted": finish["flood_counted"],
            "row_bound": settings["max_rows"] + len(finish["table"]["reasons"]),
            "thread_alive": finish["audit_thread_alive"],
        },
        "memory": {"before": start["memory"], "after": finish["memory"]},
        "checks": worker.checks,
    }
