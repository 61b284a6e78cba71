"""Toxicity, quality gap and calibration (agentbed.agents.economy.safety) on hand-built sets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.economy.safety import (
    Interaction,
    brier,
    calibration_error,
    quality_gap,
    reliability,
    safety_summary,
    toxicity,
)

# Three accepted interactions (p 0.9, 0.6, 0.3; delivered, delivered, defaulted) and two
# rejected ones (p 0.8, 0.5). By hand:
#   toxicity    = ((1-0.9) + (1-0.6) + (1-0.3)) / 3 = (0.1 + 0.4 + 0.7) / 3 = 0.4
#   quality gap = (0.9 + 0.6 + 0.3) / 3 - (0.8 + 0.5) / 2 = 0.6 - 0.65 = -0.05 (adverse)
#   Brier       = ((0.9-1)^2 + (0.6-1)^2 + (0.3-0)^2) / 3 = (0.01 + 0.16 + 0.09) / 3 = 0.26/3
HAND = (
    Interaction(0.9, True, 1),
    Interaction(0.6, True, 1),
    Interaction(0.3, True, 0),
    Interaction(0.8, False),
    Interaction(0.5, False),
)


def test_toxicity_by_hand() -> None:
    assert toxicity(HAND) == pytest.approx(0.4)


def test_quality_gap_by_hand_is_negative_under_adverse_selection() -> None:
    assert quality_gap(HAND) == pytest.approx(-0.05)


def test_quality_gap_positive_when_the_better_ones_are_accepted() -> None:
    chosen = (Interaction(0.8, True), Interaction(0.2, False), Interaction(0.4, False))
    assert quality_gap(chosen) == pytest.approx(0.8 - 0.3)


def test_brier_by_hand() -> None:
    assert brier(HAND) == pytest.approx(0.26 / 3)


def test_reliability_bins_by_hand() -> None:
    table = reliability(HAND, bins=2)
    # [0, 0.5): p 0.3 (outcome 0); [0.5, 1]: p 0.9 and 0.6 (both delivered)
    assert table == [
        {"bin": "0.00-0.50", "n": 1, "mean_p": pytest.approx(0.3), "observed": 0.0},
        {"bin": "0.50-1.00", "n": 2, "mean_p": pytest.approx(0.75), "observed": 1.0},
    ]
    # ECE = (1 * |0.3 - 0| + 2 * |0.75 - 1|) / 3 = (0.3 + 0.5) / 3
    assert calibration_error(table) == pytest.approx(0.8 / 3)


def test_summary_counts_and_realised_harm() -> None:
    summary = safety_summary(list(HAND))
    assert (summary["accepted"], summary["rejected"], summary["with_outcome"]) == (3, 2, 3)
    assert summary["harm_realised"] == pytest.approx(1 / 3)
    assert summary["toxicity"] == pytest.approx(0.4)


def test_empty_sides_give_zero() -> None:
    assert toxicity([]) == 0.0
    assert quality_gap([Interaction(0.7, True)]) == 0.0
    assert brier([Interaction(0.7, False)]) == 0.0
    assert calibration_error([]) == 0.0


def test_revert_when_bins_below_one() -> None:
    with pytest.raises(ValueError, match="bins"):
        reliability(HAND, bins=0)


probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
interactions = st.lists(
    st.builds(Interaction, probabilities, st.booleans(), st.none() | st.sampled_from([0, 1])),
    max_size=30,
)


@given(interactions)
def test_fuzz_metrics_stay_in_range(items: list[Interaction]) -> None:
    assert 0.0 <= toxicity(items) <= 1.0
    assert -1.0 <= quality_gap(items) <= 1.0
    assert 0.0 <= brier(items) <= 1.0
    table = reliability(items)
    assert sum(row["n"] for row in table) == sum(i.outcome is not None for i in items)
    assert 0.0 <= calibration_error(table) <= 1.0


@given(interactions)
def test_fuzz_toxicity_is_one_minus_mean_accepted_p(items: list[Interaction]) -> None:
    accepted = [i.p for i in items if i.accepted]
    if accepted:
        assert toxicity(items) == pytest.approx(1 - sum(accepted) / len(accepted))
