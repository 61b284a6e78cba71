"""The opening lines every study's report starts with: what was run, with which seed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentbed.experiments.scenario import Scenario


def intro_lines(scenario: Scenario, seed: int, setting: str) -> list[str]:
    """The introduction of a run's report: the description and what the scenario holds.

    Args:
        scenario: The scenario that was run (a variant's, when it is one).
        seed: The run's root seed.
        setting: The study's own setting in a few words (its pools, its economy's rules).
    """
    run = scenario.run
    kinds = ", ".join(
        f"{g.count} {g.kind}" if g.name == g.kind else f"{g.count} {g.kind} ({g.name})"
        for g in scenario.agents
        if g.count
    )
    intro = [
        f"Scenario `{scenario.path}` ({run.name}), seed {seed}: {run.blocks} blocks of "
        f"{run.block_time_ms / 1000:g} s, gas limit {run.gas_limit:,}, {setting}; "
        f"agents: {kinds}.",
    ]
    if scenario.variant:
        changes = ", ".join(f"`{k}` = {v!r}" for k, v in scenario.variant_overrides)
        intro += ["", f"Variant **{scenario.variant}**: {changes}."]
    if run.description:
        intro = [run.description, "", *intro]
    return intro
