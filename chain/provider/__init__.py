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
* reverted ``eth_call`` / ``eth_estimateGas`` -> ``3`` with Hardhat's message (``"VM Exception
  while processing transaction: reverted with custom error 'Name(args)'"``, ``... reason string
  '...'``, ``... panic code 0x11 (...)``) and Hardhat's data ``{"message", "data": <revert
  data>}``, so web3 raises ``ContractLogicError`` showing the decoded error (a bare
  ``revert()`` without data is ``-32000 "execution reverted"``, as in geth);
* malformed parameters -> ``-32602``; unknown methods -> ``-32601``.

Only the head state is kept readable: state reads at an older block number answer ``-32000``
(``"pending"`` reads the head state too, except ``eth_getTransactionCount``, which counts the
sender's pending pool transactions). ``eth_call``/``eth_estimateGas`` without ``from`` run as
the chain's first account, as ``Chain.call`` does.
``eth_sendTransaction`` signs with the chain's local key for ``from`` (like anvil's unlocked
accounts). The ``evm_*`` methods follow anvil/Hardhat. Flashbots' bundle methods live in
:mod:`.flashbots`, the testbed's controls (``testbed_*``) in :mod:`.testbed`, block-level
lookups in :mod:`.lookups`; the whole table, served and not, is in ``docs/node.md``.

The package is a dispatch table plus formatters: :mod:`.dispatch` (method table and the
provider class), :mod:`.handlers` (one function per method, calling only ``Chain``'s public
API), :mod:`.params` (parsing parameters), :mod:`.encoding` (records -> JSON-RPC shapes) and
:mod:`.errors` (error responses).
"""

from __future__ import annotations

from agentbed.chain.provider.dispatch import METHODS, Handler, TestbedProvider
from agentbed.chain.provider.encoding import block_rewards
from agentbed.chain.provider.errors import (
    EXECUTION_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    InvalidParams,
    RpcError,
)
from agentbed.chain.provider.handlers import DEFAULT_PRIORITY_FEE, MAX_FEE_HISTORY_BLOCKS

__all__ = [
    "DEFAULT_PRIORITY_FEE",
    "EXECUTION_ERROR",
    "INVALID_PARAMS",
    "MAX_FEE_HISTORY_BLOCKS",
    "METHODS",
    "METHOD_NOT_FOUND",
    "SERVER_ERROR",
    "Handler",
    "InvalidParams",
    "RpcError",
    "TestbedProvider",
    "block_rewards",
]
