"""The README's main job: ``testbed demo`` runs, shows what it claims, and is deterministic."""

from __future__ import annotations

import io
import json
from pathlib import Path

from agentbed.cli import main
from agentbed.demo import run_demo


def test_demo_shows_orderings_bundle_and_base_fee_dynamics(tmp_path: Path):
    out = tmp_path / "demo.json"
    assert main(["demo", "--seed", "3", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert {"AgentCurrency", "Staking", "Reputation", "Escrow"} <= set(summary["deployed"])
    orders = summary["orders"]
    assert orders["fifo"] == ["agent1", "agent2", "agent3", "agent4", "agent5", "agent6"]
    assert orders["priority_fee"][:2] == ["agent2", "agent4"]  # the two 9-gwei tips
    assert sorted(orders["random"]) == sorted(orders["fifo"])
    assert summary["bundle"]["bundle_first"] is True
    assert summary["bundle"]["coinbase_transfers_wei"] == 10**16
    fees = summary["base_fees_wei"]
    assert fees[0] < fees[1] < fees[2] < fees[3] < fees[4]  # full blocks push it up
    assert fees[4] > fees[5] > fees[6] > fees[7]  # empty blocks let it fall
    commitment = summary["commitment"]
    assert commitment["balances"] == {"buyer": 695, "seller": 1300, "arbitrator": 805}
    assert commitment["escrow_balance"] == 0
    assert commitment["seller_completed"] == [1, 1]


def test_demo_is_deterministic_per_seed():
    def head(seed: int) -> str:
        buf = io.StringIO()
        assert run_demo(seed=seed, json_out=None, out=buf) == 0
        return buf.getvalue().strip().splitlines()[-1]

    assert head(1) == head(1)
    assert head(1) != head(2)
