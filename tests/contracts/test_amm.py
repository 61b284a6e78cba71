"""Behaviour of ``contracts/ConstantProductPool.sol`` and ``contracts/PoolFactory.sol``.

Every transaction is sent with a fixed gas limit, so a revert is mined (status 0) and checked
by its decoded custom error. Amounts are predicted by a Python model of the pool written with
the same integer arithmetic (Uniswap v2's ``getAmountOut`` with the fee in basis points), and
the behaviour suite runs over three fees (0.30 %, zero, and the 10 % maximum).
"""

from __future__ import annotations

from math import isqrt
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from txkit import events, tx_helpers

from agentbed.chain.node import Chain

GAS = 4_000_000  # enough for PoolFactory.createPool (deploys a pool)
FUNDS = 10**30
MAX = 2**256 - 1
FAR = 2**63
MINIMUM = 1000
DEAD = "0x000000000000000000000000000000000000dEaD"
ZERO = "0x0000000000000000000000000000000000000000"
R0, R1 = 10**21, 4 * 10**21
REENTRANT = "ReentrancyGuardReentrantCall()"


# ---------------------------------------------------------------------------------------------
# the model: Uniswap v2 integer arithmetic
# ---------------------------------------------------------------------------------------------


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    with_fee = amount_in * (10_000 - fee)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


