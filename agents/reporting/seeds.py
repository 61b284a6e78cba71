"""Comparisons over seeds, shared by every study: each run's headline numbers, their means with
95% t-intervals, seed-paired differences against a baseline run, and the words a report states
them in.

A comparison runs every policy (or variant) with the same seeds, so two runs with the same seed
see the same arrivals and price path; the difference of a metric is taken seed by seed and its
interval is that of those paired differences (:func:`~.intervals.paired_difference`). A report
states a difference only when its interval excludes zero; otherwise it says "not
distinguishable at n seeds" (:func:`difference_text`). A metric may be undefined on a run (a
detector's precision with nothing detected): such a seed is left out of that metric's mean, and
out of its pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentbed.agents.reporting.intervals import (
    CONFIDENCE,
    Interval,
    confidence_interval,
    paired_difference,
)
from agentbed.agents.reporting.tables import markdown_table, number_text

Format = Callable[[float], str]


SHARE: tuple[float | None, float | None] = (0.0, 1.0)
"""The bounds of a share (precision, recall, a rate)."""
COUNT: tuple[float | None, float | None] = (0.0, None)
"""The bounds of a count."""
NONE: tuple[float | None, float | None] = (None, None)
"""No bounds (an amount that may be of either sign)."""


@dataclass(frozen=True, slots=True)
class Metric:
    """A headline number of a run, as a comparison over seeds reports it.

    Attributes:
        key: Its name in the comparison's ``summary.json``.
        title: Its table header (with the unit).
        definition: How it is measured, in one sentence.
        value: Reads it from a run's summary; None where it is undefined on that run.
        fmt: Formats one value of it.
        unit: What it is counted or valued in, when it is an amount (``"USDC"``).
        bounds: The range its values can take (a share: 0..1; a count: 0..None); a mean's
            interval is clipped to it, since the t-interval of a few bounded values can
            overshoot (differences are not clipped).
    """

    key: str
    title: str
    definition: str
    value: Callable[[Mapping[str, Any]], float | None]
    fmt: Format = number_text
    unit: str = ""
    bounds: tuple[float | None, float | None] = NONE


@dataclass(frozen=True, slots=True)
class MetricStats:
    """One metric of one policy (or variant) over the seeds.

    Attributes:
        values: Its value on each seed, in seed order (None where undefined).
        interval: Mean and t-interval over the defined values; None when none is defined.
        difference: Mean and t-interval of the seed-paired difference against the baseline
            (seeds where both are defined); None for the baseline itself or with no pair.
    """

    values: tuple[float | None, ...]
    interval: Interval | None
    difference: Interval | None


Stats = dict[str, dict[str, MetricStats]]
"""Statistics by label, then by metric key."""


def seed_stats(
    summaries: Mapping[str, Sequence[Mapping[str, Any]]],
    metrics: Sequence[Metric],
    baseline: str,
) -> Stats:
    """Each metric's interval per label and its paired difference against ``baseline``.

    Args:
        summaries: Each label's run summaries, one per seed, in the same seed order.
        metrics: What to measure.
        baseline: The label the differences are taken against.

    Raises:
        ValueError: ``baseline`` is not a label, or the labels ran different numbers of seeds.
    """
    if baseline not in summaries:
        raise ValueError(f"baseline {baseline!r} is not among {', '.join(summaries)}")
    counts = {len(runs) for runs in summaries.values()}
    if len(counts) > 1:
        raise ValueError(f"labels ran different numbers of seeds: {sorted(counts)}")
    stats: Stats = {}
    for label, runs in summaries.items():
        stats[label] = {}
        for metric in metrics:
            values = tuple(metric.value(s) for s in runs)
            base = tuple(metric.value(s) for s in summaries[baseline])
            defined = [v for v in values if v is not None]
            pairs = [
                (v, b) for v, b in zip(values, base, strict=True) if v is not None and b is not None
            ]
            difference = None
            if label != baseline and pairs:
                difference = paired_difference([v for v, _ in pairs], [b for _, b in pairs])
            interval = clipped(confidence_interval(defined), metric.bounds) if defined else None
            stats[label][metric.key] = MetricStats(values, interval, difference)
    return stats


def clipped(interval: Interval, bounds: tuple[float | None, float | None]) -> Interval:
    """``interval`` with its ends moved inside ``bounds`` (None: unbounded on that side)."""
    low, high = interval.low, interval.high
    floor, ceiling = bounds
    if low is not None and floor is not None:
        low = max(low, floor)
    if high is not None and ceiling is not None:
        high = min(high, ceiling)
    return Interval(interval.n, interval.mean, low, high)


def distinguishable(interval: Interval | None) -> bool:
    """Whether ``interval`` excludes zero (never with a single value: no spread to judge)."""
    if interval is None or interval.low is None or interval.high is None:
        return False
    return interval.low > 0 or interval.high < 0


def seeds_text(n: int) -> str:
    """``"1 seed"``, ``"5 seeds"``."""
    return f"{n} seed" if n == 1 else f"{n} seeds"


def interval_text(interval: Interval | None, fmt: Format = number_text) -> str:
    """``mean [low, high]``; the mean alone with one value; ``-`` when undefined."""
    if interval is None:
        return "-"
    if interval.low is None or interval.high is None:
        return fmt(interval.mean)
    return f"{fmt(interval.mean)} [{fmt(interval.low)}, {fmt(interval.high)}]"


def signed(fmt: Format) -> Format:
    """``fmt`` with a sign in front of positive values."""
    return lambda value: ("+" if value > 0 and not fmt(value).startswith("-") else "") + fmt(value)


def difference_text(interval: Interval | None, fmt: Format = number_text) -> str:
    """A paired difference as a report states it: signed with its interval when the interval
    excludes zero, else ``not distinguishable at n seeds``."""
    if interval is None:
        return "-"
    if not distinguishable(interval):
        return f"not distinguishable at {seeds_text(interval.n)}"
    return interval_text(interval, signed(fmt))


def stats_table(
    column: str, stats: Stats, metrics: Sequence[Metric], *, differences: bool = False
) -> list[str]:
    """A Markdown table: a row per label, a column per metric; each cell the mean and its
    interval, or (``differences``) the paired difference against the baseline (whose row is
    left out)."""
    rows = []
    for label, by_key in stats.items():
        if differences and all(by_key[m.key].difference is None for m in metrics):
            continue
        cells = [
            difference_text(by_key[m.key].difference, m.fmt)
            if differences
            else interval_text(by_key[m.key].interval, m.fmt)
            for m in metrics
        ]
        rows.append([label, *cells])
    return markdown_table([column, *(m.title for m in metrics)], rows, "l" + "r" * len(metrics))


def definition_lines(metrics: Sequence[Metric]) -> list[str]:
    """One Markdown bullet per metric: its title and how it is measured."""
    return [f"- **{m.title}**: {m.definition}" for m in metrics]


def interval_json(interval: Interval | None) -> dict[str, Any] | None:
    """An interval as ``summary.json`` holds it (None stays None)."""
    if interval is None:
        return None
    return {"n": interval.n, "mean": interval.mean, "low": interval.low, "high": interval.high}


def stats_json(stats: Stats, baseline: str) -> dict[str, Any]:
    """The statistics as ``summary.json`` holds them: per label and metric, the per-seed
    values, the mean and interval, and the paired difference against ``baseline`` with whether
    it excludes zero."""
    return {
        "baseline": baseline,
        "confidence": CONFIDENCE,
        "metrics": {
            label: {
                key: {
                    "values": list(s.values),
                    "interval": interval_json(s.interval),
                    "difference": interval_json(s.difference),
                    "distinguishable": distinguishable(s.difference),
                }
                for key, s in by_key.items()
            }
            for label, by_key in stats.items()
        },
    }
