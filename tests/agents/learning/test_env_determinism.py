"""A seeded reset gives the same trajectory in another process; rewards are the accounting's."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from learnkit import ROOT, short_pga

from agentbed.agents.learning import LearningConfig, SingleLearnerEnv
from agentbed.agents.learning.episode import MarketEpisode
from agentbed.agents.market.accounting import account_run

# Front-run the largest visible swap at the second tip step, then a public sandwich, a plain
# swap, a bundled front-run and nothing: every kind of action the space offers.
ACTIONS = (
    [2, 0, 0, 1, 1, 0, 0],
    [3, 0, 0, 1, 2, 0, 0],
    [1, 0, 1, 2, 0, 0, 0],
    [2, 0, 0, 0, 3, 1, 0],
)
TRAJECTORY = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from learnkit import short_pga
from agentbed.agents.learning import SingleLearnerEnv
env = SingleLearnerEnv(short_pga({blocks}))
obs, _ = env.reset(seed={seed})
digest = hashlib.sha256(obs.tobytes())
for action in {actions!r}:
    obs, reward, _, _, _ = env.step(action)
    digest.update(obs.tobytes())
    digest.update(repr(reward).encode())
print(digest.hexdigest())
"""


def trajectory_digest(seed: int, blocks: int) -> str:
    """SHA-256 over the observations and rewards of ``ACTIONS`` after ``reset(seed=seed)``."""
    env = SingleLearnerEnv(short_pga(blocks))
    obs, _ = env.reset(seed=seed)
    digest = hashlib.sha256(obs.tobytes())
    for action in ACTIONS:
        obs, reward, _, _, _ = env.step(action)
        digest.update(obs.tobytes())
        digest.update(repr(reward).encode())
    return digest.hexdigest()


def test_seeded_reset_gives_identical_trajectories_in_two_processes() -> None:
    here = trajectory_digest(seed=3, blocks=4)
    code = TRAJECTORY.format(tests=str(ROOT / "tests"), blocks=4, seed=3, actions=ACTIONS)
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == here
    assert trajectory_digest(seed=4, blocks=4) != here  # the seed does reach the run


def test_rewards_add_up_to_the_accounted_profit_when_prices_stay() -> None:
    """With a still reference price the accounting's per-agent profit over the run is the
    sum of the per-block rewards (both value flows at the same prices)."""
    scenario = short_pga(4, ("market.volatility", 0.0))
    episode = MarketEpisode(scenario, 6, LearningConfig())
    total = 0.0
    for action in ACTIONS:
        if episode.done:
            break
        total += episode.step({"learner0": action}).rewards["learner0"]
    assert episode.done
    config = scenario.sections["market"]
    account = account_run(
        episode.sim, episode.market, numeraire=config.numeraire, eth_price=config.eth_price
    )
    (learner,) = [a for a in account.agents if a.name == "learner0"]
    assert learner.gas_spent > 0  # it did send, so the comparison is not 0 == 0
    assert total == pytest.approx(learner.profit, rel=1e-9, abs=1e-9)


def test_unseated_episode_is_the_plain_run() -> None:
    """``seated=False`` steps the scripted run without changing it: the same blocks as
    ``Simulation.run`` with the same seed."""
    from agentbed.experiments.build import build

    scenario = short_pga(3)
    episode = MarketEpisode(scenario, 8, LearningConfig(), seated=False)
    while not episode.done:
        episode.step({})
    sim, _ = build(scenario, seed=8)
    sim.run()
    head = sim.chain.block_number
    assert episode.sim.chain.block_number == head
    assert episode.sim.chain.block(head).hash == sim.chain.block(head).hash
