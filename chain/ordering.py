"""Mempool ordering policies: the experimental variable of the testbed.

Each policy implements :class:`agentbed.chain.interfaces.OrderingPolicy`: given the executable
pool transactions, the base fee of the block being built and the policy's own seeded RNG, it
returns the order in which the builder should try them. All built-in policies go through
:func:`merge_by_key`, which is what guarantees the one rule every order must keep: a sender's
transactions come out in nonce order (the builder skips a tx whose nonce is not next).

A user's own policy is any object with a ``name`` and an ``order`` method; it may call
:func:`merge_by_key` with its own key to get nonce order for free.

The built-in policies' short names and aliases are listed once, here: :func:`parse_policy` reads
a name as a user wrote it (a scenario file, a command-line option) into a :class:`PolicySpec`,
and :meth:`PolicySpec.build` makes the policy.

Policies hold no state between blocks and use no randomness but the ``rng`` they are handed, so
the same pool, base fee and RNG state always give the same order.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.types import PoolTx

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = [
    "POLICY_NAMES",
    "BundlesFirstPolicy",
    "FifoPolicy",
    "FrequentBatchPolicy",
    "PolicySpec",
    "PriorityFeePolicy",
    "RandomPolicy",
    "merge_by_key",
    "parse_policy",
    "policy_from_name",
    "rank_bundles",
]


def merge_by_key(
    pending: Sequence[PoolTx], key: Callable[[PoolTx], SupportsRichComparison]
) -> list[PoolTx]:
    """Merge per-sender nonce-ordered queues, always emitting the best head next.

    Like geth's ``TransactionsByPriceAndNonce``: transactions are grouped by sender and each
    group sorted by nonce; a heap holds one head per sender, and the head with the smallest
    ``key`` is emitted, after which that sender's next transaction becomes its head. Only heads
    compete, so a sender's later nonce is never emitted before its earlier one even when its key
    is better (a high-tip nonce 1 waits behind a low-tip nonce 0, as in geth).

    Args:
        pending: Executable pool transactions, in any order.
        key: Sort key per transaction; smaller comes first. Equal keys are broken by
            ``PoolTx.seq`` so that the result never depends on the input order.

    Returns:
        A permutation of ``pending`` in which each sender's transactions are in nonce order.
    """
    by_sender: dict[str, list[PoolTx]] = {}
    for ptx in pending:
        by_sender.setdefault(ptx.sender, []).append(ptx)

    queues: list[list[PoolTx]] = []
    # Entry: (key, seq, queue index, position). The queue index is unique per entry, so the
    # heap never falls through to comparing the PoolTx records themselves.
    heap: list[tuple[Any, int, int, int]] = []
    for txs in by_sender.values():
        # seq only matters for a malformed pool holding two txs with one nonce; it keeps the
        # result independent of input order even then.
        txs.sort(key=lambda p: (p.nonce, p.seq))
        index = len(queues)
        queues.append(txs)
        head = txs[0]
        heap.append((key(head), head.seq, index, 0))
    heapq.heapify(heap)

    ordered: list[PoolTx] = []
    while heap:
        _, _, index, position = heap[0]
        queue = queues[index]
        ordered.append(queue[position])
        position += 1
        if position < len(queue):
            nxt = queue[position]
            heapq.heapreplace(heap, (key(nxt), nxt.seq, index, position))
        else:
            heapq.heappop(heap)
    return ordered


def _random_keys(pending: Sequence[PoolTx], rng: random.Random) -> dict[bytes, float]:
    """Draw one random key per tx, iterating in seq order so the draws do not depend on the
    order in which the caller happened to list the pool."""
    return {ptx.hash: rng.random() for ptx in sorted(pending, key=lambda p: (p.seq, p.hash))}


class FifoPolicy:
    """First come, first served: by arrival time, ties by arrival counter."""

    name: str = "fifo"
    bundles_first: bool = False

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        """Order ``pending`` by ``(arrival_ms, seq)``, keeping per-sender nonce order."""
        return merge_by_key(pending, lambda p: (p.arrival_ms, p.seq))

    def __repr__(self) -> str:
        return "FifoPolicy()"


class PriorityFeePolicy:
    """Highest effective tip first (what geth's miner does), ties by arrival."""

    name: str = "priority_fee"
    bundles_first: bool = False

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        """Order by ``tx.effective_tip(base_fee)`` descending, then ``(arrival_ms, seq)``.

        A tx whose fee cap is below ``base_fee`` has a negative tip and sorts last; the builder
        skips it.
        """
        return merge_by_key(pending, lambda p: (-p.tx.effective_tip(base_fee), p.arrival_ms, p.seq))

    def __repr__(self) -> str:
        return "PriorityFeePolicy()"


class RandomPolicy:
    """Seeded random order: each tx gets a random key from ``rng``; nonce order is kept."""

    name: str = "random"
    bundles_first: bool = False

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        """Order by a random key per tx drawn from ``rng`` (deterministic given its state)."""
        keys = _random_keys(pending, rng)
        return merge_by_key(pending, lambda p: keys[p.hash])

    def __repr__(self) -> str:
        return "RandomPolicy()"


class FrequentBatchPolicy:
    """Frequent batch ordering: arrival windows in time order, no priority inside a window.

    Transactions are bucketed by ``arrival_ms // window_ms``; earlier windows come first. Within
    a window, ``within="shuffle"`` (default) orders at random, so arriving a little earlier or
    paying more buys nothing inside the batch — the point of batching (Budish et al.). With a
    uniform clearing price the order inside a batch is immaterial, so a shuffle also stands in
    for uniform-price batches. ``within="tip"`` orders by effective tip inside each window
    instead (ties by arrival), for comparing batching with and without a fee auction.

    Because only each sender's next-nonce tx competes, a later nonce that arrived in an earlier
    window still waits for its predecessor.

    Args:
        window_ms: Window length in milliseconds (> 0).
        within: ``"shuffle"`` or ``"tip"``.
    """

    bundles_first: bool = False

    def __init__(
        self, window_ms: int = 1_000, within: Literal["shuffle", "tip"] = "shuffle"
    ) -> None:
        if window_ms <= 0:
            raise ValueError(f"window_ms must be positive, got {window_ms}")
        if within not in ("shuffle", "tip"):
            raise ValueError(f"within must be 'shuffle' or 'tip', got {within!r}")
        self.window_ms = window_ms
        self.within = within
        self.name: str = "frequent_batch" if within == "shuffle" else "frequent_batch_tip"

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        """Order by arrival window, then at random (or by tip) within the window."""
        window = self.window_ms
        if self.within == "tip":
            return merge_by_key(
                pending,
                lambda p: (p.arrival_ms // window, -p.tx.effective_tip(base_fee), p.arrival_ms),
            )
        keys = _random_keys(pending, rng)
        return merge_by_key(pending, lambda p: (p.arrival_ms // window, keys[p.hash]))

    def __repr__(self) -> str:
        return f"FrequentBatchPolicy(window_ms={self.window_ms}, within={self.within!r})"


class BundlesFirstPolicy:
    """Private bundles first (mev-geth style), then the public pool in ``inner``'s order.

    The policy itself only marks the block as bundles-first (``bundles_first = True``): the
    builder simulates the bundles for the target block, ranks them with :func:`rank_bundles`
    by their payment to the coinbase (a sealed-bid, first-price auction), includes them
    atomically in that order, skipping a bundle that conflicts with one already included (it
    lost the auction for that opportunity), and then fills the rest of the block with
    ``order``'s result, which is ``inner``'s.

    Args:
        inner: Policy for the public transactions after the bundles.
    """

    bundles_first: bool = True

    def __init__(self, inner: OrderingPolicy | None = None) -> None:
        # Not a default argument instance: a shared default object would be module-level state.
        self.inner: OrderingPolicy = inner if inner is not None else PriorityFeePolicy()
        self.name: str = f"bundles_first+{self.inner.name}"

    def order(self, pending: Sequence[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        """Order the public transactions with the inner policy."""
        return self.inner.order(pending, base_fee, rng)

    def __repr__(self) -> str:
        return f"BundlesFirstPolicy(inner={self.inner!r})"


class _Arrived(Protocol):
    """Anything with an arrival time and counter, e.g. :class:`agentbed.chain.types.Bundle`."""

    @property
    def arrival_ms(self) -> int: ...

    @property
    def seq(self) -> int: ...


B = TypeVar("B", bound=_Arrived)


def rank_bundles(scored: Sequence[tuple[B, int, int]]) -> list[tuple[B, int, int]]:
    """Rank simulated bundles by total payment to the coinbase, best first: the builder's
    sealed-bid, first-price auction.

    Each bundle is a sealed bid: the builder sees only its own simulation of it, and the
    winner pays what it bid. Ranking by the whole payment (tips above the base fee plus direct
    transfers to the coinbase), not by payment per gas, is what makes the best bid win when
    bundles compete for one opportunity: the builder applies them in this order and drops a
    bundle that conflicts with one already included (``agentbed.chain.bundles.
    conflicting_bundle``), so of two bundles wrapping the same victim the one paying the
    builder more lands. A block's revenue is the sum of payments, and bundles rarely fill a
    block, so greedy by payment is also what maximises it (MEV-Boost builders' "max profit"
    ordering; mev-geth ranked by payment per gas instead).

    Ties (equal payment) go to the cheaper bundle in gas (higher payment per gas, compared as
    fractions, not floats), then to the earlier by ``(arrival_ms, seq)``.

    Args:
        scored: ``(bundle, payment_wei, gas_used)`` per bundle, as the builder's simulation
            measured them; ``payment_wei`` counts tips plus direct transfers to the coinbase.

    Returns:
        The same triples, best first.

    Raises:
        ValueError: If a bundle's ``gas_used`` is not positive.
    """
    for bundle, _, gas_used in scored:
        if gas_used <= 0:
            raise ValueError(f"gas_used must be positive, got {gas_used} for {bundle!r}")
    return sorted(
        scored,
        key=lambda item: (
            -item[1],
            -Fraction(item[1], item[2]),
            item[0].arrival_ms,
            item[0].seq,
        ),
    )


def _bundles(**kwargs: Any) -> OrderingPolicy:
    inner = kwargs.pop("inner", None)
    if isinstance(inner, str):
        inner = parse_policy(inner).build()
    return BundlesFirstPolicy(inner, **kwargs)


@dataclass(frozen=True, slots=True)
class _Builtin:
    """One built-in policy: its short name, the other names it answers to, its constructor."""

    name: str
    aliases: tuple[str, ...]
    factory: Callable[..., OrderingPolicy]


_BUILTINS: tuple[_Builtin, ...] = (
    _Builtin("fifo", (), FifoPolicy),
    _Builtin("priority", ("priority_fee",), PriorityFeePolicy),
    _Builtin("random", (), RandomPolicy),
    _Builtin("batch", ("frequent_batch",), FrequentBatchPolicy),
    _Builtin("bundles", ("bundles_first",), _bundles),
)
POLICY_NAMES: tuple[str, ...] = tuple(builtin.name for builtin in _BUILTINS)
"""The built-in policies' short names, in the order reports and ``testbed compare`` use."""


def _unknown(name: str) -> str:
    return f"unknown policy {name!r}; valid policies: {', '.join(POLICY_NAMES)}"


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A built-in ordering policy, named and configured but not yet built.

    Make one with :func:`parse_policy` from a name as a user wrote it; code further in passes
    the spec, or its canonical ``name``, and calls :meth:`build` where a policy is needed.

    Attributes:
        name: The canonical short name, one of :data:`POLICY_NAMES`.
        params: Constructor arguments as ``(name, value)`` pairs, e.g. ``(("window_ms", 500),)``.

    Raises:
        ValueError: ``name`` is not a canonical name (an alias names the canonical one).
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.name not in POLICY_NAMES:
            alias = next((b.name for b in _BUILTINS if self.name in b.aliases), None)
            if alias is None:
                raise ValueError(_unknown(self.name))
            raise ValueError(
                f"{self.name!r} is an alias of the policy {alias!r}; a PolicySpec takes the "
                "canonical name (parse_policy reads aliases)"
            )

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor arguments as keyword arguments."""
        return dict(self.params)

    def build(self) -> OrderingPolicy:
        """A new policy instance.

        Raises:
            TypeError: a parameter the policy's constructor does not take.
            ValueError: a parameter value the policy rejects.
        """
        builtin = next(b for b in _BUILTINS if b.name == self.name)
        return builtin.factory(**self.kwargs)


def parse_policy(name: str, params: Mapping[str, Any] | None = None) -> PolicySpec:
    """Read a policy name as a user wrote it: any case, surrounding blanks, or an alias.

    Args:
        name: ``"fifo"``, ``"priority"``, ``"random"``, ``"batch"`` or ``"bundles"``; the long
            names ``"priority_fee"``, ``"frequent_batch"`` and ``"bundles_first"`` also work.
        params: Constructor arguments, e.g. ``{"window_ms": 500}`` for ``"batch"`` or
            ``{"inner": "fifo"}`` (a name or a policy) for ``"bundles"``; checked by
            :meth:`PolicySpec.build`.

    Raises:
        ValueError: an unknown name; the one-line message lists the valid names.
    """
    key = name.strip().lower()
    for builtin in _BUILTINS:
        if key == builtin.name or key in builtin.aliases:
            return PolicySpec(builtin.name, tuple((params or {}).items()))
    raise ValueError(_unknown(name))


def policy_from_name(name: str, **kwargs: Any) -> OrderingPolicy:
    """Build a built-in policy from a name as a user wrote it: ``parse_policy(...).build()``.

    Args:
        name: A short name or alias (see :func:`parse_policy`).
        **kwargs: Passed to the policy's constructor.

    Raises:
        ValueError: an unknown name, or a parameter value the policy rejects.
        TypeError: a parameter the policy does not take.
    """
    return parse_policy(name, kwargs).build()
