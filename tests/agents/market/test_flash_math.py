"""The capital-free cycle's sizing: exact against a brute-force oracle on small pools, and the
closed form's optimum where the smooth cycle says it is."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.flash_math import (
    Leg,
    best_flash_swap,
    best_loan,
    flash_swap_owed,
    flash_swap_profit,
    loan_profit,
    smooth_optimum,
)

E = 10**18
SMALL = st.integers(min_value=20, max_value=1_500)
FEE = st.sampled_from((0, 5, 30, 100))
LEGS = st.builds(Leg, SMALL, SMALL, FEE)


@settings(max_examples=150, deadline=None)
@given(buy=LEGS, sell=LEGS, loan_fee=st.sampled_from((0, 5, 9, 50)))
def test_fuzz_best_loan_is_the_brute_force_optimum(buy: Leg, sell: Leg, loan_fee: int) -> None:
    plan = best_loan(buy, sell, loan_fee)
    brute = max(loan_profit(a, buy, sell, loan_fee) for a in range(1, 8 * 1_500))
    assert (plan.profit if plan else 0) == max(brute, 0)
    if plan is not None:
        assert plan.gap == 0
        assert loan_profit(plan.amount, buy, sell, loan_fee) == plan.profit


@settings(max_examples=150, deadline=None)
@given(buy=LEGS, sell=LEGS)
def test_fuzz_best_flash_swap_is_the_brute_force_optimum(buy: Leg, sell: Leg) -> None:
    plan = best_flash_swap(buy, sell)
    brute = max(flash_swap_profit(b, buy, sell) for b in range(1, buy.reserve_out))
    assert (plan.profit if plan else 0) == max(brute, 0)
    if plan is not None:
        assert plan.gap == 0
        assert flash_swap_profit(plan.amount, buy, sell) == plan.profit


def test_no_cycle_when_the_price_gap_is_inside_the_fees() -> None:
    # 3,010 against 3,000 USDC per WETH is a 33 bps gap; the two pools charge 35 bps.
    buy, sell = Leg(1_000 * E, 3_010_000 * E, 30), Leg(900_000 * E, 300 * E, 5)
    assert smooth_optimum(buy, sell) == 0
    assert best_loan(buy, sell, 0) is None
    assert best_flash_swap(buy, sell) is None


def test_realistic_cycle_is_found_near_the_closed_form_and_the_swap_beats_a_paid_loan() -> None:
    buy, sell = Leg(1_000 * E, 3_030_000 * E, 30), Leg(900_000 * E, 300 * E, 5)
    loan = best_loan(buy, sell, 9)
    swap = best_flash_swap(buy, sell)
    assert loan is not None and swap is not None
    assert abs(loan.amount - int(smooth_optimum(buy, sell, 9))) <= E // 1000
    assert loan.gap <= 2 and swap.gap <= 2
    # A flash swap pays no lender: it earns more than a loan at 9 bps of the same cycle.
    assert swap.profit > loan.profit
    # Its repayment keeps the pool's fee-adjusted product, one unit less would not.
    owed = flash_swap_owed(swap.amount, buy)
    g = 10_000 - buy.fee_bps
    k = buy.reserve_in * buy.reserve_out * 10_000**2
    after = (buy.reserve_out - swap.amount) * 10_000
    assert ((buy.reserve_in + owed) * 10_000 - owed * (10_000 - g)) * after >= k
    less = owed - 1
    assert ((buy.reserve_in + less) * 10_000 - less * (10_000 - g)) * after < k
