"""What the metrics of an economy run read, each read once: the run's agents and agreements,
its transactions, the agents' holdings at past blocks, and what delivered agreements were worth.

An :class:`EconomyRun` wraps a finished simulation and its economy. The transactions
(:class:`TxLedger`), holdings (:class:`Holdings`) and agreement values (:class:`DealValues`)
are computed the first time a metric asks for them and kept, so every metric of
``agentbed.agents.economy.metrics`` reads the chain through the same cache. Nothing here reads
the wall clock or a global random state.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentbed.agents.agent import Agent
    from agentbed.agents.economy.world import Deal, Economy
    from agentbed.agents.sim import BlockMetrics, SentTx, Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Receipt

CLOSED_ACCEPTED: Final = frozenset({"Released", "Ruled", "TimedOut", "ArbitratorTimedOut"})
"""Terminal states of accepted agreements: the denominator of the outcome rates."""

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_SLASHABLE_OF = function_signature_to_4byte_selector("slashableOf(address)")


def role_of(agent: Agent) -> str:
    """The agent's escrow role: ``buyer``, ``seller``, ``arbitrator``, or "" for none."""
    if isinstance(agent, ServiceBuyer):
        return "buyer"
    if isinstance(agent, ServiceSeller):
        return "seller"
    if isinstance(agent, Arbitrator):
        return "arbitrator"
    return ""


class EconomyRun:
    """A finished economy run as its metrics see it.

    Attributes:
        sim: The finished simulation.
        economy: Its economy.
        chain: The chain it ran on.
        metrics: Per-block figures of the run's blocks.
        agents: Every simulated agent, in the simulation's order.
        numbers: The run's block numbers.
        start_block: The block before the run (where "at the start" is read).
        end_block: The run's last block.
        by_address: Agent by address.
        names: Agent name by address.
        kind_of: Each agent's scenario kind by name (its class's kind when not given).
        sellers: The service sellers.
        buyers: The service buyers.
        arbitrators: The arbitrators.
        deals: Every agreement, by id.
    """

    def __init__(self, sim: Simulation, economy: Economy, kinds: Mapping[str, str]) -> None:
        """Wrap ``sim`` (finished) and its ``economy``; ``kinds`` maps agent names to their
        scenario kinds."""
        self.sim = sim
        self.economy = economy
        self.chain: Chain = sim.chain
        self.metrics: Sequence[BlockMetrics] = sim.metrics
        self.agents: list[Agent] = list(sim.agents)
        self.numbers = [m.number for m in self.metrics]
        head = self.chain.block_number
        self.start_block = self.numbers[0] - 1 if self.numbers else head
        self.end_block = self.numbers[-1] if self.numbers else head
        self.by_address = {a.address: a for a in self.agents}
        self.names = {a.address: a.name for a in self.agents}
        self.kind_of = {a.name: kinds.get(a.name, a.kind) for a in self.agents}
        self.sellers = [a for a in self.agents if isinstance(a, ServiceSeller)]
        self.buyers = [a for a in self.agents if isinstance(a, ServiceBuyer)]
        self.arbitrators = [a for a in self.agents if isinstance(a, Arbitrator)]
        self.deals: list[Deal] = sorted(economy.deals.values(), key=lambda d: d.id)

    @property
    def first_run_block(self) -> int:
        """The run's first block."""
        return self.start_block + 1

    @functools.cached_property
    def txs(self) -> TxLedger:
        """The run's transactions (see :func:`read_transactions`)."""
        return read_transactions(self)

    @functools.cached_property
    def holdings(self) -> Holdings:
        """The agents' holdings at past blocks."""
        return Holdings(self)

    @functools.cached_property
    def deal_values(self) -> DealValues:
        """What the agreements were worth to their parties (see :func:`value_deals`)."""
        return value_deals(self)

    def plan(self, deal: Deal) -> bool | None:
        """The seller's decision on ``deal`` (True: default), None when it made none or is no
        simulated seller."""
        seller = self.by_address.get(deal.counterparty)
        return seller.plans.get(deal.id) if isinstance(seller, ServiceSeller) else None


# ---------------------------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class AgentTxs:
    """One agent's transactions sent during the run.

    Attributes:
        sent: Sent during the run (including those never mined).
        included: Mined, reverted ones included.
        failed: Mined but reverted.
        priced_out: Never mined by the run's end.
        waits: Inclusion delay (ms) of each mined one that had an arrival time.
    """

    sent: int = 0
    included: int = 0
    failed: int = 0
    priced_out: int = 0
    waits: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TxLedger:
    """The run's transactions, told apart from the set-up's by the block they were mined in.

    Attributes:
        receipts: Every receipt of the chain (set-up included), by tx hash.
        waits_ms: Inclusion delay of every tx mined during the run.
        sent: The transactions agents sent during the run (mined in it, or never mined).
        by_agent: Each agent's figures, by name.
        late_deliveries: Sellers' ``deliver`` transactions that were mined but reverted.
    """

    receipts: dict[bytes, Receipt]
    waits_ms: list[int]
    sent: list[SentTx]
    by_agent: dict[str, AgentTxs]
    late_deliveries: int