def shares_for(amount0: int, amount1: int, r0: int, r1: int, supply: int) -> int:
    if supply == 0:
        return isqrt(amount0 * amount1) - MINIMUM
    return min(amount0 * supply // r0, amount1 * supply // r1)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


send, ok, reverts = tx_helpers(GAS)


def reserves(pool: Any) -> tuple[int, int]:
    r0, r1 = pool.functions.getReserves().call()
    return r0, r1


def balances(pool: Any, t0: Any, t1: Any) -> tuple[int, int]:
    return (
        t0.functions.balanceOf(pool.address).call(),
        t1.functions.balanceOf(pool.address).call(),
    )


def at(chain: Chain, timestamp: int) -> None:
    """Seal the next block at header timestamp ``timestamp`` (seconds)."""
    chain.set_next_block_time(timestamp * 1000)


# ---------------------------------------------------------------------------------------------
# fixtures: tokens -> pool -> funded -> seeded
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def alice(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def bob(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def carol(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[3]


@pytest.fixture
def tokens(deploy: Any) -> tuple[Any, Any]:
    """Two MockERC20s, sorted by address (token0, token1)."""
    a, b = deploy("MockERC20", "Alpha", "A"), deploy("MockERC20", "Beta", "B")
    return (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)


@pytest.fixture(params=[30, 0, 1000], ids=["fee30", "fee0", "fee1000"])
def fee(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def pool(deploy: Any, tokens: tuple[Any, Any], fee: int) -> Any:
    t0, t1 = tokens
    # Given in reverse order: the pool sorts them.
    return deploy("ConstantProductPool", t1.address, t0.address, fee)


@pytest.fixture
def funded(chain: Chain, tokens: tuple[Any, Any], pool: Any, alice: Any, bob: Any) -> Any:
    """``pool`` with alice and bob holding FUNDS of both tokens, fully approved."""
    for acct in (alice, bob):
        for token in tokens:
            ok(chain, acct, token.functions.mint(acct.address, FUNDS))
            ok(chain, acct, token.functions.approve(pool.address, MAX))
    return pool


@pytest.fixture
def seeded(chain: Chain, funded: Any, alice: Any) -> Any:
    """``funded`` with alice's first deposit of (R0, R1)."""
    ok(chain, alice, funded.functions.addLiquidity(R0, R1, 0, alice.address, FAR))
    return funded


# ---------------------------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------------------------


def test_constructor_sorts_tokens_and_sets_fee(pool, tokens, fee):
    t0, t1 = tokens
    f = pool.functions
    assert (f.token0().call(), f.token1().call(), f.fee().call()) == (t0.address, t1.address, fee)
    assert f.getReserves().call() == [0, 0]
    assert f.totalSupply().call() == 0
    assert f.MINIMUM_LIQUIDITY().call() == MINIMUM
    assert f.DEFAULT_FEE_BPS().call() == 30


# ---------------------------------------------------------------------------------------------
# liquidity
# ---------------------------------------------------------------------------------------------


def test_first_deposit_mints_sqrt_minus_minimum_and_locks_minimum(chain, funded, tokens, alice):
    t0, t1 = tokens
    rec = ok(chain, alice, funded.functions.addLiquidity(R0, R1, 0, alice.address, FAR))
    shares = isqrt(R0 * R1) - MINIMUM
    assert events(rec, funded) == [
        ("Transfer", {"from": ZERO, "to": DEAD, "value": MINIMUM}),
        ("Transfer", {"from": ZERO, "to": alice.address, "value": shares}),
        ("Sync", {"reserve0": R0, "reserve1": R1}),
        (
            "LiquidityAdded",
            {
                "provider": alice.address,
                "to": alice.address,
                "amount0": R0,
                "amount1": R1,
                "shares": shares,
            },
        ),
    ]
    assert events(rec, t0) == [
        ("Transfer", {"from": alice.address, "to": funded.address, "value": R0})
    ]
    assert events(rec, t1) == [
        ("Transfer", {"from": alice.address, "to": funded.address, "value": R1})
    ]
    assert funded.functions.balanceOf(alice.address).call() == shares
    assert funded.functions.balanceOf(DEAD).call() == MINIMUM
    assert funded.functions.totalSupply().call() == shares + MINIMUM
    assert reserves(funded) == balances(funded, t0, t1) == (R0, R1)


def test_revert_when_first_deposit_not_above_minimum(chain, funded, tokens, alice):
    reverts(
        chain,
        alice,
        funded.functions.addLiquidity(1000, 1000, 0, alice.address, FAR),
        f"PoolInsufficientInitialLiquidity(1000, {MINIMUM})",
    )
    reverts(
        chain,
        alice,
        funded.functions.addLiquidity(10**6, 1, 0, alice.address, FAR),
        f"PoolInsufficientInitialLiquidity(1000, {MINIMUM})",
    )
    rec = ok(chain, alice, funded.functions.addLiquidity(1001, 1001, 0, alice.address, FAR))
    assert events(rec, funded)[-1][1]["shares"] == 1
    assert reserves(funded) == balances(funded, *tokens) == (1001, 1001)


@pytest.mark.parametrize(
    ("a0", "a1"), [(R0 // 10, R1 // 10), (R0 // 10, R1), (7, 10**18), (R0 * 3, 5)]
)
def test_later_deposit_mints_min_of_proportional_shares(chain, seeded, tokens, bob, a0, a1):
    supply = seeded.functions.totalSupply().call()
    shares = shares_for(a0, a1, R0, R1, supply)
    call = seeded.functions.addLiquidity(a0, a1, 0, bob.address, FAR)
    assert call.call({"from": bob.address}) == shares
    rec = ok(chain, bob, call)
    assert events(rec, seeded)[-1] == (
        "LiquidityAdded",
        {
            "provider": bob.address,
            "to": bob.address,
            "amount0": a0,
            "amount1": a1,
            "shares": shares,
        },
    )
    assert seeded.functions.balanceOf(bob.address).call() == shares
    # The excess over the proportional amounts stays in the pool.
    assert reserves(seeded) == balances(seeded, *tokens) == (R0 + a0, R1 + a1)


def test_add_liquidity_mints_to_recipient(chain, seeded, bob, carol):
    rec = ok(chain, bob, seeded.functions.addLiquidity(R0, R1, 0, carol.address, FAR))
    shares = events(rec, seeded)[-1][1]["shares"]
    assert seeded.functions.balanceOf(carol.address).call() == shares > 0
    assert seeded.functions.balanceOf(bob.address).call() == 0


def test_revert_when_add_mints_fewer_than_min_shares(chain, seeded, bob):
    supply = seeded.functions.totalSupply().call()
    shares = shares_for(R0, R1, R0, R1, supply)
    reverts(
        chain,
        bob,
        seeded.functions.addLiquidity(R0, R1, shares + 1, bob.address, FAR),
        f"PoolSlippage({shares}, {shares + 1})",
    )
    ok(chain, bob, seeded.functions.addLiquidity(R0, R1, shares, bob.address, FAR))
    assert seeded.functions.balanceOf(bob.address).call() == shares


def test_revert_when_add_zero_amount_or_zero_shares(chain, seeded, bob):
    for a0, a1 in [(0, 1), (1, 0), (0, 0)]:
        reverts(
            chain,
            bob,
            seeded.functions.addLiquidity(a0, a1, 0, bob.address, FAR),
            "PoolZeroAmount()",
        )
    # 1 wei of token1 is worth half a share (supply 2e21 over a reserve of 4e21): 0 shares.
    assert shares_for(R0, 1, R0, R1, seeded.functions.totalSupply().call()) == 0
    reverts(
        chain, bob, seeded.functions.addLiquidity(R0, 1, 0, bob.address, FAR), "PoolZeroOutput()"
    )
    assert reserves(seeded) == (R0, R1)


@pytest.mark.parametrize("fraction", [1, 3, 10**6], ids=["all", "third", "tiny"])
def test_remove_liquidity_pays_pro_rata(chain, seeded, tokens, alice, carol, fraction):
    t0, t1 = tokens
    held = seeded.functions.balanceOf(alice.address).call()
    supply = seeded.functions.totalSupply().call()
    shares = held // fraction
    a0, a1 = shares * R0 // supply, shares * R1 // supply
    call = seeded.functions.removeLiquidity(shares, a0, a1, carol.address, FAR)
    assert call.call({"from": alice.address}) == [a0, a1]
    rec = ok(chain, alice, call)
    assert events(rec, seeded) == [
        ("Transfer", {"from": alice.address, "to": ZERO, "value": shares}),
        ("Sync", {"reserve0": R0 - a0, "reserve1": R1 - a1}),
        (
            "LiquidityRemoved",
            {
                "provider": alice.address,
                "to": carol.address,
                "amount0": a0,
                "amount1": a1,
                "shares": shares,
            },
        ),
    ]
    assert t0.functions.balanceOf(carol.address).call() == a0
    assert t1.functions.balanceOf(carol.address).call() == a1
    assert seeded.functions.balanceOf(alice.address).call() == held - shares
    assert reserves(seeded) == balances(seeded, t0, t1) == (R0 - a0, R1 - a1)
    if fraction == 1:
        # Only the locked minimum is left; the pool can never be drained to zero.
        assert seeded.functions.totalSupply().call() == MINIMUM
        assert min(reserves(seeded)) > 0


def test_revert_when_remove_pays_less_than_minimum(chain, seeded, alice):
    shares = seeded.functions.balanceOf(alice.address).call() // 2
    supply = seeded.functions.totalSupply().call()
    a0, a1 = shares * R0 // supply, shares * R1 // supply
    f = seeded.functions
    reverts(
        chain,
        alice,
        f.removeLiquidity(shares, a0 + 1, a1, alice.address, FAR),
        f"PoolSlippage({a0}, {a0 + 1})",
    )
    reverts(
        chain,
        alice,
        f.removeLiquidity(shares, a0, a1 + 1, alice.address, FAR),
        f"PoolSlippage({a1}, {a1 + 1})",
    )
    ok(chain, alice, f.removeLiquidity(shares, a0, a1, alice.address, FAR))


def test_revert_when_remove_zero_more_than_held_or_dust(chain, seeded, alice, bob):
    f = seeded.functions
    held = f.balanceOf(alice.address).call()
    reverts(chain, alice, f.removeLiquidity(0, 0, 0, alice.address, FAR), "PoolZeroAmount()")
    reverts(
        chain,
        alice,
        f.removeLiquidity(held + 1, 0, 0, alice.address, FAR),
        f"ERC20InsufficientBalance({alice.address}, {held}, {held + 1})",
    )
    reverts(
        chain,
        bob,
        f.removeLiquidity(10**18, 0, 0, bob.address, FAR),
        f"ERC20InsufficientBalance({bob.address}, 0, {10**18})",
    )
    # One share is worth half a wei of token0 (supply 2e21 over a reserve of 1e21).
    reverts(chain, alice, f.removeLiquidity(1, 0, 0, alice.address, FAR), "PoolZeroOutput()")
    assert reserves(seeded) == (R0, R1)


def test_revert_when_recipient_is_pool_or_zero(chain, seeded, tokens, alice):
    f = seeded.functions
    for to in (seeded.address, ZERO):
        reason = f"PoolInvalidRecipient({to})"
        reverts(chain, alice, f.removeLiquidity(10, 0, 0, to, FAR), reason)
        reverts(chain, alice, f.swapExactIn(tokens[0].address, 10**18, 0, to, FAR), reason)
        reverts(chain, alice, f.skim(to), reason)


# ---------------------------------------------------------------------------------------------
# swaps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zero_for_one", [True, False], ids=["0to1", "1to0"])
@pytest.mark.parametrize("amount_in", [1_000, 10**18, R1 * 5])
def test_swap_pays_formula_output_and_emits(
    chain, seeded, tokens, fee, bob, carol, zero_for_one, amount_in
):
    t0, t1 = tokens
    tin, tout = (t0, t1) if zero_for_one else (t1, t0)
    r_in, r_out = (R0, R1) if zero_for_one else (R1, R0)
    out = amount_out(amount_in, r_in, r_out, fee)
    assert seeded.functions.getAmountOut(tin.address, amount_in).call() == out
    rec = ok(
        chain, bob, seeded.functions.swapExactIn(tin.address, amount_in, out, carol.address, FAR)
    )
    new_in, new_out = r_in + amount_in, r_out - out
    new = (new_in, new_out) if zero_for_one else (new_out, new_in)
    assert events(rec, seeded) == [
        ("Sync", {"reserve0": new[0], "reserve1": new[1]}),
        (
            "Swap",
            {
                "sender": bob.address,
                "tokenIn": tin.address,
                "amountIn": amount_in,
                "amountOut": out,
                "to": carol.address,
            },
        ),
    ]
    assert events(rec, tin) == [
        ("Transfer", {"from": bob.address, "to": seeded.address, "value": amount_in})
    ]
    assert events(rec, tout) == [
        ("Transfer", {"from": seeded.address, "to": carol.address, "value": out})
    ]
    assert tout.functions.balanceOf(carol.address).call() == out
    assert reserves(seeded) == balances(seeded, t0, t1) == new
    k_before, k_after = R0 * R1, new[0] * new[1]
    assert k_after > k_before if fee else k_after >= k_before


def test_revert_when_min_amount_out_one_above_quote(chain, seeded, tokens, bob):
    t0 = tokens[0]
    quote = seeded.functions.getAmountOut(t0.address, 10**18).call()
    f = seeded.functions
    reverts(
        chain,
        bob,
        f.swapExactIn(t0.address, 10**18, quote + 1, bob.address, FAR),
        f"PoolSlippage({quote}, {quote + 1})",
    )
    assert reserves(seeded) == (R0, R1)
    rec = ok(chain, bob, f.swapExactIn(t0.address, 10**18, quote, bob.address, FAR))
    assert events(rec, seeded)[-1][1]["amountOut"] == quote


def test_revert_when_swap_invalid_token_zero_amount_or_zero_output(
    chain, seeded, tokens, fee, bob, deploy
):
    other = deploy("MockERC20", "Other", "O")
    f = seeded.functions
    reverts(
        chain,
        bob,
        f.swapExactIn(other.address, 10, 0, bob.address, FAR),
        f"PoolInvalidToken({other.address})",
    )
    reverts(
        chain,
        bob,
        f.swapExactIn(seeded.address, 10, 0, bob.address, FAR),
        f"PoolInvalidToken({seeded.address})",
    )
    reverts(
        chain, bob, f.swapExactIn(tokens[0].address, 0, 0, bob.address, FAR), "PoolZeroAmount()"
    )
    # 1 wei of token1 in pays a quarter wei of token0 at most: 0 out.
    assert amount_out(1, R1, R0, fee) == 0
    reverts(
        chain, bob, f.swapExactIn(tokens[1].address, 1, 0, bob.address, FAR), "PoolZeroOutput()"
    )
    assert reserves(seeded) == (R0, R1)


def test_revert_when_swap_on_empty_pool(chain, funded, tokens, bob):
    reverts(
        chain,
        bob,
        funded.functions.swapExactIn(tokens[1].address, 10**18, 0, bob.address, FAR),
        "PoolInsufficientLiquidity(0, 0)",
    )


# ---------------------------------------------------------------------------------------------
# deadlines: allowed while block.timestamp <= deadline
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["swap", "add", "remove"])
@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["T-1", "T", "T+1"])
def test_deadline_boundaries(chain, seeded, tokens, alice, operation, offset):
    now = chain.head.timestamp + 100
    deadline = now + offset
    f = seeded.functions
    call = {
        "swap": f.swapExactIn(tokens[0].address, 10**18, 0, alice.address, deadline),
        "add": f.addLiquidity(10**18, 10**18, 0, alice.address, deadline),
        "remove": f.removeLiquidity(10**18, 0, 0, alice.address, deadline),
    }[operation]
    at(chain, now)
    rec = send(chain, alice, call)
    assert chain.block(rec.block_number).timestamp == now
    if offset < 0:
        assert rec.status == 0
        assert rec.revert_reason == f"PoolExpired({deadline}, {now})"
        assert reserves(seeded) == (R0, R1)
    else:
        assert rec.status == 1, rec.revert_reason
        assert reserves(seeded) != (R0, R1)


# ---------------------------------------------------------------------------------------------
# donations: sync and skim
# ---------------------------------------------------------------------------------------------


def test_donation_then_sync_updates_reserves(chain, seeded, tokens, fee, bob, carol):
    t0, t1 = tokens
    ok(chain, carol, t0.functions.mint(seeded.address, 5 * 10**18))
    ok(chain, carol, t1.functions.mint(seeded.address, 7))
    assert reserves(seeded) == (R0, R1)
    assert balances(seeded, t0, t1) == (R0 + 5 * 10**18, R1 + 7)
    rec = ok(chain, carol, seeded.functions.sync())
    assert events(rec, seeded) == [("Sync", {"reserve0": R0 + 5 * 10**18, "reserve1": R1 + 7})]
    assert reserves(seeded) == balances(seeded, t0, t1)
    # Later swaps price against the new reserves.
    out = amount_out(10**18, R0 + 5 * 10**18, R1 + 7, fee)
    assert seeded.functions.getAmountOut(t0.address, 10**18).call() == out
    ok(chain, bob, seeded.functions.swapExactIn(t0.address, 10**18, out, bob.address, FAR))


def test_skim_sends_balances_above_reserves(chain, seeded, tokens, carol):
    t0, t1 = tokens
    ok(chain, carol, t1.functions.mint(seeded.address, 123))
    rec = ok(chain, carol, seeded.functions.skim(carol.address))
    assert events(rec, seeded) == [("Skimmed", {"to": carol.address, "amount0": 0, "amount1": 123})]
    assert events(rec, t1) == [
        ("Transfer", {"from": seeded.address, "to": carol.address, "value": 123})
    ]
    assert events(rec, t0) == []
    assert t1.functions.balanceOf(carol.address).call() == 123
    assert reserves(seeded) == balances(seeded, t0, t1) == (R0, R1)
    rec = ok(chain, carol, seeded.functions.skim(carol.address))
    assert events(rec, seeded) == [("Skimmed", {"to": carol.address, "amount0": 0, "amount1": 0})]


# ---------------------------------------------------------------------------------------------
# reentrancy: a hooked token re-entering the pool fails
# ---------------------------------------------------------------------------------------------


def test_reentrant_token_cannot_reenter(chain, deploy, tokens, alice):
    evil = deploy("ReentrantToken", "Evil", "EVL")
    pool = deploy("ConstantProductPool", evil.address, tokens[0].address, 30)
    for token in (evil, tokens[0]):
        ok(chain, alice, token.functions.mint(alice.address, FUNDS))
        ok(chain, alice, token.functions.approve(pool.address, MAX))
    ok(chain, alice, pool.functions.addLiquidity(R0, R0, 0, alice.address, FAR))
    hook = pool.functions.sync()._encode_transaction_data()
    ok(chain, alice, evil.functions.arm(pool.address, hook, True))
    reverts(
        chain,
        alice,
        pool.functions.swapExactIn(evil.address, 10**18, 0, alice.address, FAR),
        REENTRANT,
    )
    reverts(
        chain, alice, pool.functions.addLiquidity(10**18, 10**18, 0, alice.address, FAR), REENTRANT
    )
    assert pool.functions.getReserves().call() == [R0, R0]
    # Control: disarmed, the same swap succeeds.
    ok(chain, alice, evil.functions.arm(ZERO, b"", False))
    ok(chain, alice, pool.functions.swapExactIn(evil.address, 10**18, 0, alice.address, FAR))


# ---------------------------------------------------------------------------------------------
# fuzz: outputs equal the integer model, k grows
# ---------------------------------------------------------------------------------------------

FUZZ_FEES = (0, 1, 5, 30, 100, 300, 999, 1000)


@pytest.fixture
def fee_pools(
    chain: Chain, deploy: Any, tokens: tuple[Any, Any], alice: Any, bob: Any
) -> dict[int, Any]:
    """One empty pool per fee in FUZZ_FEES, approved by alice (LP) and bob (trader)."""
    out = {}
    for fee_bps in FUZZ_FEES:
        pool = deploy("ConstantProductPool", tokens[0].address, tokens[1].address, fee_bps)
        for acct in (alice, bob):
            for token in tokens:
                ok(chain, acct, token.functions.approve(pool.address, MAX))
        out[fee_bps] = pool
    return out


def test_fuzz_swap_matches_model_and_k_grows(chain, fee_pools, tokens, alice, bob):
    t0, t1 = tokens
    checked: list[int] = []

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        fee_bps=st.sampled_from(FUZZ_FEES),
        r0=st.integers(1_001, 10**27),
        r1=st.integers(1_001, 10**27),
        amount_in=st.one_of(st.integers(1, 10**6), st.integers(1, 10**28)),
        zero_for_one=st.booleans(),
    )
    def run(fee_bps: int, r0: int, r1: int, amount_in: int, zero_for_one: bool) -> None:
        pool = fee_pools[fee_bps]
        snapshot = chain.snapshot()
        try:
            ok(chain, alice, t0.functions.mint(alice.address, r0))
            ok(chain, alice, t1.functions.mint(alice.address, r1))
            ok(chain, alice, pool.functions.addLiquidity(r0, r1, 0, alice.address, FAR))
            assert pool.functions.balanceOf(alice.address).call() == isqrt(r0 * r1) - MINIMUM
            tin = t0 if zero_for_one else t1
            r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
            out = amount_out(amount_in, r_in, r_out, fee_bps)
            ok(chain, bob, tin.functions.mint(bob.address, amount_in))
            call = pool.functions.swapExactIn(tin.address, amount_in, 0, bob.address, FAR)
            if out == 0:
                reverts(chain, bob, call, "PoolZeroOutput()")
                assert reserves(pool) == (r0, r1)
                return
            assert pool.functions.getAmountOut(tin.address, amount_in).call() == out
            rec = ok(chain, bob, call)
            assert events(rec, pool)[-1][1]["amountOut"] == out
            new_in, new_out = r_in + amount_in, r_out - out
            new = (new_in, new_out) if zero_for_one else (new_out, new_in)
            assert reserves(pool) == balances(pool, t0, t1) == new
            assert new[0] * new[1] > r0 * r1 if fee_bps else new[0] * new[1] >= r0 * r1
            checked.append(out)
        finally:
            chain.revert(snapshot)

    run()
    # Most examples really swapped (a zero output is the rare edge case).
    assert len(checked) >= 25, len(checked)


# ---------------------------------------------------------------------------------------------
# factory
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def factory(deploy: Any) -> Any:
    return deploy("PoolFactory", gas=5_000_000)


def test_factory_creates_distinct_pools_per_pair_and_fee(
    chain, factory, tokens, deploy, alice, contracts
):
    t0, t1 = tokens
    t2 = deploy("MockERC20", "Gamma", "G")
    specs = [(t1, t0, 30), (t0, t1, 5), (t0, t2, 30)]
    pools = []
    for i, (a, b, fee_bps) in enumerate(specs):
        call = factory.functions.createPool(a.address, b.address, fee_bps)
        predicted = call.call({"from": alice.address})
        rec = ok(chain, alice, call)
        lo, hi = sorted([a.address, b.address], key=lambda x: int(x, 16))
        assert events(rec, factory) == [
            (
                "PoolCreated",
                {"token0": lo, "token1": hi, "feeBps": fee_bps, "pool": predicted, "index": i},
            )
        ]
        assert factory.functions.getPool(a.address, b.address, fee_bps).call() == predicted
        assert factory.functions.getPool(b.address, a.address, fee_bps).call() == predicted
        assert factory.functions.allPools(i).call() == predicted
        pool = chain.w3.eth.contract(
            address=predicted, abi=contracts.get("ConstantProductPool").abi
        )
        assert (pool.functions.token0().call(), pool.functions.token1().call()) == (lo, hi)
        assert pool.functions.fee().call() == fee_bps
        pools.append(predicted)
    assert len(set(pools)) == 3
    assert factory.functions.allPoolsLength().call() == 3
    assert factory.functions.getPool(t1.address, t2.address, 30).call() == ZERO
    assert factory.functions.getPool(t0.address, t1.address, 1).call() == ZERO


def test_revert_when_factory_pool_exists(chain, factory, tokens, alice):
    t0, t1 = tokens
    ok(chain, alice, factory.functions.createPool(t0.address, t1.address, 30))
    pool = factory.functions.getPool(t0.address, t1.address, 30).call()
    for a, b in ((t0, t1), (t1, t0)):
        reverts(
            chain,
            alice,
            factory.functions.createPool(a.address, b.address, 30),
            f"PoolExists({t0.address}, {t1.address}, 30, {pool})",
        )
    assert factory.functions.allPoolsLength().call() == 1


def test_revert_when_factory_args_invalid(chain, factory, tokens, alice):
    t0, t1 = tokens
    f = factory.functions
    reverts(
        chain, alice, f.createPool(t0.address, t0.address, 30), f"PoolIdenticalTokens({t0.address})"
    )
    reverts(chain, alice, f.createPool(ZERO, t1.address, 30), f"PoolInvalidToken({ZERO})")
    reverts(chain, alice, f.createPool(t0.address, t1.address, 1001), "PoolInvalidFee(1001)")
    ok(chain, alice, f.createPool(t0.address, t1.address, 1000))
    assert f.allPoolsLength().call() == 1
