"""Behaviour of Escrow: three-party commitments with bonds, rulings, timeouts and reputation.

Unit tests run against MockStaking / MockReputation (which record the calls the escrow makes)
and are parametrized over both timeout-policy variants; one integration test wires the real
Staking and Reputation. Contracts are compiled from the escrow's own sources, so work in
progress elsewhere in ``contracts/`` cannot break these tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from txkit import events, tx_helpers

from agentbed.chain.compiler import compile_files
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "contracts" / "Escrow.sol",
    ROOT / "contracts" / "mocks" / "MockStaking.sol",
    ROOT / "contracts" / "mocks" / "MockReputation.sol",
    ROOT / "contracts" / "mocks" / "HookedERC20.sol",
    ROOT / "contracts" / "mocks" / "ReentrantReceiver.sol",
]

GAS = 1_500_000
DEPLOY_GAS = 6_000_000
PRICE, P_BOND, C_BOND, FEE = 1_000, 100, 200, 10
POT = PRICE + P_BOND + C_BOND
DEPOSIT = PRICE + P_BOND + FEE
MIN_STAKE, ARB_STAKE, SLASH = 500, 1_000, 300
WINDOW = 3_600
ACCEPT_IN, DELIVER_IN = 1_000, 5_000
REFUND_BOTH, SLASH_BOTH = 0, 1
SINK = to_checksum_address("0x000000000000000000000000000000000000511c")
FUNDS = 10**9

# State enum values (IEscrow.State)
NONE, PROPOSED, ACCEPTED, DISPUTED, RELEASED, RULED, EXPIRED, TIMED_OUT, ARB_TIMED_OUT = range(9)

COMPLETED = keccak(text="escrow.completed")
DEFAULTED = keccak(text="escrow.defaulted")
WON = keccak(text="escrow.dispute-won")
LOST = keccak(text="escrow.dispute-lost")
NO_SHOW = keccak(text="escrow.arbitrator-no-show")
SCHEMA_NAMES = {COMPLETED: "completed", DEFAULTED: "defaulted", WON: "won", LOST: "lost"}
SCHEMA_NAMES[NO_SHOW] = "no-show"

REENTRANT_CALL = "ReentrancyGuardReentrantCall()"
REENTRANT_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]

send, ok, reverts = tx_helpers(GAS)


# ---------------------------------------------------------------------------------------------
# set-up
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def escrow_artifacts() -> Any:
    return compile_files(SOURCES, root=ROOT)


@dataclass(frozen=True)
class World:
    """One escrow deployment with funded, approved parties and helpers to drive it."""

    chain: Chain
    token: Any
    staking: Any
    reputation: Any
    escrow: Any
    proposer: LocalAccount
    counterparty: LocalAccount
    arbitrator: LocalAccount
    stranger: LocalAccount
    policy: int = REFUND_BOTH

    def send(self, account: Any, call: Any) -> Receipt:
        return send(self.chain, account, call)

    def ok(self, account: Any, call: Any) -> Receipt:
        return ok(self.chain, account, call)

    def fails(self, account: Any, call: Any, reason: str) -> str:
        return reverts(self.chain, account, call, reason)

    def now(self) -> int:
        return self.chain.head.timestamp

    def at(self, timestamp: int) -> None:
        """Seal the next block at exactly ``timestamp`` (seconds)."""
        self.chain.set_next_block_time(timestamp * 1000)

    def propose(self, **terms: Any) -> tuple[int, Receipt]:
        now = self.now()
        args = {
            "counterparty": self.counterparty.address,
            "arbitrator": self.arbitrator.address,
            "price": PRICE,
            "proposerBond": P_BOND,
            "counterpartyBond": C_BOND,
            "arbitratorFee": FEE,
            "acceptBy": now + ACCEPT_IN,
            "deliverBy": now + DELIVER_IN,
        }
        sender = terms.pop("sender", self.proposer)
        args.update(terms)
        rec = self.ok(sender, self.escrow.functions.propose(*args.values()))
        return self.escrow.functions.agreementCount().call(), rec

    def accepted(self, **terms: Any) -> int:
        agreement_id, _ = self.propose(**terms)
        self.ok(self.counterparty, self.escrow.functions.accept(agreement_id))
        return agreement_id

    def disputed(self) -> int:
        agreement_id = self.accepted()
        self.ok(self.proposer, self.escrow.functions.dispute(agreement_id))
        return agreement_id

    def agreement(self, agreement_id: int) -> dict[str, Any]:
        fields = [
            "proposer",
            "acceptBy",
            "state",
            "proposerConfirmed",
            "counterpartyConfirmed",
            "counterparty",
            "deliverBy",
            "arbitrator",
            "ruleBy",
            "price",
            "proposerBond",
            "counterpartyBond",
            "arbitratorFee",
        ]
        values = self.escrow.functions.agreement(agreement_id).call()
        return dict(zip(fields, values, strict=True))

    def state(self, agreement_id: int) -> int:
        return self.agreement(agreement_id)["state"]

    def balance(self, who: Any) -> int:
        address = who if isinstance(who, str) else who.address
        return self.token.functions.balanceOf(address).call()

    def balances(self) -> dict[str, int]:
        return {
            "proposer": self.balance(self.proposer),
            "counterparty": self.balance(self.counterparty),
            "arbitrator": self.balance(self.arbitrator),
            "escrow": self.balance(self.escrow.address),
            "sink": self.balance(SINK),
        }

    def delta(self, before: dict[str, int]) -> dict[str, int]:
        after = self.balances()
        return {k: after[k] - before[k] for k in after if after[k] != before[k]}

    def events(self, rec: Receipt, name: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        return events(rec, self.escrow, name=name)

    def attestations(self) -> list[tuple[str, str]]:
        """``(subject, schema name)`` recorded in MockReputation, checking the other fields."""
        count = self.reputation.functions.attestationCount().call()
        out = []
        for i in range(count):
            issuer, subject, schema, value, expiry, uid = self.reputation.functions.attestationAt(
                i
            ).call()
            assert same(issuer, self.escrow.address)
            assert (value, expiry) == (1, 0)
            assert uid == expected_uid(self.escrow.address, self.agreement_of(uid), subject, schema)
            out.append((subject, SCHEMA_NAMES[schema]))
        return out

    def agreement_of(self, uid: bytes) -> int:
        # uids commit to the agreement id; search the (few) ids that exist.
        count = self.escrow.functions.agreementCount().call()
        for agreement_id in range(1, count + 1):
            for subject in self.parties(agreement_id):
                for schema in SCHEMA_NAMES:
                    if expected_uid(self.escrow.address, agreement_id, subject, schema) == uid:
                        return agreement_id
        raise AssertionError(f"uid {uid.hex()} matches no agreement")

    def parties(self, agreement_id: int) -> tuple[str, str, str]:
        a = self.agreement(agreement_id)
        return a["proposer"], a["counterparty"], a["arbitrator"]


def same(a: str, b: str) -> bool:
    return to_checksum_address(a) == to_checksum_address(b)


def expected_uid(escrow: str, agreement_id: int, subject: str, schema: bytes) -> bytes:
    types = ["address", "uint256", "address", "bytes32"]
    return keccak(encode(types, [escrow, agreement_id, subject, schema]))


def build_world(
    chain: Chain,
    artifacts: Any,
    *,
    policy: int = REFUND_BOTH,
    slash_amount: int = SLASH,
    token_name: str = "MockERC20",
    registry: Any = None,
    grace_period: int = 0,
) -> World:
    """A MockReputation with the escrow registered, or ``registry`` (deployed, used as is)."""

    def deploy(name: str, *args: Any) -> Any:
        # an explicit gas limit skips the (binary-search) estimate of each creation
        return chain.deploy(artifacts.get(name), *args, gas=DEPLOY_GAS)

    token = deploy(token_name, "Agent", "AGT")
    staking = deploy("MockStaking")
    reputation = deploy("MockReputation") if registry is None else registry
    escrow = deploy(
        "Escrow",
        token.address,
        staking.address,
        reputation.address,
        MIN_STAKE,
        WINDOW,
        policy,
        slash_amount,
        SINK,
        grace_period,
    )
    _, proposer, counterparty, arbitrator, stranger = chain.accounts[:5]
    world = World(chain, token, staking, reputation, escrow, *chain.accounts[1:5], policy)
    deployer = chain.accounts[0]
    if registry is None:
        world.ok(deployer, reputation.functions.registerIssuer(escrow.address))
    world.ok(deployer, staking.functions.setStake(arbitrator.address, ARB_STAKE))
    for account in (proposer, counterparty, arbitrator, stranger):
        world.ok(deployer, token.functions.mint(account.address, FUNDS))
        world.ok(account, token.functions.approve(escrow.address, 2**256 - 1))
    return world


@pytest.fixture(scope="module")
def worlds(testbed_base_chain: Chain, escrow_artifacts: Any) -> Iterator[dict[str, Any]]:
    """Every deployment the module needs, built once on the session chain.

    Module-scoped fixtures are set up before the function-scoped ``chain`` fixture takes its
    per-test snapshot, so each test starts from these deployments and its changes are reverted.
    """
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        hooked = build_world(chain, escrow_artifacts, token_name="HookedERC20")
        receiver = chain.deploy(escrow_artifacts.get("ReentrantReceiver"), gas=DEPLOY_GAS)
        attack = Attack(hooked, receiver)
        hooked.ok(chain.accounts[0], hooked.token.functions.mint(receiver.address, FUNDS))
        approve = hooked.token.functions.approve(hooked.escrow.address, 2**256 - 1)
        assert attack.execute(hooked.token, approve).status == 1
        assert attack.execute(hooked.token, hooked.token.functions.setHooked(True)).status == 1
        yield {
            "refund_both": build_world(chain, escrow_artifacts, policy=REFUND_BOTH),
            "slash_both": build_world(chain, escrow_artifacts, policy=SLASH_BOTH),
            "attack": attack,
        }
    finally:
        chain.revert(snapshot)


@pytest.fixture(params=["refund_both", "slash_both"])
def world(request: pytest.FixtureRequest, worlds: dict[str, Any], chain: Chain) -> World:
    """One escrow per timeout policy; the same behaviour suite runs against both."""
    return worlds[request.param]


@pytest.fixture
def refund_world(worlds: dict[str, Any], chain: Chain) -> World:
    return worlds["refund_both"]


# ---------------------------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------------------------


def test_constructor_sets_parameters_and_schemas(world: World):
    f = world.escrow.functions
    assert same(f.currency().call(), world.token.address)
    assert same(f.staking().call(), world.staking.address)
    assert same(f.reputation().call(), world.reputation.address)
    assert (f.minArbitratorStake().call(), f.rulingWindow().call()) == (MIN_STAKE, WINDOW)
    assert f.timeoutPolicy().call() == world.policy
    assert (f.arbitratorSlashAmount().call(), f.slashSink().call()) == (SLASH, SINK)
    assert f.COMPLETED().call() == COMPLETED
    assert f.DEFAULTED().call() == DEFAULTED
    assert f.DISPUTE_WON().call() == WON
    assert f.DISPUTE_LOST().call() == LOST
    assert f.ARBITRATOR_NO_SHOW().call() == NO_SHOW
    assert (f.agreementCount().call(), f.openObligations().call()) == (0, 0)


def test_revert_when_slash_both_has_no_sink(chain: Chain, escrow_artifacts: Any):
    token = chain.deploy(escrow_artifacts.get("MockERC20"), "Agent", "AGT")
    zero = "0x" + "00" * 20
    args = (token.address, token.address, token.address, 0, WINDOW)
    # RefundBoth never pays the sink, so a zero sink is fine (and registers the error ABI)
    chain.deploy(escrow_artifacts.get("Escrow"), *args, REFUND_BOTH, 0, zero, 0)
    with pytest.raises(ExecutionReverted) as err:
        chain.deploy(escrow_artifacts.get("Escrow"), *args, SLASH_BOTH, 0, zero, 0)
    assert err.value.reason == f"EscrowInvalidSlashSink({zero})"


# ---------------------------------------------------------------------------------------------
# propose
# ---------------------------------------------------------------------------------------------


def test_propose_escrows_deposit_and_records_terms(world: World):
    before = world.balances()
    now = world.now()
    agreement_id, rec = world.propose(acceptBy=now + 100, deliverBy=now + 200)
    assert agreement_id == 1
    assert world.delta(before) == {"proposer": -DEPOSIT, "escrow": DEPOSIT}
    assert world.escrow.functions.openObligations().call() == DEPOSIT
    p, c, a = world.proposer.address, world.counterparty.address, world.arbitrator.address
    assert world.agreement(agreement_id) == {
        "proposer": p,
        "acceptBy": now + 100,
        "state": PROPOSED,
        "proposerConfirmed": False,
        "counterpartyConfirmed": False,
        "counterparty": c,
        "deliverBy": now + 200,
        "arbitrator": a,
        "ruleBy": 0,
        "price": PRICE,
        "proposerBond": P_BOND,
        "counterpartyBond": C_BOND,
        "arbitratorFee": FEE,
    }
    assert world.events(rec) == [
        (
            "EscrowProposed",
            {
                "id": 1,
                "proposer": p,
                "counterparty": c,
                "arbitrator": a,
                "deposit": DEPOSIT,
                "acceptBy": now + 100,
                "deliverBy": now + 200,
            },
        )
    ]
    second, _ = world.propose()
    assert second == 2
    assert world.escrow.functions.openObligations().call() == 2 * DEPOSIT


def test_unknown_agreement_is_all_zero(world: World):
    a = world.agreement(7)
    assert a["state"] == NONE and a["price"] == 0 and int(a["proposer"], 16) == 0


def test_propose_accepts_arbitrator_with_exactly_the_minimum_stake(world: World):
    world.ok(
        world.chain.accounts[0],
        world.staking.functions.setStake(world.arbitrator.address, MIN_STAKE),
    )
    agreement_id, _ = world.propose()
    assert world.state(agreement_id) == PROPOSED


def test_revert_when_arbitrator_not_eligible(world: World):
    arb = world.arbitrator.address
    world.ok(world.chain.accounts[0], world.staking.functions.setStake(arb, MIN_STAKE - 1))
    call = world.escrow.functions.propose(
        world.counterparty.address,
        arb,
        PRICE,
        P_BOND,
        C_BOND,
        FEE,
        world.now() + 99,
        world.now() + 999,
    )
    world.fails(
        world.proposer, call, f"EscrowArbitratorNotEligible({arb}, {MIN_STAKE - 1}, {MIN_STAKE})"
    )
    assert world.escrow.functions.agreementCount().call() == 0


@pytest.mark.parametrize(
    "counterparty, arbitrator",
    [
        ("proposer", "arbitrator"),
        ("counterparty", "proposer"),
        ("counterparty", "counterparty"),
        ("zero", "arbitrator"),
        ("counterparty", "zero"),
    ],
)
def test_revert_when_parties_not_distinct(world: World, counterparty: str, arbitrator: str):
    def address(role: str) -> str:
        return "0x" + "00" * 20 if role == "zero" else getattr(world, role).address

    c, a = address(counterparty), address(arbitrator)
    call = world.escrow.functions.propose(
        c, a, PRICE, P_BOND, C_BOND, FEE, world.now() + 99, world.now() + 999
    )
    p = world.proposer.address
    world.fails(world.proposer, call, f"EscrowInvalidParties({p}, {to_checksum_address(c)}, {a})")


@pytest.mark.parametrize(
    "accept_in, deliver_in, ok",
    [(0, 100, False), (1, 100, True), (50, 50, False), (50, 49, False), (50, 51, True)],
)
def test_propose_deadlines_must_be_future_and_ordered(
    world: World, accept_in: int, deliver_in: int, ok: bool
):
    t = world.now() + 10
    world.at(t)
    call = world.escrow.functions.propose(
        world.counterparty.address,
        world.arbitrator.address,
        PRICE,
        P_BOND,
        C_BOND,
        FEE,
        t + accept_in,
        t + deliver_in,
    )
    if ok:
        world.ok(world.proposer, call)
    else:
        reason = f"EscrowInvalidDeadlines({t + accept_in}, {t + deliver_in}, {t})"
        world.fails(world.proposer, call, reason)


def test_revert_when_proposer_has_not_approved(world: World):
    world.ok(world.proposer, world.token.functions.approve(world.escrow.address, DEPOSIT - 1))
    call = world.escrow.functions.propose(
        world.counterparty.address,
        world.arbitrator.address,
        PRICE,
        P_BOND,
        C_BOND,
        FEE,
        world.now() + 99,
        world.now() + 999,
    )
    reason = f"ERC20InsufficientAllowance({world.escrow.address}, {DEPOSIT - 1}, {DEPOSIT})"
    world.fails(world.proposer, call, reason)


# ---------------------------------------------------------------------------------------------
# accept
# ---------------------------------------------------------------------------------------------


def test_accept_posts_counterparty_bond(world: World):
    agreement_id, _ = world.propose()
    before = world.balances()
    rec = world.ok(world.counterparty, world.escrow.functions.accept(agreement_id))
    assert world.delta(before) == {"counterparty": -C_BOND, "escrow": C_BOND}
    assert world.state(agreement_id) == ACCEPTED
    assert world.escrow.functions.openObligations().call() == DEPOSIT + C_BOND
    assert world.events(rec) == [
        (
            "EscrowAccepted",
            {"id": agreement_id, "counterparty": world.counterparty.address, "bond": C_BOND},
        )
    ]


def test_revert_when_accepting_twice_or_unknown(world: World):
    agreement_id = world.accepted()
    accept = world.escrow.functions.accept
    world.fails(world.counterparty, accept(agreement_id), f"EscrowWrongState({agreement_id}, 2)")
    world.fails(world.counterparty, accept(99), "EscrowWrongState(99, 0)")


# ---------------------------------------------------------------------------------------------
# confirm and release
# ---------------------------------------------------------------------------------------------


def test_one_confirmation_holds_the_funds(world: World):
    agreement_id = world.accepted()
    before = world.balances()
    rec = world.ok(world.counterparty, world.escrow.functions.confirm(agreement_id))
    assert world.delta(before) == {}
    a = world.agreement(agreement_id)
    assert (a["state"], a["proposerConfirmed"], a["counterpartyConfirmed"]) == (
        ACCEPTED,
        False,
        True,
    )
    assert world.events(rec) == [
        ("EscrowConfirmed", {"id": agreement_id, "party": world.counterparty.address})
    ]
    assert world.attestations() == []


@pytest.mark.parametrize("first", ["proposer", "counterparty"])
def test_both_confirmations_release_and_attest_completed(world: World, first: str):
    agreement_id = world.accepted()
    second = "counterparty" if first == "proposer" else "proposer"
    world.ok(getattr(world, first), world.escrow.functions.confirm(agreement_id))
    before = world.balances()
    rec = world.ok(getattr(world, second), world.escrow.functions.confirm(agreement_id))
    assert world.delta(before) == {
        "counterparty": PRICE + C_BOND,
        "proposer": P_BOND,
        "arbitrator": FEE,
        "escrow": -(DEPOSIT + C_BOND),
    }
    assert world.state(agreement_id) == RELEASED
    assert world.escrow.functions.openObligations().call() == 0
    assert world.events(rec) == [
        ("EscrowConfirmed", {"id": agreement_id, "party": getattr(world, second).address}),
        (
            "EscrowReleased",
            {
                "id": agreement_id,
                "toCounterparty": PRICE + C_BOND,
                "toProposer": P_BOND,
                "fee": FEE,
            },
        ),
    ]
    p, c = world.proposer.address, world.counterparty.address
    assert world.attestations() == [(p, "completed"), (c, "completed")]


def test_revert_when_confirming_twice(world: World):
    agreement_id = world.accepted()
    world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
    reason = f"EscrowAlreadyConfirmed({agreement_id}, {world.proposer.address})"
    world.fails(world.proposer, world.escrow.functions.confirm(agreement_id), reason)


@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_revert_when_acting_before_acceptance_or_after_release(world: World, action: str):
    agreement_id, _ = world.propose()
    fn = getattr(world.escrow.functions, action)
    world.fails(world.proposer, fn(agreement_id), f"EscrowWrongState({agreement_id}, {PROPOSED})")
    world.ok(world.counterparty, world.escrow.functions.accept(agreement_id))
    world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
    world.ok(world.counterparty, world.escrow.functions.confirm(agreement_id))
    world.fails(
        world.counterparty, fn(agreement_id), f"EscrowWrongState({agreement_id}, {RELEASED})"
    )


# ---------------------------------------------------------------------------------------------
# dispute and rule
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["proposer", "counterparty"])
def test_dispute_opens_the_ruling_window(world: World, party: str):
    agreement_id = world.accepted()
    t = world.now() + 7
    world.at(t)
    rec = world.ok(getattr(world, party), world.escrow.functions.dispute(agreement_id))
    assert world.state(agreement_id) == DISPUTED
    assert world.agreement(agreement_id)["ruleBy"] == t + WINDOW
    assert world.events(rec) == [
        (
            "EscrowDisputed",
            {"id": agreement_id, "party": getattr(world, party).address, "ruleBy": t + WINDOW},
        )
    ]
    before = world.balances()
    world.fails(
        world.proposer,
        world.escrow.functions.confirm(agreement_id),
        f"EscrowWrongState({agreement_id}, {DISPUTED})",
    )
    assert world.delta(before) == {}


def test_party_that_confirmed_may_still_dispute(world: World):
    agreement_id = world.accepted()
    world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
    world.ok(world.proposer, world.escrow.functions.dispute(agreement_id))
    assert world.state(agreement_id) == DISPUTED


@pytest.mark.parametrize(
    "share, proposer_result, counterparty_result",
    [
        (POT, "won", "lost"),
        (POT // 2 + 1, "won", "lost"),
        (POT // 2, "won", "won"),  # exact half: a draw records both as won
        (POT // 2 - 1, "lost", "won"),
        (0, "lost", "won"),
    ],
)
def test_rule_splits_the_pot_and_attests_outcome(
    world: World, share: int, proposer_result: str, counterparty_result: str
):
    assert POT % 2 == 0
    agreement_id = world.disputed()
    before = world.balances()
    rec = world.ok(world.arbitrator, world.escrow.functions.rule(agreement_id, share))
    expected = {
        "proposer": share,
        "counterparty": POT - share,
        "arbitrator": FEE,
        "escrow": -(POT + FEE),
    }
    assert world.delta(before) == {k: v for k, v in expected.items() if v}
    assert world.state(agreement_id) == RULED
    assert world.escrow.functions.openObligations().call() == 0
    assert world.events(rec) == [
        (
            "EscrowRuled",
            {"id": agreement_id, "toProposer": share, "toCounterparty": POT - share, "fee": FEE},
        )
    ]
    p, c = world.proposer.address, world.counterparty.address
    assert world.attestations() == [(p, proposer_result), (c, counterparty_result)]


def test_revert_when_share_exceeds_pot(world: World):
    agreement_id = world.disputed()
    call = world.escrow.functions.rule(agreement_id, POT + 1)
    world.fails(world.arbitrator, call, f"EscrowShareExceedsPot({agreement_id}, {POT + 1}, {POT})")
    world.fails(
        world.arbitrator,
        world.escrow.functions.rule(agreement_id + 1, 0),
        f"EscrowWrongState({agreement_id + 1}, {NONE})",
    )


def test_revert_when_ruling_undisputed_agreement(world: World):
    agreement_id = world.accepted()
    call = world.escrow.functions.rule(agreement_id, 0)
    world.fails(world.arbitrator, call, f"EscrowWrongState({agreement_id}, {ACCEPTED})")


# ---------------------------------------------------------------------------------------------
# expire, timeout, arbitrator timeout
# ---------------------------------------------------------------------------------------------


def test_expire_refunds_proposer_and_attests_nothing(world: World):
    agreement_id, _ = world.propose()
    accept_by = world.agreement(agreement_id)["acceptBy"]
    world.at(accept_by + 1)
    before = world.balances()
    rec = world.ok(world.stranger, world.escrow.functions.expire(agreement_id))
    assert world.delta(before) == {"proposer": DEPOSIT, "escrow": -DEPOSIT}
    assert world.state(agreement_id) == EXPIRED
    assert world.events(rec) == [("EscrowExpired", {"id": agreement_id, "refund": DEPOSIT})]
    assert world.attestations() == []
    assert world.escrow.functions.openObligations().call() == 0
    world.fails(
        world.counterparty,
        world.escrow.functions.accept(agreement_id),
        f"EscrowWrongState({agreement_id}, {EXPIRED})",
    )


def expected_timeout_delta(policy: int) -> dict[str, int]:
    if policy == SLASH_BOTH:
        return {"proposer": PRICE + FEE, "sink": P_BOND + C_BOND, "escrow": -(DEPOSIT + C_BOND)}
    return {"proposer": DEPOSIT, "counterparty": C_BOND, "escrow": -(DEPOSIT + C_BOND)}


@pytest.mark.parametrize(
    "confirmed_by, defaulted",
    [
        ((), ("proposer", "counterparty")),
        (("proposer",), ("counterparty",)),
        (("counterparty",), ("proposer",)),
    ],
)
def test_timeout_applies_policy_and_attests_defaulters(
    world: World, confirmed_by: tuple[str, ...], defaulted: tuple[str, ...]
):
    policy = world.policy
    agreement_id = world.accepted()
    for party in confirmed_by:
        world.ok(getattr(world, party), world.escrow.functions.confirm(agreement_id))
    world.at(world.agreement(agreement_id)["deliverBy"] + 1)
    before = world.balances()
    rec = world.ok(world.stranger, world.escrow.functions.timeout(agreement_id))
    assert world.delta(before) == expected_timeout_delta(policy)
    assert world.state(agreement_id) == TIMED_OUT
    slashed = P_BOND + C_BOND if policy == SLASH_BOTH else 0
    assert world.events(rec) == [
        ("EscrowTimedOut", {"id": agreement_id, "policy": policy, "slashed": slashed})
    ]
    assert world.attestations() == [(getattr(world, p).address, "defaulted") for p in defaulted]
    assert world.escrow.functions.openObligations().call() == 0


def test_timeout_variants_side_by_side_differ(chain: Chain, escrow_artifacts: Any):
    outcomes = {}
    for policy in (REFUND_BOTH, SLASH_BOTH):
        world = build_world(chain, escrow_artifacts, policy=policy)
        agreement_id = world.accepted()
        world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
        world.at(world.agreement(agreement_id)["deliverBy"] + 1)
        before = world.balances()
        world.ok(world.stranger, world.escrow.functions.timeout(agreement_id))
        outcomes[policy] = world.delta(before)
    assert outcomes[REFUND_BOTH] == {
        "proposer": PRICE + FEE + P_BOND,
        "counterparty": C_BOND,
        "escrow": -(DEPOSIT + C_BOND),
    }
    assert outcomes[SLASH_BOTH] == {
        "proposer": PRICE + FEE,
        "sink": P_BOND + C_BOND,
        "escrow": -(DEPOSIT + C_BOND),
    }


def test_arbitrator_timeout_refunds_both_and_slashes_arbitrator(world: World):
    agreement_id = world.disputed()
    world.at(world.agreement(agreement_id)["ruleBy"] + 1)
    before = world.balances()
    rec = world.ok(world.stranger, world.escrow.functions.arbitratorTimeout(agreement_id))
    assert world.delta(before) == {
        "proposer": DEPOSIT,
        "counterparty": C_BOND,
        "escrow": -(DEPOSIT + C_BOND),
    }
    assert world.state(agreement_id) == ARB_TIMED_OUT
    arb = world.arbitrator.address
    assert world.events(rec) == [
        ("EscrowArbitratorTimedOut", {"id": agreement_id, "arbitrator": arb, "slashed": SLASH})
    ]
    assert world.staking.functions.slashCount().call() == 1
    assert world.staking.functions.slashAt(0).call() == (
        world.escrow.address,
        arb,
        SLASH,
        NO_SHOW,
        SLASH,
    )
    assert world.staking.functions.stakeOf(arb).call() == ARB_STAKE - SLASH
    assert world.attestations() == [(arb, "no-show")]
    world.fails(
        world.arbitrator,
        world.escrow.functions.rule(agreement_id, 0),
        f"EscrowWrongState({agreement_id}, {ARB_TIMED_OUT})",
    )


@pytest.mark.parametrize("stake_left, slashed", [(120, 120), (0, 0)])
def test_arbitrator_timeout_caps_slash_at_remaining_stake(
    world: World, stake_left: int, slashed: int
):
    agreement_id = world.disputed()
    arb = world.arbitrator.address
    world.ok(world.chain.accounts[0], world.staking.functions.setStake(arb, stake_left))
    world.at(world.agreement(agreement_id)["ruleBy"] + 1)
    before = world.balances()
    rec = world.ok(world.stranger, world.escrow.functions.arbitratorTimeout(agreement_id))
    assert world.delta(before) == {
        "proposer": DEPOSIT,
        "counterparty": C_BOND,
        "escrow": -(DEPOSIT + C_BOND),
    }
    event = {"id": agreement_id, "arbitrator": arb, "slashed": slashed}
    assert world.events(rec) == [("EscrowArbitratorTimedOut", event)]
    assert world.staking.functions.slashCount().call() == (1 if slashed else 0)
    assert world.staking.functions.stakeOf(arb).call() == 0


def test_zero_slash_variant_never_calls_staking(chain: Chain, escrow_artifacts: Any):
    world = build_world(chain, escrow_artifacts, slash_amount=0)
    agreement_id = world.disputed()
    world.at(world.agreement(agreement_id)["ruleBy"] + 1)
    world.ok(world.stranger, world.escrow.functions.arbitratorTimeout(agreement_id))
    assert world.staking.functions.slashCount().call() == 0
    assert world.attestations() == [(world.arbitrator.address, "no-show")]


# ---------------------------------------------------------------------------------------------
# deadlines at T-1, T, T+1
# ---------------------------------------------------------------------------------------------

OFFSETS = pytest.mark.parametrize("offset", [-1, 0, 1], ids=["T-1", "T", "T+1"])


def check_allowed_until(
    w: World, agreement_id: int, field: str, offset: int, account: Any, action: str, *args: Any
) -> None:
    """At ``offset`` seconds from the ``field`` deadline, ``action`` by ``account`` succeeds up
    to the deadline inclusive and fails with ``EscrowDeadlinePassed`` after it."""
    deadline = w.agreement(agreement_id)[field]
    w.at(deadline + offset)
    call = getattr(w.escrow.functions, action)(agreement_id, *args)
    if offset <= 0:
        w.ok(account, call)
    else:
        w.fails(account, call, f"EscrowDeadlinePassed({agreement_id}, {deadline})")


def check_allowed_after(
    w: World, agreement_id: int, field: str, offset: int, account: Any, action: str
) -> None:
    """At ``offset`` seconds from the ``field`` deadline, ``action`` by ``account`` fails with
    ``EscrowDeadlineNotReached`` up to the deadline inclusive and succeeds after it."""
    deadline = w.agreement(agreement_id)[field]
    w.at(deadline + offset)
    call = getattr(w.escrow.functions, action)(agreement_id)
    if offset > 0:
        w.ok(account, call)
    else:
        w.fails(account, call, f"EscrowDeadlineNotReached({agreement_id}, {deadline})")


@OFFSETS
def test_accept_is_allowed_until_accept_by_inclusive(refund_world: World, offset: int):
    w = refund_world
    agreement_id, _ = w.propose()
    check_allowed_until(w, agreement_id, "acceptBy", offset, w.counterparty, "accept")


@OFFSETS
def test_expire_is_allowed_only_after_accept_by(refund_world: World, offset: int):
    w = refund_world
    agreement_id, _ = w.propose()
    check_allowed_after(w, agreement_id, "acceptBy", offset, w.stranger, "expire")


@OFFSETS
@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_confirm_and_dispute_are_allowed_until_deliver_by_inclusive(
    refund_world: World, offset: int, action: str
):
    w = refund_world
    check_allowed_until(w, w.accepted(), "deliverBy", offset, w.proposer, action)


@OFFSETS
def test_timeout_is_allowed_only_after_deliver_by(refund_world: World, offset: int):
    w = refund_world
    check_allowed_after(w, w.accepted(), "deliverBy", offset, w.stranger, "timeout")


@OFFSETS
def test_rule_is_allowed_until_rule_by_inclusive(refund_world: World, offset: int):
    w = refund_world
    check_allowed_until(w, w.disputed(), "ruleBy", offset, w.arbitrator, "rule", 1)


@OFFSETS
def test_arbitrator_timeout_is_allowed_only_after_rule_by(refund_world: World, offset: int):
    w = refund_world
    check_allowed_after(w, w.disputed(), "ruleBy", offset, w.stranger, "arbitratorTimeout")


# ---------------------------------------------------------------------------------------------
# authorization: every state-changing function by every unauthorized role
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, role, error",
    [
        ("accept", "proposer", "EscrowNotCounterparty"),
        ("accept", "arbitrator", "EscrowNotCounterparty"),
        ("accept", "stranger", "EscrowNotCounterparty"),
        ("confirm", "arbitrator", "EscrowNotParty"),
        ("confirm", "stranger", "EscrowNotParty"),
        ("dispute", "arbitrator", "EscrowNotParty"),
        ("dispute", "stranger", "EscrowNotParty"),
        ("rule", "proposer", "EscrowNotArbitrator"),
        ("rule", "counterparty", "EscrowNotArbitrator"),
        ("rule", "stranger", "EscrowNotArbitrator"),
    ],
)
def test_revert_when_unauthorized_role_calls(world: World, action: str, role: str, error: str):
    if action == "accept":
        agreement_id, _ = world.propose()
        call = world.escrow.functions.accept(agreement_id)
    elif action == "rule":
        agreement_id = world.disputed()
        call = world.escrow.functions.rule(agreement_id, 0)
    else:
        agreement_id = world.accepted()
        call = getattr(world.escrow.functions, action)(agreement_id)
    state = world.state(agreement_id)
    before = world.balances()
    caller = getattr(world, role)
    world.fails(caller, call, f"{error}({caller.address})")
    assert world.state(agreement_id) == state
    assert world.delta(before) == {}


def test_exits_are_permissionless(world: World):
    expiring, _ = world.propose()
    timing_out = world.accepted()
    no_show = world.disputed()
    world.at(world.now() + max(WINDOW, DELIVER_IN) + 1)
    world.ok(world.stranger, world.escrow.functions.expire(expiring))
    world.ok(world.stranger, world.escrow.functions.timeout(timing_out))
    world.ok(world.stranger, world.escrow.functions.arbitratorTimeout(no_show))
    states = [world.state(i) for i in (expiring, timing_out, no_show)]
    assert states == [EXPIRED, TIMED_OUT, ARB_TIMED_OUT]
    assert world.balance(world.escrow.address) == 0


@pytest.mark.parametrize("exit_fn", ["expire", "timeout", "arbitratorTimeout"])
def test_revert_when_exit_called_in_wrong_state(world: World, exit_fn: str):
    agreement_id = world.accepted()
    world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
    world.ok(world.counterparty, world.escrow.functions.confirm(agreement_id))
    world.at(world.now() + WINDOW + DELIVER_IN)
    call = getattr(world.escrow.functions, exit_fn)(agreement_id)
    world.fails(world.stranger, call, f"EscrowWrongState({agreement_id}, {RELEASED})")


# ---------------------------------------------------------------------------------------------
# reentrancy through a currency that calls its recipients
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    world: World
    receiver: Any

    def execute(self, target: Any, call: Any) -> Receipt:
        data = call._encode_transaction_data()
        owner = self.world.chain.accounts[0]
        return self.world.send(owner, self.receiver.functions.execute(target.address, data))

    def arm(self, call: Any, *, bubble: bool) -> None:
        data = call._encode_transaction_data()
        owner = self.world.chain.accounts[0]
        arm = self.receiver.functions.arm(self.world.escrow.address, data, bubble)
        self.world.ok(owner, arm)

    def last_reentry(self) -> tuple[bool, bytes, int]:
        f = self.receiver.functions
        return f.lastOk().call(), f.lastResult().call(), f.reentries().call()


@pytest.fixture
def attack(worlds: dict[str, Any], chain: Chain) -> Attack:
    """A RefundBoth escrow in a hooked currency, with a ReentrantReceiver funded and approved."""
    return worlds["attack"]


def receiver_as_counterparty(attack: Attack) -> int:
    w = attack.world
    now = w.now()
    agreement_id, _ = w.propose(
        counterparty=attack.receiver.address, acceptBy=now + ACCEPT_IN, deliverBy=now + DELIVER_IN
    )
    assert attack.execute(w.escrow, w.escrow.functions.accept(agreement_id)).status == 1
    return agreement_id


def test_reentering_confirm_during_release_fails_and_pays_once(attack: Attack):
    w, receiver = attack.world, attack.receiver
    agreement_id = receiver_as_counterparty(attack)
    w.ok(w.proposer, w.escrow.functions.confirm(agreement_id))
    before = w.balance(receiver.address)
    attack.arm(w.escrow.functions.confirm(agreement_id), bubble=False)
    rec = attack.execute(w.escrow, w.escrow.functions.confirm(agreement_id))
    assert rec.status == 1
    assert attack.last_reentry() == (False, REENTRANT_SELECTOR, 1)
    assert w.balance(receiver.address) - before == PRICE + C_BOND
    assert w.balance(w.escrow.address) == 0
    assert len(w.events(rec, "EscrowReleased")) == 1


def test_reentry_that_bubbles_reverts_the_whole_payout(attack: Attack):
    w, receiver = attack.world, attack.receiver
    agreement_id = receiver_as_counterparty(attack)
    w.ok(w.proposer, w.escrow.functions.confirm(agreement_id))
    before = (w.balances(), w.balance(receiver.address))
    attack.arm(w.escrow.functions.confirm(agreement_id), bubble=True)
    rec = attack.execute(w.escrow, w.escrow.functions.confirm(agreement_id))
    assert (rec.status, rec.revert_reason) == (0, REENTRANT_CALL)
    assert (w.balances(), w.balance(receiver.address)) == before
    assert w.agreement(agreement_id)["counterpartyConfirmed"] is False


def test_reentering_timeout_during_refund_fails_and_pays_once(attack: Attack):
    w, receiver = attack.world, attack.receiver
    agreement_id = receiver_as_counterparty(attack)
    w.at(w.agreement(agreement_id)["deliverBy"] + 1)
    before = w.balance(receiver.address)
    attack.arm(w.escrow.functions.timeout(agreement_id), bubble=False)
    rec = w.ok(w.stranger, w.escrow.functions.timeout(agreement_id))
    assert attack.last_reentry() == (False, REENTRANT_SELECTOR, 1)
    assert w.balance(receiver.address) - before == C_BOND
    assert w.balance(w.escrow.address) == 0
    assert len(w.events(rec, "EscrowTimedOut")) == 1


def test_reentering_dispute_of_another_agreement_during_release_fails(attack: Attack):
    w = attack.world
    released = receiver_as_counterparty(attack)
    other = receiver_as_counterparty(attack)
    w.ok(w.proposer, w.escrow.functions.confirm(released))
    attack.arm(w.escrow.functions.dispute(other), bubble=False)
    assert attack.execute(w.escrow, w.escrow.functions.confirm(released)).status == 1
    assert attack.last_reentry() == (False, REENTRANT_SELECTOR, 1)
    assert w.state(released) == RELEASED
    assert w.state(other) == ACCEPTED
    # outside a payout the very same call succeeds, so only the guard stopped it
    assert attack.execute(w.escrow, w.escrow.functions.dispute(other)).status == 1
    assert w.state(other) == DISPUTED


def test_reentering_rule_while_paid_as_arbitrator_fails(attack: Attack):
    w, receiver = attack.world, attack.receiver
    w.ok(w.chain.accounts[0], w.staking.functions.setStake(receiver.address, ARB_STAKE))
    disputed, _ = w.propose(arbitrator=receiver.address)
    w.ok(w.counterparty, w.escrow.functions.accept(disputed))
    w.ok(w.counterparty, w.escrow.functions.dispute(disputed))
    paid, _ = w.propose(arbitrator=receiver.address)
    w.ok(w.counterparty, w.escrow.functions.accept(paid))
    w.ok(w.counterparty, w.escrow.functions.confirm(paid))
    attack.arm(w.escrow.functions.rule(disputed, POT), bubble=False)
    before = w.balance(receiver.address)
    w.ok(w.proposer, w.escrow.functions.confirm(paid))  # pays the arbitrator fee
    assert attack.last_reentry() == (False, REENTRANT_SELECTOR, 1)
    assert w.balance(receiver.address) - before == FEE
    assert w.state(disputed) == DISPUTED
    assert w.balance(w.escrow.address) == DEPOSIT + C_BOND
    assert attack.execute(w.escrow, w.escrow.functions.rule(disputed, POT)).status == 1
    assert w.balance(w.escrow.address) == 0


# ---------------------------------------------------------------------------------------------
# integration with the real Staking and Reputation
# ---------------------------------------------------------------------------------------------


REAL_SOURCES = [ROOT / "contracts" / "Staking.sol", ROOT / "contracts" / "Reputation.sol"]


@pytest.fixture(scope="session")
def real_artifacts() -> Any:
    """The escrow's sources with the real Staking and Reputation instead of the mocks."""
    return compile_files([*SOURCES, *REAL_SOURCES], root=ROOT)


