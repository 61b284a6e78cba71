"""Scenario files: one TOML file describes a whole experiment, and ``build`` sets it up.

A scenario names the run (seed, blocks, block time, gas limit, base fee, ordering policy), the
latency model, the agents (for each group a strategy ``kind`` of the scenario's study, a count,
the parameters passed to the strategy's class, token funding, a wake schedule and an optional
per-agent latency), the tables of its study, and optional variants of itself.
``docs/scenarios.md`` documents every key.

This module is the front of the scenario package; the parts live in their own modules:

* :mod:`.schema`: the records (:class:`Scenario`, ...) and :class:`ScenarioError`;
* :mod:`agentbed.agents.config`: the file's tables by key path, and :class:`ScenarioError`;
* :mod:`.parse` and :mod:`.agent_tables`: reading the file and validating it (the study reads
  its own tables);
* :mod:`.overrides`: key paths, and the values variants and sweeps set by them;
* :mod:`.build`: the chain, the study's world and the agents, from one root seed;
* :mod:`.studies`: which study a file is a run of.
"""

from __future__ import annotations

from agentbed.agents.config import TOKEN_UNIT, Table
from agentbed.experiments.build import build, make_latency
from agentbed.experiments.overrides import apply_overrides, split_key_path
from agentbed.experiments.parse import load_scenario, parse_scenario, read_scenario_toml
from agentbed.experiments.schema import (
    MIN_GAS_LIMIT,
    AgentGroup,
    LatencyConfig,
    RunConfig,
    Scenario,
    ScenarioError,
    ScheduleConfig,
)

__all__ = [
    "MIN_GAS_LIMIT",
    "TOKEN_UNIT",
    "AgentGroup",
    "LatencyConfig",
    "RunConfig",
    "Scenario",
    "ScenarioError",
    "ScheduleConfig",
    "Table",
    "apply_overrides",
    "build",
    "load_scenario",
    "make_latency",
    "parse_scenario",
    "read_scenario_toml",
    "split_key_path",
]
