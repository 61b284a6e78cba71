"""The llm_market scenario: its LLM group's parameters are checked when the file is read, and
the bundled scenario runs offline (the scripted responder) with the same bytes twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.config import ScenarioError
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "llm_market.toml"
PARAMS = "agents[3].params"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mode", "rewind", "mode must be one of live, record, replay"),
        ("mode", "record", 'cassette_dir is required with mode = "record"'),
        ("backend", "http", 'base_url is required with backend = "http"'),
        ("max_tool_calls", 0, "max_tool_calls must be > 0"),
        ("max_reserve_fraction", 2.0, "max_reserve_fraction must be in (0, 1]"),
        ("tip_gwei", 80.0, "tip_gwei must be in [0, max_tip_gwei (50.0)]"),
        ("temperature", "hot", "expected a number"),
    ],
)
def test_bad_llm_params_are_reported_with_their_key(key: str, value: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_with_overrides(SCENARIO, [(f"{PARAMS}.{key}", value)])
    assert f"{PARAMS}.{key}" in str(caught.value)
    assert message in str(caught.value)


def test_an_unknown_cost_token_stops_the_run_with_its_name(tmp_path: Path) -> None:
    scenario = load_with_overrides(SCENARIO, [("run.blocks", 1), (f"{PARAMS}.cost_token", "DAI")])
    with pytest.raises(ValueError, match="cost_token 'DAI' is not a market token"):
        run_scenario(scenario, tmp_path)


def test_the_scenario_runs_offline_with_identical_files_twice(tmp_path: Path) -> None:
    scenario = load_with_overrides(SCENARIO, [("run.blocks", 5)])
    first = run_scenario(scenario, tmp_path / "a")
    second = run_scenario(scenario, tmp_path / "b")
    names = sorted(p.name for p in first.out_dir.iterdir())
    for name in names:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name
    summary = first.report.summary
    assert summary["llm"]["total"]["requests"] > 0
    assert summary["closure"]["closes"] is True
    charged = summary["llm"]["total"]["compute_charged_wei"]
    assert charged > 0
    sink = [h for h in summary["closure"]["holders"] if h["kind"] == "other"]
    assert [h["tokens_wei"] for h in sink] == [{"USDC": charged}]
