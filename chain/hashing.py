"""Keccak and RLP on the hot paths: the fastest keccak at hand, a small RLP encoder.

eth-hash's automatic backend takes pycryptodome before pysha3; pysha3 (``safe-pysha3``) is
about 7x faster per call on the short inputs a chain hashes -- trie nodes, addresses, signing
payloads. :func:`keccak` uses it when installed, and :func:`prefer_pysha3` points eth-hash
(which py-evm and eth-utils call) at it too. :func:`rlp_encode` encodes what transactions are
made of -- byte strings, integers, lists -- without pyrlp's sedes inference. Digests and
encodings are the same as the libraries'; only the time differs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from eth_utils import keccak as _eth_keccak

try:  # safe-pysha3: a C keccak
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - depends on the environment
    _keccak_256 = None

__all__ = ["keccak", "prefer_pysha3", "rlp_encode"]


def keccak(data: bytes) -> bytes:
    """Keccak-256 of ``data``."""
    if _keccak_256 is not None:
        return _keccak_256(data).digest()
    return _eth_keccak(data)


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


def rlp_encode(item: bytes | int | Sequence[Any]) -> bytes:
    """RLP encoding of a byte string, a non-negative integer or a (nested) list of them."""
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length_prefix(len(item), 0x80) + item
    payload = b"".join(rlp_encode(x) for x in item)
    return _length_prefix(len(payload), 0xC0) + payload


def prefer_pysha3() -> bool:
    """Point eth-hash's automatic keccak (py-evm hashes every trie node and address with it)
    at pysha3 when that is installed; return whether it now is.

    eth-hash's automatic choice takes pycryptodome first, about 7x slower per call on the
    short inputs py-evm hashes (~100k calls in one flagship run). The digests are the same:
    only the speed changes. An explicit ``ETH_HASH_BACKEND`` is left as the user set it.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return False
    try:
        from eth_hash.backends import pysha3
    except ImportError:  # safe-pysha3 not installed: keep eth-hash's choice
        return False
    from eth_hash.auto import keccak as auto_keccak

    # What eth-hash itself does after its first call: bind the backend's function directly.
    auto_keccak.hasher = pysha3.keccak256  # type: ignore[method-assign,assignment]
    auto_keccak.preimage = pysha3.preimage  # type: ignore[method-assign,assignment]
    return True
