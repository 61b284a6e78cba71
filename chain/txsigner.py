"""Signing transaction dicts into raw transactions, byte for byte as eth-account does, faster.

eth-account builds sedes objects, validates through several layers of formatters and hashes
through eth-hash; on the flagship that was 9% of a run. :class:`FastSigner` encodes the four
envelopes this chain admits -- legacy (type 0, with or without an EIP-155 chain id), EIP-2930
(type 1), EIP-1559 (type 2) and EIP-7702 set-code (type 4) -- with a small RLP encoder,
hashes them with keccak and signs with libsecp256k1 through ``coincurve``, which is what
eth-account itself ends up calling (eth-keys' coincurve backend: RFC 6979 nonces, low ``s``).
The output is therefore the same bytes (tests/chain/test_txsigner.py checks it against
eth-account on random transactions).

Anything outside the plain shapes -- other types (blob), unknown keys, hex-string numbers, a
mis-checksummed address, a set-code tx without ``to`` or authorizations -- returns None, and
the caller signs with eth-account, which then also raises eth-account's errors for bad input.

:meth:`FastSigner.sign_authorization` signs one EIP-7702 authorization tuple (eth-account's
``Account.sign_authorization``, same signature) and returns it in the JSON-RPC shape that
both this signer and eth-account take in a tx's ``authorizationList``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import coincurve
from eth_account.datastructures import SignedSetCodeAuthorization
from eth_utils import is_checksum_address, to_checksum_address

from agentbed.chain.hashing import keccak, rlp_encode
from agentbed.chain.txcodec import SET_CODE_TX_TYPE, authorization_hash

__all__ = ["FastSigner"]

_UINT8 = 1 << 8
_UINT64 = 1 << 64
_UINT256 = 1 << 256
_FEE_MARKET_KEYS = frozenset(
    {
        "type",
        "chainId",
        "nonce",
        "maxPriorityFeePerGas",
        "maxFeePerGas",
        "gas",
        "to",
        "value",
        "data",
        "accessList",
    }
)
_AUTH_KEYS = frozenset({"chainId", "address", "nonce", "yParity", "r", "s"})

_KEYS = {
    0: frozenset({"type", "chainId", "nonce", "gasPrice", "gas", "to", "value", "data"}),
    1: frozenset(
        {"type", "chainId", "nonce", "gasPrice", "gas", "to", "value", "data", "accessList"}
    ),
    2: _FEE_MARKET_KEYS,
    SET_CODE_TX_TYPE: _FEE_MARKET_KEYS | {"authorizationList"},
}
_TYPES = {1: 1, 2: 2, 4: 4, "0x1": 1, "0x2": 2, "0x4": 4, "0x01": 1, "0x02": 2, "0x04": 4}
"""Explicit types eth-account signs (it refuses ``type: 0``: a legacy tx has no type field)."""


def _uint(fields: Mapping[str, Any], key: str, bound: int = _UINT256) -> int | None:
    value = fields.get(key, 0)
    if type(value) is not int or not 0 <= value < bound:
        return None
    return value


class FastSigner:
    """Signs transaction dicts for one private key (see the module docstring).

    Args:
        private_key: The 32-byte secret.
    """

    def __init__(self, private_key: bytes) -> None:
        self._key = coincurve.PrivateKey(bytes(private_key))
        self._addresses: dict[str, bytes] = {}

    def sign(self, fields: Mapping[str, Any]) -> bytes | None:
        """The raw signed transaction of ``fields``, or None when they are not a plain shape
        (the caller then signs with eth-account)."""
        tx_type = self._type(fields)
        if tx_type is None or not fields.keys() <= _KEYS[tx_type]:
            return None
        body = self._body(fields, tx_type)
        if body is None:
            return None
        if tx_type == 0:
            return self._sign_legacy(fields, body)
        prefix = bytes((tx_type,))
        r, s, y_parity = self._signature(keccak(prefix + rlp_encode(body)))
        return prefix + rlp_encode([*body, y_parity, r, s])

    @staticmethod
    def _type(fields: Mapping[str, Any]) -> int | None:
        given = fields.get("type")
        if given is not None:
            return _TYPES.get(given) if type(given) in (int, str) else None
        # eth-account's inference: fee-market fields make type 2 (4 with an authorization
        # list), an access list type 1.
        if "maxFeePerGas" in fields or "maxPriorityFeePerGas" in fields:
            return SET_CODE_TX_TYPE if "authorizationList" in fields else 2
        return 1 if "accessList" in fields else 0

    def _body(self, fields: Mapping[str, Any], tx_type: int) -> list[Any] | None:
        """The unsigned field list, or None for a value the fast path does not handle."""
        if "nonce" not in fields or "gas" not in fields:
            return None
        nonce = _uint(fields, "nonce", _UINT64)
        gas = _uint(fields, "gas", _UINT64)
        value = _uint(fields, "value")
        to = self._to(fields)
        data = _data(fields.get("data", b""))
        if None in (nonce, gas, value, to, data):
            return None
        tail = [gas, to, value, data]
        if tx_type == 0:
            price = _uint(fields, "gasPrice") if "gasPrice" in fields else None
            return None if price is None else [nonce, price, *tail]
        chain_id = _uint(fields, "chainId") if "chainId" in fields else None
        access = self._access_list(fields.get("accessList", ()))
        if chain_id is None or access is None:
            return None
        if tx_type == 1:
            price = _uint(fields, "gasPrice") if "gasPrice" in fields else None
            return None if price is None else [chain_id, nonce, price, *tail, access]
        if "maxFeePerGas" not in fields or "maxPriorityFeePerGas" not in fields:
            return None
        tip = _uint(fields, "maxPriorityFeePerGas")
        cap = _uint(fields, "maxFeePerGas")
        if tip is None or cap is None:
            return None
        if tx_type == 2:
            return [chain_id, nonce, tip, cap, *tail, access]
        auths = self._authorization_list(fields.get("authorizationList"))
        # A set-code tx always calls an address; eth-account would also sign a create.
        if auths is None or to == b"":
            return None
        return [chain_id, nonce, tip, cap, *tail, access, auths]

    def _sign_legacy(self, fields: Mapping[str, Any], body: list[Any]) -> bytes | None:
        if "chainId" not in fields:
            r, s, parity = self._signature(keccak(rlp_encode(body)))
            return rlp_encode([*body, 27 + parity, r, s])
        chain_id = _uint(fields, "chainId")
        if chain_id is None:
            return None
        # EIP-155: the chain id and two empty fields are signed; v carries the chain id.
        r, s, parity = self._signature(keccak(rlp_encode([*body, chain_id, 0, 0])))
        return rlp_encode([*body, 35 + 2 * chain_id + parity, r, s])

    def _signature(self, msg_hash: bytes) -> tuple[int, int, int]:
        sig = self._key.sign_recoverable(msg_hash, hasher=None)
        return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]

    def _address(self, value: Any) -> bytes | None:
        if isinstance(value, bytes) and len(value) == 20:
            return value
        if not isinstance(value, str):
            return None
        known = self._addresses.get(value)
        if known is not None:
            return known
        # eth-account takes a string address only in its checksum form.
        if not is_checksum_address(value):
            return None
        raw = bytes.fromhex(value[2:])
        self._addresses[value] = raw
        return raw

    def _to(self, fields: Mapping[str, Any]) -> bytes | None:
        if "to" not in fields:
            return b""
        return self._address(fields["to"])

    def _access_list(self, entries: Any) -> list[Any] | None:
        if not isinstance(entries, list | tuple):
            return None
        out: list[Any] = []
        for entry in entries:
            if not isinstance(entry, Mapping) or entry.keys() != {"address", "storageKeys"}:
                return None
            address = self._address(entry["address"])
            keys = [_data(k) for k in entry["storageKeys"]]
            if address is None or any(k is None or len(k) != 32 for k in keys):
                return None
            out.append([address, keys])
        return out

    def _authorization_list(self, entries: Any) -> list[Any] | None:
        """The RLP items of a non-empty authorization list, or None for another shape."""
        if not isinstance(entries, list | tuple) or not entries:
            return None
        out: list[Any] = []
        for entry in entries:
            if isinstance(entry, SignedSetCodeAuthorization):
                entry = entry.model_dump(by_alias=True)
            if not isinstance(entry, Mapping) or entry.keys() != _AUTH_KEYS:
                return None
            address = self._address(entry["address"])
            items = [
                _uint(entry, "chainId"),
                address,
                _uint(entry, "nonce", _UINT64),
                _uint(entry, "yParity", _UINT8),
                _uint(entry, "r"),
                _uint(entry, "s"),
            ]
            if None in items:
                return None
            out.append(items)
        return out

    def sign_authorization(self, *, chain_id: int, address: str, nonce: int) -> dict[str, Any]:
        """Sign an EIP-7702 delegation of this key's account to ``address``'s code.

        Args:
            chain_id: The chain it is valid on (0: every chain).
            address: The delegate (checksummed).
            nonce: The authority's account nonce when the tx carrying it runs. When the
                authority also sends that tx, this is its tx nonce + 1 (the sender's nonce is
                bumped before authorizations are processed).

        Returns:
            ``{"chainId", "address", "nonce", "yParity", "r", "s"}`` (ints, checksummed
            address), an entry for a tx's ``authorizationList``.
        """
        raw = self._address(address)
        if raw is None:
            raise ValueError(f"authorization address: not a checksummed address: {address!r}")
        r, s, y_parity = self._signature(authorization_hash(chain_id, raw, nonce))
        return {
            "chainId": chain_id,
            "address": to_checksum_address(raw),
            "nonce": nonce,
            "yParity": y_parity,
            "r": r,
            "s": s,
        }


def _data(value: Any) -> bytes | None:
    """Calldata or a storage key as bytes: bytes as given, a ``0x`` hex string decoded."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None
