"""Summaries robust to a noisy two-core machine: medians and the spread around them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(samples: Sequence[float]) -> float:
    """The middle sample; one slow repetition (a GC pause, a neighbour) does not move it."""
    return statistics.median(samples)


def spread(samples: Sequence[float]) -> float:
    """Interquartile range relative to the median: how much the repetitions disagree."""
    if len(samples) < 4:
        return (max(samples) - min(samples)) / median(samples) if samples else 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return (q3 - q1) / median(samples)


def ratio(numerator: float, denominator: float) -> float:
    """A ratio that is infinite rather than an error when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else float("inf")


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """The ratios of runs made side by side (the same round): a slow stretch of the machine
    weighs on both sides of each ratio instead of on one side's median."""
    return [ratio(n, d) for n, d in zip(numerators, denominators, strict=True)]


def balanced_ratios(ratios: Sequence[float]) -> list[float]:
    """Each pair of rounds' ratios combined (their geometric mean), for rounds run in turns.

    When the two stacks of a ratio swap places from one round to the next, a run that is faster
    for its place lifts one round's ratio and lowers the next one's by the same factor; the
    pair's geometric mean cancels it. A last unpaired round is left out.
    """
    return [math.sqrt(ratios[i] * ratios[i + 1]) for i in range(0, len(ratios) - 1, 2)]


def quartiles(samples: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles; with fewer than two samples, the sample twice."""
    if len(samples) < 2:
        return samples[0], samples[0]
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return q1, q3
