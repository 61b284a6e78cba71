"""A hypothesis state machine driving ``contracts/CollateralVault.sol`` against a Python model.

Two borrowers deposit, borrow, repay and withdraw; the oracle pool's price moves both ways
(swaps by the pool's owner); a keeper liquidates. Each step's outcome is predicted from the
model of the positions and the pool's reserves: success with the model updated, or the exact
custom error. After every step the vault's books close (its collateral balance equals its
total collateral and the sum of positions, lent plus held equals supplied) and every position
on chain equals the model's. Each example runs on a chain snapshot reverted at teardown.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from test_liquidation import (  # the vault suite's model and constants
    BONUS,
    BPS,
    CLOSE,
    FACTOR,
    FAR,
    MAX,
    POOL_FEE,
    R_COLL,
    R_DEBT,
    SUPPLY,
    E,
    limit_of,
    seize_of,
)
from txkit import assert_ok, assert_reverted, run_counted_machine, snapshot_machine, tx_helpers

GAS = 1_000_000
send, ok, _ = tx_helpers(GAS)

who = st.integers(0, 1)
bps = st.integers(1, 12_000)  # above 10,000: more than the position allows, to see it refused
collateral_amounts = st.integers(1, 50 * E)
price_moves = st.tuples(st.booleans(), st.integers(E // 10, 150 * E))


def make_machine(env: dict[str, Any], steps_run: list[int]) -> type[RuleBasedStateMachine]:
    """A machine class bound to the deployed contracts in ``env``."""
    chain, vault, pool = env["chain"], env["vault"], env["pool"]
    weth, usdc = env["tokens"]
    owner, keeper, borrowers = env["owner"], env["keeper"], env["borrowers"]
    f = vault.functions
    collateral_is_0 = pool.functions.token0().call() == weth.address

    class VaultMachine(snapshot_machine(chain, steps_run)):
        def __init__(self) -> None:
            super().__init__()
            self.positions = [[0, 0], [0, 0]]  # [collateral, debt] per borrower

        def _reserves(self) -> tuple[int, int]:
            r0, r1 = pool.functions.getReserves().call()
            return (r0, r1) if collateral_is_0 else (r1, r0)

        def _limit(self, i: int) -> int:
            return limit_of(self.positions[i][0], *self._reserves())

        @rule(i=who, amount=collateral_amounts)
        def deposit(self, i: int, amount: int) -> None:
            self.steps += 1
            ok(chain, owner, weth.functions.mint(borrowers[i].address, amount))
            assert_ok(send(chain, borrowers[i], f.deposit(amount)))
            self.positions[i][0] += amount

        @rule(i=who, share=bps)
        def borrow(self, i: int, share: int) -> None:
            self.steps += 1
            debt = self.positions[i][1]
            amount = max(1, self._limit(i) * share // BPS - debt)
            limit = self._limit(i)
            rec = send(chain, borrowers[i], f.borrow(amount))
            if debt + amount > limit:
                reason = f"VaultUnhealthy({borrowers[i].address}, {debt + amount}, {limit})"
                assert_reverted(rec, reason)
                return
            assert_ok(rec)
            self.positions[i][1] += amount

        @rule(i=who, share=bps)
        def repay(self, i: int, share: int) -> None:
            self.steps += 1
            debt = self.positions[i][1]
            amount = max(1, debt * share // BPS)
            ok(chain, owner, usdc.functions.mint(borrowers[i].address, amount))
            rec = send(chain, borrowers[i], f.repay(borrowers[i].address, amount))
            if amount > debt:
                assert_reverted(rec, f"VaultRepayTooLarge({amount}, {debt})")
                return
            assert_ok(rec)
            self.positions[i][1] -= amount

        @rule(i=who, share=bps)
        def withdraw(self, i: int, share: int) -> None:
            self.steps += 1
            collateral, debt = self.positions[i]
            amount = max(1, collateral * share // BPS)
            rec = send(chain, borrowers[i], f.withdraw(amount))
            if amount > collateral:
                assert_reverted(rec, f"VaultInsufficientBalance({amount}, {collateral})")
                return
            limit = limit_of(collateral - amount, *self._reserves())
            if debt > limit:
                assert_reverted(rec, f"VaultUnhealthy({borrowers[i].address}, {debt}, {limit})")
                return
            assert_ok(rec)
            self.positions[i][0] -= amount

        @rule(move=price_moves)
        def move_price(self, move: tuple[bool, int]) -> None:
            self.steps += 1
            sell_collateral, amount = move
            r_coll, r_debt = self._reserves()
            token, size = (weth, amount) if sell_collateral else (usdc, amount * r_debt // r_coll)
            ok(chain, owner, pool.functions.swapExactIn(token.address, size, 0, owner.address, FAR))

        @rule(i=who, share=st.integers(1, 10_000))
        def liquidate(self, i: int, share: int) -> None:
            self.steps += 1
            collateral, debt = self.positions[i]
            r_coll, r_debt = self._reserves()
            repay = max(1, debt * share // BPS)
            ok(chain, owner, usdc.functions.mint(keeper.address, repay))
            before = weth.functions.balanceOf(keeper.address).call()
            rec = send(chain, keeper, f.liquidate(borrowers[i].address, repay))
            limit, seize = limit_of(collateral, r_coll, r_debt), seize_of(repay, r_coll, r_debt)
            if debt <= limit:
                assert_reverted(rec, f"VaultHealthy({borrowers[i].address}, {debt}, {limit})")
            elif repay > debt * CLOSE // BPS:
                assert_reverted(rec, f"VaultRepayTooLarge({repay}, {debt * CLOSE // BPS})")
            elif seize > collateral:
                assert_reverted(rec, f"VaultInsufficientCollateral({seize}, {collateral})")
            else:
                assert_ok(rec)
                assert weth.functions.balanceOf(keeper.address).call() == before + seize
                self.positions[i] = [collateral - seize, debt - repay]

        @invariant()
        def books_close(self) -> None:
            held = weth.functions.balanceOf(vault.address).call()
            assert held == f.totalCollateral().call() == sum(c for c, _ in self.positions)
            assert f.totalDebt().call() == sum(d for _, d in self.positions)
            lent_and_held = usdc.functions.balanceOf(vault.address).call() + f.totalDebt().call()
            assert lent_and_held == SUPPLY
            for i, account in enumerate(borrowers):
                assert f.positionOf(account.address).call() == self.positions[i]

    return VaultMachine


def _deploy(chain: Any, deploy: Any, accounts: Any) -> dict[str, Any]:
    """Tokens, the oracle pool (3,000 USDC per WETH) and a vault holding ``SUPPLY`` to lend."""
    owner, keeper, borrowers = accounts[1], accounts[3], (accounts[2], accounts[4])
    weth, usdc = deploy("MockERC20", "WETH", "WETH"), deploy("MockERC20", "USDC", "USDC")
    pool = deploy("ConstantProductPool", weth.address, usdc.address, POOL_FEE)
    vault = deploy("CollateralVault", pool.address, weth.address, FACTOR, BONUS, CLOSE)
    for token in (weth, usdc):
        ok(chain, owner, token.functions.mint(owner.address, 10**30))
        ok(chain, owner, token.functions.approve(pool.address, MAX))
        for account in (owner, *borrowers, keeper):
            ok(chain, account, token.functions.approve(vault.address, MAX))
    t0 = pool.functions.token0().call()
    amounts = (R_COLL, R_DEBT) if t0 == weth.address else (R_DEBT, R_COLL)
    ok(chain, owner, pool.functions.addLiquidity(*amounts, 0, owner.address, FAR))
    ok(chain, owner, vault.functions.supply(SUPPLY))
    return {
        "chain": chain,
        "vault": vault,
        "pool": pool,
        "tokens": (weth, usdc),
        "owner": owner,
        "keeper": keeper,
        "borrowers": borrowers,
    }


def test_fuzz_vault_books_and_positions_follow_the_model(chain, deploy, accounts) -> None:
    env = _deploy(chain, deploy, accounts)
    run_counted_machine(lambda steps_run: make_machine(env, steps_run), max_examples=8)
