"""Victim loss: what each tx an attack hit lost, against the same block without the attack.

The counterfactual follows the sandwich literature (Zhou et al., "High-Frequency Trading on
Decentralized On-Chain Exchanges", IEEE S&P 2021; Qin, Zhou and Gervais, "Quantifying
Blockchain Extractable Value: How dark is the forest?", IEEE S&P 2022; mev-inspect-py's
sandwich classification): the victim's outcome in the block as built, against its outcome
in the same block with the attacker's transactions removed, the block's other transactions
replayed in their order on the parent state (:meth:`agentbed.chain.node.Chain.replay`).

A victim's *outcome* is what its transaction did to its sender: the net ERC-20 transfers to
and from the sender in the tx's logs, and the fee it paid (gas used at the effective gas
price). The loss is the counterfactual outcome minus the actual one, token by token in wei,
valued in the numeraire at the run's final reference prices (fee difference in ETH). So:

* a victim that landed loses the output the attack took from it;
* a victim that reverted behind the attack loses its gas and the trade it would have made
  (the output it would have got, net of the input it kept, which it still holds);
* a displaced victim -- a front aimed at it landed and it did not land in that block -- is
  counted only when it would have fit: appended after the block's other txs in the
  counterfactual, it applies (nonce, funds, fee cap, gas left). It loses its counterfactual
  trade against what it actually did later (or nothing, when it never landed); ``delay`` says
  how many blocks later it landed. This is an upper bound on the attack's part: a builder
  might have filled the freed gas with other pending txs first.

A negative loss is a victim the replay shows really gained; ``note`` says why. Victims that
are searchers' txs are bot-on-bot (``bot``) and kept apart from the headline (bot-on-user).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import decode

from agentbed.agents.erc20 import transfers
from agentbed.agents.market.mev import swaps_from_receipts
from agentbed.agents.market.truth import Hit, MevTruth
from agentbed.agents.market.valuation import Valuation
from agentbed.chain.errors import ExecutionReverted, UnknownTransaction

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Receipt

FATES = ("landed", "reverted", "displaced")
"""A victim's fate in the attacked block, in report order."""
WHY_NEGATIVE = {
    "landed": "the attack moved its pool its way before it",
    "reverted": "not trading saved it more than its gas (the trade was worth less than its "
    "input at reference prices)",
    "displaced": "it did better where it landed (or by not trading) than in the attacked block",
}
"""Why a victim of each fate can have a negative loss (a real gain in the replay)."""


