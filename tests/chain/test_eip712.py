"""``agentbed.chain.eip712`` against the EIP's own example and hand-made hashes."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_keys import keys
from eth_keys.constants import SECPK1_N
from eth_utils import keccak

from agentbed.chain import eip712

# The example of the EIP itself (eips.ethereum.org/EIPS/eip-712, "Mail"), with the hashes the
# EIP's reference implementation prints for it.
MAIL_STRUCTS = {
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [
        {"name": "from", "type": "Person"},
        {"name": "to", "type": "Person"},
        {"name": "contents", "type": "string"},
    ],
}
MAIL_TYPES = {"EIP712Domain": [dict(f) for f in eip712.DOMAIN_FIELDS], **MAIL_STRUCTS}
MAIL_VALUES = {
    "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
    "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
    "contents": "Hello, Bob!",
}
MAIL = {
    "types": MAIL_TYPES,
    "primaryType": "Mail",
    "domain": {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "message": MAIL_VALUES,
}
MAIL_DOMAIN_SEPARATOR = "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
MAIL_STRUCT_HASH = "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
MAIL_DIGEST = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"

# A struct using every kind of member the project's contracts could sign: nested struct,
# string, bytes, bool, signed and unsigned ints, fixed-size bytes, arrays of atoms and structs.
ORDER_TYPES = {
    "Party": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Order": [
        {"name": "maker", "type": "Party"},
        {"name": "amount", "type": "uint256"},
        {"name": "delta", "type": "int128"},
        {"name": "salt", "type": "bytes32"},
        {"name": "memo", "type": "bytes"},
        {"name": "note", "type": "string"},
        {"name": "partial", "type": "bool"},
        {"name": "ids", "type": "uint32[]"},
        {"name": "pair", "type": "address[2]"},
        {"name": "cosigners", "type": "Party[]"},
    ],
}
ORDER = {
    "maker": {"name": "m", "wallet": "0x" + "44" * 20},
    "amount": 10**18,
    "delta": -5,
    "salt": b"\x01" * 32,
    "memo": b"\xde\xad",
    "note": "hello",
    "partial": True,
    "ids": [1, 2, 3],
    "pair": ["0x" + "11" * 20, "0x" + "22" * 20],
    "cosigners": [{"name": "c", "wallet": "0x" + "55" * 20}],
}


def order_message(order: dict[str, Any]) -> dict[str, Any]:
    return eip712.typed_message(
        "Order",
        ORDER_TYPES,
        order,
        domain=("agentbed Orders", "2"),
        chain_id=1337,
        verifying_contract="0x" + "33" * 20,
    )


def test_mail_example_of_the_eip_hashes_as_the_eip_says():
    signable = eip712.signable_message(MAIL)
    assert signable.header.hex() == MAIL_DOMAIN_SEPARATOR
    assert signable.body.hex() == MAIL_STRUCT_HASH
    assert eip712.digest(MAIL).hex() == MAIL_DIGEST


def test_typed_message_builds_the_eips_mail_example():
    msg = eip712.typed_message(
        "Mail",
        MAIL_STRUCTS,
        MAIL_VALUES,
        domain=("Ether Mail", "1"),
        chain_id=1,
        verifying_contract="0x" + "cc" * 20,  # lower case: typed_message checksums it
    )
    assert msg == MAIL
    assert eip712.digest(msg).hex() == MAIL_DIGEST


def test_domain_without_declared_type_follows_the_eip_field_order():
    undeclared = {**MAIL, "types": MAIL_STRUCTS}
    assert eip712.signable_message(undeclared).header.hex() == MAIL_DOMAIN_SEPARATOR
    salt = b"\x07" * 32
    salted = {**undeclared, "domain": {"salt": salt, "name": "X"}}
    # the EIP orders domain fields name, version, chainId, verifyingContract, salt
    domain_type = keccak(text="EIP712Domain(string name,bytes32 salt)")
    expected = keccak(
        abi_encode(["bytes32", "bytes32", "bytes32"], [domain_type, keccak(text="X"), salt])
    )
    assert eip712.signable_message(salted).header == expected


def test_signature_over_the_digest_recovers_to_the_signer():
    signer = Account.from_key(keccak(text="agentbed/test_eip712"))
    msg = order_message({**ORDER, "maker": {"name": "maker", "wallet": signer.address}})
    signature = eip712.sign_typed_message(signer, msg)
    assert len(signature) == 65 and signature[64] in (27, 28)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    assert s <= SECPK1_N // 2  # low s, as OpenZeppelin ECDSA.recover demands
    recovered = keys.Signature(vrs=(signature[64] - 27, r, s)).recover_public_key_from_msg_hash(
        eip712.digest(msg)
    )
    assert recovered.to_checksum_address() == signer.address


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", -1),
        ("amount", 2**256),
        ("amount", True),
        ("salt", b"\x00" * 33),
        ("note", b"x"),
        ("ids", 5),
    ],
)
def test_revert_when_a_value_does_not_fit_its_type(field, value):
    with pytest.raises(eip712.TypedDataError, match="does not fit its types") as err:
        eip712.digest(order_message({**ORDER, field: value}))
    assert err.value.__cause__ is not None


def test_revert_when_a_field_is_missing_or_a_type_unknown():
    with pytest.raises(eip712.TypedDataError, match="wallet"):
        eip712.digest({**MAIL, "message": {**MAIL_VALUES, "to": {"name": "Bob"}}})
    thing = eip712.typed_message(
        "Thing",
        {"Thing": [{"name": "x", "type": "uint256x"}]},
        {"x": 1},
        domain=("T", "1"),
        chain_id=1,
        verifying_contract="0x" + "33" * 20,
    )
    with pytest.raises(eip712.TypedDataError, match="uint256x"):
        eip712.digest(thing)
    with pytest.raises(eip712.TypedDataError):
        eip712.sign_typed_message(Account.from_key(b"\x01" * 32), {**MAIL, "primaryType": "Nope"})
