"""Traders that choose routes through a network of pools and send them through the router.

Each wakes, draws an order (sell ``token_in`` for ``token_out`` or, with ``both_ways``, the
reverse, at random), quotes it on the last block's reserves and sends it through the market's
``Router`` (:mod:`agentbed.agents.market.routing_calls`) with a minimum output of the quote
less ``slippage_bps``. How it routes is its ``choice``:

* ``"naive"``: always route number ``route`` of :func:`~agentbed.agents.market.routing.find_routes`
  (fewest hops first, then the scenario's pool order), whatever the prices;
* ``"greedy"``: the single route with the best quote at decision time;
* ``"split"``: the optimal split of :func:`~agentbed.agents.market.routing.optimal_split`.

All quote on the same last-block reserves and do not see each other's pending orders, so
orders sent in one block congest each other's pools: the routing game of docs/routing.md.

:class:`RouteBackrunner` is the arbitrageur extended to backrun such routed orders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, BundleIntent
from agentbed.agents.market.routing import (
    Route,
    RoutingError,
    Split,
    best_route,
    execute,
    find_routes,
    optimal_split,
)
from agentbed.agents.market.routing_calls import decode_order, order_intent
from agentbed.agents.market.strategies.arbitrage import Arbitrageur
from agentbed.agents.market.strategies.common import (
    BPS,
    SWAP_GAS_USED,
    check_slippage_bps,
    effective_tip,
    hash_hex,
)

CHOICES = ("naive", "greedy", "split")
"""How a routing trader picks its routes."""


class RoutingTrader(Agent):
    """Sends orders through the router, routed by ``choice`` (module docstring).

    Args:
        choice: ``"naive"``, ``"greedy"`` or ``"split"``.
        token_in: Symbol of the token sold.
        token_out: Symbol of the token bought.
        route: The naive trader's route, an index into the routes (ignored otherwise).
        max_hops: Longest route considered.
        mean_size: Median order as a fraction of ``token_in``'s reserves in the pools holding it.
        size_sigma: Log-normal spread of the size.
        slippage_bps: Tolerance below the quote, in basis points.
        both_ways: Whether half the orders (at random) go the other way.
        tip: Priority fee per gas in wei.
        **kwargs: Passed to ``Agent``.
    """

    def __init__(
        self,
        *args: Any,
        choice: str = "greedy",
        token_in: str = "A",
        token_out: str = "D",
        route: int = 0,
        max_hops: int = 3,
        mean_size: float = 0.01,
        size_sigma: float = 0.5,
        slippage_bps: int = 100,
        both_ways: bool = True,
        tip: int = GWEI,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}; got {choice!r}")
        if token_in == token_out:
            raise ValueError(f"token_in and token_out must differ, got {token_in!r} twice")
        if route < 0 or max_hops < 1 or mean_size <= 0:
            raise ValueError(
                f"need route >= 0, max_hops >= 1, mean_size > 0; got {route}, {max_hops}, "
                f"{mean_size}"
            )
        check_slippage_bps(slippage_bps)
        self.choice = choice
        self.symbols = (token_in, token_out)
        self.route = route
        self.max_hops = max_hops
        self.mean_size = mean_size
        self.size_sigma = size_sigma
        self.slippage_bps = slippage_bps
        self.both_ways = both_ways
        self.tip = tip
        self._routes: dict[tuple[str, str], tuple[Route, ...]] = {}

    def setup(self, market: Any) -> Sequence[Action]:
        if getattr(market, "router", None) is None:
            raise ValueError(f"{self.name}: the market has no router (deploy_router)")
        for symbol in self.symbols:
            if symbol not in market.tokens:
                raise ValueError(f"{self.name}: no token {symbol!r} in the market")
        return market.approvals([market.router])

    def routes(self, market: Any, token_in: str, token_out: str) -> tuple[Route, ...]:
        """The routes between two token addresses (found once)."""
        key = (token_in, token_out)
        if key not in self._routes:
            self._routes[key] = find_routes(
                market.pools, token_in, token_out, max_hops=self.max_hops
            )
            if self.choice == "naive" and self.route >= len(self._routes[key]):
                raise ValueError(
                    f"{self.name}: route {self.route} does not exist; there are "
                    f"{len(self._routes[key])} routes"
                )
        return self._routes[key]

    def plan(self, market: Any, token_in: str, token_out: str, amount: int) -> Split:
        """The order's routing by ``choice``, quoted on the last block's reserves."""
        routes = self.routes(market, token_in, token_out)

        def quote(pool: Any, amount_in: int, r_in: int, r_out: int) -> int:
            return int(market.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address))

        if self.choice == "naive":
            return best_route([routes[self.route]], amount, market.reserves, quote)
        if self.choice == "greedy":
            return best_route(routes, amount, market.reserves, quote)
        return optimal_split(routes, amount, market.reserves, quote)

    def draw(self, market: Any) -> tuple[str, str, int]:
        """A random order: ``(token_in, token_out, amount)`` (the amount may be 0)."""
        token_in, token_out = (market.tokens[s] for s in self.symbols)
        if self.both_ways and self.rng.random() < 0.5:
            token_in, token_out = token_out, token_in
        depth = sum(
            market.reserves_for(p, token_in)[0]
            for p in market.pools
            if token_in in (p.token0, p.token1)
        )
        size = self.mean_size * math.exp(self.size_sigma * self.rng.gauss(0.0, 1.0))
        return token_in, token_out, int(depth * size)

    def observe(self, view: AgentView) -> Sequence[Action]:
        market = view.market
        if view.nonce - view.confirmed_nonce >= 2:
            return ()  # do not pile up unmined orders
        token_in, token_out, amount = self.draw(market)
        if amount <= 0:
            return ()
        split = self.plan(market, token_in, token_out, amount)
        min_out = split.amount_out * (BPS - self.slippage_bps) // BPS
        if min_out <= 0:
            return ()
        routes = "+".join(r.label(market.symbols) for r in split.routes)
        return (
            order_intent(
                market,
                market.router,
                split,
                min_out,
                self.address,
                tip=self.tip,
                label="route",
                routes=routes,
                quoted=split.amount_out,
            ),
        )


class RouteBackrunner(Arbitrageur):
    """An :class:`~agentbed.agents.market.strategies.arbitrage.Arbitrageur` that also backruns
    routed orders.

    On a pending ``Router.swap`` of another agent it replays the order's routes on the last
    block's reserves (:func:`~agentbed.agents.market.routing.execute`; an order whose output
    would fall below its minimum reverts and moves nothing), takes the touched pool that
    the order leaves furthest from its reference price, and trades it back as the arbitrageur's
    backrun does: one trade, with the order's effective tip in ``"fee"`` mode (landing right
    behind it under priority ordering) or as a bundle behind it in ``"bundle"`` mode. Other
    pending swaps are backrun as by the arbitrageur. Parameters are the arbitrageur's.
    """

    def _backrun(self, view: AgentView) -> Sequence[Action]:
        victim = view.trigger
        market = view.market
        if victim is None or victim.sender == self.address or market.router is None:
            return super()._backrun(view)
        order = decode_order(market, market.router, victim.tx.to, victim.tx.data)
        if order is None:
            return super()._backrun(view)
        if self.mode == "fee" and view.nonce > view.confirmed_nonce:
            return ()

        def quote(pool: Any, amount_in: int, r_in: int, r_out: int) -> int:
            return int(market.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address))

        try:
            outputs, after = execute(order.routes, order.amounts, market.reserves, quote)
        except (RoutingError, ValueError):
            return ()
        if sum(outputs) < max(order.min_out, 1):
            return ()  # the order would revert: it moves no price
        touched = {leg.pool.address: leg.pool for r in order.routes for leg in r.legs}
        plans = [self.plan(view, pool, after[address]) for address, pool in touched.items()]
        best = max((p for p in plans if p is not None), key=lambda p: p.profit_wei, default=None)
        if best is None:
            return ()
        meta = {"victim": hash_hex(victim.hash)}
        if self.mode == "fee":
            tip = effective_tip(victim, view.base_fee)
            if not self._pays(view, best, tip):
                return ()
            return (self._intent(view, best, tip, "backrun", meta),)
        tip = int(self.bribe_fraction * best.profit_wei) // SWAP_GAS_USED
        if not self._pays(view, best, tip):
            return ()
        backrun = self._intent(view, best, tip, "backrun", meta)
        return (BundleIntent(items=(victim.tx.raw, backrun), label="backrun"),)
