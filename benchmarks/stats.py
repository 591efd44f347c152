"""Summaries robust to a noisy two-core machine: medians and the spread around them."""

from __future__ import annotations

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


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the ratios of runs made side by side (the same round): a slow stretch of
    the machine weighs on both sides of each ratio instead of on one side's median."""
    return median([ratio(n, d) for n, d in zip(numerators, denominators, strict=True)])
