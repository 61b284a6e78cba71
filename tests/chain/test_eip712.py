"""EIP-712 hashing (``agentbed.chain.eip712``) against the EIP's own example and eth-account."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.chain import eip712

# The example of the EIP itself (eips.ethereum.org/EIPS/eip-712, "Mail"), with the hashes the
# EIP's reference implementation prints for it.
MAIL_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [
        {"name": "from", "type": "Person"},
        {"name": "to", "type": "Person"},
        {"name": "contents", "type": "string"},
    ],
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
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}

# A struct using every kind of member the module encodes: nested struct, string, bytes, bool,
# signed and unsigned ints, a fixed-size bytes, dynamic and fixed arrays (of atoms and structs).
ORDER_TYPES = {
    "Party": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Order": [
        {"name": "maker", "type": "Party"},
        {"name": "amount", "type": "uint256"},
        {"name": "delta", "type": "int128"},
        {"name": "expiry", "type": "uint64"},
        {"name": "salt", "type": "bytes32"},
        {"name": "memo", "type": "bytes"},
        {"name": "note", "type": "string"},
        {"name": "partial", "type": "bool"},
        {"name": "ids", "type": "uint32[]"},
        {"name": "pair", "type": "address[2]"},
        {"name": "cosigners", "type": "Party[]"},
    ],
}

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
parties = st.fixed_dictionaries({"name": st.text(max_size=12), "wallet": addresses})
orders = st.fixed_dictionaries(
    {
        "maker": parties,
        "amount": st.integers(0, 2**256 - 1),
        "delta": st.integers(-(2**127), 2**127 - 1),
        "expiry": st.integers(0, 2**64 - 1),
        "salt": st.binary(min_size=32, max_size=32),
        "memo": st.binary(max_size=80),
        "note": st.text(max_size=20),
        "partial": st.booleans(),
        "ids": st.lists(st.integers(0, 2**32 - 1), max_size=4),
        "pair": st.lists(addresses, min_size=2, max_size=2),
        "cosigners": st.lists(parties, max_size=3),
    }
)


def order_message(order: dict[str, Any], chain_id: int, contract: str) -> dict[str, Any]:
    return eip712.typed_message(
        "Order",
        ORDER_TYPES,
        order,
        domain=("agentbed Orders", "2"),
        chain_id=chain_id,
        verifying_contract=contract,
    )


def eth_account_digest(full_message: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def test_mail_example_of_the_eip_hashes_as_the_eip_says():
    assert eip712.encode_type("Mail", MAIL_TYPES) == (
        "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
    )
    assert eip712.type_hash("Mail", MAIL_TYPES).hex() == (
        "a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2"
    )
    assert eip712.domain_separator(MAIL).hex() == (
        "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    )
    assert eip712.message_hash(MAIL).hex() == (
        "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
    )
    assert eip712.digest(MAIL).hex() == (
        "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    )


@settings(max_examples=60, deadline=None)
@given(order=orders, chain_id=st.integers(0, 2**64), contract=addresses)
def test_fuzz_digest_equals_eth_account_encode_typed_data(order, chain_id, contract):
    msg = order_message(order, chain_id, contract)
    signable = encode_typed_data(full_message=msg)
    assert eip712.domain_separator(msg) == signable.header
    assert eip712.message_hash(msg) == signable.body
    assert eip712.digest(msg) == eth_account_digest(msg)
    assert eip712.signable_message(msg) == (b"\x01", signable.header, signable.body)


def test_dependencies_are_sorted_by_name_after_the_primary_type():
    types = {
        "Z": [{"name": "b", "type": "B"}, {"name": "a", "type": "A[]"}],
        "B": [{"name": "a", "type": "A"}],
        "A": [{"name": "x", "type": "uint8"}],
    }
    assert eip712.encode_type("Z", types) == "Z(B b,A[] a)A(uint8 x)B(A a)"


def test_domain_without_declared_type_follows_the_eip_field_order():
    msg = {**MAIL, "types": {k: v for k, v in MAIL_TYPES.items() if k != "EIP712Domain"}}
    assert eip712.domain_separator(msg) == eip712.domain_separator(MAIL)
    salted = {**msg, "domain": {"name": "X", "salt": b"\x07" * 32}}
    assert eip712.domain_separator(salted) == encode_typed_data(full_message=salted).header


def test_signature_is_eth_accounts_and_recovers_to_the_signer():
    signer = Account.from_key(keccak(text="agentbed/test_eip712"))
    msg = order_message(
        {
            "maker": {"name": "maker", "wallet": signer.address},
            "amount": 10**18,
            "delta": -5,
            "expiry": 1_700_000_000,
            "salt": b"\x01" * 32,
            "memo": b"\xde\xad",
            "note": "hello",
            "partial": True,
            "ids": [1, 2, 3],
            "pair": ["0x" + "11" * 20, "0x" + "22" * 20],
            "cosigners": [],
        },
        1337,
        "0x" + "33" * 20,
    )
    signature = eip712.sign_typed_message(signer, msg)
    assert signature == bytes(signer.sign_typed_data(full_message=msg).signature)
    assert signature[64] in (27, 28)
    recovered = Account.recover_message(encode_typed_data(full_message=msg), signature=signature)
    assert recovered == signer.address


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", -1, r"Order\.amount: -1 is not a valid uint256"),
        ("amount", True, r"Order\.amount: uint256 value must be an int, got bool"),
        ("salt", b"\x00" * 33, r"Order\.salt: .* is not a valid bytes32"),
        ("memo", "dead", r"Order\.memo: 'dead' is neither bytes nor 0x-prefixed hex"),
        ("note", b"x", r"Order\.note: string value must be str, got bytes"),
        ("pair", ["0x" + "11" * 20], r"Order\.pair: want 2 elements, got 1"),
        ("ids", 5, r"Order\.ids: array value must be a sequence, got int"),
    ],
)
def test_revert_when_a_value_does_not_fit_its_type(field, value, message):
    order = {
        "maker": {"name": "m", "wallet": "0x" + "44" * 20},
        "amount": 1,
        "delta": 0,
        "expiry": 0,
        "salt": b"\x00" * 32,
        "memo": b"",
        "note": "",
        "partial": False,
        "ids": [],
        "pair": ["0x" + "11" * 20, "0x" + "22" * 20],
        "cosigners": [],
        field: value,
    }
    with pytest.raises(eip712.TypedDataError, match=message):
        eip712.message_hash(order_message(order, 1, "0x" + "33" * 20))


def test_revert_when_a_field_is_missing_or_a_type_unknown():
    with pytest.raises(eip712.TypedDataError, match=r"Person\.wallet is missing"):
        eip712.hash_struct("Person", MAIL_TYPES, {"name": "Cow"})
    with pytest.raises(eip712.TypedDataError, match=r"Thing\.x: unknown type 'uint256x'"):
        eip712.hash_struct("Thing", {"Thing": [{"name": "x", "type": "uint256x"}]}, {"x": 1})
    with pytest.raises(eip712.TypedDataError, match=r"struct type 'Nope' is not defined"):
        eip712.type_hash("Nope", MAIL_TYPES)
