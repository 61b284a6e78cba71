"""What applying one transaction produced: the record the backend hands up to the builder.

Split from :mod:`agentbed.chain.backend` (the backend module keeps the py-evm driving); the
record is built from py-evm's receipt and computation objects, read by attribute only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentbed.chain.addresses import checksum
from agentbed.chain.types import Address


@dataclass(frozen=True, slots=True)
class RawLog:
    address: Address
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """What applying one transaction inside a block produced (before block-level records)."""

    status: int
    gas_used: int
    """Gas used by this tx alone (what the sender paid for)."""
    cumulative_gas_used: int
    logs: tuple[RawLog, ...]
    output: bytes
    """Return data, or the revert data when ``status == 0``."""
    contract_address: Address | None
    coinbase_balance_delta: int
    """Change of the coinbase balance caused by this tx (tip + any direct transfer)."""


def execution_result(
    receipt: Any,
    computation: Any,
    prev_cumulative: int,
    created: Address | None,
    coinbase_delta: int,
) -> ExecutionResult:
    """The project's record of one applied tx from py-evm's receipt and computation."""
    logs = tuple(
        RawLog(
            address=checksum(log.address),
            topics=tuple(t.to_bytes(32, "big") for t in log.topics),
            data=bytes(log.data),
        )
        for log in receipt.logs
    )
    return ExecutionResult(
        status=0 if computation.is_error else 1,
        gas_used=receipt.gas_used - prev_cumulative,
        cumulative_gas_used=receipt.gas_used,
        logs=logs,
        output=bytes(computation.output),
        contract_address=created,
        coinbase_balance_delta=coinbase_delta,
    )
