"""``contracts/Router.sol`` from Python: deploying it, encoding orders, reading them back.

An order (a :class:`~agentbed.agents.market.routing.Split`) becomes one call of
``Router.swap(tokenIn, tokenOut, routes, minAmountOut, to, deadline)``. Each hop's calldata is
what the pool's venue encodes for an exact-input swap paying the router, with no minimum; the
router overwrites the input amount, whose byte offset this module finds by encoding the swap
with two different amounts and seeing which 32-byte word changes, so any venue whose swap
takes its input as one ABI word works without the router knowing it.

:class:`RouterDecoder` reads a pending router call back into the swaps it makes (the first leg
of each route with its amount, inner legs with 0 as the Uniswap v2 venue does for its paths),
so searchers and the detector see routed orders like any other swap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.agent import TxIntent
from agentbed.agents.erc20 import MAX_UINT
from agentbed.agents.market.routing import Leg, Route, Split
from agentbed.agents.market.venues.protocol import SwapCall

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.market.world import Market
    from agentbed.chain.types import Log, Receipt

_HOP = "(address,address,address,uint256,bytes)"
_ROUTE = f"(uint256,{_HOP}[])"
SWAP_ARGS = ("address", "address", f"{_ROUTE}[]", "uint256", "address", "uint256")
SWAP_SELECTOR = function_signature_to_4byte_selector(
    f"swap(address,address,{_ROUTE}[],uint256,address,uint256)"
)
ROUTED_TOPIC = keccak(text="Routed(address,address,address,uint256,uint256,address,uint256)")
"""topic0 of ``IRouter.Routed`` (sender, tokenIn and tokenOut indexed)."""
BASE_GAS = 90_000
"""Gas of a router call beyond its hops (pulling the input, paying out, the event)."""
HOP_GAS = 40_000
"""Gas a hop costs beyond the venue's own swap (two approvals, two balance reads)."""
_PROBE = (0x1111 << 200, 0x2222 << 200)
"""Two input amounts whose encodings differ in the amount's word only."""


class RouterEncodingError(ValueError):
    """A venue's swap calldata has no single word holding the input amount."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One hop as the router takes it (see ``IRouter.Hop``)."""

    target: str
    spender: str
    token_out: str
    amount_offset: int
    data: bytes
    gas: int


def deploy_router(market: Market, *, deployer: LocalAccount | None = None) -> str:
    """Deploy a ``Router`` whose targets are every venue target of ``market``; mined at once.

    Returns:
        The router's address.
    """
    owner = deployer or market.chain.accounts[0]
    targets = sorted({t for v in market.venues.values() for t in v.targets()})
    router = market.chain.deploy("Router", targets, sender=owner)
    return str(router.address)


def attach_router(market: Market) -> str:
    """Deploy a router for ``market`` (:func:`deploy_router`), set ``market.router`` and let
    the market read pending router calls (:class:`RouterDecoder`)."""
    market.router = deploy_router(market)
    market.add_decoder(RouterDecoder(market, market.router))
    return market.router


def encode_hop(market: Market, router: str, pool_address: str, token_in: str) -> Hop:
    """The hop selling ``token_in`` on a pool, paying ``router``, amount left for the router.

    Raises:
        RouterEncodingError: the venue's two probe encodings do not differ in exactly one word.
    """
    pool = market.by_address[pool_address]
    venue = market.venue_of(pool)
    calls = [venue.encode_swap(pool.address, token_in, a, 0, router, MAX_UINT) for a in _PROBE]
    first, second = calls[0].data, calls[1].data
    words = [
        off for off in range(4, len(first), 32) if first[off : off + 32] != second[off : off + 32]
    ]
    if len(first) != len(second) or len(words) != 1:
        raise RouterEncodingError(
            f"venue {venue.name}: the input amount of a swap on {pool.address} is not one word"
        )
    offset = words[0]
    data = first[:offset] + bytes(32) + first[offset + 32 :]
    return Hop(
        calls[0].to, venue.spender(pool.address), pool.other(token_in), offset, data, calls[0].gas
    )


