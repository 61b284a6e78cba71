"""The true MEV of a market run, from the simulation's labels and where the transactions landed.

Searchers label what they send (``Simulation.sent``: sender agent, label and meta). A sandwich
is a ``"front"`` and a ``"back"`` tx of one agent naming the same victim (``meta["victim"]`` or
``meta["victims"]``, tx hashes) that landed in one block as front < victim < back, all
successful; its transactions are the front, the back and every other actor's swap in the same
pool and direction between them (the swaps it actually squeezed, which the targeted victim is
one of). A ``"front"`` without a landed back is a frontrun.

Backruns are defined by behaviour, from chain data alone (swaps and the pool's reserves from
its ``Sync`` logs), whoever sent them and whatever they were labelled. A swap ``B`` backruns a
swap ``T`` (the target) when all of these hold:

* same block and pool, ``B`` the next swap in that pool after ``T`` (nothing in between);
* ``B`` sent by another address than ``T``, in the opposite direction;
* ``B`` reverses ``T``'s price impact: with ``m0`` the pool's log price (log of reserve1 /
  reserve0) before ``T``, ``m1`` after ``T`` and ``m2`` after ``B``, the share of ``T``'s move
  that ``B`` takes back, ``rho = (m1 - m2) / (m1 - m0)``, is within
  [:data:`BACKRUN_RECOVERY`, 2 - :data:`BACKRUN_RECOVERY`]: the price ends within
  ``1 - BACKRUN_RECOVERY`` of ``T``'s move of its level before ``T`` (a small partial reversal
  is an ordinary counter-trade; a trade that overshoots far past the pre-target level trades
  on something else than ``T``'s impact);
* ``T`` and ``B`` are not both in one true sandwich (a back closing its sandwich is the
  sandwich, not a backrun).

Backrunning in this sense is Flashbots' and Daian et al.'s (2020, "Flash Boys 2.0") "placing
a transaction right after a target to capture the opportunity it opens"; the threshold makes
"captures the opportunity" measurable. What a detector finds from receipts alone
(:mod:`agentbed.agents.market.mev`) is scored against this truth.

Every tx an attack hit is also recorded as a :class:`Hit` with its fate, for the victim-loss
counterfactual (:mod:`agentbed.agents.market.victims`): ``"landed"`` (a squeezed swap or a
frontrun victim, as above; rival searchers' swaps included, so that bot-on-bot losses can be
counted apart), ``"reverted"`` (it reverted in a block where a front of its attacker landed
ahead of it) and ``"displaced"`` (a front aimed at it landed, and it did not land in that
block or an earlier one: it landed later or never). Each hit names the attacker's txs in the
attack's block, the ones the counterfactual block leaves out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from agentbed.agents.market.mev import SwapEvent, TrueMev

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.chain.types import Receipt

MEV_LABELS = frozenset({"front", "back", "arb", "backrun"})
"""Labels that mark a tx as a searcher's."""
BACKRUN_RECOVERY = 0.5
"""Least share of a target's price move a backrun takes back (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One tx an attack hit, and what the counterfactual block without the attack leaves out.

    Attributes:
        fate: ``"landed"``, ``"reverted"`` or ``"displaced"`` (see the module docstring).
        attack: ``"sandwich"`` or ``"frontrun"``.
        attackers: The attacking agents.
        block: The block the attack landed in (for a displaced victim, its front's block).
        attack_txs: The attackers' txs against it in ``block``, in block order.
    """

    fate: str
    attack: str
    attackers: tuple[str, ...]
    block: int
    attack_txs: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class MevTruth:
    """Ground truth assembled from the simulation's labels and where the txs landed.

    Attributes:
        cases: The sandwiches and backruns that happened, as :class:`TrueMev` keys.
        sandwich_attempts: Distinct (agent, victim) pairs for which a front and a back were sent.
        frontrun_attempts: Distinct (agent, victim) pairs with a front but no back sent.
        frontruns: (front tx, victim tx, agent) of fronts that landed ahead of their victim in
            the same block without a landed back.
        victims: victim tx -> (attack kind, attacker agents) of every squeezed swap (other
            searchers' labelled txs excluded).
        reverted_victims: Victims that reverted behind a front of their attacker in the same
            block (their slippage limit held; they lost gas and the trade, not output).
        hits: Every tx an attack hit, by fate, with the attackers' txs to leave out of its
            counterfactual block (rival searchers' txs included).
    """

    cases: tuple[TrueMev, ...]
    sandwich_attempts: int
    frontrun_attempts: int
    frontruns: tuple[tuple[bytes, bytes, str], ...]
    victims: Mapping[bytes, tuple[str, tuple[str, ...]]]
    reverted_victims: int = 0
    hits: Mapping[bytes, Hit] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        """Number of true cases of ``kind``."""
        return sum(1 for c in self.cases if c.kind == kind)


