"""Exact integer math of ``contracts/ConstantProductPool.sol``, for agents planning trades.

Every function here reproduces the pool's arithmetic to the wei (Uniswap v2's ``getAmountOut``
with the fee in basis points, rounding down), so a plan computed off-chain is exactly what the
chain will do. All amounts are integers in the tokens' smallest units; ``reserve_in`` and
``reserve_out`` are the pool's reserves of the token sold and of the token bought.

The sandwich search maximises the attacker's profit over the integer front-run size. A ternary
search of the unrounded profit plus a scan around its optimum is not enough on its own: in
pools with a small output reserve the rounding moves the integer optimum far from the smooth
one (hundreds of sizes away, for a profit several percent higher). So the answer is certified
by branch and bound: the profit on an interval of front-run sizes is bounded above through the
monotonicity of each of the three swaps, and intervals that cannot beat the best size found are
discarded. The proof is quick whenever the victim's slippage limit or the attacker's budget
binds, and for small pools; when the victim accepts any output, the profit is flat within
rounding over thousands (in 1e18-wei pools, billions) of sizes, so the search stops at a budget
and reports how much better any other size could at most be.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from fractions import Fraction

BPS = 10_000
"""Denominator of the fee (``ConstantProductPool.BPS``)."""
WINDOW = 64
"""Half-width of the neighbourhood scanned around the continuous optimum."""
LEAF = 16
"""Intervals of front-run sizes this short are evaluated point by point."""
DEFAULT_BUDGET = 10_000
"""Profit evaluations the sandwich search may spend proving optimality."""


def _check(reserve_in: int, reserve_out: int, fee_bps: int) -> None:
    if reserve_in <= 0 or reserve_out <= 0:
        # The pool reverts with PoolInsufficientLiquidity on an empty side.
        raise ValueError(f"reserves must be positive, got ({reserve_in}, {reserve_out})")
    if not 0 <= fee_bps < BPS:
        raise ValueError(f"fee_bps must be in [0, {BPS}), got {fee_bps}")


def _out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    with_fee = amount_in * (BPS - fee_bps)
    return with_fee * reserve_out // (reserve_in * BPS + with_fee)


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """What the pool pays for ``amount_in``, exactly as ``ConstantProductPool._amountOut``.

    Args:
        amount_in: Amount of the token sold (0 gives 0; the pool's ``swapExactIn`` rejects 0).
        reserve_in: Pool reserve of the token sold.
        reserve_out: Pool reserve of the token bought.
        fee_bps: Swap fee in basis points.

    Returns:
        The output, rounded down; always below ``reserve_out``.

    Raises:
        ValueError: a negative amount, an empty reserve or a fee outside ``[0, 10000)``.
    """
    _check(reserve_in, reserve_out, fee_bps)
    if amount_in < 0:
        raise ValueError(f"amount_in must be >= 0, got {amount_in}")
    return _out(amount_in, reserve_in, reserve_out, fee_bps)


def amount_in_for_out(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """The smallest input whose :func:`amount_out` is at least ``amount_out``.

    ``floor(n / d) >= t`` holds exactly when ``n >= t·d``; solving that for the input gives a
    ceiling division, so no search is needed.

    Raises:
        ValueError: invalid pool arguments, a negative target, or a target of at least
            ``reserve_out`` (no input buys the whole reserve).
    """
    _check(reserve_in, reserve_out, fee_bps)
    if not 0 <= amount_out < reserve_out:
        raise ValueError(f"amount_out must be in [0, reserve_out={reserve_out}), got {amount_out}")
    numerator = amount_out * reserve_in * BPS
    denominator = (BPS - fee_bps) * (reserve_out - amount_out)
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True)
class SandwichPlan:
    """Front-run, victim and back-run swaps of one sandwich, with the attacker's profit.

    The front-run sells ``front_in`` of the victim's input token for ``front_out``; the victim's
    swap pays ``victim_out``; the back-run sells ``back_in == front_out`` back for ``back_out``.
    ``profit = back_out - front_in``, in the victim's input token (gas not counted).
    """

    front_in: int
    front_out: int
    victim_out: int
    back_in: int
    back_out: int
    profit: int
    optimality_gap: int | None = None
    """``None`` for a simulated plan; for a searched plan, how much more profit any feasible
    front-run could make at most: 0 means proven optimal."""


def simulate_sandwich(
    front_in: int, reserve_in: int, reserve_out: int, fee_bps: int, victim_in: int
) -> SandwichPlan:
    """Run front-run, victim and back-run through the pool's arithmetic.

    Reserves move between the swaps exactly as the pool moves them: the input reserve grows by
    the amount sold and the output reserve shrinks by the amount paid.

    Args:
        front_in: Attacker's sale of the victim's input token (>= 0).
        reserve_in: Pool reserve of the victim's input token before the front-run.
        reserve_out: Pool reserve of the victim's output token before the front-run.
        fee_bps: Swap fee in basis points.
        victim_in: The victim's sale of the input token (>= 0).
    """
    _check(reserve_in, reserve_out, fee_bps)
    if front_in < 0 or victim_in < 0:
        raise ValueError(f"amounts must be >= 0, got front {front_in}, victim {victim_in}")
    return _simulate(front_in, reserve_in, reserve_out, fee_bps, victim_in)


def _simulate(front: int, r_in: int, r_out: int, fee: int, victim: int) -> SandwichPlan:
    front_out = _out(front, r_in, r_out, fee)
    r_in, r_out = r_in + front, r_out - front_out
    victim_out = _out(victim, r_in, r_out, fee)
    r_in, r_out = r_in + victim, r_out - victim_out
    back_out = _out(front_out, r_out, r_in, fee)
    return SandwichPlan(front, front_out, victim_out, front_out, back_out, back_out - front)


def sandwich_profit(
    front_in: int, reserve_in: int, reserve_out: int, fee_bps: int, victim_in: int
) -> int:
    """The attacker's profit of :func:`simulate_sandwich`, in the victim's input token."""
    return simulate_sandwich(front_in, reserve_in, reserve_out, fee_bps, victim_in).profit


def max_feasible_front_in(
    reserve_in: int,
    reserve_out: int,
    fee_bps: int,
    victim_in: int,
    victim_min_out: int,
    *,
    cap: int | None = None,
) -> int:
    """The largest front-run after which the victim's swap still succeeds (-1 if none).

    The victim's swap reverts below ``victim_min_out`` or at a zero output. Its output never
    grows with the front-run (the front-run raises the input reserve and lowers the output
    one), so the feasible sizes are ``[0, bound]`` and a binary search finds ``bound``.

    Args:
        cap: Largest size to consider (the attacker's budget); unbounded when None.

    Returns:
        The bound, at most ``cap``; -1 when the victim's swap fails even without a front-run.
    """
    _check(reserve_in, reserve_out, fee_bps)
    if victim_in < 0 or (cap is not None and cap < 0):
        raise ValueError(f"victim_in and cap must be >= 0, got {victim_in} and {cap}")
    need = max(victim_min_out, 1)

    def feasible(front: int) -> bool:
        plan = _simulate(front, reserve_in, reserve_out, fee_bps, victim_in)
        return plan.victim_out >= need

    if not feasible(0):
        return -1
    lo, hi = 0, 1  # feasible(lo) holds; grow hi until infeasible or the cap
    while (cap is None or hi < cap) and feasible(hi):
        lo, hi = hi, hi * 2
    if cap is not None and hi >= cap:
        hi = cap
        if feasible(cap):
            return cap
    while hi - lo > 1:  # invariant: feasible(lo), not feasible(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
    return lo


def _relaxed_profit(front: int, r_in: int, r_out: int, fee: int, victim: int) -> Fraction:
    """The sandwich profit without rounding, for the ternary search.

    Smooth and, in every case tried, unimodal; only the starting point depends on that, the
    branch and bound does not.
    """
    g = BPS - fee
    front_out = Fraction(front * g * r_out, r_in * BPS + front * g)
    victim_out = victim * g * (r_out - front_out) / ((r_in + front) * BPS + victim * g)
    back_in_reserve = r_out - front_out - victim_out
    back_out = front_out * g * (r_in + front + victim) / (back_in_reserve * BPS + front_out * g)
    return back_out - front


def _upper_bound(lo: int, hi: int, r_in: int, r_out: int, fee: int, victim: int) -> int:
    """An upper bound on the profit of every front-run in ``[lo, hi]``.

    The back-run output grows with the amount sold back (at most the front-run output at
    ``hi``) and with the token-in reserve (at most at ``hi``), and falls with the token-out
    reserve, which is at least what ``hi``'s front-run and ``lo``'s victim output leave.
    """
    front_out = _simulate(hi, r_in, r_out, fee, victim).front_out
    victim_out = _simulate(lo, r_in, r_out, fee, victim).victim_out
    reserve_token_out = r_out - front_out - victim_out
    reserve_token_in = r_in + hi + victim
    if reserve_token_out < 1:
        return reserve_token_in - lo  # the output never reaches the reserve
    return _out(front_out, reserve_token_out, reserve_token_in, fee) - lo


def optimal_sandwich(
    reserve_in: int,
    reserve_out: int,
    fee_bps: int,
    victim_in: int,
    victim_min_out: int,
    *,
    max_front_in: int | None = None,
    budget: int = DEFAULT_BUDGET,
) -> SandwichPlan | None:
    """The most profitable front-run that still lets the victim's swap succeed.

    The front-run sells the victim's input token, the victim's swap follows, and the back-run
    sells the whole front-run output back. The search: bound the feasible sizes by binary search
    (:func:`max_feasible_front_in`), ternary-search the unrounded profit, scan ``WINDOW`` sizes
    either side of its optimum under the pool's rounding, then branch and bound over the whole
    range to prove (or improve) the result within ``budget`` evaluations. Ties go to the
    smallest front-run.

    Args:
        reserve_in: Pool reserve of the victim's input token.
        reserve_out: Pool reserve of the victim's output token.
        fee_bps: Swap fee in basis points.
        victim_in: The victim's input amount.
        victim_min_out: The victim's ``minAmountOut``.
        max_front_in: The attacker's budget of the input token; unbounded when None.
        budget: Profit evaluations allowed for the proof; see ``optimality_gap``.

    Returns:
        The plan, or None when no front-run of at least 1 makes a positive profit (or, if the
        budget runs out first, when none was found).
    """
    _check(reserve_in, reserve_out, fee_bps)
    if victim_in == 0:
        return None
    bound = max_feasible_front_in(
        reserve_in, reserve_out, fee_bps, victim_in, victim_min_out, cap=max_front_in
    )
    if bound < 1:
        return None
    args = (reserve_in, reserve_out, fee_bps, victim_in)
    evaluations = 0
    best = (0, 0)  # (profit, -front_in): the largest tuple wins; profit 0 means "no plan"

    def visit(front: int) -> None:
        nonlocal best, evaluations
        evaluations += 1
        best = max(best, (_simulate(front, *args).profit, -front))

    lo, hi = 1, bound
    while hi - lo > 2:
        third = (hi - lo) // 3
        if _relaxed_profit(lo + third, *args) < _relaxed_profit(hi - third, *args):
            lo = lo + third + 1
        else:
            hi = hi - third
    for front in range(max(1, lo - WINDOW), min(bound, hi + WINDOW) + 1):
        visit(front)

    best, gap = branch_and_bound([(1, bound)], best, args, budget, evaluations)
    profit, neg_front = best
    if profit <= 0:
        return None
    return replace(_simulate(-neg_front, *args), optimality_gap=gap)


def branch_and_bound(
    window: list[tuple[int, int]],
    best: tuple[int, int],
    args: tuple[int, int, int, int],
    budget: int,
    evaluations: int = 0,
) -> tuple[tuple[int, int], int]:
    """Branch and bound for the most profitable front-run over the ranges of ``window``.

    Ranges are opened by their profit upper bound (:func:`_upper_bound`); a range narrower
    than ``LEAF`` is scanned, a wider one evaluated at its middle and split, until nothing left
    can beat ``best`` (or tie it at a smaller size) or ``evaluations`` reaches ``budget``.

    Args:
        window: Disjoint ``(lo, hi)`` ranges of front-run sizes.
        best: ``(profit, -front_in)`` found so far (profit 0: none).
        args: ``(reserve_in, reserve_out, fee_bps, victim_in)``.
        budget: Profit evaluations allowed in all.
        evaluations: Evaluations already spent.

    Returns:
        The best ``(profit, -front_in)`` and the optimality gap: how much more any size left
        unexplored could at most earn (0 when proven).
    """
    heap = [(-_upper_bound(lo, hi, *args), lo, hi) for lo, hi in window]
    heapq.heapify(heap)
    while heap and evaluations < budget:
        neg_ub, lo, hi = heapq.heappop(heap)
        if (-neg_ub, -lo) <= best:  # nothing in [lo, hi] beats the best, nor ties it earlier
            heap.clear()
            break
        mid = (lo + hi) // 2
        points = range(lo, hi + 1) if hi - lo < LEAF else range(mid, mid + 1)
        for front in points:
            evaluations += 1
            best = max(best, (_simulate(front, *args).profit, -front))
        if hi - lo >= LEAF:
            for part in ((lo, mid), (mid + 1, hi)):
                heapq.heappush(heap, (-_upper_bound(*part, *args), *part))
    gap = max((-neg_ub - best[0] for neg_ub, _, _ in heap), default=0)
    return best, max(gap, 0)


def swap_to_price(
    reserve_in: int, reserve_out: int, fee_bps: int, price_num: int, price_den: int
) -> int:
    """The smallest sale of token-in after which the pool's price is at most a target.

    The pool's price is ``reserve_out / reserve_in`` (token-out per token-in); selling token-in
    lowers it. An arbitrageur who sees it above an external reference price sells token-in
    until it is back at the reference. To raise the price, call with the reserves swapped and
    the price inverted.

    Args:
        reserve_in: Pool reserve of the token sold.
        reserve_out: Pool reserve of the token bought.
        fee_bps: Swap fee in basis points (it changes how far a sale moves the reserves).
        price_num: Target price numerator (token-out units).
        price_den: Target price denominator (token-in units).

    Returns:
        The amount of token-in; 0 when the price is already at or below the target.
    """
    _check(reserve_in, reserve_out, fee_bps)
    if price_num <= 0 or price_den <= 0:
        raise ValueError(f"target price must be positive, got {price_num}/{price_den}")

    def reached(amount: int) -> bool:
        # The post-trade price only falls as the sale grows: token-in up, token-out down.
        paid = _out(amount, reserve_in, reserve_out, fee_bps)
        return (reserve_out - paid) * price_den <= price_num * (reserve_in + amount)

    if reached(0):
        return 0
    lo, hi = 0, 1  # invariant: not reached(lo)
    while not reached(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reached(mid) else (mid, hi)
    return hi


def arbitrage_profit(
    amount_in: int,
    reserve_in: int,
    reserve_out: int,
    fee_bps: int,
    price_num: int,
    price_den: int,
) -> Fraction:
    """Profit of selling ``amount_in`` of token-in to the pool, valued at a reference price.

    The seller receives :func:`amount_out` of token-out and gives up ``amount_in`` of token-in
    worth ``amount_in · price_num / price_den`` token-out at the reference price.

    Returns:
        The profit in token-out units, exactly (negative when the trade loses).
    """
    if price_num <= 0 or price_den <= 0:
        raise ValueError(f"reference price must be positive, got {price_num}/{price_den}")
    paid = amount_out(amount_in, reserve_in, reserve_out, fee_bps)
    return paid - Fraction(amount_in * price_num, price_den)
