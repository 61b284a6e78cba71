"""The fast signer equals eth-account byte for byte, and leaves other shapes to it."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.chain.hashing import keccak, rlp_encode
from agentbed.chain.txcodec import decode_transaction
from agentbed.chain.txsigner import FastSigner

UINT64 = st.integers(0, 2**64 - 1)
UINT256 = st.integers(0, 2**256 - 1)
SMALL = st.integers(0, 2**40)
KEYS = st.integers(1, 2**256 - 2**129).map(lambda k: k.to_bytes(32, "big"))
RAW_ADDRESS = st.binary(min_size=20, max_size=20)
ADDRESS = st.one_of(RAW_ADDRESS.map(to_checksum_address), RAW_ADDRESS)
DATA = st.one_of(st.binary(max_size=300), st.binary(max_size=60).map(lambda b: "0x" + b.hex()))
ACCESS_LIST = st.lists(
    st.fixed_dictionaries(
        {
            "address": ADDRESS,
            "storageKeys": st.lists(
                st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()), max_size=3
            ),
        }
    ),
    max_size=3,
)
AUTHORIZATION = st.fixed_dictionaries(
    {
        "chainId": st.one_of(st.just(0), st.just(1337), UINT256),
        "address": ADDRESS.map(lambda a: a if isinstance(a, str) else to_checksum_address(a)),
        "nonce": st.one_of(SMALL, UINT64),
        "yParity": st.integers(0, 1),
        "r": UINT256,
        "s": UINT256,
    }
)


@st.composite
def transactions(draw: st.DrawFn) -> dict[str, Any]:
    """A transaction dict of type 0, 1, 2 or 4 as a wallet hands it to eth-account."""
    tx_type = draw(st.sampled_from([0, 1, 2, 4]))
    tx: dict[str, Any] = {
        "nonce": draw(st.one_of(SMALL, UINT64)),
        "gas": draw(st.one_of(st.integers(21_000, 30_000_000), UINT64)),
        "value": draw(st.one_of(SMALL, UINT256)),
        "data": draw(DATA),
    }
    if tx_type == 4 or draw(st.booleans()):  # a set-code tx always calls an address
        tx["to"] = draw(ADDRESS)
    if tx_type == 4:
        tx["authorizationList"] = draw(st.lists(AUTHORIZATION, min_size=1, max_size=3))
    if tx_type >= 2:
        tx["maxPriorityFeePerGas"] = draw(st.one_of(SMALL, UINT256))
        tx["maxFeePerGas"] = draw(st.one_of(SMALL, UINT256))
    else:
        tx["gasPrice"] = draw(st.one_of(SMALL, UINT256))
    if tx_type or draw(st.booleans()):
        tx["chainId"] = draw(st.one_of(st.integers(1, 2**32), st.just(1337)))
    if tx_type and draw(st.booleans()):
        tx["accessList"] = draw(ACCESS_LIST)
    if tx_type == 1 and "accessList" not in tx:
        tx["accessList"] = []
    # eth-account infers the type from the fields; say it explicitly only sometimes (and
    # never for legacy: eth-account refuses ``type: 0``).
    if tx_type and draw(st.booleans()):
        tx["type"] = draw(st.sampled_from([tx_type, hex(tx_type)]))
    return tx


@settings(max_examples=400, deadline=None)
@given(tx=transactions(), key=KEYS)
def test_fuzz_signed_bytes_equal_eth_account(tx: dict[str, Any], key: bytes) -> None:
    ours = FastSigner(key).sign(tx)
    assert ours is not None, "a plain transaction must take the fast path"
    assert ours == bytes(Account.sign_transaction(tx, key).raw_transaction)


@settings(max_examples=50, deadline=None)
@given(tx=transactions(), key=KEYS)
def test_fuzz_signed_tx_recovers_the_signer(tx: dict[str, Any], key: bytes) -> None:
    if "chainId" not in tx:
        return  # unprotected legacy: admitted only with allow_unprotected (checked below)
    raw = FastSigner(key).sign(tx)
    assert raw is not None
    decoded = decode_transaction(raw, chain_id=tx["chainId"])
    assert decoded.sender == Account.from_key(key).address
    assert decoded.nonce == tx["nonce"]


def test_unprotected_legacy_recovers_the_signer() -> None:
    key = b"\x11" * 32
    tx = {"nonce": 3, "gas": 21_000, "gasPrice": 7, "to": "0x" + "22" * 20, "value": 1}
    raw = FastSigner(key).sign(tx)
    assert raw is not None
    decoded = decode_transaction(raw, chain_id=1, allow_unprotected=True)
    assert decoded.sender == Account.from_key(key).address
    assert decoded.v in (27, 28)


@pytest.mark.parametrize(
    "tx",
    [
        {"type": 0, "nonce": 0, "gas": 21_000, "gasPrice": 1},
        {"type": 3, "nonce": 0, "gas": 1, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1},
        {"nonce": "0x1", "gas": 21_000, "gasPrice": 1, "chainId": 1},
        {"nonce": 1, "gas": 21_000, "gasPrice": -1, "chainId": 1},
        {"nonce": 1, "gas": 21_000, "gasPrice": 1, "chainId": 1, "from": "0x" + "00" * 20},
        {"nonce": 1, "gas": 21_000, "gasPrice": 1, "chainId": 1, "to": "0x" + "Ab" * 20},
        {"nonce": 1, "gas": 21_000, "gasPrice": 1, "chainId": 1, "to": "0x" + "ab" * 20},
        {"nonce": 1, "gas": 21_000, "gasPrice": 1, "chainId": 1, "data": "abcd"},
        {"nonce": 1, "gas": 21_000, "maxFeePerGas": 1, "chainId": 1},
        {"nonce": 1, "gasPrice": 1, "chainId": 1},
        {"nonce": True, "gas": 21_000, "gasPrice": 1, "chainId": 1},
    ],
    ids=[
        "explicit-legacy-type",
        "blob-type",
        "hex-nonce",
        "negative",
        "unknown-key",
        "bad-checksum",
        "lowercase-address",
        "hex-without-0x",
        "half-fee-market",
        "no-gas",
        "bool-nonce",
    ],
)
def test_other_shapes_are_left_to_eth_account(tx: dict[str, Any]) -> None:
    assert FastSigner(b"\x01" * 32).sign(tx) is None


@given(
    item=st.recursive(
        st.one_of(st.binary(max_size=80), st.integers(0, 2**256)),
        lambda children: st.lists(children, max_size=5),
        max_leaves=20,
    )
)
def test_fuzz_rlp_encoding_equals_pyrlp(item: Any) -> None:
    assert rlp_encode(item) == rlp.encode(item)


def test_keccak_of_empty_input() -> None:
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@settings(max_examples=60, deadline=None)
@given(
    key=KEYS,
    chain_id=st.one_of(st.just(0), st.just(1337), UINT256),
    delegate=RAW_ADDRESS.map(to_checksum_address),
    nonce=UINT64,
)
def test_fuzz_authorization_signature_equals_eth_account(
    key: bytes, chain_id: int, delegate: str, nonce: int
) -> None:
    ours = FastSigner(key).sign_authorization(chain_id=chain_id, address=delegate, nonce=nonce)
    theirs = Account.sign_authorization(
        {"chainId": chain_id, "address": delegate, "nonce": nonce}, key
    )
    assert (ours["yParity"], ours["r"], ours["s"]) == (theirs.y_parity, theirs.r, theirs.s)
    assert (ours["chainId"], ours["address"], ours["nonce"]) == (chain_id, delegate, nonce)


def test_eth_account_signed_authorizations_take_the_fast_path() -> None:
    key, authority_key = b"\x11" * 32, b"\x22" * 32
    delegate = Account.from_key(b"\x33" * 32).address
    signed = Account.sign_authorization(
        {"chainId": 1337, "address": delegate, "nonce": 4}, authority_key
    )
    tx = {
        "chainId": 1337,
        "nonce": 0,
        "gas": 100_000,
        "maxFeePerGas": 10,
        "maxPriorityFeePerGas": 1,
        "to": Account.from_key(authority_key).address,
        "authorizationList": [signed],
    }
    ours = FastSigner(key).sign(tx)
    assert ours == bytes(Account.sign_transaction(tx, key).raw_transaction)
    decoded = decode_transaction(ours, chain_id=1337)
    assert decoded.type == 4
    assert decoded.authorization_list[0].authority == Account.from_key(authority_key).address
    assert decoded.authorization_list[0].nonce == 4


@pytest.mark.parametrize(
    "change",
    [{"authorizationList": []}, {"to": None}, {"authorizationList": [{"chainId": 1}]}],
    ids=["empty-authorizations", "create", "partial-authorization"],
)
def test_set_code_shapes_outside_the_fast_path(change: dict[str, Any]) -> None:
    auth = FastSigner(b"\x22" * 32).sign_authorization(
        chain_id=1, address="0x" + "00" * 19 + "01", nonce=0
    )
    tx: dict[str, Any] = {
        "chainId": 1,
        "nonce": 0,
        "gas": 100_000,
        "maxFeePerGas": 10,
        "maxPriorityFeePerGas": 1,
        "to": "0x000000000000000000000000000000000000dEaD",
        "authorizationList": [auth],
    }
    tx.update(change)
    if tx["to"] is None:
        del tx["to"]
    assert FastSigner(b"\x11" * 32).sign(tx) is None
