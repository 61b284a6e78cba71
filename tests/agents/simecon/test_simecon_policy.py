"""The paper's rule policy, one rule at a time, and the measures of a finished run."""

from __future__ import annotations

import pytest

from agentbed.agents.simecon import metrics as m
from agentbed.agents.simecon.policy import rule_action
from agentbed.agents.simecon.world import Snapshot


def snap(balances: list[int], staked: list[int] | None = None) -> Snapshot:
    staked = staked or [0] * len(balances)
    return Snapshot(1, 1, tuple(balances), tuple(staked), (0,) * len(balances))


@pytest.mark.parametrize(
    ("turn", "index", "balances", "staked", "expected"),
    [
        (1, 0, [-181, 0], [0, 0], ("job", ())),  # below -180: the paper's code
        (1, 0, [-180, 0], [0, 0], ("mine", ())),  # not below
        (15, 0, [-100, 0], [80, 0], ("unstake", ())),
        (6, 1, [1_000, 400], [0, 0], ("stake", (80,))),  # (6 + 1) % 7 == 0
        (6, 1, [1_000, 400], [0, 220], ("mine", ())),  # stake at its cap
        (10, 1, [1_000, 700], [0, 300], ("burn", (50,))),  # (10 + 1) % 11 == 0, staked too much
        (13, 2, [10, 0, 500], [0, 0, 0], ("transfer", (1, 20, 1))),  # to the poorest
        (13, 0, [0, 500], [0, 0], ("mine", ())),  # the poorest gives nothing
        (20, 0, [300, 0], [0, 0], ("study", ())),
        (20, 0, [250, 0], [0, 0], ("mine", ())),
    ],
)
def test_rule_policy_first_matching_rule(
    turn: int,
    index: int,
    balances: list[int],
    staked: list[int],
    expected: tuple[str, tuple[int, ...]],
) -> None:
    assert rule_action(turn, index, snap(balances, staked)) == expected


def test_rule_policy_text_threshold_takes_jobs_above_zero() -> None:
    # The paper's prose: below +180; a solvent agent with 100 works instead of mining.
    assert rule_action(1, 0, snap([100, 0]), job_below=180) == ("job", ())
    assert rule_action(1, 0, snap([100, 0])) == ("mine", ())


def test_poorest_ties_go_to_the_lowest_index() -> None:
    assert rule_action(13, 2, snap([5, 5, 600]))[1][0] == 0


def test_gini_by_the_harness_formula() -> None:
    assert m.gini([1, 1, 1, 1]) == 0.0
    assert m.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert m.gini([]) == 0.0 and m.gini([-1, 1]) == 0.0
    # signed wealth gives a negative "raw" Gini, as the paper's table shows
    assert m.gini([-300, -200, -100]) < 0


def test_shift_rule_lifts_the_poorest_to_one() -> None:
    assert m.shift_of([-5, 3]) == 6 and m.shifted([-5, 3]) == [1, 9]
    assert m.shift_of([0, 3]) == 1
    assert m.shift_of([2, 3]) == 0


def test_top1_share_is_zero_when_the_total_is_not_positive() -> None:
    assert m.top1_share([-10, 5]) == 0.0
    assert m.top1_share([1, 3]) == 0.75


def test_fees_to_endowment_and_debtors() -> None:
    assert m.fees_to_endowment(24_000, 8_000) == 3.0
    assert m.negative_count([-1, 0, 5, -7]) == 2
    with pytest.raises(ValueError, match="endowment"):
        m.fees_to_endowment(1, 0)