def read_transactions(run: EconomyRun) -> TxLedger:
    """Read every block's receipts, so that set-up transactions can be told from run ones, and
    count each agent's run transactions."""
    chain = run.chain
    receipts: dict[bytes, Receipt] = {}
    waits_ms: list[int] = []
    run_blocks = set(run.numbers)
    for number in range(chain.block_number + 1):
        for receipt in chain.receipts(number):
            receipts[receipt.tx_hash] = receipt
            if number in run_blocks and receipt.waited_ms is not None:
                waits_ms.append(receipt.waited_ms)
    run_sent = [
        s
        for s in run.sim.sent.values()
        if s.hash not in receipts or receipts[s.hash].block_number >= run.first_run_block
    ]
    by_agent = {a.name: AgentTxs() for a in run.agents}
    late_deliveries = 0
    for sent in run_sent:
        row = by_agent[sent.agent]
        row.sent += 1
        mined = receipts.get(sent.hash)
        if mined is None:
            row.priced_out += 1
            continue
        row.included += 1
        row.failed += mined.status == 0
        if mined.waited_ms is not None:
            row.waits.append(mined.waited_ms)
        if sent.label == "deliver" and mined.status == 0:
            late_deliveries += 1
    return TxLedger(receipts, waits_ms, run_sent, by_agent, late_deliveries)


# ---------------------------------------------------------------------------------------------
# Holdings
# ---------------------------------------------------------------------------------------------


def _read_uint(chain: Chain, to: str, selector: bytes, account: str, block: int) -> int:
    raw = chain.call(to, selector + encode(("address",), (account,)), block_number=block)
    return int(decode(("uint256",), raw)[0])


class Holdings:
    """The agents' currency balances and stakes (bonded and unbonding), read on-chain at past
    blocks, each (address, block) once.

    Attributes:
        start_balance: Currency balance by agent name at the block before the run.
        end_balance: At the run's last block.
        start_stake: Stake by agent name at the block before the run.
        end_stake: At the run's last block.
        members: The economy's agents: the escrow roles and any agent holding currency or
            stake at the start or the end.
        stakers: Agents whose stake counts in their holdings: those that sent a ``stake``
            transaction, arbitrators, and members staked at the start.
    """

    def __init__(self, run: EconomyRun) -> None:
        """Read the start and end holdings of ``run``'s agents."""
        self._chain = run.chain
        self._currency: str = run.economy.currency.address
        self._staking: str = run.economy.staking.address
        self._balances: dict[tuple[str, int], int] = {}
        self._stakes: dict[tuple[str, int], int] = {}
        agents, start, end = run.agents, run.start_block, run.end_block
        self.start_balance = {a.name: self.balance_at(a.address, start) for a in agents}
        self.end_balance = {a.name: self.balance_at(a.address, end) for a in agents}
        self.start_stake = {a.name: self.stake_at(a.address, start) for a in agents}
        self.end_stake = {a.name: self.stake_at(a.address, end) for a in agents}
        self.members = [
            a
            for a in agents
            if role_of(a)
            or self.start_balance[a.name] + self.start_stake[a.name] > 0
            or self.end_balance[a.name] + self.end_stake[a.name] > 0
        ]
        self.stakers = {s.agent for s in run.sim.sent.values() if s.label == "stake"} | {
            a.name
            for a in self.members
            if isinstance(a, Arbitrator) or self.start_stake[a.name] > 0
        }

    def balance_at(self, address: str, block: int) -> int:
        """Currency balance of ``address`` at ``block``."""
        key = (address, block)
        if key not in self._balances:
            self._balances[key] = _read_uint(
                self._chain, self._currency, _BALANCE_OF, address, block
            )
        return self._balances[key]

    def stake_at(self, address: str, block: int) -> int:
        """Slashable stake (bonded and unbonding) of ``address`` at ``block``."""
        key = (address, block)
        if key not in self._stakes:
            self._stakes[key] = _read_uint(
                self._chain, self._staking, _SLASHABLE_OF, address, block
            )
        return self._stakes[key]


# ---------------------------------------------------------------------------------------------
# What agreements were worth
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealValues:
    """What the agreements were worth, in wei of the currency.

    Attributes:
        trade_surplus: Over delivered agreements, the buyer's value minus the seller's cost.
        outside_gains: What sellers gained outside by defaulting on closed accepted agreements.
        service_value: Value of the services each buyer received, by name.
        delivery_cost: Cost of the deliveries each seller made, by name.
        outside: Each seller's outside gains, by name.
    """

    trade_surplus: int
    outside_gains: int
    service_value: Counter[str]
    delivery_cost: Counter[str]
    outside: Counter[str]


def value_deals(run: EconomyRun) -> DealValues:
    """Value every agreement: a delivered one (the seller confirmed) is worth the buyer's value
    of the service to the buyer and costs the seller its delivery cost; a closed accepted one
    that was not delivered brings the seller the outside gain it defaulted for."""
    service_value: Counter[str] = Counter()
    delivery_cost: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    trade_surplus = outside_gains = 0
    for deal in run.deals:
        buyer = run.by_address.get(deal.proposer)
        seller = run.by_address.get(deal.counterparty)
        if deal.counterparty_confirmed:
            value = buyer.value if isinstance(buyer, ServiceBuyer) else 0
            cost = seller.cost if isinstance(seller, ServiceSeller) else 0
            trade_surplus += value - cost
            if buyer is not None:
                service_value[buyer.name] += value
            if seller is not None:
                delivery_cost[seller.name] += cost
        elif deal.state in CLOSED_ACCEPTED and isinstance(seller, ServiceSeller):
            gain = seller.outside_gains.get(deal.id, 0)
            outside_gains += gain
            outside[seller.name] += gain
    return DealValues(trade_surplus, outside_gains, service_value, delivery_cost, outside)
