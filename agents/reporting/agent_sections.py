"""Agents that add their own section to a run's ``summary.json``.

Most agents are described by the study's accounting alone; some carry numbers of their own that
no chain log holds (a language-model agent's token use and refused tool calls). Such an agent
has a ``summary_section`` name and a ``summary_entry()``; :func:`agent_sections` gathers the
entries of every such agent under its section, by agent name, with a ``total`` of each integer
field over the section's agents. The runner adds the sections to every study's summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ReportingAgent(Protocol):
    """An agent with numbers of its own for ``summary.json``."""

    name: str
    summary_section: str

    def summary_entry(self) -> dict[str, Any]:
        """The agent's entry (JSON-serializable)."""
        ...


def agent_sections(agents: Iterable[object]) -> dict[str, dict[str, Any]]:
    """``{section: {"agents": {name: entry}, "total": {field: sum}}}`` over ``agents``; empty
    when no agent reports a section of its own."""
    sections: dict[str, dict[str, Any]] = {}
    for agent in agents:
        if not isinstance(agent, ReportingAgent):
            continue
        section = sections.setdefault(agent.summary_section, {"agents": {}, "total": {}})
        entry = agent.summary_entry()
        section["agents"][agent.name] = entry
        for key, value in entry.items():
            if isinstance(value, int) and not isinstance(value, bool):
                section["total"][key] = section["total"].get(key, 0) + value
    return sections