@dataclass(frozen=True, slots=True)
class VictimLoss:
    """What one victim lost to an attack, against the same block without the attacker's txs.

    Attributes:
        tx: The victim's tx hash.
        agent: The victim agent's name ("" if not a simulated agent).
        block: The attacked block (for a displaced victim, the block its attacker's front
            landed in).
        fate: ``"landed"``, ``"reverted"`` or ``"displaced"``.
        bot: Whether the victim is a searcher (a bot-on-bot loss).
        pool: The pool it swapped on ("" if no swap was decoded).
        token_out: The token it bought ("" if none).
        actual_out: What it received of ``token_out`` (0 when it reverted or never landed).
        counterfactual_out: What it would have received in the block without the attack.
        loss: ``counterfactual_out - actual_out`` in wei of ``token_out``.
        gas_loss: Fee it paid minus the fee it would have paid, in wei.
        value: The whole loss (every token and the fee) in numeraire units.
        attack: ``"sandwich"`` or ``"frontrun"``.
        attackers: Names of the agents whose txs hit it.
        delay: Blocks after the attacked block that a displaced victim landed (None: another
            fate, or it never landed).
        note: Why the loss is negative, when it is ("" otherwise).
    """

    tx: bytes
    agent: str
    block: int
    fate: str
    bot: bool
    pool: str
    token_out: str
    actual_out: int
    counterfactual_out: int
    loss: int
    gas_loss: int
    value: float
    attack: str
    attackers: tuple[str, ...]
    delay: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a tx did to its sender: net token transfers (token -> wei) and the fee it paid."""

    flows: Mapping[str, int]
    fee: int


_NOTHING = _Outcome({}, 0)


def _outcome(receipt: Receipt | None) -> _Outcome:
    """The sender's net ERC-20 transfers in ``receipt``'s logs and its fee (nothing: None)."""
    if receipt is None:
        return _NOTHING
    flows: dict[str, int] = defaultdict(int)
    if receipt.status == 1:
        for transfer in transfers(receipt.logs):
            if transfer.source == receipt.sender:
                flows[transfer.token] -= transfer.amount
            if transfer.target == receipt.sender:
                flows[transfer.token] += transfer.amount
    return _Outcome(
        {t: a for t, a in flows.items() if a}, receipt.gas_used * receipt.effective_gas_price
    )


class _Replays:
    """Counterfactual blocks, each replayed once: a block without some attackers' txs,
    optionally with a displaced victim appended.

    A tx's receipt depends only on the txs applied before it, so a counterfactual block is
    replayed only up to the last victim asked of it (:meth:`plan` says which those are): the
    txs after it cannot change any receipt wanted.
    """

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self._raws: dict[int, list[tuple[bytes, bytes]]] = {}
        self._done: dict[tuple[int, tuple[bytes, ...], bytes], dict[bytes, Receipt | None]] = {}
        self._upto: dict[tuple[int, tuple[bytes, ...], bytes], int] = {}

    def _block_raws(self, number: int) -> list[tuple[bytes, bytes]]:
        if number not in self._raws:
            hashes = self._chain.block(number).tx_hashes
            self._raws[number] = [(h, self._chain.transaction(h).raw) for h in hashes]
        return self._raws[number]

    def _kept(self, hit: Hit) -> list[tuple[bytes, bytes]]:
        return [(h, r) for h, r in self._block_raws(hit.block) if h not in hit.attack_txs]

    def plan(self, hits: Mapping[bytes, Hit]) -> None:
        """Note how far each counterfactual block of ``hits``' in-block victims must run."""
        for victim, hit in hits.items():
            if hit.fate == "displaced":
                continue  # appended at the end: its block runs whole
            key = (hit.block, hit.attack_txs, b"")
            where = [i for i, (h, _) in enumerate(self._kept(hit)) if h == victim]
            if where:
                self._upto[key] = max(self._upto.get(key, 0), where[0] + 1)

    def receipt(self, hit: Hit, victim: bytes, raw: bytes | None = None) -> Receipt | None:
        """The victim's receipt in ``hit``'s block without its attack txs (``raw`` appended
        at the end when the victim was not in the block); None if it could not apply."""
        key = (hit.block, hit.attack_txs, victim if raw is not None else b"")
        done = self._done.get(key)
        if done is None or victim not in done:
            kept = self._kept(hit)
            if raw is not None:
                kept.append((victim, raw))
            else:
                where = [i + 1 for i, (h, _) in enumerate(kept) if h == victim]
                if done is not None and not where:
                    return None  # not in the block: no replay has it
                kept = kept[: max(self._upto.get(key, 0), *where, 0)]
            replayed = self._chain.replay([r for _, r in kept], hit.block) if kept else ()
            done = self._done[key] = {h: rec for (h, _), rec in zip(kept, replayed, strict=True)}
        return done.get(victim)


def _bought(receipts: Sequence[Receipt | None], market: Market) -> tuple[str, str]:
    """(pool, token bought) of the first swap in ``receipts`` ("" and "" when none)."""
    swaps = swaps_from_receipts([r for r in receipts if r is not None], market.venues.values())
    if not swaps:
        return "", ""
    swap = swaps[0]
    pool = market.by_address.get(swap.pool)
    return swap.pool, pool.other(swap.token_in) if pool is not None else ""


def _loss(
    actual: Receipt | None,
    counterfactual: Receipt,
    valuation: Valuation,
    market: Market,
) -> tuple[str, str, int, int, int, float]:
    """(pool, token_out, actual_out, counterfactual_out, gas_loss, value) of one victim."""
    real, would = _outcome(actual), _outcome(counterfactual)
    pool, token_out = _bought([counterfactual, actual], market)
    tokens = set(real.flows) | set(would.flows)
    value = sum(valuation.value(t, would.flows.get(t, 0) - real.flows.get(t, 0)) for t in tokens)
    gas_loss = real.fee - would.fee
    value += valuation.value_eth(gas_loss)
    got, could = real.flows.get(token_out, 0), would.flows.get(token_out, 0)
    return pool, token_out, max(got, 0), max(could, 0), gas_loss, value


