"""Per-observer propagation latency: when each agent gets to see a pending transaction.

Implementations of :class:`agentbed.chain.interfaces.LatencyModel` return how many milliseconds
after a transaction's arrival in the pool an observer sees it. They are pure functions of the
transaction and the observer: no model keeps a cursor into a shared RNG, so the answer never
depends on who asked first or how often — a requirement for reproducible MEV experiments,
where searchers' views are queried in whatever order the simulation loop happens to run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from agentbed.chain.interfaces import LatencyModel
from agentbed.chain.types import PoolTx

__all__ = [
    "ConstantLatency",
    "PerObserverLatency",
    "RandomLatency",
    "visible",
    "visible_txs",
]


def _check_delay(name: str, ms: int) -> None:
    if ms < 0:
        raise ValueError(f"{name} must be >= 0, got {ms}")


class ConstantLatency:
    """Every observer sees every transaction ``ms`` milliseconds after it arrives.

    Args:
        ms: The delay (>= 0). ``ConstantLatency(0)`` is a perfectly transparent pool.
    """

    def __init__(self, ms: int = 0) -> None:
        _check_delay("ms", ms)
        self.ms = ms

    def delay_ms(self, ptx: PoolTx, observer: str) -> int:
        """Return the constant delay."""
        return self.ms

    def __repr__(self) -> str:
        return f"ConstantLatency({self.ms})"


class PerObserverLatency:
    """A fixed delay per observer, e.g. a well-connected searcher at 0 ms and a retail agent
    at 400 ms.

    Args:
        delays: Delay in milliseconds per observer id (each >= 0). Copied, so later changes
            to the caller's mapping do not change the model.
        default_ms: Delay for observers not in ``delays``.
    """

    def __init__(self, delays: Mapping[str, int], default_ms: int = 0) -> None:
        for observer, ms in delays.items():
            _check_delay(f"delay for {observer!r}", ms)
        _check_delay("default_ms", default_ms)
        self.delays: Mapping[str, int] = MappingProxyType(dict(delays))
        self.default_ms = default_ms

    def delay_ms(self, ptx: PoolTx, observer: str) -> int:
        """Return ``observer``'s delay, or the default."""
        return self.delays.get(observer, self.default_ms)

    def __repr__(self) -> str:
        return f"PerObserverLatency({dict(self.delays)!r}, default_ms={self.default_ms})"


class RandomLatency:
    """A pseudo-random delay in ``[low_ms, high_ms]`` per (transaction, observer) pair.

    The delay is a hash of ``(seed, tx hash, observer)`` mapped onto the range, so the same
    triple always gives the same delay whatever was asked before, and different seeds give
    independent draws.

    Args:
        seed: Seed of this model (e.g. derived from the experiment's root seed).
        low_ms: Smallest delay (>= 0).
        high_ms: Largest delay (>= ``low_ms``), inclusive.
    """

    def __init__(self, seed: int, low_ms: int, high_ms: int) -> None:
        _check_delay("low_ms", low_ms)
        if high_ms < low_ms:
            raise ValueError(f"high_ms ({high_ms}) must be >= low_ms ({low_ms})")
        self.seed = seed
        self.low_ms = low_ms
        self.high_ms = high_ms
        # Seeds of any size and sign: length-prefixed signed big-endian bytes.
        seed_bytes = seed.to_bytes((seed.bit_length() + 8) // 8, "big", signed=True)
        self._seed_prefix = len(seed_bytes).to_bytes(4, "big") + seed_bytes

    def delay_ms(self, ptx: PoolTx, observer: str) -> int:
        """Return the delay for this (transaction, observer) pair."""
        span = self.high_ms - self.low_ms + 1
        if span == 1:
            return self.low_ms
        observer_bytes = observer.encode()
        # Length prefixes keep (hash, observer) pairs from colliding by concatenation.
        h = hashlib.blake2b(digest_size=16)
        h.update(self._seed_prefix)
        h.update(len(ptx.hash).to_bytes(4, "big") + ptx.hash)
        h.update(len(observer_bytes).to_bytes(4, "big") + observer_bytes)
        # 128 bits modulo a span of at most a few billion ms: the bias is negligible.
        return self.low_ms + int.from_bytes(h.digest(), "big") % span

    def __repr__(self) -> str:
        return f"RandomLatency(seed={self.seed}, low_ms={self.low_ms}, high_ms={self.high_ms})"


def visible(ptx: PoolTx, observer: str, now_ms: int, model: LatencyModel) -> bool:
    """Whether ``observer`` can see ``ptx`` at ``now_ms``.

    The submitter always sees its own transaction at once; anyone else sees it once it has
    propagated, i.e. at ``arrival_ms + delay`` or later.

    Args:
        ptx: A pool transaction.
        observer: Observer (agent) id.
        now_ms: Current simulated time.
        model: The latency model in force.
    """
    if ptx.origin is not None and ptx.origin == observer:
        return True
    return ptx.arrival_ms + model.delay_ms(ptx, observer) <= now_ms


def visible_txs(
    pool_txs: Iterable[PoolTx], observer: str, now_ms: int, model: LatencyModel
) -> list[PoolTx]:
    """The transactions of ``pool_txs`` that ``observer`` can see at ``now_ms``, in input order.

    Args:
        pool_txs: Pool transactions (e.g. the pending set).
        observer: Observer (agent) id.
        now_ms: Current simulated time.
        model: The latency model in force.
    """
    # visible(), inline: every agent's wake filters the whole pending set (~270,000 checks a
    # flagship run).
    delay = model.delay_ms
    return [
        ptx
        for ptx in pool_txs
        if ptx.origin == observer or ptx.arrival_ms + delay(ptx, observer) <= now_ms
    ]
