"""The pool's stateless admission checks, in geth's order (``core/txpool/validation.go``).

:class:`agentbed.chain.mempool.Mempool` runs these before any account state is read; a tx that
fails one is refused with a named :class:`agentbed.chain.errors.TxRejected` subclass and geth's
wording, and the pool is left as it was.
"""

from __future__ import annotations

from agentbed.chain.errors import (
    FloorDataGasTooLow,
    GasLimitExceeded,
    IntrinsicGasTooLow,
    MaxInitCodeSizeExceeded,
    NonceMax,
    OversizedData,
    TipAboveFeeCap,
    TxTypeNotSupported,
    Underpriced,
)
from agentbed.chain.fees import calldata_floor_gas, intrinsic_gas
from agentbed.chain.interfaces import HeadInfo, PoolConfig
from agentbed.chain.setcode import SetCodeRules
from agentbed.chain.types import Transaction

__all__ = ["MAX_NONCE", "SUPPORTED_TYPES", "validate_stateless"]

MAX_NONCE = 2**64 - 1
"""A tx with this nonce is rejected: the account nonce could not be incremented past it."""

SUPPORTED_TYPES = frozenset({0, 1, 2, 4})
"""Legacy, EIP-2930, EIP-1559 and EIP-7702 set-code (see :mod:`agentbed.chain.setcode`)."""


def validate_stateless(tx: Transaction, head: HeadInfo, cfg: PoolConfig) -> None:
    """geth ``txpool.ValidateTransaction``: the checks that need no account state.

    Raises:
        TxRejected: the subclass named after geth's error, with geth's wording.
    """
    if tx.type not in SUPPORTED_TYPES:
        raise TxTypeNotSupported(f"type {tx.type}")
    if tx.size > cfg.max_tx_size:
        raise OversizedData(f"transaction size {tx.size}, limit {cfg.max_tx_size}")
    if tx.is_create and len(tx.data) > cfg.max_initcode_size:
        raise MaxInitCodeSizeExceeded(f"code size {len(tx.data)}, limit {cfg.max_initcode_size}")
    if tx.gas > head.block_gas_limit:
        raise GasLimitExceeded(f"gas {tx.gas}, block gas limit {head.block_gas_limit}")
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TipAboveFeeCap(
            f"address {tx.sender}, maxPriorityFeePerGas: {tx.max_priority_fee_per_gas}, "
            f"maxFeePerGas: {tx.max_fee_per_gas}"
        )
    if tx.nonce >= MAX_NONCE:
        raise NonceMax(f"address {tx.sender}, nonce: {tx.nonce}")
    intrinsic = intrinsic_gas(tx)
    if tx.gas < intrinsic:
        raise IntrinsicGasTooLow(f"gas {tx.gas}, minimum needed {intrinsic}")
    floor = calldata_floor_gas(tx)
    if tx.gas < floor:
        raise FloorDataGasTooLow(f"gas {tx.gas}, minimum needed {floor}")
    if tx.max_priority_fee_per_gas < cfg.price_limit:
        raise Underpriced(
            f"tip needed {cfg.price_limit}, tip permitted {tx.max_priority_fee_per_gas}"
        )
    SetCodeRules.check_stateless(tx)
