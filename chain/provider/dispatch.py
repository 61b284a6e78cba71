"""The method table (JSON-RPC name -> handler) and the web3 provider that dispatches on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from agentbed.chain.errors import ExecutionReverted, TestbedError
from agentbed.chain.provider import handlers as h
from agentbed.chain.provider.cheats import CHEAT_METHODS
from agentbed.chain.provider.errors import (
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    InvalidParams,
    RpcError,
    revert_error,
)
from agentbed.chain.provider.filters import FILTER_METHODS
from agentbed.chain.provider.flashbots import BUNDLE_METHODS
from agentbed.chain.provider.lookups import LOOKUP_METHODS
from agentbed.chain.provider.statereads import STATE_READ_METHODS
from agentbed.chain.provider.testbed import TESTBED_METHODS

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

Handler = Callable[["Chain", list[Any]], Any]
"""``(chain, params) -> JSON-RPC result``; raises :class:`RpcError` or a ``TestbedError``."""


def _constant(value: Any) -> Handler:
    """A handler answering ``value`` whatever the params (e.g. ``net_listening``)."""
    return lambda chain, params: value


METHODS: Mapping[str, Handler] = MappingProxyType(
    {
        "web3_clientVersion": h.client_version,
        "net_version": h.net_version,
        "net_listening": _constant(True),
        "eth_chainId": h.chain_id,
        "eth_syncing": _constant(False),
        "eth_coinbase": h.coinbase,
        "eth_blockNumber": h.block_number,
        "eth_accounts": h.accounts,
        "eth_getBalance": h.get_balance,
        "eth_getTransactionCount": h.get_transaction_count,
        "eth_getCode": h.get_code,
        "eth_getStorageAt": h.get_storage_at,
        "eth_gasPrice": h.gas_price,
        "eth_maxPriorityFeePerGas": h.max_priority_fee,
        "eth_feeHistory": h.fee_history,
        "eth_sendRawTransaction": h.send_raw_transaction,
        "eth_sendTransaction": h.send_transaction,
        "eth_call": h.call,
        "eth_estimateGas": h.estimate_gas,
        "eth_getTransactionReceipt": h.get_transaction_receipt,
        "eth_getTransactionByHash": h.get_transaction_by_hash,
        "eth_getBlockByNumber": h.get_block_by_number,
        "eth_getBlockByHash": h.get_block_by_hash,
        "eth_getBlockTransactionCountByNumber": h.block_tx_count_by_number,
        "eth_getBlockTransactionCountByHash": h.block_tx_count_by_hash,
        "eth_getLogs": h.get_logs,
        "txpool_content": h.txpool_content,
        "txpool_inspect": h.txpool_inspect,
        "txpool_status": h.txpool_status,
        "evm_mine": h.evm_mine,
        "evm_snapshot": h.evm_snapshot,
        "evm_revert": h.evm_revert,
        "evm_setAutomine": h.evm_set_automine,
        "evm_setNextBlockTimestamp": h.evm_set_next_block_timestamp,
        **LOOKUP_METHODS,
        **STATE_READ_METHODS,
        **BUNDLE_METHODS,
        **TESTBED_METHODS,
        **FILTER_METHODS,
        **CHEAT_METHODS,
    }
)
"""Every supported JSON-RPC method and its handler."""


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

    @property
    def methods(self) -> tuple[str, ...]:
        """Names of the supported JSON-RPC methods."""
        return tuple(METHODS)

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
        handler = METHODS.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = []
        if not isinstance(params, list | tuple):
            raise InvalidParams(f"params must be an array, got {type(params).__name__}")
        try:
            return handler(self.chain, list(params))
        except ExecutionReverted as err:
            raise revert_error(err) from err
        except TestbedError as err:  # mempool rejections (TxRejected) carry geth's wording
            raise RpcError(SERVER_ERROR, str(err)) from err
