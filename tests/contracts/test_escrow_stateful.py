"""Stateful property test of Escrow: conservation of funds and no stuck funds.

A hypothesis ``RuleBasedStateMachine`` drives random proposals, acceptances, confirmations,
disputes, rulings and exits against a Python model of the escrow. Each step mostly targets an
agreement in the state the action needs, called by the role allowed to act, and otherwise any
id (unknown ones included) by any role; block times are set exactly, so steps land before,
at and after deadlines. After every step:

* the escrow's token balance == ``openObligations()`` == the model's sum of open obligations;
* every participant's balance, the slash sink's and the number of attestations equal the
  model's (arbitrators' stakes too, after every exit);
* the call succeeded or reverted exactly as the model predicted (custom error by name), and
  the touched agreement's state, confirmations and ruling deadline match the model.

At the end every agreement is driven to a terminal state through the permissionless exits and
the escrow must hold nothing. Each example runs on a chain snapshot that is reverted afterwards.
Both timeout-policy variants run: 2 x 6 examples of up to 50 steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_bytes, to_checksum_address
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from txkit import tx_helpers

from agentbed.chain.compiler import compile_files
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "contracts" / "Escrow.sol",
    ROOT / "contracts" / "mocks" / "MockStaking.sol",
    ROOT / "contracts" / "mocks" / "MockReputation.sol",
    ROOT / "contracts" / "mocks" / "MockERC20.sol",
]
GAS, DEPLOY_GAS = 1_500_000, 6_000_000
MIN_STAKE, STAKE, SLASH, WINDOW = 500, 1_000, 400, 120
FUNDS = 10**12

_, ok, reverts = tx_helpers(GAS)
SINK = to_checksum_address("0x000000000000000000000000000000000000511c")
REFUND_BOTH, SLASH_BOTH = 0, 1
N_ACTORS = 5

PROPOSED, ACCEPTED, DISPUTED, RELEASED, RULED, EXPIRED, TIMED_OUT, ARB_TIMED_OUT = range(1, 9)
OPEN = {PROPOSED, ACCEPTED, DISPUTED}
ROLES = ("proposer", "counterparty", "arbitrator", "stranger")


@dataclass
class Terms:
    """The model of one agreement."""

    proposer: str
    counterparty: str
    arbitrator: str
    price: int
    proposer_bond: int
    counterparty_bond: int
    fee: int
    accept_by: int
    deliver_by: int
    state: int = PROPOSED
    rule_by: int = 0
    confirmed: set[str] = field(default_factory=set)

    @property
    def pot(self) -> int:
        return self.price + self.proposer_bond + self.counterparty_bond

    @property
    def held(self) -> int:
        if self.state not in OPEN:
            return 0
        bond = self.counterparty_bond if self.state != PROPOSED else 0
        return self.price + self.proposer_bond + self.fee + bond


@dataclass(frozen=True)
class Deployment:
    chain: Chain
    token: Any
    staking: Any
    reputation: Any
    escrow: Any
    policy: int


@pytest.fixture(scope="module")
def deployments(testbed_base_chain: Chain) -> Iterator[dict[int, Deployment]]:
    """One escrow per timeout policy, built once; examples run on snapshots of this state."""
    chain = testbed_base_chain
    artifacts = compile_files(SOURCES, root=ROOT)
    snapshot = chain.snapshot()

    def deploy(name: str, *args: Any) -> Any:
        return chain.deploy(artifacts.get(name), *args, gas=DEPLOY_GAS)

    try:
        out = {}
        deployer, actors = chain.accounts[0], chain.accounts[1 : 1 + N_ACTORS]
        for policy in (REFUND_BOTH, SLASH_BOTH):
            token = deploy("MockERC20", "Agent", "AGT")
            staking, reputation = deploy("MockStaking"), deploy("MockReputation")
            escrow = deploy(
                "Escrow",
                token.address,
                staking.address,
                reputation.address,
                MIN_STAKE,
                WINDOW,
                policy,
                SLASH,
                SINK,
                0,  # no grace period
            )
            ok(chain, deployer, reputation.functions.registerIssuer(escrow.address))
            for i, actor in enumerate(actors):
                # the last actor is never eligible as arbitrator
                stake = STAKE if i < N_ACTORS - 1 else MIN_STAKE - 1
                ok(chain, deployer, staking.functions.setStake(actor.address, stake))
                ok(chain, deployer, token.functions.mint(actor.address, FUNDS))
                ok(chain, actor, token.functions.approve(escrow.address, 2**256 - 1))
            out[policy] = Deployment(chain, token, staking, reputation, escrow, policy)
        yield out
    finally:
        chain.revert(snapshot)


class EscrowMachine(RuleBasedStateMachine):
    """Random walks over the escrow's life cycles, checked against a model after each step."""

    deployment: Deployment  # set on the subclass built per test

    def __init__(self) -> None:
        super().__init__()
        d = self.deployment
        self.chain, self.escrow, self.token = d.chain, d.escrow, d.token
        self.snapshot = self.chain.snapshot()
        self.actors = {a.address: a for a in self.chain.accounts[1 : 1 + N_ACTORS]}
        self.order = list(self.actors)
        self.agreements: list[Terms] = []
        self.balances = {a: self.balance(a) for a in [*self.order, SINK, self.escrow.address]}
        self.stakes = {a: self.stake(a) for a in self.order}
        self.attestations = self.attestation_count()

    # -- chain access ------------------------------------------------------------------------

    def view(self, contract: Any, signature: str, *addresses: str) -> int:
        """A uint256 view with address arguments, through ``Chain.call`` (web3 is ~3x slower)."""
        data = keccak(text=signature)[:4] + b"".join(
            bytes(12) + to_bytes(hexstr=a) for a in addresses
        )
        return int.from_bytes(self.chain.call(contract.address, data), "big")

    def balance(self, address: str) -> int:
        return self.view(self.token, "balanceOf(address)", address)

    def stake(self, address: str) -> int:
        return self.view(self.deployment.staking, "stakeOf(address)", address)

    def open_obligations(self) -> int:
        return self.view(self.escrow, "openObligations()")

    def attestation_count(self) -> int:
        return self.view(self.deployment.reputation, "attestationCount()")

    def send(self, caller: str, call: Any, gap: int, expected_error: str | None) -> int:
        """Send ``call`` in a block ``gap`` seconds after the head; check the predicted outcome."""
        ts = self.chain.head.timestamp + gap
        if expected_error is None:
            ok(self.chain, self.actors[caller], call, at=ts)
        else:
            reverts(self.chain, self.actors[caller], call, error=expected_error, at=ts)
        return ts

    def pay(self, to: str, amount: int) -> None:
        self.balances[to] += amount
        self.balances[self.escrow.address] -= amount

    def check_agreement(self, agreement_id: int) -> None:
        values = self.escrow.functions.agreement(agreement_id).call()
        if agreement_id > len(self.agreements):
            assert values[2] == 0
            return
        a = self.agreements[agreement_id - 1]
        assert values[2] == a.state
        assert values[8] == a.rule_by
        assert (values[3], values[4]) == ("proposer" in a.confirmed, "counterparty" in a.confirmed)

    def has(self, *states: int) -> bool:
        return any(a.state in states for a in self.agreements)

    def pick(self, index: int, mode: int, states: set[int]) -> tuple[int, Terms | None]:
        """Mostly an agreement in one of ``states``; otherwise any id, unknown ones included."""
        candidates = [i for i, a in enumerate(self.agreements, start=1) if a.state in states]
        if candidates and mode < 8:
            agreement_id = candidates[index % len(candidates)]
        else:
            agreement_id = index % (len(self.agreements) + 1) + 1
        if agreement_id > len(self.agreements):
            return agreement_id, None
        return agreement_id, self.agreements[agreement_id - 1]

    def caller(self, a: Terms | None, role: str, mode: int, index: int) -> str:
        """Mostly the holder of ``role``; otherwise any role, or a stranger to the agreement."""
        if a is None:
            return self.order[index % N_ACTORS]
        if mode >= 7:
            role = ROLES[index % len(ROLES)]
        if role == "stranger":
            involved = {a.proposer, a.counterparty, a.arbitrator}
            outsiders = [x for x in self.order if x not in involved]
            return outsiders[index % len(outsiders)]
        return {"proposer": a.proposer, "counterparty": a.counterparty}.get(role, a.arbitrator)

    # -- rules -------------------------------------------------------------------------------

    @rule(
        parties=st.permutations(range(N_ACTORS)).map(lambda p: p[:3]),
        flaw=st.integers(0, 22),  # 0-16: valid terms; 17-19: two roles collide; 20-22: deadlines
        amounts=st.tuples(*[st.integers(0, 1_000)] * 4),
        accept_in=st.integers(1, 300),
        deliver_gap=st.integers(1, 600),
        gap=st.integers(1, 20),
    )
    def propose(self, parties, flaw, amounts, accept_in, deliver_gap, gap):
        p, c, arb = (self.order[i] for i in parties)
        if flaw == 17:
            c = p
        elif flaw == 18:
            arb = p
        elif flaw == 19:
            arb = c
        ts = self.chain.head.timestamp + gap
        accept_by, deliver_by = ts + accept_in, ts + accept_in + deliver_gap
        if flaw == 20:
            accept_by = ts  # not in the future
        elif flaw == 21:
            deliver_by = accept_by
        elif flaw == 22:
            deliver_by = accept_by - 1
        if len({p, c, arb}) < 3:
            error = "EscrowInvalidParties"
        elif accept_by <= ts or deliver_by <= accept_by:
            error = "EscrowInvalidDeadlines"
        elif self.stakes[arb] < MIN_STAKE:
            error = "EscrowArbitratorNotEligible"
        else:
            error = None
        call = self.escrow.functions.propose(c, arb, *amounts, accept_by, deliver_by)
        self.send(p, call, gap, error)
        if error is None:
            a = Terms(p, c, arb, *amounts, accept_by, deliver_by)
            self.agreements.append(a)
            self.balances[p] -= a.held
            self.balances[self.escrow.address] += a.held
            self.check_agreement(len(self.agreements))

    @precondition(lambda self: self.has(PROPOSED))
    @rule(
        index=st.integers(0, 99),
        mode=st.integers(0, 9),
        gap=st.integers(1, 20),
    )
    def accept(self, index, mode, gap):
        agreement_id, a = self.pick(index, mode, {PROPOSED})
        caller = self.caller(a, "counterparty", mode, index)
        ts = self.chain.head.timestamp + gap
        if a is None or a.state != PROPOSED:
            error = "EscrowWrongState"
        elif caller != a.counterparty:
            error = "EscrowNotCounterparty"
        elif ts > a.accept_by:
            error = "EscrowDeadlinePassed"
        else:
            error = None
        self.send(caller, self.escrow.functions.accept(agreement_id), gap, error)
        if error is None and a is not None:
            a.state = ACCEPTED
            self.balances[caller] -= a.counterparty_bond
            self.balances[self.escrow.address] += a.counterparty_bond
        self.check_agreement(agreement_id)

    def party_action_error(self, a: Terms | None, caller: str, ts: int) -> str | None:
        if a is None or a.state != ACCEPTED:
            return "EscrowWrongState"
        if caller not in (a.proposer, a.counterparty):
            return "EscrowNotParty"
        if ts > a.deliver_by:
            return "EscrowDeadlinePassed"
        return None

    @precondition(lambda self: self.has(ACCEPTED))
    @rule(
        index=st.integers(0, 99),
        mode=st.integers(0, 9),
        gap=st.integers(1, 20),
    )
    def confirm(self, index, mode, gap):
        agreement_id, a = self.pick(index, mode, {ACCEPTED})
        caller = self.caller(a, ROLES[index % 2], mode, index)
        ts = self.chain.head.timestamp + gap
        error = self.party_action_error(a, caller, ts)
        side = "proposer" if a is not None and caller == a.proposer else "counterparty"
        if error is None and a is not None and side in a.confirmed:
            error = "EscrowAlreadyConfirmed"
        self.send(caller, self.escrow.functions.confirm(agreement_id), gap, error)
        if error is None and a is not None:
            a.confirmed.add(side)
            if len(a.confirmed) == 2:
                self.pay(a.counterparty, a.price + a.counterparty_bond)
                self.pay(a.proposer, a.proposer_bond)
                self.pay(a.arbitrator, a.fee)
                a.state = RELEASED
                self.attestations += 2
        self.check_agreement(agreement_id)

    @precondition(lambda self: self.has(ACCEPTED))
    @rule(
        index=st.integers(0, 99),
        mode=st.integers(0, 9),
        gap=st.integers(1, 20),
    )
    def dispute(self, index, mode, gap):
        agreement_id, a = self.pick(index, mode, {ACCEPTED})
        caller = self.caller(a, ROLES[index % 2], mode, index)
        ts = self.chain.head.timestamp + gap
        error = self.party_action_error(a, caller, ts)
        self.send(caller, self.escrow.functions.dispute(agreement_id), gap, error)
        if error is None and a is not None:
            a.state, a.rule_by = DISPUTED, ts + WINDOW
        self.check_agreement(agreement_id)

    @precondition(lambda self: self.has(DISPUTED))
    @rule(
        index=st.integers(0, 99),
        mode=st.integers(0, 9),
        permille=st.integers(0, 1_100),
        gap=st.integers(1, 20),
    )
    def rule_dispute(self, index, mode, permille, gap):
        agreement_id, a = self.pick(index, mode, {DISPUTED})
        caller = self.caller(a, "arbitrator", mode, index)
        ts = self.chain.head.timestamp + gap
        share = (a.pot * permille // 1_000) if a is not None else permille
        if a is None or a.state != DISPUTED:
            error = "EscrowWrongState"
        elif caller != a.arbitrator:
            error = "EscrowNotArbitrator"
        elif ts > a.rule_by:
            error = "EscrowDeadlinePassed"
        elif share > a.pot:
            error = "EscrowShareExceedsPot"
        else:
            error = None
        self.send(caller, self.escrow.functions.rule(agreement_id, share), gap, error)
        if error is None and a is not None:
            self.pay(a.proposer, share)
            self.pay(a.counterparty, a.pot - share)
            self.pay(a.arbitrator, a.fee)
            a.state = RULED
            self.attestations += 2
        self.check_agreement(agreement_id)

    @precondition(lambda self: self.has(PROPOSED, ACCEPTED, DISPUTED))
    @rule(
        index=st.integers(0, 99),
        exit_fn=st.sampled_from(["expire", "timeout", "arbTimeout"]),
        mode=st.integers(0, 9),
        gap=st.integers(1, 120),  # exits are also how time moves on
    )
    def exit_agreement(self, index, exit_fn, mode, gap):
        agreement_id, a = self.pick(index, mode, OPEN)
        if a is not None and a.state in OPEN and mode < 8:
            exit_fn = {PROPOSED: "expire", ACCEPTED: "timeout", DISPUTED: "arbTimeout"}[a.state]
        caller = self.order[index % N_ACTORS]  # exits are permissionless: anyone may call
        ts = self.chain.head.timestamp + gap
        error = self.exit_error(a, exit_fn, ts)
        fn = "arbitratorTimeout" if exit_fn == "arbTimeout" else exit_fn
        self.send(caller, getattr(self.escrow.functions, fn)(agreement_id), gap, error)
        if error is None and a is not None:
            self.apply_exit(a)
        self.check_agreement(agreement_id)
        self.stakes_are_as_modelled()

    # -- exits (shared with teardown) ----------------------------------------------------------

    @staticmethod
    def exit_error(a: Terms | None, exit_fn: str, ts: int) -> str | None:
        required = {"expire": PROPOSED, "timeout": ACCEPTED, "arbTimeout": DISPUTED}[exit_fn]
        if a is None or a.state != required:
            return "EscrowWrongState"
        deadline = {PROPOSED: a.accept_by, ACCEPTED: a.deliver_by, DISPUTED: a.rule_by}[a.state]
        return "EscrowDeadlineNotReached" if ts <= deadline else None

    def apply_exit(self, a: Terms) -> None:
        if a.state == PROPOSED:
            self.pay(a.proposer, a.held)
            a.state = EXPIRED
        elif a.state == ACCEPTED:
            slash = self.deployment.policy == SLASH_BOTH
            self.pay(a.proposer, a.price + a.fee + (0 if slash else a.proposer_bond))
            self.pay(a.counterparty, 0 if slash else a.counterparty_bond)
            self.pay(SINK, a.proposer_bond + a.counterparty_bond if slash else 0)
            self.attestations += 2 - len(a.confirmed)
            a.state = TIMED_OUT
        else:
            self.pay(a.proposer, a.price + a.proposer_bond + a.fee)
            self.pay(a.counterparty, a.counterparty_bond)
            self.stakes[a.arbitrator] -= min(SLASH, self.stakes[a.arbitrator])
            self.attestations += 1
            a.state = ARB_TIMED_OUT

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def escrow_holds_exactly_its_open_obligations(self):
        held = self.balance(self.escrow.address)
        assert held == self.open_obligations()
        assert held == sum(a.held for a in self.agreements)

    @invariant()
    def everyone_holds_what_the_model_says(self):
        assert {a: self.balance(a) for a in self.balances} == self.balances
        assert self.attestation_count() == self.attestations

    def stakes_are_as_modelled(self) -> None:
        # stakes change only through arbitrator timeouts, so they are checked after exits
        assert {a: self.stake(a) for a in self.order} == self.stakes

    def teardown(self) -> None:
        try:
            if self.agreements:
                # after every deadline: each open agreement has exactly one exit, open to anyone
                last = max(max(a.deliver_by, a.rule_by) for a in self.agreements)
                self.chain.set_next_block_time((max(last, self.chain.head.timestamp) + 1) * 1000)
                self.chain.mine()
            for agreement_id, a in enumerate(self.agreements, start=1):
                if a.state not in OPEN:
                    continue
                fn = {PROPOSED: "expire", ACCEPTED: "timeout", DISPUTED: "arbTimeout"}[a.state]
                self.exit_agreement(agreement_id - 1, fn, 9, 1)
            assert all(a.state not in OPEN for a in self.agreements)
            assert self.balance(self.escrow.address) == 0
            assert self.open_obligations() == 0
            self.everyone_holds_what_the_model_says()
            self.stakes_are_as_modelled()
        finally:
            self.chain.revert(self.snapshot)


@pytest.mark.parametrize("policy", [REFUND_BOTH, SLASH_BOTH], ids=["refund_both", "slash_both"])
def test_fuzz_escrow_conserves_funds_and_never_locks_them(
    deployments: dict[int, Deployment], chain: Chain, policy: int
):
    machine = type("EscrowMachineRun", (EscrowMachine,), {"deployment": deployments[policy]})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=6, stateful_step_count=50, deadline=None),
    )
