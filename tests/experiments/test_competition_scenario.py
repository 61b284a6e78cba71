"""``scenarios/competition.toml``: it loads as documented, a sweep addresses the searchers'
count, and a short monopoly run hands the producer only the lone bidder's floor."""

from __future__ import annotations

import json
from pathlib import Path

from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[2]
COMPETITION = ROOT / "scenarios" / "competition.toml"


def test_competition_loads_with_first_price_bundle_searchers() -> None:
    scenario = load_scenario(COMPETITION)
    assert scenario.run.policy == "bundles"
    searchers = scenario.agents[2]
    assert searchers.kind == "sandwicher"
    assert searchers.params["mode"] == "bundle"
    # No fixed bribe: the bid is the first-price rule's, which is what the sweep measures.
    assert "bribe_fraction" not in searchers.params
    # Typical mainnet gas: tens of gwei at the start, not the flagship's 1 gwei.
    assert scenario.run.base_fee >= 10 * 10**9


def test_sweep_key_addresses_the_number_of_searchers() -> None:
    scenario = load_with_overrides(COMPETITION, [("agents[2].count", 4)])
    assert scenario.agents[2].count == 4
    assert load_scenario(COMPETITION).agents[2].count != 4


def test_a_lone_bundle_searcher_pays_the_producer_only_its_floor(tmp_path: Path) -> None:
    scenario = load_with_overrides(COMPETITION, [("agents[2].count", 1), ("run.blocks", 6)])
    run_scenario(scenario, tmp_path)
    share = json.loads((tmp_path / "summary.json").read_text())["producer_share"]
    assert share["extracted"] > 0  # it did sandwich someone
    # It bids min_bid_fraction (1%) of each sandwich's expected value, no more.
    assert 0.0 < share["share"] < 0.02


def test_competing_searchers_give_the_same_summary_for_the_same_seed(tmp_path: Path) -> None:
    scenario = load_with_overrides(COMPETITION, [("agents[2].count", 2), ("run.blocks", 6)])
    texts = []
    for name in ("a", "b"):
        run_scenario(scenario, tmp_path / name)
        texts.append((tmp_path / name / "summary.json").read_text())
    assert texts[0] == texts[1]
    assert json.loads(texts[0])["producer_share"]["paid"] > 0  # they did bid against each other
