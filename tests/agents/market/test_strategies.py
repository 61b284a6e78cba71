"""Behaviour of each strategy in ``agents/strategies`` in small, focused runs.

One WETH/USDC pool (3,000 USDC per WETH) on a chain with 3M-gas blocks every 2 s, deployed
once per module; every test runs on a snapshot of it. A scripted ``OneShot`` trader plays the
victim where a test needs one at a known time.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from marketkit import (
    OneShot,
    World,
    balance_at,
    block_receipts,
    build_world,
    once_at,
    swap_amounts,
)

from agentbed.agents.agent import GWEI, AgentView, PeriodicSchedule, PoissonSchedule
from agentbed.agents.economy.strategies.attacks import ArbitratorGriefer, ReputationFarmer, Sybil
from agentbed.agents.economy.strategies.auditor import Auditor
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.strategies.issuer import ReputationIssuer
from agentbed.agents.economy.study import STRATEGIES as ECONOMY_STRATEGIES
from agentbed.agents.llm import LLMBuyer, LLMSeller, LLMTrader
from agentbed.agents.market.strategies.arbitrage import Arbitrageur
from agentbed.agents.market.strategies.batch_griefer import BatchGriefer
from agentbed.agents.market.strategies.borrowing import Borrower
from agentbed.agents.market.strategies.common import WeiPricer
from agentbed.agents.market.strategies.flash import FlashArbitrageur
from agentbed.agents.market.strategies.flash_liquidator import FlashLiquidator, Liquidator
from agentbed.agents.market.strategies.frontrun import Frontrunner
from agentbed.agents.market.strategies.intents import IntentMaker, Solver
from agentbed.agents.market.strategies.liquidity import LiquidityProvider
from agentbed.agents.market.strategies.retail import PanicSeller, RetailTrader
from agentbed.agents.market.strategies.routing import RouteBackrunner, RoutingTrader
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.strategies.surplus import SharingTrader, SurplusCoordinator
from agentbed.agents.market.study import STRATEGIES as MARKET_STRATEGIES
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.agents.spam import Spammer
from agentbed.chain.ordering import BundlesFirstPolicy, PriorityFeePolicy

STRATEGIES = {**MARKET_STRATEGIES, **ECONOMY_STRATEGIES}

SEED = 7
WETH_RESERVE, USDC_RESERVE = 10**21, 3 * 10**24
GAS_LIMIT = 3_000_000


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(
        SEED,
        [PoolSpec("WETH", "USDC", WETH_RESERVE, USDC_RESERVE)],
        {"WETH": 10**21, "USDC": 3 * 10**24},
        accounts=12,
        gas_limit=GAS_LIMIT,
        block_interval_ms=2_000,
    )


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        yield fresh


def usdc_per_weth(market: Market) -> float:
    """The reference price of WETH in USDC."""
    pool = market.pools[0]
    ref = market.reference[pool.address]
    return ref if pool.token0 == market.tokens["WETH"] else 1 / ref


def pool_usdc_per_weth(market: Market) -> float:
    pool = market.pools[0]
    price = market.price(pool)
    return price if pool.token0 == market.tokens["WETH"] else 1 / price


def set_weth_reference(market: Market, usdc_per_weth_price: float) -> None:
    pool = market.pools[0]
    weth_first = pool.token0 == market.tokens["WETH"]
    market.reference[pool.address] = usdc_per_weth_price if weth_first else 1 / usdc_per_weth_price


def worth_in_wei(world: World, market: Market, owner: str) -> float:
    """``owner``'s WETH plus USDC at the reference price, in wei (WETH = 1 wei per unit)."""
    return world.balance("WETH", owner) + world.balance("USDC", owner) / usdc_per_weth(market)


def labels(sim: Simulation) -> list[tuple[str, str, int]]:
    """(agent, label, status) of every measured tx but approvals, in block order."""
    return [
        (sim.sent[r.tx_hash].agent, sim.sent[r.tx_hash].label, r.status)
        for r in block_receipts(sim)
        if r.tx_hash in sim.sent and sim.sent[r.tx_hash].label != "approve"
    ]


