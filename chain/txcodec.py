"""Decode raw signed transaction bytes into :class:`agentbed.chain.types.Transaction`.

This is the first half of admission (geth's ``types.Transaction.UnmarshalBinary`` plus
``types.Sender``): it parses legacy (type 0, EIP-155 or unprotected), EIP-2930 (type 1) and
EIP-1559 (type 2) envelopes, checks the chain id and the signature values, and recovers the
sender. The pool-level rules (sizes, fees, nonces, funds) live in :mod:`agentbed.chain.mempool`.

EIP-7702 set-code (type 4) txs are decoded too: their ``to`` must be an address (geth's
``SetCodeTx.To`` is not nullable, so a create does not even decode) and each authorization
tuple's authority is recovered here, from ``keccak(0x05 || rlp([chain_id, address, nonce]))``
(EIP-7702's ``MAGIC``). A tuple whose signature recovers nothing keeps ``authority=None``:
it is not a decoding error, execution skips it (EIP-7702, "invalid authorizations").
:func:`authorization_hash` and :func:`authorization_items` are the encoding half, shared with
:mod:`agentbed.chain.txsigner`.

Decoding runs on the hot path of the throughput benchmark, so it works on the raw RLP items
(no sedes classes), re-encodes the signed fields with a small RLP encoder, hashes with the
fastest keccak at hand and recovers the sender with ``coincurve`` directly.
"""

from __future__ import annotations

import coincurve
import rlp

from agentbed.chain.addresses import checksum
from agentbed.chain.errors import (
    InvalidChainId,
    InvalidSender,
    MalformedTransaction,
    TxTypeNotSupported,
    UnprotectedTx,
)
from agentbed.chain.hashing import keccak, rlp_encode
from agentbed.chain.memo import BoundedMemo
from agentbed.chain.types import AccessListEntry, Authorization, Transaction

__all__ = [
    "SECP256K1_N",
    "SET_CODE_TX_TYPE",
    "TxDecoder",
    "authorization_hash",
    "authorization_items",
    "decode_transaction",
    "make_authorization",
]

SET_CODE_TX_TYPE = 4
"""EIP-7702's transaction type."""
AUTHORIZATION_MAGIC = b"\x05"
"""EIP-7702: the byte prefixed to an authorization tuple's RLP before hashing."""

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""Order of the secp256k1 group."""
_HALF_N = SECP256K1_N // 2

_MAX_UINT8_BYTES = 1
_MAX_UINT64_BYTES = 8
_MAX_UINT256_BYTES = 32

_Item = bytes | list  # an RLP item: a byte string or a list of items

DECODED_KEPT = 1024
"""Decoded transactions a :class:`TxDecoder` keeps (many blocks' worth; bounded, for memory)."""


def _uint(item: _Item, what: str, max_bytes: int = _MAX_UINT256_BYTES) -> int:
    """Decode a canonical big-endian RLP integer, as geth's ``rlp`` package insists on."""
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"{what}: expected integer, got list")
    if len(item) > max_bytes:
        raise MalformedTransaction(f"{what}: integer too large")
    if item[:1] == b"\x00":
        # Leading zeros would give the same number two encodings (and two tx hashes).
        raise MalformedTransaction(f"{what}: non-canonical integer (leading zero bytes)")
    return int.from_bytes(item, "big")


def _bytes(item: _Item, what: str) -> bytes:
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"{what}: expected byte string, got list")
    return item


def _to(item: _Item) -> str | None:
    raw = _bytes(item, "to")
    if raw == b"":
        return None
    if len(raw) != 20:
        raise MalformedTransaction(f"to: expected 20 bytes, got {len(raw)}")
    return checksum(raw)


def _access_list(item: _Item) -> tuple[AccessListEntry, ...]:
    if not isinstance(item, list):
        raise MalformedTransaction("access list: expected list")
    entries = []
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 2:
            raise MalformedTransaction("access list: entry must be [address, storageKeys]")
        address, keys = entry
        if not isinstance(address, bytes) or len(address) != 20:
            raise MalformedTransaction("access list: address must be 20 bytes")
        if not isinstance(keys, list) or any(
            not isinstance(k, bytes) or len(k) != 32 for k in keys
        ):
            raise MalformedTransaction("access list: storage keys must be 32 bytes each")
        entries.append(AccessListEntry(checksum(address), tuple(keys)))
    return tuple(entries)


def authorization_hash(chain_id: int, address: bytes, nonce: int) -> bytes:
    """What an authority signs (EIP-7702): ``keccak(0x05 || rlp([chain_id, address, nonce]))``.

    Args:
        chain_id: The chain the delegation is for (0: every chain).
        address: The 20-byte delegate address.
        nonce: The authority's account nonce the delegation is valid at.
    """
    return keccak(AUTHORIZATION_MAGIC + rlp_encode([chain_id, address, nonce]))


