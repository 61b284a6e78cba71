"""The price of anarchy of a run's routing, on a searcher-free replay of each block.

Roughgarden and Tardos, "How Bad Is Selfish Routing?" (J. ACM 49(2), 2002) define the price of
anarchy of a routing game as the social cost of the flow routed selfishly over the social
cost of the same flow routed optimally, where the social cost is the total latency the flow
experiences and each edge's latency is a non-negative, non-decreasing function of the flow on
it. Here the flow is a block's routed orders, an edge is a pool, and the latency an order meets
is what it loses against trading at the block's free-flow price. Definitions, for a measured
block ``b`` holding routed orders ``1..n`` in execution order:

* **Both routings are replayed on one world without searchers.** From the pools' reserves at
  the start of ``b``, the routed orders alone are replayed in their execution order (every
  other swap of the block, a searcher's or anyone's, is left out), twice: the **selfish
  replay** sends each order along the routes and route amounts it used on chain (read from its
  pools' ``Swap`` logs), the **optimal replay** routes each by
  :func:`~agentbed.agents.market.routing.optimal_split` on the reserves it meets. Outputs are
  recomputed with each venue's exact integer formula. The two differ by the routing only, so
  their ratio does not depend on trades that searchers sized against one of them.
* **Free-flow output** of order ``i``: its input times the best spot rate (fee-free marginal
  rate, the product of ``reserve_out / reserve_in`` over a route's constant-product pools) of
  any route between its tokens at the *start* of ``b``. It is the same in both replays.
* **Execution cost** of order ``i`` in a replay: free-flow output minus replayed output, valued
  at the reference price of its output token in the numeraire: fees plus the price impact of
  this order and of the orders before it in the block (the congestion). **Social cost**
  ``C``: the sum over every order of the run.
* **Price of anarchy** ``PoA = C_selfish / C_optimal``, defined when ``C_optimal > 0``.
  ``routing_loss = C_selfish - C_optimal`` (the free-flow outputs cancel: it is the value of
  the output the realised routing gave up).

Why the block-start spot rate and not the fixed reference price: an order trading against a
pool left off the reference price gains the mispricing, so a reference-valued cost can be
negative and the ratio undefined, while the spot rate at the block's start makes a lone
order's cost at least its fees (its output is concave in its input with slope at most the
best spot rate). Which costs stay positive is guaranteed only this far:

* For an order alone in its block (or the first of the block) whose realised routing is one
  route, ``optimal_out >= selfish_out`` (``optimal_split`` never pays less than the best single
  route) and both costs are positive (price impact alone makes them so).
* Later orders of a block meet the reserves the earlier ones left, and those differ between the
  replays: a planner optimal for each order in turn is not optimal for the block jointly, and
  an order against the block's earlier flow can gain from it, so neither
  ``C_optimal <= C_selfish`` per block nor ``C_optimal > 0`` is guaranteed. The summary counts
  the blocks where either fails (``blocks_optimal_costlier``, ``blocks_optimal_nonpositive``).

**Searchers' take** is measured apart: the searchers' profit of the run (the accounting's
``searcher_profit``) over the routing loss. It is not a part of the loss by construction (the
replay has no searchers): an upper bound on the share of the loss they took, since some of
their profit is price impact any routing leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbed.agents.market.routing import (
    Leg,
    Quote,
    Reserves,
    Route,
    execute,
    find_routes,
    optimal_split,
)
from agentbed.agents.market.routing_calls import Routed, routed_event

if TYPE_CHECKING:
    from agentbed.agents.market.venues.protocol import Pool, SwapLog
    from agentbed.agents.market.world import Market
    from agentbed.chain.types import Receipt

MAX_HOPS = 3
"""Longest route the planner and the free-flow rate consider."""


class ReplayError(ValueError):
    """A routed order whose pool swaps do not add up to its ``Routed`` event."""


@dataclass(frozen=True, slots=True)
class RoutedOrder:
    """A routed order as executed: its routes and each route's input, and its event."""

    event: Routed
    routes: tuple[Route, ...]
    amounts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OrderReplay:
    """One order's outputs in the two replays and its free-flow output (module docstring)."""

    order: RoutedOrder
    free_flow: float
    selfish: int
    optimal: int


def spot_rate(route: Route, reserves: Reserves) -> float:
    """The route's fee-free marginal rate on ``reserves``: tokens out per token in."""
    rate = 1.0
    for leg in route.legs:
        r0, r1 = reserves[leg.pool.address]
        rate *= r1 / r0 if leg.token_in == leg.pool.token0 else r0 / r1
    return rate


def replay_block(
    orders: Sequence[RoutedOrder],
    routes_of: Callable[[str, str], Sequence[Route]],
    reserves: Reserves,
    quote: Quote,
) -> tuple[OrderReplay, ...]:
    """The block's orders replayed selfishly and optimally from ``reserves`` (module docstring).

    Args:
        orders: The block's routed orders in execution order.
        routes_of: The planner's routes between two tokens.
        reserves: Every pool's reserves at the start of the block.
        quote: The venues' exact output.
    """
    selfish_state = dict(reserves)
    optimal_state = dict(reserves)
    found = []
    for order in orders:
        event = order.event
        candidates = tuple(routes_of(event.token_in, event.token_out))
        # the realised routes count too, so no order can beat its own free-flow rate alone
        best = max(spot_rate(r, reserves) for r in (*candidates, *order.routes))
        outs, selfish_state = execute(order.routes, order.amounts, selfish_state, quote)
        split = optimal_split(candidates or order.routes, event.amount_in, optimal_state, quote)
        _, optimal_state = execute(split.routes, split.amounts, optimal_state, quote)
        found.append(OrderReplay(order, event.amount_in * best, sum(outs), split.amount_out))
    return tuple(found)


