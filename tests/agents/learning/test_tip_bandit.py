"""The example bandit: its context from the observation, its arms, and its action values."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.learning.bandit import (
    CONTEXTS,
    TipBandit,
    front_action,
    target_and_context,
)
from agentbed.agents.learning.observation import layout
from agentbed.agents.reporting.intervals import confidence_interval

NAMES = layout(("USDC", "WETH"), 1, 4)


def observation(*slots: tuple[int, float]) -> list[float]:
    """An observation with the given ``(slot, edge_bps)`` swaps present, the rest empty."""
    values = [0.0] * len(NAMES)
    for slot, edge in slots:
        values[NAMES.index(f"slot{slot}_present")] = 1.0
        values[NAMES.index(f"slot{slot}_edge_bps")] = edge
    return values


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ((), (None, 0)),
        (((0, -40.0),), (0, 0)),
        (((0, -40.0), (2, 10.0)), (2, 1)),
        (((1, 25.0), (3, 60.0)), (3, 2)),
        (((0, 250.0), (1, 250.0)), (0, 3)),  # a tie goes to the larger swap (lower slot)
    ],
)
def test_target_is_the_swap_of_largest_edge(slots: tuple, expected: tuple) -> None:
    assert target_and_context(observation(*slots), NAMES, 4) == expected


def test_arms_map_to_nothing_or_a_front_run_at_a_tip_step() -> None:
    assert front_action(0, 3, 1) == [0, 0, 0, 0, 0, 0, 0]
    assert front_action(4, 2, 1) == [2, 0, 0, 1, 3, 0, 2]


def test_bandit_tries_every_arm_once_then_plays_the_best() -> None:
    bandit = TipBandit(3, 0.0, random.Random(1))
    played = []
    for reward in (5.0, 9.0, -2.0):
        arm = bandit.choose(1)
        played.append(arm)
        bandit.update(1, arm, reward)
    assert played == [0, 1, 2]
    assert bandit.choose(1) == 1
    assert bandit.choose(2) == 0  # an untouched context starts with arm 0
    assert bandit.greedy(3) == 0


def test_same_seed_same_exploration() -> None:
    def run(seed: int) -> list[int]:
        bandit = TipBandit(4, 0.5, random.Random(seed))
        arms = []
        for step in range(40):
            arm = bandit.choose(step % CONTEXTS)
            bandit.update(step % CONTEXTS, arm, float(arm == 2))
            arms.append(arm)
        return arms

    assert run(7) == run(7)
    assert run(7) != run(8)


@given(st.lists(st.tuples(st.integers(0, 2), st.floats(-1e6, 1e6)), min_size=1, max_size=30))
def test_fuzz_action_values_are_sample_averages(plays: list[tuple[int, float]]) -> None:
    bandit = TipBandit(3, 0.1, random.Random(0))
    for arm, reward in plays:
        bandit.update(0, arm, reward)
    for arm in range(3):
        rewards = [r for a, r in plays if a == arm]
        assert bandit.counts[0][arm] == len(rewards)
        expected = statistics.fmean(rewards) if rewards else 0.0
        assert bandit.means[0][arm] == pytest.approx(expected, rel=1e-9, abs=1e-6)
        interval = bandit.interval(0, arm)
        if len(rewards) >= 2:
            reference = confidence_interval(rewards)
            assert interval.low == pytest.approx(reference.low, rel=1e-6, abs=1e-3)
            assert interval.high == pytest.approx(reference.high, rel=1e-6, abs=1e-3)
        else:
            assert interval.low is None


@pytest.mark.parametrize(("arms", "epsilon"), [(1, 0.1), (3, -0.1), (3, 1.5)])
def test_bad_bandit_parameters_are_refused(arms: int, epsilon: float) -> None:
    with pytest.raises(ValueError, match=r"at least 2 arms|epsilon must be in"):
        TipBandit(arms, epsilon, random.Random(0))
