"""Hardhat's wording for reverted calls (chain/provider/errors.py), one case per kind of data."""

from __future__ import annotations

import pytest
from eth_abi import encode

from agentbed.chain.abi import AbiRegistry
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.provider.errors import (
    EXECUTION_ERROR,
    HARDHAT_PREFIX,
    SERVER_ERROR,
    hardhat_revert_text,
    revert_error,
)

ERROR_STRING = bytes.fromhex("08c379a0")
PANIC = bytes.fromhex("4e487b71")
NONCE_USED_ABI = [
    {"type": "error", "name": "IntentBookNonceUsed", "inputs": [{"name": "n", "type": "uint64"}]}
]


def _reverted(data: bytes) -> ExecutionReverted:
    """The error Chain.call raises for ``data``, its reason decoded as the chain decodes it."""
    registry = AbiRegistry()
    registry.register("IntentBook", NONCE_USED_ABI)
    return ExecutionReverted(registry.decode_revert(data), data)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (ERROR_STRING + encode(["string"], ["nope"]), "reverted with reason string 'nope'"),
        (
            PANIC + encode(["uint256"], [0x11]),
            "reverted with panic code 0x11 (arithmetic underflow or overflow)",
        ),
        (PANIC + encode(["uint256"], [0x99]), "reverted with panic code 0x99 (unknown panic code)"),
        (
            bytes.fromhex("deadbeef") + encode(["uint256"], [1]),
            "reverted with an unrecognized custom error (return data: 0xdeadbeef"
            + "00" * 31
            + "01)",
        ),
        (b"\x01\x02", "reverted with an unrecognized custom error (return data: 0x0102)"),
        (
            ERROR_STRING + b"\x00" * 5,
            "reverted with an unrecognized custom error (return data: 0x08c379a00000000000)",
        ),
    ],
)
def test_hardhat_wording_per_kind_of_revert_data(data: bytes, text: str) -> None:
    assert hardhat_revert_text(_reverted(data)) == text


def test_a_known_custom_error_is_named_with_its_arguments() -> None:
    from agentbed.chain.abi import selector

    data = selector("IntentBookNonceUsed(uint64)") + encode(["uint64"], [3])
    error = revert_error(_reverted(data))
    message = HARDHAT_PREFIX + "reverted with custom error 'IntentBookNonceUsed(3)'"
    assert (error.code, error.message) == (EXECUTION_ERROR, message)
    assert error.data == {"message": message, "data": "0x" + data.hex()}


def test_a_bare_revert_is_geths_plain_server_error() -> None:
    error = revert_error(ExecutionReverted(None, b""))
    assert (error.code, error.message, error.data) == (SERVER_ERROR, "execution reverted", None)