def _as_hash(value: Any) -> bytes | None:
    """``value`` as a 32-byte tx hash (bytes, or hex with or without ``0x``), else None."""
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        text = value.removeprefix("0x")
        if len(text) == 64:
            try:
                return bytes.fromhex(text)
            except ValueError:
                return None
    return None


def _victims_of(meta: Mapping[str, Any]) -> tuple[bytes, ...]:
    """The victim tx hashes a searcher's meta names (``victim`` or ``victims``)."""
    found: list[bytes] = []
    single = _as_hash(meta.get("victim"))
    if single is not None:
        found.append(single)
    many = meta.get("victims")
    if isinstance(many, list | tuple):
        found.extend(h for h in (_as_hash(v) for v in many) if h is not None)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class _Landed:
    block: int
    index: int
    status: int


class _Chart:
    """Where the measured blocks' txs landed and the swaps they made, indexed for the scan."""

    def __init__(self, receipts: Iterable[Receipt], swaps: Sequence[SwapEvent]) -> None:
        self.landed = {r.tx_hash: _Landed(r.block_number, r.tx_index, r.status) for r in receipts}
        self.swaps_of: dict[bytes, list[SwapEvent]] = defaultdict(list)
        self.by_pool_block: dict[tuple[int, str], list[SwapEvent]] = defaultdict(list)
        for swap in swaps:
            self.swaps_of[swap.tx_hash].append(swap)
            self.by_pool_block[(swap.block, swap.pool)].append(swap)

    def ok(self, tx: bytes) -> _Landed | None:
        """Where ``tx`` landed, if it landed and succeeded."""
        place = self.landed.get(tx)
        return place if place is not None and place.status == 1 else None

    def in_block(self, txs: Iterable[bytes], block: int) -> tuple[bytes, ...]:
        """Those of ``txs`` that landed in ``block`` (reverted or not), in block order."""
        found = [(self.landed[t].index, t) for t in txs if t in self.landed]
        return tuple(t for _, t in sorted(found) if self.landed[t].block == block)

    def squeezed(self, front: bytes, back: bytes) -> tuple[bytes, ...]:
        """Other actors' swaps in the front's pool and direction between front and back."""
        if not self.swaps_of.get(front) or not self.swaps_of.get(back):
            return ()
        first, last = self.swaps_of[front][0], self.swaps_of[back][0]
        if first.pool != last.pool or first.token_in == last.token_in:
            return ()
        between = self.by_pool_block[(first.block, first.pool)]
        out = [
            s.tx_hash
            for s in between
            if (first.tx_index, first.log_index) < (s.tx_index, s.log_index) < (last.tx_index, 0)
            and s.actor != first.actor
            and s.token_in == first.token_in
        ]
        return tuple(dict.fromkeys(out))


def _before(first: _Landed | None, second: _Landed) -> bool:
    """Whether ``first`` landed in ``second``'s block, ahead of it."""
    return first is not None and first.block == second.block and first.index < second.index


