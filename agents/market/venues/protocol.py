"""The ``Venue`` protocol: what the market and its agents need to know about a kind of pool.

A venue (a pool kind: our ``ConstantProductPool``, a Uniswap v2 pair behind Router02, ...) is
the one place that knows its contracts' calldata, events and fee math. Everything else in the
market study speaks in the records below:

* **pending calls** -> :class:`SwapCall` (``decode_call``): the swaps a transaction will make,
  from a direct pool call or a router call;
* **logs** -> swaps and reserve updates (``decode_swap_log``, ``decode_sync``), so the detector,
  the market's reserve tracking and the accounting read every venue alike;
* **quotes** (``amount_out``): the exact integer output, with the venue's own fee formula;
* **encoding** (``encode_swap``, ``encode_add``, ``encode_remove``, ``spender``): the target,
  calldata and gas of a swap or a liquidity change, and whom to approve for it.

A transaction to one of a venue's addresses (``targets``) whose selector the venue does not
know (``knows_call`` is False), or whose swap it cannot decode, is an *unknown swap-looking
call*: the accounting counts them (``summary.json``'s ``unknown_swap_calls``) instead of
ignoring them silently.

Extra pending-call decoders (for example one that reads an intent book's solver settlements
into the swaps they will make) implement :class:`PendingDecoder` alone and are plugged into a
market with ``Market.add_decoder``; the market consults its venues first, then those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from agentbed.chain.types import Log


DEFAULT_VENUE = "constant-product"
"""The venue of a pool whose scenario entry names none: our ``ConstantProductPool``."""


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """A pool to create: its two token symbols, initial reserves, fee and venue."""

    token0: str
    token1: str
    reserve0: int
    reserve1: int
    fee_bps: int = 30
    venue: str = DEFAULT_VENUE


@dataclass(frozen=True, slots=True)
class Pool:
    """A deployed pool. ``token0``/``token1`` follow the pool's own (address) order; ``venue``
    names the venue that decodes, quotes and encodes its trades."""

    address: str
    token0: str
    token1: str
    symbol0: str
    symbol1: str
    fee_bps: int
    venue: str = DEFAULT_VENUE

    def other(self, token: str) -> str:
        """The pool's other token."""
        return self.token1 if token == self.token0 else self.token0


@dataclass(frozen=True, slots=True)
class SwapCall:
    """One exact-input swap a pending transaction will make.

    Attributes:
        pool: The pool it trades on.
        token_in: The token it sells.
        amount_in: How much it sells.
        min_amount_out: The least output it accepts on this hop (0 for an inner hop of a
            multi-hop route: only the route's last output is limited).
        to: The recipient of the output.
        deadline: Latest block timestamp it may execute at.
    """

    pool: str
    token_in: str
    amount_in: int
    min_amount_out: int
    to: str
    deadline: int


@dataclass(frozen=True, slots=True)
class SwapLog:
    """A swap decoded from one of a venue's logs (amounts net of the pool's own view)."""

    token_in: str
    amount_in: int
    amount_out: int
    recipient: str


@dataclass(frozen=True, slots=True)
class EncodedCall:
    """A call to send: its target, calldata and gas limit."""

    to: str
    data: bytes
    gas: int


@runtime_checkable
class PendingDecoder(Protocol):
    """Reads a pending transaction into the swaps it will make."""

    def decode_call(self, to: str | None, data: bytes) -> tuple[SwapCall, ...] | None:
        """The swaps a call to ``to`` with ``data`` makes, in order; None when it is not a
        swap this decoder reads (wrong address, or a selector it does not decode)."""
        ...


class LogDecoder(Protocol):
    """Reads a venue's swap and reserve logs."""

    def decode_sync(self, log: Log) -> tuple[int, int] | None:
        """``(reserve0, reserve1)`` of a reserve-update log of this venue, else None."""
        ...

    def decode_swap_log(self, log: Log) -> SwapLog | None:
        """The swap a swap log of this venue records, else None."""
        ...


class Venue(PendingDecoder, LogDecoder, Protocol):
    """A kind of pool (see the module docstring). Pools carry their venue's ``name``."""

    name: str

    def targets(self) -> frozenset[str]:
        """Every address whose calls this venue decodes (its pools, its router)."""
        ...

    def knows_call(self, to: str, data: bytes) -> bool:
        """Whether ``data`` to one of :meth:`targets` has a selector the venue knows (a swap
        it decodes, or a known non-swap call such as a deposit or an approval)."""
        ...

    def amount_out(self, amount_in: int, reserve_in: int, reserve_out: int, pool: str) -> int:
        """Exact output of an exact-input swap on ``pool`` at these reserves (the venue's own
        fee math)."""
        ...

    def output_of(self, data: bytes, returned: bytes) -> int | None:
        """The output a swap call ``data`` returned (``returned`` is its return data)."""
        ...

    def spender(self, pool: str) -> str:
        """Whom a trader approves to swap on or deposit into ``pool``."""
        ...

    def share_spender(self, pool: str) -> str | None:
        """Whom an LP approves its shares of ``pool`` to, to withdraw (None: nobody)."""
        ...

    def encode_swap(
        self, pool: str, token_in: str, amount_in: int, min_out: int, to: str, deadline: int
    ) -> EncodedCall:
        """An exact-input swap of ``amount_in`` of ``token_in`` on ``pool``."""
        ...

    def encode_add(self, pool: str, amount0: int, amount1: int, to: str) -> EncodedCall:
        """A deposit of exactly ``amount0`` and ``amount1`` (pool order) into ``pool``."""
        ...

    def encode_remove(self, pool: str, shares: int, to: str) -> EncodedCall:
        """A withdrawal of ``shares`` of ``pool``'s LP shares."""
        ...
