"""Intent makers and competing solvers on an ``IntentBook`` in small runs.

One WETH/USDC pool (3,000 USDC per WETH) on a chain with 3M-gas blocks every 2 s, deployed
once per module; every test deploys its book variant on a snapshot of it. Fills are read from
the book's ``IntentFilled`` events, which the market's ``intent_board`` records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from marketkit import balance_at

from agentbed.agents.agent import Agent, AgentView, PeriodicSchedule, derive_seed
from agentbed.agents.market.intents import (
    Condition,
    Intent,
    OnUnmetCondition,
    Pricing,
    sign_intent,
)
from agentbed.agents.market.strategies.intents import IntentMaker, Solver, crosses
from agentbed.agents.market.study import STRATEGIES
from agentbed.agents.market.world import IntentBoard, IntentFill, Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain

SEED = 11
WETH_RESERVE, USDC_RESERVE = 10**21, 3 * 10**24
GAS_LIMIT = 3_000_000
BPS = 10_000
NONCE_USED = "nonceUsed(address,uint256)"


@dataclass
class IntentWorld:
    """A chain with a deployed market; ``fresh`` yields a market on a snapshot of it."""

    chain: Chain
    tokens: dict[str, str]
    pools: tuple[Any, ...]
    factory: str

    def fresh(self) -> Iterator[Market]:
        snapshot = self.chain.snapshot()
        try:
            yield Market(
                self.chain, self.tokens, self.pools, seed=SEED, volatility=0.0, factory=self.factory
            )
        finally:
            self.chain.revert(snapshot)

    def run(self, market: Market, agents: Sequence[Agent], blocks: int) -> Simulation:
        sim = Simulation(self.chain, agents, blocks=blocks, seed=SEED, market=market)
        sim.run()
        return sim


@pytest.fixture(scope="module")
def world() -> IntentWorld:
    chain = Chain(
        seed=SEED, accounts=10, automine=True, gas_limit=GAS_LIMIT, block_interval_ms=2_000
    )
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", WETH_RESERVE, USDC_RESERVE)], seed=SEED)
    market.fund({a.address: {"WETH": 10**20, "USDC": 3 * 10**23} for a in chain.accounts[1:]})
    chain.automine = False
    assert market.factory is not None
    return IntentWorld(chain, dict(market.tokens), market.pools, market.factory)


@pytest.fixture
def market(world: IntentWorld) -> Iterator[Market]:
    yield from world.fresh()


def rng(*labels: object) -> random.Random:
    return random.Random(derive_seed(SEED, *labels))


def makers(world: IntentWorld, n: int, *, first: int = 1, **kwargs: Any) -> list[IntentMaker]:
    return [
        IntentMaker(
            f"maker{i}",
            world.chain.accounts[first + i],
            rng("maker", i),
            PeriodicSchedule(2_000, offset_ms=500 + 137 * i),
            mean_size=0.002,
            **kwargs,
        )
        for i in range(n)
    ]


def solvers(world: IntentWorld, n: int, *, first: int = 8) -> list[Solver]:
    return [
        Solver(f"solver{i}", world.chain.accounts[first + i], rng("solver", i), reaction_ms=50)
        for i in range(n)
    ]


def board(market: Market) -> IntentBoard:
    assert market.intent_board is not None
    return market.intent_board


def fills(market: Market) -> list[IntentFill]:
    return list(board(market).fills.values())


def nonce_used(world: IntentWorld, book: str, maker: str, nonce: int) -> bool:
    contract = world.chain.contract(book, "IntentBook")
    return bool(contract.functions.nonceUsed(maker, nonce).call())


# -- registry and set-up -----------------------------------------------------------------------


def test_strategies_registry_names_intent_agents() -> None:
    assert STRATEGIES["intent_maker"] is IntentMaker
    assert STRATEGIES["solver"] is Solver


def test_revert_when_no_intent_book_deployed(market: Market) -> None:
    maker = IntentMaker("m", Account.create(), random.Random(0))
    with pytest.raises(ValueError, match="deploy_intent_book"):
        maker.setup(market)


def test_deploy_intent_book_needs_the_factory(world: IntentWorld) -> None:
    bare = Market(world.chain, world.tokens, world.pools, seed=SEED, volatility=0.0)
    with pytest.raises(ValueError, match="factory"):
        bare.deploy_intent_book()


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (IntentMaker, {"slippage_bps": 10_000}, "slippage_bps"),
        (IntentMaker, {"mean_size": 0.0}, "mean_size"),
        (IntentMaker, {"horizon_s": 0}, "horizon_s"),
        (IntentMaker, {"conditional": 1.5}, "conditional"),
        (Solver, {"max_batch": 0}, "max_batch"),
        (Solver, {"expiry_margin_s": -1}, "expiry_margin_s"),
    ],
)
def test_revert_when_parameters_out_of_range(
    cls: type[Agent], params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls("x", Account.create(), random.Random(0), None, **params)


# -- fills ---------------------------------------------------------------------------------------


def test_intents_fill_at_or_above_limits_and_solver_takes_its_share(
    world: IntentWorld, market: Market
) -> None:
    book = market.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 2_000)
    agents: list[Agent] = [*makers(world, 4), *solvers(world, 1)]
    world.run(market, agents, blocks=10)
    posted = {p.digest: p.intent for p in board(market).posted.values()}
    filled = fills(market)
    assert len(posted) >= 20
    assert len(filled) >= 0.8 * len(posted)
    surplus = 0
    for fill in filled:
        intent = posted[fill.digest]
        assert fill.buy_amount >= intent.min_buy_amount
        assert fill.solver_reward == (fill.buy_amount - intent.min_buy_amount) * 2_000 // BPS
        assert nonce_used(world, book, intent.maker, intent.nonce)
        surplus += fill.buy_amount - fill.solver_reward - intent.min_buy_amount
    assert surplus > 0
    solver = agents[-1]
    for symbol, token in market.tokens.items():
        rewards = sum(f.solver_reward for f in filled if f.buy_token == token)
        assert rewards > 0, symbol
        # The solver paid gas in ETH only; its token balance grew by the rewards plus dust.
        start = 10**20 if symbol == "WETH" else 3 * 10**23
        assert balance_at(world.chain, token, solver.address) - start >= rewards


def test_intents_send_nothing_to_the_public_mempool_but_settlements(
    world: IntentWorld, market: Market
) -> None:
    market.deploy_intent_book()
    agents: list[Agent] = [*makers(world, 3), *solvers(world, 1)]
    sim = world.run(market, agents, blocks=6)
    labels = {sent.label for sent in sim.sent.values()}
    assert labels == {"approve", "settle"}
    assert all(m.sent == len(market.tokens) for m in agents[:3])  # approvals of the book


def test_competing_solvers_fill_each_intent_once(world: IntentWorld, market: Market) -> None:
    book = market.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 1_000)
    agents: list[Agent] = [*makers(world, 4), *solvers(world, 2)]
    sim = world.run(market, agents, blocks=10)
    receipts = [r for m in sim.metrics for r in world.chain.receipts(m.number)]
    settles = [r for r in receipts if sim.sent[r.tx_hash].label == "settle"]
    events = [
        log.event
        for r in settles
        for log in r.logs
        if log.address == book and log.event and log.event.name == "IntentFilled"
    ]
    digests = [bytes(e.args["intentHash"]) for e in events]
    assert len(digests) >= 20
    assert len(digests) == len(set(digests))
    assert {str(e.args["solver"]) for e in events} <= {a.address for a in agents[4:]}
    assert all(solver.sent >= 3 for solver in agents[4:])  # both competed
    losers = [r for r in settles if r.status == 0]
    assert losers
    # A Skip book skips the intents a rival filled first; the loser's plan then reverts on
    # its swap (less to sell, or less out than its quoted minimum) or on the payout.
    reasons = {(r.revert_reason or "").split("(")[0] for r in losers}
    assert reasons <= {
        "PoolSlippage",
        "ERC20InsufficientBalance",
        "IntentBookInsufficientOutput",
        "IntentBookLimitViolated",
    }, reasons
    # and what it did settle was only what nobody had filled (each digest filled once, above)


def test_uniform_price_gives_same_pair_makers_the_same_rate(
    world: IntentWorld, market: Market
) -> None:
    market.deploy_intent_book(Pricing.UNIFORM_PRICE, OnUnmetCondition.SKIP, 0)
    world.run(market, [*makers(world, 5), *solvers(world, 1)], blocks=8)
    by_batch: dict[tuple[bytes, str], list[IntentFill]] = {}
    for fill in fills(market):
        by_batch.setdefault((fill.tx_hash, fill.sell_token), []).append(fill)
    shared = [group for group in by_batch.values() if len(group) >= 2]
    assert len(shared) >= 3
    for group in shared:
        rates = [f.buy_amount / f.sell_amount for f in group]
        assert max(rates) - min(rates) <= 1e-9 * max(rates)


def test_pay_as_filled_rates_differ_between_same_pair_makers(
    world: IntentWorld, market: Market
) -> None:
    # The contrast to the uniform-price test: pay-as-filled pays limit plus a pro-rata share.
    market.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 0)
    world.run(market, [*makers(world, 5), *solvers(world, 1)], blocks=8)
    by_batch: dict[tuple[bytes, str], list[IntentFill]] = {}
    for fill in fills(market):
        by_batch.setdefault((fill.tx_hash, fill.sell_token), []).append(fill)
    spreads = [
        max(f.buy_amount / f.sell_amount for f in g) / min(f.buy_amount / f.sell_amount for f in g)
        for g in by_batch.values()
        if len(g) >= 2
    ]
    assert spreads and max(spreads) > 1 + 1e-6


def test_same_seed_gives_the_same_fills(world: IntentWorld) -> None:
    def run_once() -> list[IntentFill]:
        for market in world.fresh():
            market.deploy_intent_book(Pricing.UNIFORM_PRICE, OnUnmetCondition.SKIP, 500)
            agents = [*makers(world, 3, conditional=0.3), *solvers(world, 2)]
            world.run(market, agents, blocks=6)
            return fills(market)
        raise AssertionError("unreachable")

    first, second = run_once(), run_once()
    assert first
    assert first == second


# -- conditional intents -----------------------------------------------------------------------


class Poster(Agent):
    """Posts fixed intents, built by ``make(view, nonce)``, on its first scheduled wake."""

    def __init__(self, *args: Any, orders: Sequence[tuple[str, float, bool]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.orders = orders  # (sell symbol, size as a fraction of the reserve, conditional)
        self.intents: list[Intent] = []

    def setup(self, market: Any) -> Sequence[Any]:
        return market.approvals([market.intent_board.book])

    def observe(self, view: AgentView) -> Sequence[Any]:
        if self.intents or view.reason != "schedule":
            return ()
        market = view.market
        pool = market.pools[0]
        for sell, fraction, conditional in self.orders:
            token_in = market.tokens[sell]
            amount = int(market.reserves_for(pool, token_in)[0] * fraction)
            intent = Intent(
                maker=self.address,
                sell_token=token_in,
                buy_token=pool.other(token_in),
                sell_amount=amount,
                min_buy_amount=market.quote(pool, token_in, amount) * 99 // 100,
                deadline=view.head.timestamp + 30,
                nonce=len(self.intents),
                condition=Condition.counter_intent() if conditional else Condition.none(),
            )
            signature = sign_intent(
                self.account,
                intent,
                chain_id=market.intent_board.chain_id,
                verifying_contract=market.intent_board.book,
            )
            market.intent_board.post(intent, signature, now_ms=view.now_ms)
            self.intents.append(intent)
        return ()


def poster(world: IntentWorld, i: int, orders: Sequence[tuple[str, float, bool]]) -> Poster:
    return Poster(
        f"poster{i}",
        world.chain.accounts[1 + i],
        rng("poster", i),
        PeriodicSchedule(60_000, offset_ms=500),
        orders=orders,
    )


@pytest.mark.parametrize("on_unmet", [OnUnmetCondition.SKIP, OnUnmetCondition.REVERT])
def test_conditional_intent_fills_when_a_crossing_counter_intent_exists(
    world: IntentWorld, market: Market, on_unmet: OnUnmetCondition
) -> None:
    book = market.deploy_intent_book(Pricing.PAY_AS_FILLED, on_unmet, 1_000)
    alice = poster(world, 0, [("WETH", 0.002, True)])
    bob = poster(world, 1, [("USDC", 0.001, False)])
    world.run(market, [alice, bob, *solvers(world, 1)], blocks=4)
    assert crosses(alice.intents[0], bob.intents[0])
    assert nonce_used(world, book, alice.address, 0)
    filled = fills(market)
    assert sorted(f.maker for f in filled) == sorted([alice.address, bob.address])
    assert len({f.tx_hash for f in filled}) == 1  # in the same batch


@pytest.mark.parametrize("on_unmet", [OnUnmetCondition.SKIP, OnUnmetCondition.REVERT])
def test_conditional_intent_never_fills_without_a_counter_intent(
    world: IntentWorld, market: Market, on_unmet: OnUnmetCondition
) -> None:
    book = market.deploy_intent_book(Pricing.PAY_AS_FILLED, on_unmet, 1_000)
    # A same-side unconditional intent is settled through the pool; it crosses nothing.
    alice = poster(world, 0, [("WETH", 0.002, True)])
    carol = poster(world, 1, [("WETH", 0.001, False)])
    world.run(market, [alice, carol, *solvers(world, 1)], blocks=4)
    assert not nonce_used(world, book, alice.address, 0)
    assert nonce_used(world, book, carol.address, 0)
    assert alice.address not in {f.maker for f in fills(market)}


def test_conditional_share_is_counted_not_drawn(world: IntentWorld, market: Market) -> None:
    # Counting keeps the maker's random draws those of RetailTrader (see IntentMaker).
    market.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 0)
    agents = makers(world, 2, conditional=0.3)
    world.run(market, agents, blocks=8)
    for maker in agents:
        flags = [i.condition == Condition.counter_intent() for i in maker.intents]
        assert len(flags) >= 7
        # The credit reaches 1.2 at the 4th intent, then 0.2 + 3 * 0.3 = 1.1 at the 7th.
        assert [k for k, flag in enumerate(flags) if flag][:2] == [3, 6]
        assert sum(flags) == int(0.3 * len(flags) + 1e-9)


def test_conditional_makers_fill_only_next_to_crossing_intents(
    world: IntentWorld, market: Market
) -> None:
    market.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 0)
    world.run(market, [*makers(world, 5, conditional=0.5), *solvers(world, 1)], blocks=10)
    posted = {p.digest: p.intent for p in board(market).posted.values()}
    by_tx: dict[bytes, list[Intent]] = {}
    for fill in fills(market):
        by_tx.setdefault(fill.tx_hash, []).append(posted[fill.digest])
    conditional_fills = 0
    for batch in by_tx.values():
        for intent in batch:
            if intent.condition == Condition.counter_intent():
                conditional_fills += 1
                assert any(crosses(intent, other) for other in batch if other is not intent)
    assert conditional_fills >= 3


@pytest.mark.parametrize("pricing", [Pricing.PAY_AS_FILLED, Pricing.FAIR_PAY_AS_FILLED])
def test_a_steering_solver_diverts_surplus_only_on_the_vulnerable_book(
    world: IntentWorld, market: Market, pricing: Pricing
) -> None:
    """A solver steering surplus to maker 1 (its own): on the vulnerable book maker 1's rate
    beats every other maker's of the same batch and side;
    on the fair book all rates of a batch and side agree (to rounding)."""
    market.deploy_intent_book(pricing, OnUnmetCondition.SKIP, 0)
    agents = makers(world, 5)
    own = agents[0].address
    steering = Solver("steerer", world.chain.accounts[8], rng("steerer"), steer_to=own)
    world.run(market, [*agents, steering], blocks=8)
    by_batch: dict[tuple[bytes, str], list[IntentFill]] = {}
    for fill in fills(market):
        by_batch.setdefault((fill.tx_hash, fill.sell_token), []).append(fill)
    contested = [g for g in by_batch.values() if len(g) >= 2 and any(f.maker == own for f in g)]
    assert len(contested) >= 2
    for group in contested:
        rate = {f.maker: f.buy_amount / f.sell_amount for f in group}
        others = [r for m, r in rate.items() if m != own]
        if pricing == Pricing.PAY_AS_FILLED:
            assert rate[own] > max(others) * (1 + 1e-6)
        else:
            assert max(rate.values()) - min(rate.values()) <= 1e-9 * max(rate.values())


def test_revert_when_a_steering_solver_meets_a_uniform_book(
    world: IntentWorld, market: Market
) -> None:
    market.deploy_intent_book(Pricing.UNIFORM_PRICE, OnUnmetCondition.SKIP, 0)
    steering = Solver(
        "s", world.chain.accounts[8], rng("s"), steer_to=world.chain.accounts[1].address
    )
    with pytest.raises(ValueError, match="steer_to needs a pay-as-filled"):
        steering.setup(market)