@dataclass(slots=True)
class _Attacks:
    """What the scan of fronts and backs found (see :func:`_scan_attacks`)."""

    cases: list[TrueMev]
    frontruns: list[tuple[bytes, bytes, str]]
    squeezed_by: dict[bytes, set[str]]
    sandwich_attempts: int = 0
    frontrun_attempts: int = 0
    reverted_victims: int = 0
    hits: dict[bytes, Hit] = field(default_factory=dict)

    def hit(self, tx: bytes, new: Hit) -> None:
        """Record ``new`` against ``tx``, merged with an earlier hit of it in the same block
        (several attackers of one tx are left out of its counterfactual together)."""
        old = self.hits.get(tx)
        if old is not None and old.block == new.block:
            attack = "sandwich" if "sandwich" in (old.attack, new.attack) else "frontrun"
            attackers = tuple(sorted({*old.attackers, *new.attackers}))
            txs = tuple(dict.fromkeys((*old.attack_txs, *new.attack_txs)))
            new = Hit(old.fate, attack, attackers, old.block, txs)
        elif old is not None:
            return  # the first block an attack on it landed in decides its fate
        self.hits[tx] = new


def _missed(
    chart: _Chart, victim: bytes, front_txs: Sequence[bytes]
) -> tuple[bytes, _Landed] | None:
    """The first front that landed (successfully) in a block before the victim's, or before
    the end when the victim never landed: the victim was displaced from its block."""
    hit = chart.landed.get(victim)
    for front in front_txs:
        place = chart.ok(front)
        if place is not None and (hit is None or hit.block > place.block):
            return front, place
    return None


