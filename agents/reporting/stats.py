"""Summary statistics the reports of every study use, defined once."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def quantile(values: Sequence[int], q: float) -> float:
    """The ``q`` quantile of ``values``: the element at rank ``int(q * n)`` (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of ``values`` (0.0 for none)."""
    return statistics.fmean(values) if values else 0.0


def delay_summary(waits_ms: Sequence[int]) -> dict[str, float]:
    """Mean, median, 90th percentile and maximum of inclusion delays (ms), as ``summary.json``
    holds them under ``inclusion_delay_ms``."""
    return {
        "mean": mean(waits_ms),
        "median": quantile(waits_ms, 0.5),
        "p90": quantile(waits_ms, 0.9),
        "max": max(waits_ms, default=0),
    }
