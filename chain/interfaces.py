"""The small interfaces the chain's layers meet at.

Layers (dependencies point one way): compiler -> backend -> state view -> mempool -> ordering
-> builder -> ``Chain`` -> adapters. Each pluggable part is a ``Protocol`` with one or two
methods so that users can pass their own implementation.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agentbed.chain.types import Address, PoolTx


class StateView(Protocol):
    """Read-only account state at the head of the chain (what mempool admission needs)."""

    def nonce(self, address: Address) -> int: ...

    def balance(self, address: Address) -> int: ...

    def code(self, address: Address) -> bytes: ...


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Mempool limits and rules; defaults are geth's (core/txpool/legacypool)."""

    chain_id: int = 1337
    account_slots: int = 16
    """Pending (executable) txs per account that are guaranteed a place."""
    global_slots: int = 5120
    account_queue: int = 64
    """Queued (nonce-gapped) txs per account."""
    global_queue: int = 1024
    price_bump_percent: int = 10
    price_limit: int = 1
    """Least tip (wei) a tx must offer (geth's ``--txpool.pricelimit``); 0 admits zero tips."""
    max_tx_size: int = 128 * 1024
    max_initcode_size: int = 49_152
    allow_unprotected: bool = False
    """Admit pre-EIP-155 legacy txs (geth's ``--rpc.allow-unprotected-txs``)."""


@dataclass(frozen=True, slots=True)
class HeadInfo:
    """What admission needs to know about the chain head besides account state."""

    block_gas_limit: int
    base_fee: int
    """Base fee of the *next* block."""


@runtime_checkable
class OrderingPolicy(Protocol):
    """Decides the order in which executable pool transactions are offered to the builder.

    ``pending`` holds only executable txs (per sender, contiguous nonces from the account
    nonce). The result must keep each sender's txs in nonce order; the builder skips any tx
    whose nonce is not the sender's next at that point, and any tx that does not fit.
    ``base_fee`` is the base fee of the block being built; ``rng`` is the policy's own seeded
    generator for this block.

    Attributes:
        name: The policy's name in block records and reports.
        bundles_first: Whether the builder puts the private bundles of the block first (ranked
            by payment to the coinbase per gas, each all or nothing) before the ordered public
            transactions; when False the bundles are dropped. Every built-in policy sets it.
            A user's own policy may leave it out: any object with a ``name`` and ``order`` is
            a policy, and :class:`agentbed.chain.builder.BlockBuilder`, the one reader of the
            attribute, counts a missing one as False.
    """

    name: str
    if TYPE_CHECKING:
        # Declared for type checkers only: a runtime ``isinstance`` check (``Chain.set_policy``)
        # must keep accepting a policy without it, as the class docstring promises.
        bundles_first: bool

    def order(
        self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random
    ) -> list[PoolTx]: ...


class LatencyModel(Protocol):
    """Decides when a pool transaction becomes visible to an observer."""

    def delay_ms(self, ptx: PoolTx, observer: str) -> int:
        """Milliseconds after ``ptx.arrival_ms`` at which ``observer`` sees it (deterministic)."""
        ...
