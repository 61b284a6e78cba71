"""Commitment credibility for intent fills: a paid reorg re-fills a fill the maker had counted
at the maker's limit, the honest cost is the surplus the maker acted on and does not hold, and
finality depth 1 leaves nothing to reverse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.blockprod.credibility import CredibilityConfig
from agentbed.agents.blockprod.intent_credibility import (
    LIMIT,
    deploy,
    report,
    run_grid,
    run_once,
)

ETH = 10**18
SMALL = CredibilityConfig(slots=24, seeds=(1,), tail=6)


def test_paid_reorg_refills_a_counted_fill_at_the_limit() -> None:
    # Seed 1 at a surplus of 0.1 ETH: the bandit draws a slot right after a fill it can orphan
    # for less than the solver's bounty (0.05 ETH against 0.02 per block).
    stats = run_once(SMALL, 1, 0.1, 1, 0)
    assert stats == run_once(SMALL, 1, 0.1, 1, 0)  # deterministic
    assert stats.counted > 0 and stats.reversed >= 1 and stats.reorgs >= 1
    assert stats.bounties_paid == stats.reversed * int(0.05 * ETH)
    # Every reversed fill was filled again at exactly the limit: the maker lacks the surplus.
    assert stats.honest_cost == stats.reversed * int(0.1 * ETH)
    assert stats.counterparty_received == stats.counted * LIMIT + (
        stats.counted - stats.reversed
    ) * int(0.1 * ETH)


def test_a_reused_deployment_gives_the_same_run() -> None:
    deployment = deploy(1)
    run_once(SMALL, 1, 0.4, 2, 0, deployment=deployment)  # another run first
    assert run_once(SMALL, 1, 0.1, 1, 0, deployment=deployment) == run_once(SMALL, 1, 0.1, 1, 0)


@pytest.mark.parametrize("surplus", [0.1, 0.4])
def test_finality_depth_one_leaves_nothing_to_reverse(surplus: float) -> None:
    stats = run_once(SMALL, 1, surplus, 1, 1)
    assert stats.counted > 0
    assert (stats.reversed, stats.reorgs, stats.honest_cost, stats.bounties_paid) == (0, 0, 0, 0)
    assert stats.counterparty_received == stats.counted_value


def test_surplus_below_the_cost_of_one_block_buys_nothing() -> None:
    stats = run_once(SMALL, 1, 0.02, 1, 0)  # bounty 0.01 ETH < 0.02 ETH per orphaned block
    assert stats.counted > 0 and stats.reversed == 0 and stats.reorgs == 0
    assert stats.counterparty_received == stats.counted * (LIMIT + int(0.02 * ETH))


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(1, 50),
    surplus=st.sampled_from([0.1, 0.4]),
    depth=st.integers(1, 2),
    finality=st.sampled_from([0, 1, 2]),
)
def test_fuzz_cost_is_the_surplus_the_maker_lacks(
    seed: int, surplus: float, depth: int, finality: int
) -> None:
    cfg = CredibilityConfig(slots=15, seeds=(seed,), tail=5)
    stats = run_once(cfg, seed, surplus, depth, finality)
    stake = int(surplus * ETH)
    assert 0 <= stats.reversed <= stats.counted
    assert stats.counted_value - stats.counterparty_received == stats.honest_cost
    assert stats.honest_cost == stats.reversed * stake  # a reversal re-fills at the limit
    assert stats.bounties_paid <= stats.reversed * int(0.5 * stake)
    if finality == 1 or (finality and finality <= depth):
        assert stats.reversed == 0  # no reorg can reach a fill counted that deep


def test_report_lists_every_point_and_the_paired_claims() -> None:
    cfg = CredibilityConfig(
        slots=12, seeds=(1, 2), tail=4, price_eth=(0.02, 0.4), counting_depths=(1,),
        finality_depths=(0, 1),
    )  # fmt: skip
    grid = run_grid(cfg)
    assert len(grid) == 4 and all(len(p.runs) == 2 for p in grid)
    text = report(cfg, grid)
    assert text.startswith("# Commitment credibility: intent fills reversed")
    assert "| surplus (ETH) |" in text and "| 0.4 | 1 | none |" in text
    assert "- depth 1, surplus 0.4: finality none minus finality 1:" in text
