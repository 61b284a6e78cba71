"""Means and two-sided Student t-intervals over seeds, without scipy: of one quantity, and of
the seed-paired difference of two.

The critical value comes from the exact finite series of Student's t distribution (Abramowitz &
Stegun 26.7.3 and 26.7.4), inverted by bisection, so the numbers are the same on every machine.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95


def _t_mass(t: float, df: int) -> float:
    """P(-t < T < t) for Student's t with ``df`` degrees of freedom (exact finite series,
    Abramowitz & Stegun 26.7.3 and 26.7.4)."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:
        series = 0.0
        if df > 1:
            term = series = math.cos(theta)
            for k in range(3, df - 1, 2):
                term *= cos2 * (k - 1) / k
                series += term
        return 2 / math.pi * (theta + math.sin(theta) * series)
    term = series = 1.0
    for k in range(2, df - 1, 2):
        term *= cos2 * (k - 1) / k
        series += term
    return math.sin(theta) * series


def t_critical(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value of Student's t: ``P(|T| < t) = confidence``.

    Raises:
        ValueError: ``df < 1`` or ``confidence`` outside (0, 1).
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    low, high = 0.0, 1.0
    while _t_mass(high, df) < confidence:
        low, high = high, 2 * high
    while True:  # bisect to the last representable step
        middle = (low + high) / 2
        if middle in (low, high):
            return high
        if _t_mass(middle, df) < confidence:
            low = middle
        else:
            high = middle


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean and its two-sided confidence interval.

    Attributes:
        n: Number of values.
        mean: Their mean.
        low: Lower end (None with a single value: no spread to estimate).
        high: Upper end (None with a single value).
    """

    n: int
    mean: float
    low: float | None
    high: float | None


def confidence_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Mean and t-interval: ``mean ± t(n-1) * s / sqrt(n)`` with ``s`` the sample deviation.

    Raises:
        ValueError: no values.
    """
    if not values:
        raise ValueError("no values")
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Interval(1, mean, None, None)
    half = (
        t_critical(len(values) - 1, confidence) * statistics.stdev(values) / math.sqrt(len(values))
    )
    return Interval(len(values), mean, mean - half, mean + half)


def paired_difference(
    values: Sequence[float], baseline: Sequence[float], confidence: float = CONFIDENCE
) -> Interval:
    """Mean and t-interval of ``values[i] - baseline[i]``: the paired difference by seed.

    Both sequences hold one value per seed, in the same seed order; pairing removes what the
    seed alone decides (the same arrivals and price path under both), so the interval is that
    of the differences, not the difference of two intervals.

    Raises:
        ValueError: no values, or sequences of different lengths.
    """
    if len(values) != len(baseline):
        raise ValueError(f"paired values differ in length: {len(values)} and {len(baseline)}")
    return confidence_interval([v - b for v, b in zip(values, baseline, strict=True)], confidence)
