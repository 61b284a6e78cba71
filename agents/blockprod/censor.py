"""A censoring block producer: an ordering policy that never offers a target's transactions.

Wrap any policy: ``CensoringPolicy(PriorityFeePolicy(), {target})``. A proposer building its own
block with it (``Proposer(..., policy=CensoringPolicy(...), mev_boost=False)``) or a builder
using it leaves the targets' pool txs out; they stay pending for the next producer that does
not censor. Bundles are not filtered (a censor that wanted to could simply not accept them).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from agentbed.chain.addresses import checksum
from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.types import Address, PoolTx


class CensoringPolicy:
    """``inner``'s order without the txs sent by ``targets``.

    Args:
        inner: The policy whose order is kept for everyone else.
        targets: Senders whose txs are never offered.
    """

    def __init__(self, inner: OrderingPolicy, targets: Iterable[Address]) -> None:
        self.inner = inner
        self.targets = frozenset(checksum(t) for t in targets)
        self.name = f"censor:{inner.name}"
        self.bundles_first = bool(getattr(inner, "bundles_first", False))

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        kept = [p for p in pending if p.tx.sender not in self.targets]
        return self.inner.order(kept, base_fee, rng)

    def __repr__(self) -> str:
        return f"CensoringPolicy({self.inner!r}, {sorted(self.targets)!r})"
