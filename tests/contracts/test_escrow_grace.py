"""The deadline-grace variant of Escrow (issue 7, congestion scenario).

With ``gracePeriod`` G, confirm and dispute stay open until ``deliverBy + G`` inclusive and
timeout opens only after it; the deadline errors report that effective deadline. The boundary
tests run against every variant (both timeout policies, with grace 0 and with grace G), so the
plain escrow's behaviour is checked side by side with the grace variant. Deployments come from
the escrow suite's helpers (``test_escrow.build_world``); the last tests check that the escrow
agents act on the effective deadline.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from test_escrow import (
    ACCEPTED,
    C_BOND,
    DEPOSIT,
    DISPUTED,
    FEE,
    P_BOND,
    POT,
    PRICE,
    REFUND_BOTH,
    RELEASED,
    ROOT,
    RULED,
    SLASH_BOTH,
    SOURCES,
    TIMED_OUT,
    WINDOW,
    World,
    build_world,
    expected_timeout_delta,
)

from agentbed.agents.agent import AgentView
from agentbed.agents.economy.strategies.escrow import ServiceBuyer, ServiceSeller
from agentbed.agents.economy.world import TOKEN, Deal, Economy
from agentbed.chain.compiler import compile_files
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.node import Chain

GRACE = 600
MAX_GRACE = 2**64 - 1
POLICIES = {"refund_both": REFUND_BOTH, "slash_both": SLASH_BOTH}
VARIANTS = {
    f"{name}-grace{grace}": (policy, grace)
    for name, policy in POLICIES.items()
    for grace in (0, GRACE)
}


@dataclass(frozen=True)
class Variant:
    """One escrow deployment and the grace period it was deployed with."""

    world: World
    grace: int

    def effective_deadline(self, agreement_id: int) -> int:
        return self.world.agreement(agreement_id)["deliverBy"] + self.grace


@pytest.fixture(scope="session")
def grace_artifacts() -> Any:
    return compile_files(SOURCES, root=ROOT)


@pytest.fixture(scope="module")
def variants(testbed_base_chain: Chain, grace_artifacts: Any) -> Iterator[dict[str, Variant]]:
    """Every (policy, grace) deployment, built once; each test runs on a fresh snapshot."""
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield {
            name: Variant(
                build_world(chain, grace_artifacts, policy=policy, grace_period=grace), grace
            )
            for name, (policy, grace) in VARIANTS.items()
        }
    finally:
        chain.revert(snapshot)


@pytest.fixture(params=list(VARIANTS))
def variant(request: pytest.FixtureRequest, variants: dict[str, Variant], chain: Chain) -> Variant:
    """The same deadline suite against both policies, without and with a grace period."""
    return variants[request.param]


@pytest.fixture(params=list(POLICIES))
def graced(request: pytest.FixtureRequest, variants: dict[str, Variant], chain: Chain) -> Variant:
    """The grace variant under each timeout policy."""
    return variants[f"{request.param}-grace{GRACE}"]


# ---------------------------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------------------------


def test_constructor_sets_grace_period(variant: Variant):
    assert variant.world.escrow.functions.gracePeriod().call() == variant.grace


def test_revert_when_grace_period_exceeds_uint64(chain: Chain, grace_artifacts: Any):
    token = chain.deploy(grace_artifacts.get("MockERC20"), "Agent", "AGT")
    args = (token.address, token.address, token.address, 0, WINDOW, REFUND_BOTH, 0, token.address)
    escrow = chain.deploy(grace_artifacts.get("Escrow"), *args, MAX_GRACE)
    assert escrow.functions.gracePeriod().call() == MAX_GRACE
    with pytest.raises(ExecutionReverted) as err:
        chain.deploy(grace_artifacts.get("Escrow"), *args, MAX_GRACE + 1)
    assert err.value.reason == f"EscrowInvalidGracePeriod({MAX_GRACE + 1})"


def test_largest_grace_period_cannot_overflow_the_deadline(chain: Chain, grace_artifacts: Any):
    world = build_world(chain, grace_artifacts, grace_period=MAX_GRACE)
    agreement_id = world.accepted()
    deadline = world.agreement(agreement_id)["deliverBy"] + MAX_GRACE
    world.at(world.agreement(agreement_id)["deliverBy"] + 10**6)
    world.fails(
        world.stranger,
        world.escrow.functions.timeout(agreement_id),
        f"EscrowDeadlineNotReached({agreement_id}, {deadline})",
    )
    world.ok(world.proposer, world.escrow.functions.confirm(agreement_id))
    world.ok(world.counterparty, world.escrow.functions.confirm(agreement_id))
    assert world.state(agreement_id) == RELEASED


# ---------------------------------------------------------------------------------------------
# the effective delivery deadline, deliverBy + grace, at T and T+1 (every variant)
# ---------------------------------------------------------------------------------------------


def test_confirm_at_effective_deadline_releases(variant: Variant):
    w = variant.world
    agreement_id = w.accepted()
    w.ok(w.counterparty, w.escrow.functions.confirm(agreement_id))
    w.at(variant.effective_deadline(agreement_id))
    before = w.balances()
    rec = w.ok(w.proposer, w.escrow.functions.confirm(agreement_id))
    assert w.state(agreement_id) == RELEASED
    assert w.delta(before) == {
        "proposer": P_BOND,
        "counterparty": PRICE + C_BOND,
        "arbitrator": FEE,
        "escrow": -(DEPOSIT + C_BOND),
    }
    released = {"id": agreement_id, "toCounterparty": PRICE + C_BOND}
    released |= {"toProposer": P_BOND, "fee": FEE}
    assert w.events(rec, "EscrowReleased") == [("EscrowReleased", released)]


@pytest.mark.parametrize("action", ["confirm", "dispute"])
def test_revert_when_confirm_or_dispute_after_effective_deadline(variant: Variant, action: str):
    w = variant.world
    agreement_id = w.accepted()
    deadline = variant.effective_deadline(agreement_id)
    w.at(deadline + 1)
    call = getattr(w.escrow.functions, action)(agreement_id)
    w.fails(w.proposer, call, f"EscrowDeadlinePassed({agreement_id}, {deadline})")
    assert w.state(agreement_id) == ACCEPTED


def test_revert_when_timeout_at_effective_deadline(variant: Variant):
    w = variant.world
    agreement_id = w.accepted()
    deadline = variant.effective_deadline(agreement_id)
    w.at(deadline)
    call = w.escrow.functions.timeout(agreement_id)
    w.fails(w.stranger, call, f"EscrowDeadlineNotReached({agreement_id}, {deadline})")
    assert w.state(agreement_id) == ACCEPTED


def test_timeout_after_effective_deadline_applies_policy(variant: Variant):
    w = variant.world
    agreement_id = w.accepted()
    w.at(variant.effective_deadline(agreement_id) + 1)
    before = w.balances()
    rec = w.ok(w.stranger, w.escrow.functions.timeout(agreement_id))
    assert w.state(agreement_id) == TIMED_OUT
    assert w.delta(before) == expected_timeout_delta(w.policy)
    slashed = P_BOND + C_BOND if w.policy == SLASH_BOTH else 0
    timed_out = {"id": agreement_id, "policy": w.policy, "slashed": slashed}
    assert w.events(rec) == [("EscrowTimedOut", timed_out)]
    assert w.attestations() == [
        (w.proposer.address, "defaulted"),
        (w.counterparty.address, "defaulted"),
    ]


def test_dispute_at_effective_deadline_opens_ruling_window(variant: Variant):
    w = variant.world
    agreement_id = w.accepted()
    deadline = variant.effective_deadline(agreement_id)
    w.at(deadline)
    rec = w.ok(w.counterparty, w.escrow.functions.dispute(agreement_id))
    assert w.state(agreement_id) == DISPUTED
    disputed = {"id": agreement_id, "party": w.counterparty.address, "ruleBy": deadline + WINDOW}
    assert w.events(rec) == [("EscrowDisputed", disputed)]
    w.ok(w.arbitrator, w.escrow.functions.rule(agreement_id, POT))
    assert w.state(agreement_id) == RULED


# ---------------------------------------------------------------------------------------------
# inside the grace (grace variant only)
# ---------------------------------------------------------------------------------------------


def test_confirmations_after_deliver_by_inside_grace_release(graced: Variant):
    w = graced.world
    agreement_id = w.accepted()
    deliver_by = w.agreement(agreement_id)["deliverBy"]
    w.at(deliver_by + 1)
    w.ok(w.counterparty, w.escrow.functions.confirm(agreement_id))
    w.at(deliver_by + GRACE // 2)
    w.ok(w.proposer, w.escrow.functions.confirm(agreement_id))
    assert w.state(agreement_id) == RELEASED
    assert w.attestations() == [
        (w.proposer.address, "completed"),
        (w.counterparty.address, "completed"),
    ]


def test_late_confirmation_inside_grace_counts_at_timeout(graced: Variant):
    w = graced.world
    agreement_id = w.accepted()
    w.at(w.agreement(agreement_id)["deliverBy"] + 1)
    w.ok(w.counterparty, w.escrow.functions.confirm(agreement_id))
    w.at(graced.effective_deadline(agreement_id) + 1)
    w.ok(w.stranger, w.escrow.functions.timeout(agreement_id))
    # only the party that never confirmed defaulted: the late delivery was recorded
    assert w.attestations() == [(w.proposer.address, "defaulted")]


def test_grace_extends_neither_acceptance_nor_ruling(graced: Variant):
    w = graced.world
    proposal, _ = w.propose()
    accept_by = w.agreement(proposal)["acceptBy"]
    w.at(accept_by + 1)
    call = w.escrow.functions.accept(proposal)
    w.fails(w.counterparty, call, f"EscrowDeadlinePassed({proposal}, {accept_by})")
    w.ok(w.stranger, w.escrow.functions.expire(proposal))
    disputed = w.disputed()
    rule_by = w.agreement(disputed)["ruleBy"]
    w.at(rule_by + 1)
    call = w.escrow.functions.rule(disputed, POT)
    w.fails(w.arbitrator, call, f"EscrowDeadlinePassed({disputed}, {rule_by})")
    w.ok(w.stranger, w.escrow.functions.arbitratorTimeout(disputed))


# ---------------------------------------------------------------------------------------------
# the escrow agents act on the effective deadline
# ---------------------------------------------------------------------------------------------


def test_economy_deploys_the_grace_variant():
    chain = Chain(seed=7, accounts=3)
    economy = Economy.deploy(chain, grace_period=GRACE)
    assert economy.grace_period == GRACE
    assert economy.escrow.functions.gracePeriod().call() == GRACE
    with pytest.raises(ValueError, match="grace_period"):
        Economy.deploy(chain, grace_period=-1)


@pytest.mark.parametrize("grace", [0, GRACE])
def test_agents_deliver_until_and_time_out_after_the_effective_deadline(grace: int):
    chain = Chain(seed=7, accounts=5)
    economy = Economy.deploy(chain, grace_period=grace)
    buyer_account, seller_account, arbitrator = chain.accounts[2:5]
    buyer = ServiceBuyer("buyer", buyer_account, random.Random(1), demand=0.0, dispute_prob=0.0)
    seller = ServiceSeller("seller", seller_account, random.Random(2))
    now, step = chain.head.timestamp, economy.block_interval_s

    def deal(agreement_id: int, deliver_by: int) -> Deal:
        return Deal(
            agreement_id,
            buyer.address,
            seller.address,
            arbitrator.address,
            price=10 * TOKEN,
            proposer_bond=TOKEN,
            counterparty_bond=TOKEN,
            fee=TOKEN,
            accept_by=deliver_by - 1,
            deliver_by=deliver_by,
            state="Accepted",
        )

    # effective deadline one block ahead: still deliverable, too early to time out
    economy.deals[1] = deal(1, now + step - grace)
    # effective deadline reached: a timeout sent now is mined after it, a delivery would not be
    economy.deals[2] = deal(2, now - grace)
    view = AgentView(
        now_ms=now * 1000,
        reason="block",
        head=chain.head,
        base_fee=chain.base_fee,
        nonce=0,
        confirmed_nonce=0,
        pending=(),
        trigger=None,
        new_blocks=(),
        reader=chain,
        market=economy,
    )
    delivered = [(a.meta["escrow"], a.label) for a in seller.observe(view)]
    timed_out = [(a.meta["escrow"], a.label) for a in buyer.observe(view)]
    assert delivered == [(1, "deliver")]
    assert timed_out == [(2, "timeout")]
