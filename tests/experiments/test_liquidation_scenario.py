"""``scenarios/liquidation.toml``: a lending vault on a pool's spot price, a panic sale, and
liquidators with and without flash liquidity; short runs show both variants."""

from __future__ import annotations

import json
from pathlib import Path

from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[2]
LIQUIDATION = ROOT / "scenarios" / "liquidation.toml"


def test_liquidation_loads_a_vault_a_lender_and_liquidators_without_tokens() -> None:
    scenario = load_scenario(LIQUIDATION)
    assert scenario.run.blocks <= 20
    lending = scenario.lending
    assert (lending.collateral, lending.debt, lending.bonus_bps) == ("WETH", "USDC", 500)
    kinds = {group.kind: group for group in scenario.agents}
    assert not kinds["flash_liquidator"].funding and kinds["liquidator"].funding
    variant = load_with_overrides(LIQUIDATION, list(scenario.variants["no_flash"]))
    assert variant.flash.liquidity == {}
    for name, lender_funded in (("thin", True), ("thin_no_flash", False)):
        thin = load_with_overrides(LIQUIDATION, list(scenario.variants[name]))
        assert bool(thin.flash.liquidity) is lender_funded
        liquidator = next(g for g in thin.agents if g.kind == "liquidator")
        assert dict(liquidator.funding) == {"USDC": 10_000 * 10**18}


def _summary(tmp_path: Path, name: str, overrides: list[tuple[str, object]]) -> dict:
    scenario = load_with_overrides(LIQUIDATION, [*overrides, ("run.blocks", 6)])
    run_scenario(scenario, tmp_path / name)
    return json.loads((tmp_path / name / "summary.json").read_text())


def test_capital_free_liquidators_liquidate_only_with_flash_liquidity(tmp_path: Path) -> None:
    base = _summary(tmp_path, "base", [])
    assert base["closure"]["closes"]
    assert base["lending"]["liquidations"] > 0 and base["lending"]["positions_open"] == 10
    flash = base["by_kind"]["flash_liquidator"]
    assert flash["included"] > flash["failed"]  # some of their liquidations landed
    variant = load_scenario(LIQUIDATION).variants["no_flash"]
    without = _summary(tmp_path, "no_flash", list(variant))
    assert without["by_kind"]["flash_liquidator"]["included"] == 0  # beyond its set-up
    assert without["lending"]["liquidators"] == 1  # only the capitalised liquidator
