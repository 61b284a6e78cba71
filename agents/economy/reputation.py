"""Verifiable reputation credentials, checked off-chain before an agent picks a counterparty.

An issuer signs an ``Attestation`` (EIP-712, the same struct and domain as
``contracts/Reputation.sol``) and hands it to the subject, who can show it to anyone. A verifier
recovers the signer locally and then asks the chain only what a signature cannot say: is the
issuer still registered, was the attestation revoked, has it expired by the chain's time, and,
if it was submitted on-chain, does the recorded attestation match the one shown.

The local checks follow the contract: a signature must be 65 bytes with ``v`` in {27, 28} and a
low ``s`` (OpenZeppelin ``ECDSA`` rejects the rest), so a credential the contract would refuse
is never reported valid here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_account import Account
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as KeyValidationError
from eth_utils import function_signature_to_4byte_selector, is_address, keccak, to_checksum_address

from agentbed.chain.eip712 import digest, sign_typed_message, signable_message, typed_message
from agentbed.chain.errors import TestbedError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.agent import ChainReader

DOMAIN_NAME: Final = "agent-testbed Reputation"
DOMAIN_VERSION: Final = "1"
ATTESTATION_TYPE: Final = (
    "Attestation(address issuer,address subject,bytes32 schema,int256 value,uint64 expiry,"
    "bytes32 uid)"
)
ATTESTATION_FIELDS: Final = (
    {"name": "issuer", "type": "address"},
    {"name": "subject", "type": "address"},
    {"name": "schema", "type": "bytes32"},
    {"name": "value", "type": "int256"},
    {"name": "expiry", "type": "uint64"},
    {"name": "uid", "type": "bytes32"},
)
ATTESTED_TOPIC: Final = keccak(text="Attested(bytes32,address,address,bytes32,int256,uint64)")

# secp256k1 group order; OpenZeppelin ECDSA accepts s only up to n // 2 (EIP-2).
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

Reason = Literal[
    "ok",
    "bad signature",
    "wrong signer",
    "unregistered issuer",
    "uid conflict",
    "revoked",
    "expired",
    "unverifiable",
]
"""Why a credential is (in)valid; the first failing check wins, in this order after "ok"."""


def schema_id(name: str) -> bytes:
    """The bytes32 schema id for a human-readable schema name (``keccak256(name)``)."""
    return keccak(text=name)


@dataclass(frozen=True, slots=True)
class Attestation:
    """One claim an issuer makes about a subject (mirrors ``IReputation.Attestation``).

    Attributes:
        issuer: Who vouches; stored checksummed.
        subject: Who the claim is about; stored checksummed.
        schema: What kind of claim (32 bytes, e.g. ``schema_id("escrow.completed")``).
        value: The claim's value (int256; may be negative).
        expiry: Unix time from which the claim no longer counts; 0 means never.
        uid: Issuer-chosen unique id (32 bytes).

    Raises:
        TypeError: a field has the wrong type.
        ValueError: an address is malformed or a field is out of its Solidity type's range.
    """

    issuer: str
    subject: str
    schema: bytes
    value: int
    expiry: int
    uid: bytes

    def __post_init__(self) -> None:
        for name in ("issuer", "subject"):
            raw = getattr(self, name)
            if not isinstance(raw, str):
                raise TypeError(f"{name} must be a hex address string, got {type(raw).__name__}")
            if not is_address(raw):
                raise ValueError(f"{name} is not an address: {raw!r}")
            object.__setattr__(self, name, to_checksum_address(raw))
        for name in ("schema", "uid"):
            raw = getattr(self, name)
            if not isinstance(raw, bytes):
                raise TypeError(f"{name} must be bytes, got {type(raw).__name__}")
            if len(raw) != 32:
                raise ValueError(f"{name} must be 32 bytes, got {len(raw)}")
        for name, low, high in (("value", -(2**255), 2**255 - 1), ("expiry", 0, 2**64 - 1)):
            raw = getattr(self, name)
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise TypeError(f"{name} must be an int, got {type(raw).__name__}")
            if not low <= raw <= high:
                raise ValueError(f"{name} {raw} is out of range [{low}, {high}]")

    def as_tuple(self) -> tuple[str, str, bytes, int, int, bytes]:
        """The struct as a tuple, for contract calls: ``rep.functions.attest(a.as_tuple())``."""
        return (self.issuer, self.subject, self.schema, self.value, self.expiry, self.uid)

    def as_message(self) -> dict[str, Any]:
        """The struct as an EIP-712 message dict."""
        return {
            "issuer": self.issuer,
            "subject": self.subject,
            "schema": self.schema,
            "value": self.value,
            "expiry": self.expiry,
            "uid": self.uid,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a verifier concluded about one credential.

    Attributes:
        valid: Whether the credential can be relied on now.
        reason: "ok" when valid, else the first check that failed (see ``Reason``).
        signer: The address the signature recovers to, or None when it is malformed.
        attestation: The credential that was checked.
    """

    valid: bool
    reason: Reason
    signer: str | None
    attestation: Attestation