def victim(world: World, market: Market, sell: str, amount: int, slippage_bps: int) -> OneShot:
    """A trader that sells ``amount`` of ``sell`` one second into the run."""
    pool = market.pools[0]
    token = world.tokens[sell]
    account = world.account(1)

    def swap(view: AgentView) -> Any:
        quote = view.market.quote(pool, token, amount)
        min_out = quote * (10_000 - slippage_bps) // 10_000
        return (view.market.swap(pool, token, amount, min_out, account.address, tip=GWEI),)

    return OneShot("victim", account, world.rng("victim"), once_at(1_000), make=swap)


# ---------------------------------------------------------------------------------------------
# liquidity provider
# ---------------------------------------------------------------------------------------------


def lp_shares(world: World, market: Market, owner: str, block: int | None = None) -> int:
    """``owner``'s LP shares of the pool at the head, or after block ``block``."""
    return balance_at(world.chain, market.pools[0].address, owner, block)


def test_lp_deposits_a_share_of_the_reserves_at_setup(world: World, market: Market) -> None:
    lp = LiquidityProvider("lp", world.account(2), world.rng("lp"), initial_fraction=0.1)
    world.run(market, [lp], blocks=1)
    pool = market.pools[0]
    assert lp_shares(world, market, lp.address) > 0 and lp.failed == 0
    # 10 % more of each token, in the pool's ratio: the price does not move
    weth, usdc = market.reserves_for(pool, market.tokens["WETH"])
    assert weth / WETH_RESERVE == pytest.approx(1.1, rel=1e-12)
    assert usdc / USDC_RESERVE == pytest.approx(1.1, rel=1e-12)
    assert usdc * WETH_RESERVE // weth == pytest.approx(USDC_RESERVE, rel=1e-15)


@pytest.mark.parametrize("add_probability", [1.0, 0.0])
def test_lp_adds_or_withdraws_on_its_schedule(
    world: World, market: Market, add_probability: float
) -> None:
    lp = LiquidityProvider(
        "lp",
        world.account(2),
        world.rng("lp"),
        PeriodicSchedule(500),
        initial_fraction=0.1,
        add_probability=add_probability,
    )
    sim = world.run(market, [lp], blocks=3)
    after_setup = lp_shares(world, market, lp.address, block=sim.metrics[0].number - 1)
    now = lp_shares(world, market, lp.address)
    assert after_setup > 0 and lp.failed == 0
    wanted = "add_liquidity" if add_probability == 1.0 else "remove_liquidity"
    assert {label for _, label, _ in labels(sim)} == {wanted}
    assert now > after_setup if add_probability == 1.0 else now < after_setup


# ---------------------------------------------------------------------------------------------
# arbitrageur
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("move", [1.03, 1 / 1.03])
def test_arbitrageur_moves_the_pool_to_the_reference_and_profits(
    world: World, market: Market, move: float
) -> None:
    set_weth_reference(market, pool_usdc_per_weth(market) * move)
    arb = Arbitrageur("arb", world.account(2), world.rng("arb"), backrun=False)
    worth_before = worth_in_wei(world, market, arb.address)
    sim = world.run(market, [arb], blocks=3)
    gap_after = abs(pool_usdc_per_weth(market) / usdc_per_weth(market) - 1)
    assert labels(sim) == [("arb", "arb", 1)]
    # it stops where one more unit no longer pays: within the 0.3 % fee of the reference
    assert gap_after < 0.0035
    profit = worth_in_wei(world, market, arb.address) - worth_before - arb.gas_spent
    assert profit > 0


def test_arbitrageur_leaves_a_fairly_priced_pool_alone(world: World, market: Market) -> None:
    arb = Arbitrageur("arb", world.account(2), world.rng("arb"), backrun=False)
    sim = world.run(market, [arb], blocks=2)
    assert labels(sim) == []


