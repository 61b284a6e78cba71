"""Decoding raw signed transactions, checked against eth_account as the reference signer."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak
from rawtxkit import CHAIN_ID, GWEI, TO, account, sign

from agentbed.chain.errors import (
    InvalidChainId,
    InvalidSender,
    MalformedTransaction,
    TxTypeNotSupported,
    UnprotectedTx,
)
from agentbed.chain.txcodec import SECP256K1_N, decode_transaction

ACCESS_LIST = [
    {
        "address": "0x000000000000000000000000000000000000bEEF",
        "storageKeys": ["0x" + "00" * 31 + "01", "0x" + "ab" * 32],
    }
]


@pytest.mark.parametrize(
    ("tx_type", "to", "data", "access_list"),
    [
        (0, TO, b"", None),
        (0, None, bytes.fromhex("6000600055"), None),
        (1, TO, b"\x00\x01\x02", ACCESS_LIST),
        (1, None, b"\x60\x00", []),
        (2, TO, b"\xff" * 40, ACCESS_LIST),
        (2, None, b"\x00" * 10, None),
    ],
)
def test_decode_matches_eth_account(
    tx_type: int, to: str | None, data: bytes, access_list: list | None
) -> None:
    fields: dict = {
        "nonce": 7,
        "gas": 100_000,
        "value": 12345,
        "data": data,
        "chainId": CHAIN_ID,
    }
    if to is not None:
        fields["to"] = to
    if tx_type == 2:
        fields.update(type=2, maxFeePerGas=3 * GWEI, maxPriorityFeePerGas=GWEI)
    else:
        fields["gasPrice"] = 3 * GWEI
        if tx_type == 1:
            fields["type"] = 1
    if access_list is not None:
        fields["accessList"] = access_list
    signed = account(3).sign_transaction(fields)

    tx = decode_transaction(bytes(signed.raw_transaction), chain_id=CHAIN_ID)

    assert tx.hash == bytes(signed.hash) == keccak(bytes(signed.raw_transaction))
    assert tx.sender == account(3).address
    assert tx.type == tx_type
    assert tx.chain_id == CHAIN_ID
    assert (tx.nonce, tx.gas, tx.value, tx.data, tx.to) == (7, 100_000, 12345, data, to)
    assert (tx.r, tx.s) == (signed.r, signed.s)
    assert tx.max_fee_per_gas == 3 * GWEI
    assert tx.max_priority_fee_per_gas == (GWEI if tx_type == 2 else 3 * GWEI)
    if tx_type == 0:
        assert tx.v == signed.v
        assert (tx.v - 35) // 2 == CHAIN_ID
    else:
        assert tx.v == signed.v in (0, 1)
    expected_al = tuple(
        (e["address"], tuple(bytes.fromhex(k[2:]) for k in e["storageKeys"]))
        for e in (access_list or [])
    )
    assert tuple((e.address, e.storage_keys) for e in tx.access_list) == expected_al
    assert tx.size == len(signed.raw_transaction)


def test_recovered_sender_matches_eth_account_for_many_keys() -> None:
    for i in range(1, 30):
        raw = sign(i, i, tx_type=i % 3)
        assert decode_transaction(raw, chain_id=CHAIN_ID).sender == Account.recover_transaction(raw)


def test_unprotected_legacy_rejected_unless_allowed() -> None:
    raw = sign(1, 0, tx_type=0, chain_id=None)
    with pytest.raises(UnprotectedTx, match="only replay-protected"):
        decode_transaction(raw, chain_id=CHAIN_ID)
    tx = decode_transaction(raw, chain_id=CHAIN_ID, allow_unprotected=True)
    assert tx.chain_id is None
    assert tx.v in (27, 28)
    assert tx.sender == account(1).address


@pytest.mark.parametrize("tx_type", [0, 1, 2])
def test_revert_when_chain_id_differs(tx_type: int) -> None:
    raw = sign(1, 0, tx_type=tx_type, chain_id=CHAIN_ID + 1)
    with pytest.raises(InvalidChainId, match="invalid chain id for signer"):
        decode_transaction(raw, chain_id=CHAIN_ID)
    assert decode_transaction(raw, chain_id=CHAIN_ID + 1).sender == account(1).address


@pytest.mark.parametrize("type_byte", [0x00, 0x03, 0x05, 0x7F])  # 4: set-code, decoded
def test_revert_when_type_not_supported(type_byte: int) -> None:
    with pytest.raises(TxTypeNotSupported, match="transaction type not supported"):
        decode_transaction(bytes([type_byte]) + rlp.encode([b"\x01"] * 12), chain_id=CHAIN_ID)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x80",  # RLP empty string: neither a list nor a type byte
        b"\x02",  # type byte, no payload
        b"\x02\xc0",  # empty payload list
        b"\xc3\x01\x02\x03",  # legacy list with 3 fields
        b"\x02" + b"\xf8\x05\x01",  # truncated RLP
    ],
)
def test_revert_when_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedTransaction):
        decode_transaction(raw, chain_id=CHAIN_ID)


def test_revert_when_trailing_bytes() -> None:
    raw = sign(1, 0)
    with pytest.raises(MalformedTransaction):
        decode_transaction(raw + b"\x00", chain_id=CHAIN_ID)


def _resign_fields(raw: bytes, index: int, value: bytes) -> bytes:
    """Replace RLP field ``index`` of a type-2 tx (signature then no longer matches)."""
    items = rlp.decode(raw[1:])
    items[index] = value
    return raw[:1] + rlp.encode(items)


def test_revert_when_integer_not_canonical() -> None:
    raw = sign(1, 5)
    with pytest.raises(MalformedTransaction, match="non-canonical"):
        decode_transaction(_resign_fields(raw, 1, b"\x00\x05"), chain_id=CHAIN_ID)


def test_revert_when_high_s() -> None:
    raw = sign(1, 0)
    items = rlp.decode(raw[1:])
    s = int.from_bytes(items[-1], "big")
    y = int.from_bytes(items[-3], "big")
    # (r, n - s) with flipped parity is the same signature in the other half: valid maths,
    # but EIP-2 forbids it. Keep it well-formed so only the high-s rule can reject it.
    items[-1] = (SECP256K1_N - s).to_bytes(32, "big").lstrip(b"\x00")
    items[-3] = b"" if y == 1 else b"\x01"
    with pytest.raises(InvalidSender, match="invalid sender"):
        decode_transaction(raw[:1] + rlp.encode(items), chain_id=CHAIN_ID)


@pytest.mark.parametrize(
    ("index", "value"),
    [
        (-3, b"\x02"),  # yParity 2
        (-2, b""),  # r = 0
        (-1, b""),  # s = 0
        (-2, SECP256K1_N.to_bytes(32, "big")),  # r = n
    ],
)
def test_revert_when_signature_values_invalid(index: int, value: bytes) -> None:
    raw = sign(1, 0)
    with pytest.raises(InvalidSender):
        decode_transaction(_resign_fields(raw, index, value), chain_id=CHAIN_ID)


@pytest.mark.parametrize("v", [0, 1, 26, 29, 34])
def test_revert_when_legacy_v_invalid(v: int) -> None:
    items = rlp.decode(sign(1, 0, tx_type=0))
    items[6] = v.to_bytes(1, "big").lstrip(b"\x00")
    with pytest.raises(InvalidSender):
        decode_transaction(rlp.encode(items), chain_id=CHAIN_ID)


def test_tampered_payload_recovers_a_different_sender() -> None:
    raw = sign(1, 0, value=1)
    tx = decode_transaction(_resign_fields(raw, 6, b"\x02"), chain_id=CHAIN_ID)
    assert tx.value == 2
    assert tx.sender != account(1).address
