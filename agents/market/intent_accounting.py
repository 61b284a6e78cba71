"""Accounting of a market's intent book: the settlements read back from the chain alone
(calldata and the book's events), how the posted intents fared (fills, solver rewards, fill
latency, conditional intents, the dispersion of execution rates within a batch), and each
maker's full P&L (``maker_pnl``).

The makers' full P&L is the headline: it compares with the same makers sending the same orders
as public swaps (``scenarios/intents.toml``'s ``public`` variant, ``scripts/intents_compare.py``
over seeds). "Makers' surplus over limit" (what a fill paid above the signed limit) is a
secondary line only: a limit is the maker's own choice, set below the quote, so surplus over
it says nothing about what the maker lost to ordering, to the solver or to a sandwich.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentbed.agents.market.intents import (
    ConditionKind,
    Intent,
    crosses,
    decode_settle,
    intent_digest,
)
from agentbed.agents.market.valuation import Valuation

if TYPE_CHECKING:
    from agentbed.agents.market.accounting import AgentAccount
    from agentbed.agents.market.world import Market
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Receipt


@dataclass(frozen=True, slots=True)
class SettledBatch:
    """One mined ``settle`` of the intent book, read back from the chain alone: the intents
    from the transaction's calldata, what became of each from the book's events.

    Attributes:
        tx: The settlement's tx hash.
        block: Block it landed in.
        solver: Who settled it (``BatchSettled.solver``).
        intents: The batch, in calldata order.
        digests: Each intent's EIP-712 digest (its id in the book's events).
        fills: Per intent, ``(buyAmount, solverReward)`` of its ``IntentFilled`` event, or None
            when the book skipped it (``IntentSkipped``: its condition did not hold).
    """

    tx: bytes
    block: int
    solver: str
    intents: tuple[Intent, ...]
    digests: tuple[bytes, ...]
    fills: tuple[tuple[int, int] | None, ...]

    def executed(self) -> tuple[Intent, ...]:
        """The intents that executed."""
        return tuple(i for i, f in zip(self.intents, self.fills, strict=True) if f is not None)

    def counter_held(self, index: int) -> bool:
        """Whether another executed intent of the batch crosses intent ``index`` (what its
        ``CounterIntent`` condition asks, per ``IntentConditions.holds``)."""
        intent = self.intents[index]
        return any(
            crosses(intent, other)
            for k, (other, fill) in enumerate(zip(self.intents, self.fills, strict=True))
            if k != index and fill is not None
        )


@dataclass(frozen=True, slots=True)
class IntentStats:
    """How the intents of a run's intent book fared.

    Attributes:
        posted: Intents posted to the board.
        filled: Intents settled (``IntentFilled`` events).
        maker_surplus: Sum over fills of ``buyAmount - minBuyAmount - solverReward`` (what the
            maker got above its limit), in numeraire units.
        solver_rewards: Sum of the solvers' rewards, in numeraire units.
        latencies_ms: Per fill, the block's time minus the time the intent was posted.
        conditional_posted: Posted intents with a ``counter_intent`` condition.
        conditional_filled: Those that settled.
        conditional_expired: Those past their deadline at the last block, unsettled.
        conditional_without_counter: Settled ones whose settlement executed no crossing
            reverse intent, read from the chain (the book's check makes this 0).
        surplus_bps: Per fill of a posted intent, the maker's part above its limit, in basis
            points of the limit.
        price_spreads_bps: Per batch and side with two or more fills, how far apart the
            makers' execution rates (``buyAmount / sellAmount``, solver reward included) are:
            ``max / min - 1`` in basis points. Uniform pricing makes each 0 up to rounding.
        batches: Every settlement, read from the chain.
    """

    posted: int
    filled: int
    maker_surplus: float
    solver_rewards: float
    latencies_ms: tuple[int, ...] = ()
    conditional_posted: int = 0
    conditional_filled: int = 0
    conditional_expired: int = 0
    conditional_without_counter: int = 0
    surplus_bps: tuple[float, ...] = ()
    price_spreads_bps: tuple[float, ...] = ()
    batches: tuple[SettledBatch, ...] = ()

    @property
    def fill_rate(self) -> float:
        """Filled over posted (0 without intents)."""
        return self.filled / self.posted if self.posted else 0.0


def settled_batches(
    chain: Chain, receipts: Iterable[Receipt], book: str, chain_id: int
) -> tuple[SettledBatch, ...]:
    """Every successful ``settle`` of ``book`` in ``receipts``, from calldata and events.

    A settlement made through another contract (calldata that is not ``settle``) is left out.
    """
    out: list[SettledBatch] = []
    for receipt in receipts:
        if receipt.status != 1:
            continue
        events = [g.event for g in receipt.logs if g.address == book and g.event is not None]
        settled = [e for e in events if e.name == "BatchSettled"]
        if not settled:
            continue
        try:
            intents, _, _ = decode_settle(chain.transaction(receipt.tx_hash).data)
        except ValueError:
            continue
        filled = {
            bytes(e.args["intentHash"]): (int(e.args["buyAmount"]), int(e.args["solverReward"]))
            for e in events
            if e.name == "IntentFilled"
        }
        digests = tuple(
            intent_digest(i, chain_id=chain_id, verifying_contract=book) for i in intents
        )
        out.append(
            SettledBatch(
                tx=receipt.tx_hash,
                block=receipt.block_number,
                solver=str(settled[0].args["solver"]),
                intents=intents,
                digests=digests,
                fills=tuple(filled.get(d) for d in digests),
            )
        )
    return tuple(out)


def _price_spreads_bps(batches: Iterable[SettledBatch]) -> tuple[float, ...]:
    """Per batch and sell token with two or more fills: ``max / min - 1`` of the fills'
    ``buyAmount / sellAmount``, in basis points."""
    spreads: list[float] = []
    for batch in batches:
        rates: dict[str, list[float]] = defaultdict(list)
        for intent, fill in zip(batch.intents, batch.fills, strict=True):
            if fill is not None:
                rates[intent.sell_token].append(fill[0] / intent.sell_amount)
        spreads += [(max(r) / min(r) - 1) * 10_000 for r in rates.values() if len(r) >= 2]
    return tuple(spreads)


def intent_stats(
    market: Market, valuation: Valuation, receipts: Iterable[Receipt]
) -> IntentStats | None:
    """Fills, makers' surplus over their limits, solver rewards, fill latency, conditional
    intents and price dispersion of the market's intent book (None without one).

    Args:
        market: The run's market.
        valuation: Prices to value surplus and rewards at.
        receipts: The measured blocks' receipts, where the settlements are read from.
    """
    board = market.intent_board
    if board is None:
        return None
    surplus = rewards = 0.0
    latencies: list[int] = []
    surplus_bps: list[float] = []
    for digest, fill in board.fills.items():
        posted = board.posted.get(digest)
        rewards += valuation.value(fill.buy_token, fill.solver_reward)
        if posted is None:
            continue  # filled from outside the board: no limit or posting time known
        # buyAmount is what the book paid out for the intent, the solver's reward included.
        above = fill.buy_amount - posted.intent.min_buy_amount - fill.solver_reward
        surplus += valuation.value(fill.buy_token, above)
        if posted.intent.min_buy_amount > 0:
            surplus_bps.append(above / posted.intent.min_buy_amount * 10_000)
        block_ms = market.chain.block(fill.block_number).timestamp_ms
        latencies.append(block_ms - posted.posted_ms)
    batches = settled_batches(market.chain, receipts, board.book, board.chain_id)
    filled_at = {
        d: (batch, k) for batch in batches for k, d in enumerate(batch.digests) if batch.fills[k]
    }
    conditional = [
        p for p in board.posted.values() if p.intent.condition.kind == ConditionKind.COUNTER_INTENT
    ]
    end = market.chain.head.timestamp
    settled = [filled_at[p.digest] for p in conditional if p.digest in filled_at]
    return IntentStats(
        len(board.posted),
        len(board.fills),
        surplus,
        rewards,
        tuple(latencies),
        conditional_posted=len(conditional),
        conditional_filled=len(settled),
        conditional_expired=sum(
            1 for p in conditional if p.digest not in filled_at and p.intent.deadline < end
        ),
        conditional_without_counter=sum(1 for b, k in settled if not b.counter_held(k)),
        surplus_bps=tuple(surplus_bps),
        price_spreads_bps=_price_spreads_bps(batches),
        batches=batches,
    )


MAKER_GROUP = "maker"
"""The scenario group whose full P&L the intents report follows (``scenarios/intents.toml``)."""


def group_members(names: Iterable[str], group: str = MAKER_GROUP) -> tuple[str, ...]:
    """The agents of scenario group ``group`` (named ``group0``, ``group1``, ...), in order."""
    pattern = re.compile(re.escape(group) + r"\d+")
    return tuple(n for n in names if pattern.fullmatch(n))


def maker_pnl(agents: Iterable[AgentAccount], group: str = MAKER_GROUP) -> dict[str, float]:
    """Each maker's full P&L over the measured blocks, by name, in the numeraire.

    Full P&L is the agent's ``profit`` (``agentbed.agents.market.accounting``): the change of
    everything it holds, valued at the run's final reference prices, net of the ETH it spent
    on gas and direct payments. The group is found by name, not kind, so that the same makers
    compare whether they sign intents or send public swaps (a variant changes their kind). An
    intent maker pays no gas; a public swapper pays its own; an intent never filled changes
    nothing, like a swap never sent.
    """
    accounts = {a.name: a for a in agents}
    return {name: accounts[name].profit for name in group_members(accounts, group)}
