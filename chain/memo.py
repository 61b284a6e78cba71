"""A bounded memo: the chain's hot paths remember recent work without growing without bound.

Decoded transactions, py-evm's transaction objects, read-only states per block and call
results per block are all pure functions of their key (raw bytes, a tx hash, a block hash),
so remembering them never changes a result; the bound keeps memory flat on long runs.
Eviction is oldest-first by insertion, so it is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """At most ``size`` entries; adding one more forgets the oldest.

    Args:
        size: The bound (at least 1).

    Raises:
        ValueError: ``size`` is below 1.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"memo size must be >= 1, got {size}")
        self.size = size
        self._items: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The remembered value of ``key``, or None."""
        return self._items.get(key)

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (forgetting the oldest entry when full); return it."""
        if key not in self._items and len(self._items) >= self.size:
            del self._items[next(iter(self._items))]
        self._items[key] = value
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The remembered value of ``key``, else ``make()`` remembered."""
        found = self._items.get(key)
        return found if found is not None else self.put(key, make())

    def share(self, value: K) -> K:
        """An equal value already remembered, else ``value`` remembered (keyed by itself).

        Interning immutable values (addresses, topics) this way keeps one copy of each
        recent value instead of one per record that holds it.
        """
        found = self._items.get(value)
        if found is not None:
            return found  # type: ignore[return-value]
        return self.put(value, value)  # type: ignore[arg-type,return-value]
