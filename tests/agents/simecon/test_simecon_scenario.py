"""A small sim-economy scenario end to end: its file's checks, a run's summary, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentbed.agents.config import Table
from agentbed.agents.simecon.study import parse_world
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[3]

SMALL = """
[run]
seed = 3
blocks = 9
block_time_ms = 2_000
policy = "fifo"

[sim_economy]
turns = 4
genesis_tokens = 200

[[agents]]
kind = "rule"
name = "agent_"
count = 3

[[agents]]
kind = "meter"
count = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sim.toml"
    path.write_text(text)
    return path


def test_shipped_scenario_is_the_papers_world() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "sim_economy.toml")
    assert scenario.study == "sim_economy"
    params = scenario.sim_economy
    assert (params.turns, params.genesis_tokens, params.block_threshold) == (60, 1_000, 20.0)
    assert scenario.agent_count == 9 and scenario.run.blocks == 121


def test_revert_when_the_file_has_two_meters(tmp_path: Path) -> None:
    text = SMALL.replace('kind = "meter"\ncount = 1', 'kind = "meter"\ncount = 2')
    with pytest.raises(ScenarioError, match="one meter"):
        load_scenario(write(tmp_path, text))


def test_a_short_run_closes_the_turns_its_blocks_allow(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, SMALL.replace("blocks = 9", "blocks = 5")))
    summary = run_scenario(scenario, tmp_path / "out").report.summary
    assert summary["turns"] == 2  # two blocks a turn after the first
    assert sum(summary["actions"].values()) == 3 * 2 and summary["closure"]["closes"]


def test_world_table_rejects_a_decay_above_one() -> None:
    with pytest.raises(ScenarioError, match="burn_decay"):
        parse_world(Table("f.toml", "sim_economy", {"burn_decay": 1.5}))


def test_small_run_plays_every_turn_closes_and_repeats(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, SMALL))
    first = run_scenario(scenario, tmp_path / "a")
    summary = first.report.summary
    assert summary["turns"] == 4
    assert sum(summary["actions"].values()) == 3 * 4  # every agent acted every turn
    assert summary["closure"]["closes"] and summary["closure"]["credit"]["residual"] == 0
    # 200 tokens and ~83 per billed turn: rich enough to mine, with two blocks a turn at least
    assert summary["turns_with_block"] == 4
    assert summary["actions"]["mine"] >= 8
    again = run_scenario(scenario, tmp_path / "b")
    assert (tmp_path / "a" / "summary.json").read_text() == (
        tmp_path / "b" / "summary.json"
    ).read_text()
    rows = (tmp_path / "a" / "turns.csv").read_text().splitlines()
    assert len(rows) == 1 + 4
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["label"] == again.report.label
