"""MEV accounting after a run: who gained, who lost, who was paid, and what a detector sees.

Two views of the same run are kept apart on purpose:

* **Ground truth** comes from the simulation's labels and where the txs landed
  (:mod:`agentbed.agents.market.truth`).
* **Detection** uses receipts and logs only (:mod:`agentbed.agents.market.mev`), and is scored
  against the truth (precision and recall).

Victim loss is each victim's outcome in the block as built against the same block without the
attacker's transactions, replayed on the parent state; reverted and displaced victims count,
and bot-on-bot losses are kept apart from the headline bot-on-user loss
(:mod:`agentbed.agents.market.victims`). Profit per agent, here, is
the change of its token and LP-share holdings over the measured blocks (from ERC-20
``Transfer`` logs, so exact), valued at the end's reference prices in the scenario's numeraire
(:mod:`agentbed.agents.market.valuation`), minus the ETH it spent (gas and direct payments to
the coinbase). The builder's revenue is priority fees plus direct coinbase transfers; the base
fee is burned. An intent book is accounted by :mod:`agentbed.agents.market.intent_accounting`.
:func:`account_run` puts it all together; the records of those modules are re-exported here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentbed.agents.erc20 import TRANSFER_TOPIC, transfers
from agentbed.agents.market.intent_accounting import (
    IntentStats,
    SettledBatch,
    intent_stats,
    settled_batches,
)
from agentbed.agents.market.mev import (
    Detection,
    DetectionScore,
    SwapEvent,
    detect_backruns,
    detect_sandwiches,
    score,
    swaps_from_receipts,
)
from agentbed.agents.market.truth import MEV_LABELS, MevTruth, ground_truth
from agentbed.agents.market.valuation import UNIT, Valuation
from agentbed.agents.market.victims import VictimLoss, counterfactual_output, victim_losses

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address, Block, Receipt

__all__ = [
    "MEV_LABELS",
    "SEARCHER_KINDS",
    "TRANSFER_TOPIC",
    "UNIT",
    "AgentAccount",
    "BlockAccount",
    "IntentStats",
    "MevTruth",
    "RunAccount",
    "SettledBatch",
    "Valuation",
    "VictimLoss",
    "account_run",
    "counterfactual_output",
    "ground_truth",
    "intent_stats",
    "settled_batches",
    "victim_losses",
]

SEARCHER_KINDS = frozenset(
    {
        "arbitrageur",
        "backrunner",
        "flash_arbitrageur",
        "flash_liquidator",
        "frontrunner",
        "liquidator",
        "route_backrunner",
        "sandwicher",
    }
)
"""Scenario kinds counted as searchers (besides any agent that sent an MEV-labelled tx)."""


@dataclass(frozen=True, slots=True)
class AgentAccount:
    """One agent's figures over the measured blocks.

    Attributes:
        name: Agent name.
        kind: Scenario kind (strategy name).
        searcher: Whether it counts as a searcher.
        sent: Txs it got into the mempool or a bundle.
        included: Its txs mined (including reverted ones).
        failed: Its txs mined but reverted.
        rejected: Its submissions the mempool refused.
        gas_spent: Wei paid for gas (base fee and tip).
        tips_paid: Wei of priority fees it paid.
        coinbase_paid: Wei it sent directly to the coinbase.
        holdings: Change of each holding (symbol -> smallest units).
        profit: Net value change in numeraire units (holdings minus ETH spent).
    """

    name: str
    kind: str
    searcher: bool
    sent: int
    included: int
    failed: int
    rejected: int
    gas_spent: int
    tips_paid: int
    coinbase_paid: int
    holdings: Mapping[str, int]
    profit: float


@dataclass(frozen=True, slots=True)
class BlockAccount:
    """Per-block accounting series (not cumulative).

    Attributes:
        number: Block number.
        victim_loss: Numeraire value lost by the block's victims (bot-on-user).
        searcher_profit: Numeraire value the searchers gained in the block, net of ETH spent.
    """

    number: int
    victim_loss: float
    searcher_profit: float


@dataclass(frozen=True, slots=True)
class RunAccount:
    """All of one run's accounting.

    Attributes:
        policy: Name of the ordering policy.
        valuation: Prices used.
        agents: Per-agent figures, in the simulation's agent order.
        blocks: Per-block series.
        victims: Every victim's loss (bot-on-bot included, marked ``bot``).
        truth: Ground truth.
        detected: What the detector found.
        sandwich_score: Detector vs truth, sandwiches only.
        backrun_score: Detector vs truth, backruns only.
        overall_score: Detector vs truth, both kinds.
        waits_ms: Inclusion delay of every mined tx that had an arrival time.
        intents: Intent fills and surplus, when the market has an intent book.
        unknown_swap_calls: Mined txs to a venue's pool or router whose call the venue could
            not read (see :func:`unknown_swap_calls`).
        swaps: Every successful swap in the measured blocks, read through the venues (what the
            detector, the truth and LVR all start from).
    """

    policy: str
    valuation: Valuation
    agents: tuple[AgentAccount, ...]
    blocks: tuple[BlockAccount, ...]
    victims: tuple[VictimLoss, ...]
    truth: MevTruth
    detected: tuple[Detection, ...]
    sandwich_score: DetectionScore
    backrun_score: DetectionScore
    overall_score: DetectionScore
    waits_ms: tuple[int, ...] = field(default=())
    intents: IntentStats | None = None
    unknown_swap_calls: int = 0
    swaps: tuple[SwapEvent, ...] = ()

    @property
    def user_victims(self) -> tuple[VictimLoss, ...]:
        """The victims that are not searchers (bot-on-user)."""
        return tuple(v for v in self.victims if not v.bot)

    @property
    def victim_loss(self) -> float:
        """Total bot-on-user victim loss in numeraire units (the headline)."""
        return sum(v.value for v in self.user_victims)

    @property
    def bot_victim_loss(self) -> float:
        """Total bot-on-bot victim loss in numeraire units."""
        return sum(v.value for v in self.victims if v.bot)

    @property
    def searcher_profit(self) -> float:
        """Total searcher profit in numeraire units."""
        return sum(a.profit for a in self.agents if a.searcher)


def _holding_flows(
    receipts: Iterable[Receipt], holders: Mapping[str, str], tracked: set[str]
) -> dict[tuple[str, int], dict[str, int]]:
    """(agent, block) -> {holding address: net change}, from ``Transfer`` logs."""
    flows: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for receipt in receipts:
        if receipt.status != 1:
            continue
        for transfer in transfers(receipt.logs):
            if transfer.token not in tracked:
                continue
            if transfer.source in holders:
                flows[(holders[transfer.source], transfer.block)][transfer.token] -= transfer.amount
            if transfer.target in holders:
                flows[(holders[transfer.target], transfer.block)][transfer.token] += transfer.amount
    return flows


@dataclass(frozen=True, slots=True)
class _EthPayments:
    """ETH the agents paid in the measured blocks, in wei.

    Attributes:
        spent: (agent, block) -> gas (base fee and tip) plus direct payments to the coinbase.
        tips: Priority fees by agent.
        direct: Direct payments to the block's coinbase by agent.
    """

    spent: dict[tuple[str, int], int]
    tips: dict[str, int]
    direct: dict[str, int]


def _eth_payments(
    chain: Chain,
    blocks: Iterable[Block],
    receipts: Iterable[Receipt],
    agent_of: Mapping[str, str],
) -> _EthPayments:
    """What each agent paid in ETH, from its receipts: gas at the effective price, the part of
    it above the base fee (the tip), and the value of successful txs to the coinbase."""
    by_number = {b.number: b for b in blocks}
    spent: dict[tuple[str, int], int] = defaultdict(int)
    tips: dict[str, int] = defaultdict(int)
    direct: dict[str, int] = defaultdict(int)
    for receipt in receipts:
        name = agent_of.get(receipt.sender)
        if name is None:
            continue
        block = by_number[receipt.block_number]
        paid = receipt.gas_used * receipt.effective_gas_price
        tips[name] += receipt.gas_used * (receipt.effective_gas_price - block.base_fee)
        if receipt.status == 1 and receipt.to == block.coinbase:
            value = chain.transaction(receipt.tx_hash).value
            direct[name] += value
            paid += value
        spent[(name, receipt.block_number)] += paid
    return _EthPayments(spent, tips, direct)


def _agent_accounts(
    sim: Simulation,
    kinds: Mapping[str, str],
    numbers: Sequence[int],
    flows: Mapping[tuple[str, int], Mapping[str, int]],
    payments: _EthPayments,
    valuation: Valuation,
) -> tuple[AgentAccount, ...]:
    """Each agent's figures over the measured blocks, in the simulation's agent order; an agent
    is a searcher by its kind or by having sent an MEV-labelled tx."""
    mev_senders = {s.agent for s in sim.sent.values() if s.label in MEV_LABELS}
    accounts: list[AgentAccount] = []
    for agent in sim.agents:
        kind = kinds.get(agent.name, agent.kind)
        holdings: dict[str, int] = defaultdict(int)
        spent = 0
        for number in numbers:
            for token, amount in flows.get((agent.name, number), {}).items():
                holdings[token] += amount
            spent += payments.spent.get((agent.name, number), 0)
        profit = sum(valuation.value(t, a) for t, a in holdings.items()) - valuation.value_eth(
            spent
        )
        accounts.append(
            AgentAccount(
                name=agent.name,
                kind=kind,
                searcher=kind in SEARCHER_KINDS or agent.name in mev_senders,
                sent=agent.sent,
                included=agent.included,
                failed=agent.failed,
                rejected=agent.rejected,
                gas_spent=agent.gas_spent,
                tips_paid=payments.tips.get(agent.name, 0),
                coinbase_paid=payments.direct.get(agent.name, 0),
                holdings={valuation.symbols.get(t, t): a for t, a in sorted(holdings.items()) if a},
                profit=profit,
            )
        )
    return tuple(accounts)


def _block_series(
    numbers: Sequence[int],
    searchers: Iterable[str],
    flows: Mapping[tuple[str, int], Mapping[str, int]],
    payments: _EthPayments,
    victims: Iterable[VictimLoss],
    valuation: Valuation,
) -> tuple[BlockAccount, ...]:
    """Per block: its bot-on-user victims' loss, and what the searchers gained in it
    (holdings change net of ETH spent, both in the numeraire)."""
    loss_by_block: dict[int, float] = defaultdict(float)
    for victim in victims:
        if not victim.bot:
            loss_by_block[victim.block] += victim.value
    series = []
    for number in numbers:
        gained = 0.0
        for name in sorted(searchers):
            for token, amount in flows.get((name, number), {}).items():
                gained += valuation.value(token, amount)
            gained -= valuation.value_eth(payments.spent.get((name, number), 0))
        series.append(BlockAccount(number, loss_by_block.get(number, 0.0), gained))
    return tuple(series)


def unknown_swap_calls(chain: Chain, market: Market, receipts: Iterable[Receipt]) -> int:
    """How many of ``receipts``' txs called a venue's pool or router with a selector that venue
    does not know, or a swap it cannot decode (reverted ones too): the swaps the detector,
    the searchers and the accounting cannot see, counted so that none is ignored silently."""
    targets: set[str] = set()
    for venue in market.venues.values():
        targets |= venue.targets()
    return sum(
        1
        for r in receipts
        if r.to in targets and market.is_unknown_call(r.to, chain.transaction(r.tx_hash).data)
    )


def account_run(
    sim: Simulation,
    market: Market,
    *,
    numeraire: str,
    eth_price: float | None = None,
    kinds: Mapping[str, str] | None = None,
) -> RunAccount:
    """Account a finished run: per-agent profit, victim losses, truth and detection.

    Args:
        sim: The simulation after ``run()``.
        market: Its market (reference prices at the end value everything).
        numeraire: Token symbol to value in.
        eth_price: Numeraire per ETH; None values ETH like ``WETH``.
        kinds: Scenario kind per agent name; default: the agent's class name.
    """
    chain = sim.chain
    numbers = [m.number for m in sim.metrics]
    blocks: list[Block] = [chain.block(n) for n in numbers]
    receipts = [r for n in numbers for r in chain.receipts(n)]
    valuation = Valuation.from_market(market, numeraire, eth_price)
    swaps = swaps_from_receipts(receipts, market.venues.values())

    truth = ground_truth(sim, receipts, swaps)
    sandwiches = detect_sandwiches(swaps)
    detected: tuple[Detection, ...] = sandwiches + detect_backruns(swaps, sandwiches)
    agent_of: dict[Address, str] = {a.address: a.name for a in sim.agents}

    tracked = set(market.tokens.values()) | {p.address for p in market.pools}
    flows = _holding_flows(receipts, agent_of, tracked)
    payments = _eth_payments(chain, blocks, receipts, agent_of)
    accounts = _agent_accounts(sim, dict(kinds or {}), numbers, flows, payments, valuation)
    searchers = {a.name for a in accounts if a.searcher}
    victims = victim_losses(chain, truth, valuation, agent_of, market, searchers)
    series = _block_series(numbers, searchers, flows, payments, victims, valuation)

    truth_sandwiches = [c for c in truth.cases if c.kind == "sandwich"]
    truth_backruns = [c for c in truth.cases if c.kind == "backrun"]
    return RunAccount(
        policy=chain.policy.name,
        valuation=valuation,
        agents=accounts,
        blocks=series,
        victims=victims,
        truth=truth,
        detected=detected,
        sandwich_score=score(sandwiches, truth_sandwiches),
        backrun_score=score(detected[len(sandwiches) :], truth_backruns),
        overall_score=score(detected, truth.cases),
        waits_ms=tuple(r.waited_ms for r in receipts if r.waited_ms is not None),
        intents=intent_stats(market, valuation, receipts),
        unknown_swap_calls=unknown_swap_calls(chain, market, receipts),
        swaps=swaps,
    )
