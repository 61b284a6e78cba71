"""Our own ``ConstantProductPool`` (``contracts/ConstantProductPool.sol``) as a venue.

Traders call the pool directly: ``swapExactIn(tokenIn, amountIn, minAmountOut, to, deadline)``
returns the output; deposits and withdrawals are ``addLiquidity`` / ``removeLiquidity`` on the
pool, which is its own LP-share token. The pool emits ``Sync(uint256,uint256)`` right before
``Swap(sender, tokenIn, amountIn, amountOut, to)`` (sender, tokenIn and to indexed). The fee is
the pool's ``fee_bps`` in basis points, Uniswap v2's formula with 10,000 for 1,000
(:func:`agentbed.agents.market.amm_math.amount_out`).

A flash swap (``flashSwap``: outputs first, a callback, then the fee-adjusted product check)
emits ``Sync`` and then ``FlashSwap(sender, amount0In, amount1In, amount0Out, amount1Out, to)``
instead of ``Swap``. It is read as the swap it amounts to, from the pool's net flows: the token
the pool took in on balance is sold, the other is bought (a loan repaid in the borrowed token
with a fee is a "sale" of that fee for nothing). Its log carries no token addresses, so only a
venue built with the pools' tokens decodes it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.erc20 import MAX_UINT
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.venues.protocol import EncodedCall, SwapCall, SwapLog

if TYPE_CHECKING:
    from agentbed.chain.types import Log

NAME = "constant-product"
"""The venue key of our pool (the default of a scenario's ``[[pools]]`` ``venue``)."""
SWAP_TOPIC = keccak(text="Swap(address,address,uint256,uint256,address)")
"""topic0 of ``IConstantProductPool.Swap`` (sender, tokenIn and to are indexed)."""
FLASH_SWAP_TOPIC = keccak(text="FlashSwap(address,uint256,uint256,uint256,uint256,address)")
"""topic0 of ``IConstantProductPool.FlashSwap`` (sender and to are indexed)."""
SYNC_TOPIC = keccak(text="Sync(uint256,uint256)")
"""topic0 of ``IConstantProductPool.Sync`` (nothing indexed)."""
SWAP_SELECTOR = function_signature_to_4byte_selector(
    "swapExactIn(address,uint256,uint256,address,uint256)"
)
_SWAP_ARGS = ("address", "uint256", "uint256", "address", "uint256")
_ADD = function_signature_to_4byte_selector("addLiquidity(uint256,uint256,uint256,address,uint256)")
_REMOVE = function_signature_to_4byte_selector(
    "removeLiquidity(uint256,uint256,uint256,address,uint256)"
)
_LIQUIDITY_ARGS = ("uint256", "uint256", "uint256", "address", "uint256")
SWAP_GAS = 120_000
ADD_GAS = 250_000
REMOVE_GAS = 200_000
KNOWN_SELECTORS = frozenset(
    function_signature_to_4byte_selector(s)
    for s in (
        "swapExactIn(address,uint256,uint256,address,uint256)",
        "addLiquidity(uint256,uint256,uint256,address,uint256)",
        "removeLiquidity(uint256,uint256,uint256,address,uint256)",
        "flashSwap(uint256,uint256,address,bytes)",
        "sync()",
        "skim(address)",
        "transfer(address,uint256)",
        "transferFrom(address,address,uint256)",
        "approve(address,uint256)",
    )
)
"""Selectors of the pool's state-changing functions (a swap, or a known non-swap)."""


def swap_calldata(token_in: str, amount_in: int, min_out: int, to: str, deadline: int) -> bytes:
    """Calldata of ``swapExactIn(tokenIn, amountIn, minAmountOut, to, deadline)``."""
    return SWAP_SELECTOR + encode(_SWAP_ARGS, (token_in, amount_in, min_out, to, deadline))


def decode_swap(to: str | None, data: bytes) -> SwapCall | None:
    """The swap a transaction makes, or None when it is not a well-formed ``swapExactIn``
    (to any address: the caller checks that ``to`` is a pool)."""
    if to is None or data[:4] != SWAP_SELECTOR:
        return None
    return _decode_swap(to, bytes(data))


@functools.lru_cache(maxsize=1 << 12)
def _decode_swap(to: str, data: bytes) -> SwapCall | None:
    # Every searcher decodes every pending swap it sees, each time it looks: remembered by
    # calldata (a pure function of it; SwapCall is frozen, so sharing one is safe).
    try:
        token_in, amount_in, min_out, recipient, deadline = decode(_SWAP_ARGS, data[4:])
    except Exception:  # eth_abi raises several types for malformed data; all mean "not a swap"
        return None
    return SwapCall(
        to_checksum_address(to),
        to_checksum_address(token_in),
        amount_in,
        min_out,
        to_checksum_address(recipient),
        deadline,
    )


def _word_address(word: bytes) -> str:
    return to_checksum_address("0x" + word[-20:].hex())


class ConstantProductVenue:
    """Our pools (see the module docstring).

    Args:
        fees: Fee in basis points by pool address.
        tokens: ``(token0, token1)`` by pool address, to read flash swaps (whose log names
            no token); a pool missing here has its flash swaps left unread.
    """

    name = NAME

    def __init__(
        self, fees: Mapping[str, int], tokens: Mapping[str, tuple[str, str]] | None = None
    ) -> None:
        self.fees = dict(fees)
        self.tokens = dict(tokens or {})

    def targets(self) -> frozenset[str]:
        return frozenset(self.fees)

    def decode_call(self, to: str | None, data: bytes) -> tuple[SwapCall, ...] | None:
        if to not in self.fees:
            return None
        swap = decode_swap(to, data)
        return None if swap is None else (swap,)

    def knows_call(self, to: str, data: bytes) -> bool:
        if data[:4] == SWAP_SELECTOR:
            return decode_swap(to, data) is not None
        return data[:4] in KNOWN_SELECTORS

    def decode_sync(self, log: Log) -> tuple[int, int] | None:
        if log.topics != (SYNC_TOPIC,) or len(log.data) != 64:
            return None
        return int.from_bytes(log.data[:32], "big"), int.from_bytes(log.data[32:], "big")

    def decode_swap_log(self, log: Log) -> SwapLog | None:
        if len(log.topics) == 3 and log.topics[0] == FLASH_SWAP_TOPIC:
            return self._decode_flash_swap(log)
        if len(log.topics) != 4 or log.topics[0] != SWAP_TOPIC or len(log.data) != 64:
            return None
        return SwapLog(
            token_in=_word_address(log.topics[2]),
            amount_in=int.from_bytes(log.data[:32], "big"),
            amount_out=int.from_bytes(log.data[32:], "big"),
            recipient=_word_address(log.topics[3]),
        )

    def _decode_flash_swap(self, log: Log) -> SwapLog | None:
        tokens = self.tokens.get(log.address)
        if tokens is None or len(log.data) != 128:
            return None
        in0, in1, out0, out1 = (
            int.from_bytes(log.data[i : i + 32], "big") for i in range(0, 128, 32)
        )
        net0, net1 = in0 - out0, in1 - out1  # what the pool gained of each token
        if net0 <= 0 and net1 <= 0:
            return None  # the product check makes this impossible; a log built by hand
        sold0 = net0 > net1 if net0 > 0 and net1 > 0 else net0 > 0
        return SwapLog(
            token_in=tokens[0] if sold0 else tokens[1],
            amount_in=net0 if sold0 else net1,
            amount_out=max(0, -net1 if sold0 else -net0),
            recipient=_word_address(log.topics[2]),
        )

    def amount_out(self, amount_in: int, reserve_in: int, reserve_out: int, pool: str = "") -> int:
        """Exact output at ``pool``'s fee (30 bps when the pool is not known by address)."""
        return amount_out(amount_in, reserve_in, reserve_out, self.fees.get(pool, 30))

    def output_of(self, data: bytes, returned: bytes) -> int | None:
        if data[:4] != SWAP_SELECTOR or len(returned) < 32:
            return None
        return int.from_bytes(returned[:32], "big")

    def spender(self, pool: str) -> str:
        return pool

    def share_spender(self, pool: str) -> str | None:
        return None  # the pool burns its own shares: no approval

    def encode_swap(
        self, pool: str, token_in: str, amount_in: int, min_out: int, to: str, deadline: int
    ) -> EncodedCall:
        return EncodedCall(
            pool, swap_calldata(token_in, amount_in, min_out, to, deadline), SWAP_GAS
        )

    def encode_add(self, pool: str, amount0: int, amount1: int, to: str) -> EncodedCall:
        data = _ADD + encode(_LIQUIDITY_ARGS, (amount0, amount1, 0, to, MAX_UINT))
        return EncodedCall(pool, data, ADD_GAS)

    def encode_remove(self, pool: str, shares: int, to: str) -> EncodedCall:
        data = _REMOVE + encode(_LIQUIDITY_ARGS, (shares, 0, 0, to, MAX_UINT))
        return EncodedCall(pool, data, REMOVE_GAS)
