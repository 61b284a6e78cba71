"""A multi-agent learning environment over the simulation: PettingZoo and Gymnasium.

A scenario names its **learners** (``learner = true`` on an ``[[agents]]`` entry); the
environment takes their decisions, block by block, while every other agent keeps its scripted
strategy. ``MarketParallelEnv`` is the PettingZoo parallel API, ``SingleLearnerEnv`` one seat
as a ``gymnasium.Env``; both need the ``learn`` extra (``pip install agentbed[learn]``) and are
imported only when asked for, so the package works without it. See ``docs/learning.md``.
"""

from __future__ import annotations

from typing import Any

from agentbed.agents.learning.config import InvalidAction, LearningConfig, LearningConfigError

__all__ = [
    "InvalidAction",
    "LearningConfig",
    "LearningConfigError",
    "MarketParallelEnv",
    "SingleLearnerEnv",
]


def __getattr__(name: str) -> Any:
    # The environments import pettingzoo / gymnasium: only load them on first use.
    if name == "MarketParallelEnv":
        from agentbed.agents.learning.parallel import MarketParallelEnv

        return MarketParallelEnv
    if name == "SingleLearnerEnv":
        from agentbed.agents.learning.single import SingleLearnerEnv

        return SingleLearnerEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
