"""The searcher-free price of anarchy (``agents/market/routing_anarchy.py``).

A hand-built block (two orders congesting one of two equal pools) whose price of anarchy is
computed here from the constant-product formula; the guarantee the module docstring states (a
lone order routed on one route: the optimal replay costs no more, and both costs are positive)
as a hypothesis property on random small networks; a fixed block where the sequential planner
costs more than selfish routing (the limit of that guarantee); and the reading of an order's
routes back from its pools' swap logs, on chain and from hand-made logs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marketkit import World, build_world

from agentbed.agents.erc20 import approve_calldata
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.routing import Leg, Route, find_routes, optimal_split
from agentbed.agents.market.routing_anarchy import (
    ReplayError,
    RoutedOrder,
    order_from_swaps,
    replay_block,
    routed_orders,
    social_costs,
    spot_rate,
)
from agentbed.agents.market.routing_calls import Routed, attach_router, order_intent
from agentbed.agents.market.venues.protocol import Pool, SwapLog
from agentbed.agents.market.world import Market, PoolSpec

E = 10**18
TOKENS = ("A", "B", "C", "D")
PAIRS = tuple(itertools.combinations(TOKENS, 2))
FUZZ = settings(max_examples=30, deadline=None)  # each example runs the optimal split
PRICES = dict.fromkeys(TOKENS, 1.0)  # every token worth one numeraire unit


def make_pool(i: int, a: str, b: str, fee: int = 30) -> Pool:
    return Pool(f"0x{i:040x}", a, b, a, b, fee)


def quote(pool: Pool, amount: int, r_in: int, r_out: int) -> int:
    return amount_out(amount, r_in, r_out, pool.fee_bps)


def order(route_amounts: list[tuple[Route, int]]) -> RoutedOrder:
    routes = tuple(r for r, _ in route_amounts)
    amounts = tuple(a for _, a in route_amounts)
    first = routes[0]
    event = Routed("0xs", first.token_in, first.token_out, sum(amounts), 0, "0xs", len(routes))
    return RoutedOrder(event, routes, amounts)


def cp_out(x: float, r_in: float, r_out: float, fee: float = 0.003) -> float:
    """The constant-product output in real numbers (the hand computation)."""
    return x * (1 - fee) * r_out / (r_in + x * (1 - fee))


def test_price_of_anarchy_of_two_orders_congesting_one_of_two_equal_pools() -> None:
    # two A/D pools of 1,000 each side; two orders of 100 A, both sent to the first pool
    one, two = make_pool(0, "A", "D"), make_pool(1, "A", "D")
    reserves = {p.address: (1000 * E, 1000 * E) for p in (one, two)}
    via_one, via_two = (Route((Leg(p, "A"),)) for p in (one, two))
    orders = [order([(via_one, 100 * E)]), order([(via_one, 100 * E)])]
    replays = replay_block(orders, lambda a, b: (via_one, via_two), reserves, quote)
    selfish, optimal = social_costs(replays, PRICES)

    # by hand: free flow is 100 D per order (spot 1); selfish, the second order meets the
    # first's impact; the planner halves each order over the two pools, which stay equal
    first = cp_out(100, 1000, 1000)
    second = cp_out(100, 1100, 1000 - first)
    half = cp_out(50, 1000, 1000)
    later_half = cp_out(50, 1050, 1000 - half)
    by_hand_selfish = (100 - first) + (100 - second)
    by_hand_optimal = (100 - 2 * half) + (100 - 2 * later_half)
    assert [r.free_flow for r in replays] == [100 * E, 100 * E]
    assert selfish == pytest.approx(by_hand_selfish, rel=1e-9)
    assert optimal == pytest.approx(by_hand_optimal, rel=1e-9)
    assert selfish / optimal == pytest.approx(by_hand_selfish / by_hand_optimal, rel=1e-9)
    assert selfish / optimal == pytest.approx(1.8068, abs=1e-4)


def test_free_flow_rate_is_the_best_routes_spot_at_the_block_start() -> None:
    ab, bd, ad = make_pool(0, "A", "B"), make_pool(1, "B", "D"), make_pool(2, "A", "D")
    reserves = {
        ab.address: (1000 * E, 1200 * E),  # 1.2 B per A
        bd.address: (1000 * E, 900 * E),  # 0.9 D per B
        ad.address: (500 * E, 540 * E),  # 1.08 D per A
    }
    two_hop = Route((Leg(ab, "A"), Leg(bd, "B")))
    direct = Route((Leg(ad, "A"),))
    assert spot_rate(two_hop, reserves) == pytest.approx(1.08)
    assert spot_rate(Route((Leg(ad, "D"),)), reserves) == pytest.approx(500 / 540)
    # a lone order on the direct pool: its free flow is its input at the best spot, 1.08
    (replay,) = replay_block(
        [order([(direct, 10 * E)])], lambda a, b: (two_hop, direct), reserves, quote
    )
    assert replay.free_flow == pytest.approx(10.8 * E)
    assert replay.selfish == quote(ad, 10 * E, 500 * E, 540 * E)


def test_sequential_planner_can_cost_more_than_selfish_routing_on_a_block() -> None:
    # the limit the module docstring states: two opposite orders on the direct pool, where the
    # second one buys back the first's impact; the planner spreads the first order over both
    # routes, which serves it better but leaves the second less to buy back
    ab, bd, ad = make_pool(0, "A", "B"), make_pool(1, "B", "D"), make_pool(2, "A", "D")
    reserves = {
        ab.address: (833 * E, 1126 * E),
        bd.address: (1392 * E, 911 * E),
        ad.address: (1421 * E, 788 * E),
    }
    pools = [ab, bd, ad]
    orders = [
        order([(Route((Leg(ad, "A"),)), 112 * E)]),
        order([(Route((Leg(ad, "D"),)), 183 * E)]),
    ]
    replays = replay_block(orders, lambda a, b: find_routes(pools, a, b), reserves, quote)
    selfish, optimal = social_costs(replays, PRICES)
    assert replays[0].optimal > replays[0].selfish  # the first order: planner at least as good
    assert replays[1].optimal < replays[1].selfish
    assert 0 < selfish < optimal


@st.composite
def lone_orders(draw: st.DrawFn) -> tuple[list[Pool], dict[str, tuple[int, int]], int, int]:
    """A random network on A..D with a route A -> D, an order size and a route index."""
    chosen = draw(st.lists(st.sampled_from(PAIRS), min_size=1, max_size=6, unique=True))
    if not find_routes([make_pool(i, a, b) for i, (a, b) in enumerate(chosen)], "A", "D"):
        chosen = [*chosen, ("A", "D")]
    pools, reserves = [], {}
    for i, (a, b) in enumerate(chosen):
        pool = make_pool(i, a, b, draw(st.sampled_from((0, 5, 30, 100))))
        pools.append(pool)
        # independent reserves: the pools need not agree on prices (stale, mispriced starts)
        reserves[pool.address] = (
            draw(st.integers(10**3, 10**7)) * E // 1000,
            draw(st.integers(10**3, 10**7)) * E // 1000,
        )
    amount = draw(st.integers(1, 10**6)) * E // 1000
    return pools, reserves, amount, draw(st.integers(0, 10**6))


@FUZZ
@given(lone_orders())
def test_fuzz_lone_order_on_one_route_costs_the_planner_no_more(network: tuple) -> None:
    pools, reserves, amount, pick = network
    routes = find_routes(pools, "A", "D")
    chosen = routes[pick % len(routes)]
    (replay,) = replay_block([order([(chosen, amount)])], lambda a, b: routes, reserves, quote)
    selfish, optimal = social_costs([replay], PRICES)
    assert replay.optimal >= replay.selfish
    assert 0 < optimal <= selfish
    assert selfish / optimal >= 1


def swap(token_in: str, amount_in: int, amount_out: int) -> SwapLog:
    return SwapLog(token_in, amount_in, amount_out, "0xr")


def test_order_from_swaps_chains_legs_into_routes_and_refuses_what_does_not_add_up() -> None:
    ab, bd, ad = make_pool(0, "A", "B"), make_pool(1, "B", "D"), make_pool(2, "A", "D")
    swaps = [(ab, swap("A", 60, 58)), (bd, swap("B", 58, 55)), (ad, swap("A", 40, 38))]
    event = Routed("0xs", "A", "D", 100, 93, "0xs", 2)
    built = order_from_swaps(event, swaps, "here")
    assert built.routes == (Route((Leg(ab, "A"), Leg(bd, "B"))), Route((Leg(ad, "A"),)))
    assert built.amounts == (60, 40)
    with pytest.raises(ReplayError, match="here: the pool swaps do not add up"):
        order_from_swaps(Routed("0xs", "A", "D", 100, 94, "0xs", 2), swaps, "here")
    with pytest.raises(ReplayError, match="here: a swap of B continues no route"):
        order_from_swaps(event, [(bd, swap("B", 58, 55))], "here")
    broken = [(ab, swap("A", 60, 58)), (bd, swap("B", 57, 55)), (ad, swap("A", 40, 38))]
    with pytest.raises(ReplayError, match="continues no route"):
        order_from_swaps(event, broken, "here")


SPECS = (
    PoolSpec("A", "B", 1000 * E, 1000 * E),
    PoolSpec("B", "D", 1000 * E, 1000 * E),
    PoolSpec("A", "D", 1000 * E, 1000 * E),
)


@pytest.fixture(scope="module")
def world() -> World:
    built = build_world(11, SPECS, {s: 10_000 * E for s in "ABD"}, accounts=2)
    built.chain.automine = True
    return built


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        attach_router(fresh)
        yield fresh


def test_routed_orders_reads_a_split_order_back_from_its_receipt(
    world: World, market: Market
) -> None:
    assert market.router is not None
    a, d = market.tokens["A"], market.tokens["D"]

    def chain_quote(pool: Any, amount: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount, r_in, r_out, pool.address))

    routes = find_routes(market.pools, a, d)
    plan = optimal_split(routes, 150 * E, market.reserves, chain_quote)
    assert len(plan.routes) == 2
    account = world.account(1)
    world.chain.transact(
        account, to=a, data=approve_calldata(market.router, 2**256 - 1), gas=60_000
    )
    intent = order_intent(market, market.router, plan, plan.amount_out, account.address, tip=1)
    receipt = world.chain.receipt(
        world.chain.transact(account, to=intent.to, data=intent.data, gas=intent.gas)
    )
    (found,) = routed_orders(market, [receipt])
    assert found.routes == plan.routes
    assert found.amounts == plan.amounts
    assert (found.event.amount_in, found.event.amount_out) == (150 * E, plan.amount_out)