def social_costs(
    replays: Sequence[OrderReplay], prices: Mapping[str, float]
) -> tuple[float, float]:
    """The social costs ``(C_selfish, C_optimal)`` of replayed orders (module docstring).

    Args:
        replays: The orders' replays.
        prices: Reference price of every token in the numeraire, per whole token (1e18 units).
    """
    selfish = optimal = 0.0
    for replay in replays:
        price = prices[replay.order.event.token_out] / 1e18
        selfish += (replay.free_flow - replay.selfish) * price
        optimal += (replay.free_flow - replay.optimal) * price
    return selfish, optimal


def order_from_swaps(
    event: Routed, swaps: Sequence[tuple[Pool, SwapLog]], where: str
) -> RoutedOrder:
    """The routes an order took, from its pools' swaps in log order (the router's order).

    Args:
        event: The order's ``Routed`` event.
        swaps: The order's pool swaps, in log order, with their pools.
        where: Where the order is, for the error message.

    Raises:
        ReplayError: the swaps do not chain into ``event.routes`` routes whose inputs and
            outputs add up to the event's amounts.
    """
    routes: list[list[Leg]] = []
    amounts: list[int] = []
    outs: list[int] = []
    for pool, swap in swaps:
        # routes are simple paths, so only a route's first leg sells the order's input token
        if swap.token_in == event.token_in:
            routes.append([])
            amounts.append(swap.amount_in)
            outs.append(swap.amount_in)
        elif not routes or swap.amount_in != outs[-1]:
            raise ReplayError(f"{where}: a swap of {swap.token_in} continues no route")
        routes[-1].append(Leg(pool, swap.token_in))
        outs[-1] = swap.amount_out
    built = tuple(Route(tuple(legs)) for legs in routes)
    if (
        len(built) != event.routes
        or sum(amounts) != event.amount_in
        or sum(outs) != event.amount_out
        or any(r.token_out != event.token_out for r in built)
    ):
        raise ReplayError(f"{where}: the pool swaps do not add up to its Routed event")
    return RoutedOrder(event, built, tuple(amounts))


def routed_orders(market: Market, receipts: Sequence[Receipt]) -> tuple[RoutedOrder, ...]:
    """Every order ``market.router`` executed in ``receipts``, with its routes, in order.

    An order's swaps are the pool ``Swap`` logs of its transaction between the previous
    ``Routed`` event (or the transaction's start) and its own, which the router emits last.

    Raises:
        ReplayError: an order's swaps do not chain into its event's routes and amounts.
    """
    assert market.router is not None
    found = []
    for receipt in receipts:
        if receipt.status != 1:
            continue
        swaps: list[tuple[Pool, SwapLog]] = []
        for index, log in enumerate(receipt.logs):
            event = routed_event(market.router, log)
            if event is not None:
                where = f"tx {receipt.tx_hash.hex()} log {index}"
                found.append(order_from_swaps(event, swaps, where))
                swaps = []
                continue
            pool = market.by_address.get(log.address)
            swap = None if pool is None else market.venue_of(pool).decode_swap_log(log)
            if pool is not None and swap is not None:
                swaps.append((pool, swap))
    return tuple(found)


def anarchy_summary(
    blocks: Sequence[tuple[Sequence[Receipt], Reserves]],
    market: Market,
    prices: Mapping[str, float],
    searcher_profit: float,
) -> dict[str, Any]:
    """The searcher-free price of anarchy of a run (module docstring), for ``summary.json``.

    Args:
        blocks: Each measured block's receipts and its pools' start reserves.
        market: The market, with its router.
        prices: Reference price of every token in the numeraire, per whole token (1e18 units).
        searcher_profit: The searchers' profit of the run, numeraire.
    """

    def quote(pool: Any, amount_in: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address))

    def routes_of(token_in: str, token_out: str) -> tuple[Route, ...]:
        return find_routes(market.pools, token_in, token_out, max_hops=MAX_HOPS)

    selfish = optimal = 0.0
    costlier = nonpositive = measured = 0
    for receipts, reserves in blocks:
        orders = routed_orders(market, receipts)
        if not orders:
            continue
        block_selfish, block_optimal = social_costs(
            replay_block(orders, routes_of, reserves, quote), prices
        )
        measured += 1
        costlier += block_optimal > block_selfish
        nonpositive += block_optimal <= 0
        selfish += block_selfish
        optimal += block_optimal
    loss = selfish - optimal
    return {
        "blocks": measured,
        "cost_selfish_replay": selfish,
        "cost_optimal_replay": optimal,
        "price_of_anarchy": selfish / optimal if optimal > 0 else None,
        "routing_loss": loss,
        "searcher_profit": searcher_profit,
        "searcher_share": searcher_profit / loss if loss > 0 else None,
        "blocks_optimal_costlier": costlier,
        "blocks_optimal_nonpositive": nonpositive,
    }
