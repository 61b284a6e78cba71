"""JSON-RPC error responses the provider answers with, and their codes.

Codes and wording follow geth: ``-32601`` unknown method, ``-32602`` malformed parameters,
``-32000`` server errors (mempool rejections, unknown blocks), ``3`` a reverted call with data.
"""

from __future__ import annotations

from typing import Any

from agentbed.chain.errors import ExecutionReverted

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
EXECUTION_ERROR = 3


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


def revert_error(err: ExecutionReverted) -> RpcError:
    """geth's answer to a reverted call: code ``3`` with the revert data, or bare ``-32000``.

    A ``revert()`` without data has nothing for web3 to decode, so geth (and we) answer a plain
    server error; with data, web3 raises ``ContractLogicError`` / ``ContractCustomError``.
    """
    if not err.data:
        return RpcError(SERVER_ERROR, "execution reverted")
    return RpcError(EXECUTION_ERROR, str(err), "0x" + bytes(err.data).hex())