def authorization_items(auths: tuple[Authorization, ...]) -> list[list[int | bytes]]:
    """The RLP items of an authorization list, as a set-code tx carries them."""
    return [
        [a.chain_id, bytes.fromhex(a.address[2:]), a.nonce, a.y_parity, a.r, a.s] for a in auths
    ]


def make_authorization(
    chain_id: int, address: bytes, nonce: int, y_parity: int, r: int, s: int
) -> Authorization:
    """The record of one signed tuple, its authority recovered as geth's
    ``SetCodeAuthorization.Authority`` does (None for a signature that recovers nothing)."""
    try:
        authority = _recover_sender(authorization_hash(chain_id, address, nonce), y_parity, r, s)
    except InvalidSender:
        authority = None
    return Authorization(chain_id, checksum(address), nonce, y_parity, r, s, authority)


def _authorization_list(item: _Item) -> tuple[Authorization, ...]:
    """Decode the tuples with geth's field types (uint256 chain id, uint64 nonce, uint8 v)."""
    if not isinstance(item, list):
        raise MalformedTransaction("authorization list: expected list")
    auths = []
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 6:
            raise MalformedTransaction(
                "authorization list: entry must be [chainId, address, nonce, yParity, r, s]"
            )
        address = _bytes(entry[1], "authorization address")
        if len(address) != 20:
            raise MalformedTransaction("authorization list: address must be 20 bytes")
        chain_id = _uint(entry[0], "authorization chainId")
        nonce = _uint(entry[2], "authorization nonce", _MAX_UINT64_BYTES)
        y_parity = _uint(entry[3], "authorization yParity", _MAX_UINT8_BYTES)
        r = _uint(entry[4], "authorization r")
        s = _uint(entry[5], "authorization s")
        auths.append(make_authorization(chain_id, address, nonce, y_parity, r, s))
    return tuple(auths)


def _recover_sender(msg_hash: bytes, recovery_id: int, r: int, s: int) -> str:
    """Recover the signer's address; raise :class:`InvalidSender` as geth's ``Sender`` does."""
    # geth crypto.ValidateSignatureValues with homestead=true: 0 < r, s < n and s <= n/2.
    if not (0 < r < SECP256K1_N) or not (0 < s <= _HALF_N):
        raise InvalidSender("invalid transaction v, r, s values")
    if recovery_id not in (0, 1):
        raise InvalidSender("invalid transaction v, r, s values")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((recovery_id,))
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            signature, msg_hash, hasher=None
        )
    except Exception as err:  # coincurve raises plain ValueError/Exception subclasses
        raise InvalidSender("signature does not recover a public key") from err
    return checksum(keccak(public_key.format(compressed=False)[1:])[-20:])


def decode_transaction(
    raw: bytes, *, chain_id: int, allow_unprotected: bool = False
) -> Transaction:
    """Decode and signature-check one raw signed transaction.

    Args:
        raw: The bytes ``eth_sendRawTransaction`` receives: an RLP list for legacy txs, or a
            type byte followed by the RLP payload for typed (EIP-2718) txs.
        chain_id: The chain id the signer must have used.
        allow_unprotected: Admit pre-EIP-155 legacy txs (geth's
            ``--rpc.allow-unprotected-txs``).

    Returns:
        The decoded transaction. Legacy and type-1 txs carry ``gas_price`` in both fee fields.
        ``hash`` is keccak of ``raw``.

    Raises:
        MalformedTransaction: The bytes are not a well-formed signed transaction (a
            set-code tx without a ``to`` among them).
        TxTypeNotSupported: A type other than 0, 1, 2 or 4 (blob, unknown).
        InvalidChainId: The tx was signed for another chain id.
        UnprotectedTx: A pre-EIP-155 legacy tx while ``allow_unprotected`` is false.
        InvalidSender: Bad ``v``/``yParity``, ``r``/``s`` out of range, high ``s``, or a
            signature from which no public key recovers.
    """
    raw = bytes(raw)
    if not raw:
        raise MalformedTransaction("empty input")
    first = raw[0]
    if first >= 0xC0:
        return _decode_legacy(raw, chain_id, allow_unprotected)
    if first > 0x7F:
        # An RLP string header: neither a legacy list nor an EIP-2718 type byte.
        raise MalformedTransaction("typed transaction too short or not an RLP list")
    if first not in (1, 2, SET_CODE_TX_TYPE):
        raise TxTypeNotSupported(f"type {first}")
    return _decode_typed(raw, _decode_rlp_list(raw[1:]), first, chain_id)


def _decode_rlp_list(payload: bytes) -> list[_Item]:
    try:
        items = rlp.decode(payload, strict=True)
    except Exception as err:  # rlp.DecodingError and friends
        raise MalformedTransaction(str(err)) from err
    if not isinstance(items, list):
        raise MalformedTransaction("expected an RLP list")
    return items