def test_integration_with_real_staking_and_reputation(chain: Chain, real_artifacts: Any):
    deployer, proposer, counterparty, arbitrator, stranger = chain.accounts[:5]
    sink = SINK

    def deploy(name: str, *args: Any) -> Any:
        return chain.deploy(real_artifacts.get(name), *args)

    token = deploy("MockERC20", "Agent", "AGT")
    staking = deploy("Staking", token.address, 7 * 86_400, sink, deployer.address)
    reputation = deploy("Reputation", deployer.address)
    escrow = deploy(
        "Escrow",
        token.address,
        staking.address,
        reputation.address,
        MIN_STAKE,
        WINDOW,
        SLASH_BOTH,
        SLASH,
        sink,
        0,  # no grace period
    )
    world = World(
        chain,
        token,
        staking,
        reputation,
        escrow,
        proposer,
        counterparty,
        arbitrator,
        stranger,
        SLASH_BOTH,
    )
    slasher = staking.functions.SLASHER_ROLE().call()
    world.ok(deployer, staking.functions.grantRole(slasher, escrow.address))
    world.ok(deployer, reputation.functions.registerIssuer(escrow.address))
    for account in (proposer, counterparty, arbitrator):
        world.ok(deployer, token.functions.mint(account.address, FUNDS))
        world.ok(account, token.functions.approve(escrow.address, 2**256 - 1))
    world.ok(arbitrator, token.functions.approve(staking.address, ARB_STAKE))
    world.ok(arbitrator, staking.functions.stake(ARB_STAKE))

    # released: both parties completed
    released = world.accepted()
    world.ok(proposer, escrow.functions.confirm(released))
    world.ok(counterparty, escrow.functions.confirm(released))
    # arbitrator no-show: slashed through the real staking, attested in the real registry
    no_show = world.disputed()
    world.at(world.agreement(no_show)["ruleBy"] + 1)
    before = world.balances()
    rec = world.ok(stranger, escrow.functions.arbitratorTimeout(no_show))
    assert world.delta(before) == {
        "proposer": DEPOSIT,
        "counterparty": C_BOND,
        "escrow": -(DEPOSIT + C_BOND),
        "sink": SLASH,  # Staking sends the slashed stake to its own sink
    }
    assert staking.functions.stakeOf(arbitrator.address).call() == ARB_STAKE - SLASH
    slashed = [log.event for log in rec.logs if log.event and log.event.name == "Slashed"]
    assert len(slashed) == 1
    assert slashed[0].args["slasher"] == escrow.address
    assert slashed[0].args["reason"] == NO_SHOW

    score = reputation.functions.score
    for party in (proposer, counterparty):
        assert score(party.address, COMPLETED).call() == [1, 1]
    assert score(arbitrator.address, NO_SHOW).call() == [1, 1]
    uid = expected_uid(escrow.address, no_show, arbitrator.address, NO_SHOW)
    assert reputation.functions.isValid(uid).call() is True
    assert token.functions.balanceOf(escrow.address).call() == 0


