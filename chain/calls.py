"""Read-only execution for ``Chain``: ``eth_call`` and gas estimation, with the project's errors.

Both run on the backend without changing state; a failure becomes
:class:`agentbed.chain.errors.ExecutionReverted` (reason decoded through the ABI registry) or
:class:`agentbed.chain.errors.GasEstimationFailed`, never a backend exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from eth_utils import to_checksum_address

from agentbed.chain.errors import ExecutionReverted, GasEstimationFailed
from agentbed.chain.types import Address

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.abi import AbiRegistry
    from agentbed.chain.backend import PyEVMBackend


def default_sender(sender: Address | None, accounts: Sequence[LocalAccount]) -> Address:
    """``sender`` checksummed; else the first local account; else the zero address."""
    if sender is not None:
        return to_checksum_address(sender)
    if accounts:
        return accounts[0].address
    return "0x" + "00" * 20


def call(
    backend: PyEVMBackend,
    abi: AbiRegistry,
    *,
    sender: Address,
    to: Address | None,
    data: bytes,
    value: int,
    gas: int,
    block_number: int | None,
) -> bytes:
    """Run a call (see :meth:`Chain.call`); return its output or raise ExecutionReverted."""
    result = backend.call(
        sender=sender, to=to, data=bytes(data), value=value, gas=gas, block_number=block_number
    )
    if not result.success:
        raise ExecutionReverted(abi.decode_revert(result.output), result.output)
    return result.output


def estimate_gas(
    backend: PyEVMBackend,
    abi: AbiRegistry,
    *,
    sender: Address,
    to: Address | None,
    data: bytes,
    value: int,
    gas_limit: int,
) -> int:
    """Gas a transaction would use (see :meth:`Chain.estimate_gas`).

    Raises:
        GasEstimationFailed: Even ``gas_limit`` (the block's) is not enough.
        ExecutionReverted: The transaction reverts.
    """
    result = backend.estimate_gas(sender=sender, to=to, data=bytes(data), value=value)
    if not result.success and not result.reverted:
        # geth's wording when even the block gas limit is not enough
        raise GasEstimationFailed(f"gas required exceeds allowance ({gas_limit})")
    if not result.success:
        raise ExecutionReverted(abi.decode_revert(result.output), result.output)
    return result.gas_used
