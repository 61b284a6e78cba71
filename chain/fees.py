"""Gas and fee arithmetic for the Prague fork.

Pure functions on :class:`agentbed.chain.types.Transaction` and header numbers, shared by mempool
admission (``intrinsic gas too low``) and the block builder (next block's base fee). The
constants are the Prague values; nothing here depends on py-evm so the layers above the
backend can use it (tests cross-check it against py-evm's ``PragueVM``).
"""

from __future__ import annotations

from agentbed.chain.types import Transaction

__all__ = [
    "ACCESS_LIST_ADDRESS_GAS",
    "ACCESS_LIST_STORAGE_KEY_GAS",
    "BASE_FEE_MAX_CHANGE_DENOMINATOR",
    "CREATE_GAS",
    "ELASTICITY_MULTIPLIER",
    "FLOOR_GAS_PER_TOKEN",
    "INITCODE_WORD_GAS",
    "INITIAL_BASE_FEE",
    "TX_DATA_NONZERO_GAS",
    "TX_DATA_ZERO_GAS",
    "TX_GAS",
    "calldata_floor_gas",
    "calldata_tokens",
    "data_floor_gas",
    "intrinsic_gas",
    "next_base_fee",
    "required_gas",
]

TX_GAS = 21_000
CREATE_GAS = 32_000
"""Extra intrinsic gas of a contract-creation tx (53,000 in total)."""
TX_DATA_ZERO_GAS = 4
TX_DATA_NONZERO_GAS = 16
INITCODE_WORD_GAS = 2
"""EIP-3860: per 32-byte word of initcode in a creation tx."""
ACCESS_LIST_ADDRESS_GAS = 2_400
ACCESS_LIST_STORAGE_KEY_GAS = 1_900
AUTHORIZATION_GAS = 25_000
"""EIP-7702 ``PER_EMPTY_ACCOUNT_COST``: intrinsic gas per authorization tuple."""
FLOOR_GAS_PER_TOKEN = 10
"""EIP-7623 ``TOTAL_COST_FLOOR_PER_TOKEN``."""
NONZERO_BYTE_TOKENS = 4
"""EIP-7623: a non-zero calldata byte counts as four tokens, a zero byte as one."""

INITIAL_BASE_FEE = 1_000_000_000
"""EIP-1559 ``INITIAL_BASE_FEE`` (1 gwei)."""
ELASTICITY_MULTIPLIER = 2
BASE_FEE_MAX_CHANGE_DENOMINATOR = 8


def calldata_tokens(data: bytes) -> int:
    """EIP-7623 token count: ``zero_bytes + 4 * nonzero_bytes``."""
    zeros = data.count(0)
    return zeros + NONZERO_BYTE_TOKENS * (len(data) - zeros)


def intrinsic_gas(tx: Transaction) -> int:
    """Gas charged before execution starts (geth ``core.IntrinsicGas`` for Prague).

    Args:
        tx: A type 0, 1, 2 or 4 transaction.

    Returns:
        21,000 (53,000 for a create) + 4 per zero / 16 per non-zero calldata byte + 2 per
        32-byte initcode word for creates + 2,400 per access-list address + 1,900 per
        access-list storage key + 25,000 per EIP-7702 authorization tuple.
    """
    data = tx.data
    zeros = data.count(0)
    gas = TX_GAS + TX_DATA_ZERO_GAS * zeros + TX_DATA_NONZERO_GAS * (len(data) - zeros)
    if tx.to is None:
        gas += CREATE_GAS + INITCODE_WORD_GAS * ((len(data) + 31) // 32)
    for entry in tx.access_list:
        gas += ACCESS_LIST_ADDRESS_GAS + ACCESS_LIST_STORAGE_KEY_GAS * len(entry.storage_keys)
    return gas + AUTHORIZATION_GAS * len(tx.authorization_list)


def data_floor_gas(data: bytes) -> int:
    """EIP-7623 floor of a tx carrying ``data``: ``21000 + 10 * tokens``."""
    return TX_GAS + FLOOR_GAS_PER_TOKEN * calldata_tokens(data)


def calldata_floor_gas(tx: Transaction) -> int:
    """EIP-7623 floor: the least gas a tx is charged, ``21000 + 10 * tokens``.

    The floor ignores creation and access-list costs; a tx's gas limit must cover both the
    intrinsic gas and this floor (see :func:`required_gas`).
    """
    return data_floor_gas(tx.data)


def required_gas(tx: Transaction) -> int:
    """The least gas limit a tx may carry in Prague: ``max(intrinsic, floor)``."""
    return max(intrinsic_gas(tx), calldata_floor_gas(tx))


def next_base_fee(parent_base_fee: int, parent_gas_used: int, parent_gas_limit: int) -> int:
    """Base fee of the block after ``parent``, exactly per EIP-1559.

    Args:
        parent_base_fee: The parent block's base fee per gas.
        parent_gas_used: Gas the parent block used.
        parent_gas_limit: The parent block's gas limit.

    Returns:
        The parent's base fee when it used exactly its target (``gas_limit // 2``); else moved
        towards demand by at most 1/8, with an increase of at least 1 wei above target.
    """
    target = parent_gas_limit // ELASTICITY_MULTIPLIER
    if target == 0 or parent_gas_used == target:
        # A zero target would divide by zero; such a chain cannot carry txs anyway.
        return parent_base_fee
    if parent_gas_used > target:
        delta = (
            parent_base_fee
            * (parent_gas_used - target)
            // target
            // BASE_FEE_MAX_CHANGE_DENOMINATOR
        )
        return parent_base_fee + max(delta, 1)
    delta = (
        parent_base_fee * (target - parent_gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    )
    return max(parent_base_fee - delta, 0)
