"""EIP-55 address formatting and canonical (20-byte) addresses, memoised.

Every log, sender and decoded address argument is shown in checksummed form. Computing it costs
a keccak per call, and a fresh ``str`` per record costs ~90 bytes that long runs keep forever.
Memoising returns one shared ``str`` per distinct address: faster and smaller. The cache is a
pure function's memo (same input, same output), so it cannot affect determinism.
"""

from __future__ import annotations

import functools

import rlp
from eth_typing import Address as CanonicalAddress
from eth_utils import keccak, to_canonical_address, to_checksum_address


@functools.lru_cache(maxsize=1 << 16)
def checksum(address: bytes | str) -> str:
    """EIP-55 checksummed form of a 20-byte address or hex string."""
    return to_checksum_address(address)


@functools.lru_cache(maxsize=1 << 13)
def canonical(address: str | bytes) -> CanonicalAddress:
    """The 20 bytes of ``address``: agents read the same accounts every block, and
    eth-utils' conversion goes through several layers of decorators."""
    return to_canonical_address(address)


def contract_address_for(sender: str, nonce: int) -> str:
    """CREATE address: ``keccak(rlp([sender, nonce]))[12:]``."""
    return checksum(keccak(rlp.encode([canonical(sender), nonce]))[12:])
