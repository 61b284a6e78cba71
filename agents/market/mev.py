"""MEV detection from receipts and logs alone, in the style of Flashbots' mev-inspect.

Detection sees only what any observer of the chain sees: successful receipts and their logs. The
pools' swap and reserve logs are decoded from topics and data by each venue's log decoder
(:mod:`agentbed.agents.market.venues`; not through the chain's ABI registry), so swaps in pools
the chain never registered are found as well. Without decoders, our ``ConstantProductPool``'s
``Swap`` and ``Sync`` logs are read, at any address. The actor of a
swap is the transaction's sender, not the ``Swap`` log's ``sender`` (the pool's caller), because
a bot may route its swaps through a contract.

Heuristics (all within one block and one pool, in execution order):

* **Sandwich** (mev-inspect's rule): a front swap by actor A; then at least one swap by other
  actors in the same direction (the victims; swaps in the other direction and A's own swaps in
  between are ignored); then the first swap by A in the reverse direction after a victim, the
  back. A swap serves as a front or back of one sandwich at most. Profit is
  ``back.amount_out - front.amount_in`` in the front's input token. One refinement over
  mev-inspect (``size_match``, on by default): the back must sell between 90% and 100% of what
  the front bought, as a sandwicher closing its position does; an ordinary trader who happens
  to trade both ways around someone else in one block rarely matches sizes like that.
* **Backrun**: a swap by A that is the next swap in the pool after a swap by B != A in the
  opposite direction (the victim), neither being part of a sandwich, and that leaves the pool's
  price closer to its level before the victim's run than the run left it. The run is the
  victim's swap and the same-direction swaps by others (not A) right before it, so an
  arbitrageur who undoes two victims at once is found (and named as backrunning the last).
  Prices come from the reserves in the pool's ``Sync`` logs (the pool emits one right before
  each ``Swap``); the level before the run is its first swap's reserves after, minus that
  swap's own amounts. This separates an arbitrageur restoring the price from a large
  counter-trade that overshoots it; an ordinary trader who happens to trade against the
  previous swaps without overshooting is reported too (the heuristic's known false positive).
  For pools that emit no ``Sync``, the direction alone decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby
from typing import Literal

from agentbed.agents.market.venues.constant_product import (
    SWAP_TOPIC,
    SYNC_TOPIC,
    ConstantProductVenue,
)
from agentbed.agents.market.venues.protocol import LogDecoder, SwapLog
from agentbed.chain.types import Address, Log, Receipt

__all__ = ["SWAP_TOPIC", "SYNC_TOPIC"]  # re-exported: our pool's topics, named here before venues
DEFAULT_DECODERS: tuple[LogDecoder, ...] = (ConstantProductVenue({}),)
"""Log decoders used when none are given: our pool's events, at any address."""

MevKind = Literal["sandwich", "backrun"]


@dataclass(frozen=True, slots=True)
class SwapEvent:
    """One successful swap, decoded from a pool's ``Swap`` log."""

    block: int
    tx_index: int
    tx_hash: bytes
    actor: Address
    """The transaction's sender."""
    pool: Address
    token_in: Address
    amount_in: int
    amount_out: int
    recipient: Address
    """The ``Swap`` log's ``to``."""
    log_index: int
    reserves_after: tuple[int, int] | None = None
    """(reserve0, reserve1) from the pool's ``Sync`` just before the ``Swap``, if it emitted one."""


@dataclass(frozen=True, slots=True)
class DetectedSandwich:
    block: int
    pool: Address
    front_tx: bytes
    victim_txs: tuple[bytes, ...]
    back_tx: bytes
    attacker: Address
    profit: int
    """``back.amount_out - front.amount_in``, in ``token`` (negative for a losing sandwich)."""
    token: Address
    """The front swap's input token."""


@dataclass(frozen=True, slots=True)
class DetectedBackrun:
    block: int
    pool: Address
    victim_tx: bytes
    backrun_tx: bytes
    actor: Address


Detection = DetectedSandwich | DetectedBackrun


@dataclass(frozen=True, slots=True)
class TrueMev:
    """Ground truth from a simulation: what happened, named by the transactions involved."""

    kind: MevKind
    tx_hashes: frozenset[bytes]


@dataclass(frozen=True, slots=True)
class DetectionScore:
    precision: float
    """Share of detections that are true; 1.0 when nothing was detected."""
    recall: float
    """Share of true cases detected; 1.0 when there were none."""
    true_positives: int
    false_positives: int
    false_negatives: int