# ---------------------------------------------------------------------------------------------
# reputation records are best effort: a registry that rejects them cannot hold the funds
# ---------------------------------------------------------------------------------------------

TERMINAL_PATHS = ["release", "timeout", "rule", "arbitratorTimeout"]
OUT_OF_GAS = "EscrowAttestationOutOfGas({id})"


def build_real_world(chain: Chain, artifacts: Any, *, policy: int) -> World:
    """An escrow wired to the real Staking and Reputation, deliberately NOT a registered issuer.

    The escrow holds ``SLASHER_ROLE`` and the arbitrator has staked, as in the integration test.
    """
    deployer, proposer, counterparty, arbitrator, stranger = chain.accounts[:5]

    def deploy(name: str, *args: Any) -> Any:
        return chain.deploy(artifacts.get(name), *args, gas=DEPLOY_GAS)

    token = deploy("MockERC20", "Agent", "AGT")
    staking = deploy("Staking", token.address, 7 * 86_400, SINK, deployer.address)
    reputation = deploy("Reputation", deployer.address)
    args = (MIN_STAKE, WINDOW, policy, SLASH, SINK, 0)
    escrow = deploy("Escrow", token.address, staking.address, reputation.address, *args)
    world = World(chain, token, staking, reputation, escrow, *chain.accounts[1:5], policy)
    world.ok(
        deployer,
        staking.functions.grantRole(staking.functions.SLASHER_ROLE().call(), escrow.address),
    )
    for account in (proposer, counterparty, arbitrator, stranger):
        world.ok(deployer, token.functions.mint(account.address, FUNDS))
        world.ok(account, token.functions.approve(escrow.address, 2**256 - 1))
    world.ok(arbitrator, token.functions.approve(staking.address, ARB_STAKE))
    world.ok(arbitrator, staking.functions.stake(ARB_STAKE))
    return world