def victim_losses(
    chain: Chain,
    truth: MevTruth,
    valuation: Valuation,
    agent_of: Mapping[str, str],
    market: Market,
    bots: Collection[str] = (),
) -> tuple[VictimLoss, ...]:
    """The loss of every tx an attack hit (``truth.hits``) against the same block without the
    attackers' txs, ordered by block, then fate, then position.

    Args:
        chain: The chain the run was mined on (replays leave it unchanged).
        truth: The run's ground truth.
        valuation: Prices for the numeraire values.
        agent_of: Agent name by address.
        market: The run's market (pools by address).
        bots: Names of the searcher agents (their losses are bot-on-bot).
    """
    replays = _Replays(chain)
    replays.plan(truth.hits)
    out: list[tuple[tuple[int, int, int], VictimLoss]] = []
    for tx, hit in truth.hits.items():
        found = _victim(chain, replays, tx, hit)
        if found is None:
            continue
        actual, counterfactual, delay = found
        pool, token_out, got, could, gas_loss, value = _loss(
            actual, counterfactual, valuation, market
        )
        agent = agent_of.get(counterfactual.sender, "")
        loss = VictimLoss(
            tx=tx,
            agent=agent,
            block=hit.block,
            fate=hit.fate,
            bot=agent in bots,
            pool=pool,
            token_out=token_out,
            actual_out=got,
            counterfactual_out=could,
            loss=could - got,
            gas_loss=gas_loss,
            value=value,
            attack=hit.attack,
            attackers=hit.attackers,
            delay=delay,
            note=WHY_NEGATIVE[hit.fate] if value < 0 else "",
        )
        index = actual.tx_index if actual is not None else 1 << 30
        out.append(((hit.block, FATES.index(hit.fate), index), loss))
    out.sort(key=lambda item: item[0])
    return tuple(loss for _, loss in out)


def _victim(
    chain: Chain, replays: _Replays, tx: bytes, hit: Hit
) -> tuple[Receipt | None, Receipt, int | None] | None:
    """(actual receipt, counterfactual receipt, delay) of one hit; None when it has no
    counterfactual (a displaced tx that would not have fit, or is no longer known)."""
    try:
        actual: Receipt | None = chain.receipt(tx)
    except UnknownTransaction:
        actual = None
    if hit.fate != "displaced":
        counterfactual = replays.receipt(hit, tx)
        return (actual, counterfactual, None) if counterfactual is not None else None
    try:
        raw = chain.transaction(tx).raw
    except UnknownTransaction:
        return None  # evicted or replaced before it ever landed: nothing to replay
    counterfactual = replays.receipt(hit, tx, raw)
    if counterfactual is None:
        return None  # it would not have fit without the attack either: not displaced by it
    delay = actual.block_number - hit.block if actual is not None else None
    return actual, counterfactual, delay


def counterfactual_output(
    chain: Chain, tx_hash: bytes, block: int, market: Market | None = None
) -> int | None:
    """Output of a mined swap tx had it run *alone* on the state before ``block``.

    Not the victim-loss counterfactual (that replays the block's other txs too); a quick
    look at what the pool would have quoted the tx with nothing ahead of it. The return data
    is read by the venue the tx called (``market``'s; a router returns ``uint[] amounts``, the
    output last); without a market, or for a call no venue reads, as our pool's ``amountOut``
    (the first word). None when it would have reverted alone, or no venue reads its output.
    """
    tx = chain.transaction(tx_hash)
    try:
        output = chain.call(
            tx.to, tx.data, sender=tx.sender, value=tx.value, block_number=block - 1
        )
    except ExecutionReverted:
        return None
    if market is not None and tx.to is not None:
        for venue in market.venues.values():
            if tx.to in venue.targets():
                return venue.output_of(tx.data, output)
    if len(output) < 32:
        return None
    (amount,) = decode(("uint256",), output[:32])
    return int(amount)
