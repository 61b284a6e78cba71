"""The records of a built block: its :class:`Block`, :class:`Receipt` s and their :class:`Log` s.

The block producer (:mod:`agentbed.chain.production`) calls these after the builder has executed
a block (or simulated a bundle): they turn the backend's sealed header and each included
transaction's execution result into the project's frozen records, with logs and revert reasons
decoded through the ABI registry.

Records of a long run stay in memory for the whole run, and most of their fields repeat: every
log of one contract has its address, every ERC-20 ``Transfer`` has its selector, the senders are
a few agents. Those immutable values (addresses, topics, short log data, strings in decoded
event arguments, gas used and gas price) are shared through a bounded intern table, so each
record holds references to one copy instead of its own; values and bytes are unchanged, only
duplicates are not kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from agentbed.chain.abi import AbiRegistry
from agentbed.chain.backend import SealedBlock
from agentbed.chain.builder import IncludedTx
from agentbed.chain.memo import BoundedMemo
from agentbed.chain.types import Block, DecodedEvent, Log, Receipt, SimulatedReceipt

SHARED_KEPT = 4096
"""Distinct values the intern table remembers (oldest forgotten first)."""
SHARED_DATA_MAX = 64
"""Log data up to this many bytes is interned (one or two words: amounts, flags)."""

# Only str, bytes, int and tuples of bytes go in: no two of those are equal across types (a
# bool would be, True == 1, so none is shared), so a shared value always has the type given.
_shared: BoundedMemo[Any, Any] = BoundedMemo(SHARED_KEPT)


def block_record(
    sealed: SealedBlock,
    timestamp_ms: int,
    included: Sequence[IncludedTx],
    policy: str,
    bundles: tuple[bytes, ...] = (),
) -> Block:
    """The block record, with what the coinbase was paid and what was burned.

    Args:
        sealed: The backend's sealed header.
        timestamp_ms: Simulated time the block was sealed at.
        included: The transactions the builder included, in block order.
        policy: Name of the ordering policy that built it.
        bundles: Ids of the bundles it included.
    """
    priority = sum(inc.tx.effective_tip(sealed.base_fee) * inc.result.gas_used for inc in included)
    transfers = sum(inc.result.coinbase_balance_delta for inc in included) - priority
    return Block(
        number=sealed.number,
        hash=sealed.hash,
        parent_hash=sealed.parent_hash,
        timestamp=sealed.timestamp,
        timestamp_ms=timestamp_ms,
        base_fee=sealed.base_fee,
        gas_limit=sealed.gas_limit,
        gas_used=sealed.gas_used,
        coinbase=sealed.coinbase,
        prev_randao=sealed.prev_randao,
        tx_hashes=tuple(inc.tx.hash for inc in included),
        policy=policy,
        priority_fees=priority,
        coinbase_transfers=transfers,
        burned=sealed.base_fee * sealed.gas_used,
        bundles=bundles,
        header=sealed.details,
    )


def block_receipts(
    included: Sequence[IncludedTx],
    *,
    number: int,
    block_hash: bytes,
    block_ms: int,
    base_fee: int,
    abi: AbiRegistry,
) -> tuple[Receipt, ...]:
    """Receipts of ``included``, in block order.

    Args:
        included: The transactions the builder included, with their execution results.
        number: Block number.
        block_hash: Block hash (zeros for a simulation, which seals nothing).
        block_ms: Simulated time of the block (for ``included_ms`` and ``waited_ms``).
        base_fee: The block's base fee (for ``effective_gas_price``).
        abi: Decodes logs and revert reasons of known contracts.
    """
    receipts = []
    log_offset = 0  # log indices count across the whole block, as in Ethereum receipts
    for index, inc in enumerate(included):
        logs = tuple(
            Log(
                address=_shared.share(log.address),
                topics=_shared.share(tuple(_shared.share(t) for t in log.topics)),
                data=_shared.share(log.data) if len(log.data) <= SHARED_DATA_MAX else log.data,
                log_index=log_offset + j,
                tx_index=index,
                tx_hash=inc.tx.hash,
                block_number=number,
                block_hash=block_hash,
                event=_share_args(abi.decode_log(log.address, log.topics, log.data)),
            )
            for j, log in enumerate(inc.result.logs)
        )
        receipts.append(_receipt(inc, index, logs, number, block_hash, block_ms, base_fee, abi))
        log_offset += len(logs)
    return tuple(receipts)


def _share_args(event: DecodedEvent | None) -> DecodedEvent | None:
    """``event`` with its string arguments (checksummed addresses) interned in place."""
    if event is not None:
        args = event.args
        for name, value in args.items():
            if isinstance(value, str):
                args[name] = _shared.share(value)
    return event


def _receipt(
    inc: IncludedTx,
    index: int,
    logs: tuple[Log, ...],
    number: int,
    block_hash: bytes,
    block_ms: int,
    base_fee: int,
    abi: AbiRegistry,
) -> Receipt:
    res = inc.result
    revert_reason = None
    if res.status == 0:
        revert_reason = abi.decode_revert(res.output) or ""
    return Receipt(
        tx_hash=inc.tx.hash,
        status=res.status,
        block_number=number,
        block_hash=block_hash,
        tx_index=index,
        sender=_shared.share(inc.tx.sender),
        to=None if inc.tx.to is None else _shared.share(inc.tx.to),
        contract_address=res.contract_address,
        gas_used=_shared.share(res.gas_used),
        cumulative_gas_used=res.cumulative_gas_used,
        effective_gas_price=_shared.share(inc.tx.effective_gas_price(base_fee)),
        logs=logs,
        revert_reason=revert_reason,
        arrival_ms=inc.arrival_ms,
        included_ms=block_ms,
        waited_ms=None if inc.arrival_ms is None else block_ms - inc.arrival_ms,
        bundle=inc.bundle,
    )


def simulated_receipts(
    included: Sequence[IncludedTx], receipts: Sequence[Receipt]
) -> tuple[SimulatedReceipt, ...]:
    """``receipts`` (of a simulation, from :func:`block_receipts`) with each tx's return data
    and coinbase gain, which ``eth_callBundle`` reports and a sealed block's receipts do not."""
    return tuple(
        SimulatedReceipt(
            **{f.name: getattr(rec, f.name) for f in fields(Receipt)},
            output=inc.result.output,
            coinbase_delta=inc.result.coinbase_balance_delta,
        )
        for inc, rec in zip(included, receipts, strict=True)
    )
