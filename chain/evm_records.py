"""Records the EVM backend hands up: a sealed block's header fields and a call's outcome.

Kept apart from :mod:`agentbed.chain.backend` (which re-exports them) so that module can stay
about driving py-evm; nothing here imports the EVM.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentbed.chain.types import Address, HeaderDetails

__all__ = ["CallResult", "SealedBlock"]


@dataclass(frozen=True, slots=True)
class SealedBlock:
    """A block the backend persisted as the canonical head."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    base_fee: int
    gas_limit: int
    gas_used: int
    coinbase: Address
    prev_randao: bytes
    details: HeaderDetails


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a read-only call (or a gas estimate) produced."""

    success: bool
    output: bytes
    gas_used: int
    reverted: bool = False
    """True when the failure was a REVERT (output holds its data), not e.g. out of gas."""
