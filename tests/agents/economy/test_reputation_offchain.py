"""The off-chain credential verifier (agents/reputation.py) against a deployed Reputation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from txkit import tx_helpers

from agentbed.agents.economy.reputation import (
    SECP256K1_N,
    Attestation,
    VerificationResult,
    recover_signer,
    schema_id,
    sign_attestation,
    typed_data,
    verify_attestation,
)
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = schema_id("escrow.completed")
GAS = 1_000_000
_, ok, _ = tx_helpers(GAS)


def make(issuer: LocalAccount, subject: LocalAccount, **fields: Any) -> Attestation:
    base: dict[str, Any] = {"schema": SCHEMA, "value": 3, "expiry": 0, "uid": keccak(text="uid-1")}
    base.update(fields)
    return Attestation(issuer.address, subject.address, **base)


def sign(chain: Chain, rep: Any, account: LocalAccount, att: Attestation) -> bytes:
    return sign_attestation(account, att, chain_id=chain.chain_id, verifying_contract=rep.address)


def verify(chain: Chain, rep: Any, att: Attestation, sig: bytes) -> VerificationResult:
    return verify_attestation(chain, rep.address, att, sig)


# ---------------------------------------------------------------------------------------------
# valid credentials
# ---------------------------------------------------------------------------------------------


def test_valid_credential_verifies_before_and_after_submission(
    chain, reputation, issuer, subject, stranger
):
    att = make(issuer, subject, expiry=chain.head.timestamp + 60)
    sig = sign(chain, reputation, issuer, att)
    expected = VerificationResult(True, "ok", issuer.address, att)
    assert verify(chain, reputation, att, sig) == expected
    ok(chain, stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    assert verify(chain, reputation, att, sig) == expected


def test_attestation_normalizes_addresses_and_checks_field_types(issuer, subject):
    att = Attestation(issuer.address.lower(), subject.address, SCHEMA, -1, 0, bytes(32))
    assert att.issuer == issuer.address
    with pytest.raises(ValueError, match="32 bytes"):
        Attestation(issuer.address, subject.address, SCHEMA[:31], 1, 0, bytes(32))
    with pytest.raises(ValueError, match="out of range"):
        Attestation(issuer.address, subject.address, SCHEMA, 2**255, 0, bytes(32))
    with pytest.raises(ValueError, match="out of range"):
        Attestation(issuer.address, subject.address, SCHEMA, 0, -1, bytes(32))
    with pytest.raises(ValueError, match="not an address"):
        Attestation("0x1234", subject.address, SCHEMA, 0, 0, bytes(32))
    with pytest.raises(TypeError):
        Attestation(issuer.address, subject.address, "00" * 32, 0, 0, bytes(32))  # type: ignore[arg-type]


def test_revert_when_verifier_gets_wrong_types(chain, reputation, issuer, subject):
    att = make(issuer, subject)
    sig = sign(chain, reputation, issuer, att)
    with pytest.raises(TypeError):
        verify_attestation(chain, reputation.address, att.as_tuple(), sig)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_attestation(chain, reputation.address, att, "0x" + sig.hex())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        verify_attestation(chain, "reputation", att, sig)


# ---------------------------------------------------------------------------------------------
# invalid credentials, each with its reason
# ---------------------------------------------------------------------------------------------


def test_forged_credential_is_wrong_signer(chain, reputation, issuer, subject, stranger):
    att = make(issuer, subject)
    result = verify(chain, reputation, att, sign(chain, reputation, stranger, att))
    assert result == VerificationResult(False, "wrong signer", stranger.address, att)


def test_tampered_credential_is_wrong_signer(chain, reputation, issuer, subject):
    att = make(issuer, subject, value=1)
    sig = sign(chain, reputation, issuer, att)
    inflated = make(issuer, subject, value=1_000)
    result = verify(chain, reputation, inflated, sig)
    assert (result.valid, result.reason) == (False, "wrong signer")
    assert result.signer not in (None, issuer.address)


def test_unregistered_and_removed_issuers_are_refused(
    chain, reputation, admin, issuer, subject, stranger
):
    att = make(stranger, subject)
    result = verify(chain, reputation, att, sign(chain, reputation, stranger, att))
    assert (result.valid, result.reason, result.signer) == (
        False,
        "unregistered issuer",
        stranger.address,
    )
    mine = make(issuer, subject)
    sig = sign(chain, reputation, issuer, mine)
    assert verify(chain, reputation, mine, sig).valid
    ok(chain, admin, reputation.functions.removeIssuer(issuer.address))
    assert verify(chain, reputation, mine, sig).reason == "unregistered issuer"


def test_revoked_credential_is_refused(chain, reputation, issuer, subject):
    att = make(issuer, subject)
    sig = sign(chain, reputation, issuer, att)
    ok(chain, issuer, reputation.functions.attestWithSignature(att.as_tuple(), sig))
    ok(chain, issuer, reputation.functions.revoke(att.uid))
    assert verify(chain, reputation, att, sig) == VerificationResult(
        False, "revoked", issuer.address, att
    )


@pytest.mark.parametrize(("offset", "reason"), [(-1, "expired"), (0, "expired"), (1, "ok")])
def test_expiry_is_judged_at_the_head_block_time(
    chain, reputation, issuer, subject, offset, reason
):
    chain.mine()
    att = make(issuer, subject, expiry=chain.head.timestamp + offset)
    assert verify(chain, reputation, att, sign(chain, reputation, issuer, att)).reason == reason


def test_credential_expires_when_the_chain_reaches_its_expiry(chain, reputation, issuer, subject):
    expiry = chain.head.timestamp + 50
    att = make(issuer, subject, expiry=expiry)
    sig = sign(chain, reputation, issuer, att)
    chain.set_next_block_time((expiry - 1) * 1000)
    chain.mine()
    assert verify(chain, reputation, att, sig).reason == "ok"
    chain.mine()
    assert chain.head.timestamp > expiry
    assert verify(chain, reputation, att, sig).reason == "expired"


def test_uid_recorded_with_other_content_is_a_conflict(chain, reputation, issuer, subject):
    recorded = make(issuer, subject, value=1)
    ok(chain, issuer, reputation.functions.attest(recorded.as_tuple()))
    claimed = make(issuer, subject, value=50)  # same uid, signed too, but not what is on-chain
    result = verify(chain, reputation, claimed, sign(chain, reputation, issuer, claimed))
    assert (result.valid, result.reason) == (False, "uid conflict")
    assert verify(chain, reputation, recorded, sign(chain, reputation, issuer, recorded)).valid


def test_address_without_the_contract_is_unverifiable(
    chain, reputation_artifact, reputation, admin, issuer, subject
):
    nowhere = "0x" + "42" * 20
    att = make(issuer, subject)
    sig = sign_attestation(issuer, att, chain_id=chain.chain_id, verifying_contract=nowhere)
    result = verify_attestation(chain, nowhere, att, sig)
    assert (result.valid, result.reason, result.signer) == (False, "unverifiable", issuer.address)


# ---------------------------------------------------------------------------------------------
# replay variants: the verifier refuses what the contract refuses
# ---------------------------------------------------------------------------------------------


def _variant(chain: Chain, rep: Any, issuer: LocalAccount, att: Attestation, variant: str) -> bytes:
    msg = typed_data(att, chain_id=chain.chain_id, verifying_contract=rep.address)
    sig = sign(chain, rep, issuer, att)
    if variant == "other chain id":
        msg["domain"]["chainId"] = chain.chain_id + 1
    elif variant == "other verifying contract":
        msg["domain"]["verifyingContract"] = "0x" + "42" * 20
    elif variant == "other type name":
        msg["types"]["Credential"] = msg["types"].pop("Attestation")
        msg["primaryType"] = "Credential"
    elif variant == "other field order":
        fields = msg["types"]["Attestation"]
        fields[0], fields[1] = fields[1], fields[0]
    elif variant == "high s":
        s = int.from_bytes(sig[32:64], "big")
        return sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    elif variant == "v as 0/1":
        return sig[:64] + bytes([sig[64] - 27])
    elif variant == "64 bytes":
        vs = int.from_bytes(sig[32:64], "big") | ((sig[64] - 27) << 255)
        return sig[:32] + vs.to_bytes(32, "big")
    elif variant == "66 bytes":
        return sig + b"\x00"
    elif variant == "empty":
        return b""
    else:
        raise AssertionError(variant)
    return bytes(issuer.sign_typed_data(full_message=msg).signature)


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("other chain id", "wrong signer"),
        ("other verifying contract", "wrong signer"),
        ("other type name", "wrong signer"),
        ("other field order", "wrong signer"),
        ("high s", "bad signature"),
        ("v as 0/1", "bad signature"),
        ("64 bytes", "bad signature"),
        ("66 bytes", "bad signature"),
        ("empty", "bad signature"),
    ],
)
def test_replayed_or_malformed_signature_is_refused_like_on_chain(
    chain, reputation, issuer, subject, stranger, variant, reason
):
    att = make(issuer, subject)
    sig = _variant(chain, reputation, issuer, att, variant)
    result = verify(chain, reputation, att, sig)
    assert (result.valid, result.reason) == (False, reason)
    assert result.signer != issuer.address
    rec = chain.receipt(
        chain.transact(
            stranger, reputation.functions.attestWithSignature(att.as_tuple(), sig), gas=GAS
        )
    )
    assert rec.status == 0
    assert rec.revert_reason is not None
    assert rec.revert_reason.startswith("ReputationInvalidSignature(")


def test_high_s_twin_is_refused_although_it_recovers_the_issuer(chain, reputation, issuer, subject):
    # The local check must be what refuses it, not the recovery: the twin is a valid ECDSA
    # signature of the same key.
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    att = make(issuer, subject)
    sig = _variant(chain, reputation, issuer, att, "high s")
    msg = encode_typed_data(
        full_message=typed_data(att, chain_id=chain.chain_id, verifying_contract=reputation.address)
    )
    vrs = (sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"))
    assert Account.recover_message(msg, vrs=vrs) == issuer.address
    domain = {"chain_id": chain.chain_id, "verifying_contract": reputation.address}
    assert recover_signer(att, sig, **domain) is None


@settings(
    max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    signature=st.one_of(
        st.binary(max_size=80),
        # well-formed-looking (r, s, v): exercises recovery, including r off the curve
        st.builds(
            lambda r, s, v: r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v]),
            st.integers(0, 2**256 - 1),
            st.integers(0, SECP256K1_N // 2 + 1),
            st.sampled_from([27, 28]),
        ),
    )
)
def test_fuzz_arbitrary_signature_bytes_never_verify_and_never_raise(
    chain, reputation, issuer, subject, signature
):
    att = make(issuer, subject)
    result = verify(chain, reputation, att, signature)
    assert not result.valid
    assert result.reason in ("bad signature", "wrong signer")
