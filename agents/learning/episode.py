"""One episode of a market scenario with learners: build, observe, act, advance, reward.

:class:`MarketEpisode` is the environment's engine without any learning library: the scenario
is built with the episode's seed as its root seed (so every random stream of the run, the
chain's, the latency model's, each scripted agent's and the reference price's, derives from
it), the learners are seated (:func:`agentbed.agents.learning.stepping.seat`), and each step
is one block: every learner observes at the decision time, its action is sent, the loop runs
through the block to the next decision time, and each learner's reward is its profit over that
block (:mod:`agentbed.agents.learning.reward`). The PettingZoo and Gymnasium classes
(:mod:`agentbed.agents.learning.parallel`, :mod:`agentbed.agents.learning.single`) wrap it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentbed.agents.learning.actions import action_nvec, check_action, plan
from agentbed.agents.learning.config import InvalidAction, LearningConfig, LearningConfigError
from agentbed.agents.learning.observation import encode, layout, visible_swaps
from agentbed.agents.learning.reward import step_profits
from agentbed.agents.learning.stepping import SteppedSimulation, seat

if TYPE_CHECKING:
    import numpy as np

    from agentbed.agents.agent import Agent
    from agentbed.agents.market.world import Market
    from agentbed.experiments.schema import Scenario


def learner_names(scenario: Scenario) -> tuple[str, ...]:
    """The agents of the scenario's ``learner = true`` groups, in scenario order.

    Raises:
        LearningConfigError: not a market scenario, or no group is marked as learners.
    """
    if scenario.study != "market":
        raise LearningConfigError(
            f"{scenario.path}: the learning environment encodes market scenarios (pools and "
            f"swaps); this one's study is {scenario.study!r}"
        )
    names = tuple(n for g in scenario.agents if g.learner for n in g.agent_names())
    if not names:
        raise LearningConfigError(
            f"{scenario.path}: no learners: mark an [[agents]] entry with learner = true"
        )
    return names


def load(scenario: Scenario | str | Path) -> Scenario:
    """A scenario, loaded from a path unless it already is one."""
    if isinstance(scenario, str | Path):
        from agentbed.experiments.parse import load_scenario

        return load_scenario(scenario)
    return scenario


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step gives back.

    Attributes:
        rewards: Each learner's profit over the step's block, in the numeraire.
        skipped: Why a learner's action sent nothing, by learner ("" when it sent something or
            chose to do nothing).
        blocks: Numbers of the blocks sealed during the step.
        done: Whether the scenario's last block is built.
    """

    rewards: Mapping[str, float]
    skipped: Mapping[str, str]
    blocks: tuple[int, ...]
    done: bool


class MarketEpisode:
    """A market scenario run block by block with its learners' actions taken from outside.

    Args:
        scenario: The scenario (with ``learner = true`` on one or more ``[[agents]]`` entries).
        seed: Root seed of this episode.
        config: Observation and action spaces, decision time.
        policy: Ordering policy name (default: the scenario's).
        seated: False leaves the learners to their scripted strategy (they then take no
            actions from outside): the same run as a plain one, stepped and rewarded the same
            way, the baseline a learned policy is compared with.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        config: LearningConfig,
        policy: str | None = None,
        *,
        seated: bool = True,
    ) -> None:
        from agentbed.experiments.build import build

        self.names = learner_names(scenario)
        self.config = config
        lead = self._lead(config, scenario.run.block_time_ms)  # before the costly build
        sim, world = build(scenario, policy=policy, seed=seed)
        self.market: Market = world  # type: ignore[assignment]  # a market study's world
        self.learners: dict[str, Agent] = {a.name: a for a in sim.agents if a.name in self.names}
        self.seated = seated
        for agent in self.learners.values():
            if seated:
                seat(agent)
        self.sim = SteppedSimulation(
            sim.chain,
            sim.agents,
            sim.blocks,
            sim.seed,
            sim.market,
            decide_before_ms=lead,
        )
        market_config = scenario.sections["market"]
        self.numeraire: str = market_config.numeraire
        self.eth_price: float | None = market_config.eth_price
        self.nvec = action_nvec(len(self.market.pools), config)
        self.sim.begin()

    @staticmethod
    def _lead(config: LearningConfig, interval: int) -> int:
        if config.decide_before_ms >= interval:
            raise LearningConfigError(
                f"decide_before_ms ({config.decide_before_ms}) must be below the scenario's "
                f"block interval ({interval} ms)"
            )
        return config.decide_before_ms

    @staticmethod
    def layout(scenario: Scenario, config: LearningConfig) -> tuple[str, ...]:
        """The observation's entry names for ``scenario`` (known before any episode is built)."""
        symbols = tuple(
            sorted({s for p in scenario.sections["pools"] for s in (p.token0, p.token1)})
        )
        return layout(symbols, len(scenario.sections["pools"]), config.top_n)

    @property
    def done(self) -> bool:
        """Whether the scenario's last block is built."""
        return self.sim.done

    def observe(self, name: str) -> np.ndarray[Any, Any]:
        """Learner ``name``'s observation at the current decision time."""
        agent = self.learners[name]
        view = self.sim.view_of(agent)
        swaps = visible_swaps(view, self.market, agent.address)
        return encode(view, self.market, agent.address, self.config.top_n, swaps)

    def step(self, actions: Mapping[str, Any]) -> StepResult:
        """Send each learner's action (a missing learner does nothing) and run one block.

        Raises:
            InvalidAction: an action is outside the space, or names no learner of the episode.
        """
        unknown = sorted(set(actions) - set(self.learners))
        if actions and not self.seated:
            raise InvalidAction("the learners follow their scripted strategy here: no actions")
        if unknown:
            raise InvalidAction(f"actions for agents that are not learners: {', '.join(unknown)}")
        checked = {name: check_action(name, a, self.nvec) for name, a in actions.items()}
        skipped: dict[str, str] = dict.fromkeys(self.names, "")
        for name in self.names:  # scenario order: the same seed sends in the same order
            if name not in checked:
                continue
            agent = self.learners[name]
            view = self.sim.view_of(agent)
            swaps = visible_swaps(view, self.market, agent.address)
            intents, skipped[name] = plan(
                checked[name], view, self.market, agent.address, swaps, self.config
            )
            self.sim.act(agent, intents)
        blocks = self.sim.advance()
        seats = {agent.address: name for name, agent in self.learners.items()}
        rewards = step_profits(
            self.sim.chain,
            self.market,
            blocks,
            seats,
            numeraire=self.numeraire,
            eth_price=self.eth_price,
        )
        return StepResult(rewards, skipped, blocks, self.sim.done)
