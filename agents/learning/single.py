"""A single learner's seat as a Gymnasium environment (needs the ``learn`` extra).

The scenario must name exactly one learner (or ``learner`` picks one of several: the others
then do nothing every step). Spaces, steps and reward are those of
:class:`~agentbed.agents.learning.parallel.MarketParallelEnv`; the episode ends truncated after
the scenario's last block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentbed.agents.learning.config import LearningConfig, LearningConfigError
from agentbed.agents.learning.extra import base_class
from agentbed.agents.learning.parallel import MarketParallelEnv

if TYPE_CHECKING:
    import numpy as np

    from agentbed.experiments.schema import Scenario

_Env = base_class("gymnasium", "Env")


class SingleLearnerEnv(_Env):  # type: ignore[misc,valid-type]  # optional base
    """One learner of a market scenario as a ``gymnasium.Env``.

    Args:
        scenario: A scenario or its path.
        config: Spaces and decision time (default: ``LearningConfig()``).
        learner: The learner to seat (required when the scenario names several).
        policy: Ordering policy (default: the scenario's).

    Raises:
        LearningConfigError: no learner, or several and ``learner`` does not name one of them.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        scenario: Scenario | str | Path,
        config: LearningConfig | None = None,
        *,
        learner: str | None = None,
        policy: str | None = None,
    ) -> None:
        super().__init__()  # without the extra: the ImportError that says how to install it
        self.parallel = MarketParallelEnv(scenario, config, policy=policy)
        names = self.parallel.possible_agents
        if learner is None and len(names) > 1:
            raise LearningConfigError(
                f"the scenario has {len(names)} learners ({', '.join(names)}): name one"
            )
        if learner is not None and learner not in names:
            raise LearningConfigError(f"no learner {learner!r}; learners: {', '.join(names)}")
        self.learner = learner or names[0]
        self.observation_space = self.parallel.observation_space(self.learner)
        self.action_space = self.parallel.action_space(self.learner)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
        """Build the scenario with root seed ``seed`` (None: the scenario's)."""
        super().reset(seed=seed)
        observations, infos = self.parallel.reset(seed=seed, options=options)
        return observations[self.learner], infos[self.learner]

    def step(self, action: Any) -> tuple[np.ndarray[Any, Any], float, bool, bool, dict[str, Any]]:
        """Send the action, build one block; return observation, reward, done flags, info."""
        obs, rewards, terms, truncs, infos = self.parallel.step({self.learner: action})
        return (
            obs[self.learner],
            rewards[self.learner],
            terms[self.learner],
            truncs[self.learner],
            infos[self.learner],
        )