def typed_data(
    attestation: Attestation, *, chain_id: int, verifying_contract: str
) -> dict[str, Any]:
    """The full EIP-712 message for ``attestation`` under the Reputation contract's domain."""
    return typed_message(
        "Attestation",
        {"Attestation": ATTESTATION_FIELDS},
        attestation.as_message(),
        domain=(DOMAIN_NAME, DOMAIN_VERSION),
        chain_id=chain_id,
        verifying_contract=verifying_contract,
    )


def attestation_digest(
    attestation: Attestation, *, chain_id: int, verifying_contract: str
) -> bytes:
    """The EIP-712 digest the issuer signs (equals ``Reputation.digest`` on-chain)."""
    return digest(typed_data(attestation, chain_id=chain_id, verifying_contract=verifying_contract))


def sign_attestation(
    account: LocalAccount, attestation: Attestation, *, chain_id: int, verifying_contract: str
) -> bytes:
    """Sign ``attestation`` as EIP-712 typed data; return the 65-byte signature (r, s, v).

    Args:
        account: The signing key (normally the attestation's issuer).
        attestation: The claim to sign.
        chain_id: Chain id of the domain.
        verifying_contract: Address of the Reputation contract of the domain.

    Returns:
        ``r || s || v`` with ``v`` in {27, 28} and a low ``s``, as the contract expects.
    """
    return sign_typed_message(
        account, typed_data(attestation, chain_id=chain_id, verifying_contract=verifying_contract)
    )


def recover_signer(
    attestation: Attestation, signature: bytes, *, chain_id: int, verifying_contract: str
) -> str | None:
    """The address that signed ``attestation``, or None if the contract would refuse the bytes.

    Refused like OpenZeppelin ``ECDSA.tryRecover``: a length other than 65, ``v`` not 27/28,
    ``s`` above n/2 (malleable twin), ``r``/``s`` zero or out of range, or no recoverable key.
    """
    if len(signature) != 65:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28) or not 0 < r < SECP256K1_N or not 0 < s <= SECP256K1_N // 2:
        return None
    signable = signable_message(
        typed_data(attestation, chain_id=chain_id, verifying_contract=verifying_contract)
    )
    try:
        signer: str = Account.recover_message(signable, vrs=(v, r, s))
    except (BadSignature, KeyValidationError):  # r is no curve point's x, or similar
        return None
    return signer


