"""Behaviour of contracts/Reputation.sol: issuer registry, signed and direct attestations,
revocation, query-time scores, EIP-712 replay variants, authorization and expiry edges.

Reads that depend on time (``isValid``/``score`` with expiring attestations) go through
``ScoreProbe`` inside a transaction, so they see a block timestamp the test chose: an
``eth_call`` here runs in py-evm's costless state, whose ``block.timestamp`` is the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from txkit import events, tx_helpers

from agentbed.agents.economy.reputation import (
    SECP256K1_N,
    Attestation,
    attestation_digest,
    recover_signer,
    schema_id,
    sign_attestation,
    typed_data,
)
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schema_id("escrow.completed")
OTHER_SCHEMA = schema_id("escrow.defaulted")
ZERO = "0x0000000000000000000000000000000000000000"
ADMIN_ROLE = "0x" + "00" * 32
GAS = 1_000_000


# ---------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------


PROBE_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IReputationReader {
    function score(address subject, bytes32 schema) external view returns (int256, uint256);
    function isValid(bytes32 uid) external view returns (bool);
}

/// @notice Reads Reputation views inside a transaction, so they see the mined block's timestamp.
contract ScoreProbe {
    event Read(int256 total, uint256 count, bool valid, uint256 timestamp);

    function read(IReputationReader rep, address subject, bytes32 schema, bytes32 uid) external {
        (int256 total, uint256 count) = rep.score(subject, schema);
        emit Read(total, count, rep.isValid(uid), block.timestamp);
    }
}
"""


