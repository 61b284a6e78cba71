"""The mempool's price heap: the cheapest pooled transaction, for evicting when the pool is full.

geth keeps a heap of pooled txs by price (``legacypool``'s ``priceHeap``); a full pool compares
a newcomer with its top. Here the heap is built lazily, the first time the pool is full, for
one base fee (prices depend on it), then kept up to date by pushes. Removed txs are not taken
out: they are dropped when they surface, and the heap is rebuilt when such dead entries pile up.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from agentbed.chain.types import Address, PoolTx, Transaction

# Heap entry: (effective tip, fee cap, tip, -nonce, -seq, hash, sender). Smallest = cheapest;
# among equal prices the higher nonce counts as cheaper, as in geth's priceHeap, so evicting
# it is least likely to strand later nonces.
_HeapEntry = tuple[int, int, int, int, int, bytes, Address]


def price_key(tx: Transaction, base_fee: int) -> tuple[int, int, int]:
    """What "pays more" means when the pool is full (geth ``priceHeap.cmp``)."""
    return (tx.effective_tip(base_fee), tx.max_fee_per_gas, tx.max_priority_fee_per_gas)


def _entry(ptx: PoolTx, base_fee: int) -> _HeapEntry:
    tx = ptx.tx
    tip, fee_cap, tip_cap = price_key(tx, base_fee)
    return (tip, fee_cap, tip_cap, -tx.nonce, -ptx.seq, tx.hash, tx.sender)


class PriceHeap:
    """Pooled txs by price at one base fee; ``pool`` arguments are the pool's ``hash -> tx``."""

    def __init__(self) -> None:
        self._heap: list[_HeapEntry] = []
        self._base_fee: int | None = None

    def copy(self) -> PriceHeap:
        """An independent copy (for mempool copies)."""
        other = PriceHeap()
        other._heap = list(self._heap)
        other._base_fee = self._base_fee
        return other

    def push(self, ptx: PoolTx, pool: Mapping[bytes, PoolTx]) -> None:
        """Add a newly pooled tx (nothing to do before the heap was first built)."""
        if self._base_fee is None:
            return
        if len(self._heap) > 2 * len(pool) + 1024:
            self._rebuild(self._base_fee, pool)
        else:
            heapq.heappush(self._heap, _entry(ptx, self._base_fee))

    def cheapest_of_other_sender(
        self, sender: Address, base_fee: int, pool: Mapping[bytes, PoolTx]
    ) -> PoolTx | None:
        """The cheapest pooled tx not from ``sender`` at ``base_fee`` (heap order)."""
        if self._base_fee != base_fee:
            self._rebuild(base_fee, pool)
        heap = self._heap
        set_aside: list[_HeapEntry] = []
        found: PoolTx | None = None
        while heap:
            entry = heap[0]
            if not _is_live(entry, pool):
                heapq.heappop(heap)  # removed since it was pushed
                continue
            if entry[6] != sender:
                found = pool[entry[5]]
                break
            set_aside.append(heapq.heappop(heap))
        for entry in set_aside:
            heapq.heappush(heap, entry)
        return found

    def _rebuild(self, base_fee: int, pool: Mapping[bytes, PoolTx]) -> None:
        self._heap = [_entry(ptx, base_fee) for ptx in pool.values()]
        heapq.heapify(self._heap)
        self._base_fee = base_fee


def _is_live(entry: _HeapEntry, pool: Mapping[bytes, PoolTx]) -> bool:
    ptx = pool.get(entry[5])
    return ptx is not None and ptx.seq == -entry[4]