def _decode_legacy(raw: bytes, chain_id: int, allow_unprotected: bool) -> Transaction:
    items = _decode_rlp_list(raw)
    if len(items) != 9:
        raise MalformedTransaction(f"legacy tx: expected 9 fields, got {len(items)}")
    nonce = _uint(items[0], "nonce", _MAX_UINT64_BYTES)
    gas_price = _uint(items[1], "gasPrice")
    gas = _uint(items[2], "gas", _MAX_UINT64_BYTES)
    to = _to(items[3])
    value = _uint(items[4], "value")
    data = _bytes(items[5], "data")
    v = _uint(items[6], "v")
    r = _uint(items[7], "r")
    s = _uint(items[8], "s")

    tx_chain_id: int | None
    if v in (27, 28):
        if not allow_unprotected:
            raise UnprotectedTx()
        tx_chain_id = None
        recovery_id = v - 27
        signing_payload = rlp_encode(items[:6])
    elif v >= 35:
        tx_chain_id = (v - 35) // 2
        if tx_chain_id != chain_id:
            raise InvalidChainId(f"have {tx_chain_id} want {chain_id}")
        recovery_id = (v - 35) % 2
        signing_payload = rlp_encode([*items[:6], chain_id, b"", b""])
    else:
        raise InvalidSender("invalid transaction v, r, s values")
    sender = _recover_sender(keccak(signing_payload), recovery_id, r, s)
    return Transaction(
        hash=keccak(raw),
        raw=raw,
        type=0,
        chain_id=tx_chain_id,
        nonce=nonce,
        gas=gas,
        max_fee_per_gas=gas_price,
        max_priority_fee_per_gas=gas_price,
        to=to,
        value=value,
        data=data,
        access_list=(),
        sender=sender,
        v=v,
        r=r,
        s=s,
    )


def _decode_typed(raw: bytes, items: list[_Item], tx_type: int, chain_id: int) -> Transaction:
    n_fields = {1: 11, 2: 12, SET_CODE_TX_TYPE: 13}[tx_type]
    if len(items) != n_fields:
        raise MalformedTransaction(
            f"type {tx_type} tx: expected {n_fields} fields, got {len(items)}"
        )
    tx_chain_id = _uint(items[0], "chainId")
    nonce = _uint(items[1], "nonce", _MAX_UINT64_BYTES)
    if tx_type == 1:
        tip = fee_cap = _uint(items[2], "gasPrice")
        rest = items[3:]
    else:
        tip = _uint(items[2], "maxPriorityFeePerGas")
        fee_cap = _uint(items[3], "maxFeePerGas")
        rest = items[4:]
    gas = _uint(rest[0], "gas", _MAX_UINT64_BYTES)
    to = _to(rest[1])
    value = _uint(rest[2], "value")
    data = _bytes(rest[3], "data")
    access_list = _access_list(rest[4])
    authorizations: tuple[Authorization, ...] = ()
    if tx_type == SET_CODE_TX_TYPE:
        if to is None:
            # geth: SetCodeTx.To is a plain address (core.ErrSetCodeTxCreate's rule).
            raise MalformedTransaction("EIP-7702 transaction cannot be used to create contract")
        authorizations = _authorization_list(rest[5])
    y_parity = _uint(rest[-3], "yParity")
    r = _uint(rest[-2], "r")
    s = _uint(rest[-1], "s")
    # geth's signer compares the chain id before it looks at the signature.
    if tx_chain_id != chain_id:
        raise InvalidChainId(f"have {tx_chain_id} want {chain_id}")
    signing_hash = keccak(bytes((tx_type,)) + rlp_encode(items[:-3]))
    sender = _recover_sender(signing_hash, y_parity, r, s)
    return Transaction(
        hash=keccak(raw),
        raw=raw,
        type=tx_type,
        chain_id=tx_chain_id,
        nonce=nonce,
        gas=gas,
        max_fee_per_gas=fee_cap,
        max_priority_fee_per_gas=tip,
        to=to,
        value=value,
        data=data,
        access_list=access_list,
        sender=sender,
        v=y_parity,
        r=r,
        s=s,
        authorization_list=authorizations,
    )


class TxDecoder:
    """:func:`decode_transaction` for one chain, remembering what it decoded.

    The same raw bytes come back several times -- a bundle's txs after admission, a block's
    txs for a counterfactual replay -- and each time would cost a signature recovery. Only
    successful decodings are kept (the most recent :data:`DECODED_KEPT`); a rejected tx is
    checked afresh, so its error is raised every time.

    Args:
        chain_id: The chain id signers must use.
    """

    def __init__(self, chain_id: int) -> None:
        self.chain_id = chain_id
        self._decoded: BoundedMemo[tuple[bytes, bool], Transaction] = BoundedMemo(DECODED_KEPT)

    def decode(self, raw: bytes, *, allow_unprotected: bool = False) -> Transaction:
        """``decode_transaction(raw, ...)`` for this chain (same errors)."""
        raw = bytes(raw)
        key = (raw, allow_unprotected)
        tx = self._decoded.get(key)
        if tx is None:
            tx = decode_transaction(
                raw, chain_id=self.chain_id, allow_unprotected=allow_unprotected
            )
            self._decoded.put(key, tx)
        return tx
