"""``contracts/Router.sol`` against the off-chain router: quotes equal execution to the wei.

A four-token network (A/B, B/D, A/C, C/D on our pool, A/D on Uniswap v2) is deployed once;
each test runs on a snapshot. The off-chain side (``agents/market/routing.py``) quotes from the
market's reserves with each venue's integer formula; the chain side is one ``Router.swap``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import decode, encode
from hypothesis import given, settings
from hypothesis import strategies as st
from marketkit import World, build_world
from txkit import assert_ok, assert_reverted

from agentbed.agents.erc20 import approve_calldata
from agentbed.agents.market.routing import Split, best_route, execute, find_routes, optimal_split
from agentbed.agents.market.routing_calls import (
    SWAP_ARGS,
    SWAP_SELECTOR,
    RouterDecoder,
    attach_router,
    order_calldata,
    routed_events,
)
from agentbed.agents.market.world import Market, PoolSpec

E = 10**18
MAX = 2**256 - 1
SPECS = (
    PoolSpec("A", "B", 1000 * E, 1000 * E),
    PoolSpec("B", "D", 1000 * E, 1100 * E),
    PoolSpec("A", "C", 800 * E, 1000 * E),
    PoolSpec("C", "D", 1000 * E, 900 * E),
    PoolSpec("A", "D", 300 * E, 310 * E, venue="uniswap-v2"),
)


@pytest.fixture(scope="module")
def world() -> World:
    built = build_world(5, SPECS, {s: 10_000 * E for s in "ABCD"}, accounts=4)
    built.chain.automine = True
    return built


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        attach_router(fresh)
        assert fresh.router is not None
        trader = world.account(1)
        for token in fresh.tokens.values():
            world.chain.transact(
                trader, to=token, data=approve_calldata(fresh.router, MAX), gas=60_000
            )
        yield fresh


def quote(market: Market) -> Any:
    def q(pool: Any, amount: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount, r_in, r_out, pool.address))

    return q


def reserves_now(market: Market) -> dict[str, tuple[int, int]]:
    found = {}
    for pool in market.pools:
        raw = market.chain.call(pool.address, bytes.fromhex("0902f1ac"))  # getReserves()
        r0, r1 = decode(("uint256", "uint256"), raw[:64])
        found[pool.address] = (r0, r1)
    return found


def send(world: World, market: Market, data: bytes, gas: int) -> Any:
    assert market.router is not None
    return world.chain.receipt(
        world.chain.transact(world.account(1), to=market.router, data=data, gas=gas)
    )


def test_split_quote_equals_on_chain_execution_to_the_wei(world: World, market: Market) -> None:
    a, d = market.tokens["A"], market.tokens["D"]
    routes = find_routes(market.pools, a, d)
    reserves = reserves_now(market)
    split = optimal_split(routes, 120 * E, reserves, quote(market))
    assert len(split.routes) == 3  # direct v2 pair and both two-hop routes
    _, predicted = execute(split.routes, split.amounts, reserves, quote(market))
    trader = world.account(1).address
    before = world.balance("D", trader), world.balance("A", trader)
    data, gas = order_calldata(market, str(market.router), split, split.amount_out, trader)
    receipt = assert_ok(send(world, market, data, gas))
    assert world.balance("D", trader) - before[0] == split.amount_out
    assert before[1] - world.balance("A", trader) == 120 * E
    ((_, event),) = routed_events(str(market.router), (receipt,))
    assert (event.amount_in, event.amount_out, event.routes) == (120 * E, split.amount_out, 3)
    assert reserves_now(market) == predicted
    for symbol in "ABCD":  # the router keeps nothing
        assert world.balance(symbol, str(market.router)) == 0


@settings(max_examples=8, deadline=None)
@given(
    amounts=st.lists(st.integers(0, 200 * E), min_size=3, max_size=3).filter(any),
    reverse=st.booleans(),
)
def test_fuzz_any_allocation_quotes_exactly(
    world: World, amounts: list[int], reverse: bool
) -> None:
    with world.fresh() as market:
        attach_router(market)
        assert market.router is not None
        trader = world.account(1)
        a, d = market.tokens["A"], market.tokens["D"]
        sold, bought = (d, a) if reverse else (a, d)
        world.chain.transact(trader, to=sold, data=approve_calldata(market.router, MAX), gas=60_000)
        routes = find_routes(market.pools, sold, bought)
        kept = [(r, x) for r, x in zip(routes, amounts, strict=True) if x > 0]
        outputs, _ = execute(
            [r for r, _ in kept], [x for _, x in kept], reserves_now(market), quote(market)
        )
        split = Split(tuple(r for r, _ in kept), tuple(x for _, x in kept), outputs)
        data, gas = order_calldata(market, market.router, split, split.amount_out, trader.address)
        receipt = send(world, market, data, gas)
        if 0 in outputs:  # a pool refuses a zero output: the router reverts with it
            assert_reverted(receipt, error="RouterHopFailed")
            return
        assert_ok(receipt)
        ((_, event),) = routed_events(market.router, (receipt,))
        assert event.amount_out == split.amount_out


def test_revert_when_output_is_below_the_minimum(world: World, market: Market) -> None:
    a, d = market.tokens["A"], market.tokens["D"]
    split = optimal_split(
        find_routes(market.pools, a, d), 50 * E, reserves_now(market), quote(market)
    )
    trader = world.account(1).address
    data, gas = order_calldata(market, str(market.router), split, split.amount_out + 1, trader)
    before = reserves_now(market)
    reason = assert_reverted(send(world, market, data, gas), error="RouterSlippage")
    assert str(split.amount_out) in reason
    assert reserves_now(market) == before  # all routes or none


def test_revert_when_a_hop_calls_an_unregistered_target(world: World, market: Market) -> None:
    a, d = market.tokens["A"], market.tokens["D"]
    trader = world.account(1).address
    # A hop "calling" token A's transferFrom(trader, attacker, ...) with the router's allowance.
    steal = bytes.fromhex("23b872dd") + encode(
        ("address", "address", "uint256"), (trader, world.account(2).address, 0)
    )
    routes = [(E, [(a, a, d, 68, steal)])]
    data = SWAP_SELECTOR + encode(SWAP_ARGS, (a, d, routes, 0, trader, MAX))
    assert_reverted(send(world, market, data, 500_000), error="RouterUnknownTarget")


def test_revert_after_the_deadline_and_on_a_route_ending_elsewhere(
    world: World, market: Market
) -> None:
    a, b, d = (market.tokens[s] for s in "ABD")
    trader = world.account(1).address
    split = best_route(find_routes(market.pools, a, d), E, reserves_now(market), quote(market))
    data, gas = order_calldata(market, str(market.router), split, 0, trader, deadline=1)
    assert_reverted(send(world, market, data, gas), error="RouterExpired")
    to_b = best_route(find_routes(market.pools, a, b), E, reserves_now(market), quote(market))
    data, gas = order_calldata(market, str(market.router), to_b, 0, trader)
    _, _, routes, *_ = decode(SWAP_ARGS, data[4:])
    wrong = SWAP_SELECTOR + encode(SWAP_ARGS, (a, d, routes, 0, trader, MAX))
    assert_reverted(send(world, market, wrong, gas), error="RouterInvalidRoute")


def test_pending_router_calls_decode_into_their_first_legs(market: Market) -> None:
    a, d = market.tokens["A"], market.tokens["D"]
    split = optimal_split(
        find_routes(market.pools, a, d), 120 * E, reserves_now(market), quote(market)
    )
    data, _ = order_calldata(market, str(market.router), split, 0, a)
    swaps = RouterDecoder(market, str(market.router)).decode_call(market.router, data)
    assert swaps is not None
    legs = [leg for route in split.routes for leg in route.legs]
    assert [s.pool for s in swaps] == [leg.pool.address for leg in legs]
    firsts = [s.amount_in for s in swaps if s.token_in == a]
    assert sorted(firsts) == sorted(split.amounts)
    assert market.pending_swaps(market.router, data) == swaps
