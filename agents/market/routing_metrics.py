"""How well a run's routed orders were routed: execution against the optimum with searchers fixed.

Ground truth comes from the chain: the router's ``Routed`` events (what each order sold and
got, in execution order) and every pool's reserves at the start of each block (``getReserves``
at the parent block). Definitions, per measured block ``b`` holding routed orders
``1..n`` in execution order:

* **The optimal routing of the same flow** replays the block from its start reserves with the
  same transactions in the same order, except that each routed order is routed by
  :func:`~agentbed.agents.market.routing.optimal_split` on the replayed reserves it meets;
  every other swap of the block (a searcher's, a retail trader's) is replayed as the same
  exact-input sale it made (amounts from its ``Swap`` log, output recomputed). ``opt_i`` is
  what order ``i`` gets in the replay. The planner is sequential (each order optimal in turn,
  not all jointly), and searchers do not react to the replay: their trades are held fixed.
* **Execution cost** of an order is the value of what it sold minus the value of what it got,
  both at the reference prices in the numeraire (fees plus price impact; gas not counted). The
  **social cost** ``C`` of a routing is the sum over all orders of the run.
* **Ratio with searchers fixed** ``C_realised / C_optimal`` (``searchers_fixed`` in the
  summary): the realised social cost over the optimal replay's. It is *not* the run's price of
  anarchy: the searchers' held trades were sized against the realised state, and replayed
  behind optimally routed orders they can move pools in the orders' favour, which makes
  ``C_optimal`` negative in ``scenarios/routing_sharing.toml``. The price of anarchy is the
  searcher-free one of :mod:`~agentbed.agents.market.routing_anarchy`, which this summary
  includes.
* **Shortfall** of an order: ``(opt_i - out_i)`` valued, over the value sold, in basis points;
  reported per trader kind and ``choice`` (naive, greedy, split).
* **What searchers take** is measured against the searcher-free routing loss
  (:mod:`~agentbed.agents.market.routing_anarchy`).

The reference prices are the market's at the end of the run: ``scenarios/routing.toml`` holds
them fixed (``volatility = 0``), so they are the prices of every block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.market.routing import Leg, Route, execute, find_routes, optimal_split
from agentbed.agents.market.routing_anarchy import anarchy_summary
from agentbed.agents.market.routing_calls import routed_events

if TYPE_CHECKING:
    from agentbed.agents.market.routing_calls import Routed
    from agentbed.agents.market.world import Market
    from agentbed.agents.sim import Simulation
    from agentbed.chain.types import Receipt

_GET_RESERVES = function_signature_to_4byte_selector("getReserves()")
MAX_HOPS = 3
"""Longest route the planner considers."""


def start_reserves(market: Market, number: int) -> dict[str, tuple[int, int]]:
    """Every pool's reserves at the start of block ``number`` (its parent's post-state)."""
    found = {}
    for pool in market.pools:
        raw = market.chain.call(pool.address, _GET_RESERVES, block_number=number - 1)
        r0, r1 = decode(("uint256", "uint256"), raw[:64])
        found[pool.address] = (int(r0), int(r1))
    return found


def optimal_outputs(
    market: Market, receipts: Sequence[Receipt], reserves: Mapping[str, tuple[int, int]]
) -> list[tuple[Routed, int]]:
    """Each routed order of a block and what it gets in the optimal replay (module doc)."""
    assert market.router is not None

    def quote(pool: Any, amount_in: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address))

    state = dict(reserves)
    found = []
    for receipt in receipts:
        if receipt.status != 1:
            continue
        orders = routed_events(market.router, (receipt,))
        if orders:
            for _, order in orders:
                routes = find_routes(
                    market.pools, order.token_in, order.token_out, max_hops=MAX_HOPS
                )
                split = optimal_split(routes, order.amount_in, state, quote)
                outs, state = execute(split.routes, split.amounts, state, quote)
                found.append((order, sum(outs)))
            continue
        for log in receipt.logs:
            pool = market.by_address.get(log.address)
            swap = None if pool is None else market.venue_of(pool).decode_swap_log(log)
            if pool is not None and swap is not None:
                _, state = execute(
                    [Route((Leg(pool, swap.token_in),))], [swap.amount_in], state, quote
                )
    return found


def routing_summary(
    sim: Simulation,
    market: Market,
    searcher_profit: float,
    *,
    numeraire: str,
    kinds: Mapping[str, str],
) -> dict[str, Any]:
    """The routing metrics of a run (module docstring), for ``summary.json``'s ``routing``.

    Args:
        sim: The finished simulation (its measured blocks are ``sim.metrics``).
        market: The market, with its router.
        searcher_profit: The searchers' profit of the run, numeraire.
        numeraire: Symbol profits are valued in.
        kinds: Agent kind by agent name (unused kinds are fine).
    """
    assert market.router is not None
    prices = market.reference_prices(market.tokens[numeraire])
    group = {
        a.address: f"{kinds.get(a.name, 'other')}:{getattr(a, 'choice', '-')}" for a in sim.agents
    }
    sold: dict[str, float] = defaultdict(float)
    lost: dict[str, float] = defaultdict(float)
    shortfall: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    replayed = []
    for metrics in sim.metrics:
        receipts = sim.chain.receipts(metrics.number)
        for receipt in receipts:
            if receipt.to == market.router and receipt.status != 1:
                failed[group.get(receipt.sender, "other:-")] += 1
        if not routed_events(market.router, receipts):
            continue
        start = start_reserves(market, metrics.number)
        replayed.append((receipts, start))
        for order, best in optimal_outputs(market, receipts, start):
            key = group.get(order.sender, "other:-")
            value_in = order.amount_in * prices[order.token_in] / 1e18
            out_value = order.amount_out * prices[order.token_out] / 1e18
            best_value = best * prices[order.token_out] / 1e18
            sold[key] += value_in
            lost[key] += value_in - out_value
            shortfall[key] += best_value - out_value
            count[key] += 1
    realised = sum(lost.values())
    optimal = realised - sum(shortfall.values())
    by_choice = {
        key.split(":", 1)[1]: {
            "orders": count[key],
            "failed": failed[key],
            "sold": sold[key],
            "cost": lost[key],
            "shortfall": shortfall[key],
            "shortfall_bps": 10_000 * shortfall[key] / sold[key] if sold[key] else 0.0,
        }
        for key in sorted(set(count) | set(failed))
    }
    bps = {k: v["shortfall_bps"] for k, v in by_choice.items()}
    return {
        "orders": sum(count.values()),
        "failed": sum(failed.values()),
        "cost_realised": realised,
        **anarchy_summary(replayed, market, prices, searcher_profit),
        "searchers_fixed": {
            "cost_optimal": optimal,
            "routing_loss": realised - optimal,
            "ratio": realised / optimal if optimal > 0 else None,
        },
        "by_choice": by_choice,
        "naive_minus_split_bps": bps.get("naive", 0.0) - bps.get("split", 0.0),
        "greedy_minus_split_bps": bps.get("greedy", 0.0) - bps.get("split", 0.0),
    }
