"""Bad configurations and actions outside the space fail with named, readable errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from learnkit import PGA, ROOT, short_pga

from agentbed.agents.config import ScenarioError
from agentbed.agents.learning import (
    InvalidAction,
    LearningConfig,
    LearningConfigError,
    MarketParallelEnv,
    SingleLearnerEnv,
)
from agentbed.agents.learning.actions import COMPONENTS, action_nvec, check_action
from agentbed.agents.learning.episode import MarketEpisode
from agentbed.experiments.parse import load_scenario

NVEC = action_nvec(2, LearningConfig())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"top_n": 0}, "top_n must be >= 1"),
        ({"copy_multiples": (1.0,)}, "one action component chooses both"),
        ({"trade_sizes": (0.5, 2.0, 0.1)}, "trade_sizes are fractions <= 1"),
        ({"tip_steps_gwei": ()}, "tip_steps_gwei must be one or more values >= 0"),
        ({"slippage_bps": 10_000}, "slippage_bps must be in [0, 10000)"),
        ({"decide_before_ms": -1}, "decide_before_ms must be >= 0"),
    ],
)
def test_bad_config_raises_learning_config_error(fields: dict, message: str) -> None:
    with pytest.raises(LearningConfigError, match=re.escape(message)):
        LearningConfig(**fields)


def test_scenario_without_learners_is_refused() -> None:
    with pytest.raises(LearningConfigError, match="no learners: mark an"):
        MarketParallelEnv(ROOT / "scenarios" / "small.toml")


def test_scenario_of_another_study_is_refused() -> None:
    with pytest.raises(LearningConfigError, match="encodes market scenarios"):
        MarketParallelEnv(ROOT / "scenarios" / "escrow.toml")


def test_decision_time_beyond_the_block_interval_is_refused() -> None:
    with pytest.raises(LearningConfigError, match=r"below the scenario's block interval \(12000"):
        MarketEpisode(short_pga(2), 1, LearningConfig(decide_before_ms=12_000))


def test_learner_flag_must_be_a_boolean(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(PGA.read_text().replace("learner = true", 'learner = "yes"'))
    with pytest.raises(ScenarioError, match=r"agents\[3\]\.learner: expected a boolean"):
        load_scenario(path)


def test_single_env_needs_a_named_learner_among_several(tmp_path) -> None:
    path = tmp_path / "two.toml"
    path.write_text(
        PGA.read_text().replace('name = "learner"\ncount = 1', 'name = "learner"\ncount = 2')
    )
    with pytest.raises(LearningConfigError, match="2 learners \\(learner0, learner1\\): name one"):
        SingleLearnerEnv(path)
    with pytest.raises(LearningConfigError, match="no learner 'frontrunner0'"):
        SingleLearnerEnv(path, learner="frontrunner0")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ([4, 0, 0, 0, 0, 0, 0], "component kind must be in [0, 4), got 4"),
        ([0, 0, 0, 0, 0, 0, -1], "component target must be in [0, 4), got -1"),
        ([0, 0, 0], "action must be 7 integers"),
        ([1.5, 0, 0, 0, 0, 0, 0], "action must be 7 integers"),
        ("swap", "action must be 7 integers"),
    ],
)
def test_action_outside_the_space_is_named(action: object, message: str) -> None:
    with pytest.raises(InvalidAction, match=re.escape(message)):
        check_action("learner0", action, NVEC)


@given(st.lists(st.integers(-3, 8), min_size=len(NVEC), max_size=len(NVEC)))
def test_fuzz_check_action_accepts_exactly_the_space(values: list[int]) -> None:
    inside = all(0 <= v < n for v, n in zip(values, NVEC, strict=True))
    try:
        checked = check_action("learner0", np.asarray(values), NVEC)
    except InvalidAction as err:
        assert not inside
        bad = next(c for c, v, n in zip(COMPONENTS, values, NVEC, strict=True) if not 0 <= v < n)
        assert f"component {bad} " in str(err)
    else:
        assert inside
        assert checked == tuple(values)


def test_env_step_rejects_a_bad_action_and_a_stranger() -> None:
    env = MarketParallelEnv(short_pga(2))
    env.reset(seed=1)
    with pytest.raises(InvalidAction, match="learner0: action component tip must be in"):
        env.step({"learner0": [0, 0, 0, 0, 99, 0, 0]})
    with pytest.raises(InvalidAction, match="not learners: frontrunner0"):
        env.step({"frontrunner0": [0] * 7})


def test_step_before_reset_says_so() -> None:
    with pytest.raises(RuntimeError, match="call reset\\(\\) before step"):
        MarketParallelEnv(short_pga(2)).step({})