@pytest.fixture(scope="module")
def real_worlds(testbed_base_chain: Chain, real_artifacts: Any) -> Iterator[dict[int, World]]:
    """One unregistered real-registry escrow per timeout policy (see ``worlds`` for scoping)."""
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield {
            policy: build_real_world(chain, real_artifacts, policy=policy)
            for policy in (REFUND_BOTH, SLASH_BOTH)
        }
    finally:
        chain.revert(snapshot)


@pytest.fixture(params=[REFUND_BOTH, SLASH_BOTH], ids=["refund_both", "slash_both"])
def real_world(
    request: pytest.FixtureRequest, real_worlds: dict[int, World], chain: Chain
) -> World:
    return real_worlds[request.param]


def set_issuer(world: World, registered: bool) -> None:
    registry = world.reputation.functions
    change = registry.registerIssuer if registered else registry.removeIssuer
    world.ok(world.chain.accounts[0], change(world.escrow.address))
    assert registry.isIssuer(world.escrow.address).call() is registered


def open_for(world: World, path: str, **terms: Any) -> tuple[int, Any, Any]:
    """An agreement one call away from ``path``'s terminal transition: ``(id, caller, call)``.

    ``rule`` awards the whole pot to the proposer. The chain's next block is already set past
    any deadline the transition needs.
    """
    f = world.escrow.functions
    if path in ("release", "timeout"):
        agreement_id = world.accepted(**terms)
        if path == "release":
            world.ok(world.proposer, f.confirm(agreement_id))
            return agreement_id, world.counterparty, f.confirm(agreement_id)
        world.at(world.agreement(agreement_id)["deliverBy"] + 1)
        return agreement_id, world.stranger, f.timeout(agreement_id)
    agreement_id = world.accepted(**terms)
    world.ok(world.proposer, f.dispute(agreement_id))
    if path == "rule":
        a = world.agreement(agreement_id)
        pot = a["price"] + a["proposerBond"] + a["counterpartyBond"]
        return agreement_id, world.arbitrator, f.rule(agreement_id, pot)  # all to the proposer
    world.at(world.agreement(agreement_id)["ruleBy"] + 1)
    return agreement_id, world.stranger, f.arbitratorTimeout(agreement_id)


