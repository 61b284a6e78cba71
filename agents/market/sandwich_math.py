"""The optimal constant-product sandwich in closed form, checked exactly in integers.

:func:`agentbed.agents.market.amm_math.optimal_sandwich` finds the most profitable front-run by
search (a ternary search of an exact-``Fraction`` profit, a scan, then branch and bound). This
module gets the same answer, to the wei and with the same tie rule (the smallest front-run),
from three facts about the pool's arithmetic (``ConstantProductPool._amountOut``, Uniswap v2's
``getAmountOut`` with the fee ``f`` in basis points, ``g = 1 - f/10000``):

1. **The victim's limit is a quadratic.** Without rounding, a front-run of ``x`` leaves the
   victim ``g·a·R1·R0 / ((R0 + g·x)(R0 + x + g·a))``, so "at least the victim's minimum output"
   is a quadratic inequality in ``x`` (Zhou et al., *High-Frequency Trading on Decentralized
   On-Chain Exchanges*, IEEE S&P 2021). Its root, by ``math.isqrt``, lands within a few
   units of the rounded bound, which a galloping check from the root then makes exact.
2. **The unrounded profit is a ratio of quadratics.** Substituting the three swaps gives
   ``P(x) = x·(u·x + w) / D(x)`` with ``u = g²(R0 + a) - R0``,
   ``w = g²(R0 + a)(R0 + g·a) - R0²`` and ``D(x) = R0(R0 + x) + g²·x(R0 + x + g·a)`` (the output
   reserve cancels). The sign of ``P'`` is that of a quadratic, so its stationary points are
   closed-form roots, and every level set ``{x : P(x) > L}`` is bounded by the roots of the
   quadratic ``x(u·x + w) - L·D(x)``.
3. **Rounding is bounded and ordered.** The rounded profit exceeds the unrounded one by at most
   ``E = g·b/(R - g)`` (``b`` the back-run output, ``R`` the output-token reserve the
   back-run meets); and while the front-run's output does not change, one more unit of input
   never raises the rounded profit (the back-run gains less than the unit it costs). So only the
   first front-run of each front-run output can be optimal.

The answer is therefore: evaluate the rounded profit at the closed-form candidates (the bound
and the stationary points), take the level ``L = best - E``, and check every first-of-its-output
front-run in the proven window ``{x : P(x) >= L}``. When the victim's limit binds, that window
holds a few sizes; when the victim accepts any output and the pool is large, the profit is flat
within rounding over billions of sizes, and the window is searched by branch and bound within
``budget`` evaluations, which reports how much better any other size could at most be.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from math import isqrt

from agentbed.agents.market.amm_math import (
    BPS,
    DEFAULT_BUDGET,
    SandwichPlan,
    _check,
    _out,
    _simulate,
    branch_and_bound,
)

Poly = tuple[int, int, int]
"""Integer coefficients ``(c2, c1, c0)`` of ``c2·x² + c1·x + c0``."""


def _value(poly: Poly, x: int) -> int:
    c2, c1, c0 = poly
    return (c2 * x + c1) * x + c0


def _first_true(pred: Callable[[int], bool], lo: int, hi: int, hint: int) -> int:
    """The smallest ``x`` in ``[lo, hi]`` with ``pred(x)``, or ``hi + 1``; ``pred`` is monotone.

    Gallops from ``hint`` (a closed-form estimate), so an exact hint costs two evaluations and
    a hint ``d`` away costs about ``2·log2(d)``.
    """
    if lo > hi:
        return hi + 1
    k = min(max(hint, lo), hi)
    if pred(k):  # the answer is k or to its left
        step, right = 1, k
        while right - step >= lo and pred(right - step):
            right -= step
            step *= 2
        left = max(lo - 1, right - step)  # not pred(left), or left below lo
    else:
        step, left = 1, k
        while left + step <= hi and not pred(left + step):
            left += step
            step *= 2
        if left + step > hi and not pred(hi):
            return hi + 1
        right = min(hi, left + step)
    while right - left > 1:  # invariant: pred(right); not pred(left) (or left < lo)
        mid = (left + right) // 2
        left, right = (left, mid) if pred(mid) else (mid, right)
    return right


def _roots(poly: Poly) -> list[int]:
    """Integer estimates (within a few units) of the real roots of a quadratic or linear poly."""
    c2, c1, c0 = poly
    if c2 == 0:
        return [] if c1 == 0 else [-c0 // c1]
    disc = c1 * c1 - 4 * c2 * c0
    if disc < 0:
        return []
    root = isqrt(disc)
    return [(-c1 - root) // (2 * c2), (-c1 + root) // (2 * c2)]


def _positive_region(poly: Poly, lo: int, hi: int) -> list[tuple[int, int]]:
    """The integer intervals of ``[lo, hi]`` where ``poly > 0``, exactly.

    The quadratic is monotone on either side of its vertex, so each side holds at most one
    boundary; the roots' closed form gives the hint and :func:`_first_true` makes it exact.
    """
    c2, c1, _ = poly
    cuts = [lo, hi + 1]
    if c2 != 0:
        vertex = -c1 // (2 * c2)
        cuts[1:1] = [v for v in (vertex, vertex + 1) if lo < v <= hi]
    hints = _roots(poly)
    region: list[tuple[int, int]] = []
    for start, stop in itertools.pairwise(cuts):
        end = stop - 1
        if start > end:
            continue
        positive_start, positive_end = _value(poly, start) > 0, _value(poly, end) > 0
        if positive_start == positive_end:
            if positive_start:
                region.append((start, end))
            continue
        hint = min(hints, key=lambda r: abs(r - start), default=start)
        if positive_end:  # rising piece: the region is a suffix
            first = _first_true(lambda x: _value(poly, x) > 0, start, end, hint)
            region.append((first, end))
        else:  # falling piece: the region is a prefix
            first = _first_true(lambda x: _value(poly, x) <= 0, start, end, hint)
            region.append((start, first - 1))
    return region


def front_run_bound(
    reserve_in: int,
    reserve_out: int,
    fee_bps: int,
    victim_in: int,
    victim_min_out: int,
    *,
    cap: int | None = None,
) -> int:
    """The largest front-run after which the victim's swap still succeeds (-1 if none).

    Same answer as :func:`agentbed.agents.market.amm_math.max_feasible_front_in`, from the
    closed-form root of the unrounded limit ``m·((R0 + x) + g·a)(R0 + g·x) <= g·a·R1·R0`` (scaled
    by the fee's denominator to stay in integers) and an exact check around it. Rounding of the
    front-run's output only helps the victim, so the root is never past the exact bound.
    """
    _check(reserve_in, reserve_out, fee_bps)
    if victim_in < 0 or (cap is not None and cap < 0):
        raise ValueError(f"victim_in and cap must be >= 0, got {victim_in} and {cap}")
    need, g = max(victim_min_out, 1), BPS - fee_bps
    lhs_const = reserve_in * BPS + g * victim_in

    def infeasible(front: int) -> bool:
        # The victim's output falls with the front-run, so this predicate is monotone.
        paid = _out(front, reserve_in, reserve_out, fee_bps)
        return g * victim_in * (reserve_out - paid) < need * (lhs_const + front * BPS)

    if infeasible(0):
        return -1
    limit: Poly = (
        need * BPS * g,
        need * (BPS * reserve_in * BPS + g * lhs_const),
        need * lhs_const * reserve_in * BPS - g * victim_in * reserve_out * reserve_in * BPS,
    )
    hint = max(_roots(limit), default=0)
    hi = cap if cap is not None else max(2 * hint, 1)
    while cap is None and not infeasible(hi):  # only when the hint was far too low
        hi *= 2
    return _first_true(infeasible, 0, hi, hint + 1) - 1


def _profit_polys(r_in: int, fee: int, victim: int) -> tuple[Poly, Poly]:
    """Numerator and denominator of the unrounded profit, scaled by ``BPS³`` to integers."""
    g = BPS - fee
    alpha = g * g * (r_in + victim) - r_in * BPS * BPS
    beta = g * g * (r_in + victim) * (r_in * BPS + g * victim) - r_in * r_in * BPS**3
    numerator = (alpha * BPS, beta, 0)
    denominator = (g * g * BPS, r_in * BPS**3 + g * g * (r_in * BPS + g * victim), r_in**2 * BPS**3)
    return numerator, denominator


def _rounding_gain(
    r_in: int, r_out: int, fee: int, victim: int, bound: int
) -> tuple[int, int] | None:
    """``E`` as ``(num, den)``: for every front-run in ``[0, bound]``, rounded <= unrounded + E.

    The three floors raise the profit only through the front-run's output (rounded down, it
    leaves the back-run a larger output reserve), by less than ``g·b/(R - g)``: ``b`` the
    unrounded back-run output and ``R`` the output reserve it meets. ``R`` is at least the
    unrounded reserve left by a front-run of ``bound`` and the victim, ``C``, and
    ``b <= g·y·(R0 + bound + a)/C`` with ``y`` the front-run output at ``bound``. None when
    ``C`` is too small for a useful bound (tiny pools): the window is then everything.
    """
    g = BPS - fee
    least_reserve = (r_out * r_in * r_in * BPS * BPS) // (
        (r_in * BPS + g * bound) * (r_in * BPS + g * victim)
    )
    slack = least_reserve * BPS - g
    if least_reserve < 1 or slack <= 0:
        return None
    most_front_out = _out(bound, r_in, r_out, fee) + 1
    back_out_num = g * most_front_out * (r_in + bound + victim)  # over least_reserve·BPS
    return g * back_out_num, least_reserve * BPS * slack


def _candidates(numerator: Poly, denominator: Poly, bound: int) -> set[int]:
    """The ends of ``[1, bound]`` and the stationary points of the unrounded profit in it."""
    n2, n1, _ = numerator
    e2, e1, e0 = denominator
    slope: Poly = (n2 * e1 - n1 * e2, 2 * n2 * e0, n1 * e0)  # sign of the profit's derivative
    points = {1, bound}
    for root in _roots(slope):
        points.update(x for x in (root, root + 1) if 1 <= x <= bound)
    return points


def _first_sizes(lo: int, hi: int, r_in: int, r_out: int, fee: int) -> tuple[int, Iterator[int]]:
    """The front-runs in ``[lo, hi]`` that can be optimal: how many, and a lazy list of them.

    Whichever is shorter: every size, or ``lo`` plus the smallest input buying each output
    above ``lo``'s (the ceiling division of ``amount_in_for_out``). Lazy, so a window too
    wide for the budget costs nothing to count.
    """
    first_out, last_out = _out(lo, r_in, r_out, fee), _out(hi, r_in, r_out, fee)
    if hi - lo <= last_out - first_out:
        return hi - lo + 1, iter(range(lo, hi + 1))
    g = BPS - fee
    firsts = (
        -(-(out * r_in * BPS) // (g * (r_out - out))) for out in range(first_out + 1, last_out + 1)
    )
    return last_out - first_out + 1, itertools.chain((lo,), firsts)


def closed_form_sandwich(
    reserve_in: int,
    reserve_out: int,
    fee_bps: int,
    victim_in: int,
    victim_min_out: int,
    *,
    max_front_in: int | None = None,
    budget: int = DEFAULT_BUDGET,
) -> SandwichPlan | None:
    """The most profitable front-run that still lets the victim's swap succeed, in closed form.

    Same contract as :func:`agentbed.agents.market.amm_math.optimal_sandwich` (same arguments,
    same plan, ties to the smallest front-run); the method is in the module docstring.

    Args:
        reserve_in: Pool reserve of the victim's input token.
        reserve_out: Pool reserve of the victim's output token.
        fee_bps: Swap fee in basis points.
        victim_in: The victim's input amount.
        victim_min_out: The victim's ``minAmountOut``.
        max_front_in: The attacker's budget of the input token; unbounded when None.
        budget: Profit evaluations allowed for the exact check; only when the proven window
            holds more candidate sizes than this (a victim without a binding limit in a large
            pool) is the window searched by branch and bound instead, within the same budget,
            and ``optimality_gap`` may then be positive.

    Returns:
        The plan (``optimality_gap`` 0 when proven optimal), or None when no front-run of at
        least 1 makes a positive profit.
    """
    _check(reserve_in, reserve_out, fee_bps)
    if victim_in == 0:
        return None
    bound = front_run_bound(
        reserve_in, reserve_out, fee_bps, victim_in, victim_min_out, cap=max_front_in
    )
    if bound < 1:
        return None
    args = (reserve_in, reserve_out, fee_bps, victim_in)
    g = BPS - fee_bps
    best = (0, 0)  # (profit, -front_in): the largest tuple wins; profit 0 means "no plan"

    def visit(front: int) -> None:
        nonlocal best
        best = max(best, (_simulate(front, *args).profit, -front))

    numerator, denominator = _profit_polys(reserve_in, fee_bps, victim_in)
    for front in _candidates(numerator, denominator, bound):
        visit(front)
        out = _out(front, reserve_in, reserve_out, fee_bps)
        visit(max(1, -(-(out * reserve_in * BPS) // (g * (reserve_out - out)))))
    gain = _rounding_gain(reserve_in, reserve_out, fee_bps, victim_in, bound)
    if gain is None:
        window = [(1, bound)]
    else:
        # Unrounded profit >= target - num/den  <=>  den·numerator - level·denominator >= 0,
        # with level = target·den - num (the denominator is positive).
        level = max(best[0], 1) * gain[1] - gain[0]
        window_poly: Poly = (
            gain[1] * numerator[0] - level * denominator[0],
            gain[1] * numerator[1] - level * denominator[1],
            gain[1] * numerator[2] - level * denominator[2] + 1,
        )
        window = _positive_region(window_poly, 1, bound)
    sizes = [_first_sizes(lo, hi, reserve_in, reserve_out, fee_bps) for lo, hi in window]
    if sum(count for count, _ in sizes) <= budget:
        for _, part in sizes:
            for front in part:
                visit(front)
        gap = 0
    else:
        best, gap = branch_and_bound(window, best, args, budget)
    profit, neg_front = best
    if profit <= 0:
        return None
    return replace(_simulate(-neg_front, *args), optimality_gap=gap)
