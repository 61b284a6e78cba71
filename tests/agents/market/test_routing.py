"""The off-chain router of ``agents/market/routing.py``, on random small networks.

Everything here is pure integer math from reserves (no chain): route finding, the sequential
execution model and the optimal split. The must-show property: the optimal split pays at least
as much as every single route, and its quoted output is exactly what an independent replay of
its allocation pays.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.routing import (
    Leg,
    Route,
    RoutingError,
    best_route,
    execute,
    find_routes,
    optimal_split,
)
from agentbed.agents.market.venues.protocol import Pool

E = 10**18
TOKENS = ("A", "B", "C", "D")
PAIRS = tuple(itertools.combinations(TOKENS, 2))
FUZZ = settings(max_examples=40, deadline=None)


def make_pool(i: int, a: str, b: str, fee: int = 30) -> Pool:
    return Pool(f"0x{i:040x}", a, b, a, b, fee)


def quote(pool: Pool, amount: int, r_in: int, r_out: int) -> int:
    return amount_out(amount, r_in, r_out, pool.fee_bps)


def replay(routes: tuple[Route, ...], amounts: tuple[int, ...], reserves: dict) -> int:
    """An independent model of the router: route by route, leg by leg, on a copy of the state."""
    state = {k: list(v) for k, v in reserves.items()}
    total = 0
    for route, amount in zip(routes, amounts, strict=True):
        for leg in route.legs:
            r = state[leg.pool.address]
            i = 0 if leg.token_in == leg.pool.token0 else 1
            with_fee = amount * (10_000 - leg.pool.fee_bps)
            out = with_fee * r[1 - i] // (r[i] * 10_000 + with_fee)
            r[i] += amount
            r[1 - i] -= out
            amount = out
        total += amount
    return total


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[Pool], dict[str, tuple[int, int]], int]:
    """A random network on A..D that always holds a route A -> D, and an order size."""
    chosen = draw(st.lists(st.sampled_from(PAIRS), min_size=1, max_size=6, unique=True))
    if not find_routes([make_pool(i, a, b) for i, (a, b) in enumerate(chosen)], "A", "D"):
        chosen = [*chosen, ("A", "D")]
    pools, reserves = [], {}
    for i, (a, b) in enumerate(chosen):
        pool = make_pool(i, a, b, draw(st.sampled_from((0, 5, 30, 100))))
        pools.append(pool)
        reserves[pool.address] = (
            draw(st.integers(10**3, 10**7)) * E // 1000,
            draw(st.integers(10**3, 10**7)) * E // 1000,
        )
    return pools, reserves, draw(st.integers(1, 10**6)) * E // 1000


@FUZZ
@given(networks())
def test_fuzz_optimal_split_beats_every_single_route(network: tuple) -> None:
    pools, reserves, amount = network
    routes = find_routes(pools, "A", "D")
    split = optimal_split(routes, amount, reserves, quote)
    assert split.amount_in == amount
    assert split.amount_out == replay(split.routes, split.amounts, reserves)
    for route in routes:
        assert split.amount_out >= replay((route,), (amount,), reserves)


def test_split_reaches_the_brute_force_optimum_of_two_disjoint_routes() -> None:
    pools = [make_pool(0, "A", "B"), make_pool(1, "B", "D"), make_pool(2, "A", "D")]
    reserves = {
        pools[0].address: (1000 * E, 1000 * E),
        pools[1].address: (1000 * E, 1100 * E),
        pools[2].address: (500 * E, 500 * E),
    }
    routes = find_routes(pools, "A", "D")
    amount = 200 * E
    split = optimal_split(routes, amount, reserves, quote)
    grid = max(
        replay(routes, (amount * k // 1000, amount - amount * k // 1000), reserves)
        for k in range(1001)
    )
    assert len(split.routes) == 2  # the order is really split
    assert split.amount_out >= grid - grid // 10**12
    assert split.amount_out > best_route(routes, amount, reserves, quote).amount_out


def test_find_routes_lists_simple_paths_shortest_first() -> None:
    pools = [
        make_pool(0, "A", "B"),
        make_pool(1, "B", "D"),
        make_pool(2, "A", "C"),
        make_pool(3, "C", "D"),
        make_pool(4, "A", "D"),
        make_pool(5, "B", "C"),
    ]
    labels = [r.label({}) for r in find_routes(pools, "A", "D")]
    assert labels == ["A>D", "A>B>D", "A>C>D", "A>B>C>D", "A>C>B>D"]
    assert [r.label({}) for r in find_routes(pools, "A", "D", max_hops=2)] == labels[:3]


def test_execute_moves_a_shared_pool_between_routes() -> None:
    ab, bd, bd2 = make_pool(0, "A", "B"), make_pool(1, "B", "D"), make_pool(2, "B", "D", 5)
    reserves = {p.address: (100 * E, 100 * E) for p in (ab, bd, bd2)}
    one, two = Route((Leg(ab, "A"), Leg(bd, "B"))), Route((Leg(ab, "A"), Leg(bd2, "B")))
    outs, after = execute((one, two), (10 * E, 10 * E), reserves, quote)
    alone, _ = execute((two,), (10 * E,), reserves, quote)
    assert outs[1] < alone[0]  # the first route's sale on A/B worsened the second's price
    assert after[ab.address][0] == 120 * E


def test_bad_orders_are_refused_by_name() -> None:
    pools = [make_pool(0, "A", "D")]
    routes = find_routes(pools, "A", "D")
    reserves = {pools[0].address: (E, E)}
    with pytest.raises(RoutingError, match="amount_in must be > 0"):
        optimal_split(routes, 0, reserves, quote)
    with pytest.raises(RoutingError, match="no route"):
        best_route((), E, reserves, quote)
    with pytest.raises(RoutingError, match="two different tokens"):
        find_routes(pools, "A", "A")
    with pytest.raises(RoutingError, match="no reserves for pool"):
        best_route(routes, E, {}, quote)