def expected_outcome(
    world: World, path: str
) -> tuple[int, dict[str, int], list[tuple[str, bytes]]]:
    """``(state, balance delta, records)`` of ``open_for(world, path)`` on default terms."""
    p, c, a = world.proposer.address, world.counterparty.address, world.arbitrator.address
    held = -(DEPOSIT + C_BOND)
    if path == "release":
        delta = {
            "counterparty": PRICE + C_BOND,
            "proposer": P_BOND,
            "arbitrator": FEE,
            "escrow": held,
        }
        return RELEASED, delta, [(p, COMPLETED), (c, COMPLETED)]
    if path == "timeout":
        return TIMED_OUT, expected_timeout_delta(world.policy), [(p, DEFAULTED), (c, DEFAULTED)]
    if path == "rule":
        return RULED, {"proposer": POT, "arbitrator": FEE, "escrow": held}, [(p, WON), (c, LOST)]
    delta = {"proposer": DEPOSIT, "counterparty": C_BOND, "escrow": held, "sink": SLASH}
    return ARB_TIMED_OUT, delta, [(a, NO_SHOW)]


def recorded(world: World, agreement_id: int, records: list[tuple[str, bytes]]) -> list[bool]:
    """Whether each ``(subject, schema)`` record of the agreement is valid in the registry."""
    is_valid = world.reputation.functions.isValid
    uids = [expected_uid(world.escrow.address, agreement_id, s, schema) for s, schema in records]
    return [is_valid(uid).call() for uid in uids]


