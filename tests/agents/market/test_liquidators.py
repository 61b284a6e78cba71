"""The liquidation strategies on a chain and their sizing: a capital-free liquidator holding no
tokens liquidates a position a price drop put under water and earns exactly what it planned;
without a lender it sends nothing; the repayment search finds the best integer repayment.

One WETH/USDC pool (1,000 WETH at 3,000 USDC), a vault on it (80 % factor, 5 % bonus, 50 % close
factor) and a lender, deployed once per module; each test runs on a snapshot. Two borrowers
open their positions at set-up; a scripted trader sells 60 WETH into the pool.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st
from marketkit import OneShot, balance_at, block_receipts, once_at

from agentbed.agents.agent import GWEI, AgentView, derive_seed
from agentbed.agents.config import ScenarioError, Table
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.flash_lending import FlashConfig, deploy_lender
from agentbed.agents.market.lending import (
    LendingConfig,
    Vault,
    deploy_vault,
    lending_summary,
    parse_lending,
    position_of,
)
from agentbed.agents.market.strategies.borrowing import Borrower
from agentbed.agents.market.strategies.flash_liquidator import (
    LOAN_GAS_USED,
    FlashLiquidator,
    Liquidator,
    best_repay,
    max_repay,
)
from agentbed.agents.market.world import Market, Pool, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain
from agentbed.chain.ordering import PriorityFeePolicy

E = 10**18
SEED = 7
SPECS = (PoolSpec("WETH", "USDC", 1_000 * E, 3_000_000 * E, 30),)
CONFIG = LendingConfig("WETH", "USDC", 8_000, 500, 5_000, 1_000_000 * E)


@pytest.fixture(scope="module")
def built() -> tuple[Chain, Market, Vault]:
    chain = Chain(seed=SEED, accounts=8, automine=True, gas_limit=3_000_000)
    market = Market.deploy(chain, SPECS, seed=SEED)
    deploy_lender(market, FlashConfig(9, {"USDC": 3_000_000 * E}))
    vault = deploy_vault(market, CONFIG)
    market.fund({chain.accounts[i].address: {"WETH": 20 * E} for i in (3, 4)})
    market.fund({chain.accounts[1].address: {"WETH": 100 * E}})
    market.fund({chain.accounts[5].address: {"USDC": 500_000 * E}})
    chain.automine = False
    chain.set_policy(PriorityFeePolicy())
    return chain, market, vault


@pytest.fixture
def market(built: tuple[Chain, Market, Vault]) -> Iterator[Market]:
    chain, deployed, vault = built
    snapshot = chain.snapshot()
    fresh = Market(chain, deployed.tokens, deployed.pools, seed=SEED, volatility=0.0)
    fresh.flash_lender = deployed.flash_lender
    setattr(fresh, "vault", vault)  # noqa: B010  # as deploy_vault attaches it
    try:
        yield fresh
    finally:
        chain.revert(snapshot)


def _run(market: Market, liquidator: Liquidator, blocks: int = 2) -> Simulation:
    chain = market.chain
    pool, weth = market.pools[0], market.tokens["WETH"]

    def sell(view: AgentView) -> Any:
        return (view.market.swap(pool, weth, 60 * E, 0, chain.accounts[1].address, tip=GWEI),)

    trader = OneShot("trader", chain.accounts[1], random.Random(1), once_at(1_000), make=sell)
    borrowers = [
        Borrower(f"b{i}", chain.accounts[3 + i], random.Random(derive_seed(SEED, i)), ltv_low=0.97)
        for i in range(2)
    ]
    agents = [trader, *borrowers, liquidator]
    sim = Simulation(chain, agents, blocks=blocks, seed=SEED, market=market)
    sim.run()
    return sim


def _flash(market: Market, **params: Any) -> FlashLiquidator:
    rng = random.Random(derive_seed(SEED, "flash"))
    return FlashLiquidator("flash", market.chain.accounts[2], rng, **params)


def test_liquidates_with_no_tokens_and_earns_exactly_what_it_planned(market: Market) -> None:
    chain, vault = market.chain, market.vault  # type: ignore[attr-defined]
    keeper = chain.accounts[2].address
    assert all(balance_at(chain, t, keeper) == 0 for t in market.tokens.values())
    sim = _run(market, _flash(market))
    sent = [s for s in sim.sent.values() if s.label == "liquidation"]
    assert sent, "no liquidation was sent"
    receipts = {r.tx_hash: r for r in block_receipts(sim)}
    first = sent[0]
    assert receipts[first.hash].status == 1
    assert receipts[first.hash].gas_used <= LOAN_GAS_USED
    landed = [s for s in sent if receipts[s.hash].status == 1]
    planned = sum(s.meta["expected_profit"] for s in landed)
    assert balance_at(chain, market.tokens["USDC"], keeper) == planned > 0
    assert balance_at(chain, market.tokens["WETH"], keeper) == 0
    summary = lending_summary(sim, market, vault)
    assert summary["liquidations"] == len(landed) and summary["liquidators"] == 1


def test_sends_nothing_without_flash_liquidity(market: Market) -> None:
    market.flash_lender = None
    sim = _run(market, _flash(market))
    assert not [s for s in sim.sent.values() if s.label == "liquidation"]


def test_capitalised_liquidator_gets_its_funds_back_with_the_profit(market: Market) -> None:
    chain = market.chain
    own = Liquidator("own", chain.accounts[5], random.Random(3), max_per_block=1)
    sim = _run(market, own)
    landed = [
        s
        for s in sim.sent.values()
        if s.label == "liquidation" and sim.chain.receipt(s.hash).status == 1
    ]
    assert landed
    gain = sum(s.meta["expected_profit"] for s in landed)
    assert balance_at(chain, market.tokens["USDC"], own.address) == 500_000 * E + gain


def test_borrowers_open_positions_within_their_draw(market: Market) -> None:
    sim = _run(market, _flash(market), blocks=0)
    vault = market.vault  # type: ignore[attr-defined]
    r_coll, r_debt = vault.reserves(market.reserves[vault.pool.address])
    for agent in sim.agents:
        if isinstance(agent, Borrower):
            collateral, debt = position_of(market.chain, vault, agent.address)
            assert collateral == 20 * E
            assert agent.ltv is not None and 0.97 <= agent.ltv <= 0.99
            assert (
                debt == int(agent.ltv * vault.limit(collateral, r_coll, r_debt))
                or abs(debt - agent.ltv * vault.limit(collateral, r_coll, r_debt)) <= 1
            )


# ---------------------------------------------------------------------------------------------
# sizing
# ---------------------------------------------------------------------------------------------

TOKEN0, TOKEN1 = "0x" + "11" * 20, "0x" + "22" * 20


def _vault(bonus: int, close: int) -> Vault:
    pool = Pool("0x" + "33" * 20, TOKEN0, TOKEN1, "WETH", "USDC", 30)
    return Vault(
        "0x" + "44" * 20, pool, TOKEN0, TOKEN1, LendingConfig("WETH", "USDC", 8_000, bonus, close)
    )


def _profit(vault: Vault, r: int, r_coll: int, r_debt: int, loan_fee: int) -> int:
    seized = vault.seize(r, r_coll, r_debt)
    return amount_out(seized, r_coll, r_debt, 30) - r - r * loan_fee // 10_000


MARKETS = {
    "r_coll": st.integers(50, 3_000),
    "r_debt": st.integers(50, 3_000),
    "collateral": st.integers(1, 400),
    "bonus": st.integers(0, 1_000),
    "close": st.integers(1, 10_000),
    "loan_fee": st.sampled_from([0, 9, 100]),
}


@settings(max_examples=60, deadline=None)
@given(debt=st.integers(1, 2_000), **MARKETS)
def test_fuzz_repayment_search_is_exact_on_small_positions(
    r_coll: int, r_debt: int, collateral: int, debt: int, bonus: int, close: int, loan_fee: int
) -> None:
    vault = _vault(bonus, close)
    cap = max_repay(vault, collateral, debt, r_coll, r_debt)
    assert cap <= debt * close // 10_000
    assert vault.seize(cap, r_coll, r_debt) <= collateral
    assert cap == debt * close // 10_000 or vault.seize(cap + 1, r_coll, r_debt) > collateral
    repay, gain = best_repay(vault, cap, r_coll, r_debt, 30, loan_fee)
    best = max((_profit(vault, r, r_coll, r_debt, loan_fee) for r in range(1, cap + 1)), default=0)
    assert gain == max(best, 0)
    assert repay == 0 or _profit(vault, repay, r_coll, r_debt, loan_fee) == gain


@settings(max_examples=40, deadline=None)
@given(
    scale=st.integers(10, 10**6),
    probes=st.lists(st.floats(0, 1), min_size=1, max_size=8),
    **MARKETS,
)
def test_fuzz_repayment_search_is_within_a_unit_of_collateral_on_large_positions(
    r_coll: int,
    r_debt: int,
    collateral: int,
    bonus: int,
    close: int,
    loan_fee: int,
    scale: int,
    probes: list[float],
) -> None:
    vault = _vault(bonus, close)
    r_coll, r_debt, collateral = r_coll * scale, r_debt * scale, collateral * scale
    debt = collateral * r_debt // r_coll  # under water: the collateral bounds the repayment
    cap = max_repay(vault, collateral, debt, r_coll, r_debt)
    repay, gain = best_repay(vault, cap, r_coll, r_debt, 30, loan_fee)
    assert repay == 0 or _profit(vault, repay, r_coll, r_debt, loan_fee) == gain
    unit = r_debt // r_coll + 3  # one unit of collateral in debt, and the floors
    for p in probes:
        r = max(1, int(p * cap))
        assert gain >= _profit(vault, r, r_coll, r_debt, loan_fee) - unit


def test_lending_table_errors_name_the_key() -> None:
    def parse(data: dict[str, Any]) -> LendingConfig:
        return parse_lending(Table("x.toml", "lending", data), SPECS)

    assert parse({"collateral": "WETH", "debt": "USDC"}).collateral_factor_bps == 8_000
    for data, key in (
        ({"collateral": "WETH", "debt": "DAI"}, "lending.debt"),
        (
            {"collateral": "WETH", "debt": "USDC", "collateral_factor_bps": 10_000},
            "collateral_factor_bps",
        ),
        ({"collateral": "WETH", "debt": "USDC", "bonus_bps": 2_600}, "bonus_bps"),
        ({"collateral": "WETH", "debt": "USDC", "close_factor_bps": 10_001}, "close_factor_bps"),
        ({"collateral": "WETH", "debt": "USDC", "bonus": 1}, "bonus"),
    ):
        with pytest.raises(ScenarioError, match=key):
            parse(data)


def test_bad_parameters_are_refused_by_name() -> None:
    probe = Account.from_key(b"\x01" * 32)
    with pytest.raises(ValueError, match="max_per_block"):
        FlashLiquidator("x", probe, random.Random(0), max_per_block=0)
    with pytest.raises(ValueError, match="ltv_high"):
        Borrower("x", probe, random.Random(0), ltv_low=0.9, ltv_high=0.8)
    with pytest.raises(ValueError, match="lending market"):
        FlashLiquidator("x", probe, random.Random(0)).setup(object())
