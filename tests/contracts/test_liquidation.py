"""Behaviour of ``contracts/CollateralVault.sol`` and ``contracts/FlashLiquidator.sol``.

The vault is checked against a Python model of its integer arithmetic: the borrowing limit
``floor(collateral · rDebt · factor / (rColl · BPS))`` at the oracle pool's spot reserves and the
seizure ``floor(repay · (BPS + bonus) · rColl / (BPS · rDebt))``. Over random positions, price
drops (a sale on the oracle pool) and repayments (hypothesis, each example on a chain snapshot):
a healthy position cannot be liquidated; a liquidation pays exactly the bonus; the vault's
books close (its token balances equal its totals). The executor is checked to end with the
model's profit or to revert whole, starting from an owner that holds no tokens at all.
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
E = 10**18
R_COLL, R_DEBT = 1_000 * E, 3_000_000 * E  # 3,000 debt units per collateral unit
POOL_FEE, LOAN_FEE = 30, 9
FACTOR, BONUS, CLOSE = 8_000, 500, 5_000
BPS = 10_000
SUPPLY = 10_000_000 * E
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

send, ok, reverts = tx_helpers(GAS)


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int = POOL_FEE) -> int:
    with_fee = amount_in * (BPS - fee)
    return with_fee * reserve_out // (reserve_in * BPS + with_fee)


def limit_of(collateral: int, r_coll: int, r_debt: int) -> int:
    return collateral * r_debt * FACTOR // (r_coll * BPS)


def seize_of(repay: int, r_coll: int, r_debt: int) -> int:
    return repay * (BPS + BONUS) * r_coll // (BPS * r_debt)


def balance(token: Any, who: Any) -> int:
    return int(token.functions.balanceOf(getattr(who, "address", who)).call())


@pytest.fixture
def owner(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def borrower(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def keeper(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    """The liquidator: holds no tokens, only gas."""
    return accounts[3]


@pytest.fixture
def tokens(deploy: Any) -> tuple[Any, Any]:
    """(collateral ``WETH``, debt ``USDC``) MockERC20s."""
    return deploy("MockERC20", "Wrapped Ether", "WETH"), deploy("MockERC20", "USD Coin", "USDC")


def _mint(chain: Chain, owner: Any, token: Any, to: Any, amount: int, spender: Any) -> None:
    ok(chain, owner, token.functions.mint(to.address, amount))
    ok(chain, to, token.functions.approve(spender.address, MAX))


@pytest.fixture
def pool(chain, deploy, owner, tokens):
    weth, usdc = tokens
    pool = deploy("ConstantProductPool", weth.address, usdc.address, POOL_FEE)
    for token in tokens:
        _mint(chain, owner, token, owner, 10**30, pool)
    t0 = pool.functions.token0().call()
    amounts = (R_COLL, R_DEBT) if t0 == weth.address else (R_DEBT, R_COLL)
    ok(chain, owner, pool.functions.addLiquidity(*amounts, 0, owner.address, FAR))
    return pool


@pytest.fixture
def vault(chain, deploy, owner, tokens, pool):
    """The vault, holding ``SUPPLY`` of the debt token to lend."""
    weth, usdc = tokens
    vault = deploy("CollateralVault", pool.address, weth.address, FACTOR, BONUS, CLOSE)
    ok(chain, owner, usdc.functions.approve(vault.address, MAX))
    ok(chain, owner, vault.functions.supply(SUPPLY))
    return vault


@pytest.fixture
def lender(chain, deploy, owner, tokens):
    lender = deploy("FlashLender", LOAN_FEE, owner.address)
    ok(chain, owner, tokens[1].functions.mint(lender.address, SUPPLY))
    return lender


def reserves(pool: Any, weth: Any) -> tuple[int, int]:
    """(collateral, debt) reserves of the oracle pool."""
    r0, r1 = pool.functions.getReserves().call()
    return (r0, r1) if pool.functions.token0().call() == weth.address else (r1, r0)


def open_position(chain, owner, tokens, vault, who, collateral: int, debt: int) -> None:
    weth, _ = tokens
    _mint(chain, owner, weth, who, collateral, vault)
    ok(chain, who, vault.functions.deposit(collateral))
    if debt:
        ok(chain, who, vault.functions.borrow(debt))


def crash(chain, owner, tokens, pool, sold: int) -> None:
    """Sell ``sold`` collateral on the oracle pool (owner has plenty), lowering its price."""
    if sold:
        ok(chain, owner, pool.functions.swapExactIn(tokens[0].address, sold, 0, owner.address, FAR))


def books_close(tokens, vault, positions: list[Any]) -> None:
    weth, usdc = tokens
    f = vault.functions
    held = [f.positionOf(p.address).call() for p in positions]
    assert balance(weth, vault) == f.totalCollateral().call() == sum(c for c, _ in held)
    assert f.totalDebt().call() == sum(d for _, d in held)
    assert balance(usdc, vault) + f.totalDebt().call() == SUPPLY  # lent out + still here


# ---------------------------------------------------------------------------------------------
# the vault
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "bonus", "close", "name"),
    [
        (0, BONUS, CLOSE, "collateralFactorBps"),
        (BPS, BONUS, CLOSE, "collateralFactorBps"),
        (9_600, 500, CLOSE, "bonusBps"),  # 0.96 · 1.05 > 1: liquidation could not help
        (FACTOR, BONUS, 0, "closeFactorBps"),
        (FACTOR, BONUS, BPS + 1, "closeFactorBps"),
    ],
)
def test_revert_when_parameters_out_of_range(deploy, tokens, pool, factor, bonus, close, name):
    with pytest.raises(
        (ExecutionReverted, GasEstimationFailed), match=f"VaultInvalidParameter.*{name}"
    ):
        deploy("CollateralVault", pool.address, tokens[0].address, factor, bonus, close)


def test_borrow_and_withdraw_stop_at_the_limit(chain, owner, borrower, tokens, pool, vault):
    collateral = 10 * E
    limit = limit_of(collateral, R_COLL, R_DEBT)
    assert limit == 24_000 * E  # 10 WETH at 3,000, 80 %
    open_position(chain, owner, tokens, vault, borrower, collateral, 0)
    f = vault.functions
    reason = reverts(chain, borrower, f.borrow(limit + 1))
    assert reason == f"VaultUnhealthy({borrower.address}, {limit + 1}, {limit})"
    ok(chain, borrower, f.borrow(limit))
    assert balance(tokens[1], borrower) == limit
    assert reverts(chain, borrower, f.withdraw(1), error="VaultUnhealthy")
    assert f.isLiquidatable(borrower.address).call() is False
    ok(chain, borrower, tokens[1].functions.approve(vault.address, MAX))
    ok(chain, borrower, f.repay(borrower.address, limit))
    ok(chain, borrower, f.withdraw(collateral))
    assert f.positionOf(borrower.address).call() == [0, 0]
    books_close(tokens, vault, [borrower])


def test_fuzz_liquidation_pays_exactly_the_bonus_or_is_refused(
    chain, owner, borrower, keeper, tokens, pool, vault
):
    weth, usdc = tokens

    @FUZZ
    @given(
        collateral=st.integers(E // 100, 100 * E),
        ltv=st.integers(1, 10_000),
        sold=st.one_of(st.just(0), st.integers(1, 600 * E)),
        repay_bps=st.integers(1, 10_000),
    )
    def run(collateral: int, ltv: int, sold: int, repay_bps: int) -> None:
        snapshot = chain.snapshot()
        try:
            debt = max(1, limit_of(collateral, R_COLL, R_DEBT) * ltv // BPS)
            open_position(chain, owner, tokens, vault, borrower, collateral, debt)
            crash(chain, owner, tokens, pool, sold)
            r_coll, r_debt = reserves(pool, weth)
            limit = limit_of(collateral, r_coll, r_debt)
            repay = max(1, debt * repay_bps // BPS)
            _mint(chain, owner, usdc, keeper, repay, vault)
            rec = send(chain, keeper, vault.functions.liquidate(borrower.address, repay))
            seize = seize_of(repay, r_coll, r_debt)
            if debt <= limit:
                assert rec.revert_reason == f"VaultHealthy({borrower.address}, {debt}, {limit})"
            elif repay > debt * CLOSE // BPS:
                assert rec.revert_reason == f"VaultRepayTooLarge({repay}, {debt * CLOSE // BPS})"
            elif seize > collateral:
                assert rec.revert_reason == f"VaultInsufficientCollateral({seize}, {collateral})"
            else:
                assert rec.status == 1, rec.revert_reason
                assert (balance(weth, keeper), balance(usdc, keeper)) == (seize, 0)
                position = vault.functions.positionOf(borrower.address).call()
                assert position == [collateral - seize, debt - repay]
                # the seized collateral is worth the repaid debt plus the bonus at the oracle
                # price, to within one unit of collateral (the floor)
                worth = seize * r_debt / r_coll
                assert repay * (BPS + BONUS) / BPS - r_debt / r_coll <= worth
                assert worth <= repay * (BPS + BONUS) / BPS
            if rec.status == 0:
                assert vault.functions.positionOf(borrower.address).call() == [collateral, debt]
                assert (balance(weth, keeper), balance(usdc, keeper)) == (0, repay)
            books_close(tokens, vault, [borrower])
        finally:
            chain.revert(snapshot)

    run()


# ---------------------------------------------------------------------------------------------
# the capital-free liquidator
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def executor(deploy, keeper):
    return deploy("FlashLiquidator", keeper.address)


def loan_profit(repay: int, r_coll: int, r_debt: int) -> int:
    """What the loan route leaves the owner (negative: it cannot repay the lender)."""
    seized = seize_of(repay, r_coll, r_debt)
    return amount_out(seized, r_coll, r_debt) - repay - repay * LOAN_FEE // BPS


def test_flash_liquidation_from_zero_tokens(
    chain, owner, borrower, keeper, tokens, pool, vault, lender, executor
):
    weth, usdc = tokens
    collateral, debt = 100 * E, 235_000 * E  # LTV 78 % of 3,000
    open_position(chain, owner, tokens, vault, borrower, collateral, debt)
    crash(chain, owner, tokens, pool, 30 * E)  # price ≈ 2,828: limit 226k < debt
    assert vault.functions.isLiquidatable(borrower.address).call() is True
    assert balance(weth, keeper) == 0 == balance(usdc, keeper)
    r_coll, r_debt = reserves(pool, weth)
    repay = debt * CLOSE // BPS
    profit = loan_profit(repay, r_coll, r_debt)
    assert profit > 0
    call = executor.functions.liquidateWithLoan(
        lender.address, vault.address, borrower.address, repay, pool.address, profit
    )
    rec = ok(chain, keeper, call)
    seized = seize_of(repay, r_coll, r_debt)
    assert (balance(usdc, keeper), balance(weth, keeper)) == (profit, 0)
    assert balance(usdc, executor) == 0 == balance(weth, executor)
    assert balance(usdc, lender) == SUPPLY + repay * LOAN_FEE // BPS
    assert vault.functions.positionOf(borrower.address).call() == [
        collateral - seized,
        debt - repay,
    ]
    names = [log.event.name for log in rec.logs if log.event is not None]
    assert "Liquidated" in names and "FlashLoan" in names and "LiquidationExecuted" in names
    books_close(tokens, vault, [borrower])
    # Selling the seizure on the oracle pool lowered its price again (a cascade): still
    # liquidatable, but the same repayment now exceeds the close factor's share.
    assert vault.functions.isLiquidatable(borrower.address).call() is True
    assert reverts(chain, keeper, call, error="VaultRepayTooLarge")


def test_fuzz_flash_liquidator_profits_or_reverts_whole(
    chain, owner, borrower, keeper, tokens, pool, vault, lender, executor
):
    weth, usdc = tokens

    @FUZZ
    @given(
        collateral=st.integers(E, 200 * E),
        ltv=st.integers(9_000, 10_000),
        sold=st.integers(1, 500 * E),
        repay_bps=st.integers(1, CLOSE),
    )
    def run(collateral: int, ltv: int, sold: int, repay_bps: int) -> None:
        snapshot = chain.snapshot()
        try:
            debt = limit_of(collateral, R_COLL, R_DEBT) * ltv // BPS
            open_position(chain, owner, tokens, vault, borrower, collateral, debt)
            crash(chain, owner, tokens, pool, sold)
            r_coll, r_debt = reserves(pool, weth)
            repay = max(1, debt * repay_bps // BPS)
            before = (vault.functions.positionOf(borrower.address).call(), reserves(pool, weth))
            call = executor.functions.liquidateWithLoan(
                lender.address, vault.address, borrower.address, repay, pool.address, 0
            )
            rec = send(chain, keeper, call)
            liquidatable = debt > limit_of(collateral, r_coll, r_debt)
            seizable = seize_of(repay, r_coll, r_debt) <= collateral
            expected = loan_profit(repay, r_coll, r_debt)
            if liquidatable and seizable and expected >= 0:
                assert rec.status == 1, rec.revert_reason
                assert balance(usdc, keeper) == expected
            else:
                assert rec.status == 0
                assert (
                    vault.functions.positionOf(borrower.address).call(),
                    reserves(pool, weth),
                ) == before
                assert balance(usdc, keeper) == 0
                assert balance(usdc, lender) == SUPPLY
            assert balance(weth, keeper) == 0
            assert balance(usdc, executor) == 0 == balance(weth, executor)
            books_close(tokens, vault, [borrower])
        finally:
            chain.revert(snapshot)

    run()


def test_liquidation_with_own_funds_returns_them_with_the_profit(
    chain, owner, borrower, keeper, tokens, pool, vault, executor
):
    weth, usdc = tokens
    open_position(chain, owner, tokens, vault, borrower, 100 * E, 235_000 * E)
    crash(chain, owner, tokens, pool, 30 * E)
    r_coll, r_debt = reserves(pool, weth)
    repay = 100_000 * E
    _mint(chain, owner, usdc, keeper, repay, executor)
    gain = amount_out(seize_of(repay, r_coll, r_debt), r_coll, r_debt) - repay
    call = executor.functions.liquidateWithOwnFunds(
        vault.address, borrower.address, repay, pool.address, gain + 1
    )
    assert reverts(chain, keeper, call) == f"FlashLiquidatorUnprofitable({gain}, {gain + 1})"
    call = executor.functions.liquidateWithOwnFunds(
        vault.address, borrower.address, repay, pool.address, gain
    )
    ok(chain, keeper, call)
    assert balance(usdc, keeper) == repay + gain and balance(weth, keeper) == 0


def test_only_the_owner_and_the_awaited_lender(
    chain, owner, borrower, keeper, tokens, pool, vault, lender, executor
):
    call = executor.functions.liquidateWithLoan(
        lender.address, vault.address, borrower.address, 1, pool.address, 0
    )
    assert reverts(chain, owner, call) == f"FlashLiquidatorNotOwner({owner.address})"
    call = executor.functions.onFlashLoan(executor.address, tokens[1].address, 1, 0, b"")
    assert reverts(chain, owner, call).startswith("FlashLiquidatorUnexpectedCallback(")