@pytest.fixture(scope="module")
def probe_artifact(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from agentbed.chain.compiler import compile_files

    path = tmp_path_factory.mktemp("probe") / "ScoreProbe.sol"
    path.write_text(PROBE_SOURCE)
    return compile_files([path], root=ROOT).get("ScoreProbe")


@pytest.fixture
def probe(chain: Chain, probe_artifact: Any) -> Any:
    return chain.deploy(probe_artifact)


_uids = iter(range(1, 10**9))


def make(
    issuer: LocalAccount | str,
    subject: LocalAccount | str,
    *,
    value: int = 5,
    expiry: int = 0,
    schema: bytes = SCHEMA,
    uid: bytes | None = None,
) -> Attestation:
    def addr(x: LocalAccount | str) -> str:
        return x if isinstance(x, str) else x.address

    return Attestation(
        issuer=addr(issuer),
        subject=addr(subject),
        schema=schema,
        value=value,
        expiry=expiry,
        uid=uid if uid is not None else keccak(text=f"uid-{next(_uids)}"),
    )


def sign(chain: Chain, rep: Any, account: LocalAccount, att: Attestation) -> bytes:
    return sign_attestation(account, att, chain_id=chain.chain_id, verifying_contract=rep.address)


send, ok, reverts = tx_helpers(GAS)


def attested(att: Attestation) -> tuple[str, dict[str, Any]]:
    return (
        "Attested",
        {
            "uid": att.uid,
            "issuer": att.issuer,
            "subject": att.subject,
            "schema": att.schema,
            "value": att.value,
            "expiry": att.expiry,
        },
    )


def b32(data: bytes) -> str:
    return "0x" + data.hex()


def score(rep: Any, subject: LocalAccount, schema: bytes = SCHEMA) -> tuple[int, int]:
    """``score`` by eth_call: only for attestations that never expire (see module docstring)."""
    total, count = rep.functions.score(subject.address, schema).call()
    return total, count


def mined_read(
    chain: Chain, probe: Any, rep: Any, subject: LocalAccount, uid: bytes, schema: bytes = SCHEMA
) -> tuple[int, int, bool]:
    """``score(subject, schema)`` and ``isValid(uid)`` as a transaction in the next block
    sees them."""
    call = probe.functions.read(rep.address, subject.address, schema, uid)
    rec = ok(chain, chain.accounts[0], call)
    ((name, args),) = events(rec)
    assert name == "Read"
    assert args["timestamp"] == chain.block(rec.block_number).timestamp
    return args["total"], args["count"], args["valid"]


# ---------------------------------------------------------------------------------------------
# issuer registry
# ---------------------------------------------------------------------------------------------


def test_constructor_grants_admin_role_to_the_given_admin(
    chain, reputation_artifact, admin, stranger
):
    rep = chain.deploy(reputation_artifact, stranger.address, sender=admin)
    assert rep.functions.hasRole(bytes(32), stranger.address).call()
    assert not rep.functions.hasRole(bytes(32), admin.address).call()
    assert not rep.functions.isIssuer(stranger.address).call()


def test_register_issuer_adds_it_and_emits_issuer_registered(chain, reputation, admin, stranger):
    rec = ok(chain, admin, reputation.functions.registerIssuer(stranger.address))
    assert events(rec) == [("IssuerRegistered", {"issuer": stranger.address})]
    assert reputation.functions.isIssuer(stranger.address).call()


def test_remove_issuer_removes_it_and_emits_issuer_removed(chain, reputation, admin, issuer):
    rec = ok(chain, admin, reputation.functions.removeIssuer(issuer.address))
    assert events(rec) == [("IssuerRemoved", {"issuer": issuer.address})]
    assert not reputation.functions.isIssuer(issuer.address).call()


def test_revert_when_registering_a_registered_issuer(chain, reputation, admin, issuer):
    reason = reverts(chain, admin, reputation.functions.registerIssuer(issuer.address))
    assert reason == f"ReputationIssuerUnchanged({issuer.address})"


def test_revert_when_removing_an_unregistered_issuer(chain, reputation, admin, stranger):
    reason = reverts(chain, admin, reputation.functions.removeIssuer(stranger.address))
    assert reason == f"ReputationIssuerUnchanged({stranger.address})"


# ---------------------------------------------------------------------------------------------
# attesting
# ---------------------------------------------------------------------------------------------


def test_attest_with_signature_by_any_submitter_records_and_emits(
    chain, reputation, probe, issuer, subject, stranger
):
    att = make(issuer, subject, value=7, expiry=chain.head.timestamp + 1_000)
    sig = sign(chain, reputation, issuer, att)
    rec = ok(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert events(rec) == [attested(att)]
    assert mined_read(chain, probe, reputation, subject, att.uid) == (7, 1, True)
    assert not reputation.functions.isRevoked(att.uid).call()


def test_attest_directly_records_and_emits(chain, reputation, issuer, subject):
    att = make(issuer, subject, value=-3)
    rec = ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    assert events(rec) == [attested(att)]
    assert reputation.functions.isValid(att.uid).call()
    assert score(reputation, subject) == (-3, 1)


def test_digest_matches_the_python_eip712_digest(chain, reputation, issuer, subject):
    att = make(issuer, subject, value=-(2**255), expiry=2**64 - 1)
    expected = attestation_digest(
        att, chain_id=chain.chain_id, verifying_contract=reputation.address
    )
    assert reputation.functions.digest(att.as_tuple()).call() == expected


def test_score_sums_valid_attestations_per_subject_and_schema(
    chain, reputation, admin, issuer, other_issuer, subject, stranger
):
    ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    for att, signer in [
        (make(issuer, subject, value=10), issuer),
        (make(other_issuer, subject, value=-4), other_issuer),
        (make(issuer, subject, value=1, schema=OTHER_SCHEMA), issuer),
        (make(issuer, stranger, value=100), issuer),
    ]:
        sig = sign(chain, reputation, signer, att)
        ok(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert score(reputation, subject) == (6, 2)
    assert score(reputation, subject, OTHER_SCHEMA) == (1, 1)
    assert score(reputation, stranger) == (100, 1)
    assert score(reputation, issuer) == (0, 0)


def test_revert_when_issuer_is_not_registered(chain, reputation, subject, stranger, other_issuer):
    att = make(other_issuer, subject)
    sig = sign(chain, reputation, other_issuer, att)
    expected = f"ReputationIssuerNotRegistered({other_issuer.address})"
    assert reverts(
        chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig)
    ) == (expected)
    assert reverts(chain, other_issuer, reputation.functions.attest(att.as_tuple())) == expected
    assert not reputation.functions.isValid(att.uid).call()


def test_revert_when_uid_is_reused_even_with_other_content(chain, reputation, issuer, subject):
    first = make(issuer, subject)
    ok(chain, issuer, reputation.functions.attest(first.as_tuple()))
    again = make(issuer, subject, value=99, uid=first.uid)
    reason = reverts(chain, issuer, reputation.functions.attest(again.as_tuple()))
    assert reason == f"ReputationDuplicateUid({b32(first.uid)})"
    assert score(reputation, subject) == (5, 1)


# ---------------------------------------------------------------------------------------------
# revoking and issuer removal
# ---------------------------------------------------------------------------------------------


def test_revoke_marks_revoked_emits_and_stops_counting(chain, reputation, issuer, subject):
    keep, drop = make(issuer, subject, value=2), make(issuer, subject, value=30)
    for att in (keep, drop):
        ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    rec = ok(chain, issuer, reputation.functions.revoke(drop.uid))
    assert events(rec) == [("Revoked", {"uid": drop.uid, "issuer": issuer.address})]
    assert reputation.functions.isRevoked(drop.uid).call()
    assert not reputation.functions.isValid(drop.uid).call()
    assert reputation.functions.isValid(keep.uid).call()
    assert score(reputation, subject) == (2, 1)


def test_revert_when_revoking_an_unknown_uid(chain, reputation, issuer):
    uid = keccak(text="never attested")
    reason = reverts(chain, issuer, reputation.functions.revoke(uid))
    assert reason == f"ReputationUnknownAttestation({b32(uid)})"


def test_revert_when_revoking_twice(chain, reputation, issuer, subject):
    att = make(issuer, subject)
    ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    ok(chain, issuer, reputation.functions.revoke(att.uid))
    reason = reverts(chain, issuer, reputation.functions.revoke(att.uid))
    assert reason == f"ReputationAlreadyRevoked({b32(att.uid)})"


def test_removed_issuer_stops_counting_and_counts_again_when_re_registered(
    chain, reputation, admin, issuer, other_issuer, subject
):
    ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    mine, theirs = make(issuer, subject, value=10), make(other_issuer, subject, value=1)
    ok(chain, issuer, reputation.functions.attest(mine.as_tuple()))
    ok(chain, other_issuer, reputation.functions.attest(theirs.as_tuple()))
    assert score(reputation, subject) == (11, 2)

    ok(chain, admin, reputation.functions.removeIssuer(issuer.address))
    assert score(reputation, subject) == (1, 1)
    assert not reputation.functions.isValid(mine.uid).call()
    assert not reputation.functions.isRevoked(mine.uid).call()

    ok(chain, admin, reputation.functions.registerIssuer(issuer.address))
    assert score(reputation, subject) == (11, 2)


def test_removed_issuer_can_still_revoke_its_attestations(
    chain, reputation, admin, issuer, subject
):
    att = make(issuer, subject)
    ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    ok(chain, admin, reputation.functions.removeIssuer(issuer.address))
    ok(chain, issuer, reputation.functions.revoke(att.uid))
    ok(chain, admin, reputation.functions.registerIssuer(issuer.address))
    assert score(reputation, subject) == (0, 0)


# ---------------------------------------------------------------------------------------------
# EIP-712 replay and malleability variants
# ---------------------------------------------------------------------------------------------


def _swap_order_types(att: Attestation) -> dict[str, Any]:
    msg = typed_data(att, chain_id=0, verifying_contract=ZERO)
    fields = msg["types"]["Attestation"]
    fields[0], fields[1] = fields[1], fields[0]  # subject before issuer
    return msg


def _renamed_type(att: Attestation) -> dict[str, Any]:
    msg = typed_data(att, chain_id=0, verifying_contract=ZERO)
    msg["types"]["Credential"] = msg["types"].pop("Attestation")
    msg["primaryType"] = "Credential"
    return msg


def signed_variant(
    chain: Chain, rep: Any, issuer: LocalAccount, att: Attestation, variant: str
) -> bytes:
    """A signature by ``issuer`` over ``att`` that is wrong in the way ``variant`` names."""
    sig = sign(chain, rep, issuer, att)
    if variant == "other chain id":
        return sign_attestation(
            issuer, att, chain_id=chain.chain_id + 1, verifying_contract=rep.address
        )
    if variant in ("other type name", "other field order"):
        build = _renamed_type if variant == "other type name" else _swap_order_types
        msg = build(att)
        msg["domain"] = typed_data(att, chain_id=chain.chain_id, verifying_contract=rep.address)[
            "domain"
        ]
        return bytes(issuer.sign_typed_data(full_message=msg).signature)
    if variant == "other domain name":
        msg = typed_data(att, chain_id=chain.chain_id, verifying_contract=rep.address)
        msg["domain"]["name"] = "agent-testbed Reputation v2"
        return bytes(issuer.sign_typed_data(full_message=msg).signature)
    if variant == "high s":
        s = int.from_bytes(sig[32:64], "big")
        return sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    if variant == "v as 0/1":
        return sig[:64] + bytes([sig[64] - 27])
    if variant == "64 bytes (EIP-2098 compact)":
        vs = int.from_bytes(sig[32:64], "big") | ((sig[64] - 27) << 255)
        return sig[:32] + vs.to_bytes(32, "big")
    if variant == "66 bytes":
        return sig + b"\x00"
    raise AssertionError(variant)


# variant -> whether the contract names a recovered address (else address(0): malformed)
MALFORMED = ["high s", "v as 0/1", "64 bytes (EIP-2098 compact)", "66 bytes"]
MISDIRECTED = ["other chain id", "other type name", "other field order", "other domain name"]


@pytest.mark.parametrize("variant", MISDIRECTED + MALFORMED)
def test_revert_when_signature_is_for_another_domain_or_type_or_malformed(
    chain, reputation, issuer, subject, stranger, variant
):
    att = make(issuer, subject)
    sig = signed_variant(chain, reputation, issuer, att, variant)
    if variant in MALFORMED:
        recovered = ZERO
    else:
        recovered = recover_signer(
            att, sig, chain_id=chain.chain_id, verifying_contract=reputation.address
        )
        assert recovered not in (None, issuer.address)
    reason = reverts(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert reason == f"ReputationInvalidSignature({issuer.address}, {recovered})"
    # the well-formed signature for the right domain still goes through afterwards
    good = sign(chain, reputation, issuer, att)
    ok(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), good))


def test_signature_for_another_verifying_contract_is_rejected_but_valid_there(
    chain, reputation_artifact, reputation, admin, issuer, subject, stranger
):
    other = chain.deploy(reputation_artifact, admin.address, sender=admin)
    ok(chain, admin, other.functions.registerIssuer(issuer.address))
    att = make(issuer, subject)
    sig = sign(chain, other, issuer, att)
    recovered = recover_signer(
        att, sig, chain_id=chain.chain_id, verifying_contract=reputation.address
    )
    reason = reverts(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert reason == f"ReputationInvalidSignature({issuer.address}, {recovered})"
    ok(chain, stranger, other.functions.attestWithSignature(att.as_tuple(), sig))


def test_revert_when_the_same_signature_is_submitted_twice(
    chain, reputation, issuer, subject, stranger
):
    att = make(issuer, subject)
    call = reputation.functions.attestWithSignature(
        att.as_tuple(), sign(chain, reputation, issuer, att)
    )
    ok(chain, stranger, call)
    assert reverts(chain, issuer, call) == f"ReputationDuplicateUid({b32(att.uid)})"
    assert score(reputation, subject) == (5, 1)


def test_revert_when_signed_by_someone_else(chain, reputation, issuer, subject, stranger):
    att = make(issuer, subject)
    sig = sign(chain, reputation, stranger, att)
    reason = reverts(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert reason == f"ReputationInvalidSignature({issuer.address}, {stranger.address})"


def test_high_s_twin_recovers_the_same_key_without_the_check():
    # Guards the high-s test above: the flipped signature really is the malleable twin.
    acct = Account.from_key(b"\x01" * 32)
    att = make(acct, acct)
    msg = typed_data(att, chain_id=1337, verifying_contract="0x" + "11" * 20)
    sig = bytes(acct.sign_typed_data(full_message=msg).signature)
    s = int.from_bytes(sig[32:64], "big")
    twin_vrs = (55 - sig[64], int.from_bytes(sig[:32], "big"), SECP256K1_N - s)
    assert (
        Account.recover_message(encode_typed_data(full_message=msg), vrs=twin_vrs) == acct.address
    )


# ---------------------------------------------------------------------------------------------
# authorization: every state-changing function, every unauthorized role
# ---------------------------------------------------------------------------------------------

ROLES = ["issuer", "other_issuer", "subject", "stranger"]


@pytest.fixture
def cast(admin, issuer, other_issuer, subject, stranger) -> dict[str, LocalAccount]:
    return {
        "admin": admin,
        "issuer": issuer,
        "other_issuer": other_issuer,
        "subject": subject,
        "stranger": stranger,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "function", ["registerIssuer", "removeIssuer", "grantRole", "revokeRole", "renounceRole"]
)
def test_revert_when_admin_functions_are_called_by_non_admin(
    chain, reputation, cast, admin, other_issuer, function, role
):
    caller = cast[role]
    if role == "other_issuer":
        ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    calls: dict[str, Callable[[], Any]] = {
        "registerIssuer": lambda: reputation.functions.registerIssuer(caller.address),
        "removeIssuer": lambda: reputation.functions.removeIssuer(cast["issuer"].address),
        "grantRole": lambda: reputation.functions.grantRole(bytes(32), caller.address),
        "revokeRole": lambda: reputation.functions.revokeRole(bytes(32), admin.address),
        "renounceRole": lambda: reputation.functions.renounceRole(bytes(32), admin.address),
    }
    reason = reverts(chain, caller, calls[function]())
    if function == "renounceRole":
        assert reason == "AccessControlBadConfirmation()"
    else:
        assert reason == f"AccessControlUnauthorizedAccount({caller.address}, {ADMIN_ROLE})"
    assert reputation.functions.hasRole(bytes(32), admin.address).call()
    assert not reputation.functions.hasRole(bytes(32), caller.address).call()
    assert reputation.functions.isIssuer(cast["issuer"].address).call()
    assert reputation.functions.isIssuer(caller.address).call() == (
        role in ("issuer", "other_issuer")
    )


@pytest.mark.parametrize("role", ["admin", *ROLES[1:]])
def test_revert_when_attesting_directly_for_another_issuer(
    chain, reputation, cast, admin, other_issuer, issuer, subject, role
):
    ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    caller = cast[role]
    att = make(issuer, subject)
    reason = reverts(chain, caller, reputation.functions.attest(att.as_tuple()))
    assert reason == f"ReputationNotIssuer({caller.address}, {issuer.address})"
    assert score(reputation, subject) == (0, 0)


@pytest.mark.parametrize("role", ["admin", *ROLES[1:]])
def test_revert_when_signed_attestation_is_signed_by_another_role(
    chain, reputation, cast, admin, other_issuer, issuer, subject, role
):
    ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    signer = cast[role]
    att = make(issuer, subject)
    sig = sign(chain, reputation, signer, att)
    reason = reverts(chain, issuer, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert reason == f"ReputationInvalidSignature({issuer.address}, {signer.address})"


@pytest.mark.parametrize("role", ["admin", *ROLES[1:]])
def test_revert_when_revoking_as_another_role(
    chain, reputation, cast, admin, other_issuer, issuer, subject, role
):
    ok(chain, admin, reputation.functions.registerIssuer(other_issuer.address))
    att = make(issuer, subject)
    ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    caller = cast[role]
    reason = reverts(chain, caller, reputation.functions.revoke(att.uid))
    assert reason == f"ReputationNotIssuer({caller.address}, {issuer.address})"
    assert reputation.functions.isValid(att.uid).call()


# ---------------------------------------------------------------------------------------------
# expiry edges: block.timestamp at T-1, T, T+1
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["signed", "direct"])
@pytest.mark.parametrize(("offset", "accepted"), [(-1, True), (0, False), (1, False)])
def test_attest_is_refused_from_the_expiry_second_on(
    chain, reputation, issuer, subject, stranger, path, offset, accepted
):
    expiry = chain.head.timestamp + 100
    att = make(issuer, subject, expiry=expiry)
    if path == "signed":
        sender = stranger
        call = reputation.functions.attestWithSignature(
            att.as_tuple(), sign(chain, reputation, issuer, att)
        )
    else:
        sender, call = issuer, reputation.functions.attest(att.as_tuple())
    chain.set_next_block_time((expiry + offset) * 1000)
    rec = send(chain, sender, call)
    assert chain.block(rec.block_number).timestamp == expiry + offset
    if accepted:
        assert rec.status == 1
        assert events(rec) == [attested(att)]
    else:
        assert rec.status == 0
        assert rec.revert_reason == f"ReputationExpired({b32(att.uid)}, {expiry})"


@pytest.mark.parametrize(("offset", "valid"), [(-1, True), (0, False), (1, False)])
def test_attestation_stops_counting_at_its_expiry(
    chain, reputation, probe, issuer, subject, offset, valid
):
    expiry = chain.head.timestamp + 100
    att = make(issuer, subject, value=4, expiry=expiry)
    chain.set_next_block_time((expiry - 3) * 1000)
    ok(chain, issuer, reputation.functions.attest(att.as_tuple()))
    chain.set_next_block_time((expiry - 2) * 1000)
    assert mined_read(chain, probe, reputation, subject, att.uid) == (4, 1, True)
    chain.set_next_block_time((expiry + offset) * 1000)
    expected = (4, 1, True) if valid else (0, 0, False)
    assert mined_read(chain, probe, reputation, subject, att.uid) == expected
    assert chain.head.timestamp == expiry + offset
