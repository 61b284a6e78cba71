"""agentbed: a local blockchain testbed for agent economies.

The names a user needs, importable from the package itself::

    from agentbed import Chain, Simulation, Agent, TxIntent, BundleIntent
    from agentbed import load_scenario, run_scenario

They are loaded on first use, so ``import agentbed`` (and the pytest plugin) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent, BundleIntent, TxIntent
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.experiments.runner import run_scenario
    from agentbed.experiments.scenario import load_scenario

_FACE: dict[str, str] = {
    "Chain": "agentbed.chain.node",
    "Simulation": "agentbed.agents.sim",
    "Agent": "agentbed.agents.agent",
    "TxIntent": "agentbed.agents.agent",
    "BundleIntent": "agentbed.agents.agent",
    "load_scenario": "agentbed.experiments.scenario",
    "run_scenario": "agentbed.experiments.runner",
}

__all__ = [
    "Agent",
    "BundleIntent",
    "Chain",
    "Simulation",
    "TxIntent",
    "load_scenario",
    "run_scenario",
]


def __getattr__(name: str) -> Any:
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentbed' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
