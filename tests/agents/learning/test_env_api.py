"""The environments pass PettingZoo's and Gymnasium's own API checkers, and step by block."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from learnkit import short_pga
from pettingzoo.test import api_test, parallel_api_test

from agentbed.agents.learning import MarketParallelEnv, SingleLearnerEnv
from agentbed.agents.learning.parallel import market_aec_env

# The observation Box is unbounded (balances, reserves and tips have no natural cap).
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*Box observation space m:UserWarning"),
    pytest.mark.filterwarnings("ignore:Agent's m.* observation space value is:UserWarning"),
    # The checker's advice, not its requirements: a MultiDiscrete action space and the
    # scenario's own agent names (learner0) are deliberate.
    pytest.mark.filterwarnings("ignore:Action space for each agent probably:UserWarning"),
    pytest.mark.filterwarnings("ignore:We recommend agents to be named:UserWarning"),
]


def test_parallel_env_passes_pettingzoo_api_test() -> None:
    parallel_api_test(MarketParallelEnv(short_pga(3)), num_cycles=10)


def test_aec_wrapper_passes_pettingzoo_api_test() -> None:
    api_test(market_aec_env(short_pga(2)), num_cycles=5)


def test_single_learner_env_passes_gymnasium_env_checker() -> None:
    check_env(SingleLearnerEnv(short_pga(2)), skip_render_check=True)


def test_episode_is_one_step_per_block_then_truncated() -> None:
    env = MarketParallelEnv(short_pga(3))
    observations, _ = env.reset(seed=5)
    start = env.episode.sim.chain.block_number if env.episode else -1
    assert env.observation_space("learner0").contains(observations["learner0"])
    truncated: list[bool] = []
    sealed: list[tuple[int, ...]] = []
    while env.agents:
        _, _, terminations, truncations, infos = env.step({"learner0": np.zeros(7, dtype=int)})
        assert terminations == {"learner0": False}
        truncated.append(truncations["learner0"])
        sealed.append(infos["learner0"]["blocks"])
    assert truncated == [False, False, True]
    assert sealed == [(start + 1,), (start + 2,), (start + 3,)]


def test_seated_learner_sends_only_what_it_is_told() -> None:
    """Doing nothing every step sends nothing: the seat's scripted strategy never wakes."""
    env = MarketParallelEnv(short_pga(4))
    env.reset(seed=2)
    episode = env.episode
    assert episode is not None
    learner = episode.learners["learner0"]
    after_setup = learner.sent  # its strategy's set-up (token approvals) still runs
    while env.agents:
        env.step({})
    assert learner.sent == after_setup
    scripted = MarketParallelEnv(short_pga(4))  # the same seat, had it been told to trade
    scripted.reset(seed=2)
    while scripted.agents:
        scripted.step({"learner0": [1, 0, 0, 0, 1, 0, 0]})
    assert scripted.episode is not None
    assert scripted.episode.learners["learner0"].sent == after_setup + 4


def test_feature_names_match_the_observation() -> None:
    env = MarketParallelEnv(short_pga(2))
    observations, _ = env.reset(seed=1)
    assert len(env.feature_names) == observations["learner0"].shape[0]
    assert env.feature_names[:4] == ("base_fee_gwei", "since_block_s", "own_pending", "eth")
    assert "balance_USDC" in env.feature_names
    assert env.feature_names[-1] == "slot3_age_s"