def _decode_receipt(receipt: Receipt, decoders: Sequence[LogDecoder]) -> list[SwapEvent]:
    swaps = []
    last_sync: dict[Address, tuple[int, int]] = {}
    for log in sorted(receipt.logs, key=lambda entry: entry.log_index):
        if not log.topics:
            continue
        for decoder in decoders:
            reserves = decoder.decode_sync(log)
            if reserves is not None:
                last_sync[log.address] = reserves
                break
            swap = decoder.decode_swap_log(log)
            if swap is not None:
                swaps.append(_swap(receipt, log, swap, last_sync.pop(log.address, None)))
                break
    return swaps


def _swap(receipt: Receipt, log: Log, swap: SwapLog, reserves: tuple[int, int] | None) -> SwapEvent:
    return SwapEvent(
        block=receipt.block_number,
        tx_index=receipt.tx_index,
        tx_hash=receipt.tx_hash,
        actor=receipt.sender,
        pool=log.address,
        token_in=swap.token_in,
        amount_in=swap.amount_in,
        amount_out=swap.amount_out,
        recipient=swap.recipient,
        log_index=log.log_index,
        reserves_after=reserves,
    )


def swaps_from_receipts(
    receipts: Iterable[Receipt], decoders: Iterable[LogDecoder] | None = None
) -> tuple[SwapEvent, ...]:
    """Every swap in the successful receipts, by block, then tx index, then log index.

    A reverted transaction's logs are discarded by the EVM, but its receipt is skipped anyway so
    that a receipt built by hand cannot contribute swaps that never happened.

    Args:
        receipts: The receipts.
        decoders: The venues' log decoders (``Market.venues.values()``); default
            :data:`DEFAULT_DECODERS`.
    """
    chosen = DEFAULT_DECODERS if decoders is None else tuple(decoders)
    ordered = sorted(receipts, key=lambda r: (r.block_number, r.tx_index))
    return tuple(swap for r in ordered if r.status == 1 for swap in _decode_receipt(r, chosen))


def _by_block_and_pool(swaps: Iterable[SwapEvent]) -> list[list[SwapEvent]]:
    ordered = sorted(swaps, key=lambda s: (s.block, s.pool, s.tx_index, s.log_index))
    return [list(group) for _, group in groupby(ordered, key=lambda s: (s.block, s.pool))]


SIZE_MATCH = Fraction(9, 10)
"""Default least share of the front's output a back must sell (see the module docstring)."""


def _sandwich_from(
    front: int, group: list[SwapEvent], used: set[int], size_match: Fraction | None
) -> tuple[int, list[int]]:
    """(index of the back, indices of the victims) for the front at ``front``; back -1 if none."""
    attacker, token = group[front].actor, group[front].token_in
    bought = group[front].amount_out
    victims: list[int] = []
    for j in range(front + 1, len(group)):
        swap = group[j]
        if swap.actor != attacker and swap.token_in == token:
            victims.append(j)
        elif swap.actor == attacker and swap.token_in != token and victims and j not in used:
            if size_match is not None and not size_match * bought <= swap.amount_in <= bought:
                continue
            return j, victims
    return -1, []


def detect_sandwiches(
    swaps: Iterable[SwapEvent], *, size_match: Fraction | None = SIZE_MATCH
) -> tuple[DetectedSandwich, ...]:
    """Sandwiches in ``swaps`` (see the module docstring), by block, pool, then front position.

    ``size_match=None`` applies mev-inspect's rule alone, without the size check.
    """
    found = []
    for group in _by_block_and_pool(swaps):
        used: set[int] = set()
        for i, front in enumerate(group):
            if i in used:
                continue
            back, victims = _sandwich_from(i, group, used, size_match)
            if back < 0:
                continue
            used.update((i, back))
            victim_txs = tuple(dict.fromkeys(group[v].tx_hash for v in victims))
            found.append(
                DetectedSandwich(
                    block=front.block,
                    pool=front.pool,
                    front_tx=front.tx_hash,
                    victim_txs=victim_txs,
                    back_tx=group[back].tx_hash,
                    attacker=front.actor,
                    profit=group[back].amount_out - front.amount_in,
                    token=front.token_in,
                )
            )
    return tuple(found)


def _price(reserves: tuple[int, int]) -> Fraction | None:
    reserve0, reserve1 = reserves
    return Fraction(reserve0, reserve1) if reserve0 > 0 and reserve1 > 0 else None


