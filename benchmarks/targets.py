"""The project's performance targets, each evaluated from one run's results as PASS or MISS."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import stacks, stats, workload

OURS, CORS, FLOOR = stacks.OURS, stacks.CORS_HEADERS, stacks.FLOOR
MB = 1_000_000
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Target:
    """One target: the measured value, the limit it is held to, and the verdict."""

    name: str
    value: float
    op: str
    limit: float
    unit: str = ""
    errors: int = 0
    integer: bool = False

    @property
    def passed(self) -> bool:
        """True when the value is on the right side of the limit, measured without errors."""
        return self.errors == 0 and _OPERATORS[self.op](self.value, self.limit)

    def as_dict(self) -> dict[str, Any]:
        """The target with its verdict, for the JSON file."""
        return {**asdict(self), "result": "PASS" if self.passed else "MISS"}


def _median(summary: dict[str, Any]) -> float:
    return float(summary["median_us"])


def full_stack_targets(full: dict[str, Any]) -> list[Target]:
    """Ours no slower than django-cors-headers for every kind; half its overhead for preflights;
    preflights close to the floor (a constant answer from the top of the stack)."""
    kinds = full["kinds"]
    found = [
        Target(
            f"full stack, 1 origin, {kind}: ours / cors-headers",
            stats.ratio(_median(kinds[kind][OURS]), _median(kinds[kind][CORS])),
            "<=",
            1.0,
        )
        for kind in workload.KINDS
    ]
    for kind, limit in ((workload.ALLOWED_PREFLIGHT, 1.10), (workload.REFUSED_PREFLIGHT, 1.15)):
        found.append(
            Target(
                f"full stack, 1 origin, {kind}: ours / floor",
                stats.ratio(_median(kinds[kind][OURS]), _median(kinds[kind][FLOOR])),
                "<=",
                limit,
            )
        )
    preflight = kinds[workload.ALLOWED_PREFLIGHT]
    floor = _median(preflight[FLOOR])
    found.append(
        Target(
            "full stack, allowed preflight: (ours - floor) / (cors-headers - floor)",
            stats.ratio(_median(preflight[OURS]) - floor, _median(preflight[CORS]) - floor),
            "<=",
            0.5,
        )
    )
    return found


def scaling_targets(scaling: dict[str, Any]) -> list[Target]:
    """Ours at the most origins no more than 1.2 times ours at the fewest, for each preflight."""
    found = []
    for kind in workload.PREFLIGHT_KINDS:
        by_size = scaling[kind][OURS]
        sizes = sorted(by_size, key=int)
        smallest, largest = sizes[0], sizes[-1]
        found.append(
            Target(
                f"ours at {int(largest):,} / ours at {int(smallest):,} origins, {kind}",
                stats.ratio(_median(by_size[largest]), _median(by_size[smallest])),
                "<=",
                1.2,
            )
        )
    return found


def snapshot_targets(snapshot: dict[str, Any]) -> list[Target]:
    """Build time and memory at the largest size; a change served within interval + rebuild."""
    build = snapshot["build"]
    propagation = snapshot["propagation"]
    bound = propagation["interval"] + max(propagation["rebuilds"]) + propagation["poll_seconds"]
    return [
        Target(
            f"snapshot build, {snapshot['size']} entries (median CPU time)",
            stats.median(build["cpu_seconds"]),
            "<",
            2.0,
            "s",
        ),
        Target(
            f"snapshot memory held, {snapshot['size']} entries",
            build["held_bytes"] / MB,
            "<",
            150.0,
            "MB",
        ),
        Target(
            "snapshot build: patterns compiled or prefixes checked a second time",
            build["compilations"]["second_compilations"],
            "<=",
            0,
            integer=True,
        ),
        Target(
            "changed origin served (slowest trial) vs interval + rebuild + poll",
            max(propagation["latencies"]),
            "<=",
            bound,
            "s",
        ),
    ]


def end_to_end_targets(e2e: dict[str, Any]) -> list[Target]:
    """Under each server and wrk: at least as many preflights per second as django-cors-headers,
    and at least 0.95 times the floor's.

    An error on our side makes the comparison void; errors of the other stack are its result.
    """
    found = []
    for server, by_size in e2e["by_server"].items():
        for size, by_stack in by_size.items():
            ours, errors = by_stack[OURS]["per_second"], by_stack[OURS]["errors"]
            label = f"{server} + wrk, {int(size):,} origin(s): ours /"
            found += [
                Target(
                    f"{label} cors-headers preflights/s",
                    stats.ratio(ours, by_stack[CORS]["per_second"]),
                    ">=",
                    1.0,
                    errors=errors,
                ),
                Target(
                    f"{label} floor preflights/s (median over pairs of rounds)",
                    by_stack[OURS]["x_floor"],
                    ">=",
                    0.95,
                    errors=errors,
                ),
            ]
    return found


def flood_targets(flood: dict[str, Any]) -> list[Target]:
    """The allowed preflight no more than 1.2 times slower during the flood; rows bounded."""
    audit = flood["audit"]
    return [
        Target(
            "allowed preflight during the flood / quiet (median CPU time)",
            stats.ratio(_median(flood["flood"]), _median(flood["quiet"])),
            "<=",
            1.2,
        ),
        Target(
            f"audit rows after {flood['refused']:,} refused: <= cap + 1 overflow row per reason",
            audit["after"]["rows"],
            "<=",
            audit["row_bound"],
            integer=True,
        ),
    ]


def evaluate(results: dict[str, Any]) -> list[Target]:
    """Every target whose part produced results."""
    found: list[Target] = []
    if "full_stack" in results:
        found += full_stack_targets(results["full_stack"])
    if "scaling" in results:
        found += scaling_targets(results["scaling"])
    if "snapshot" in results:
        found += snapshot_targets(results["snapshot"])
    if "end_to_end" in results:
        found += end_to_end_targets(results["end_to_end"])
    if "flood" in results:
        found += flood_targets(results["flood"])
    return found
