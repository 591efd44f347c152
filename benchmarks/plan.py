"""How much to measure: the full run and the quick run differ only in sizes and repetitions."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.workload import Size


@dataclass(frozen=True, slots=True)
class Plan:
    """Sizes, repetitions and time budgets of one run."""

    name: str
    reps: int
    min_reps: int
    rep_seconds: float
    cell_budget_seconds: float
    scaling_exact: tuple[int, ...]
    wildcards: int
    regexes: int
    snapshot_reps: int
    propagation_interval: float
    propagation_trials: int
    e2e_exact: tuple[int, ...]
    e2e_seconds: int
    e2e_reps: int
    e2e_warmup_seconds: int
    e2e_workers: int
    e2e_connections: int
    flood_refused: int
    flood_every: int
    flood_rounds: int
    worker_start_timeout: float = 300.0

    def scaling_size(self, exact: int) -> Size:
        """Our stack's size at ``exact`` origins: the patterns are always there."""
        return Size(exact, self.wildcards, self.regexes)

    @property
    def largest(self) -> Size:
        """The biggest configuration, used for the snapshot measurements."""
        return self.scaling_size(max(self.scaling_exact))

    @property
    def engine_sizes(self) -> tuple[Size, ...]:
        """One origin alone, and the smallest and largest scaling configurations."""
        return (Size(1), self.scaling_size(min(self.scaling_exact)), self.largest)


FULL = Plan(
    name="full",
    reps=101,
    min_reps=5,
    rep_seconds=0.01,
    cell_budget_seconds=15.0,
    scaling_exact=(1, 1_000, 10_000, 100_000),
    wildcards=1_000,
    regexes=100,
    snapshot_reps=5,
    propagation_interval=1.0,
    propagation_trials=5,
    e2e_exact=(1, 10_000),
    e2e_seconds=1,
    e2e_reps=60,  # ten times the six orders of a group's runs
    e2e_warmup_seconds=3,
    e2e_workers=2,
    e2e_connections=16,
    flood_refused=100_000,
    flood_every=100,
    flood_rounds=10,
)

QUICK = Plan(
    name="quick",
    reps=3,
    min_reps=2,
    rep_seconds=0.005,
    cell_budget_seconds=0.5,
    scaling_exact=(1, 100),
    wildcards=10,
    regexes=3,
    snapshot_reps=2,
    propagation_interval=0.2,
    propagation_trials=1,
    e2e_exact=(1,),
    e2e_seconds=1,
    e2e_reps=1,
    e2e_warmup_seconds=1,
    e2e_workers=1,
    e2e_connections=4,
    flood_refused=3_000,
    flood_every=100,
    flood_rounds=2,
    worker_start_timeout=120.0,
)