@pytest.mark.parametrize("mode", ["fee", "bundle"])
def test_arbitrageur_backruns_a_price_moving_swap_right_behind_it(
    world: World, market: Market, mode: str
) -> None:
    trader = victim(world, market, "USDC", USDC_RESERVE // 50, slippage_bps=500)
    arb = Arbitrageur("arb", world.account(2), world.rng("arb"), mode=mode)
    policy = PriorityFeePolicy() if mode == "fee" else BundlesFirstPolicy()
    sim = world.run(market, [trader, arb], blocks=1, policy=policy)
    assert labels(sim) == [("victim", "trade", 1), ("arb", "backrun", 1)]
    backrun = next(s for s in sim.sent.values() if s.label == "backrun")
    victim_tx = next(s for s in sim.sent.values() if s.label == "trade")
    assert backrun.meta["victim"] == "0x" + victim_tx.hash.hex()
    assert (backrun.bundle is not None) == (mode == "bundle")
    # the victim pushed WETH 4 % up; the backrun brings it back within the fee
    assert abs(pool_usdc_per_weth(market) / usdc_per_weth(market) - 1) < 0.0035


# ---------------------------------------------------------------------------------------------
# spammer
# ---------------------------------------------------------------------------------------------


def test_spammer_fills_blocks_and_drives_the_base_fee_up(world: World, market: Market) -> None:
    spammer = Spammer(
        "spammer", world.account(2), world.rng("spammer"), txs_per_block=20, end_block=6
    )
    sim = world.run(market, [spammer], blocks=10)
    fees = [m.base_fee for m in sim.metrics]
    # bursts after blocks 1..5 (20 x 184,840 gas, 16 fit in 3M) fill blocks 2..6, and the
    # backlog block 7
    assert all(m.fullness > 0.95 for m in sim.metrics[1:7])
    assert all(b > a for a, b in itertools.pairwise(fees[1:8]))
    assert fees[7] > 1.8 * fees[1]  # six full blocks: +12.5 % each
    # after the window the backlog drains and the base fee falls again
    assert sim.metrics[-1].fullness == 0 and fees[-1] < max(fees)
    assert spammer.failed == 0 and spammer.included == spammer.sent == 100


# ---------------------------------------------------------------------------------------------
# sandwicher
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fee", "bundle"])
def test_sandwicher_puts_front_victim_back_in_one_block(
    world: World, market: Market, mode: str
) -> None:
    trader = victim(world, market, "WETH", 5 * 10**18, slippage_bps=100)
    sandwicher = Sandwicher("sandwicher", world.account(2), world.rng("s"), mode=mode)
    worth_before = worth_in_wei(world, market, sandwicher.address)
    policy = PriorityFeePolicy() if mode == "fee" else BundlesFirstPolicy()
    sim = world.run(market, [trader, sandwicher], blocks=1, policy=policy)
    assert labels(sim) == [
        ("sandwicher", "front", 1),
        ("victim", "trade", 1),
        ("sandwicher", "back", 1),
    ]
    receipts = [r for r in block_receipts(sim) if sim.sent[r.tx_hash].label != "approve"]
    assert len({r.block_number for r in receipts}) == 1
    front, back = (s for s in sim.sent.values() if s.agent == "sandwicher" and s.label != "approve")
    assert front.meta["victim"] == back.meta["victim"]
    assert front.meta["expected_profit"] > 0
    # realised: the back returns more WETH than the front spent, by the expected profit
    _, front_in, _ = swap_amounts(receipts[0])
    _, _, back_out = swap_amounts(receipts[2])
    assert back_out - front_in == front.meta["expected_profit"]
    worth_after = worth_in_wei(world, market, sandwicher.address)
    assert worth_after - worth_before - sandwicher.gas_spent > 0


@pytest.mark.parametrize("mode", ["fee", "bundle"])
def test_sandwicher_never_makes_its_victim_revert(world: World, market: Market, mode: str) -> None:
    traders = [
        RetailTrader(
            f"trader{i}",
            world.account(3 + i),
            world.rng("trader", i),
            PoissonSchedule(0.5),
            mean_size=0.004,
            slippage_bps=100,
        )
        for i in range(6)
    ]
    sandwicher = Sandwicher("sandwicher", world.account(2), world.rng("s"), mode=mode)
    policy = PriorityFeePolicy() if mode == "fee" else BundlesFirstPolicy()
    sim = world.run(market, [*traders, sandwicher], blocks=12, policy=policy)
    chain = world.chain
    landed_fronts = [
        s
        for s in sim.sent.values()
        if s.label == "front" and s.hash in _mined(sim) and chain.receipt(s.hash).status == 1
    ]
    assert len(landed_fronts) >= 3  # enough sandwiches for the claim to mean something
    for front in landed_fronts:
        victim_receipt = chain.receipt(front.meta["victim"])
        assert victim_receipt.status == 1
        assert victim_receipt.block_number == chain.receipt(front.hash).block_number
    # retail trades do revert in this run (on each other's price impact), just never a victim
    assert any(status == 0 for agent, _, status in labels(sim) if agent.startswith("trader"))


def _mined(sim: Simulation) -> set[bytes]:
    return {r.tx_hash for r in block_receipts(sim)}


def test_competing_sandwichers_the_higher_bribe_wins_the_bundle(
    world: World, market: Market
) -> None:
    trader = victim(world, market, "WETH", 5 * 10**18, slippage_bps=100)
    low = Sandwicher("low", world.account(2), world.rng("low"), mode="bundle", bribe_fraction=0.3)
    high = Sandwicher(
        "high", world.account(3), world.rng("high"), mode="bundle", bribe_fraction=0.6
    )
    sim = world.run(market, [trader, low, high], blocks=1, policy=BundlesFirstPolicy())
    assert labels(sim) == [("high", "front", 1), ("victim", "trade", 1), ("high", "back", 1)]
    assert world.chain.last_build is not None
    dropped = world.chain.last_build.dropped_bundles
    assert len(dropped) == 1  # the other sandwich lost its victim to the first


# ---------------------------------------------------------------------------------------------
# frontrunner
# ---------------------------------------------------------------------------------------------


def test_frontrunner_ignores_a_swap_that_does_not_pay_at_the_reference(
    world: World, market: Market
) -> None:
    trader = victim(world, market, "USDC", 10**22, slippage_bps=100)
    frontrunner = Frontrunner("frontrunner", world.account(2), world.rng("f"), size_multiple=100)
    sim = world.run(market, [trader, frontrunner], blocks=1)
    assert labels(sim) == [("victim", "trade", 1)]


def test_frontrunner_copies_an_informed_swap_ahead_of_it(world: World, market: Market) -> None:
    set_weth_reference(market, pool_usdc_per_weth(market) * 1.02)
    trader = victim(world, market, "USDC", 10**22, slippage_bps=100)
    frontrunner = Frontrunner("frontrunner", world.account(2), world.rng("f"))
    worth_before = worth_in_wei(world, market, frontrunner.address)
    sim = world.run(market, [trader, frontrunner], blocks=1)
    assert labels(sim) == [("frontrunner", "front", 1), ("victim", "trade", 1)]
    front = next(s for s in sim.sent.values() if s.label == "front")
    receipts = [r for r in block_receipts(sim) if r.tx_hash == front.hash]
    assert swap_amounts(receipts[0])[1] == 10**22  # a copy: the victim's size
    gain = worth_in_wei(world, market, frontrunner.address) - worth_before
    assert gain == pytest.approx(front.meta["expected_profit"], rel=1e-9)
    assert gain - frontrunner.gas_spent > 0


# ---------------------------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------------------------


def test_registry_names_every_strategy() -> None:
    expected = {
        "retail": RetailTrader,
        "lp": LiquidityProvider,
        "arbitrageur": Arbitrageur,
        "flash_arbitrageur": FlashArbitrageur,
        "frontrunner": Frontrunner,
        "sandwicher": Sandwicher,
        "spammer": Spammer,
        "intent_maker": IntentMaker,
        "solver": Solver,
        "batch_griefer": BatchGriefer,
        "router_trader": RoutingTrader,
        "route_backrunner": RouteBackrunner,
        "sharing_trader": SharingTrader,
        "surplus_coordinator": SurplusCoordinator,
        "llm_trader": LLMTrader,
        "borrower": Borrower,
        "liquidator": Liquidator,
        "flash_liquidator": FlashLiquidator,
        "panic_seller": PanicSeller,
        "buyer": ServiceBuyer,
        "seller": ServiceSeller,
        "arbitrator": Arbitrator,
        "issuer": ReputationIssuer,
        "griefer": ArbitratorGriefer,
        "farmer": ReputationFarmer,
        "sybil": Sybil,
        "auditor": Auditor,
        "llm_buyer": LLMBuyer,
        "llm_seller": LLMSeller,
    }
    assert expected == STRATEGIES
    probe = Account.from_key(b"\x01" * 32)
    for name, cls in STRATEGIES.items():
        agent = cls(name, probe, random.Random(0), None)
        assert agent.name == name


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (LiquidityProvider, {"initial_fraction": -0.1}, "initial_fraction"),
        (LiquidityProvider, {"remove_fraction": 0.0}, "remove_fraction"),
        (LiquidityProvider, {"add_probability": 1.5}, "add_probability"),
        (Arbitrageur, {"mode": "private"}, "mode"),
        (Arbitrageur, {"threshold_bps": -1}, "threshold_bps"),
        (Arbitrageur, {"bribe_fraction": 1.5}, "bribe_fraction"),
        (Arbitrageur, {"eth_price": 0.0}, "eth_price"),
        (Arbitrageur, {"min_profit_wei": -1}, "min_profit_wei"),
        (Frontrunner, {"tip_increment": 0}, "tip_increment"),
        (Frontrunner, {"max_tip_fraction": 0.0}, "max_tip_fraction"),
        (Frontrunner, {"size_multiple": -1.0}, "size_multiple"),
        (Frontrunner, {"slippage_bps": 10_000}, "slippage_bps"),
        (Sandwicher, {"mode": "auction"}, "mode"),
        (Sandwicher, {"max_front_in": 0}, "max_front_in"),
        (Sandwicher, {"search_budget": 0}, "search_budget"),
        (Sandwicher, {"tip_increment": 0}, "tip_increment"),
        (Sandwicher, {"prices_wei": {"WETH": 0}}, "prices_wei"),
        (Spammer, {"txs_per_block": 0}, "txs_per_block"),
        (Spammer, {"start_block": 5, "end_block": 5}, "end_block"),
        (Spammer, {"fee_cap_multiple": 0.5}, "fee_cap_multiple"),
    ],
)
def test_rejects_out_of_range_parameters(cls: type, params: dict[str, Any], message: str) -> None:
    probe = Account.from_key(b"\x01" * 32)
    with pytest.raises(ValueError, match=message):
        cls("probe", probe, random.Random(0), None, **params)


def test_wei_valuation_follows_the_reference(world: World, market: Market) -> None:
    pricer = WeiPricer()
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    assert pricer.wei(market, weth, 10**18) == 10**18
    assert pricer.wei(market, usdc, 3 * 10**21) == pytest.approx(10**18, rel=1e-9)
    assert WeiPricer("USDC", eth_price=3000.0).wei(market, usdc, 3 * 10**21) == pytest.approx(
        10**18, rel=1e-9
    )
    with pytest.raises(ValueError, match="numeraire"):
        WeiPricer("DAI").wei(market, usdc, 1)


def test_fraction_of_never_exceeds_the_amount() -> None:
    from agentbed.agents.market.strategies.common import fraction_of

    big = 2**60 - 1
    assert int(big * 1.0) > big  # the float product rounds up: the bug this guards against
    assert fraction_of(big, 1.0) == big
    assert fraction_of(big, 0.5) == big // 2
    assert fraction_of(10, 0.0) == 0
    assert fraction_of(3, 0.34) == 1
