"""One function per JSON-RPC method: parse the params, ask the ``Chain``, encode the answer.

Every handler has the signature ``(chain, params) -> result`` and calls only ``Chain``'s public
methods and properties. Parameter parsing lives in :mod:`.params`, JSON shapes in
:mod:`.encoding`; which name runs which handler is the table in :mod:`.dispatch`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from agentbed.chain.errors import (
    UnknownBlock,
    UnknownContract,
    UnknownSnapshot,
    UnknownTransaction,
)
from agentbed.chain.history import matching_logs
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import SERVER_ERROR, InvalidParams, RpcError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from agentbed.chain.blocktree import TreeBlock
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt, Transaction

DEFAULT_PRIORITY_FEE = 10**9
"""Suggested tip (``eth_maxPriorityFeePerGas``): 1 gwei, the default ``Chain.sign`` uses."""
MAX_FEE_HISTORY_BLOCKS = 1024
"""geth's cap on ``eth_feeHistory``'s block count."""
DISTRIBUTION = "agentbed"
"""The installed distribution whose version ``web3_clientVersion`` reports."""

# ---------------------------------------------------------------------------------------------
# Node and network
# ---------------------------------------------------------------------------------------------


def client_version(chain: Chain, params: list[Any]) -> str:
    """``web3_clientVersion``: ``agentbed/v<version>/<backend>``."""
    try:
        ours = version(DISTRIBUTION)
    except PackageNotFoundError:  # not installed (e.g. run from a source tree)
        ours = "unknown"
    return f"agentbed/v{ours}/{chain.backend_name}"


def net_version(chain: Chain, params: list[Any]) -> str:
    """``net_version``: the chain id in decimal."""
    return str(chain.chain_id)


def chain_id(chain: Chain, params: list[Any]) -> str:
    """``eth_chainId``."""
    return enc.hex_quantity(chain.chain_id)


def coinbase(chain: Chain, params: list[Any]) -> str:
    """``eth_coinbase``: the fee recipient of built blocks."""
    return chain.coinbase


def block_number(chain: Chain, params: list[Any]) -> str:
    """``eth_blockNumber``: the head's number."""
    return enc.hex_quantity(chain.block_number)


def accounts(chain: Chain, params: list[Any]) -> list[str]:
    """``eth_accounts``: the chain's local (unlocked) accounts, then impersonated ones (anvil)."""
    local = [a.address for a in chain.accounts]
    return local + [a for a in chain.impersonated_accounts if a not in local]


# ---------------------------------------------------------------------------------------------
# Accounts and state
# ---------------------------------------------------------------------------------------------


def get_balance(chain: Chain, params: list[Any]) -> str:
    """``eth_getBalance(address, block)`` at the head."""
    address, block = prm.args(params, 1, 2)
    prm.require_head(chain, block)
    return enc.hex_quantity(chain.balance(prm.address(address, "address")))


def get_transaction_count(chain: Chain, params: list[Any]) -> str:
    """``eth_getTransactionCount``; ``"pending"`` counts the sender's pending pool txs."""
    address, block = prm.args(params, 1, 2)
    addr = prm.address(address, "address")
    if block == "pending":
        return enc.hex_quantity(chain.pending_nonce(addr))
    prm.require_head(chain, block)
    return enc.hex_quantity(chain.nonce(addr))


def get_code(chain: Chain, params: list[Any]) -> str:
    """``eth_getCode(address, block)`` at the head."""
    address, block = prm.args(params, 1, 2)
    prm.require_head(chain, block)
    return enc.hex_data(chain.code(prm.address(address, "address")))


def get_storage_at(chain: Chain, params: list[Any]) -> str:
    """``eth_getStorageAt(address, slot, block)`` at the head, as a 32-byte word."""
    address, slot, block = prm.args(params, 2, 3)
    prm.require_head(chain, block)
    value = chain.storage_at(prm.address(address, "address"), prm.storage_slot(slot))
    return "0x" + value.to_bytes(32, "big").hex()


# ---------------------------------------------------------------------------------------------
# Fees
# ---------------------------------------------------------------------------------------------


