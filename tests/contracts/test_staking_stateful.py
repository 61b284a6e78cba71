"""A hypothesis state machine driving ``contracts/Staking.sol`` against a Python model.

Three stakers stake, request unstakes, withdraw (early, late, and exactly at T-1/T/T+1 of their
release time) and get slashed by the slasher (or, failing, by a staker); time advances in
jumps. Every transaction is mined at a timestamp the machine chooses, so the model knows
``block.timestamp`` and predicts each outcome: success with its events, or the exact custom
error. After every step the invariant ``currency.balanceOf(staking) == Σ bonded + Σ unbonding
== totalStaked()`` holds and each account's views match the model. Each example runs on a
chain snapshot that is reverted at teardown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
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

PERIOD = 3600
SINK = to_checksum_address("0x00000000000000000000000000000000005111c0")
GAS = 500_000
FUNDS = 10**6
REASON = keccak(text="stateful")
SLASHER_ROLE = keccak(text="SLASHER_ROLE")
N_STAKERS = 3
send, ok, _ = tx_helpers(GAS)

stakers = st.integers(0, N_STAKERS - 1)
amounts = st.one_of(st.integers(0, 300), st.sampled_from([1, 1_000, 10_000]))
# Unstake amounts relative to the bonded stake, so most requests are valid; "all+1" and a
# raw amount exercise StakingInsufficientStake / StakingZeroAmount.
unstake_kinds = st.sampled_from(["part", "part", "part", "all", "all+1", "raw"])
shares = st.integers(1, 100)
gaps = st.sampled_from([1, 2, 60, PERIOD // 2, PERIOD - 1, PERIOD, PERIOD + 1])
offsets = st.sampled_from([-1, 0, 1])


@dataclass(frozen=True)
class Env:
    chain: Chain
    token: Any
    staking: Any
    slasher: LocalAccount
    stakers: tuple[LocalAccount, ...]


@dataclass
class Account:
    """The model of one staker."""

    wallet: int = FUNDS
    bonded: int = 0
    unbonding: int = 0
    release: int = 0


@dataclass
class Model:
    accounts: list[Account] = field(default_factory=lambda: [Account() for _ in range(N_STAKERS)])
    sunk: int = 0

    @property
    def total(self) -> int:
        return sum(a.bonded + a.unbonding for a in self.accounts)


def make_machine(env: Env, steps_run: list[int]) -> type[RuleBasedStateMachine]:
    """A state machine class bound to the deployed contracts in ``env``.

    Each example appends the number of rules it ran to ``steps_run`` at teardown.
    """
    chain, staking, token = env.chain, env.staking, env.token
    f = staking.functions

    class StakingMachine(snapshot_machine(chain, steps_run)):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model()

        # ---- helpers ---------------------------------------------------------------------

        def _send(self, sender: LocalAccount, call: Any, gap: int = 1) -> tuple[Receipt, int]:
            """Mine ``call`` in a block ``gap`` seconds after the head; return (receipt, time)."""
            timestamp = chain.head.timestamp + gap
            rec = send(chain, sender, call, at=timestamp)
            assert chain.block(rec.block_number).timestamp == timestamp
            return rec, timestamp

        def _expect(self, rec: Receipt, reason: str | None, *staking_events: tuple) -> None:
            if reason is not None:
                assert_reverted(rec, reason)
                return
            assert_ok(rec)
            assert events(rec, staking) == list(staking_events)

        def _pick(self, i: int, focus: bool, wanted: Any) -> int:
            """Staker ``i``, or with ``focus`` the i-th (cyclically) of those ``wanted`` accepts."""
            chosen = [k for k, m in enumerate(self.model.accounts) if wanted(m)]
            return chosen[i % len(chosen)] if focus and chosen else i

        def _stake(self, i: int, amount: int) -> None:
            self.steps += 1
            acct, m = env.stakers[i], self.model.accounts[i]
            rec, _ = self._send(acct, f.stake(amount))
            if amount == 0:
                self._expect(rec, "StakingZeroAmount()")
                return
            m.bonded += amount
            m.wallet -= amount
            args = {"account": acct.address, "amount": amount, "bonded": m.bonded}
            self._expect(rec, None, ("Staked", args))

        def _withdraw(self, i: int, gap: int) -> None:
            self.steps += 1
            acct, m = env.stakers[i], self.model.accounts[i]
            rec, now = self._send(acct, f.withdraw(), gap)
            if m.unbonding == 0:
                self._expect(rec, f"StakingNothingToWithdraw({acct.address})")
            elif now < m.release:
                self._expect(rec, f"StakingStillUnbonding({acct.address}, {m.release})")
            else:
                amount = m.unbonding
                self._expect(rec, None, ("Withdrawn", {"account": acct.address, "amount": amount}))
                m.wallet += amount
                m.unbonding = m.release = 0

        # ---- rules ---------------------------------------------------------------------------

        @initialize(opening=st.lists(st.integers(0, 1_000), min_size=N_STAKERS, max_size=N_STAKERS))
        def open_positions(self, opening: list[int]) -> None:
            """Every example starts with most stakers already bonded (0 means no stake)."""
            for i, amount in enumerate(opening):
                if amount:
                    self._stake(i, amount)

        @rule(i=stakers, amount=amounts)
        def stake(self, i: int, amount: int) -> None:
            self._stake(i, amount)

        @rule(i=stakers, focus=st.booleans(), amount=amounts, kind=unstake_kinds, share=shares)
        def request_unstake(self, i: int, focus: bool, amount: int, kind: str, share: int) -> None:
            self.steps += 1
            i = self._pick(i, focus, lambda m: m.bonded > 0)
            acct, m = env.stakers[i], self.model.accounts[i]
            part = max(1, m.bonded * share // 100)
            amount = {"part": part, "all": m.bonded, "all+1": m.bonded + 1, "raw": amount}[kind]
            rec, now = self._send(acct, f.requestUnstake(amount))
            if amount == 0:
                self._expect(rec, "StakingZeroAmount()")
            elif amount > m.bonded:
                reason = f"StakingInsufficientStake({acct.address}, {amount}, {m.bonded})"
                self._expect(rec, reason)
            else:
                m.bonded -= amount
                m.unbonding += amount
                m.release = now + PERIOD
                args = {"account": acct.address, "amount": amount, "releaseTime": m.release}
                self._expect(rec, None, ("UnstakeRequested", args))

        @rule(i=stakers, focus=st.booleans(), gap=gaps)
        def withdraw(self, i: int, focus: bool, gap: int) -> None:
            self._withdraw(self._pick(i, focus, lambda m: m.unbonding > 0), gap)

        @precondition(lambda self: any(a.unbonding for a in self.model.accounts))
        @rule(i=stakers, offset=offsets)
        def withdraw_at_release_boundary(self, i: int, offset: int) -> None:
            k = self._pick(i, True, lambda m: m.unbonding > 0)
            gap = self.model.accounts[k].release + offset - chain.head.timestamp
            # A release time already in the past can only be hit late.
            self._withdraw(k, gap if gap > 0 else 1)

        @rule(i=stakers, focus=st.booleans(), amount=amounts, authorized=st.booleans())
        def slash(self, i: int, focus: bool, amount: int, authorized: bool) -> None:
            self.steps += 1
            i = self._pick(i, focus, lambda m: m.bonded + m.unbonding > 0)
            acct, m = env.stakers[i], self.model.accounts[i]
            caller = env.slasher if authorized else env.stakers[(i + 1) % N_STAKERS]
            rec, _ = self._send(caller, f.slash(acct.address, amount, REASON))
            if not authorized:
                role = "0x" + SLASHER_ROLE.hex()
                self._expect(rec, f"AccessControlUnauthorizedAccount({caller.address}, {role})")
                return
            if amount == 0:
                self._expect(rec, f"StakingInvalidSlash({acct.address}, 0)")
                return
            taken = min(amount, m.bonded + m.unbonding)
            if taken == 0:
                self._expect(rec, None)
                return
            from_bonded = min(taken, m.bonded)
            m.bonded -= from_bonded
            m.unbonding -= taken - from_bonded
            if m.unbonding == 0:
                m.release = 0
            self.model.sunk += taken
            args = {
                "account": acct.address,
                "slasher": caller.address,
                "amount": taken,
                "reason": REASON,
                "sink": SINK,
            }
            self._expect(rec, None, ("Slashed", args))

        @rule(gap=gaps)
        def advance_time(self, gap: int) -> None:
            self.steps += 1
            chain.set_next_block_time((chain.head.timestamp + gap) * 1000)
            chain.mine()

        # ---- invariants ------------------------------------------------------------------

        @invariant()
        def balance_equals_total_staked(self) -> None:
            held = view(chain, token.functions.balanceOf(staking.address))
            assert held == view(chain, f.totalStaked()) == self.model.total
            assert view(chain, token.functions.balanceOf(SINK)) == self.model.sunk

        @invariant()
        def accounts_match_model(self) -> None:
            for acct, m in zip(env.stakers, self.model.accounts, strict=True):
                assert view(chain, f.stakeOf(acct.address)) == m.bonded
                assert view(chain, f.unbondingOf(acct.address)) == (m.unbonding, m.release)
                assert view(chain, f.slashableOf(acct.address)) == m.bonded + m.unbonding
                assert view(chain, token.functions.balanceOf(acct.address)) == m.wallet

    return StakingMachine


def _deploy(chain: Chain, deploy: Any, accounts: tuple[LocalAccount, ...]) -> Env:
    admin, slasher, *rest = accounts
    stakers_ = tuple(rest[:N_STAKERS])
    token = deploy("MockERC20", "Agent", "AGT")
    staking = deploy("Staking", token.address, PERIOD, SINK, admin.address, sender=admin)
    setup = [(admin, staking.functions.grantRole(SLASHER_ROLE, slasher.address))]
    for acct in stakers_:
        setup.append((acct, token.functions.mint(acct.address, FUNDS)))
        setup.append((acct, token.functions.approve(staking.address, 2**256 - 1)))
    for sender, call in setup:
        ok(chain, sender, call)
    return Env(chain, token, staking, slasher, stakers_)


def test_fuzz_staking_balance_invariant_and_model(chain, deploy, accounts):
    # The machine really ran: many transactions over the examples.
    run_counted_machine(
        lambda steps_run: make_machine(_deploy(chain, deploy, accounts), steps_run),
        max_examples=12,
    )