@pytest.mark.parametrize("path", TERMINAL_PATHS)
@pytest.mark.parametrize("issuer", ["never_registered", "removed_mid_agreement"])
def test_terminal_transition_pays_out_when_registry_rejects_records(
    real_world: World, path: str, issuer: str
):
    w = real_world
    if issuer == "removed_mid_agreement":
        set_issuer(w, True)
    agreement_id, caller, call = open_for(w, path)
    if issuer == "removed_mid_agreement":
        set_issuer(w, False)
    state, delta, records = expected_outcome(w, path)
    before = w.balances()
    rec = w.ok(caller, call)
    assert w.delta(before) == delta
    assert w.state(agreement_id) == state
    assert w.balance(w.escrow.address) == 0
    assert w.escrow.functions.openObligations().call() == 0
    failed = w.events(rec, "EscrowAttestationFailed")
    assert [(e["id"], e["subject"], e["schema"]) for _, e in failed] == [
        (agreement_id, subject, schema) for subject, schema in records
    ]
    rejection = f"ReputationIssuerNotRegistered({w.escrow.address})"
    assert [w.chain.abi.decode_revert(e["reason"]) for _, e in failed] == [rejection] * len(records)
    # registering again would revive records made earlier, so this shows none was made
    set_issuer(w, True)
    assert recorded(w, agreement_id, records) == [False] * len(records)


