"""The project's records (blocks, receipts, logs, transactions, pool entries) in JSON-RPC form.

Quantities are ``"0x.."`` hex, byte strings ``"0x"``-prefixed hex, and each shape is geth's, so
web3's own result formatters apply. These functions read no chain state: the handlers fetch the
records and pass them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from eth_bloom import BloomFilter

from agentbed.chain.types import (
    Address,
    Block,
    HeaderDetails,
    Log,
    PoolTx,
    Receipt,
    Transaction,
)

EMPTY_UNCLES_HASH = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
"""keccak(rlp([])): ``sha3Uncles`` of every post-merge block."""
BLANK_ROOT = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
"""Root of an empty trie: ``withdrawalsRoot`` of a block without withdrawals."""
ZERO_NONCE = "0x0000000000000000"


def hex_quantity(value: int) -> str:
    """An integer as a JSON-RPC quantity (``"0x0"``, ``"0x1a"``)."""
    return hex(value)


def hex_data(value: bytes) -> str:
    """Bytes as JSON-RPC data (``"0x"`` + lowercase hex)."""
    return "0x" + bytes(value).hex()


def bloom_hex(logs: Iterable[Log]) -> str:
    """The 256-byte logs bloom of ``logs`` (addresses and topics), as hex data."""
    bloom = BloomFilter()
    for log in logs:
        bloom.add(bytes.fromhex(log.address[2:]))
        for topic in log.topics:
            bloom.add(bytes(topic))
    return "0x" + int(bloom).to_bytes(256, "big").hex()


def log_json(log: Log, *, removed: bool = False) -> dict[str, Any]:
    """geth's log object; ``removed`` for a log of a block a reorg orphaned."""
    return {
        "address": log.address,
        "topics": [hex_data(t) for t in log.topics],
        "data": hex_data(log.data),
        "blockNumber": hex_quantity(log.block_number),
        "blockHash": hex_data(log.block_hash),
        "transactionHash": hex_data(log.tx_hash),
        "transactionIndex": hex_quantity(log.tx_index),
        "logIndex": hex_quantity(log.log_index),
        "removed": removed,
    }


def receipt_json(rec: Receipt, tx_type: int, block_timestamp: int) -> dict[str, Any]:
    """geth's receipt object.

    Args:
        rec: The receipt.
        tx_type: The EIP-2718 type of the receipt's transaction.
        block_timestamp: Header timestamp (seconds) of the receipt's block.
    """
    return {
        "transactionHash": hex_data(rec.tx_hash),
        "transactionIndex": hex_quantity(rec.tx_index),
        "blockHash": hex_data(rec.block_hash),
        "blockNumber": hex_quantity(rec.block_number),
        "blockTimestamp": hex_quantity(block_timestamp),
        "from": rec.sender,
        "to": rec.to,
        "cumulativeGasUsed": hex_quantity(rec.cumulative_gas_used),
        "gasUsed": hex_quantity(rec.gas_used),
        "effectiveGasPrice": hex_quantity(rec.effective_gas_price),
        "contractAddress": rec.contract_address,
        "logs": [log_json(log) for log in rec.logs],
        "logsBloom": bloom_hex(rec.logs),
        "status": hex_quantity(rec.status),
        "type": hex_quantity(tx_type),
    }


