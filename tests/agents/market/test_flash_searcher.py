"""The capital-free searcher on a chain: it holds no tokens, backruns a swap that opens a gap
between two pools of one pair, earns exactly what it planned, and picks its funding by cost.

Two WETH/USDC pools (30 and 5 bps, both 3,000 USDC per WETH) and a lender, deployed once per
module; each test runs on a snapshot. A scripted trader sells 20 WETH into the 30 bps pool.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from marketkit import OneShot, balance_at, block_receipts, once_at

from agentbed.agents.agent import GWEI, AgentView, derive_seed
from agentbed.agents.market.flash_lending import FlashConfig, deploy_lender
from agentbed.agents.market.mev import swaps_from_receipts
from agentbed.agents.market.strategies.flash import (
    FLASH_SWAP_GAS_USED,
    LOAN_GAS_USED,
    FlashArbitrageur,
)
from agentbed.agents.market.venues.constant_product import FLASH_SWAP_TOPIC
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain
from agentbed.chain.ordering import PriorityFeePolicy

E = 10**18
SEED = 5


@pytest.fixture(scope="module")
def built() -> tuple[Chain, Market]:
    chain = Chain(seed=SEED, accounts=6, automine=True, gas_limit=3_000_000)
    specs = [
        PoolSpec("WETH", "USDC", 1_000 * E, 3_000_000 * E, 30),
        PoolSpec("WETH", "USDC", 500 * E, 1_500_000 * E, 5),
    ]
    market = Market.deploy(chain, specs, seed=SEED)
    deploy_lender(market, FlashConfig(9, {"WETH": 1_000 * E, "USDC": 3_000_000 * E}))
    market.fund({chain.accounts[1].address: {"WETH": 100 * E}})
    chain.automine = False
    chain.set_policy(PriorityFeePolicy())
    return chain, market


@pytest.fixture
def market(built: tuple[Chain, Market]) -> Iterator[Market]:
    chain, deployed = built
    snapshot = chain.snapshot()
    fresh = Market(chain, deployed.tokens, deployed.pools, seed=SEED, volatility=0.0)
    fresh.flash_lender = deployed.flash_lender
    try:
        yield fresh
    finally:
        chain.revert(snapshot)


def _run(market: Market, **params: Any) -> tuple[Simulation, FlashArbitrageur]:
    chain = market.chain
    pool = market.pools[0] if market.pools[0].fee_bps == 30 else market.pools[1]
    weth = market.tokens["WETH"]
    seller = chain.accounts[1]

    def sell(view: AgentView) -> Any:
        return (view.market.swap(pool, weth, 20 * E, 0, seller.address, tip=GWEI),)

    trader = OneShot("trader", seller, random.Random(1), once_at(1_000), make=sell)
    searcher = FlashArbitrageur(
        "flash", chain.accounts[2], random.Random(derive_seed(SEED, "flash")), **params
    )
    sim = Simulation(chain, [trader, searcher], blocks=1, seed=SEED, market=market)
    sim.run()
    return sim, searcher


def _cycle(sim: Simulation) -> Any:
    return next(s for s in sim.sent.values() if s.label == "backrun")


def test_backruns_with_no_tokens_and_earns_exactly_what_it_planned(market: Market) -> None:
    searcher_address = market.chain.accounts[2].address
    before = {s: balance_at(market.chain, t, searcher_address) for s, t in market.tokens.items()}
    assert before == {"USDC": 0, "WETH": 0}
    sim, _ = _run(market)
    receipts = block_receipts(sim)
    assert [(r.sender, r.status) for r in receipts] == [
        (market.chain.accounts[1].address, 1),
        (searcher_address, 1),
    ]
    cycle = _cycle(sim)
    gained = {s: balance_at(market.chain, t, searcher_address) for s, t in market.tokens.items()}
    # The whole profit, in the cycle's one token, to the wei of the plan; nothing of the other.
    assert sorted(gained.values()) == [0, cycle.meta["expected_profit"]]
    assert cycle.meta["expected_profit"] > 0
    assert receipts[1].gas_used <= FLASH_SWAP_GAS_USED


def test_flash_swap_is_chosen_over_a_paid_loan_and_read_as_a_swap(market: Market) -> None:
    sim, _ = _run(market)
    assert _cycle(sim).meta["source"] == "flash_swap"  # no lender fee, less gas
    receipts = block_receipts(sim)
    borrow_pool = next(log.address for log in receipts[1].logs if log.topics[0] == FLASH_SWAP_TOPIC)
    swaps = swaps_from_receipts(receipts, market.venues.values())
    mine = [s for s in swaps if s.actor == market.chain.accounts[2].address]
    # Its two legs: a FlashSwap out of one pool, repaid in the other token, and a Swap selling
    # exactly what it took out on the other pool of the pair.
    assert len(mine) == 2 and {s.pool for s in mine} == {p.address for p in market.pools}
    flash_leg = next(s for s in mine if s.pool == borrow_pool)
    sale = next(s for s in mine if s.pool != borrow_pool)
    assert sale.token_in != flash_leg.token_in
    assert sale.amount_in == flash_leg.amount_out > 0


def test_loan_only_searcher_borrows_and_repays_the_lender_with_its_fee(market: Market) -> None:
    lender = market.flash_lender
    assert lender is not None
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    before = balance_at(market.chain, weth, lender), balance_at(market.chain, usdc, lender)
    sim, _ = _run(market, sources=["loan"])
    cycle = _cycle(sim)
    assert cycle.meta["source"] == "loan"

    receipt = block_receipts(sim)[1]
    assert receipt.status == 1 and receipt.gas_used <= LOAN_GAS_USED
    after = balance_at(market.chain, weth, lender), balance_at(market.chain, usdc, lender)
    # It borrowed one token and paid the fee on top: that balance grew, the other did not move.
    assert sorted(a - b for a, b in zip(after, before, strict=True))[0] == 0
    assert max(a - b for a, b in zip(after, before, strict=True)) > 0


def test_without_a_source_it_never_trades(market: Market) -> None:
    sim, searcher = _run(market, sources=[])
    assert [s.label for s in sim.sent.values() if s.agent == searcher.name] == ["setup"]


def test_pools_of_one_pair_share_the_reference_walk(market: Market) -> None:
    walking = Market(market.chain, market.tokens, market.pools, seed=SEED, volatility=0.05)
    start = dict(walking.reference)
    for _ in range(5):
        walking.on_block(market.chain.head, ())
    first, second = (walking.reference[p.address] / start[p.address] for p in market.pools)
    assert first != 1.0 and first == second


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sources": ["credit"]}, "sources"),
        ({"search_budget": 0}, "search_budget"),
        ({"tip": -1}, "tip"),
        ({"min_profit_wei": -1}, "min_profit_wei"),
    ],
)
def test_rejects_out_of_range_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlashArbitrageur("probe", Account.from_key(b"\x01" * 32), random.Random(0), **params)
