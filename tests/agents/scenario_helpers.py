"""Helpers shared by the scenario, runner and CLI tests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agents.agent import Action, Agent, AgentView


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


def with_blocks(text: str, blocks: int) -> str:
    """Scenario text with ``[run] blocks`` set to ``blocks``."""
    changed, count = re.subn(r"(?m)^blocks = \d+", f"blocks = {blocks}", text)
    assert count == 1, "the scenario has no [run] blocks line to change"
    return changed
