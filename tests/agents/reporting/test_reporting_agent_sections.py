"""Agents' own summary sections: gathered by section and agent name, with integer totals."""

from __future__ import annotations

from typing import Any

from agentbed.agents.reporting.agent_sections import agent_sections


class Counting:
    summary_section = "llm"

    def __init__(self, name: str, tokens: int) -> None:
        self.name = name
        self.tokens = tokens

    def summary_entry(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "model": "m", "ok": True, "events": [1]}


class Plain:
    name = "plain"


def test_entries_are_gathered_by_section_with_integer_totals() -> None:
    sections = agent_sections([Counting("a", 3), Plain(), Counting("b", 4)])
    assert sections == {
        "llm": {
            "agents": {
                "a": {"tokens": 3, "model": "m", "ok": True, "events": [1]},
                "b": {"tokens": 4, "model": "m", "ok": True, "events": [1]},
            },
            "total": {"tokens": 7},
        }
    }


def test_no_reporting_agent_gives_no_section() -> None:
    assert agent_sections([Plain()]) == {}
