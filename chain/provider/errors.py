"""JSON-RPC error responses the provider answers with, and their codes.

Codes and wording follow geth: ``-32601`` unknown method, ``-32602`` malformed parameters,
``-32000`` server errors (mempool rejections, unknown blocks), ``3`` a reverted call with data
(with Hardhat's message, which names the decoded error: see :func:`revert_error`).
"""

from __future__ import annotations

from typing import Any

from agentbed.chain.abi import ERROR_STRING_SELECTOR, PANIC_CODES, PANIC_SELECTOR
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


HARDHAT_PREFIX = "VM Exception while processing transaction: "
"""How Hardhat begins the message of a reverted call or estimate."""


def hardhat_revert_text(err: ExecutionReverted) -> str:
    """Hardhat's words for a revert with data, from the reason the chain decoded.

    ``reverted with reason string '<s>'`` for ``Error(string)``, ``reverted with panic code
    0x11 (<meaning>)`` for ``Panic(uint256)``, ``reverted with custom error '<Name(args)>'`` for
    a custom error of a registered ABI, and ``reverted with an unrecognized custom error (return
    data: 0x..)`` for anything the chain cannot decode.
    """
    data = bytes(err.data)
    reason = err.reason or ""
    if reason.startswith("unknown error ") or len(data) < 4:
        return f"reverted with an unrecognized custom error (return data: 0x{data.hex()})"
    if data[:4] == ERROR_STRING_SELECTOR:
        return f"reverted with reason string '{reason}'"
    if data[:4] == PANIC_SELECTOR:
        code = int.from_bytes(data[4:36], "big")
        meaning = PANIC_CODES.get(code, "unknown panic code")
        return f"reverted with panic code 0x{code:02x} ({meaning})"
    return f"reverted with custom error '{reason}'"


def revert_error(err: ExecutionReverted) -> RpcError:
    """A reverted call or estimate: geth's code ``3``, Hardhat's message and error data.

    The message is Hardhat's (:func:`hardhat_revert_text`), so the decoded error -- its name
    and arguments -- reaches the user; ``data`` is Hardhat's object ``{"message", "data"}``
    whose ``data`` is the raw revert data. web3.py then raises ``ContractLogicError`` with
    ``"execution reverted: VM Exception while processing transaction: reverted with custom error
    'Name(args)'"`` (where a bare hex ``data`` would give a ``ContractCustomError`` showing only
    the hex); ethers and viem find the raw data inside the object. A ``revert()`` without data
    has nothing to decode, so geth (and we) answer a plain ``-32000 "execution reverted"``.
    """
    if not err.data:
        return RpcError(SERVER_ERROR, "execution reverted")
    message = HARDHAT_PREFIX + hardhat_revert_text(err)
    return RpcError(
        EXECUTION_ERROR, message, {"message": message, "data": "0x" + bytes(err.data).hex()}
    )
