"""Helpers shared by the scenario, runner and CLI tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.agent import Action, Agent, AgentView
from agentbed.agents.market.study import STUDY as MARKET
from agentbed.agents.market.study import MarketStudy
from agentbed.experiments.scenario import ScenarioError, load_scenario


class Bomb(Agent):
    """Interrupts the run (like Ctrl-C) once ``after`` blocks have been built."""

    def __init__(self, *args: Any, after: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after = after
        self.first: int | None = None

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.first is None:
            self.first = view.head.number
        if view.head.number - self.first >= self.after:
            raise KeyboardInterrupt
        return ()


BOMB = """
[[agents]]
kind = "bomb"
schedule = { kind = "periodic", period_ms = 700 }
params = { after = 3 }
"""
assert isinstance(MARKET, MarketStudy)
BOMB_STUDY = replace(MARKET, strategies={**MARKET.strategies, "bomb": Bomb})
"""The market study with one more strategy, ``bomb``; a scenario names it by import path."""


def with_bomb(text: str) -> str:
    """A market scenario's text run by :data:`BOMB_STUDY`, with a ``bomb`` group added."""
    return f'study = "scenario_helpers:BOMB_STUDY"\n{text}{BOMB}'


def with_blocks(text: str, blocks: int) -> str:
    """Scenario text with ``[run] blocks`` set to ``blocks``."""
    changed, count = re.subn(r"(?m)^blocks = \d+", f"blocks = {blocks}", text)
    assert count == 1, "the scenario has no [run] blocks line to change"
    return changed


def load_error(path: Path, key: str, fragment: str) -> ScenarioError:
    """The error of loading ``path``: one line naming the file and ``key``, with ``fragment``."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message
    return info.value
