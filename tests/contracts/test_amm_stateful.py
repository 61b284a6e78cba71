"""A hypothesis state machine driving ``contracts/ConstantProductPool.sol`` against a model.

Three agents swap in both directions, add and remove liquidity, and an outsider donates
tokens that are then absorbed (``sync``) or returned (``skim``). The Python model uses the
pool's integer arithmetic and predicts every outcome: the exact output, shares and events, or
the exact custom error. After every step the reserves equal the token balances, every reserve,
share balance and wallet matches the model, and k per share (``k / supply²``) has not
decreased; k itself never decreases on a swap (strictly, with the fee) or a deposit. Each
example runs on a chain snapshot that is reverted at teardown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from typing import Any

from eth_account.signers.local import LocalAccount
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from txkit import (
    assert_ok,
    assert_reverted,
    events,
    run_counted_machine,
    snapshot_machine,
    tx_helpers,
    view,
)

from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

GAS = 1_000_000
FUNDS = 10**30
FAR = 2**63
FEE = 30
MINIMUM = 1000
N_AGENTS = 3
send, ok, _ = tx_helpers(GAS)

agents = st.integers(0, N_AGENTS - 1)
amounts = st.one_of(
    st.integers(0, 10**6), st.integers(1, 10**24), st.sampled_from([1, 1_000, 10**18])
)
percents = st.integers(0, 100)


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    with_fee = amount_in * (10_000 - fee)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


@dataclass(frozen=True)
class Env:
    chain: Chain
    tokens: tuple[Any, Any]
    pool: Any
    agents: tuple[LocalAccount, ...]
    donor: LocalAccount


@dataclass
class Model:
    """The pool and the agents' holdings, in the pool's integer arithmetic."""

    reserves: list[int] = field(default_factory=lambda: [0, 0])
    supply: int = 0
    shares: list[int] = field(default_factory=lambda: [0] * N_AGENTS)
    wallets: list[list[int]] = field(
        default_factory=lambda: [[FUNDS, FUNDS] for _ in range(N_AGENTS)]
    )
    donor: list[int] = field(default_factory=lambda: [0, 0])

    @property
    def k(self) -> int:
        return self.reserves[0] * self.reserves[1]


def make_machine(env: Env, steps_run: list[int]) -> type[RuleBasedStateMachine]:
    """A state machine class bound to the deployed contracts in ``env``."""
    chain, pool = env.chain, env.pool
    f = pool.functions

    class PoolMachine(snapshot_machine(chain, steps_run)):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.k_per_share: Fraction | None = None

        # ---- helpers ---------------------------------------------------------------------

        def _send(self, sender: LocalAccount, call: Any) -> Receipt:
            # Each rule calls the pool exactly once; donations' mints are not counted.
            self.steps += call.address == pool.address
            return send(chain, sender, call)

        def _expect(self, rec: Receipt, reason: str | None, *pool_events: tuple) -> None:
            if reason is not None:
                assert_reverted(rec, reason)
                return
            assert_ok(rec)
            got = [(name, args) for name, args in events(rec, pool) if name != "Transfer"]
            assert got == list(pool_events)

        @staticmethod
        def _short(acct: LocalAccount, held: int, needed: int) -> str:
            return f"ERC20InsufficientBalance({acct.address}, {held}, {needed})"

        def _sync_event(self) -> tuple[str, dict[str, int]]:
            r0, r1 = self.model.reserves
            return ("Sync", {"reserve0": r0, "reserve1": r1})

        def _add(self, i: int, a0: int, a1: int) -> None:
            m, acct = self.model, env.agents[i]
            rec = self._send(acct, f.addLiquidity(a0, a1, 0, acct.address, FAR))
            if a0 == 0 or a1 == 0:
                self._expect(rec, "PoolZeroAmount()")
                return
            if m.supply == 0:
                root = isqrt(a0 * a1)
                if root <= MINIMUM:
                    self._expect(rec, f"PoolInsufficientInitialLiquidity({root}, {MINIMUM})")
                    return
                shares, locked = root - MINIMUM, MINIMUM
            else:
                locked = 0
                r0, r1 = m.reserves
                shares = min(a0 * m.supply // r0, a1 * m.supply // r1)
                if shares == 0:
                    self._expect(rec, "PoolZeroOutput()")
                    return
            # The pool checks first, then pulls token0, then token1.
            for t, needed in ((0, a0), (1, a1)):
                if needed > m.wallets[i][t]:
                    self._expect(rec, self._short(acct, m.wallets[i][t], needed))
                    return
            k_before = m.k
            m.supply += locked + shares
            m.shares[i] += shares
            m.reserves = [m.reserves[0] + a0, m.reserves[1] + a1]
            m.wallets[i][0] -= a0
            m.wallets[i][1] -= a1
            args = {"provider": acct.address, "to": acct.address, "amount0": a0, "amount1": a1}
            self._expect(
                rec, None, self._sync_event(), ("LiquidityAdded", {**args, "shares": shares})
            )
            assert m.k > k_before

        # ---- rules ---------------------------------------------------------------------------

        @initialize(seed=st.tuples(st.integers(10**3, 10**24), st.integers(10**3, 10**24)))
        def open_pool(self, seed: tuple[int, int]) -> None:
            """Most examples start from a first deposit (too small ones exercise the minimum)."""
            self._add(0, *seed)

        @rule(i=agents, amount=amounts, balanced=st.booleans(), other=amounts)
        def add_liquidity(self, i: int, amount: int, balanced: bool, other: int) -> None:
            r0, r1 = self.model.reserves
            # A lopsided pool can ask for more than the agent holds: the token then reverts.
            self._add(i, amount, amount * r1 // r0 if balanced and r0 else other)

        @rule(i=agents, zero_for_one=st.booleans(), amount=amounts)
        def swap(self, i: int, zero_for_one: bool, amount: int) -> None:
            m, acct = self.model, env.agents[i]
            tin, tout = (0, 1) if zero_for_one else (1, 0)
            token_in = env.tokens[tin].address
            rec = self._send(acct, f.swapExactIn(token_in, amount, 0, acct.address, FAR))
            if amount == 0:
                self._expect(rec, "PoolZeroAmount()")
                return
            if m.supply == 0:
                self._expect(rec, f"PoolInsufficientLiquidity({m.reserves[0]}, {m.reserves[1]})")
                return
            out = amount_out(amount, m.reserves[tin], m.reserves[tout], FEE)
            if out == 0:
                self._expect(rec, "PoolZeroOutput()")
                return
            if amount > m.wallets[i][tin]:
                self._expect(rec, self._short(acct, m.wallets[i][tin], amount))
                return
            k_before = m.k
            m.reserves[tin] += amount
            m.reserves[tout] -= out
            m.wallets[i][tin] -= amount
            m.wallets[i][tout] += out
            args = {"sender": acct.address, "tokenIn": token_in, "amountIn": amount}
            self._expect(
                rec,
                None,
                self._sync_event(),
                ("Swap", {**args, "amountOut": out, "to": acct.address}),
            )
            assert m.k > k_before  # strictly: the fee is non-zero

        @precondition(lambda self: any(self.model.shares))
        @rule(i=agents, percent=percents)
        def remove_liquidity(self, i: int, percent: int) -> None:
            m = self.model
            i = next(k for k in range(i, i + N_AGENTS) if m.shares[k % N_AGENTS]) % N_AGENTS
            acct = env.agents[i]
            shares = m.shares[i] * percent // 100
            rec = self._send(acct, f.removeLiquidity(shares, 0, 0, acct.address, FAR))
            if shares == 0:
                self._expect(rec, "PoolZeroAmount()")
                return
            a0, a1 = shares * m.reserves[0] // m.supply, shares * m.reserves[1] // m.supply
            if a0 == 0 or a1 == 0:
                self._expect(rec, "PoolZeroOutput()")
                return
            m.supply -= shares
            m.shares[i] -= shares
            m.reserves = [m.reserves[0] - a0, m.reserves[1] - a1]
            m.wallets[i][0] += a0
            m.wallets[i][1] += a1
            args = {"provider": acct.address, "to": acct.address, "amount0": a0, "amount1": a1}
            self._expect(
                rec, None, self._sync_event(), ("LiquidityRemoved", {**args, "shares": shares})
            )

        @rule(d0=amounts, d1=amounts, absorb=st.booleans())
        def donate(self, d0: int, d1: int, absorb: bool) -> None:
            """The donor sends tokens to the pool, then calls sync (absorb) or skim (return)."""
            m, donor = self.model, env.donor
            for token, amount in zip(env.tokens, (d0, d1), strict=True):
                if amount:
                    assert self._send(donor, token.functions.mint(pool.address, amount)).status == 1
            if absorb:
                k_before = m.k
                rec = self._send(donor, f.sync())
                m.reserves = [m.reserves[0] + d0, m.reserves[1] + d1]
                self._expect(rec, None, self._sync_event())
                assert m.k >= k_before
            else:
                rec = self._send(donor, f.skim(donor.address))
                m.donor = [m.donor[0] + d0, m.donor[1] + d1]
                self._expect(
                    rec, None, ("Skimmed", {"to": donor.address, "amount0": d0, "amount1": d1})
                )

        # ---- invariants ------------------------------------------------------------------

        @invariant()
        def reserves_equal_balances_and_model(self) -> None:
            held = tuple(view(chain, t.functions.balanceOf(pool.address)) for t in env.tokens)
            assert view(chain, f.getReserves()) == held == tuple(self.model.reserves)

        @invariant()
        def holdings_match_model(self) -> None:
            m = self.model
            assert view(chain, f.totalSupply()) == m.supply
            for acct, shares, wallet in zip(env.agents, m.shares, m.wallets, strict=True):
                assert view(chain, f.balanceOf(acct.address)) == shares
                assert [
                    view(chain, t.functions.balanceOf(acct.address)) for t in env.tokens
                ] == wallet
            assert [
                view(chain, t.functions.balanceOf(env.donor.address)) for t in env.tokens
            ] == m.donor

        @invariant()
        def k_per_share_never_decreases(self) -> None:
            m = self.model
            if m.supply == 0:
                return
            current = Fraction(m.k, m.supply**2)
            if self.k_per_share is not None:
                assert current >= self.k_per_share
            self.k_per_share = current

    return PoolMachine


def _deploy(chain: Chain, deploy: Any, accounts: tuple[LocalAccount, ...]) -> Env:
    donor, *rest = accounts
    agents_ = tuple(rest[:N_AGENTS])
    a, b = deploy("MockERC20", "Alpha", "A"), deploy("MockERC20", "Beta", "B")
    tokens = (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)
    pool = deploy("ConstantProductPool", tokens[0].address, tokens[1].address, FEE)
    for acct in agents_:
        for token in tokens:
            for call in (
                token.functions.mint(acct.address, FUNDS),
                token.functions.approve(pool.address, 2**256 - 1),
            ):
                ok(chain, acct, call)
    return Env(chain, tokens, pool, agents_, donor)


def test_fuzz_pool_reserves_k_and_model(chain, deploy, accounts):
    # The machine really ran: many transactions over the examples.
    run_counted_machine(
        lambda steps_run: make_machine(_deploy(chain, deploy, accounts), steps_run),
        max_examples=10,
    )
