"""The flagship's Uniswap v2 variant: sandwiches on v2 pairs traded through Router02 are
executed, found by the receipt-only detector from the pairs' logs, and accounted (victim loss
against the block without the attack, closure exact in wei)."""

from __future__ import annotations

import csv
from pathlib import Path

from agentbed.experiments.runner import run_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "scenarios" / "mev.toml"


def test_sandwiches_on_the_uniswap_v2_variant_are_executed_detected_and_accounted(
    tmp_path: Path,
) -> None:
    variant = load_with_overrides(FLAGSHIP, []).variants["uniswap_v2"]
    scenario = load_with_overrides(FLAGSHIP, [*variant, ("run.blocks", 4)])
    assert {p.venue for p in scenario.pools} == {"uniswap-v2"}
    outcome = run_scenario(scenario, tmp_path / "v2", policy="priority")
    summary = outcome.report.summary
    sandwiches = summary["sandwiches"]
    assert sandwiches["true"] >= 2  # executed (ground truth from where the txs landed)
    assert sandwiches["detected"] == sandwiches["true"]  # found from the pairs' logs alone
    assert sandwiches["precision"] == sandwiches["recall"] == 1.0
    assert summary["unknown_swap_calls"] == 0
    with (tmp_path / "v2" / "victims.csv").open() as f:
        victims = [row for row in csv.DictReader(f) if row["attack"] == "sandwich"]
    assert len(victims) >= sandwiches["true"]
    for row in victims:
        # Each squeezed swap got less than it would have in the block without the attacker.
        assert int(row["counterfactual_out"]) > int(row["actual_out"]) > 0
        assert float(row["value"]) > 0
    assert summary["victim_loss"] > 0
    closure = summary["closure"]
    assert closure["closes"] and closure["eth"]["residual_wei"] == 0
    assert all(t["residual_wei"] == 0 for t in closure["tokens"].values())
    # LVR reads the pairs' Swap logs through their venue, like the detector and the accounting.
    assert all(row["swaps"] > 0 for row in summary["lvr"]["pools"])
