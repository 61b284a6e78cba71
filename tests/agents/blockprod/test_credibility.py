"""The commitment-credibility experiment: a paid reorg reverses a settlement the counterparty
had counted, the honest cost is what it delivered against and does not hold, and finality
depth 1 leaves nothing to reverse."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.blockprod.credibility import (
    CredibilityConfig,
    CredibilityConfigError,
    deploy,
    load_config,
    report,
    run_grid,
    run_once,
)

SMALL = CredibilityConfig(slots=24, seeds=(1,), tail=6)


def test_paid_reorg_reverses_a_counted_settlement() -> None:
    # Seed 1 at price 0.1 ETH: the bandit draws a slot right after a release it can orphan
    # for less than the payer's bounty (0.05 ETH against 0.02 per block).
    stats = run_once(SMALL, 1, 0.1, 1, 0)
    assert stats == run_once(SMALL, 1, 0.1, 1, 0)  # deterministic
    assert stats.counted > 0 and stats.reversed >= 1 and stats.reorgs >= 1
    assert stats.bounties_paid == stats.reversed * int(0.05 * 10**18)
    assert stats.counted_value - stats.counterparty_received == stats.honest_cost
    assert stats.honest_cost == stats.reversed * int(0.1 * 10**18)


def test_a_reused_deployment_gives_the_same_run() -> None:
    deployment = deploy(1)
    run_once(SMALL, 1, 0.4, 2, 0, deployment=deployment)  # another run first
    assert run_once(SMALL, 1, 0.1, 1, 0, deployment=deployment) == run_once(SMALL, 1, 0.1, 1, 0)


@pytest.mark.parametrize("price", [0.1, 0.4])
def test_finality_depth_one_leaves_nothing_to_reverse(price: float) -> None:
    stats = run_once(SMALL, 1, price, 1, 1)
    assert stats.counted > 0
    assert (stats.reversed, stats.reorgs, stats.honest_cost, stats.bounties_paid) == (0, 0, 0, 0)
    assert stats.counterparty_received == stats.counted_value


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(1, 50),
    price=st.sampled_from([0.1, 0.4]),
    depth=st.integers(1, 2),
    finality=st.sampled_from([0, 1, 2]),
)
def test_fuzz_cost_is_what_the_counterparty_lacks(
    seed: int, price: float, depth: int, finality: int
) -> None:
    cfg = CredibilityConfig(slots=15, seeds=(seed,), tail=5)
    stats = run_once(cfg, seed, price, depth, finality)
    assert 0 <= stats.reversed <= stats.counted
    assert stats.counted_value - stats.counterparty_received == stats.honest_cost
    assert stats.bounties_paid <= stats.reversed * int(0.5 * price * 10**18)
    if finality == 1 or (finality and finality <= depth):
        assert stats.reversed == 0  # no reorg can reach a release counted that deep


def test_bounty_below_the_cost_of_one_block_buys_nothing() -> None:
    stats = run_once(SMALL, 1, 0.02, 1, 0)  # bounty 0.01 ETH < 0.02 ETH per orphaned block
    assert stats.counted > 0 and stats.reversed == 0 and stats.reorgs == 0


def test_report_lists_every_point_and_the_paired_claims() -> None:
    cfg = CredibilityConfig(
        slots=12, seeds=(1, 2), tail=4, price_eth=(0.02, 0.4), counting_depths=(1,),
        finality_depths=(0, 1),
    )  # fmt: skip
    grid = run_grid(cfg)
    assert len(grid) == 4
    text = report(cfg, grid)
    assert "| 0.4 | 1 | none |" in text and "| 0.02 | 1 | 1 |" in text
    assert "- depth 1, price 0.4: finality none minus finality 1:" in text


def test_grid_in_two_processes_is_the_grid_in_one() -> None:
    cfg = CredibilityConfig(
        slots=10, seeds=(1, 2), tail=4, price_eth=(0.4,), counting_depths=(1,),
        finality_depths=(0,),
    )  # fmt: skip
    assert run_grid(cfg, jobs=2) == run_grid(cfg)


def test_config_rejects_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[credibility]\nslots = 20\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(CredibilityConfigError, match=r"unknown keys in \[credibility\]"):
        load_config(path)
    with pytest.raises(CredibilityConfigError, match="commit_every must be >= 3"):
        CredibilityConfig(commit_every=2)
    with pytest.raises(CredibilityConfigError, match="counting depths must be >= 1"):
        CredibilityConfig(counting_depths=(0,))
    cfg = load_config(Path("scenarios/blockprod/credibility.toml"))
    assert cfg.finality_depths[-1] == 1 and cfg.seeds == (1, 2, 3, 4, 5)
