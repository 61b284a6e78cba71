"""Comparisons over seeds: paired differences, their wording, and the statistics per label."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.reporting.intervals import Interval, confidence_interval, paired_difference
from agentbed.agents.reporting.seeds import (
    COUNT,
    SHARE,
    Metric,
    clipped,
    difference_text,
    distinguishable,
    seed_stats,
    stats_json,
    stats_table,
)

T_4 = 2.7764451051977987
"""Student's t, two-sided 95%, 4 degrees of freedom (published tables: 2.776)."""


def test_paired_difference_matches_a_hand_computation() -> None:
    policy = [110.0, 205.0, 290.0, 420.0, 515.0]
    base = [100.0, 200.0, 300.0, 400.0, 500.0]
    # Independently: the differences 10, 5, -10, 20, 15; mean 8; squared deviations
    # 4 + 9 + 324 + 144 + 49 = 530; sample variance 530 / 4; half-width t * s / sqrt(5).
    half = T_4 * math.sqrt(530 / 4) / math.sqrt(5)
    got = paired_difference(policy, base)
    assert got.n == 5
    assert got.mean == pytest.approx(8.0)
    assert got.low == pytest.approx(8.0 - half)
    assert got.high == pytest.approx(8.0 + half)
    # Unpaired, the seed-to-seed spread (100..500) would swamp a difference of 8.
    unpaired = confidence_interval(policy)
    assert unpaired.high is not None and unpaired.low is not None
    assert unpaired.high - unpaired.low > 20 * half


def test_paired_difference_needs_one_value_per_seed_on_both_sides() -> None:
    with pytest.raises(ValueError, match="differ in length: 2 and 3"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=8).flatmap(
        lambda xs: st.tuples(
            st.just(xs),
            st.lists(st.floats(-1e6, 1e6), min_size=len(xs), max_size=len(xs)),
            st.lists(st.floats(-1e6, 1e6), min_size=len(xs), max_size=len(xs)),
        )
    )
)
def test_fuzz_what_the_seed_adds_to_both_runs_cancels(
    data: tuple[list[float], list[float], list[float]],
) -> None:
    values, base, seed_effect = data
    plain = paired_difference(values, base)
    shifted = paired_difference(
        [v + e for v, e in zip(values, seed_effect, strict=True)],
        [b + e for b, e in zip(base, seed_effect, strict=True)],
    )
    assert shifted.mean == pytest.approx(plain.mean, abs=1e-3)
    assert plain.low is not None and shifted.low is not None
    assert shifted.low == pytest.approx(plain.low, abs=1e-3)


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (Interval(5, 2.0, -1.0, 5.0), "not distinguishable at 5 seeds"),
        (Interval(5, -2.0, -5.0, 1.0), "not distinguishable at 5 seeds"),
        (Interval(5, 0.0, 0.0, 0.0), "not distinguishable at 5 seeds"),
        (Interval(1, 7.0, None, None), "not distinguishable at 1 seed"),
        (Interval(5, 3.0, 1.5, 4.5), "+3.00 [+1.50, +4.50]"),
        (Interval(3, -1234.5, -2000.0, -469.0), "-1,234.50 [-2,000.00, -469.00]"),
        (None, "-"),
    ],
)
def test_a_difference_is_stated_only_when_its_interval_excludes_zero(
    interval: Interval | None, text: str
) -> None:
    assert difference_text(interval) == text
    assert distinguishable(interval) == (text[0] in "+-" and text != "-")


def _metric(key: str) -> Metric:
    return Metric(key, key, f"{key} as measured", lambda s: s.get(key))


def test_seed_stats_pairs_by_seed_and_leaves_undefined_values_out() -> None:
    runs: dict[str, list[dict[str, Any]]] = {
        "fifo": [{"x": 1.0, "p": None}, {"x": 2.0, "p": 0.5}, {"x": 3.0, "p": 1.0}],
        "bundles": [{"x": 11.0, "p": 1.0}, {"x": 12.5, "p": None}, {"x": 13.0, "p": 0.5}],
    }
    metrics = [_metric("x"), _metric("p")]
    stats = seed_stats(runs, metrics, "fifo")
    assert stats["fifo"]["x"].difference is None  # the baseline has no difference to itself
    diff = stats["bundles"]["x"].difference
    assert diff == paired_difference([11.0, 12.5, 13.0], [1.0, 2.0, 3.0])
    assert stats["bundles"]["x"].values == (11.0, 12.5, 13.0)
    # p: defined on seeds 1 and 3 for bundles, 2 and 3 for fifo; only seed 3 pairs.
    assert stats["bundles"]["p"].interval == confidence_interval([1.0, 0.5])
    assert stats["bundles"]["p"].difference == Interval(1, -0.5, None, None)
    table = stats_table("policy", stats, metrics, differences=True)
    assert len(table) == 3 and table[2].startswith("| bundles | +10.17 [")
    assert "not distinguishable at 1 seed" in table[2]
    saved = stats_json(stats, "fifo")
    assert saved["baseline"] == "fifo" and saved["confidence"] == 0.95
    assert saved["metrics"]["bundles"]["x"]["distinguishable"] is True
    assert saved["metrics"]["fifo"]["x"]["difference"] is None


def test_seed_stats_rejects_a_baseline_that_was_not_run() -> None:
    with pytest.raises(ValueError, match="baseline 'priority' is not among fifo"):
        seed_stats({"fifo": [{"x": 1.0}]}, [_metric("x")], "priority")
    with pytest.raises(ValueError, match="different numbers of seeds"):
        seed_stats({"fifo": [{"x": 1.0}], "random": [{"x": 1.0}] * 2}, [_metric("x")], "fifo")


def test_a_bounded_metric_s_interval_is_clipped_to_its_range_but_not_its_difference() -> None:
    share = Metric("p", "p", "a share", lambda s: s["p"], bounds=SHARE)
    runs = {"a": [{"p": 1.0}, {"p": 0.2}, {"p": 1.0}], "b": [{"p": 0.0}, {"p": 1.0}, {"p": 0.0}]}
    stats = seed_stats(runs, [share], "a")
    raw = confidence_interval([1.0, 0.2, 1.0])
    assert raw.low is not None and raw.high is not None and raw.low < 0 and raw.high > 1
    assert stats["a"]["p"].interval == Interval(3, raw.mean, 0.0, 1.0)
    assert stats["b"]["p"].interval is not None and stats["b"]["p"].interval.low == 0.0
    diff = stats["b"]["p"].difference
    assert diff == paired_difference([0.0, 1.0, 0.0], [1.0, 0.2, 1.0])
    assert clipped(Interval(1, 0.5, None, None), SHARE) == Interval(1, 0.5, None, None)
    assert clipped(Interval(2, 3.0, -1.0, 7.0), COUNT) == Interval(2, 3.0, 0.0, 7.0)
