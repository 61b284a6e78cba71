"""Per-run cassette directories for comparisons and sweeps.

A language-model agent records to or replays from ``<cassette_dir>/<agent name>.jsonl``
(``agentbed.agents.llm.settings``). ``testbed compare`` and ``testbed sweep`` run one file many
times (labels, cells, seeds); with one directory the runs would overwrite each other's
recordings, or replay another run's. Each run of those commands therefore records to and
replays from its own sub-directory, named like its output directory:
``<cassette_dir>/<label>/seed<N>`` for a comparison, ``<cassette_dir>/<cell id>/seed<N>`` for a
sweep. The same command with ``mode = "replay"`` finds every run's cassettes again.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentbed.experiments.schema import Scenario

CASSETTE_MODES = frozenset({"record", "replay"})
"""Modes in which an agent reads or writes its ``cassette_dir``."""


def per_run_cassettes(scenario: Scenario, *parts: str) -> Scenario:
    """``scenario`` with the ``cassette_dir`` of every group that records or replays extended
    by ``parts`` (the run's sub-path); the scenario itself when no group does."""
    groups = []
    changed = False
    for group in scenario.agents:
        params = group.params
        directory = params.get("cassette_dir")
        if params.get("mode") in CASSETTE_MODES and isinstance(directory, str) and directory:
            sub = str(PurePosixPath(directory, *parts))
            group = dataclasses.replace(group, params={**params, "cassette_dir": sub})
            changed = True
        groups.append(group)
    return dataclasses.replace(scenario, agents=tuple(groups)) if changed else scenario