def tx_json(tx: Transaction, rec: Receipt | None) -> dict[str, Any]:
    """geth's RPCTransaction; block fields are null for pool transactions (``rec`` None)."""
    # geth: the price actually paid once mined, the fee cap while pooled.
    gas_price = rec.effective_gas_price if rec is not None else tx.max_fee_per_gas
    out: dict[str, Any] = {
        "blockHash": None if rec is None else hex_data(rec.block_hash),
        "blockNumber": None if rec is None else hex_quantity(rec.block_number),
        "transactionIndex": None if rec is None else hex_quantity(rec.tx_index),
        "hash": hex_data(tx.hash),
        "type": hex_quantity(tx.type),
        "from": tx.sender,
        "to": tx.to,
        "nonce": hex_quantity(tx.nonce),
        "gas": hex_quantity(tx.gas),
        "gasPrice": hex_quantity(gas_price),
        "value": hex_quantity(tx.value),
        "input": hex_data(tx.data),
        "v": hex_quantity(tx.v),
        "r": hex_quantity(tx.r),
        "s": hex_quantity(tx.s),
    }
    if tx.chain_id is not None:
        out["chainId"] = hex_quantity(tx.chain_id)
    if tx.type >= 1:
        out["accessList"] = [
            {"address": entry.address, "storageKeys": [hex_data(k) for k in entry.storage_keys]}
            for entry in tx.access_list
        ]
        out["yParity"] = hex_quantity(tx.v)
    if tx.type >= 2:
        out["maxFeePerGas"] = hex_quantity(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = hex_quantity(tx.max_priority_fee_per_gas)
    if tx.type == 4:  # EIP-7702, geth's field names
        out["authorizationList"] = [
            {
                "chainId": hex_quantity(a.chain_id),
                "address": a.address,
                "nonce": hex_quantity(a.nonce),
                "yParity": hex_quantity(a.y_parity),
                "r": hex_quantity(a.r),
                "s": hex_quantity(a.s),
            }
            for a in tx.authorization_list
        ]
    return out


def block_json(
    block: Block, receipts: Sequence[Receipt], transactions: Sequence[Any]
) -> dict[str, Any]:
    """geth's block object for a mined block.

    Args:
        block: The block.
        receipts: Its receipts (for the logs bloom).
        transactions: Hashes as hex, or :func:`tx_json` objects for a full block.
    """
    out: dict[str, Any] = {
        "number": hex_quantity(block.number),
        "hash": hex_data(block.hash),
        "parentHash": hex_data(block.parent_hash),
        "nonce": ZERO_NONCE,
        "sha3Uncles": EMPTY_UNCLES_HASH,
        "logsBloom": bloom_hex(log for rec in receipts for log in rec.logs),
        "miner": block.coinbase,
        "difficulty": "0x0",
        "gasLimit": hex_quantity(block.gas_limit),
        "gasUsed": hex_quantity(block.gas_used),
        "timestamp": hex_quantity(block.timestamp),
        "mixHash": hex_data(block.prev_randao),
        "baseFeePerGas": hex_quantity(block.base_fee),
        "transactions": list(transactions),
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": BLANK_ROOT,
    }
    if block.header is not None:
        out.update(header_json(block.header))
    return out


def header_json(header: HeaderDetails) -> dict[str, Any]:
    """The header fields beyond those of :class:`Block`, Prague's blob and request ones too."""
    return {
        "stateRoot": hex_data(header.state_root),
        "transactionsRoot": hex_data(header.transactions_root),
        "receiptsRoot": hex_data(header.receipts_root),
        "withdrawalsRoot": hex_data(header.withdrawals_root),
        "extraData": hex_data(header.extra_data),
        "blobGasUsed": hex_quantity(header.blob_gas_used),
        "excessBlobGas": hex_quantity(header.excess_blob_gas),
        "parentBeaconBlockRoot": hex_data(header.parent_beacon_block_root),
        "requestsHash": hex_data(header.requests_hash),
        "size": hex_quantity(header.size),
    }


def pending_block_json(
    head: Block,
    *,
    gas_limit: int,
    timestamp: int,
    base_fee: int,
    transactions: Sequence[Any],
) -> dict[str, Any]:
    """A preview of the block after ``head``: the pool's pending txs, not yet executed.

    As in geth, ``hash``, ``nonce`` and ``miner`` are null. ``gasUsed`` and ``logsBloom`` are
    left out: nothing has been executed, so they are not known yet.
    """
    return {
        "number": hex_quantity(head.number + 1),
        "hash": None,
        "parentHash": hex_data(head.hash),
        "nonce": None,
        "sha3Uncles": EMPTY_UNCLES_HASH,
        "miner": None,
        "difficulty": "0x0",
        "gasLimit": hex_quantity(gas_limit),
        "timestamp": hex_quantity(timestamp),
        "baseFeePerGas": hex_quantity(base_fee),
        "transactions": list(transactions),
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": BLANK_ROOT,
    }


# ---------------------------------------------------------------------------------------------
# Fee history
# ---------------------------------------------------------------------------------------------


def block_rewards(
    block: Block, receipts: Sequence[Receipt], percentiles: Sequence[float]
) -> list[int]:
    """Effective tips at ``percentiles`` of the block's gas, as geth's ``eth_feeHistory``.

    Transactions are sorted by effective tip (``effectiveGasPrice - baseFee``) and weighted by
    the gas they used; each percentile picks the tip of the tx in which that share of the
    block's gas is reached. An empty block gives zeros.

    Args:
        block: The block.
        receipts: Its receipts, in block order.
        percentiles: Increasing values in ``[0, 100]``.
    """
    if not receipts:
        return [0 for _ in percentiles]
    by_tip = sorted(
        ((rec.effective_gas_price - block.base_fee, rec.gas_used) for rec in receipts),
        key=lambda item: item[0],
    )
    out = []
    index = 0
    gas_sum = by_tip[0][1]
    for p in percentiles:
        threshold = int(block.gas_used * p / 100)
        while gas_sum < threshold and index < len(by_tip) - 1:
            index += 1
            gas_sum += by_tip[index][1]
        out.append(by_tip[index][0])
    return out


def fee_history_json(
    blocks: Sequence[tuple[Block, Sequence[Receipt]]],
    next_base_fee: int | None,
    percentiles: Sequence[float] | None,
) -> dict[str, Any]:
    """geth's ``eth_feeHistory`` result for consecutive ``blocks`` (oldest first).

    Args:
        blocks: Each block with its receipts; empty when no block was asked for.
        next_base_fee: Base fee of the block after the newest one (None when ``blocks`` is
            empty, where geth answers no base fees at all).
        percentiles: Reward percentiles, or None to leave ``reward`` out.
    """
    base_fees = [hex_quantity(block.base_fee) for block, _ in blocks]
    if next_base_fee is not None:
        base_fees.append(hex_quantity(next_base_fee))
    result: dict[str, Any] = {
        "oldestBlock": hex_quantity(blocks[0][0].number if blocks else 0),
        "baseFeePerGas": base_fees,
        "gasUsedRatio": [
            block.gas_used / block.gas_limit if block.gas_limit else 0.0 for block, _ in blocks
        ],
    }
    if percentiles is not None:
        result["reward"] = [
            [hex_quantity(t) for t in block_rewards(block, receipts, percentiles)]
            for block, receipts in blocks
        ]
    return result


# ---------------------------------------------------------------------------------------------
# Transaction pool
# ---------------------------------------------------------------------------------------------


def txpool_json(
    content: Mapping[str, Mapping[Address, Mapping[int, PoolTx]]],
    render: Callable[[PoolTx], Any],
) -> dict[str, Any]:
    """``{"pending"|"queued": {sender: {"<nonce>": render(ptx)}}}`` (geth's txpool shape)."""
    return {
        kind: {
            sender: {str(nonce): render(ptx) for nonce, ptx in txs.items()}
            for sender, txs in content.get(kind, {}).items()
        }
        for kind in ("pending", "queued")
    }


def pool_tx_json(ptx: PoolTx) -> dict[str, Any]:
    """A pool entry as ``txpool_content`` shows it: the pending transaction object."""
    return tx_json(ptx.tx, None)


def inspect_line(ptx: PoolTx) -> str:
    """geth's txpool_inspect summary: ``"<to>: <value> wei + <gas> gas × <fee cap> wei"``."""  # noqa: RUF002
    tx = ptx.tx
    target = tx.to if tx.to is not None else "contract creation"
    return f"{target}: {tx.value} wei + {tx.gas} gas × {tx.max_fee_per_gas} wei"  # noqa: RUF001 (geth's text)