@pytest.mark.parametrize("path", TERMINAL_PATHS)
def test_terminal_transition_records_and_emits_no_failure_when_registered(
    real_world: World, path: str
):
    w = real_world
    set_issuer(w, True)
    agreement_id, caller, call = open_for(w, path)
    state, delta, records = expected_outcome(w, path)
    before = w.balances()
    rec = w.ok(caller, call)
    assert (w.delta(before), w.state(agreement_id)) == (delta, state)
    assert w.events(rec, "EscrowAttestationFailed") == []
    assert recorded(w, agreement_id, records) == [True] * len(records)
    for subject, schema in records:
        assert w.reputation.functions.score(subject, schema).call() == [1, 1]


# ---------------------------------------------------------------------------------------------
# gas griefing: a caller cannot starve the reputation call and still settle
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    status: int
    revert_reason: str | None
    recorded: bool


def probe(
    world: World,
    agreement_id: int,
    caller: LocalAccount,
    call: Any,
    records: list[tuple[str, bytes]],
    gas: int,
) -> Probe:
    """Send the terminal ``call`` with ``gas`` on a snapshot and report what it did."""
    snapshot = world.chain.snapshot()
    try:
        rec = send(world.chain, caller, call, gas=gas)
        done = all(recorded(world, agreement_id, records))
        return Probe(rec.status, rec.revert_reason, done)
    finally:
        world.chain.revert(snapshot)