def verify_attestation(
    chain: ChainReader, reputation_address: str, attestation: Attestation, signature: bytes
) -> VerificationResult:
    """Check a signed credential locally and against the Reputation contract at the chain head.

    Checks, first failure wins: the signature is well-formed ("bad signature") and recovers to
    the issuer under this chain's and contract's domain ("wrong signer"); the contract is a
    Reputation with the same domain, and answers ("unverifiable"); the issuer is registered
    ("unregistered issuer"); if the uid was recorded on-chain, the record matches this
    credential ("uid conflict") and is not revoked ("revoked"); the expiry has not been reached
    at the head block's timestamp ("expired").

    Args:
        chain: The chain to ask: the ``Chain`` itself or any reader with its ``chain_id``,
            ``head``, ``call`` and ``logs`` (an agent passes its view's ``reader``).
        reputation_address: Address of the Reputation contract.
        attestation: The credential's claim.
        signature: The issuer's 65-byte signature.

    Returns:
        The verdict; claims that cannot be verified come out invalid with a reason.

    Raises:
        TypeError: ``attestation`` is not an ``Attestation`` or ``signature`` is not bytes.
        ValueError: ``reputation_address`` is not an address.
    """
    if not isinstance(attestation, Attestation):
        raise TypeError(f"attestation must be an Attestation, got {type(attestation).__name__}")
    if not isinstance(signature, bytes | bytearray):
        raise TypeError(f"signature must be bytes, got {type(signature).__name__}")
    if not isinstance(reputation_address, str) or not is_address(reputation_address):
        raise ValueError(f"not an address: {reputation_address!r}")
    contract = to_checksum_address(reputation_address)

    def verdict(reason: Reason, signer: str | None) -> VerificationResult:
        return VerificationResult(reason == "ok", reason, signer, attestation)

    chain_id = chain.chain_id
    signer = recover_signer(
        attestation, bytes(signature), chain_id=chain_id, verifying_contract=contract
    )
    if signer is None:
        return verdict("bad signature", None)
    if signer != attestation.issuer:
        return verdict("wrong signer", signer)
    try:
        (onchain_digest,) = _view(chain, contract, _DIGEST, ["bytes32"], [attestation.as_tuple()])
        local_digest = attestation_digest(
            attestation, chain_id=chain_id, verifying_contract=contract
        )
        if onchain_digest != local_digest:
            return verdict("unverifiable", signer)
        (registered,) = _view(chain, contract, _IS_ISSUER, ["bool"], [attestation.issuer])
        if not registered:
            return verdict("unregistered issuer", signer)
        recorded = _recorded(chain, contract, attestation.uid)
        if recorded is not None and recorded != attestation:
            return verdict("uid conflict", signer)
        (revoked,) = _view(chain, contract, _IS_REVOKED, ["bool"], [attestation.uid])
    except (TestbedError, DecodingError):
        # a revert, a call into an address without the contract, or output that does not decode
        return verdict("unverifiable", signer)
    if revoked:
        return verdict("revoked", signer)
    if attestation.expiry != 0 and attestation.expiry <= chain.head.timestamp:
        return verdict("expired", signer)
    return verdict("ok", signer)


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------

_ATTESTATION_ABI: Final = "(address,address,bytes32,int256,uint64,bytes32)"
_DIGEST: Final = ("digest", [_ATTESTATION_ABI])
_IS_ISSUER: Final = ("isIssuer", ["address"])
_IS_REVOKED: Final = ("isRevoked", ["bytes32"])


def _view(
    chain: ChainReader,
    contract: str,
    function: tuple[str, list[str]],
    returns: list[str],
    args: list[Any],
) -> tuple[Any, ...]:
    name, params = function
    selector = function_signature_to_4byte_selector(f"{name}({','.join(params)})")
    output = chain.call(contract, selector + encode(params, args))
    return tuple(decode(returns, output))


def _recorded(chain: ChainReader, contract: str, uid: bytes) -> Attestation | None:
    """The attestation recorded on-chain under ``uid`` (from its ``Attested`` log), if any."""
    logs = chain.logs(address=contract, topics=[ATTESTED_TOPIC, uid])
    if not logs:
        return None
    log = logs[0]  # uids are unique, so at most one Attested log per uid
    issuer, subject = (to_checksum_address(topic[12:]) for topic in log.topics[2:4])
    schema, value, expiry = decode(["bytes32", "int256", "uint64"], log.data)
    return Attestation(issuer, subject, schema, value, expiry, uid)
