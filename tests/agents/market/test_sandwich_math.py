"""``agents/market/sandwich_math.py``: the closed-form sandwich optimum against its oracles.

The oracle on small pools is an exhaustive scan of every front-run size under the pool's
integer arithmetic (``simulate_sandwich``); on large pools it is ``amm_math.optimal_sandwich``'s
branch and bound where that proves its plan. The closed-form roots are checked against brute
force on random quadratics.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import (
    amount_out,
    max_feasible_front_in,
    optimal_sandwich,
    simulate_sandwich,
)
from agentbed.agents.market.sandwich_math import (
    _first_true,
    _positive_region,
    closed_form_sandwich,
    front_run_bound,
)

FEES = (0, 1, 5, 30, 100, 300, 1000)
SLIPPAGES = (0, 1, 10, 50, 100, 150, 500, 1_000, 5_000, 10_000)


def exhaustive(
    reserve_in: int, reserve_out: int, fee: int, victim_in: int, need: int, limit: int
) -> tuple[int, int] | None:
    """(profit, front_in) of the best feasible front-run in ``[1, limit]``, every size tried.

    No shortcut: each size is simulated and its feasibility checked on its own, so this oracle
    shares no assumption (monotone feasibility, plateaus, rounding bounds) with the code.
    """
    best: tuple[int, int] | None = None
    for front in range(1, limit + 1):
        plan = simulate_sandwich(front, reserve_in, reserve_out, fee, victim_in)
        feasible = plan.victim_out >= max(need, 1)
        if feasible and plan.profit > 0 and (best is None or plan.profit > best[0]):
            best = (plan.profit, front)
    return best


def _need(victim_in: int, reserve_in: int, reserve_out: int, fee: int, slippage: int) -> int:
    return amount_out(victim_in, reserve_in, reserve_out, fee) * (10_000 - slippage) // 10_000


@settings(max_examples=3_000, derandomize=True, deadline=None)
@given(
    reserve_in=st.integers(1, 4_000),
    reserve_out=st.integers(1, 4_000),
    fee=st.sampled_from(FEES),
    victim_in=st.integers(0, 3_000),
    slippage=st.sampled_from(SLIPPAGES),
    cap=st.integers(0, 1_500),
)
def test_fuzz_closed_form_equals_exhaustive_oracle(
    reserve_in, reserve_out, fee, victim_in, slippage, cap
):
    need = _need(victim_in, reserve_in, reserve_out, fee, slippage)
    plan = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, need, max_front_in=cap)
    best = exhaustive(reserve_in, reserve_out, fee, victim_in, need, cap)
    if best is None:
        assert plan is None
        return
    assert plan is not None
    assert (plan.profit, plan.front_in) == best  # to the wei; ties to the smallest front-run
    assert plan.optimality_gap == 0
    simulated = simulate_sandwich(plan.front_in, reserve_in, reserve_out, fee, victim_in)
    assert replace(plan, optimality_gap=None) == simulated
    assert plan.victim_out >= max(need, 1)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(
    reserve_in=st.integers(1, 10**7),
    reserve_out=st.integers(1, 10**7),
    fee=st.sampled_from(FEES),
    victim_share=st.integers(0, 1_000),
    slippage=st.sampled_from(SLIPPAGES),
    cap=st.integers(0, 1_500),
)
def test_fuzz_closed_form_equals_exhaustive_oracle_in_larger_pools(
    reserve_in, reserve_out, fee, victim_share, slippage, cap
):
    # Victims up to 10 % of the pool; the attacker's budget keeps the exhaustive scan short,
    # and a window that the budget cuts checks the closed form's clipping at the cap.
    victim_in = reserve_in * victim_share // 10_000
    need = _need(victim_in, reserve_in, reserve_out, fee, slippage)
    plan = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, need, max_front_in=cap)
    best = exhaustive(reserve_in, reserve_out, fee, victim_in, need, cap)
    assert (None if plan is None else (plan.profit, plan.front_in)) == best
    assert plan is None or plan.optimality_gap == 0


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    reserve_in=st.integers(1, 10**27),
    reserve_out=st.integers(1, 10**27),
    fee=st.sampled_from(FEES),
    victim_in=st.integers(0, 10**25),
    slippage=st.integers(0, 10_000),
    cap=st.none() | st.integers(0, 10**26),
)
def test_fuzz_front_run_bound_equals_binary_search(
    reserve_in, reserve_out, fee, victim_in, slippage, cap
):
    need = _need(victim_in, reserve_in, reserve_out, fee, slippage)
    assert front_run_bound(
        reserve_in, reserve_out, fee, victim_in, need, cap=cap
    ) == max_feasible_front_in(reserve_in, reserve_out, fee, victim_in, need, cap=cap)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    reserve_in=st.integers(10**17, 10**25),
    price_exponent=st.integers(-6, 6),
    fee=st.sampled_from((5, 30, 100)),
    victim_share=st.integers(1, 500),
    slippage=st.sampled_from((10, 50, 150, 500)),
)
def test_fuzz_large_pools_match_the_search_where_it_proves_its_plan(
    reserve_in, price_exponent, fee, victim_share, slippage
):
    # Token pairs a million times apart in unit value either way, victims up to 5 % of the pool.
    reserve_out = max(1, reserve_in * 10**6 // 10 ** (6 - price_exponent))
    victim_in = reserve_in * victim_share // 10_000
    need = _need(victim_in, reserve_in, reserve_out, fee, slippage)
    plan = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, need)
    searched = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, need, budget=1_000)
    if searched is None:
        assert plan is None or plan.optimality_gap is not None
        return
    assert plan is not None and plan.profit >= searched.profit
    if searched.optimality_gap == 0 and plan.optimality_gap == 0:
        assert (plan.profit, plan.front_in) == (searched.profit, searched.front_in)


def test_binding_limit_is_proven_optimal_in_a_large_pool():
    # The flagship's shape: 1,000 WETH against 3M USDC, a 1.5 % limit that binds.
    reserve_in, reserve_out, fee = 1_000 * 10**18, 3_000_000 * 10**18, 30
    victim_in = 5 * 10**18
    need = _need(victim_in, reserve_in, reserve_out, fee, 150)
    plan = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, need)
    oracle = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, need, budget=100_000)
    assert plan is not None and oracle is not None and oracle.optimality_gap == 0
    assert plan.optimality_gap == 0 and plan == oracle
    edge = front_run_bound(reserve_in, reserve_out, fee, victim_in, need)
    assert edge - 1_000 <= plan.front_in <= edge  # the optimum sits at the victim's limit


def test_small_budget_falls_back_to_a_search_whose_gap_bounds_every_size():
    # No slippage limit: the profit is flat within rounding over many sizes, so the proven
    # window holds more sizes than the budget and branch and bound reports its gap.
    reserve_in, reserve_out, fee, victim_in = 2_000, 3_000, 30, 80
    bound = front_run_bound(reserve_in, reserve_out, fee, victim_in, 0)
    plan = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, 0, budget=5)
    best = exhaustive(reserve_in, reserve_out, fee, victim_in, 0, bound)
    assert plan is not None and best is not None and plan.optimality_gap is not None
    assert plan.optimality_gap > 0
    assert plan.profit <= best[0] <= plan.profit + plan.optimality_gap
    full = closed_form_sandwich(reserve_in, reserve_out, fee, victim_in, 0)
    assert full is not None and (full.profit, full.front_in) == best


def test_no_plan_without_a_profitable_front_run():
    assert closed_form_sandwich(10**6, 10**6, 30, 0, 0) is None  # no victim
    assert closed_form_sandwich(10**6, 10**6, 30, 10**3, 10**6) is None  # reverts anyway
    assert closed_form_sandwich(10**6, 10**6, 30, 10, 0) is None  # fees exceed what it moves
    quote = amount_out(10**5, 10**6, 10**6, 30)
    assert closed_form_sandwich(10**6, 10**6, 30, 10**5, quote) is None  # zero slippage
    assert closed_form_sandwich(10**6, 10**6, 30, 10**5, 0, max_front_in=0) is None


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((10**6, 10**6, 30, -1, 0), {}, "victim_in and cap must be >= 0"),
        ((10**6, 10**6, 30, 10**5, 0), {"max_front_in": -1}, "victim_in and cap must be >= 0"),
        ((0, 10**6, 30, 10**5, 0), {}, "reserves must be positive"),
        ((10**6, 10**6, 10_000, 10**5, 0), {}, "fee_bps must be in"),
    ],
)
def test_rejects_invalid_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        closed_form_sandwich(*args, **kwargs)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    coefficients=st.tuples(*(st.integers(-(10**6), 10**6),) * 3),
    scale=st.integers(0, 30),
    lo=st.integers(-300, 300),
    width=st.integers(0, 600),
)
def test_fuzz_positive_region_is_exact(coefficients, scale, lo, width):
    c2, c1, c0 = coefficients
    poly = (c2, c1 * 2**scale, c0 * 4**scale)  # wide roots too, found from the closed form
    hi = lo + width
    region = _positive_region(poly, lo, hi)
    inside = {x for start, end in region for x in range(start, end + 1)}
    assert all(start <= end for start, end in region)
    assert inside == {x for x in range(lo, hi + 1) if (c2 * x + poly[1]) * x + poly[2] > 0}


def test_first_true_finds_the_boundary_from_any_hint():
    rng = random.Random(5)
    for _ in range(500):
        lo, hi = sorted(rng.randint(-50, 2_000) for _ in range(2))
        edge = rng.randint(lo - 3, hi + 3)
        hint = rng.randint(lo - 10, hi + 10)
        expected = min(max(edge, lo), hi + 1)
        assert _first_true(lambda x, e=edge: x >= e, lo, hi, hint) == expected
