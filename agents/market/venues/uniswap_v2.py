"""Uniswap v2 as a venue: pairs from ``@uniswap/v2-core`` 1.0.1, traded through Router02.

Traders swap through ``UniswapV2Router02`` (``@uniswap/v2-periphery`` 1.1.0-beta.0):
``swapExactTokensForTokens(amountIn, amountOutMin, path, to, deadline)`` transfers the input
from the sender to the first pair and calls each pair's ``swap`` along ``path``; it returns
``uint[] amounts`` (the last is the output). Deposits and withdrawals go through the router's
``addLiquidity`` / ``removeLiquidity`` (a withdrawal needs the pair's LP shares approved to the
router). Each pair emits ``Sync(uint112,uint112)`` and then ``Swap(sender, amount0In, amount1In,
amount0Out, amount1Out, to)`` (sender and to indexed): the sold token is the side with a
positive input. The fee is fixed at 0.3 %: ``out = in·997·r_out / (r_in·1000 + in·997)``.

What is decoded from a pending transaction: the router's exact-input token swaps
(``swapExactTokensForTokens`` and its fee-on-transfer twin), one :class:`SwapCall` per hop of
the path, each hop's pool found by its sorted token pair; only the last hop carries the
route's ``amountOutMin``. What is *not* decoded, and so counted as an unknown swap-looking call
when it lands: the router's exact-output and ETH swaps (their input is not in the calldata or is
ETH), a direct ``pair.swap`` (its input was transferred beforehand), and any path through a
pair the market does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import TYPE_CHECKING

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.erc20 import MAX_UINT
from agentbed.agents.market.venues.protocol import EncodedCall, SwapCall, SwapLog

if TYPE_CHECKING:
    from agentbed.chain.types import Log

NAME = "uniswap-v2"
"""The venue key of a Uniswap v2 pair in a scenario's ``[[pools]]``."""
FEE_BPS = 30
"""The pair's fixed fee (997/1000), in basis points; a v2 pool's ``fee_bps`` must equal it."""
SWAP_TOPIC = keccak(text="Swap(address,uint256,uint256,uint256,uint256,address)")
SYNC_TOPIC = keccak(text="Sync(uint112,uint112)")
_EXACT_IN = (
    "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
    "swapExactTokensForTokensSupportingFeeOnTransferTokens"
    "(uint256,uint256,address[],address,uint256)",
)
EXACT_IN_SELECTORS = frozenset(function_signature_to_4byte_selector(s) for s in _EXACT_IN)
_SWAP_ARGS = ("uint256", "uint256", "address[]", "address", "uint256")
SWAP_SELECTOR = function_signature_to_4byte_selector(_EXACT_IN[0])
_ADD_SIG = "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)"
_REMOVE_SIG = "removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)"
_ADD = function_signature_to_4byte_selector(_ADD_SIG)
_REMOVE = function_signature_to_4byte_selector(_REMOVE_SIG)
ROUTER_KNOWN = frozenset(
    function_signature_to_4byte_selector(s)
    for s in (
        *_EXACT_IN,
        _ADD_SIG,
        _REMOVE_SIG,
        "addLiquidityETH(address,uint256,uint256,uint256,address,uint256)",
        "removeLiquidityETH(address,uint256,uint256,uint256,address,uint256)",
        "removeLiquidityWithPermit(address,address,uint256,uint256,uint256,address,uint256,"
        "bool,uint8,bytes32,bytes32)",
        "removeLiquidityETHWithPermit(address,uint256,uint256,uint256,address,uint256,bool,"
        "uint8,bytes32,bytes32)",
        "removeLiquidityETHSupportingFeeOnTransferTokens(address,uint256,uint256,uint256,"
        "address,uint256)",
        "removeLiquidityETHWithPermitSupportingFeeOnTransferTokens(address,uint256,uint256,"
        "uint256,address,uint256,bool,uint8,bytes32,bytes32)",
    )
)
"""Router selectors it knows: the decoded swaps and the liquidity functions."""
PAIR_KNOWN = frozenset(
    function_signature_to_4byte_selector(s)
    for s in (
        "mint(address)",
        "burn(address)",
        "skim(address)",
        "sync()",
        "transfer(address,uint256)",
        "transferFrom(address,address,uint256)",
        "approve(address,uint256)",
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
    )
)
"""Pair selectors that are not swaps (``swap`` itself is not decodable: see the docstring)."""
SWAP_GAS = 200_000
"""Gas limit of a router swap: a single hop uses about 100,000 (134,000 the first on a pair)."""
ADD_GAS = 300_000
REMOVE_GAS = 250_000


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountOut``: the 997/1000 formula, rounded down.

    Raises:
        ValueError: A non-positive reserve or a negative input.
    """
    if reserve_in <= 0 or reserve_out <= 0 or amount_in < 0:
        raise ValueError(
            f"reserves must be > 0 and amount_in >= 0, got {reserve_in}, {reserve_out}, {amount_in}"
        )
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


class UniswapV2Venue:
    """Uniswap v2 pairs behind one Router02 (see the module docstring).

    Args:
        router: The router's address.
        factory: The v2 factory's address.
        pairs: ``(token0, token1)`` by pair address (tokens in the pair's address order).
    """

    name = NAME

    def __init__(self, router: str, factory: str, pairs: Mapping[str, tuple[str, str]]) -> None:
        self.router = router
        self.factory = factory
        self.pairs = dict(pairs)
        self._by_tokens = {frozenset(tokens): pair for pair, tokens in self.pairs.items()}

    def targets(self) -> frozenset[str]:
        return frozenset({self.router, *self.pairs})

    def pair_for(self, token_a: str, token_b: str) -> str | None:
        """The known pair of two tokens, if any."""
        return self._by_tokens.get(frozenset((token_a, token_b)))

    def decode_call(self, to: str | None, data: bytes) -> tuple[SwapCall, ...] | None:
        if to != self.router or data[:4] not in EXACT_IN_SELECTORS:
            return None
        try:
            amount_in, min_out, path, recipient, deadline = decode(_SWAP_ARGS, data[4:])
        except Exception:  # eth_abi raises several types for malformed data: not a swap
            return None
        path = [to_checksum_address(t) for t in path]
        if len(path) < 2:
            return None
        pools = [self.pair_for(a, b) for a, b in pairwise(path)]
        if any(p is None for p in pools):
            return None  # a hop through a pair the market does not know
        recipient = to_checksum_address(recipient)
        hops = []
        for i, pool in enumerate(pools):
            last = i == len(pools) - 1
            # Inner hops' amounts depend on the reserves at execution: only the first input
            # and the last limit are in the calldata.
            hops.append(
                SwapCall(
                    str(pool),
                    path[i],
                    amount_in if i == 0 else 0,
                    min_out if last else 0,
                    recipient if last else str(pools[i + 1]),
                    deadline,
                )
            )
        return tuple(hops)

    def knows_call(self, to: str, data: bytes) -> bool:
        if to == self.router:
            if data[:4] in EXACT_IN_SELECTORS:
                return self.decode_call(to, data) is not None
            return data[:4] in ROUTER_KNOWN
        return data[:4] in PAIR_KNOWN

    def decode_sync(self, log: Log) -> tuple[int, int] | None:
        if log.topics != (SYNC_TOPIC,) or len(log.data) != 64 or log.address not in self.pairs:
            return None
        return int.from_bytes(log.data[:32], "big"), int.from_bytes(log.data[32:], "big")

    def decode_swap_log(self, log: Log) -> SwapLog | None:
        if len(log.topics) != 3 or log.topics[0] != SWAP_TOPIC or len(log.data) != 128:
            return None
        tokens = self.pairs.get(log.address)
        if tokens is None:
            return None  # a pair of another factory: its tokens are not known here
        in0, in1, out0, out1 = (
            int.from_bytes(log.data[i : i + 32], "big") for i in range(0, 128, 32)
        )
        # The sold side is the one the pair received more of than it paid out.
        zero_for_one = in0 - out0 > in1 - out1
        amount_in, amount_out = (in0, out1) if zero_for_one else (in1, out0)
        return SwapLog(
            token_in=tokens[0] if zero_for_one else tokens[1],
            amount_in=amount_in,
            amount_out=amount_out,
            recipient=to_checksum_address("0x" + log.topics[2][-20:].hex()),
        )

    def amount_out(self, amount_in: int, reserve_in: int, reserve_out: int, pool: str = "") -> int:
        return get_amount_out(amount_in, reserve_in, reserve_out)

    def output_of(self, data: bytes, returned: bytes) -> int | None:
        if data[:4] not in EXACT_IN_SELECTORS:
            return None
        try:
            (amounts,) = decode(("uint256[]",), returned)
        except Exception:  # not the router's uint[] amounts
            return None
        return int(amounts[-1]) if amounts else None

    def spender(self, pool: str) -> str:
        return self.router

    def share_spender(self, pool: str) -> str | None:
        return self.router  # removeLiquidity pulls the shares from the LP

    def encode_swap(
        self, pool: str, token_in: str, amount_in: int, min_out: int, to: str, deadline: int
    ) -> EncodedCall:
        token0, token1 = self.pairs[pool]
        path = [token_in, token1 if token_in == token0 else token0]
        data = SWAP_SELECTOR + encode(_SWAP_ARGS, (amount_in, min_out, path, to, deadline))
        return EncodedCall(self.router, data, SWAP_GAS)

    def encode_add(self, pool: str, amount0: int, amount1: int, to: str) -> EncodedCall:
        token0, token1 = self.pairs[pool]
        args = (token0, token1, amount0, amount1, 0, 0, to, MAX_UINT)
        data = _ADD + encode(
            (
                "address",
                "address",
                "uint256",
                "uint256",
                "uint256",
                "uint256",
                "address",
                "uint256",
            ),
            args,
        )
        return EncodedCall(self.router, data, ADD_GAS)

    def encode_remove(self, pool: str, shares: int, to: str) -> EncodedCall:
        token0, token1 = self.pairs[pool]
        data = _REMOVE + encode(
            ("address", "address", "uint256", "uint256", "uint256", "address", "uint256"),
            (token0, token1, shares, 0, 0, to, MAX_UINT),
        )
        return EncodedCall(self.router, data, REMOVE_GAS)
