"""A web3.py (v7) provider that answers JSON-RPC requests from an in-process :class:`Chain`.

``Web3(chain.provider)`` gives the usual web3 API (contract objects, ``transact``, ``call``,
receipts, event decoding, ``get_logs``) over the testbed's own mempool and block builder,
without a socket or a separate process::

    w3 = Web3(chain.provider)
    Token = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    tx = Token.constructor("Agent", "AGT").transact({"from": w3.eth.accounts[0]})
    token = w3.eth.contract(address=w3.eth.get_transaction_receipt(tx).contractAddress, abi=...)

Results are in JSON-RPC form (quantities ``"0x.."``, byte strings as hex) so web3's own result
formatters apply. Errors follow geth's codes and wording:

* mempool rejections -> ``-32000`` with geth's message (``"nonce too low"``, ...);
* reverted ``eth_call`` / ``eth_estimateGas`` -> ``3``, ``"execution reverted: <reason>"`` and
  the revert data, so web3 raises ``ContractLogicError`` / ``ContractCustomError``
  (a bare ``revert()`` without data is ``-32000 "execution reverted"``, as in geth);
* malformed parameters -> ``-32602``; unknown methods -> ``-32601``.

Only the head state is kept readable: state reads at an older block number answer ``-32000``
(``"pending"`` reads the head state too, except ``eth_getTransactionCount``, which counts the
sender's pending pool transactions). ``eth_call``/``eth_estimateGas`` without ``from`` run as
the chain's first account, as ``Chain.call`` does.
``eth_sendTransaction`` signs with the chain's local key for ``from`` (like anvil's unlocked
accounts). The ``evm_*`` methods follow anvil/Hardhat.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_bloom import BloomFilter
from eth_utils import is_hex_address, to_checksum_address
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from agentbed.chain.errors import (
    ExecutionReverted,
    TestbedError,
    UnknownBlock,
    UnknownContract,
    UnknownSnapshot,
    UnknownTransaction,
)
from agentbed.chain.types import Block, Log, PoolTx, Receipt, Transaction

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

DEFAULT_PRIORITY_FEE = 10**9
"""Suggested tip (``eth_maxPriorityFeePerGas``): 1 gwei, the default ``Chain.sign`` uses."""
MAX_FEE_HISTORY_BLOCKS = 1024
"""geth's cap on ``eth_feeHistory``'s block count."""
EMPTY_UNCLES_HASH = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
"""keccak(rlp([])): ``sha3Uncles`` of every post-merge block."""
BLANK_ROOT = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
"""Root of an empty trie: ``withdrawalsRoot`` of a block without withdrawals."""
ZERO_NONCE = "0x0000000000000000"

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
EXECUTION_ERROR = 3

_HEAD_TAGS = frozenset({"latest", "pending", "safe", "finalized"})

Handler = Callable[[list[Any]], Any]


class RpcError(Exception):
    """A JSON-RPC error response: ``code``, ``message`` and optional ``data``.

    Args:
        code: JSON-RPC error code.
        message: Human-readable message (geth's wording where geth has one).
        data: Extra data, e.g. the revert data hex of a reverted call.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The ``error`` member of a JSON-RPC response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class InvalidParams(RpcError):
    """A request parameter is missing or malformed (``-32602``)."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID_PARAMS, message)


class TestbedProvider(BaseProvider):
    """web3.py provider backed by a :class:`agentbed.chain.node.Chain` in the same process.

    Args:
        chain: The chain to serve.

    Use :meth:`make_request` through ``Web3(provider)``, or :meth:`handle` to get the raw
    JSON-RPC result (or an :class:`RpcError`) without web3's formatting, e.g. from a server.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, chain: Chain) -> None:
        super().__init__()
        self.chain = chain
        self._ids = itertools.count(1)
        self._methods: dict[str, Handler] = {
            "web3_clientVersion": self._client_version,
            "net_version": lambda p: str(self.chain.chain_id),
            "net_listening": lambda p: True,
            "eth_chainId": lambda p: _hex(self.chain.chain_id),
            "eth_syncing": lambda p: False,
            "eth_coinbase": lambda p: self.chain.coinbase,
            "eth_blockNumber": lambda p: _hex(self.chain.block_number),
            "eth_accounts": lambda p: [a.address for a in self.chain.accounts],
            "eth_getBalance": self._get_balance,
            "eth_getTransactionCount": self._get_transaction_count,
            "eth_getCode": self._get_code,
            "eth_getStorageAt": self._get_storage_at,
            "eth_gasPrice": lambda p: _hex(self.chain.base_fee + DEFAULT_PRIORITY_FEE),
            "eth_maxPriorityFeePerGas": lambda p: _hex(DEFAULT_PRIORITY_FEE),
            "eth_feeHistory": self._fee_history,
            "eth_sendRawTransaction": self._send_raw_transaction,
            "eth_sendTransaction": self._send_transaction,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_getTransactionReceipt": self._get_transaction_receipt,
            "eth_getTransactionByHash": self._get_transaction_by_hash,
            "eth_getBlockByNumber": self._get_block_by_number,
            "eth_getBlockByHash": self._get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._block_tx_count_by_number,
            "eth_getBlockTransactionCountByHash": self._block_tx_count_by_hash,
            "eth_getLogs": self._get_logs,
            "txpool_content": self._txpool_content,
            "txpool_inspect": self._txpool_inspect,
            "txpool_status": self._txpool_status,
            "evm_mine": self._evm_mine,
            "evm_snapshot": lambda p: _hex(self.chain.snapshot()),
            "evm_revert": self._evm_revert,
            "evm_setAutomine": self._evm_set_automine,
            "evm_setNextBlockTimestamp": self._evm_set_next_block_timestamp,
        }

    # -----------------------------------------------------------------------------------------
    # Provider interface
    # -----------------------------------------------------------------------------------------

    @property
    def methods(self) -> tuple[str, ...]:
        """Names of the supported JSON-RPC methods."""
        return tuple(self._methods)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Answer one JSON-RPC request with a response dict (``result`` or ``error``).

        Unexpected exceptions (bugs) propagate rather than being hidden in an error response.
        """
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids)}
        try:
            response["result"] = self.handle(method, params)
        except RpcError as err:
            response["error"] = err.to_json()
        return response  # type: ignore[return-value]

    def is_connected(self, show_traceback: bool = False) -> bool:
        """Always connected: the chain lives in this process."""
        return True

    def handle(self, method: str, params: Any = None) -> Any:
        """Run ``method`` and return its JSON-RPC result.

        Raises:
            RpcError: with the code and message a geth node would answer.
        """
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = []
        if not isinstance(params, list | tuple):
            raise InvalidParams(f"params must be an array, got {type(params).__name__}")
        try:
            return handler(list(params))
        except ExecutionReverted as err:
            raise _revert_error(err) from err
        except TestbedError as err:  # mempool rejections (TxRejected) carry geth's wording
            raise RpcError(SERVER_ERROR, str(err)) from err

    # -----------------------------------------------------------------------------------------
    # Accounts and state
    # -----------------------------------------------------------------------------------------

    def _client_version(self, params: list[Any]) -> str:
        try:
            from importlib.metadata import version

            ours = version("agent-testbed")
        except Exception:  # not installed (e.g. run from a source tree)
            ours = "unknown"
        return f"agent-testbed/v{ours}/{getattr(self.chain.backend, 'name', 'evm')}"

    def _require_head(self, block_id: Any) -> None:
        """State is only readable at the head: reject other explicit block numbers."""
        number = self._block_number(block_id, allow_pending=True)
        head = self.chain.block_number
        if number is None or number == head:
            return
        if number > head:
            raise RpcError(SERVER_ERROR, "header not found")
        raise RpcError(
            SERVER_ERROR,
            f"historical state not available for block {number} "
            f"(head is {head}; only the head state is kept readable)",
        )

    def _get_balance(self, params: list[Any]) -> str:
        address, block = _args(params, 1, 2)
        self._require_head(block)
        return _hex(self.chain.balance(_address(address, "address")))

    def _get_transaction_count(self, params: list[Any]) -> str:
        address, block = _args(params, 1, 2)
        addr = _address(address, "address")
        if block == "pending":
            return _hex(self.chain.pending_nonce(addr))
        self._require_head(block)
        return _hex(self.chain.nonce(addr))

    def _get_code(self, params: list[Any]) -> str:
        address, block = _args(params, 1, 2)
        self._require_head(block)
        return _hexdata(self.chain.code(_address(address, "address")))

    def _get_storage_at(self, params: list[Any]) -> str:
        address, slot, block = _args(params, 2, 3)
        self._require_head(block)
        value = self.chain.storage_at(_address(address, "address"), _quantity(slot, "slot"))
        return "0x" + value.to_bytes(32, "big").hex()

    # -----------------------------------------------------------------------------------------
    # Fees
    # -----------------------------------------------------------------------------------------

    def _fee_history(self, params: list[Any]) -> dict[str, Any]:
        count_param, newest_param, percentiles_param = _args(params, 2, 3)
        count = _quantity(count_param, "blockCount")
        newest = self._block_number(newest_param, allow_pending=True)
        head = self.chain.block_number
        if newest is None:  # the pending block has no fee data yet: end at the head
            newest = head
        if newest > head:
            raise RpcError(
                SERVER_ERROR, f"request beyond head block: requested {newest}, head {head}"
            )
        percentiles = _percentiles(percentiles_param)
        count = min(count, MAX_FEE_HISTORY_BLOCKS, newest + 1)
        oldest = newest - count + 1
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        for number in range(oldest, newest + 1):
            block = self.chain.block(number)
            base_fees.append(_hex(block.base_fee))
            ratios.append(block.gas_used / block.gas_limit if block.gas_limit else 0.0)
            if percentiles is not None:
                tips = block_rewards(block, self.chain.receipts(number), percentiles)
                rewards.append([_hex(t) for t in tips])
        if count > 0:
            next_base = (
                self.chain.base_fee if newest == head else self.chain.block(newest + 1).base_fee
            )
            base_fees.append(_hex(next_base))
        result: dict[str, Any] = {
            "oldestBlock": _hex(oldest if count > 0 else 0),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
        }
        if percentiles is not None:
            result["reward"] = rewards
        return result

    # -----------------------------------------------------------------------------------------
    # Transactions
    # -----------------------------------------------------------------------------------------

    def _send_raw_transaction(self, params: list[Any]) -> str:
        (raw,) = _args(params, 1, 1)
        return _hexdata(self.chain.submit(_data(raw, "transaction data")))

    def _send_transaction(self, params: list[Any]) -> str:
        (tx_param,) = _args(params, 1, 1)
        tx = _object(tx_param, "transaction")
        if "from" not in tx:
            raise InvalidParams("missing value for required argument 'from'")
        try:
            account = self.chain.account(_address(tx["from"], "from"))
        except UnknownContract:  # Chain.account's "no local key"
            raise RpcError(SERVER_ERROR, "unknown account") from None
        fields = _tx_fields(tx)
        return _hexdata(self.chain.submit(self.chain.sign(account, fields)))

    def _call(self, params: list[Any]) -> str:
        tx_param, block, overrides = _args(params, 1, 3)
        if overrides is not None:
            raise InvalidParams("state overrides are not supported")
        # Calls (unlike balance and storage reads) can run on any past block's state.
        number = self._block_number(block, allow_pending=True)
        if number is not None and number > self.chain.block_number:
            raise RpcError(SERVER_ERROR, "header not found")
        call = _call_fields(_object(tx_param, "call"))
        output = self.chain.call(
            call["to"],
            call["data"],
            sender=call["from"],
            value=call["value"],
            gas=call["gas"],
            block_number=None if number == self.chain.block_number else number,
        )
        return _hexdata(output)

    def _estimate_gas(self, params: list[Any]) -> str:
        tx_param, block, overrides = _args(params, 1, 3)
        if overrides is not None:
            raise InvalidParams("state overrides are not supported")
        self._require_head(block)
        call = _call_fields(_object(tx_param, "transaction"))
        gas = self.chain.estimate_gas(
            sender=call["from"], to=call["to"], data=call["data"], value=call["value"]
        )
        return _hex(gas)

    def _get_transaction_receipt(self, params: list[Any]) -> dict[str, Any] | None:
        (tx_hash,) = _args(params, 1, 1)
        key = _hash(tx_hash, "transaction hash")
        try:
            receipt = self.chain.receipt(key)
        except UnknownTransaction:
            return None
        return self._receipt_json(receipt)

    def _get_transaction_by_hash(self, params: list[Any]) -> dict[str, Any] | None:
        (tx_hash,) = _args(params, 1, 1)
        key = _hash(tx_hash, "transaction hash")
        try:
            tx = self.chain.transaction(key)
        except UnknownTransaction:
            return None
        try:
            receipt: Receipt | None = self.chain.receipt(key)
        except UnknownTransaction:
            receipt = None
        return self._tx_json(tx, receipt)

    # -----------------------------------------------------------------------------------------
    # Blocks
    # -----------------------------------------------------------------------------------------

    def _block_number(self, block_id: Any, *, allow_pending: bool) -> int | None:
        """Resolve a block parameter to a number; ``None`` means the pending block (or head).

        Accepts tags, quantities and EIP-1898 objects (``{"blockNumber"}`` / ``{"blockHash"}``).
        """
        if block_id is None or block_id in _HEAD_TAGS - {"pending"}:
            return self.chain.block_number
        if block_id == "pending":
            if not allow_pending:
                raise InvalidParams("the pending block is not allowed here")
            return None
        if block_id == "earliest":
            return 0
        if isinstance(block_id, Mapping):
            if "blockHash" in block_id:
                return self.chain.block_by_hash(_hash(block_id["blockHash"], "blockHash")).number
            if "blockNumber" in block_id:
                return self._block_number(block_id["blockNumber"], allow_pending=allow_pending)
            raise InvalidParams("block object needs blockHash or blockNumber")
        return _quantity(block_id, "block number")

    def _get_block_by_number(self, params: list[Any]) -> dict[str, Any] | None:
        block_id, full = _args(params, 1, 2)
        number = self._block_number(block_id, allow_pending=True)
        if number is None:
            return self._pending_block_json(bool(full))
        if number > self.chain.block_number:
            return None
        return self._block_json(self.chain.block(number), bool(full))

    def _get_block_by_hash(self, params: list[Any]) -> dict[str, Any] | None:
        block_hash, full = _args(params, 1, 2)
        try:
            block = self.chain.block_by_hash(_hash(block_hash, "block hash"))
        except UnknownBlock:
            return None
        return self._block_json(block, bool(full))

    def _block_tx_count_by_number(self, params: list[Any]) -> str | None:
        (block_id,) = _args(params, 1, 1)
        number = self._block_number(block_id, allow_pending=True)
        if number is None:
            return _hex(len(self.chain.mempool.pending()))
        if number > self.chain.block_number:
            return None
        return _hex(len(self.chain.block(number).tx_hashes))

    def _block_tx_count_by_hash(self, params: list[Any]) -> str | None:
        (block_hash,) = _args(params, 1, 1)
        try:
            block = self.chain.block_by_hash(_hash(block_hash, "block hash"))
        except UnknownBlock:
            return None
        return _hex(len(block.tx_hashes))

    def _block_json(self, block: Block, full: bool) -> dict[str, Any]:
        receipts = self.chain.receipts(block.number)
        transactions: list[Any]
        if full:
            transactions = [
                self._tx_json(self.chain.transaction(rec.tx_hash), rec) for rec in receipts
            ]
        else:
            transactions = [_hexdata(h) for h in block.tx_hashes]
        return {
            "number": _hex(block.number),
            "hash": _hexdata(block.hash),
            "parentHash": _hexdata(block.parent_hash),
            "nonce": ZERO_NONCE,
            "sha3Uncles": EMPTY_UNCLES_HASH,
            "logsBloom": _bloom_hex(log for rec in receipts for log in rec.logs),
            "miner": block.coinbase,
            "difficulty": "0x0",
            "gasLimit": _hex(block.gas_limit),
            "gasUsed": _hex(block.gas_used),
            "timestamp": _hex(block.timestamp),
            "mixHash": _hexdata(block.prev_randao),
            "baseFeePerGas": _hex(block.base_fee),
            "transactions": transactions,
            "uncles": [],
            "withdrawals": [],
            "withdrawalsRoot": BLANK_ROOT,
        }

    def _pending_block_json(self, full: bool) -> dict[str, Any]:
        """A preview of the next block: the pool's pending txs, not yet executed.

        As in geth, ``hash``, ``nonce`` and ``miner`` are null. ``gasUsed`` and ``logsBloom``
        are left out: nothing has been executed, so they are not known yet.
        """
        chain = self.chain
        head = chain.head
        pending = chain.mempool.pending()
        transactions: list[Any]
        if full:
            transactions = [self._tx_json(ptx.tx, None) for ptx in pending]
        else:
            transactions = [_hexdata(ptx.hash) for ptx in pending]
        # The timestamp the next block will get (Chain's own rule; read, not re-derived).
        timestamp = chain._next_timestamp(chain._next_block_ms())
        return {
            "number": _hex(head.number + 1),
            "hash": None,
            "parentHash": _hexdata(head.hash),
            "nonce": None,
            "sha3Uncles": EMPTY_UNCLES_HASH,
            "miner": None,
            "difficulty": "0x0",
            "gasLimit": _hex(chain.gas_limit),
            "timestamp": _hex(timestamp),
            "baseFeePerGas": _hex(chain.base_fee),
            "transactions": transactions,
            "uncles": [],
            "withdrawals": [],
            "withdrawalsRoot": BLANK_ROOT,
        }

    # -----------------------------------------------------------------------------------------
    # Logs
    # -----------------------------------------------------------------------------------------

    def _get_logs(self, params: list[Any]) -> list[dict[str, Any]]:
        (filter_param,) = _args(params, 1, 1)
        flt = _object(filter_param, "filter")
        head = self.chain.block_number
        if flt.get("blockHash") is not None:
            if flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
                raise InvalidParams(
                    "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other"
                )
            try:
                number = self.chain.block_by_hash(_hash(flt["blockHash"], "blockHash")).number
            except UnknownBlock:
                raise RpcError(SERVER_ERROR, "unknown block") from None
            first = last = number
        else:
            first_n = self._block_number(flt.get("fromBlock", "latest"), allow_pending=True)
            last_n = self._block_number(flt.get("toBlock", "latest"), allow_pending=True)
            first = head if first_n is None else first_n
            last = head if last_n is None else min(last_n, head)
            if first_n is not None and last_n is not None and first_n > last_n:
                raise RpcError(SERVER_ERROR, "invalid block range params")
        addresses = _address_filter(flt.get("address"))
        logs = self.chain.logs(
            address=None if addresses is None else sorted(addresses),
            topics=_topic_filter(flt.get("topics")),
            from_block=first,
            to_block=last,
        )
        return [_log_json(log) for log in logs]

    # -----------------------------------------------------------------------------------------
    # Transaction pool
    # -----------------------------------------------------------------------------------------

    def _txpool_content(self, params: list[Any]) -> dict[str, Any]:
        _args(params, 0, 0)
        return self._txpool_map(lambda ptx: self._tx_json(ptx.tx, None))

    def _txpool_inspect(self, params: list[Any]) -> dict[str, Any]:
        _args(params, 0, 0)
        return self._txpool_map(_inspect_line)

    def _txpool_map(self, render: Callable[[PoolTx], Any]) -> dict[str, Any]:
        """``{"pending"|"queued": {sender: {"<nonce>": render(ptx)}}}`` (geth's txpool shape)."""
        content = self.chain.mempool.content()
        return {
            kind: {
                sender: {str(nonce): render(ptx) for nonce, ptx in txs.items()}
                for sender, txs in content.get(kind, {}).items()
            }
            for kind in ("pending", "queued")
        }

    def _txpool_status(self, params: list[Any]) -> dict[str, str]:
        _args(params, 0, 0)
        n_pending, n_queued = self.chain.mempool.status()
        return {"pending": _hex(n_pending), "queued": _hex(n_queued)}

    # -----------------------------------------------------------------------------------------
    # Test-node methods (anvil / Hardhat)
    # -----------------------------------------------------------------------------------------

    def _evm_mine(self, params: list[Any]) -> str:
        """``evm_mine([timestamp | {"blocks": n, "timestamp": t}])``; returns ``"0x0"``.

        A timestamp (seconds) moves the simulated clock forward to it first; the block then
        gets that time unless it is less than one block interval after the head.
        """
        (opts,) = _args(params, 0, 1)
        blocks, timestamp = 1, None
        if isinstance(opts, Mapping):
            if opts.get("blocks") is not None:
                blocks = _quantity(opts["blocks"], "blocks")
            if opts.get("timestamp") is not None:
                timestamp = _quantity(opts["timestamp"], "timestamp")
        elif opts is not None:
            timestamp = _quantity(opts, "timestamp")
        if timestamp is not None:
            target_ms = timestamp * 1000
            if target_ms < self.chain.clock.now_ms:
                raise InvalidParams(
                    f"timestamp {timestamp} is before the simulated clock "
                    f"({self.chain.clock.now_ms // 1000})"
                )
            self.chain.clock.advance_to(target_ms)
        self.chain.mine(blocks)
        return "0x0"

    def _evm_revert(self, params: list[Any]) -> bool:
        (snapshot_id,) = _args(params, 1, 1)
        try:
            self.chain.revert(_quantity(snapshot_id, "snapshot id"))
        except UnknownSnapshot:
            return False
        return True

    def _evm_set_automine(self, params: list[Any]) -> bool:
        (enabled,) = _args(params, 1, 1)
        if not isinstance(enabled, bool):
            raise InvalidParams(f"automine flag must be a boolean, got {enabled!r}")
        self.chain.automine = enabled
        return True

    def _evm_set_next_block_timestamp(self, params: list[Any]) -> None:
        """``evm_setNextBlockTimestamp([seconds])``: the next block is sealed at that second."""
        (timestamp,) = _args(params, 1, 1)
        try:
            self.chain.set_next_block_time(_quantity(timestamp, "timestamp") * 1000)
        except ValueError as err:
            raise InvalidParams(str(err)) from err

    # -----------------------------------------------------------------------------------------
    # Records -> JSON
    # -----------------------------------------------------------------------------------------

    def _receipt_json(self, rec: Receipt) -> dict[str, Any]:
        tx = self.chain.transaction(rec.tx_hash)
        return {
            "transactionHash": _hexdata(rec.tx_hash),
            "transactionIndex": _hex(rec.tx_index),
            "blockHash": _hexdata(rec.block_hash),
            "blockNumber": _hex(rec.block_number),
            "from": rec.sender,
            "to": rec.to,
            "cumulativeGasUsed": _hex(rec.cumulative_gas_used),
            "gasUsed": _hex(rec.gas_used),
            "effectiveGasPrice": _hex(rec.effective_gas_price),
            "contractAddress": rec.contract_address,
            "logs": [_log_json(log) for log in rec.logs],
            "logsBloom": _bloom_hex(rec.logs),
            "status": _hex(rec.status),
            "type": _hex(tx.type),
        }

    def _tx_json(self, tx: Transaction, rec: Receipt | None) -> dict[str, Any]:
        """geth's RPCTransaction; block fields are null for pool transactions."""
        # geth: the price actually paid once mined, the fee cap while pooled.
        gas_price = rec.effective_gas_price if rec is not None else tx.max_fee_per_gas
        out: dict[str, Any] = {
            "blockHash": None if rec is None else _hexdata(rec.block_hash),
            "blockNumber": None if rec is None else _hex(rec.block_number),
            "transactionIndex": None if rec is None else _hex(rec.tx_index),
            "hash": _hexdata(tx.hash),
            "type": _hex(tx.type),
            "from": tx.sender,
            "to": tx.to,
            "nonce": _hex(tx.nonce),
            "gas": _hex(tx.gas),
            "gasPrice": _hex(gas_price),
            "value": _hex(tx.value),
            "input": _hexdata(tx.data),
            "v": _hex(tx.v),
            "r": _hex(tx.r),
            "s": _hex(tx.s),
        }
        if tx.chain_id is not None:
            out["chainId"] = _hex(tx.chain_id)
        if tx.type >= 1:
            out["accessList"] = [
                {
                    "address": entry.address,
                    "storageKeys": [_hexdata(k) for k in entry.storage_keys],
                }
                for entry in tx.access_list
            ]
            out["yParity"] = _hex(tx.v)
        if tx.type >= 2:
            out["maxFeePerGas"] = _hex(tx.max_fee_per_gas)
            out["maxPriorityFeePerGas"] = _hex(tx.max_priority_fee_per_gas)
        return out


# ---------------------------------------------------------------------------------------------
# Fee history rewards
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


def _percentiles(value: Any) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise InvalidParams("rewardPercentiles must be an array of numbers")
    out: list[float] = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise InvalidParams(f"invalid reward percentile: {p!r}")
        if not 0 <= p <= 100:
            raise InvalidParams(f"invalid reward percentile: {p}")
        if i > 0 and p < out[-1]:
            raise InvalidParams(f"invalid reward percentile: #{i - 1}:{out[-1]} > #{i}:{p}")
        out.append(float(p))
    return out


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _revert_error(err: ExecutionReverted) -> RpcError:
    if not err.data:
        return RpcError(SERVER_ERROR, "execution reverted")
    return RpcError(EXECUTION_ERROR, str(err), _hexdata(err.data))


# ---------------------------------------------------------------------------------------------
# Parameter parsing
# ---------------------------------------------------------------------------------------------


def _args(params: list[Any], required: int, total: int) -> list[Any]:
    """Positional params padded with None to ``total``; too few or too many is an error."""
    if len(params) < required:
        raise InvalidParams(f"missing value for required argument {len(params)}")
    if len(params) > total:
        raise InvalidParams(f"too many arguments, want at most {total}")
    return params + [None] * (total - len(params))


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidParams(f"{what} must be an object, got {type(value).__name__}")
    return value


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidParams(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidParams(f"invalid {what}: negative quantity {value}")
        return value
    if isinstance(value, str) and value.startswith(("0x", "0X")) and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise InvalidParams(f"invalid {what}: {value!r} is not a hex quantity")


def _data(value: Any, what: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise InvalidParams(f"invalid {what}: {value!r} is not 0x-prefixed hex data")


def _hash(value: Any, what: str) -> bytes:
    data = _data(value, what)
    if len(data) != 32:
        raise InvalidParams(f"invalid {what}: want 32 bytes, got {len(data)}")
    return data


def _address(value: Any, what: str) -> str:
    if isinstance(value, bytes | bytearray) and len(value) == 20:
        return to_checksum_address(bytes(value))
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    raise InvalidParams(f"invalid {what}: {value!r} is not an address")


def _optional_address(value: Any, what: str) -> str | None:
    if value is None or value in ("", "0x"):
        return None
    return _address(value, what)


def _input(tx: Mapping[str, Any]) -> bytes:
    if tx.get("input") is not None and tx.get("data") is not None:
        given_input, given_data = _data(tx["input"], "input"), _data(tx["data"], "data")
        if given_input != given_data:
            raise InvalidParams(
                'both "data" and "input" are set and not equal. Please use "input" to pass '
                "transaction call data"
            )
        return given_input
    for key in ("input", "data"):
        if tx.get(key) is not None:
            return _data(tx[key], key)
    return b""


def _call_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "from": _optional_address(tx.get("from"), "from"),
        "to": _optional_address(tx.get("to"), "to"),
        "data": _input(tx),
        "value": 0 if tx.get("value") is None else _quantity(tx["value"], "value"),
        "gas": 0 if tx.get("gas") is None else _quantity(tx["gas"], "gas"),
    }


_TX_QUANTITIES = (
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "value",
    "nonce",
    "chainId",
    "type",
)


def _tx_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    """``eth_sendTransaction`` params -> fields for ``Chain.sign`` (which fills the rest)."""
    fields: dict[str, Any] = {"data": _input(tx)}
    to = _optional_address(tx.get("to"), "to")
    if to is not None:
        fields["to"] = to
    for key in _TX_QUANTITIES:
        if tx.get(key) is not None:
            fields[key] = _quantity(tx[key], key)
    if tx.get("accessList") is not None:
        fields["accessList"] = tx["accessList"]
    if "gasPrice" in fields and ("maxFeePerGas" in fields or "maxPriorityFeePerGas" in fields):
        raise InvalidParams("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
    return fields


def _address_filter(value: Any) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return {_address(a, "address") for a in value} or None
    return {_address(value, "address")}


def _topic_filter(value: Any) -> list[frozenset[bytes] | None]:
    """Positional topic filter: None (or []) matches anything, a list is an OR of topics."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidParams("topics must be an array")
    if len(value) > 4:
        raise InvalidParams("too many topics, at most 4")
    out: list[frozenset[bytes] | None] = []
    for position in value:
        if position is None:
            out.append(None)
        elif isinstance(position, list | tuple):
            options = frozenset(_hash(t, "topic") for t in position if t is not None)
            has_null = any(t is None for t in position)
            out.append(None if not options or has_null else options)
        else:
            out.append(frozenset({_hash(position, "topic")}))
    return out


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _bloom_hex(logs: Any) -> str:
    bloom = BloomFilter()
    for log in logs:
        bloom.add(bytes.fromhex(log.address[2:]))
        for topic in log.topics:
            bloom.add(bytes(topic))
    return "0x" + int(bloom).to_bytes(256, "big").hex()


def _log_json(log: Log) -> dict[str, Any]:
    return {
        "address": log.address,
        "topics": [_hexdata(t) for t in log.topics],
        "data": _hexdata(log.data),
        "blockNumber": _hex(log.block_number),
        "blockHash": _hexdata(log.block_hash),
        "transactionHash": _hexdata(log.tx_hash),
        "transactionIndex": _hex(log.tx_index),
        "logIndex": _hex(log.log_index),
        "removed": False,
    }


def _inspect_line(ptx: PoolTx) -> str:
    """geth's txpool_inspect summary: ``"<to>: <value> wei + <gas> gas × <fee cap> wei"``."""  # noqa: RUF002
    tx = ptx.tx
    target = tx.to if tx.to is not None else "contract creation"
    return f"{target}: {tx.value} wei + {tx.gas} gas × {tx.max_fee_per_gas} wei"  # noqa: RUF001 (geth's text)
