"""The PettingZoo parallel environment over a market scenario (needs the ``learn`` extra).

Every learner of the scenario (``learner = true`` on its ``[[agents]]`` entry) is one agent of
the environment; the scenario's other agents keep their scripted strategies. One step is one
block: at ``decide_before_ms`` before each block every learner gets its observation (a ``Box``,
:mod:`agentbed.agents.learning.observation`) and acts (a ``MultiDiscrete``,
:mod:`agentbed.agents.learning.actions`); its reward is its profit over that block at reference
prices, net of gas (:mod:`agentbed.agents.learning.reward`). An episode is the scenario's
``[run] blocks``; at its end every learner is truncated. ``reset(seed=s)`` builds the scenario
afresh with root seed ``s`` (None: the scenario's seed), so the same seed and actions give the
same observations and rewards.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentbed.agents.learning.actions import action_nvec
from agentbed.agents.learning.config import LearningConfig
from agentbed.agents.learning.episode import MarketEpisode, learner_names, load
from agentbed.agents.learning.extra import base_class

if TYPE_CHECKING:
    import numpy as np
    from gymnasium import spaces

    from agentbed.experiments.schema import Scenario

_ParallelEnv = base_class("pettingzoo", "ParallelEnv")


class MarketParallelEnv(_ParallelEnv):  # type: ignore[misc,valid-type]  # optional base
    """A market scenario as a PettingZoo ``ParallelEnv``.

    Args:
        scenario: A scenario or its path; one or more ``[[agents]]`` entries say
            ``learner = true``.
        config: Spaces and decision time (default: ``LearningConfig()``).
        policy: Ordering policy (default: the scenario's).

    Raises:
        LearningConfigError: the scenario has no learners or is not a market scenario, or the
            decision time does not fit in its block interval.
        ScenarioError: the scenario file is broken.
    """

    metadata = {"name": "agentbed_market_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        scenario: Scenario | str | Path,
        config: LearningConfig | None = None,
        *,
        policy: str | None = None,
    ) -> None:
        super().__init__()  # without the extra: the ImportError that says how to install it
        self.scenario = load(scenario)
        self.config = config or LearningConfig()
        self.policy = policy
        self.render_mode: str | None = None  # nothing to draw (see ``render``)
        self.possible_agents: list[str] = list(learner_names(self.scenario))
        self.agents: list[str] = []
        self.feature_names = MarketEpisode.layout(self.scenario, self.config)
        pools = len(self.scenario.sections["pools"])
        import numpy as np
        from gymnasium import spaces

        self._obs_space = spaces.Box(
            -np.inf, np.inf, shape=(len(self.feature_names),), dtype=np.float32
        )
        self._act_space = spaces.MultiDiscrete(list(action_nvec(pools, self.config)))
        self.episode: MarketEpisode | None = None

    def observation_space(self, agent: str) -> spaces.Box:
        """The same ``Box`` for every learner (``feature_names`` names its entries)."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        """The same ``MultiDiscrete`` for every learner (``actions.COMPONENTS``)."""
        return self._act_space

    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, dict[str, Any]]]:
        """Build the scenario with root seed ``seed`` (None: the scenario's) and run it to the
        first decision time."""
        root = self.scenario.run.seed if seed is None else seed
        self.episode = MarketEpisode(self.scenario, root, self.config, self.policy)
        self.agents = list(self.possible_agents)
        observations = {name: self.episode.observe(name) for name in self.agents}
        infos: dict[str, dict[str, Any]] = {
            name: {"block": self.episode.sim.chain.block_number} for name in self.agents
        }
        return observations, infos

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray[Any, Any]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Send the learners' actions, build one block, and return what each learner sees.

        Raises:
            InvalidAction: an action is outside its learner's space.
            RuntimeError: called before ``reset`` or after the episode ended.
        """
        if self.episode is None or not self.agents:
            raise RuntimeError("call reset() before step(), and again after the episode ends")
        result = self.episode.step(actions)
        observations = {name: self.episode.observe(name) for name in self.agents}
        rewards = {name: float(result.rewards[name]) for name in self.agents}
        terminations = dict.fromkeys(self.agents, False)
        truncations = dict.fromkeys(self.agents, result.done)
        infos: dict[str, dict[str, Any]] = {
            name: {"skipped": result.skipped[name], "blocks": result.blocks} for name in self.agents
        }
        if result.done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> None:
        """Nothing to draw: the run's event log and reports are the scenario's own."""

    def close(self) -> None:
        """Drop the episode."""
        self.episode = None


def market_aec_env(
    scenario: Scenario | str | Path,
    config: LearningConfig | None = None,
    *,
    policy: str | None = None,
) -> Any:
    """The same environment through PettingZoo's AEC API (learners act in turn, in scenario
    order; the block is built once all have acted), by ``pettingzoo.utils.parallel_to_aec``."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(MarketParallelEnv(scenario, config, policy=policy))