def _restores_price(first: SwapEvent, victim: SwapEvent, follower: SwapEvent) -> bool:
    """Whether ``follower`` leaves the price nearer its level before ``first`` than ``victim`` did.

    ``first`` .. ``victim`` is the run of same-direction swaps ``follower`` answers. Pools sort
    their tokens by address, so with both directions seen token0 is known, and the reserves
    before ``first`` are its reserves after, minus its own amounts.
    """
    first_after, moved_after, end_after = (
        first.reserves_after,
        victim.reserves_after,
        follower.reserves_after,
    )
    if first_after is None or moved_after is None or end_after is None:
        return True  # no Sync: the opposite direction is all there is to go on
    r0, r1 = first_after
    if int(first.token_in, 16) < int(follower.token_in, 16):  # the run sold token0
        before = (r0 - first.amount_in, r1 + first.amount_out)
    else:
        before = (r0 + first.amount_out, r1 - first.amount_in)
    start, moved, end = _price(before), _price(moved_after), _price(end_after)
    if start is None or moved is None or end is None:
        return False  # reserves inconsistent with the amounts: not this pool's arithmetic
    return abs(end - start) < abs(moved - start)


def _run_start(group: list[SwapEvent], victim: int, follower: SwapEvent) -> SwapEvent:
    """The first swap of the run of swaps like ``group[victim]`` by others than ``follower``."""
    first = victim
    while (
        first > 0
        and group[first - 1].token_in == group[victim].token_in
        and group[first - 1].actor != follower.actor
    ):
        first -= 1
    return group[first]


def detect_backruns(
    swaps: Iterable[SwapEvent], sandwiches: Iterable[DetectedSandwich] | None = None
) -> tuple[DetectedBackrun, ...]:
    """Backruns in ``swaps`` (see the module docstring), by block, pool, then position.

    Args:
        swaps: Decoded swaps, e.g. from :func:`swaps_from_receipts`.
        sandwiches: The sandwiches whose transactions are excluded; detected from ``swaps``
            when None.
    """
    swaps = tuple(swaps)
    if sandwiches is None:
        sandwiches = detect_sandwiches(swaps)
    in_sandwich = {h for s in sandwiches for h in (s.front_tx, *s.victim_txs, s.back_tx)}
    found = []
    for group in _by_block_and_pool(swaps):
        for k in range(1, len(group)):
            victim, follower = group[k - 1], group[k]
            if (
                follower.actor != victim.actor
                and follower.token_in != victim.token_in
                and victim.tx_hash not in in_sandwich
                and follower.tx_hash not in in_sandwich
                and _restores_price(_run_start(group, k - 1, follower), victim, follower)
            ):
                found.append(
                    DetectedBackrun(
                        victim.block, victim.pool, victim.tx_hash, follower.tx_hash, follower.actor
                    )
                )
    return tuple(found)


def detect_mev(
    receipts: Iterable[Receipt], decoders: Iterable[LogDecoder] | None = None
) -> tuple[Detection, ...]:
    """Sandwiches, then backruns, found in ``receipts`` (read by the venues' ``decoders``;
    default :data:`DEFAULT_DECODERS`)."""
    swaps = swaps_from_receipts(receipts, decoders)
    sandwiches = detect_sandwiches(swaps)
    return sandwiches + detect_backruns(swaps, sandwiches)


def as_truth(detection: Detection) -> TrueMev:
    """The detection as a :class:`TrueMev` key: its kind and the set of its tx hashes."""
    if isinstance(detection, DetectedSandwich):
        hashes = {detection.front_tx, *detection.victim_txs, detection.back_tx}
        return TrueMev("sandwich", frozenset(hashes))
    return TrueMev("backrun", frozenset({detection.victim_tx, detection.backrun_tx}))


def score(detected: Iterable[Detection | TrueMev], truth: Iterable[TrueMev]) -> DetectionScore:
    """Precision and recall of ``detected`` against ``truth``, matched by kind and tx hashes.

    A match must name exactly the same transactions: a sandwich detected with one of its two
    victims counts as one false positive and one false negative. Duplicates count once.
    """
    found = {d if isinstance(d, TrueMev) else as_truth(d) for d in detected}
    real = set(truth)
    tp, fp, fn = len(found & real), len(found - real), len(real - found)
    return DetectionScore(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )
