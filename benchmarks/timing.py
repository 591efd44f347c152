"""Timing loops run inside a worker: calibrated once, then repeated on the parent's command.

Each repetition is timed twice: by the thread's CPU clock and by the wall clock. On a shared
machine the wall clock also counts the time other processes held the CPU, which can double a
median; the thread's CPU time counts only this loop's own work, so the comparisons use it and
the wall-clock figures are kept beside them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_LOOPS = 1_000_000
CALIBRATION_FLOOR_NS = 5_000_000
WARMUP_BELOW_NS = 1_000_000


@dataclass(frozen=True, slots=True)
class Sample:
    """Nanoseconds per call over one repetition, by each clock."""

    cpu_ns: float
    wall_ns: float


def per_op(operation: Callable[[], object], loops: int, warmup: int = 0) -> Sample:
    """Mean nanoseconds per call over ``loops`` back-to-back calls, after ``warmup`` untimed."""
    for _ in range(warmup):
        operation()
    cpu_start, wall_start = time.thread_time_ns(), time.perf_counter_ns()
    for _ in range(loops):
        operation()
    wall_end, cpu_end = time.perf_counter_ns(), time.thread_time_ns()
    return Sample((cpu_end - cpu_start) / loops, (wall_end - wall_start) / loops)


def calibrate(operation: Callable[[], object], rep_seconds: float) -> tuple[int, float]:
    """Loops per repetition so one repetition lasts about ``rep_seconds``; and the estimate.

    Batches double until one takes a few milliseconds of CPU time, so a slow operation is
    called only a few times and a fast one is estimated over enough calls to be above the
    clock's resolution. The fastest of three batches is kept: interference from other processes
    only ever adds time, and one slow batch must not shrink every later repetition to a single
    cold call.
    """
    operation()
    loops = 1
    while True:
        ns = per_op(operation, loops).cpu_ns
        if ns * loops >= CALIBRATION_FLOOR_NS or loops >= MAX_LOOPS:
            break
        loops *= 2
    ns = min(ns, *(per_op(operation, loops).cpu_ns for _ in range(2)))
    wanted = int(rep_seconds * 1e9 / ns) if ns > 0 else MAX_LOOPS
    return max(1, min(MAX_LOOPS, wanted)), ns


def warmup_calls(loops: int, ns: float) -> int:
    """Untimed calls before each repetition of a fast operation.

    A worker sits idle while the others are measured, so its first call after waking finds
    cold caches; that cost belongs to no stack and would weigh on whichever repeats the fewest
    calls. A slow operation is not warmed: the cold call is lost in it and would double its cost.
    """
    return max(1, loops // 10) if ns < WARMUP_BELOW_NS else 0
