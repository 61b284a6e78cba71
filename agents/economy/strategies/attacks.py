"""Issue 15's escrow attacks as agents: an arbitrator griefer, and a sybil reputation farmer.

Each attack needs two accounts of one owner, so each is two agents that name each other by
agent name (``Agent.meet`` resolves the names before set-up):

* **Arbitrator griefing** -- an ``ArbitratorGriefer`` proposes agreements worth nothing (price,
  bonds and fee 0 by default) to its ``Sybil``, naming a staked arbitrator it never asked. The
  sybil accepts, the griefer disputes at once, and once the ruling window has passed it calls
  ``arbitratorTimeout``: the plain ``Escrow`` slashes the arbitrator's stake and records a
  no-show, at no currency cost to the attacker (an ``Arbitrator`` with ``attends="agreed"``
  does not watch agreements it never agreed to). Under ``ConsentEscrow`` the griefer has to
  ask, and an arbitrator refuses a fee below its ``min_fee``, or is paid and attends.
* **Reputation farming** -- a ``Sybil`` with ``farm_deals`` proposes agreements worth nothing
  to its principal, a ``ReputationFarmer`` (a listed seller), which delivers them; each release
  is one more ``escrow.completed`` record. Buyers reading raw counts then rank the farmer above
  honest sellers, and it defaults on them (``behaviour``, "adversarial" by default). Buyers
  reading the weighted record (``Reputation.weightedScore``: deals with their price at stake,
  distinct counterparties) are not fooled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import Action, AgentView, TxIntent
from agentbed.agents.economy.consent import Terms
from agentbed.agents.economy.strategies.escrow import (
    RETRY_BLOCKS,
    Behaviour,
    ServiceSeller,
    _EscrowAgent,
)

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Deal, Economy


def _resolve(directory: Mapping[str, str], who: str, role: str, name: str) -> str:
    """The address of the agent named ``name`` (an agent's ``role`` parameter)."""
    if not name:
        raise ValueError(f'{who}: {role} must name an agent of the run (e.g. "sybil0")')
    if name not in directory:
        known = ", ".join(sorted(directory)) or "none"
        raise ValueError(f"{who}: {role} {name!r} is not an agent of the run (agents: {known})")
    return directory[name]


class ArbitratorGriefer(_EscrowAgent):
    """Gets staked arbitrators slashed through worthless disputes with its own ``Sybil``.

    Args:
        sybil: Agent name of its second account (a ``Sybil``), the counterparty it proposes to.
        victim: Agent name of the arbitrator to name; "" names, each round, the eligible
            listed arbitrator with the fewest no-shows (the one buyers would pick next).
        rounds: Most agreements it proposes over the run.
        max_open: Most of its agreements open at once.
        fee: Arbitrator fee it offers (0: nothing; under ``ConsentEscrow`` an arbitrator with
            a higher ``min_fee`` refuses).
        accept_window: Seconds from the head to ``acceptBy``.
        deliver_window: Seconds from ``acceptBy`` to ``deliverBy``.
        **kwargs: Passed to ``Agent`` (and ``tip``).
    """

    def __init__(
        self,
        *args: Any,
        sybil: str = "",
        victim: str = "",
        rounds: int = 6,
        max_open: int = 2,
        fee: int = 0,
        accept_window: int = 36,
        deliver_window: int = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if rounds < 0 or max_open < 1 or fee < 0:
            raise ValueError("rounds and fee must be >= 0 and max_open >= 1")
        if accept_window <= 0 or deliver_window <= 0:
            raise ValueError("accept_window and deliver_window must be > 0")
        self.sybil_name = sybil
        self.victim_name = victim
        self.rounds = rounds
        self.max_open = max_open
        self.fee = fee
        self.accept_window = accept_window
        self.deliver_window = deliver_window
        self.sybil = ""
        self.victim = ""
        self.proposed = 0
        """Proposals sent (rounds used)."""
        self._in_flight: list[int] = []

    def meet(self, directory: Mapping[str, str]) -> None:
        self.sybil = _resolve(directory, self.name, "sybil", self.sybil_name)
        if self.victim_name:
            self.victim = _resolve(directory, self.name, "victim", self.victim_name)

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        return economy.approvals()

    def on_receipt(self, receipt: Any, label: str) -> None:
        if label == "propose" and self._in_flight:
            self._in_flight.pop(0)

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now = view.head.timestamp
        actions: list[TxIntent | None] = []
        mine = [d for d in economy.open_escrows_of(self.address) if d.proposer == self.address]
        for deal in mine:
            actions.append(self._advance(view, economy, deal, now))
        self._in_flight = [n for n in self._in_flight if view.head.number - n < 2 * RETRY_BLOCKS]
        if self.proposed < self.rounds and len(mine) + len(self._in_flight) < self.max_open:
            proposal = self._propose(view, economy, now)
            if proposal is not None:
                self.proposed += 1
                self._in_flight.append(view.head.number)
                actions.append(proposal)
        return tuple(a for a in actions if a is not None)

    def _advance(self, view: AgentView, economy: Economy, deal: Deal, now: int) -> TxIntent | None:
        if deal.state == "Proposed":
            expired = now >= deal.accept_by
            return self._once(view, deal.id, economy.expire(deal.id)) if expired else None
        if deal.state == "Accepted":
            return self._once(view, deal.id, economy.dispute(deal.id))
        if now >= deal.rule_by:  # Disputed, and the window has passed
            return self._once(view, deal.id, economy.arbitrator_timeout(deal.id))
        return None

    def _target(self, view: AgentView, economy: Economy) -> str | None:
        """The arbitrator to name this round, or None when none is eligible."""
        if self.victim:
            return self.victim if economy.eligible(view.reader, self.victim) else None
        eligible = [
            a
            for a in economy.arbitrators
            if a not in (self.address, self.sybil) and economy.eligible(view.reader, a)
        ]
        if not eligible:
            return None
        return min(eligible, key=lambda a: (economy.no_shows(view.reader, a), a))

    def _propose(self, view: AgentView, economy: Economy, now: int) -> TxIntent | None:
        victim = self._target(view, economy)
        if victim is None:
            return None
        accept_by = now + self.accept_window
        terms = Terms(
            self.sybil, victim, 0, 0, 0, self.fee, accept_by, accept_by + self.deliver_window
        )
        # The plain escrow takes the victim unasked; the consent variant needs its signature.
        return economy.propose(self.address, terms, ask=economy.arbitrator_consent)


class Sybil(_EscrowAgent):
    """An attacker's second account: accepts its principal's proposals, and farms for it.

    It accepts (posting the bond asked, 0 in the attacks) every agreement its principal
    proposes to it, and never delivers. With ``farm_deals`` it also proposes that many
    agreements of ``farm_price`` to its principal, naming the arbitrator with the fewest
    no-shows that agrees, and confirms each once the principal has delivered: every release
    records ``escrow.completed`` for the principal.

    Args:
        principal: Agent name of the account it serves.
        farm_deals: Agreements to propose to the principal (0: only accepts).
        farm_price: Price (and nothing else: bonds and fee 0) of each farming agreement.
        max_open: Most farming agreements open at once.
        accept_window: Seconds from the head to ``acceptBy``.
        deliver_window: Seconds from ``acceptBy`` to ``deliverBy``.
        **kwargs: Passed to ``Agent`` (and ``tip``).
    """

    def __init__(
        self,
        *args: Any,
        principal: str = "",
        farm_deals: int = 0,
        farm_price: int = 0,
        max_open: int = 2,
        accept_window: int = 36,
        deliver_window: int = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if farm_deals < 0 or farm_price < 0 or max_open < 1:
            raise ValueError("farm_deals and farm_price must be >= 0 and max_open >= 1")
        if accept_window <= 0 or deliver_window <= 0:
            raise ValueError("accept_window and deliver_window must be > 0")
        self.principal_name = principal
        self.principal = ""
        self.farm_deals = farm_deals
        self.farm_price = farm_price
        self.max_open = max_open
        self.accept_window = accept_window
        self.deliver_window = deliver_window
        self.farmed = 0
        """Farming proposals sent."""
        self._in_flight: list[int] = []

    def meet(self, directory: Mapping[str, str]) -> None:
        self.principal = _resolve(directory, self.name, "principal", self.principal_name)

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        return economy.approvals()

    def on_receipt(self, receipt: Any, label: str) -> None:
        if label == "propose" and self._in_flight:
            self._in_flight.pop(0)

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now, step = view.head.timestamp, economy.block_interval_s
        actions: list[TxIntent | None] = []
        farming = 0
        for deal in economy.open_escrows_of(self.address):
            if deal.counterparty == self.address and deal.proposer == self.principal:
                if deal.state == "Proposed" and now + step <= deal.accept_by:
                    actions.append(self._once(view, deal.id, economy.accept(deal.id)))
            elif deal.proposer == self.address and deal.counterparty == self.principal:
                farming += 1
                actions.append(self._advance_farm(view, economy, deal, now))
        self._in_flight = [n for n in self._in_flight if view.head.number - n < 2 * RETRY_BLOCKS]
        if self.farmed < self.farm_deals and farming + len(self._in_flight) < self.max_open:
            proposal = self._farm(view, economy, now)
            if proposal is not None:
                self.farmed += 1
                self._in_flight.append(view.head.number)
                actions.append(proposal)
        return tuple(a for a in actions if a is not None)

    def _advance_farm(
        self, view: AgentView, economy: Economy, deal: Deal, now: int
    ) -> TxIntent | None:
        if deal.state == "Proposed" and now >= deal.accept_by:
            return self._once(view, deal.id, economy.expire(deal.id))
        if deal.state == "Accepted" and deal.counterparty_confirmed:
            return self._once(view, deal.id, economy.confirm(deal.id))
        if deal.state == "Accepted" and now >= deal.deliver_by + economy.grace_period:
            return self._once(view, deal.id, economy.timeout(deal.id))
        return None

    def _farm(self, view: AgentView, economy: Economy, now: int) -> TxIntent | None:
        eligible = [
            a
            for a in economy.arbitrators
            if a not in (self.address, self.principal) and economy.eligible(view.reader, a)
        ]
        accept_by = now + self.accept_window
        for arbitrator in sorted(eligible, key=lambda a: (economy.no_shows(view.reader, a), a)):
            terms = Terms(
                self.principal,
                arbitrator,
                self.farm_price,
                0,
                0,
                0,
                accept_by,
                accept_by + self.deliver_window,
            )
            proposal = economy.propose(self.address, terms)
            if proposal is not None:
                return proposal
        return None


class ReputationFarmer(ServiceSeller):
    """A listed seller that delivers its ``Sybil``'s worthless agreements, to farm a record,
    and treats every other buyer according to ``behaviour`` ("adversarial": never delivers).

    Args:
        sybil: Agent name of its second account (a ``Sybil`` with ``farm_deals``).
        behaviour: How it treats honest buyers (``ServiceSeller``'s behaviours).
        **kwargs: Passed to ``ServiceSeller``.
    """

    def __init__(
        self, *args: Any, sybil: str = "", behaviour: Behaviour = "adversarial", **kwargs: Any
    ) -> None:
        super().__init__(*args, behaviour=behaviour, **kwargs)
        self.sybil_name = sybil
        self.sybil = ""

    def meet(self, directory: Mapping[str, str]) -> None:
        self.sybil = _resolve(directory, self.name, "sybil", self.sybil_name)

    def _will_default(self, economy: Economy, deal: Deal) -> bool:
        if deal.proposer == self.sybil:
            self.taken -= 1  # farming is not selling: a deceptive farmer's count stays honest
            return False
        return super()._will_default(economy, deal)
