"""The routing metrics' replay (``agents/market/routing_metrics.py``) and the routing traders'
choices, on a small deployed network.

A block holding one naive order is replayed: the optimal replay gives what ``optimal_split``
gives on the block's start reserves, and the naive order's realised output is what its own
route quoted, so the shortfall is exactly their difference.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from marketkit import OneShot, World, block_receipts, build_world, once_at

from agentbed.agents.agent import GWEI, AgentView
from agentbed.agents.erc20 import approve_calldata
from agentbed.agents.market.routing import find_routes, optimal_split
from agentbed.agents.market.routing_calls import attach_router, order_intent, routed_events
from agentbed.agents.market.routing_metrics import optimal_outputs, start_reserves
from agentbed.agents.market.strategies.routing import RouteBackrunner, RoutingTrader
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.chain.ordering import PriorityFeePolicy

E = 10**18
SPECS = (
    PoolSpec("A", "B", 1000 * E, 1000 * E),
    PoolSpec("B", "D", 1000 * E, 1000 * E),
    PoolSpec("A", "C", 1000 * E, 1000 * E),
    PoolSpec("C", "D", 1000 * E, 1000 * E),
)


@pytest.fixture(scope="module")
def world() -> World:
    built = build_world(9, SPECS, {s: 10_000 * E for s in "ABCD"}, accounts=3)
    built.chain.automine = True
    return built


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        attach_router(fresh)
        yield fresh


def trader(choice: str, **params: Any) -> RoutingTrader:
    return RoutingTrader(
        choice, Account.from_key(b"\x02" * 32), random.Random(0), None, choice=choice, **params
    )


def test_replay_of_a_naive_order_gives_the_optimal_split_on_the_start_reserves(
    world: World, market: Market
) -> None:
    assert market.router is not None
    a, d = market.tokens["A"], market.tokens["D"]
    naive = trader("naive", route=0)
    plan = naive.plan(market, a, d, 100 * E)
    assert [r.label(market.symbols) for r in plan.routes] == ["A>B>D"]
    account = world.account(1)
    world.chain.transact(
        account, to=a, data=approve_calldata(market.router, 2**256 - 1), gas=60_000
    )
    intent = order_intent(market, market.router, plan, plan.amount_out, account.address, tip=1)
    receipt = world.chain.receipt(
        world.chain.transact(account, to=intent.to, data=intent.data, gas=intent.gas)
    )
    ((_, event),) = routed_events(market.router, (receipt,))
    assert event.amount_out == plan.amount_out
    start = start_reserves(market, receipt.block_number)
    assert start == market.reserves  # the market's reserves were read before the order
    ((order, best),) = optimal_outputs(market, [receipt], start)

    def quote(pool: Any, amount: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount, r_in, r_out, pool.address))

    routes = find_routes(market.pools, a, d, max_hops=3)
    assert best == optimal_split(routes, 100 * E, start, quote).amount_out
    assert best > order.amount_out  # two equal routes: splitting beats one of them


def test_choices_route_as_named(market: Market) -> None:
    a, d = market.tokens["A"], market.tokens["D"]
    greedy = trader("greedy").plan(market, a, d, 100 * E)
    split = trader("split").plan(market, a, d, 100 * E)
    assert len(greedy.routes) == 1
    assert len(split.routes) == 2 and split.amount_out > greedy.amount_out


def test_bad_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="choice must be one of naive, greedy, split"):
        trader("smart")
    with pytest.raises(ValueError, match="token_in and token_out must differ"):
        trader("naive", token_in="A", token_out="A")


def test_route_backrunner_trades_the_most_moved_pool_right_behind_a_routed_order(
    world: World,
) -> None:
    with world.fresh() as market:
        attach_router(market)
        assert market.router is not None
        world.chain.automine = False
        a, d = market.tokens["A"], market.tokens["D"]
        account = world.account(1)

        def order(view: AgentView) -> Any:
            naive = trader("naive", route=0)
            plan = naive.plan(view.market, a, d, 60 * E)
            return (order_intent(market, market.router, plan, 0, account.address, tip=GWEI),)

        sender = OneShot("sender", account, world.rng("sender"), once_at(1_000), make=order)
        sender.setup = lambda m: m.approvals([m.router])  # type: ignore[method-assign]
        backrunner = RouteBackrunner(
            "searcher", world.account(2), world.rng("searcher"), numeraire="D", eth_price=3000.0
        )
        try:
            sim = world.run(market, [sender, backrunner], blocks=1, policy=PriorityFeePolicy())
        finally:
            world.chain.automine = True
        mined = [
            (sim.sent[r.tx_hash].agent, sim.sent[r.tx_hash].label, r.status)
            for r in block_receipts(sim)
            if r.tx_hash in sim.sent and sim.sent[r.tx_hash].label != "approve"
        ]
        assert mined == [("sender", "route", 1), ("searcher", "backrun", 1)]
        backrun = next(s for s in sim.sent.values() if s.label == "backrun")
        # the order sold A into A/B first: that pool moved most (B/D sees a smaller B sale)
        assert backrun.meta["pool"] == market.pools[0].address
