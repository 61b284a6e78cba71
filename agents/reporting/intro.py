"""The opening lines every study's report starts with: what was run, with which seed(s)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentbed.experiments.scenario import Scenario


def display_path(path: str | Path) -> str:
    """A scenario's path as reports show it, never absolute: relative paths as given, an
    absolute one relative to the working directory when it lies below it, else its file name
    (a bundled scenario's, say), so no report names the machine's directories."""
    given = Path(path)
    if not given.is_absolute():
        return given.as_posix()
    try:
        return given.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return given.name


def seeds_phrase(seed: int | Sequence[int]) -> str:
    """``seed 7``, or ``seeds 7-11 (5)`` for a comparison over several."""
    if isinstance(seed, int):
        return f"seed {seed}"
    seeds = list(seed)
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return f"seeds {seeds[0]}-{seeds[-1]} ({len(seeds)})"


def intro_lines(scenario: Scenario, seed: int | Sequence[int], setting: str) -> list[str]:
    """The introduction of a report: the description and what the scenario holds.

    Args:
        scenario: The scenario that was run (a variant's, when it is one).
        seed: The run's root seed, or a comparison's seeds.
        setting: The study's own setting in a few words (its pools, its economy's rules).
    """
    run = scenario.run
    kinds = ", ".join(
        f"{g.count} {g.kind}" if g.name == g.kind else f"{g.count} {g.kind} ({g.name})"
        for g in scenario.agents
        if g.count
    )
    intro = [
        f"Scenario `{display_path(scenario.path)}` ({run.name}), {seeds_phrase(seed)}: "
        f"{run.blocks} blocks of "
        f"{run.block_time_ms / 1000:g} s, gas limit {run.gas_limit:,}, {setting}; "
        f"agents: {kinds}.",
    ]
    if scenario.variant:
        changes = ", ".join(f"`{k}` = {v!r}" for k, v in scenario.variant_overrides)
        intro += ["", f"Variant **{scenario.variant}**: {changes}."]
    if run.description:
        intro = [run.description, "", *intro]
    return intro