def order_calldata(
    market: Market, router: str, split: Split, min_out: int, to: str, deadline: int = MAX_UINT
) -> tuple[bytes, int]:
    """``Router.swap`` calldata executing ``split``, and a gas limit for it."""
    routes = []
    gas = BASE_GAS
    for route, amount in zip(split.routes, split.amounts, strict=True):
        hops = [encode_hop(market, router, leg.pool.address, leg.token_in) for leg in route.legs]
        gas += sum(h.gas + HOP_GAS for h in hops)
        routes.append(
            (amount, [(h.target, h.spender, h.token_out, h.amount_offset, h.data) for h in hops])
        )
    token_in, token_out = split.routes[0].token_in, split.routes[0].token_out
    args = (token_in, token_out, routes, min_out, to, deadline)
    return SWAP_SELECTOR + encode(SWAP_ARGS, args), gas


def order_intent(
    market: Market,
    router: str,
    split: Split,
    min_out: int,
    to: str,
    *,
    tip: int,
    label: str = "route",
    **meta: object,
) -> TxIntent:
    """The transaction sending ``split`` through ``router`` with at least ``min_out`` out."""
    data, gas = order_calldata(market, router, split, min_out, to)
    return TxIntent(to=router, data=data, gas=gas, tip=tip, label=label, meta=meta)


@dataclass(frozen=True, slots=True)
class Routed:
    """A ``Routed`` event: an order the router executed."""

    sender: str
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    to: str
    routes: int


def routed_event(router: str, log: Log) -> Routed | None:
    """The ``Routed`` event ``log`` records, or None when it is not one of ``router``'s."""
    if log.address != router or not log.topics or log.topics[0] != ROUTED_TOPIC:
        return None
    sender, token_in, token_out = (
        to_checksum_address("0x" + t[-20:].hex()) for t in log.topics[1:4]
    )
    amount_in, amount_out, to, routes = decode(
        ("uint256", "uint256", "address", "uint256"), log.data
    )
    return Routed(
        sender, token_in, token_out, amount_in, amount_out, to_checksum_address(to), routes
    )


def routed_events(router: str, receipts: Sequence[Receipt]) -> tuple[tuple[bytes, Routed], ...]:
    """``(tx hash, event)`` of every ``Routed`` event ``router`` emitted in ``receipts``."""
    found = []
    for receipt in receipts:
        for log in receipt.logs:
            event = routed_event(router, log)
            if event is not None:
                found.append((receipt.tx_hash, event))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Order:
    """A router call read back: its routes, their inputs and the order's minimum output."""

    routes: tuple[Route, ...]
    amounts: tuple[int, ...]
    min_out: int


def decode_order(market: Market, router: str, to: str | None, data: bytes) -> Order | None:
    """The order a call to ``router`` sends, or None when it is not a well-formed order whose
    hops all decode into swaps on the market's pools."""
    if to != router or data[:4] != SWAP_SELECTOR:
        return None
    try:
        _, _, routes, min_out, _, _ = decode(SWAP_ARGS, bytes(data[4:]))
    except Exception:  # eth_abi raises several types for malformed data; all mean "not ours"
        return None
    found: list[Route] = []
    for _, hops in routes:
        legs = []
        for target, _, _, _, hop_data in hops:
            inner = market.pending_swaps(to_checksum_address(target), hop_data)
            pool = market.by_address.get(inner[0].pool) if len(inner) == 1 else None
            if pool is None or inner[0].token_in not in (pool.token0, pool.token1):
                return None
            legs.append(Leg(pool, inner[0].token_in))
        if not legs:
            return None
        found.append(Route(tuple(legs)))
    return Order(tuple(found), tuple(int(amount) for amount, _ in routes), int(min_out))


class RouterDecoder:
    """Reads pending ``Router.swap`` calls into their swaps (a ``PendingDecoder``).

    Args:
        market: The market whose decoders read each hop's calldata.
        router: The router's address.
    """

    def __init__(self, market: Market, router: str) -> None:
        self.market = market
        self.router = router

    def decode_call(self, to: str | None, data: bytes) -> tuple[SwapCall, ...] | None:
        if to != self.router or data[:4] != SWAP_SELECTOR:
            return None
        try:
            _, _, routes, _, _, deadline = decode(SWAP_ARGS, bytes(data[4:]))
        except Exception:  # eth_abi raises several types for malformed data; all mean "not ours"
            return None
        swaps: list[SwapCall] = []
        for amount, hops in routes:
            for index, (target, _, _, _, hop_data) in enumerate(hops):
                inner = self.market.pending_swaps(to_checksum_address(target), hop_data)
                if len(inner) != 1:
                    return None
                swap = inner[0]
                swaps.append(
                    SwapCall(swap.pool, swap.token_in, amount if index == 0 else 0, 0, to, deadline)
                )
        return tuple(swaps)