def lowest_gas(
    attempt: Callable[[int], Probe], lo: int, hi: int, holds: Callable[[Probe], bool]
) -> int:
    """Binary search: the lowest gas in ``(lo, hi]`` at which ``holds(attempt(gas))``."""
    assert not holds(attempt(lo)) and holds(attempt(hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if holds(attempt(mid)):
            hi = mid
        else:
            lo = mid
    return hi


# A registry whose records cost ~550k gas more than they do today (expanding memory to
# BALLAST bytes costs 3w + w^2/512 gas for w words, in one step). The 1/64 of its gas that a
# starved call hands back must cover what the escrow still does after it (at least the 2,300
# gas an SSTORE needs for the reentrancy guard); MockReputation (~175k a record) and Reputation
# (~100k) hand back too little for that, so only this registry exposes an escrow that swallowed
# an out-of-gas failure. Inline because the mocks are not part of this change's files.
HUNGRY_REPUTATION = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract HungryReputation {
    struct Attestation {
        address issuer;
        address subject;
        bytes32 schema;
        int256 value;
        uint64 expiry;
        bytes32 uid;
    }

    uint256 public immutable ballast;
    mapping(bytes32 uid => bool) public isValid;

    constructor(uint256 ballast_) {
        ballast = ballast_;
    }

    function attestDealing(Attestation calldata attestation, address, uint256) external {
        isValid[attestation.uid] = new bytes(ballast).length == ballast;
    }
}
"""
BALLAST = 512_000


@pytest.fixture(scope="module")
def hungry_world(
    testbed_base_chain: Chain, escrow_artifacts: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A RefundBoth escrow on mocks whose registry is HungryReputation."""
    source = tmp_path_factory.mktemp("hungry") / "HungryReputation.sol"
    source.write_text(HUNGRY_REPUTATION)
    artifact = compile_files([source], root=ROOT).get("HungryReputation")
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        registry = chain.deploy(artifact, BALLAST, gas=DEPLOY_GAS)
        yield build_world(chain, escrow_artifacts, registry=registry)
    finally:
        chain.revert(snapshot)


@pytest.fixture(params=["mock_registry", "real_registry", "hungry_registry"])
def registered_world(
    request: pytest.FixtureRequest,
    worlds: dict[str, Any],
    real_worlds: dict[int, World],
    hungry_world: World,
    chain: Chain,
) -> World:
    """A RefundBoth escrow whose records are accepted, in each of the three registries."""
    if request.param == "mock_registry":
        return worlds["refund_both"]
    if request.param == "hungry_registry":
        return hungry_world
    world = real_worlds[REFUND_BOTH]
    set_issuer(world, True)
    return world


@pytest.mark.parametrize("path", TERMINAL_PATHS)
@pytest.mark.parametrize("value", ["zero_value", "default_terms"])
def test_no_gas_limit_settles_without_recording(registered_world: World, path: str, value: str):
    """Around the gas limit at which the records start to land, every success carries them all.

    Binary search finds the lowest gas limit that records everything (the one below is the
    highest that does not) and the lowest that succeeds: they must coincide, and a band below
    them must fail too. Zero-value agreements (reputation only, nothing paid after the
    records) are where a starved registry call leaves the escrow the most room to finish, so
    there the probes must include limits at which the registry call starved and the escrow
    refused with EscrowAttestationOutOfGas.
    """
    w = registered_world
    zero = {"price": 0, "proposerBond": 0, "counterpartyBond": 0, "arbitratorFee": 0}
    agreement_id, caller, call = open_for(w, path, **(zero if value == "zero_value" else {}))
    records = expected_outcome(w, path)[2]
    if path == "rule" and value == "zero_value":
        records = [(w.proposer.address, WON), (w.counterparty.address, WON)]  # a pot of 0: a draw
    cache: dict[int, Probe] = {}

    def attempt(gas: int) -> Probe:
        if gas not in cache:
            cache[gas] = probe(w, agreement_id, caller, call, records, gas)
        return cache[gas]

    lo = 30_000
    recording = lowest_gas(attempt, lo, GAS, lambda p: p.recorded)
    assert lowest_gas(attempt, lo, GAS, lambda p: p.status == 1) == recording
    for gas in [*range(recording - recording // 16, recording, recording // 256), recording - 1]:
        attempt(gas)
    assert all(p.recorded for p in cache.values() if p.status == 1)
    out_of_gas = OUT_OF_GAS.format(id=agreement_id)
    starved = [gas for gas, p in cache.items() if p.revert_reason == out_of_gas]
    assert all(gas < recording for gas in starved)
    if value == "zero_value":
        assert starved
