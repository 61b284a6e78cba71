"""Routes through a network of pools: finding them, quoting them exactly, splitting an order.

A *route* is a chain of swaps (legs) from one token to another through the market's pools,
each leg on its pool's venue. Everything here is computed off-chain from reserves with each
venue's own integer output formula (``Venue.amount_out``), independently of the contracts:
``contracts/Router.sol`` executes the same routes in the same order, so a quote is the
on-chain output to the wei when the reserves are the ones the transaction meets (a test checks
it).

**Execution order.** A split order runs its routes one after another, each route's legs in
order, each leg moving its pool's reserves before the next leg reads them; two routes that
share a pool therefore see each other's price impact. :func:`execute` is that sequence.

**The optimal split.** Angeris, Chitra, Evans and Boyd, "Optimal Routing for Constant Function
Market Makers" (ACM EC 2022, arXiv:2204.05238) write routing as a convex program: maximise the
output over trades that each lie in their CFMM's (convex) trading set. For a split across
paths of pools used by one path each, the output is a sum of concave functions of the path
inputs, and the optimum equalises the marginal output of every path in use (the program's
optimality condition; the paths not in use have a lower marginal output at zero). We solve it
on the exact integer model in two steps:

1. *Water-filling*: the order is cut into ``pieces`` equal parts, each given to the route whose
   exact output for it, on the reserves the earlier parts left, is largest (the greedy
   algorithm that is exact for separable concave resource allocation on a grid: Gross 1956,
   Ibaraki and Katoh, "Resource Allocation Problems", MIT Press 1988, ch. 4).
2. *Local search*: starting from the better of that allocation and the best single route,
   move amounts between pairs of routes in steps halving from a quarter of the order down to
   ``order >> 24``, keeping a move only when the exact sequential output grows.

Step 2 only ever improves, so the split is never worse than the best single route (the
hypothesis test of the must-show list checks it against every route, on random networks).
When routes share a pool the objective in path inputs is no longer separable and the search
is a local one; the quoted output is always exact for the allocation returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agentbed.agents.market.venues.protocol import Pool

Quote = Callable[[Pool, int, int, int], int]
"""``quote(pool, amount_in, reserve_in, reserve_out) -> amount_out``: a venue's exact output."""
Reserves = Mapping[str, tuple[int, int]]
"""``(reserve0, reserve1)`` by pool address, in the pool's token order."""
DEFAULT_PIECES = 32
"""Parts the water-filling cuts an order into."""
FINEST_STEP_SHIFT = 24
"""The local search's last step is the order shifted right by this (about 6e-8 of it)."""


class RoutingError(ValueError):
    """A route or split that cannot be quoted (no route, a bad amount, an unknown pool)."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One swap of a route: sell ``token_in`` on ``pool`` for its other token."""

    pool: Pool
    token_in: str

    @property
    def token_out(self) -> str:
        """The token the leg buys."""
        return self.pool.other(self.token_in)


@dataclass(frozen=True, slots=True)
class Route:
    """Legs from ``token_in`` to ``token_out``, each leg's output the next one's input."""

    legs: tuple[Leg, ...]

    @property
    def token_in(self) -> str:
        """The token the route sells."""
        return self.legs[0].token_in

    @property
    def token_out(self) -> str:
        """The token the route buys."""
        return self.legs[-1].token_out

    def label(self, symbols: Mapping[str, str]) -> str:
        """The route's tokens by symbol, e.g. ``A>B>D``."""
        names = [symbols.get(self.token_in, self.token_in)]
        names += [symbols.get(leg.token_out, leg.token_out) for leg in self.legs]
        return ">".join(names)


@dataclass(frozen=True, slots=True)
class Split:
    """An order's allocation over routes and its exact outputs (route by route, in order).

    Routes with a zero amount are left out, so ``routes`` are the ones executed.
    """

    routes: tuple[Route, ...]
    amounts: tuple[int, ...]
    outputs: tuple[int, ...]

    @property
    def amount_in(self) -> int:
        """The order's input."""
        return sum(self.amounts)

    @property
    def amount_out(self) -> int:
        """The order's total output."""
        return sum(self.outputs)


def find_routes(
    pools: Sequence[Pool], token_in: str, token_out: str, *, max_hops: int = 3
) -> tuple[Route, ...]:
    """Every route from ``token_in`` to ``token_out`` that visits no token twice.

    Ordered by number of legs, then by the pools' order in ``pools`` (deterministic).

    Raises:
        RoutingError: the tokens are equal or ``max_hops`` is below 1.
    """
    if token_in == token_out:
        raise RoutingError(f"a route needs two different tokens, got {token_in} twice")
    if max_hops < 1:
        raise RoutingError(f"max_hops must be >= 1, got {max_hops}")
    found: list[tuple[Leg, ...]] = []

    def extend(path: tuple[Leg, ...], token: str, seen: frozenset[str]) -> None:
        for pool in pools:
            if token not in (pool.token0, pool.token1):
                continue
            leg = Leg(pool, token)
            nxt = leg.token_out
            if nxt == token_out:
                found.append((*path, leg))
            elif nxt not in seen and len(path) + 1 < max_hops:
                extend((*path, leg), nxt, seen | {nxt})

    extend((), token_in, frozenset({token_in}))
    order = {pool.address: i for i, pool in enumerate(pools)}
    found.sort(key=lambda legs: (len(legs), [order[leg.pool.address] for leg in legs]))
    return tuple(Route(legs) for legs in found)


