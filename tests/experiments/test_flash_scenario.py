"""``scenarios/flash.toml``: two pools of one pair and a funded lender; its ``no_flash`` variant
leaves the capital-free searchers without a source; short runs show both."""

from __future__ import annotations

import json
from pathlib import Path

from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[2]
FLASH = ROOT / "scenarios" / "flash.toml"


def test_flash_loads_two_pools_of_one_pair_a_lender_and_searchers_without_tokens() -> None:
    scenario = load_scenario(FLASH)
    assert [{p.token0, p.token1} for p in scenario.pools] == [{"WETH", "USDC"}] * 2
    assert scenario.flash.liquidity and scenario.flash.fee_bps == 9
    searchers = scenario.agents[2]
    assert searchers.kind == "flash_arbitrageur" and not searchers.funding
    variant = load_with_overrides(FLASH, list(scenario.variants["no_flash"]))
    assert variant.flash.liquidity == {} and variant.agents[2].params["sources"] == []


def _summary(tmp_path: Path, name: str, overrides: list[tuple[str, object]]) -> dict:
    scenario = load_with_overrides(FLASH, [*overrides, ("run.blocks", 10)])
    run_scenario(scenario, tmp_path / name)
    return json.loads((tmp_path / name / "summary.json").read_text())


def test_capital_free_searchers_trade_only_with_flash_liquidity(tmp_path: Path) -> None:
    base = _summary(tmp_path, "base", [])
    flash = base["by_kind"]["flash_arbitrageur"]
    assert flash["included"] > 0 and flash["failed"] < flash["included"]  # some cycles landed
    assert base["closure"]["closes"]
    assert base["searchers"]["searchers"] == 5
    variant = load_scenario(FLASH).variants["no_flash"]
    without = _summary(tmp_path, "no_flash", list(variant))
    assert without["by_kind"]["flash_arbitrageur"]["included"] == 0  # beyond its set-up
    assert without["searchers"]["profitable"] <= 1  # only the capitalised arbitrageur can earn
