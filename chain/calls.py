"""Read-only execution for ``Chain``: ``eth_call``, gas estimation and block replays, with the
project's errors and records.

All run on the backend without changing state; a failure becomes
:class:`agentbed.chain.errors.ExecutionReverted` (reason decoded through the ABI registry) or
:class:`agentbed.chain.errors.GasEstimationFailed`, never a backend exception. A replay runs a
list of signed transactions on a past block's parent state in that block's context (the
counterfactual block of an MEV measurement: the same block without the attacker's txs) and
returns receipts as the block producer would have written them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from eth_utils import to_checksum_address

from agentbed.chain.builder import IncludedTx
from agentbed.chain.errors import ExecutionReverted, GasEstimationFailed
from agentbed.chain.records import block_receipts
from agentbed.chain.types import Address, Authorization, Block, Receipt, Transaction

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
    auths: Sequence[Authorization] = (),
) -> bytes:
    """Run a call (see :meth:`Chain.call`); return its output or raise ExecutionReverted.

    With ``auths``, the call runs as a set-code tx carrying those EIP-7702 authorizations.
    """
    result = backend.call(
        sender=sender,
        to=to,
        data=bytes(data),
        value=value,
        gas=gas,
        block_number=block_number,
        auths=auths,
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
    auths: Sequence[Authorization] = (),
) -> int:
    """Gas a transaction would use (see :meth:`Chain.estimate_gas`); with ``auths``, a set-code
    tx carrying those EIP-7702 authorizations (applied before the call runs).

    Raises:
        GasEstimationFailed: Even ``gas_limit`` (the block's) is not enough.
        ExecutionReverted: The transaction reverts.
    """
    result = backend.estimate_gas(sender=sender, to=to, data=bytes(data), value=value, auths=auths)
    if not result.success and not result.reverted:
        # geth's wording when even the block gas limit is not enough
        raise GasEstimationFailed(f"gas required exceeds allowance ({gas_limit})")
    if not result.success:
        raise ExecutionReverted(abi.decode_revert(result.output), result.output)
    return result.gas_used


def replay(
    backend: PyEVMBackend,
    abi: AbiRegistry,
    decode: Callable[[bytes], Transaction],
    raw_txs: Sequence[bytes],
    block: Block,
) -> tuple[Receipt | None, ...]:
    """Receipts of ``raw_txs`` applied in order on ``block``'s parent state (see
    :meth:`Chain.replay`); None for a tx ``block`` could not have included.

    The receipts carry ``block``'s number, a zero block hash (nothing is sealed), their index
    among the applied txs, and no arrival time.
    """
    txs = [decode(raw) for raw in raw_txs]
    results = backend.replay(block.number, txs)
    included = [
        IncludedTx(tx, result, None, None)
        for tx, result in zip(txs, results, strict=True)
        if result is not None
    ]
    receipts = iter(
        block_receipts(
            included,
            number=block.number,
            block_hash=b"\x00" * 32,
            block_ms=block.timestamp_ms,
            base_fee=block.base_fee,
            abi=abi,
        )
    )
    return tuple(None if result is None else next(receipts) for result in results)