def _scan_attacks(
    chart: _Chart,
    fronts: Mapping[tuple[str, bytes], list[bytes]],
    backs: Mapping[tuple[str, bytes], list[bytes]],
) -> _Attacks:
    """Sandwiches, frontruns and their reverted and displaced victims, for each (agent,
    victim) pair with a front.

    Only the first of the agent's fronts that landed ahead of the victim counts: with a back
    landed after the victim in its block that squeezed swaps, a sandwich; without, a frontrun.
    """
    found = _Attacks([], [], defaultdict(set))
    for (agent, victim), front_txs in sorted(fronts.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        back_txs = backs.get((agent, victim), [])
        kind = "sandwich" if back_txs else "frontrun"
        if back_txs:
            found.sandwich_attempts += 1
        else:
            found.frontrun_attempts += 1
        own = (*front_txs, *back_txs)
        hit = chart.landed.get(victim)
        front = None
        if hit is not None:
            front = next((f for f in front_txs if _before(chart.ok(f), hit)), None)
        if front is None:
            missed = _missed(chart, victim, front_txs)
            if missed is not None:
                block = missed[1].block
                txs = chart.in_block(own, block)
                found.hit(victim, Hit("displaced", kind, (agent,), block, txs))
            continue
        assert hit is not None
        if hit.status == 0:
            found.reverted_victims += 1
            txs = chart.in_block(own, hit.block)
            found.hit(victim, Hit("reverted", kind, (agent,), hit.block, txs))
            continue
        _landed_attack(chart, found, agent, victim, front, back_txs, own)
    return found


def _landed_attack(
    chart: _Chart,
    found: _Attacks,
    agent: str,
    victim: bytes,
    front: bytes,
    back_txs: Sequence[bytes],
    own: Sequence[bytes],
) -> None:
    """Record the sandwich (with every swap it squeezed) or the frontrun of a victim that
    landed successfully behind the agent's ``front``."""
    v = chart.landed[victim]
    txs = chart.in_block(own, v.block)
    for back in back_txs:
        b = chart.ok(back)
        if b is None or b.block != v.block or b.index <= v.index:
            continue
        squeezed = chart.squeezed(front, back)
        if squeezed:
            found.cases.append(TrueMev("sandwich", frozenset({front, back, *squeezed})))
            for tx in squeezed:
                found.squeezed_by[tx].add(agent)
                found.hit(tx, Hit("landed", "sandwich", (agent,), v.block, txs))
            return
    found.frontruns.append((front, victim, agent))
    found.hit(victim, Hit("landed", "frontrun", (agent,), v.block, txs))


def _log_price(reserves: tuple[int, int]) -> float | None:
    """log(reserve1 / reserve0), or None for an empty side."""
    r0, r1 = reserves
    return math.log(r1) - math.log(r0) if r0 > 0 and r1 > 0 else None


def recovery(target: SwapEvent, follower: SwapEvent) -> float | None:
    """The share ``rho`` of ``target``'s log-price move that ``follower`` takes back (see the
    module docstring), or None when it cannot be measured from the chain: a swap without
    ``Sync`` reserves, both in the same direction, or a target that did not move the price.

    The pool's tokens are in address order, so with the two directions seen token0 is the
    lower address; the reserves before the target are its reserves after, minus its amounts.
    """
    after, end = target.reserves_after, follower.reserves_after
    if after is None or end is None or target.token_in == follower.token_in:
        return None
    r0, r1 = after
    if int(target.token_in, 16) < int(follower.token_in, 16):  # the target sold token0
        before = (r0 - target.amount_in, r1 + target.amount_out)
    else:
        before = (r0 + target.amount_out, r1 - target.amount_in)
    m0, m1, m2 = _log_price(before), _log_price(after), _log_price(end)
    if m0 is None or m1 is None or m2 is None or m1 == m0:
        return None
    return (m1 - m2) / (m1 - m0)


def behavioural_backruns(
    swaps: Iterable[SwapEvent], sandwiches: Iterable[TrueMev] = ()
) -> tuple[TrueMev, ...]:
    """Every backrun in ``swaps`` by the behavioural definition of the module docstring.

    Args:
        swaps: Successful swaps decoded from the receipts (with their ``Sync`` reserves).
        sandwiches: True sandwiches; a target and follower both in one of them are no backrun.
    """
    closed = [c.tx_hashes for c in sandwiches]
    by_pool: dict[tuple[int, str], list[SwapEvent]] = defaultdict(list)
    for swap in swaps:
        by_pool[(swap.block, swap.pool)].append(swap)
    found: list[TrueMev] = []
    for _, group in sorted(by_pool.items()):
        group.sort(key=lambda s: (s.tx_index, s.log_index))
        for target, follower in pairwise(group):
            if follower.actor == target.actor:
                continue
            share = recovery(target, follower)
            if share is None or not BACKRUN_RECOVERY <= share <= 2 - BACKRUN_RECOVERY:
                continue
            pair = {target.tx_hash, follower.tx_hash}
            if any(pair <= hashes for hashes in closed):
                continue
            found.append(TrueMev("backrun", frozenset(pair)))
    return tuple(dict.fromkeys(found))


def ground_truth(
    sim: Simulation, receipts: Iterable[Receipt], swaps: Sequence[SwapEvent]
) -> MevTruth:
    """Assemble the run's true MEV from ``sim.sent`` labels and the mined receipts.

    Args:
        sim: The finished simulation.
        receipts: Receipts of the measured blocks.
        swaps: Successful swaps decoded from those receipts.
    """
    chart = _Chart(receipts, swaps)
    fronts: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    backs: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    for tx_hash, sent in sim.sent.items():
        for victim in _victims_of(sent.meta):
            if sent.label == "front":
                fronts[(sent.agent, victim)].append(tx_hash)
            elif sent.label == "back":
                backs[(sent.agent, victim)].append(tx_hash)

    found = _scan_attacks(chart, fronts, backs)
    victims: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for tx, agents in found.squeezed_by.items():
        own = sim.sent.get(tx)
        if own is None or own.label not in MEV_LABELS:  # a rival's front is no victim
            victims[tx] = ("sandwich", tuple(sorted(agents)))
    for _front, victim, agent in found.frontruns:
        if victim not in victims:
            victims[victim] = ("frontrun", (agent,))
        elif victims[victim][0] == "frontrun":
            victims[victim] = ("frontrun", tuple(sorted({*victims[victim][1], agent})))
    cases = [*found.cases, *behavioural_backruns(swaps, found.cases)]
    return MevTruth(
        cases=tuple(dict.fromkeys(cases)),
        sandwich_attempts=found.sandwich_attempts,
        frontrun_attempts=found.frontrun_attempts,
        frontruns=tuple(found.frontruns),
        victims=victims,
        reverted_victims=found.reverted_victims,
        hits=dict(found.hits),
    )
