"""Issue 15's first two flaws, reproduced against the real Staking and Reputation.

1. Arbitrator griefing: a proposer and its own second account name a staked stranger as
   arbitrator of zero-value agreements, dispute, let the ruling window pass and call
   ``arbitratorTimeout``. On the plain ``Escrow`` three rounds take the victim's stake from 200
   to 50 (below the 100 minimum) with three no-show records at zero token cost; on
   ``ConsentEscrow`` the victim never signed, so nothing happens to its stake.
2. Sybil reputation farming: five zero-value escrows between two accounts of one attacker raise
   ``score(attacker, COMPLETED)``'s raw count from 0 to 5 (kept, and still true); the weighted
   score buyers use (``weightedScore``: value at stake, distinct counterparties) stays at 0.

Plus the property: no arbitrator's stake changes without the arbitrator's prior consent
(hypothesis, on the consent variant).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from txkit import tx_helpers

from agentbed.agents.economy.consent import Terms, consent_digest, sign_consent
from agentbed.chain.compiler import compile_files
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "contracts" / "Escrow.sol",
    ROOT / "contracts" / "ConsentEscrow.sol",
    ROOT / "contracts" / "Staking.sol",
    ROOT / "contracts" / "Reputation.sol",
    ROOT / "contracts" / "mocks" / "MockERC20.sol",
]
GAS = 1_500_000
DEPLOY_GAS = 8_000_000
MIN_STAKE, VICTIM_STAKE, SLASH = 100, 200, 50
WINDOW = 3_600
SLASH_BOTH = 1
SINK = "0x000000000000000000000000000000000000511C"
FUNDS = 10**9
COMPLETED = keccak(text="escrow.completed")
NO_SHOW = keccak(text="escrow.arbitrator-no-show")
VARIANTS = ("Escrow", "ConsentEscrow")

send, ok, reverts = tx_helpers(GAS)


@pytest.fixture(scope="module")
def attack_artifacts() -> Any:
    return compile_files(SOURCES, root=ROOT)


@dataclass(frozen=True)
class Arena:
    """An escrow variant on the real registry and staking, with a staked victim arbitrator."""

    chain: Chain
    variant: str
    token: Any
    staking: Any
    reputation: Any
    escrow: Any
    attacker: LocalAccount
    sybil: LocalAccount
    victim: LocalAccount
    stranger: LocalAccount

    def terms(self, arbitrator: str, value: int = 0, fee: int = 0) -> Terms:
        now = self.chain.head.timestamp
        return Terms(self.sybil.address, arbitrator, value, 0, 0, fee, now + 100, now + 200)

    def propose(self, terms: Terms, signer: LocalAccount | None, salt: int = 0) -> Any:
        """The attacker's proposal: the plain call, or with ``signer``'s consent signature."""
        if signer is None:
            return send(self.chain, self.attacker, self.escrow.functions.propose(*terms.as_tuple()))
        salt_bytes = salt.to_bytes(32, "big")
        signature = (
            sign_consent(
                signer,
                self.attacker.address,
                terms,
                salt_bytes,
                chain_id=self.chain.chain_id,
                escrow=self.escrow.address,
            )
            if signer.address == terms.arbitrator
            else _forged(self, signer, terms, salt_bytes)
        )
        call = self.escrow.functions.proposeWithConsent(terms.as_tuple(), salt_bytes, signature)
        return send(self.chain, self.attacker, call)

    def stake(self) -> int:
        return int(self.staking.functions.stakeOf(self.victim.address).call())

    def balances(self) -> tuple[int, int]:
        of = self.token.functions.balanceOf
        return of(self.attacker.address).call(), of(self.sybil.address).call()


def _forged(arena: Arena, signer: LocalAccount, terms: Terms, salt: bytes) -> bytes:
    """``signer``'s signature over the consent digest of ``terms`` it is not the arbitrator of."""
    digest = consent_digest(
        arena.attacker.address,
        terms,
        salt,
        chain_id=arena.chain.chain_id,
        escrow=arena.escrow.address,
    )
    signed = signer.unsafe_sign_hash(digest)
    return bytes(signed.signature)


def build_arena(chain: Chain, artifacts: Any, variant: str) -> Arena:
    deployer, attacker, sybil, victim, stranger = chain.accounts[:5]

    def deploy(name: str, *args: Any) -> Any:
        return chain.deploy(artifacts.get(name), *args, gas=DEPLOY_GAS)

    token = deploy("MockERC20", "Agent", "AGT")
    staking = deploy("Staking", token.address, 86_400, SINK, deployer.address)
    reputation = deploy("Reputation", deployer.address)
    args = (MIN_STAKE, WINDOW, SLASH_BOTH, SLASH, SINK, 0)
    escrow = deploy(variant, token.address, staking.address, reputation.address, *args)
    role = staking.functions.SLASHER_ROLE().call()
    ok(chain, deployer, staking.functions.grantRole(role, escrow.address))
    ok(chain, deployer, reputation.functions.registerIssuer(escrow.address))
    for account in (attacker, sybil, victim, stranger):
        ok(chain, deployer, token.functions.mint(account.address, FUNDS))
        ok(chain, account, token.functions.approve(escrow.address, 2**256 - 1))
    ok(chain, victim, token.functions.approve(staking.address, VICTIM_STAKE))
    ok(chain, victim, staking.functions.stake(VICTIM_STAKE))
    return Arena(
        chain, variant, token, staking, reputation, escrow, attacker, sybil, victim, stranger
    )


@pytest.fixture(scope="module")
def arenas(testbed_base_chain: Chain, attack_artifacts: Any) -> Iterator[dict[str, Arena]]:
    """Both variants, built once; each test runs on a snapshot (see ``arena``)."""
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield {variant: build_arena(chain, attack_artifacts, variant) for variant in VARIANTS}
    finally:
        chain.revert(snapshot)


@pytest.fixture(params=VARIANTS)
def arena(request: pytest.FixtureRequest, arenas: dict[str, Arena]) -> Iterator[Arena]:
    chosen = arenas[request.param]
    snapshot = chosen.chain.snapshot()
    try:
        yield chosen
    finally:
        chosen.chain.revert(snapshot)


def grief_round(arena: Arena, signer: LocalAccount | None) -> bool:
    """One zero-value appointment the attacker drives to an arbitrator timeout; False if refused."""
    rec = arena.propose(arena.terms(arena.victim.address), signer)
    if rec.status == 0:
        return False
    agreement_id = arena.escrow.functions.agreementCount().call()
    ok(arena.chain, arena.sybil, arena.escrow.functions.accept(agreement_id))
    ok(arena.chain, arena.attacker, arena.escrow.functions.dispute(agreement_id))
    rule_by = arena.escrow.functions.agreement(agreement_id).call()[8]
    arena.chain.set_next_block_time((rule_by + 1) * 1000)
    ok(arena.chain, arena.stranger, arena.escrow.functions.arbitratorTimeout(agreement_id))
    return True


# ---------------------------------------------------------------------------------------------
# flaw 1: arbitrators appointed and slashed without consent
# ---------------------------------------------------------------------------------------------


def test_griefing_drains_victim_on_plain_escrow_only(arena: Arena):
    before = arena.balances()
    # On the plain escrow the attacker needs no consent; on the fixed one it tries the plain
    # call, then a consent it signed itself.
    for _ in range(3):
        if arena.variant == "Escrow":
            assert grief_round(arena, None)
        else:
            assert not grief_round(arena, None)
            assert not grief_round(arena, arena.attacker)
    no_shows = arena.reputation.functions.score(arena.victim.address, NO_SHOW).call()[1]
    terms = arena.terms(arena.victim.address)
    if arena.variant == "Escrow":
        assert arena.stake() == 50
        assert no_shows == 3
        assert arena.balances() == before  # zero token cost to the attacker
        reason = reverts(
            arena.chain, arena.attacker, arena.escrow.functions.propose(*terms.as_tuple())
        )
        assert reason.startswith("EscrowArbitratorNotEligible(")
    else:
        assert arena.stake() == VICTIM_STAKE
        assert no_shows == 0


def test_plain_propose_reverts_on_consent_escrow(arenas: dict[str, Arena]):
    arena = arenas["ConsentEscrow"]
    terms = arena.terms(arena.victim.address)
    reason = reverts(arena.chain, arena.attacker, arena.escrow.functions.propose(*terms.as_tuple()))
    assert reason == f"EscrowConsentRequired({arena.victim.address})"


def test_forged_consent_reverts_with_signer(arenas: dict[str, Arena]):
    arena = arenas["ConsentEscrow"]
    rec = arena.propose(arena.terms(arena.victim.address), arena.attacker)
    assert rec.status == 0
    assert rec.revert_reason == (
        f"EscrowInvalidConsent({arena.victim.address}, {arena.attacker.address})"
    )


def test_consent_digest_matches_contract(arenas: dict[str, Arena]):
    arena = arenas["ConsentEscrow"]
    terms = arena.terms(arena.victim.address, value=7, fee=3)
    salt = (42).to_bytes(32, "big")
    on_chain = arena.escrow.functions.consentDigest(
        arena.attacker.address, terms.as_tuple(), salt
    ).call()
    local = consent_digest(
        arena.attacker.address,
        terms,
        salt,
        chain_id=arena.chain.chain_id,
        escrow=arena.escrow.address,
    )
    assert bytes(on_chain) == local


def test_consent_binds_fee_and_serves_one_appointment(arenas: dict[str, Arena]):
    arena = arenas["ConsentEscrow"]
    snapshot = arena.chain.snapshot()
    try:
        terms = arena.terms(arena.victim.address, value=10, fee=2)
        salt = (1).to_bytes(32, "big")
        signature = sign_consent(
            arena.victim,
            arena.attacker.address,
            terms,
            salt,
            chain_id=arena.chain.chain_id,
            escrow=arena.escrow.address,
        )
        propose = arena.escrow.functions.proposeWithConsent
        # A lower fee than the arbitrator signed for is another agreement: refused.
        cheaper = Terms(*terms.as_tuple()[:5], 1, terms.accept_by, terms.deliver_by)
        reason = reverts(arena.chain, arena.attacker, propose(cheaper.as_tuple(), salt, signature))
        assert reason.startswith("EscrowInvalidConsent(")
        rec = ok(arena.chain, arena.attacker, propose(terms.as_tuple(), salt, signature))
        consented = [
            log.event.args
            for log in rec.logs
            if log.event and log.event.name == "EscrowArbitratorConsented"
        ]
        assert [args["arbitrator"] for args in consented] == [arena.victim.address]
        agreement = arena.escrow.functions.agreement(1).call()
        assert agreement[12] == 2  # the fee signed for is the fee escrowed
        reason = reverts(arena.chain, arena.attacker, propose(terms.as_tuple(), salt, signature))
        assert reason.startswith("EscrowConsentUsed(")
    finally:
        arena.chain.revert(snapshot)


@settings(max_examples=12, deadline=None)
@given(
    rounds=st.lists(
        st.tuples(st.sampled_from(["none", "attacker", "victim"]), st.booleans()),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_no_stake_change_without_prior_consent(arenas: dict[str, Arena], rounds: list[Any]):
    """On the consent variant, the victim's stake falls only in rounds it signed a consent for,
    by at most the slash amount each, whatever the attacker signs or skips."""
    arena = arenas["ConsentEscrow"]
    snapshot = arena.chain.snapshot()
    try:
        for index, (signer_name, grief) in enumerate(rounds):
            signer = {"none": None, "attacker": arena.attacker, "victim": arena.victim}[signer_name]
            before = arena.stake()
            terms = arena.terms(arena.victim.address)
            rec = arena.propose(terms, signer, salt=index)
            consented = signer is arena.victim
            assert (rec.status == 1) == (consented and before >= MIN_STAKE)
            if rec.status == 1 and grief:
                agreement_id = arena.escrow.functions.agreementCount().call()
                ok(arena.chain, arena.sybil, arena.escrow.functions.accept(agreement_id))
                ok(arena.chain, arena.attacker, arena.escrow.functions.dispute(agreement_id))
                rule_by = arena.escrow.functions.agreement(agreement_id).call()[8]
                arena.chain.set_next_block_time((rule_by + 1) * 1000)
                call = arena.escrow.functions.arbitratorTimeout(agreement_id)
                ok(arena.chain, arena.stranger, call)
            after = arena.stake()
            if not consented:
                assert after == before
            else:
                assert before - after in (0, SLASH)
    finally:
        arena.chain.revert(snapshot)


# ---------------------------------------------------------------------------------------------
# flaw 2: reputation farmed by a sybil for gas alone
# ---------------------------------------------------------------------------------------------


def _complete(arena: Arena, counterparty: LocalAccount, value: int, salt: int) -> None:
    """An agreement of ``value`` between the attacker and ``counterparty``, released."""
    now = arena.chain.head.timestamp
    terms = Terms(counterparty.address, arena.victim.address, value, 0, 0, 0, now + 100, now + 200)
    consent = arena.victim if arena.variant == "ConsentEscrow" else None
    if consent is None:
        ok(arena.chain, arena.attacker, arena.escrow.functions.propose(*terms.as_tuple()))
    else:
        salt_bytes = salt.to_bytes(32, "big")
        signature = sign_consent(
            consent,
            arena.attacker.address,
            terms,
            salt_bytes,
            chain_id=arena.chain.chain_id,
            escrow=arena.escrow.address,
        )
        call = arena.escrow.functions.proposeWithConsent(terms.as_tuple(), salt_bytes, signature)
        ok(arena.chain, arena.attacker, call)
    agreement_id = arena.escrow.functions.agreementCount().call()
    ok(arena.chain, counterparty, arena.escrow.functions.accept(agreement_id))
    ok(arena.chain, arena.attacker, arena.escrow.functions.confirm(agreement_id))
    ok(arena.chain, counterparty, arena.escrow.functions.confirm(agreement_id))


def test_sybil_farming_raises_raw_count_but_not_weighted_score(arena: Arena):
    score = arena.reputation.functions.score
    weighted = arena.reputation.functions.weightedScore
    assert score(arena.attacker.address, COMPLETED).call() == [0, 0]
    for salt in range(5):
        _complete(arena, arena.sybil, 0, salt)
    # The raw count is kept and still farmable: the reproduction of the issue.
    assert score(arena.attacker.address, COMPLETED).call() == [5, 5]
    # The score buyers use counts nothing for deals with nothing at stake.
    assert weighted(arena.attacker.address, COMPLETED, 1).call() == [0, 0]


def test_weighted_score_counts_distinct_counterparties_and_value(arena: Arena):
    weighted = arena.reputation.functions.weightedScore
    for salt in range(3):
        _complete(arena, arena.sybil, 10, salt)
    # Three deals worth 10 with one sybil: 30 at stake, but one counterparty.
    assert weighted(arena.attacker.address, COMPLETED, 1).call() == [30, 1]
    _complete(arena, arena.stranger, 20, 3)
    assert weighted(arena.attacker.address, COMPLETED, 1).call() == [50, 2]
    # Deals below the buyer's threshold do not count.
    assert weighted(arena.attacker.address, COMPLETED, 15).call() == [20, 1]
    assert weighted(arena.sybil.address, COMPLETED, 0).call() == [30, 1]