def _run(route: Route, amount: int, state: dict[str, tuple[int, int]], quote: Quote) -> int:
    """Sells ``amount`` along ``route`` on ``state`` (moved in place); returns the output."""
    for leg in route.legs:
        try:
            r0, r1 = state[leg.pool.address]
        except KeyError:
            raise RoutingError(f"no reserves for pool {leg.pool.address}") from None
        zero_for_one = leg.token_in == leg.pool.token0
        r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
        out = quote(leg.pool, amount, r_in, r_out) if amount > 0 else 0
        r_in, r_out = r_in + amount, r_out - out
        state[leg.pool.address] = (r_in, r_out) if zero_for_one else (r_out, r_in)
        amount = out
    return amount


def execute(
    routes: Sequence[Route], amounts: Sequence[int], reserves: Reserves, quote: Quote
) -> tuple[tuple[int, ...], dict[str, tuple[int, int]]]:
    """The outputs of selling ``amounts`` along ``routes`` in order, and the reserves after.

    This is the order of ``Router.swap``: route by route, leg by leg. A zero amount is skipped
    (the router refuses it; callers leave such routes out).

    Raises:
        RoutingError: lengths differ, an amount is negative, or a pool has no reserves.
    """
    if len(routes) != len(amounts):
        raise RoutingError(f"{len(routes)} routes but {len(amounts)} amounts")
    if any(a < 0 for a in amounts):
        raise RoutingError(f"amounts must be >= 0, got {list(amounts)}")
    state = dict(reserves)
    outputs = tuple(_run(r, a, state, quote) for r, a in zip(routes, amounts, strict=True))
    return outputs, state


def _total(routes: Sequence[Route], amounts: Sequence[int], reserves: Reserves, q: Quote) -> int:
    state = dict(reserves)
    return sum(_run(r, a, state, q) for r, a in zip(routes, amounts, strict=True))


def _split(routes: Sequence[Route], amounts: Sequence[int], reserves: Reserves, q: Quote) -> Split:
    kept = [(r, a) for r, a in zip(routes, amounts, strict=True) if a > 0]
    chosen = tuple(r for r, _ in kept)
    given = tuple(a for _, a in kept)
    outputs, _ = execute(chosen, given, reserves, q)
    return Split(chosen, given, outputs)


def _check_order(routes: Sequence[Route], amount_in: int) -> None:
    if not routes:
        raise RoutingError("no route to quote")
    if amount_in <= 0:
        raise RoutingError(f"amount_in must be > 0, got {amount_in}")
    ends = {(r.token_in, r.token_out) for r in routes}
    if len(ends) != 1:
        raise RoutingError("the routes of one order must share their input and output tokens")


def best_route(routes: Sequence[Route], amount_in: int, reserves: Reserves, quote: Quote) -> Split:
    """The single route paying the most for ``amount_in`` (ties: the earlier route).

    Raises:
        RoutingError: no routes, a non-positive amount, or routes with different ends.
    """
    _check_order(routes, amount_in)
    outs = [_total([r], [amount_in], reserves, quote) for r in routes]
    best = max(range(len(routes)), key=lambda i: (outs[i], -i))
    return _split([routes[best]], [amount_in], reserves, quote)


def _water_fill(
    routes: Sequence[Route], amount_in: int, reserves: Reserves, quote: Quote, pieces: int
) -> list[int]:
    state = dict(reserves)
    amounts = [0] * len(routes)
    part, rest = divmod(amount_in, pieces)
    for i in range(pieces):
        size = part + (rest if i == 0 else 0)
        if size == 0:
            continue
        trial = []
        for r in routes:
            scratch = dict(state)
            trial.append(_run(r, size, scratch, quote))
        best = max(range(len(routes)), key=lambda k: (trial[k], -k))
        _run(routes[best], size, state, quote)
        amounts[best] += size
    return amounts


def _local_search(
    routes: Sequence[Route], amounts: list[int], reserves: Reserves, quote: Quote
) -> list[int]:
    total = sum(amounts)
    value = _total(routes, amounts, reserves, quote)
    step = total // 4
    finest = max(1, total >> FINEST_STEP_SHIFT)
    while step >= finest:
        improved = True
        while improved:
            improved = False
            for i in range(len(routes)):
                for j in range(len(routes)):
                    if i == j or amounts[i] < step:
                        continue
                    amounts[i] -= step
                    amounts[j] += step
                    candidate = _total(routes, amounts, reserves, quote)
                    if candidate > value:
                        value, improved = candidate, True
                    else:
                        amounts[i] += step
                        amounts[j] -= step
        step //= 2
    return amounts


def optimal_split(
    routes: Sequence[Route],
    amount_in: int,
    reserves: Reserves,
    quote: Quote,
    *,
    pieces: int = DEFAULT_PIECES,
) -> Split:
    """The allocation of ``amount_in`` over ``routes`` paying the most (module docstring).

    Never pays less than :func:`best_route`: the search starts from the better of the
    water-filling and the best single route and keeps only improving moves.

    Raises:
        RoutingError: no routes, a non-positive amount, routes with different ends, or
            ``pieces`` below 1.
    """
    _check_order(routes, amount_in)
    if pieces < 1:
        raise RoutingError(f"pieces must be >= 1, got {pieces}")
    single = best_route(routes, amount_in, reserves, quote)
    start = [amount_in if r == single.routes[0] else 0 for r in routes]
    if start.count(amount_in) > 1:  # the same route listed twice: keep its first entry
        first = start.index(amount_in)
        start = [amount_in if i == first else 0 for i in range(len(routes))]
    filled = _water_fill(routes, amount_in, reserves, quote, pieces)
    if _total(routes, filled, reserves, quote) > single.amount_out:
        start = filled
    return _split(routes, _local_search(routes, start, reserves, quote), reserves, quote)
