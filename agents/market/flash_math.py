"""Exact sizing of a capital-free two-pool arbitrage, funded by a flash loan or a flash swap.

Two constant-product pools of one pair quote different prices. The cycle buys the other token
on the *buy* pool (where it is cheap) with token ``A`` and sells it back for ``A`` on the *sell*
pool, within one transaction (``contracts/FlashArbitrage.sol``). Its funding is one of:

* **a flash loan** of ``a`` of ``A`` from an ERC-3156 lender (``contracts/FlashLender.sol``,
  fee ``floor(a·fee_bps / 10,000)``): profit ``out_sell(out_buy(a)) - a - fee(a)``;
* **a flash swap** of ``b`` of the other token out of the buy pool, repaid in ``A`` with the
  least input the pool's fee-adjusted product accepts (the executor pays
  ``floor(r_in·b·BPS / ((r_out - b)·(BPS - fee))) + 1``): profit ``out_sell(b) - owed(b)``.

Both are in units of ``A``, with the pools' integer rounding. The smooth optimum has a closed
form: the cycle's output is ``K·a / (M + N·a)`` with ``K = g₁g₂·x₂·y₁``, ``M = x₁·y₂``,
``N = g₁·(y₂ + g₂·y₁)`` (``x`` reserves of ``A``, ``y`` of the other token, ``g = 1 - fee``), so
``K·a/(M + N·a) - (1 + φ)·a`` (``φ`` the loan fee) peaks at ``a* = (√(K·M/(1+φ)) - M) / N``, and
the cycle pays at all only when ``K > (1 + φ)·M``. The integer optimum is then certified by
branch and bound, as :mod:`agentbed.agents.market.amm_math` does for sandwiches: rounding only
lowers a pool's output (and the loan fee rounds down by less than a unit), so the integer profit
never exceeds the smooth one plus 1, which is concave; on ``[lo, hi]`` no size beats the smooth
profit at the peak clamped into the interval, plus 1, and intervals whose bound cannot beat the
best size found are dropped. In pools of 1e18-wei tokens the profit is flat within rounding over
very many sizes, so the search stops at a budget and reports ``gap``, the most any other size
could earn above the answer (one or two units, measured).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from agentbed.agents.market.amm_math import BPS, amount_out

LEAF = 16
"""Intervals this narrow are scanned size by size."""
BUDGET = 400
"""Default most intervals examined before the search stops with a stated gap."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One pool as the cycle sees it: reserves of the token it sells and buys there, and its fee."""

    reserve_in: int
    reserve_out: int
    fee_bps: int


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """The best size of one cycle and what it earns.

    Attributes:
        amount: Flash loan: ``A`` borrowed and sold on the buy pool. Flash swap: the other token
            taken out of the buy pool.
        profit: Profit in ``A`` (after the lender's fee or the flash-swap repayment), > 0.
        gap: Most any other size could earn above ``profit`` (0 when certified optimal).
    """

    amount: int
    profit: int
    gap: int


def loan_profit(amount: int, buy: Leg, sell: Leg, loan_fee_bps: int) -> int:
    """Profit in ``A`` of borrowing ``amount`` of ``A``, buying on ``buy``, selling on ``sell``."""
    bought = amount_out(amount, buy.reserve_in, buy.reserve_out, buy.fee_bps)
    back = amount_out(bought, sell.reserve_in, sell.reserve_out, sell.fee_bps)
    return back - amount - amount * loan_fee_bps // BPS


def flash_swap_owed(amount_out_: int, leg: Leg) -> int:
    """What ``FlashArbitrage`` repays a pool for taking ``amount_out_`` of its output token."""
    numerator = leg.reserve_in * amount_out_ * BPS
    return numerator // ((leg.reserve_out - amount_out_) * (BPS - leg.fee_bps)) + 1


def flash_swap_profit(amount_out_: int, buy: Leg, sell: Leg) -> int:
    """Profit in ``A`` of taking ``amount_out_`` of the other token out of ``buy`` (repaid in
    ``A``) and selling it on ``sell``."""
    back = amount_out(amount_out_, sell.reserve_in, sell.reserve_out, sell.fee_bps)
    return back - flash_swap_owed(amount_out_, buy)


