"""``agents/amm_math.py``: the pool's integer math, the sandwich search and the arbitrage helpers.

Properties are checked with hypothesis; the sandwich search is checked against an exhaustive
scan of every front-run size over small pools, where rounding matters most. The last section
runs the numbers on the real ``ConstantProductPool``: the quotes equal ``getAmountOut`` and a
planned sandwich executed on-chain pays exactly the planned profit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import (
    SandwichPlan,
    amount_in_for_out,
    amount_out,
    arbitrage_profit,
    max_feasible_front_in,
    optimal_sandwich,
    sandwich_profit,
    simulate_sandwich,
    swap_to_price,
)
from agentbed.chain.node import Chain

FEES = (0, 1, 5, 30, 100, 300, 1000)
GAS = 400_000
MAX = 2**256 - 1
FAR = 2**63

fees = st.sampled_from(FEES)
small_reserves = st.integers(1, 3_000)


def brute_force(
    reserve_in: int, reserve_out: int, fee: int, victim_in: int, need: int, cap: int
) -> tuple[int, int] | None:
    """(profit, front_in) of the best feasible front-run by trying every size up to ``cap``."""
    best: tuple[int, int] | None = None
    for front in range(1, cap + 1):
        plan = simulate_sandwich(front, reserve_in, reserve_out, fee, victim_in)
        if plan.victim_out < max(need, 1):
            break  # the victim's output only falls from here on
        if plan.profit > 0 and (best is None or plan.profit > best[0]):
            best = (plan.profit, front)
    return best


# ---------------------------------------------------------------------------------------------
# amount_out / amount_in_for_out
# ---------------------------------------------------------------------------------------------


def test_amount_out_is_uniswap_v2_formula_rounded_down():
    # 1000·9970·5000 / (10000·10000 + 1000·9970) = 453.305... -> 453
    assert amount_out(1_000, 10_000, 5_000, 30) == 453
    assert amount_out(1_000, 10_000, 5_000, 0) == 454  # 454.54...
    assert amount_out(0, 10_000, 5_000, 30) == 0
    assert amount_out(10**30, 10, 5_000, 0) == 4_999  # never the whole reserve


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 10, 10, 30), "amount_in must be >= 0"),
        ((1, 0, 10, 30), "reserves must be positive"),
        ((1, 10, -5, 30), "reserves must be positive"),
        ((1, 10, 10, -1), "fee_bps must be in"),
        ((1, 10, 10, 10_000), "fee_bps must be in"),
    ],
)
def test_amount_out_rejects_invalid_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        amount_out(*args)


@settings(max_examples=300)
@given(
    amount=st.integers(0, 10**30),
    extra=st.integers(1, 10**24),
    reserve_in=st.integers(1, 10**30),
    reserve_out=st.integers(1, 10**30),
    fee=fees,
)
def test_fuzz_amount_out_monotone_and_k_never_falls(amount, extra, reserve_in, reserve_out, fee):
    out = amount_out(amount, reserve_in, reserve_out, fee)
    assert 0 <= out < reserve_out
    assert amount_out(amount + extra, reserve_in, reserve_out, fee) >= out
    assert amount_out(amount, reserve_in + extra, reserve_out, fee) <= out
    assert amount_out(amount, reserve_in, reserve_out + extra, fee) >= out
    assert (reserve_in + amount) * (reserve_out - out) >= reserve_in * reserve_out


@settings(max_examples=300)
@given(
    target=st.integers(0, 10**30),
    reserve_in=st.integers(1, 10**30),
    reserve_out=st.integers(1, 10**30),
    fee=fees,
)
def test_fuzz_amount_in_for_out_is_minimal(target, reserve_in, reserve_out, fee):
    target %= reserve_out
    needed = amount_in_for_out(target, reserve_in, reserve_out, fee)
    assert amount_out(needed, reserve_in, reserve_out, fee) >= target
    if needed > 0:
        assert amount_out(needed - 1, reserve_in, reserve_out, fee) < target


def test_amount_in_for_out_rejects_unreachable_target():
    assert amount_in_for_out(0, 100, 100, 30) == 0
    with pytest.raises(ValueError, match="amount_out must be in"):
        amount_in_for_out(100, 100, 100, 30)
    with pytest.raises(ValueError, match="amount_out must be in"):
        amount_in_for_out(-1, 100, 100, 30)


# ---------------------------------------------------------------------------------------------
# sandwiches
# ---------------------------------------------------------------------------------------------


def test_simulate_sandwich_moves_reserves_between_swaps():
    plan = simulate_sandwich(1_000, 10_000, 20_000, 30, 2_000)
    front_out = amount_out(1_000, 10_000, 20_000, 30)
    victim_out = amount_out(2_000, 11_000, 20_000 - front_out, 30)
    back_out = amount_out(front_out, 20_000 - front_out - victim_out, 13_000, 30)
    assert plan == SandwichPlan(
        1_000, front_out, victim_out, front_out, back_out, back_out - 1_000, None
    )
    assert sandwich_profit(1_000, 10_000, 20_000, 30, 2_000) == plan.profit


@settings(max_examples=400)
@given(
    reserve_in=small_reserves,
    reserve_out=small_reserves,
    fee=fees,
    victim_in=st.integers(1, 3_000),
    slippage_bps=st.sampled_from((0, 1, 10, 50, 100, 500, 1_000, 5_000, 10_000)),
    cap=st.integers(0, 4_000),
)
def test_fuzz_optimal_sandwich_matches_exhaustive_scan(
    reserve_in, reserve_out, fee, victim_in, slippage_bps, cap
):
    quote = amount_out(victim_in, reserve_in, reserve_out, fee)
    need = quote * (10_000 - slippage_bps) // 10_000
    plan = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, need, max_front_in=cap)
    best = brute_force(reserve_in, reserve_out, fee, victim_in, need, cap)
    if best is None:
        assert plan is None
        return
    assert plan is not None
    assert (plan.profit, plan.front_in) == best  # ties go to the smallest front-run
    assert plan.optimality_gap == 0
    simulated = simulate_sandwich(plan.front_in, reserve_in, reserve_out, fee, victim_in)
    assert plan.profit == simulated.profit and plan.victim_out == simulated.victim_out
    assert plan.victim_out >= max(need, 1) and plan.front_in <= cap


@settings(max_examples=300)
@given(
    reserve_in=st.integers(1, 10**24),
    reserve_out=st.integers(1, 10**24),
    fee=fees,
    victim_in=st.integers(1, 10**23),
    slippage_bps=st.integers(0, 10_000),
    cap=st.none() | st.integers(0, 10**24),
)
def test_fuzz_max_feasible_front_in_is_tight(
    reserve_in, reserve_out, fee, victim_in, slippage_bps, cap
):
    quote = amount_out(victim_in, reserve_in, reserve_out, fee)
    need = quote * (10_000 - slippage_bps) // 10_000
    bound = max_feasible_front_in(reserve_in, reserve_out, fee, victim_in, need, cap=cap)

    def victim_out(front: int) -> int:
        return simulate_sandwich(front, reserve_in, reserve_out, fee, victim_in).victim_out

    if bound < 0:
        assert quote < max(need, 1)
        return
    assert victim_out(bound) >= max(need, 1)
    if cap is None or bound < cap:
        assert victim_out(bound + 1) < max(need, 1)


def test_ties_go_to_the_smallest_front_run():
    # Front-runs of 167 and 203 both make 1; the search must not stop at the later one it
    # meets first near the unrounded optimum.
    args = (2_407, 78, 100, 39, 1)
    plan = optimal_sandwich(*args, max_front_in=749)
    assert plan is not None and (plan.profit, plan.front_in) == (1, 167)
    assert brute_force(*args, 749) == (1, 167)
    assert sandwich_profit(203, *args[:4]) == 1


def test_sandwich_search_rejects_negative_amounts():
    with pytest.raises(ValueError, match="victim_in and cap must be >= 0"):
        optimal_sandwich(10**6, 10**6, 30, -1, 0)
    with pytest.raises(ValueError, match="victim_in and cap must be >= 0"):
        optimal_sandwich(10**6, 10**6, 30, 10**5, 0, max_front_in=-1)
    with pytest.raises(ValueError, match="amounts must be >= 0"):
        simulate_sandwich(-1, 10**6, 10**6, 30, 10**5)


def test_binding_slippage_limit_puts_the_optimum_at_its_edge():
    # A tight 0.5 % limit binds: one wei more front-run and the victim's swap reverts. Rounding
    # puts the optimum a few wei inside the edge, and nothing between it and the edge pays more.
    reserve_in, reserve_out, fee, victim_in = 10**21, 3 * 10**21, 30, 5 * 10**19
    need = amount_out(victim_in, reserve_in, reserve_out, fee) * 9_950 // 10_000
    plan = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, need)
    assert plan is not None and plan.optimality_gap == 0 and plan.profit > 0
    edge = max_feasible_front_in(reserve_in, reserve_out, fee, victim_in, need)
    assert edge - 64 <= plan.front_in <= edge
    assert plan.victim_out >= need
    over = simulate_sandwich(edge + 1, reserve_in, reserve_out, fee, victim_in)
    assert over.victim_out < need
    for front in range(edge - 1_000, edge + 1):
        assert sandwich_profit(front, reserve_in, reserve_out, fee, victim_in) <= plan.profit


def test_unbounded_victim_gap_bounds_every_front_run():
    # Without a slippage limit the profit is flat within rounding over many sizes, so a small
    # budget cannot prove the optimum; the reported gap must still bound every size.
    reserve_in, reserve_out, fee, victim_in = 2_000, 3_000, 30, 80
    bound = max_feasible_front_in(reserve_in, reserve_out, fee, victim_in, 0)
    plan = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, 0, budget=500)
    assert plan is not None and plan.optimality_gap is not None and plan.optimality_gap > 0
    best = brute_force(reserve_in, reserve_out, fee, victim_in, 0, bound)
    assert best is not None
    assert plan.profit <= best[0] <= plan.profit + plan.optimality_gap
    full = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, 0)
    assert full is not None and (full.profit, full.front_in) == best


def test_optimal_sandwich_returns_none_without_a_profitable_front_run():
    assert optimal_sandwich(10**6, 10**6, 30, 0, 0) is None  # no victim
    assert optimal_sandwich(10**6, 10**6, 30, 10**3, 10**6) is None  # victim reverts anyway
    assert optimal_sandwich(10**6, 10**6, 30, 10, 0) is None  # fees exceed what it moves
    quote = amount_out(10**5, 10**6, 10**6, 30)
    assert optimal_sandwich(10**6, 10**6, 30, 10**5, quote) is None  # zero slippage allowed
    assert optimal_sandwich(10**6, 10**6, 30, 10**5, 0, max_front_in=0) is None  # no budget


def test_large_pools_are_planned_quickly_and_consistently():
    for reserve_in, reserve_out in ((10**21, 10**21), (10**24, 7 * 10**20), (10**18, 10**27)):
        victim_in = reserve_in // 50
        need = amount_out(victim_in, reserve_in, reserve_out, 30) * 99 // 100
        plan = optimal_sandwich(reserve_in, reserve_out, 30, victim_in, need)
        assert plan is not None and plan.optimality_gap == 0
        simulated = simulate_sandwich(plan.front_in, reserve_in, reserve_out, 30, victim_in)
        assert plan.profit == simulated.profit > 0


# ---------------------------------------------------------------------------------------------
# arbitrage back to a reference price
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    reserve_in=st.integers(1, 10**27),
    reserve_out=st.integers(1, 10**27),
    fee=fees,
    num=st.integers(1, 10**27),
    den=st.integers(1, 10**27),
)
def test_fuzz_swap_to_price_is_the_smallest_sale_reaching_the_target(
    reserve_in, reserve_out, fee, num, den
):
    sale = swap_to_price(reserve_in, reserve_out, fee, num, den)

    def price_after(amount: int) -> Fraction:
        paid = amount_out(amount, reserve_in, reserve_out, fee)
        return Fraction(reserve_out - paid, reserve_in + amount)

    target = Fraction(num, den)
    assert price_after(sale) <= target
    if sale > 0:
        assert price_after(sale - 1) > target


def test_swap_to_price_restores_a_displaced_pool_at_a_profit():
    # A victim sold 5 % of the pool's token1; the arbitrageur sells token0 back to 1:1.
    reserve0, reserve1 = 10**21, 10**21
    victim_out = amount_out(5 * 10**19, reserve1, reserve0, 30)
    reserve0, reserve1 = reserve0 - victim_out, reserve1 + 5 * 10**19
    sale = swap_to_price(reserve0, reserve1, 30, 1, 1)
    assert sale > 0
    paid = amount_out(sale, reserve0, reserve1, 30)
    assert reserve1 - paid <= reserve0 + sale
    profit = arbitrage_profit(sale, reserve0, reserve1, 30, 1, 1)
    assert profit == paid - sale > 0
    assert swap_to_price(reserve0 + sale, reserve1 - paid, 30, 1, 1) == 0
    assert arbitrage_profit(10**18, 10**21, 10**21, 30, 1, 1) < 0  # no displacement, no profit
    with pytest.raises(ValueError, match="target price must be positive"):
        swap_to_price(10, 10, 30, 0, 1)


# ---------------------------------------------------------------------------------------------
# on-chain: the real pool agrees to the wei
# ---------------------------------------------------------------------------------------------


def _tokens(chain: Chain, deploy: Any) -> tuple[Any, Any]:
    a, b = deploy("MockERC20", "Alpha", "A"), deploy("MockERC20", "Beta", "B")
    return (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)


def _seeded_pool(
    chain: Chain,
    deploy: Any,
    tokens: tuple[Any, Any],
    fee: int,
    reserves: tuple[int, int],
    traders: tuple[LocalAccount, ...],
) -> Any:
    """A pool with ``reserves`` deposited by accounts[0]; every trader funded and approved."""
    pool = deploy("ConstantProductPool", tokens[0].address, tokens[1].address, fee)
    lp = chain.accounts[0]
    chain.automine = False  # one block for the whole setup
    for acct in (lp, *traders):
        for token in tokens:
            chain.transact(acct, token.functions.mint(acct.address, 10**30), gas=GAS)
            chain.transact(acct, token.functions.approve(pool.address, MAX), gas=GAS)
    chain.transact(lp, pool.functions.addLiquidity(*reserves, 0, lp.address, FAR), gas=GAS)
    (block,) = chain.mine()
    chain.automine = True
    assert all(r.status == 1 for r in chain.receipts(block.number))
    assert pool.functions.getReserves().call() == list(reserves)
    return pool


def _swap(chain: Chain, pool: Any, acct: LocalAccount, token: Any, amount: int, min_out: int):
    rec = chain.receipt(
        chain.transact(
            acct,
            pool.functions.swapExactIn(token.address, amount, min_out, acct.address, FAR),
            gas=GAS,
        )
    )
    assert rec.status == 1, rec.revert_reason
    return rec


@pytest.mark.parametrize("fee", [0, 30, 1000])
def test_amount_out_equals_get_amount_out(chain, deploy, accounts, fee):
    tokens = _tokens(chain, deploy)
    reserves = (10**21, 4 * 10**21)
    pool = _seeded_pool(chain, deploy, tokens, fee, reserves, ())
    for amount in (1, 999, 10**18, 3 * 10**21, 10**27):
        for token, (r_in, r_out) in ((tokens[0], reserves), (tokens[1], reserves[::-1])):
            expected = amount_out(amount, r_in, r_out, fee)
            assert pool.functions.getAmountOut(token.address, amount).call() == expected


@pytest.mark.parametrize(
    ("reserves", "fee", "victim_in", "slippage_bps", "budget"),
    [
        ((10**21, 3 * 10**21), 30, 5 * 10**19, 50, None),  # the slippage limit binds
        ((10**21, 10**21), 0, 10**20, 10_000, 10**20),  # no limit: the attacker's budget binds
        ((173_289, 1_146), 300, 55_657, 1_000, None),  # tiny output reserve: rounding decides
    ],
    ids=["binding-limit", "budget", "rounding"],
)
def test_planned_sandwich_pays_exact_profit_on_chain(
    chain, deploy, accounts, reserves, fee, victim_in, slippage_bps, budget
):
    attacker, victim = accounts[1], accounts[2]
    tokens = _tokens(chain, deploy)
    t_in, t_out = tokens
    pool = _seeded_pool(chain, deploy, tokens, fee, reserves, (attacker, victim))
    reserve_in, reserve_out = reserves
    need = amount_out(victim_in, reserve_in, reserve_out, fee) * (10_000 - slippage_bps) // 10_000
    plan = optimal_sandwich(reserve_in, reserve_out, fee, victim_in, need, max_front_in=budget)
    assert plan is not None and plan.optimality_gap == 0

    def held(token: Any, acct: LocalAccount) -> int:
        return int(token.functions.balanceOf(acct.address).call())

    before_in, before_out, victim_before = (
        held(t_in, attacker),
        held(t_out, attacker),
        held(t_out, victim),
    )
    _swap(chain, pool, attacker, t_in, plan.front_in, 0)
    _swap(chain, pool, victim, t_in, victim_in, need)
    _swap(chain, pool, attacker, t_out, plan.back_in, 0)
    assert held(t_in, attacker) - before_in == plan.profit
    assert held(t_out, attacker) == before_out  # the whole front-run output was sold back
    assert held(t_out, victim) - victim_before == plan.victim_out
    r_in = reserve_in + plan.front_in + victim_in - plan.back_out
    r_out = reserve_out - plan.front_out - plan.victim_out + plan.back_in
    assert pool.functions.getReserves().call() == [r_in, r_out]
