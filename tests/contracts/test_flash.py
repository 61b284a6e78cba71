"""Behaviour of ``contracts/FlashLender.sol`` (ERC-3156), ``ConstantProductPool.flashSwap`` and
``contracts/FlashArbitrage.sol``.

The lender's properties are checked over random amounts and fees (hypothesis), each example
on a chain snapshot: a repaid loan moves exactly the fee from the borrower to the lender;
a short repayment, a wrong callback return value or a re-entry reverts and moves nothing.
The arbitrage executor is checked against a Python model of the two swaps (Uniswap v2's
integer formula with the fee in basis points), starting from an owner with no tokens at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from txkit import tx_helpers

from agentbed.chain.errors import ExecutionReverted, GasEstimationFailed
from agentbed.chain.node import Chain

GAS = 3_000_000
FAR = 2**63
MAX = 2**256 - 1
LIQUIDITY = 10**24
R0, R1 = 10**21, 4 * 10**21
REENTRANT = "ReentrancyGuardReentrantCall()"
REPAY, SHORT, WRONG, REENTER = range(4)
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

send, ok, reverts = tx_helpers(GAS)


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    with_fee = amount_in * (10_000 - fee)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


def balance(token: Any, who: Any) -> int:
    return int(token.functions.balanceOf(getattr(who, "address", who)).call())


@pytest.fixture
def owner(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def searcher(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def tokens(deploy: Any) -> tuple[Any, Any]:
    """Two MockERC20s, sorted by address (token0, token1)."""
    a, b = deploy("MockERC20", "Alpha", "A"), deploy("MockERC20", "Beta", "B")
    return (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)


def make_lender(chain: Chain, deploy: Any, owner: Any, token: Any, fee_bps: int) -> Any:
    lender = deploy("FlashLender", fee_bps, owner.address)
    ok(chain, owner, token.functions.mint(owner.address, LIQUIDITY))
    ok(chain, owner, token.functions.approve(lender.address, MAX))
    ok(chain, owner, lender.functions.supply(token.address, LIQUIDITY))
    return lender


def make_pool(
    chain: Chain, deploy: Any, owner: Any, tokens: tuple[Any, Any], r0: int, r1: int
) -> Any:
    t0, t1 = tokens
    pool = deploy("ConstantProductPool", t0.address, t1.address, 30)
    for token, amount in ((t0, r0), (t1, r1)):
        ok(chain, owner, token.functions.mint(owner.address, amount))
        ok(chain, owner, token.functions.approve(pool.address, MAX))
    ok(chain, owner, pool.functions.addLiquidity(r0, r1, 0, owner.address, FAR))
    return pool


# ---------------------------------------------------------------------------------------------
# ERC-3156 lender
# ---------------------------------------------------------------------------------------------


def test_views_follow_erc3156(chain, deploy, owner, tokens):
    t0, t1 = tokens
    lender = make_lender(chain, deploy, owner, t0, 9)
    f = lender.functions
    assert f.maxFlashLoan(t0.address).call() == LIQUIDITY
    assert f.maxFlashLoan(t1.address).call() == 0  # nothing held: nothing to lend
    assert f.flashFee(t0.address, 10**6).call() == 900
    assert f.flashFee(t1.address, 1_111).call() == 0  # rounds down
    assert reverts(chain, owner, f.supply(t0.address, 0)) == "FlashLenderZeroAmount()"


def test_fee_above_maximum_is_refused(chain, deploy, owner):
    with pytest.raises((ExecutionReverted, GasEstimationFailed), match="FlashLenderInvalidFee"):
        deploy("FlashLender", 1001, owner.address)


def test_fuzz_loans_repay_with_fee_or_change_nothing(chain, deploy, owner, searcher, tokens):
    token = tokens[0]
    lenders = {fee: make_lender(chain, deploy, owner, token, fee) for fee in (0, 9, 1000)}
    borrower = deploy("FlashBorrowerMock")
    # The borrower holds enough to pay any fee, never enough to repay a loan by itself.
    ok(chain, owner, token.functions.mint(borrower.address, LIQUIDITY // 10))

    @FUZZ
    @given(
        fee=st.sampled_from(sorted(lenders)),
        amount=st.one_of(st.integers(1, LIQUIDITY), st.just(LIQUIDITY)),
        mode=st.sampled_from([REPAY, SHORT, WRONG, REENTER]),
    )
    def run(fee: int, amount: int, mode: int) -> None:
        lender = lenders[fee]
        snapshot = chain.snapshot()
        try:
            ok(chain, searcher, borrower.functions.configure(mode, token.address, 0))
            before = (balance(token, lender), balance(token, borrower))
            rec = send(
                chain, searcher, borrower.functions.borrow(lender.address, token.address, amount)
            )
            after = (balance(token, lender), balance(token, borrower))
            charged = amount * fee // 10_000
            if mode == REPAY:
                assert rec.status == 1, rec.revert_reason
                assert after == (before[0] + charged, before[1] - charged)
                # the callback saw the loan: the initiator, amount, fee, and the tokens themselves
                b = borrower.functions
                assert b.seenInitiator().call() == borrower.address
                assert (b.seenAmount().call(), b.seenFee().call()) == (amount, charged)
                assert b.balanceInside().call() == before[1] + amount
            else:
                assert rec.status == 0 and after == before
                expected = {
                    SHORT: "ERC20InsufficientAllowance(",
                    WRONG: "FlashLenderCallbackFailed(",
                    REENTER: REENTRANT,
                }[mode]
                assert rec.revert_reason is not None and rec.revert_reason.startswith(expected)
        finally:
            chain.revert(snapshot)

    run()


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        (REPAY, None),
        (SHORT, "ERC20InsufficientAllowance("),
        (WRONG, "FlashLenderCallbackFailed("),
        (REENTER, REENTRANT),
    ],
)
def test_each_callback_outcome(chain, deploy, owner, searcher, tokens, mode, error):
    token = tokens[0]
    lender = make_lender(chain, deploy, owner, token, 9)
    borrower = deploy("FlashBorrowerMock")
    ok(chain, owner, token.functions.mint(borrower.address, 10**18))
    ok(chain, searcher, borrower.functions.configure(mode, token.address, 0))
    rec = send(chain, searcher, borrower.functions.borrow(lender.address, token.address, 10**20))
    if error is None:
        assert rec.status == 1 and balance(token, lender) == LIQUIDITY + 9 * 10**16
    else:
        assert rec.status == 0 and rec.revert_reason.startswith(error)
        assert balance(token, lender) == LIQUIDITY


def test_loan_above_balance_is_refused(chain, deploy, owner, searcher, tokens):
    token = tokens[0]
    lender = make_lender(chain, deploy, owner, token, 9)
    borrower = deploy("FlashBorrowerMock")
    call = borrower.functions.borrow(lender.address, token.address, LIQUIDITY + 1)
    reason = reverts(chain, searcher, call)
    assert reason == f"FlashLenderExceedsMax({token.address}, {LIQUIDITY + 1}, {LIQUIDITY})"


def test_only_owner_withdraws(chain, deploy, owner, searcher, tokens):
    token = tokens[0]
    lender = make_lender(chain, deploy, owner, token, 9)
    reason = reverts(chain, searcher, lender.functions.withdraw(token.address, 1, searcher.address))
    assert reason.startswith("OwnableUnauthorizedAccount(")
    ok(chain, owner, lender.functions.withdraw(token.address, LIQUIDITY, owner.address))
    assert balance(token, lender) == 0 and balance(token, owner) == LIQUIDITY


# ---------------------------------------------------------------------------------------------
# flash swaps on ConstantProductPool
# ---------------------------------------------------------------------------------------------


def owed_in(out: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    """Least input of the other token that keeps the fee-adjusted product (ceil)."""
    num, den = reserve_in * out * 10_000, (reserve_out - out) * (10_000 - fee)
    return -(-num // den)


def test_flash_swap_paid_in_the_other_token(chain, deploy, owner, searcher, tokens):
    t0, t1 = tokens
    pool = make_pool(chain, deploy, owner, tokens, R0, R1)
    borrower = deploy("FlashBorrowerMock")
    out = 10**20
    need = owed_in(out, R1, R0, 30)
    ok(chain, owner, t1.functions.mint(borrower.address, need))
    ok(chain, searcher, borrower.functions.configure(SHORT, t1.address, need))
    assert reverts(chain, searcher, borrower.functions.flash(pool.address, out, 0)).startswith(
        "PoolFlashNotRepaid("
    )
    ok(chain, searcher, borrower.functions.configure(REPAY, t1.address, need))
    ok(chain, searcher, borrower.functions.flash(pool.address, out, 0))
    assert pool.functions.getReserves().call() == [R0 - out, R1 + need]
    assert balance(t0, borrower) == out and balance(t1, borrower) == 0
    # paying exactly the least input is what a swap of that input would have paid out (or more)
    assert amount_out(need, R1, R0, 30) >= out


def test_flash_loan_from_the_pool_repaid_in_the_same_token(chain, deploy, owner, searcher, tokens):
    t0, _ = tokens
    pool = make_pool(chain, deploy, owner, tokens, R0, R1)
    borrower = deploy("FlashBorrowerMock")
    out = 10**20
    # Paying back in token0 costs the fee on what comes back: in·(1 - fee) >= out.
    back = -(-out * 10_000 // (10_000 - 30))
    ok(chain, owner, t0.functions.mint(borrower.address, back - out))
    ok(chain, searcher, borrower.functions.configure(REPAY, t0.address, back))
    ok(chain, searcher, borrower.functions.flash(pool.address, out, 0))
    assert pool.functions.getReserves().call() == [R0 - out + back, R1]
    ok(chain, searcher, borrower.functions.configure(SHORT, t0.address, back))
    ok(chain, owner, t0.functions.mint(borrower.address, back))
    assert reverts(chain, searcher, borrower.functions.flash(pool.address, out, 0)).startswith(
        "PoolFlashNotRepaid("
    )


def test_flash_swap_refuses_reentry_and_bad_requests(chain, deploy, owner, searcher, tokens):
    pool = make_pool(chain, deploy, owner, tokens, R0, R1)
    borrower = deploy("FlashBorrowerMock")
    ok(chain, searcher, borrower.functions.configure(REENTER, tokens[0].address, 0))
    assert reverts(chain, searcher, borrower.functions.flash(pool.address, 1, 0)) == REENTRANT
    assert (
        reverts(chain, searcher, borrower.functions.flash(pool.address, 0, 0)) == "PoolZeroAmount()"
    )
    assert reverts(chain, searcher, borrower.functions.flash(pool.address, R0, 0)).startswith(
        "PoolInsufficientLiquidity("
    )
    # no callback and nothing paid in: refused
    call = pool.functions.flashSwap(1, 0, searcher.address, b"")
    assert reverts(chain, searcher, call).startswith("PoolFlashNotRepaid(")
    assert pool.functions.getReserves().call() == [R0, R1]


# ---------------------------------------------------------------------------------------------
# capital-free arbitrage
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_pools(chain, deploy, owner, tokens):
    """Pool A prices token0 at 4 token1, pool B at 5: buy token0 on A, sell on B."""
    return make_pool(chain, deploy, owner, tokens, R0, R1), make_pool(
        chain, deploy, owner, tokens, R0, 5 * R0
    )


def test_arbitrage_with_a_flash_loan_needs_no_capital(
    chain, deploy, owner, searcher, tokens, two_pools
):
    t0, t1 = tokens
    a, b = two_pools
    lender = make_lender(chain, deploy, owner, t1, 9)
    bot = deploy("FlashArbitrage", searcher.address)
    amount = 10**20
    bought = amount_out(amount, R1, R0, 30)
    back = amount_out(bought, R0, 5 * R0, 30)
    profit = back - amount - amount * 9 // 10_000
    assert profit > 0 and balance(t1, searcher) == 0 == balance(t0, searcher)
    call = bot.functions.arbitrageWithLoan(
        lender.address, t1.address, amount, a.address, b.address, profit
    )
    ok(chain, searcher, call)
    assert balance(t1, searcher) == profit and balance(t1, bot) == 0 == balance(t0, bot)
    assert balance(t1, lender) == LIQUIDITY + amount * 9 // 10_000
    # the same trade again is no longer worth its minimum
    assert reverts(chain, searcher, call).startswith("FlashArbitrageUnprofitable(")


def test_arbitrage_with_a_flash_swap_needs_no_capital(chain, deploy, searcher, tokens, two_pools):
    t0, t1 = tokens
    a, b = two_pools
    bot = deploy("FlashArbitrage", searcher.address)
    out = 10**19  # token0 taken from A, sold on B for token1
    sold = amount_out(out, R0, 5 * R0, 30)
    owed = R1 * out * 10_000 // ((R0 - out) * 9_970) + 1
    ok(
        chain,
        searcher,
        bot.functions.arbitrageWithFlashSwap(a.address, t0.address, out, b.address, 0),
    )
    assert balance(t1, searcher) == sold - owed > 0
    assert a.functions.getReserves().call() == [R0 - out, R1 + owed]


def test_callbacks_only_from_the_awaited_lender(chain, deploy, owner, searcher, tokens, two_pools):
    t0, t1 = tokens
    a, b = two_pools
    bot = deploy("FlashArbitrage", searcher.address)
    other = deploy("FlashBorrowerMock")
    call = bot.functions.onFlashLoan(other.address, t1.address, 1, 0, b"")
    assert reverts(chain, owner, call).startswith("FlashArbitrageUnexpectedCallback(")
    call = bot.functions.arbitrageWithFlashSwap(a.address, t0.address, 1, b.address, 0)
    assert reverts(chain, owner, call) == f"FlashArbitrageNotOwner({owner.address})"