def gas_price(chain: Chain, params: list[Any]) -> str:
    """``eth_gasPrice``: the next base fee plus the default tip."""
    return enc.hex_quantity(chain.base_fee + DEFAULT_PRIORITY_FEE)


def max_priority_fee(chain: Chain, params: list[Any]) -> str:
    """``eth_maxPriorityFeePerGas``: the default tip."""
    return enc.hex_quantity(DEFAULT_PRIORITY_FEE)


def fee_history(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``eth_feeHistory(blockCount, newestBlock, rewardPercentiles)``, capped as in geth."""
    count_param, newest_param, percentiles_param = prm.args(params, 2, 3)
    count = prm.quantity(count_param, "blockCount")
    newest = prm.fee_history_newest(chain, newest_param)
    percentiles = prm.percentiles(percentiles_param)
    count = min(count, MAX_FEE_HISTORY_BLOCKS, newest + 1)
    blocks = [
        (chain.block(number), chain.receipts(number))
        for number in range(newest - count + 1, newest + 1)
    ]
    next_base_fee = None
    if count > 0:
        at_head = newest == chain.block_number
        next_base_fee = chain.base_fee if at_head else chain.block(newest + 1).base_fee
    return enc.fee_history_json(blocks, next_base_fee, percentiles)


# ---------------------------------------------------------------------------------------------
# Transactions and calls
# ---------------------------------------------------------------------------------------------


def send_raw_transaction(chain: Chain, params: list[Any]) -> str:
    """``eth_sendRawTransaction``: into the mempool; mempool rejections use geth's words."""
    (raw,) = prm.args(params, 1, 1)
    return enc.hex_data(chain.submit(prm.data(raw, "transaction data")))


def send_transaction(chain: Chain, params: list[Any]) -> str:
    """``eth_sendTransaction``: sign with the chain's local key for ``from`` (or, for an
    impersonated ``from``, its proxy key: see ``Chain.impersonate_account``), then submit."""
    (tx_param,) = prm.args(params, 1, 1)
    tx = prm.object_arg(tx_param, "transaction")
    if "from" not in tx:
        raise InvalidParams("missing value for required argument 'from'")
    sender = prm.address(tx["from"], "from")
    if sender not in chain.impersonated_accounts:
        try:
            chain.account(sender)
        except UnknownContract:  # Chain.account's "no local key"
            raise RpcError(SERVER_ERROR, "unknown account") from None
    fields = prm.tx_fields(tx)
    return enc.hex_data(chain.submit(chain.sign(sender, fields)))


def call(chain: Chain, params: list[Any]) -> str:
    """``eth_call(tx, block)``; unlike state reads, it can run on any past block's state."""
    tx_param, block, overrides = prm.args(params, 1, 3)
    prm.no_state_overrides(overrides)
    number = prm.call_block(chain, block)
    fields = prm.call_fields(prm.object_arg(tx_param, "call"))
    output = chain.call(
        fields["to"],
        fields["data"],
        sender=fields["from"],
        value=fields["value"],
        gas=fields["gas"],
        block_number=number,
        auths=fields["auths"],
    )
    return enc.hex_data(output)


def estimate_gas(chain: Chain, params: list[Any]) -> str:
    """``eth_estimateGas(tx, block)`` at the head."""
    tx_param, block, overrides = prm.args(params, 1, 3)
    prm.no_state_overrides(overrides)
    prm.require_head(chain, block)
    fields = prm.call_fields(prm.object_arg(tx_param, "transaction"))
    gas = chain.estimate_gas(
        sender=fields["from"],
        to=fields["to"],
        data=fields["data"],
        value=fields["value"],
        auths=fields["auths"],
    )
    return enc.hex_quantity(gas)


def get_transaction_receipt(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getTransactionReceipt``; null until the tx is mined."""
    (tx_hash,) = prm.args(params, 1, 1)
    key = prm.hash32(tx_hash, "transaction hash")
    try:
        receipt = chain.receipt(key)
    except UnknownTransaction:
        return None
    tx_type = chain.transaction(receipt.tx_hash).type
    return enc.receipt_json(receipt, tx_type, chain.block(receipt.block_number).timestamp)


def get_transaction_by_hash(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getTransactionByHash``: a mined or pooled tx, or null."""
    (tx_hash,) = prm.args(params, 1, 1)
    key = prm.hash32(tx_hash, "transaction hash")
    try:
        tx = chain.transaction(key)
    except UnknownTransaction:
        return None
    try:
        receipt: Receipt | None = chain.receipt(key)
    except UnknownTransaction:
        receipt = None
    return enc.tx_json(tx, receipt)


# ---------------------------------------------------------------------------------------------
# Blocks and logs
# ---------------------------------------------------------------------------------------------


def get_block_by_number(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getBlockByNumber(block, full)``; ``"pending"`` previews the next block."""
    block_id, full = prm.args(params, 1, 2)
    number = prm.block_number(chain, block_id, allow_pending=True, allow_object=False)
    if number is None:
        return _pending_block(chain, bool(full))
    if number > chain.block_number:
        return None
    return _mined_block(chain, chain.block(number), bool(full))


def get_block_by_hash(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getBlockByHash(hash, full)``, or null for an unknown hash."""
    block_hash, full = prm.args(params, 1, 2)
    wanted = prm.hash32(block_hash, "block hash")
    try:
        block = chain.block_by_hash(wanted)
    except UnknownBlock:
        side = chain.side_block(wanted)  # orphaned by a reorg: geth still serves it by hash
        if side is None:
            return None
        return _block_of(side.block, side.receipts, side.txs, bool(full))
    return _mined_block(chain, block, bool(full))


def block_tx_count_by_number(chain: Chain, params: list[Any]) -> str | None:
    """``eth_getBlockTransactionCountByNumber``; for ``"pending"``, the pool's pending txs."""
    (block_id,) = prm.args(params, 1, 1)
    number = prm.block_number(chain, block_id, allow_pending=True, allow_object=False)
    if number is None:
        return enc.hex_quantity(len(chain.pending_transactions()))
    if number > chain.block_number:
        return None
    return enc.hex_quantity(len(chain.block(number).tx_hashes))


def block_tx_count_by_hash(chain: Chain, params: list[Any]) -> str | None:
    """``eth_getBlockTransactionCountByHash``, or null for an unknown hash."""
    (block_hash,) = prm.args(params, 1, 1)
    wanted = prm.hash32(block_hash, "block hash")
    try:
        block = chain.block_by_hash(wanted)
    except UnknownBlock:
        side = chain.side_block(wanted)
        if side is None:
            return None
        block = side.block
    return enc.hex_quantity(len(block.tx_hashes))


def _mined_block(chain: Chain, block: Block, full: bool) -> dict[str, Any]:
    receipts = chain.receipts(block.number)
    txs = [chain.transaction(rec.tx_hash) for rec in receipts] if full else []
    return _block_of(block, receipts, txs, full)


def _block_of(
    block: Block, receipts: Sequence[Receipt], txs: Sequence[Transaction], full: bool
) -> dict[str, Any]:
    """geth's block object: full transaction objects, or their hashes."""
    transactions: list[Any]
    if full:
        transactions = [enc.tx_json(tx, rec) for tx, rec in zip(txs, receipts, strict=True)]
    else:
        transactions = [enc.hex_data(h) for h in block.tx_hashes]
    return enc.block_json(block, receipts, transactions)


def _pending_block(chain: Chain, full: bool) -> dict[str, Any]:
    pending = chain.pending_transactions()
    transactions: list[Any]
    if full:
        transactions = [enc.tx_json(ptx.tx, None) for ptx in pending]
    else:
        transactions = [enc.hex_data(ptx.hash) for ptx in pending]
    return enc.pending_block_json(
        chain.head,
        gas_limit=chain.gas_limit,
        timestamp=chain.next_block_timestamp(),  # Chain's own rule; read, not re-derived
        base_fee=chain.base_fee,
        transactions=transactions,
    )


def get_logs(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    """``eth_getLogs(filter)``: by ``blockHash`` or block range, address and topics."""
    (filter_param,) = prm.args(params, 1, 1)
    flt = prm.object_arg(filter_param, "filter")
    address = prm.address_filter(flt.get("address"))
    topics = prm.topic_filter(flt.get("topics"))
    side = _side_block_of_filter(chain, flt)
    if side is not None:  # geth reads an orphaned block's receipts by its hash too
        logs = matching_logs(
            (log for rec in side.receipts for log in rec.logs), address=address, topics=topics
        )
        return [enc.log_json(log) for log in logs]
    first, last = prm.log_range(chain, flt)
    logs = chain.logs(address=address, topics=topics, from_block=first, to_block=last)
    return [enc.log_json(log) for log in logs]


def _side_block_of_filter(chain: Chain, flt: Mapping[str, Any]) -> TreeBlock | None:
    """The orphaned block a ``blockHash`` filter names, if it names one (the range checks
    stay :func:`params.log_range`'s)."""
    block_hash = flt.get("blockHash")
    if block_hash is None or flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
        return None
    return chain.side_block(prm.hash32(block_hash, "blockHash"))


# ---------------------------------------------------------------------------------------------
# Transaction pool
# ---------------------------------------------------------------------------------------------


def txpool_content(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``txpool_content``: every pooled tx object by kind, sender and nonce."""
    prm.args(params, 0, 0)
    return enc.txpool_json(chain.pool_content(), enc.pool_tx_json)


def txpool_inspect(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``txpool_inspect``: a one-line summary per pooled tx."""
    prm.args(params, 0, 0)
    return enc.txpool_json(chain.pool_content(), enc.inspect_line)


def txpool_status(chain: Chain, params: list[Any]) -> dict[str, str]:
    """``txpool_status``: how many txs are pending and queued."""
    prm.args(params, 0, 0)
    n_pending, n_queued = chain.pool_status()
    return {"pending": enc.hex_quantity(n_pending), "queued": enc.hex_quantity(n_queued)}


# ---------------------------------------------------------------------------------------------
# Test-node methods (anvil / Hardhat)
# ---------------------------------------------------------------------------------------------


def evm_mine(chain: Chain, params: list[Any]) -> str:
    """``evm_mine([timestamp | {"blocks": n, "timestamp": t}])``; returns ``"0x0"``.

    A timestamp (seconds) moves the simulated clock forward to it first; the block then
    gets that time unless it is less than one block interval after the head.
    """
    (opts,) = prm.args(params, 0, 1)
    blocks, timestamp = prm.mine_options(opts)
    if timestamp is not None:
        target_ms = timestamp * 1000
        if target_ms < chain.now_ms:
            raise InvalidParams(
                f"timestamp {timestamp} is before the simulated clock ({chain.now_ms // 1000})"
            )
        chain.advance_clock_to(target_ms)
    chain.mine(blocks)
    return "0x0"


def evm_snapshot(chain: Chain, params: list[Any]) -> str:
    """``evm_snapshot``: a snapshot id for ``evm_revert``."""
    return enc.hex_quantity(chain.snapshot())


def evm_revert(chain: Chain, params: list[Any]) -> bool:
    """``evm_revert([id])``: false for an unknown (or already consumed) snapshot."""
    (snapshot_id,) = prm.args(params, 1, 1)
    try:
        chain.revert(prm.quantity(snapshot_id, "snapshot id"))
    except UnknownSnapshot:
        return False
    return True


def evm_set_automine(chain: Chain, params: list[Any]) -> bool:
    """``evm_setAutomine([enabled])``."""
    (enabled,) = prm.args(params, 1, 1)
    if not isinstance(enabled, bool):
        raise InvalidParams(f"automine flag must be a boolean, got {enabled!r}")
    chain.set_automine(enabled)  # also ends interval mining, as anvil's does
    return True


def evm_set_next_block_timestamp(chain: Chain, params: list[Any]) -> None:
    """``evm_setNextBlockTimestamp([seconds])``: the next block is sealed at that second."""
    (timestamp,) = prm.args(params, 1, 1)
    try:
        chain.set_next_block_time(prm.uint64(timestamp, "timestamp") * 1000)
    except ValueError as err:
        raise InvalidParams(str(err)) from err