def smooth_optimum(buy: Leg, sell: Leg, loan_fee_bps: int = 0) -> Fraction:
    """The closed-form optimal loan ``a*`` of the unrounded cycle (0 when it cannot pay)."""
    g1 = Fraction(BPS - buy.fee_bps, BPS)
    g2 = Fraction(BPS - sell.fee_bps, BPS)
    x1, y1, y2, x2 = buy.reserve_in, buy.reserve_out, sell.reserve_in, sell.reserve_out
    k = g1 * g2 * x2 * y1
    m = Fraction(x1 * y2)
    n = g1 * (y2 + g2 * y1)
    target = k * m / (1 + Fraction(loan_fee_bps, BPS))
    if target <= m * m:
        return Fraction(0)
    # isqrt of the scaled rational keeps the exactness a float would lose at 1e42.
    scale = 1 << 64
    root = Fraction(math.isqrt(target.numerator * scale * scale // target.denominator), scale)
    return max(Fraction(0), (root - m) / n)


def best_loan(buy: Leg, sell: Leg, loan_fee_bps: int, budget: int = BUDGET) -> CyclePlan | None:
    """The loan size earning most (the lender may lend at most ``cap``: not checked here)."""
    if not _liquid(buy, sell):
        return None
    a_star = smooth_optimum(buy, sell, loan_fee_bps)
    if a_star < 1:
        return None
    phi = Fraction(loan_fee_bps, BPS)

    def smooth(a: Fraction) -> Fraction:
        return _smooth_out(_smooth_out(a, buy), sell) - (1 + phi) * a

    return _search(lambda a: loan_profit(a, buy, sell, loan_fee_bps), smooth, a_star, budget)


def best_flash_swap(buy: Leg, sell: Leg, budget: int = BUDGET) -> CyclePlan | None:
    """The flash-swap size (the other token taken out of ``buy``) earning most."""
    if not _liquid(buy, sell):
        return None
    a_star = smooth_optimum(buy, sell)
    b_star = _smooth_out(a_star, buy)
    if b_star < 1:
        return None
    g1 = Fraction(BPS - buy.fee_bps, BPS)

    def smooth(b: Fraction) -> Fraction:
        owed = buy.reserve_in * b / (g1 * (buy.reserve_out - b))
        return _smooth_out(b, sell) - owed

    return _search(
        lambda b: flash_swap_profit(b, buy, sell), smooth, b_star, budget, buy.reserve_out - 1
    )


def _smooth_out(amount: Fraction, leg: Leg) -> Fraction:
    """The pool's output without its rounding down (never below the real output)."""
    g = Fraction(BPS - leg.fee_bps, BPS)
    return g * amount * leg.reserve_out / (leg.reserve_in + g * amount)


def _liquid(buy: Leg, sell: Leg) -> bool:
    return min(buy.reserve_in, buy.reserve_out, sell.reserve_in, sell.reserve_out) > 0


def _search(
    profit: Callable[[int], int],
    smooth: Callable[[Fraction], Fraction],
    peak: Fraction,
    budget: int,
    limit: int | None = None,
) -> CyclePlan | None:
    """Branch and bound over integer sizes of ``profit``, which never exceeds ``smooth + 1``
    (rounding only lowers a pool's output; the loan fee rounds down by less than one unit),
    a concave function peaking at ``peak``: on ``[lo, hi]`` no size beats
    ``smooth(clamp(peak, lo, hi)) + 1``. Sizes up to ``limit`` (default ``4·peak``: the smooth
    profit falls past the peak, the rest is room for the rounding)."""
    start = int(peak)
    hi = 4 * start + 2 if limit is None else min(limit, 4 * start + 2)
    if hi < 1:
        return None

    def bound(lo: int, up: int) -> int:
        return math.floor(smooth(min(max(peak, Fraction(lo)), Fraction(up)))) + 1

    best_at, best = 0, 0
    for size in range(max(1, start - LEAF), min(hi, start + LEAF) + 1):
        value = profit(size)
        if value > best:
            best_at, best = size, value
    heap: list[tuple[int, int, int]] = [(-bound(1, hi), 1, hi)]
    examined = 0
    while heap and examined < budget:
        neg_bound, lo, up = heapq.heappop(heap)
        if -neg_bound <= best:
            heap.clear()  # the best bound left cannot beat the answer: certified
            break
        examined += 1
        if up - lo < LEAF:
            for size in range(lo, up + 1):
                value = profit(size)
                if value > best or (value == best and size < best_at):
                    best_at, best = size, value
            continue
        mid = (lo + up) // 2
        for left, right in ((lo, mid), (mid + 1, up)):
            value = bound(left, right)
            if value > best:
                heapq.heappush(heap, (-value, left, right))
    if best <= 0:
        return None
    gap = max(0, -heap[0][0] - best) if heap else 0
    return CyclePlan(best_at, best, gap)
