"""Escrow-market agents: buyers, sellers of several kinds, and arbitrators.

The protocol, one agreement at a time, each step sent on a block wake (``wants_blocks``) and
read back from ``Economy.deals`` (kept current from the Escrow events):

1. **propose** -- a buyer picks a seller and an eligible arbitrator (by on-chain reputation,
   plus off-chain credentials, or at random) and escrows price, bond and fee.
2. **accept** -- the seller accepts before ``acceptBy`` and posts its bond, deciding then
   whether it will deliver (or declines, with ``min_margin``, and leaves the market).
3. **deliver** -- a seller that delivers confirms the agreement (the seller's confirmation is
   the protocol's record of delivery).
4. **confirm** -- the buyer confirms once the seller has delivered: the funds are released.
5. **dispute** -- if the seller has not delivered by the last block before ``deliverBy`` (plus
   the escrow's grace period, during which a late delivery still counts), an attentive buyer
   disputes (each deal is watched with probability ``dispute_prob``); the arbitrator then
   **rule**-s: everything to the buyer if nothing was delivered, else the price to the
   seller -- unless it is corruptible and the seller paid it a side payment ("bribe").
6. **timeout** -- an unwatched default is settled after ``deliverBy`` by the buyer under the
   escrow's timeout policy (bonds refunded, or both slashed); a no-show arbitrator's dispute
   likewise, and an unaccepted proposal is refunded (**expire**).

An action is not repeated for ``RETRY_BLOCKS`` blocks, long enough for it to be mined.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent, check_fraction
from agentbed.agents.economy.consent import Terms, sign_consent, terms_of
from agentbed.agents.economy.credentials import (
    FORGERIES,
    CredentialJudge,
    CredentialMode,
    Forgery,
    publish_forgeries,
)
from agentbed.agents.economy.governance import decayed_counts, seller_margin
from agentbed.agents.economy.world import TOKEN

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Deal, Economy
    from agentbed.chain.types import Receipt

ReputationMode = Literal["weighted", "raw"]
"""How a buyer reads a seller's on-chain record (see ``ServiceBuyer``'s ``reputation``)."""

RETRY_BLOCKS: Final = 3
"""Blocks to wait before repeating an action whose effect has not shown up."""

Behaviour = Literal["honest", "opportunistic", "deceptive", "adversarial", "adaptive"]
BEHAVIOURS: Final[tuple[Behaviour, ...]] = get_args(Behaviour)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A buyer's proposal as it decided it: the seller, the proposal's ``acceptBy`` (which,
    with buyer and seller, finds its agreement) and every candidate seller's trust then."""

    seller: str
    accept_by: int
    trust: Mapping[str, float]


class _EscrowAgent(Agent):
    """What every escrow agent shares: block wakes and not repeating in-flight actions."""

    wants_blocks = True

    def __init__(self, *args: Any, tip: int = GWEI, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tip = tip
        self._acted: dict[tuple[int, str], int] = {}

    def _once(self, view: AgentView, deal: int, intent: TxIntent) -> TxIntent | None:
        """``intent`` unless the same step on ``deal`` was sent in the last few blocks."""
        key = (deal, intent.label)
        sent = self._acted.get(key)
        if sent is not None and view.head.number - sent < RETRY_BLOCKS:
            return None
        self._acted[key] = view.head.number
        return dataclasses.replace(intent, tip=self.tip)


class ServiceBuyer(_EscrowAgent):
    """Buys a service through escrow: proposes, confirms on delivery, disputes on default.

    Args:
        price: Paid to the seller on delivery.
        value: What a delivered service is worth to the buyer (for welfare; > price makes
            trade worth it).
        bond: The buyer's own bond.
        seller_bond: The bond asked of the seller.
        fee: The arbitrator's fee.
        demand: Probability of proposing a new deal on a block wake with room for one.
        max_open: Most agreements (and proposals in flight) open at once.
        dispute_prob: Probability a deal is watched, so that a default is disputed rather than
            left to time out.
        ignore_reputation: Choose sellers and arbitrators uniformly at random.
        credentials: What the off-chain credentials sellers show count for: nothing
            ("ignore"); each valid "service.delivered" one, checked with
            ``verify_attestation`` through the view's reader, as one more good outcome in the
            seller's trust ("verify"; rejections counted in ``rejected_credentials``); or
            every one shown, unchecked ("naive"). See
            ``agentbed.agents.economy.credentials.CredentialJudge``.
        explore: With reputation, the probability of trying a random seller instead of the
            most trusted one.
        accept_window: Seconds from the head to ``acceptBy``.
        reputation: ``"weighted"``: a seller's record counts, per outcome, the distinct
            counterparties of deals with at least this buyer's price at stake
            (``Reputation.weightedScore``), which a sybil cannot raise with deals worth
            nothing; ``"raw"``: every valid attestation counts (issue 15's farmable score).
        deliver_window: Seconds from ``acceptBy`` to ``deliverBy``.
        half_life_s: Reputation decay: with > 0, each outcome in the record counts with weight
            ``2^(-age / half_life_s)`` (``agentbed.agents.economy.governance``); 0: none.
        **kwargs: Passed to ``Agent`` (and ``tip``).
    """

    def __init__(
        self,
        *args: Any,
        price: int = 10 * TOKEN,
        value: int = 15 * TOKEN,
        bond: int = 2 * TOKEN,
        seller_bond: int = 10 * TOKEN,
        fee: int = TOKEN,
        demand: float = 0.5,
        max_open: int = 1,
        dispute_prob: float = 1.0,
        ignore_reputation: bool = False,
        credentials: CredentialMode = "ignore",
        explore: float = 0.1,
        accept_window: int = 36,
        deliver_window: int = 60,
        reputation: ReputationMode = "weighted",
        half_life_s: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if half_life_s < 0:
            raise ValueError(f"half_life_s must be >= 0, got {half_life_s}")
        self.half_life_s = half_life_s
        check_fraction("demand", demand, allow_zero=True)
        check_fraction("dispute_prob", dispute_prob, allow_zero=True)
        check_fraction("explore", explore, allow_zero=True)
        if max_open < 1:
            raise ValueError(f"max_open must be >= 1, got {max_open}")
        if accept_window <= 0 or deliver_window <= 0:
            raise ValueError("accept_window and deliver_window must be > 0")
        if value < 0:
            raise ValueError(f"value must be >= 0, got {value}")
        self.price = price
        self.value = value
        self.bond = bond
        self.seller_bond = seller_bond
        self.fee = fee
        self.demand = demand
        self.max_open = max_open
        self.dispute_prob = dispute_prob
        self.ignore_reputation = ignore_reputation
        if credentials not in ("ignore", "verify", "naive"):
            raise ValueError(f"credentials must be ignore, verify or naive, got {credentials!r}")
        self.credentials: CredentialMode = credentials
        self._judge: CredentialJudge | None = None
        self.explore = explore
        if reputation not in ("weighted", "raw"):
            raise ValueError(f"reputation must be weighted or raw, got {reputation!r}")
        self.reputation: ReputationMode = reputation
        self.accept_window = accept_window
        self.deliver_window = deliver_window
        self.chosen: list[str] = []
        """The seller of every proposal sent, in order."""
        self.proposals: list[Proposal] = []
        """Every proposal sent, with the trust estimates it was chosen by (safety metrics)."""
        self._watched: dict[int, bool] = {}
        self._in_flight: list[int] = []

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        return economy.approvals()

    def on_receipt(self, receipt: Receipt, label: str) -> None:
        if label == "propose" and self._in_flight:
            self._in_flight.pop(0)

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now, step = view.head.timestamp, economy.block_interval_s
        actions: list[TxIntent | None] = []
        mine = [d for d in economy.open_escrows_of(self.address) if d.proposer == self.address]
        for deal in mine:
            actions.append(self._advance(view, economy, deal, now, step))
        # A proposal whose receipt never came (rejected, dropped) stops counting after a while.
        self._in_flight = [n for n in self._in_flight if view.head.number - n < 2 * RETRY_BLOCKS]
        if len(mine) + len(self._in_flight) < self.max_open and self.rng.random() < self.demand:
            proposal = self._propose(view, economy, now)
            if proposal is not None:
                self._in_flight.append(view.head.number)
                actions.append(proposal)
        return tuple(a for a in actions if a is not None)

    def _advance(
        self, view: AgentView, economy: Economy, deal: Deal, now: int, step: int
    ) -> TxIntent | None:
        if deal.state == "Proposed":
            return (
                self._once(view, deal.id, economy.expire(deal.id))
                if now >= deal.accept_by
                else None
            )
        if deal.state == "Disputed":
            if now >= deal.rule_by:
                return self._once(view, deal.id, economy.arbitrator_timeout(deal.id))
            return None
        # Accepted; timeout only once the grace is over, a delayed delivery still counts in it
        if now >= deal.deliver_by + economy.grace_period:
            return self._once(view, deal.id, economy.timeout(deal.id))
        if deal.counterparty_confirmed:
            if not deal.proposer_confirmed:
                return self._once(view, deal.id, economy.confirm(deal.id))
            return None
        watched = self._watched.setdefault(deal.id, self.rng.random() < self.dispute_prob)
        # Under a grace period a late delivery still counts: dispute only when it runs out.
        if watched and now + 2 * step > deal.deliver_by + economy.grace_period:
            return self._once(view, deal.id, economy.dispute(deal.id))
        return None

    @property
    def rejected_credentials(self) -> Counter[str]:
        """Credentials found invalid, by reason (empty unless ``credentials="verify"``)."""
        return self._judge.rejected if self._judge is not None else Counter()

    def _vouched(self, view: AgentView, economy: Economy, seller: str, *, tally: bool) -> int:
        """The credentials shown by ``seller`` that count as good outcomes (0 when ignored)."""
        if self.credentials == "ignore":
            return 0
        if self._judge is None:
            self._judge = CredentialJudge(
                self.credentials, economy.reputation.address, economy.verdicts
            )
        return self._judge.count(view.reader, economy.credentials, seller, tally=tally)

    def _propose(self, view: AgentView, economy: Economy, now: int) -> TxIntent | None:
        governor = economy.governor
        sellers = [s for s in economy.sellers if s != self.address and s not in governor.frozen]
        if not sellers:
            return None
        if self.ignore_reputation or self.rng.random() < self.explore:
            seller = sellers[self.rng.randrange(len(sellers))]
            # Scored all the same, for the safety metrics; rejections are not tallied twice.
            trust = self._trust(view, economy, sellers, tally=False)
        else:
            trust = self._trust(view, economy, sellers, tally=True)
            best = max(trust.values())
            top = [s for s in sellers if trust[s] == best]
            seller = top[self.rng.randrange(len(top))]
        arbitrators = [
            a
            for a in economy.arbitrators
            if a not in (self.address, seller) and economy.eligible(view.reader, a)
        ]
        if not arbitrators:
            return None
        if not self.ignore_reputation:
            no_shows = {a: economy.no_shows(view.reader, a) for a in arbitrators}
            fewest = min(no_shows.values())
            arbitrators = [a for a in arbitrators if no_shows[a] == fewest]
        arbitrator = arbitrators[self.rng.randrange(len(arbitrators))]
        accept_by = now + self.accept_window
        terms = Terms(
            seller,
            arbitrator,
            self.price,
            self.bond,
            self.seller_bond,
            self.fee,
            accept_by,
            accept_by + self.deliver_window,
        )
        proposal = economy.propose(self.address, terms)
        if proposal is not None:
            self.chosen.append(seller)
            self.proposals.append(Proposal(seller, accept_by, trust))
        return proposal

    def _trust(
        self, view: AgentView, economy: Economy, sellers: Sequence[str], *, tally: bool
    ) -> dict[str, float]:
        """Each seller's trust estimate now: its record (decayed with ``half_life_s``) plus
        the credentials accepted; ``tally=False`` leaves the rejection counts alone."""
        trust: dict[str, float] = {}
        for s in sellers:
            vouched = self._vouched(view, economy, s, tally=tally)
            if self.half_life_s > 0:
                good, bad = decayed_counts(
                    economy.deals.values(),
                    s,
                    head=view.head.number,
                    block_interval_s=economy.block_interval_s,
                    half_life_s=self.half_life_s,
                    min_stake=self._min_stake or 1,
                )
                trust[s] = (good + vouched + 1) / (good + vouched + bad + 2)
            else:
                record = economy.record(view.reader, s, min_stake=self._min_stake)
                trust[s] = record.trust(vouched)
        return trust

    @property
    def _min_stake(self) -> int | None:
        """What a deal must have had at stake to count in a record (None: raw counts)."""
        return max(1, self.price) if self.reputation == "weighted" else None


class ServiceSeller(_EscrowAgent):
    """Accepts every proposal addressed to it; whether it delivers depends on ``behaviour``.

    Behaviours: ``honest`` always delivers; ``adversarial`` never does; ``deceptive`` delivers
    its first ``honest_deals`` deals, then never; ``adaptive`` never delivers until it is caught
    (a ruling against it, or its bond slashed at a timeout), then always; ``opportunistic`` is
    tempted on a deal with probability ``temptation_prob`` by an outside gain drawn uniformly
    from ``[0, 2 * temptation]`` and defaults when that gain beats the expected penalty: its
    bond times the chance of losing it (``believed_dispute_prob`` of a dispute, plus the rest
    when the escrow slashes bonds at timeouts).

    Args:
        behaviour: One of ``BEHAVIOURS``.
        temptation_prob: Opportunistic: probability a deal is tempting.
        temptation: Opportunistic: mean outside gain of a tempting deal.
        believed_dispute_prob: Opportunistic: the chance it thinks a default is disputed.
        honest_deals: Deceptive: deals delivered before it starts defaulting.
        bribe: Side payment sent to the arbitrator of a disputed deal it defaulted on (0: none).
        cost: What delivering a deal costs the seller (for welfare); a default saves it.
        work_s: Seconds of work between accepting (the first block it sees the agreement
            Accepted) and delivering; 0 delivers at once.
        forge_credentials: Fake "service.delivered" credentials about itself it shows on the
            economy's credential board, from its first wake on (0: none).
        forgery: Which kind of fake (``agentbed.agents.economy.credentials.Forgery``), or "mixed"
            to cycle through all of them. One that copies a genuine credential waits until the
            board has one about another seller; the others are all shown at the first wake.
        min_margin: Least ``governance.seller_margin`` (after the escrow's tax; its cost counted
            if it means to deliver) it sells for: below it, it declines the proposal and leaves
            the market for good, declining the rest (None: takes every proposal).
        **kwargs: Passed to ``Agent`` (and ``tip``).
    """

    def __init__(
        self,
        *args: Any,
        behaviour: Behaviour = "honest",
        temptation_prob: float = 1.0,
        temptation: int = 6 * TOKEN,
        believed_dispute_prob: float = 0.5,
        honest_deals: int = 2,
        bribe: int = 0,
        cost: int = 4 * TOKEN,
        work_s: int = 0,
        forge_credentials: int = 0,
        forgery: Forgery | Literal["mixed"] = "mixed",
        min_margin: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.min_margin = min_margin
        self.priced_out: list[int] = []
        """Proposals declined for their margin, in order; the first one made it leave."""
        if forgery != "mixed" and forgery not in FORGERIES:
            raise ValueError(f"forgery must be 'mixed' or one of {FORGERIES}, got {forgery!r}")
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}, got {behaviour!r}")
        check_fraction("temptation_prob", temptation_prob, allow_zero=True)
        check_fraction("believed_dispute_prob", believed_dispute_prob, allow_zero=True)
        if min(temptation, honest_deals, bribe, cost, work_s, forge_credentials) < 0:
            raise ValueError(
                "temptation, honest_deals, bribe, cost, work_s and forge_credentials must be >= 0"
            )
        self.behaviour: Behaviour = behaviour
        self.temptation_prob = temptation_prob
        self.temptation = temptation
        self.believed_dispute_prob = believed_dispute_prob
        self.honest_deals = honest_deals
        self.bribe = bribe
        self.cost = cost
        self.outside_gains: dict[int, int] = {}
        """Deal id -> the outside gain an opportunistic seller defaults for (welfare)."""
        self.taken = 0
        self.caught = False
        self.plans: dict[int, bool] = {}
        """Deal id -> whether the seller decided to default on it."""
        self.work_s = work_s
        self.accepted_at: dict[int, int] = {}
        """Deal id -> head timestamp at which the seller first saw it Accepted."""
        self.forge_credentials = forge_credentials
        self.forgery: Forgery | Literal["mixed"] = forgery
        self.forged = 0
        self._to_forge: list[Forgery] = [
            FORGERIES[n % len(FORGERIES)] if forgery == "mixed" else forgery
            for n in range(forge_credentials)
        ]

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        economy.list_seller(self.address)
        return economy.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now, step = view.head.timestamp, economy.block_interval_s
        if self._to_forge:
            self._forge(view, economy)
        actions: list[TxIntent | None] = []
        for deal in economy.escrows_of(self.address):
            if deal.counterparty != self.address:
                continue
            if not deal.is_open:
                self.caught |= self._lost(deal)
                continue
            if deal.state == "Proposed" and now + step <= deal.accept_by:
                if deal.id not in self.plans:
                    self.plans[deal.id] = self._will_default(economy, deal)
                    self.taken += 1
                    self._price_out(economy, deal)
                if deal.id in self.priced_out:
                    continue  # left to expire: the buyer gets its escrow back
                actions.append(self._once(view, deal.id, economy.accept(deal.id)))
            elif (
                deal.state == "Accepted"
                and not self.plans.get(deal.id, False)
                and now - self.accepted_at.setdefault(deal.id, now) >= self.work_s
            ):
                deadline = deal.deliver_by + economy.grace_period
                if not deal.counterparty_confirmed and now + step <= deadline:
                    actions.append(self._once(view, deal.id, economy.deliver(deal.id)))
            elif deal.state == "Disputed" and self.plans.get(deal.id) and self.bribe > 0:
                bribe = economy.side_payment(deal.arbitrator, self.bribe, deal.id)
                actions.append(self._once(view, deal.id, bribe))
        return tuple(a for a in actions if a is not None)

    def _forge(self, view: AgentView, economy: Economy) -> None:
        """Publish fake credentials about itself until ``forge_credentials`` are out."""
        waiting = publish_forgeries(
            self._to_forge,
            self.account,
            board=economy.credentials,
            escrow=economy.escrow.address,
            serial=self.forged,
            chain_id=view.reader.chain_id,
            reputation=economy.reputation.address,
        )
        self.forged += len(self._to_forge) - len(waiting)
        self._to_forge = waiting

    def _price_out(self, economy: Economy, deal: Deal) -> None:
        """Decline ``deal`` if its margin is below ``min_margin``, and then leave the market."""
        if self.min_margin is None:
            return
        if not self.priced_out:  # once gone, it takes nothing more
            cost = 0 if self.plans[deal.id] else self.cost
            tax_bps = economy.governor.rules.tax_bps
            if seller_margin(deal.price, deal.counterparty_bond, cost, tax_bps) >= self.min_margin:
                return
            economy.sellers.remove(self.address)  # off the directory buyers choose from
        self.priced_out.append(deal.id)

    def _lost(self, deal: Deal) -> bool:
        if deal.state == "Ruled":
            return 2 * deal.to_proposer > deal.pot
        return deal.state == "TimedOut" and deal.slashed > 0 and not deal.counterparty_confirmed

    def _will_default(self, economy: Economy, deal: Deal) -> bool:
        if self.behaviour == "honest":
            return False
        if self.behaviour == "adversarial":
            return True
        if self.behaviour == "deceptive":
            return self.taken >= self.honest_deals
        if self.behaviour == "adaptive":
            return not self.caught
        if self.rng.random() >= self.temptation_prob:
            return False
        gain = int(self.rng.uniform(0, 2 * self.temptation))
        p_lose = self.believed_dispute_prob
        if economy.slash_on_timeout:
            p_lose = 1.0
        if gain > deal.counterparty_bond * p_lose:
            self.outside_gains[deal.id] = gain
            return True
        return False


class Arbitrator(_EscrowAgent):
    """Stakes at set-up to be eligible, then rules on the disputes it is named in.

    An honest arbitrator gives the buyer the whole pot when nothing was delivered and the
    seller price and bond otherwise. A corruptible one rules for the seller whenever that
    seller has paid it at least ``min_bribe`` in side payments not yet used up. It waits
    ``wait_blocks`` blocks after seeing a dispute before ruling (the window a side payment has).

    Args:
        stake: Currency bonded at set-up (0: stays ineligible when a stake is required).
        corruptible: Whether it sells rulings.
        min_bribe: Side payment that buys a ruling.
        wait_blocks: Blocks between seeing a dispute and ruling on it.
        min_fee: The lowest fee it agrees to be appointed for (asked under either escrow;
            ``ConsentEscrow`` checks the answer).
        attends: ``"all"``: rules on every dispute naming it; ``"agreed"``: only on agreements
            it agreed to arbitrate when asked (an arbitrator named without being asked does not
            know to watch, so under the plain ``Escrow`` a griefer can make it miss the window).
        **kwargs: Passed to ``Agent`` (and ``tip``).
    """

    def __init__(
        self,
        *args: Any,
        stake: int = 200 * TOKEN,
        corruptible: bool = False,
        min_bribe: int = TOKEN,
        wait_blocks: int = 1,
        min_fee: int = 0,
        attends: Literal["all", "agreed"] = "all",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if attends not in ("all", "agreed"):
            raise ValueError(f"attends must be 'all' or 'agreed', got {attends!r}")
        self.attends = attends
        self._agreed: set[tuple[str, Terms]] = set()
        if stake < 0 or min_bribe <= 0 or wait_blocks < 0 or min_fee < 0:
            raise ValueError("stake, wait_blocks and min_fee must be >= 0 and min_bribe > 0")
        self.min_fee = min_fee
        self.consents_given = 0
        """Appointments consented to (each with a fresh salt)."""
        self._escrow = ("", 0)  # (address, chain id) the consents are signed for
        self.stake_amount = stake
        self.corruptible = corruptible
        self.min_bribe = min_bribe
        self.wait_blocks = wait_blocks
        self.bribed_rulings = 0
        self._seen: dict[int, int] = {}
        self._bribes_used: dict[str, int] = {}

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        self._escrow = (economy.escrow.address, economy.chain.chain_id)
        economy.list_arbitrator(self.address, self.consent)
        if self.stake_amount == 0:
            return ()
        return (*economy.approvals(staking=True), economy.stake(self.stake_amount))

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        actions: list[TxIntent | None] = []
        for deal in economy.open_escrows_of(self.address):
            if deal.arbitrator != self.address or deal.state != "Disputed":
                continue
            if self.attends == "agreed" and (deal.proposer, terms_of(deal)) not in self._agreed:
                continue
            seen = self._seen.setdefault(deal.id, view.head.number)
            if view.head.number - seen < self.wait_blocks or view.head.timestamp >= deal.rule_by:
                continue
            if (deal.id, "rule") in self._acted:  # already ruled
                continue
            share = self.ruling(economy, deal)
            actions.append(self._once(view, deal.id, economy.rule(deal.id, share)))
        return tuple(a for a in actions if a is not None)

    def consent(self, proposer: str, terms: Terms) -> tuple[bytes, bytes] | None:
        """Sign consent to be appointed on ``terms`` if they pay at least ``min_fee``.

        Returns:
            ``(salt, signature)``, the salt counting this arbitrator's consents; None to refuse.
        """
        if terms.arbitrator != self.address or terms.fee < self.min_fee:
            return None
        self.consents_given += 1
        self._agreed.add((proposer, terms))
        salt = self.consents_given.to_bytes(32, "big")
        escrow, chain_id = self._escrow
        signature = sign_consent(
            self.account, proposer, terms, salt, chain_id=chain_id, escrow=escrow
        )
        return salt, signature

    def ruling(self, economy: Economy, deal: Deal) -> int:
        """The buyer's share of the pot this arbitrator awards."""
        for_seller = deal.counterparty_confirmed
        if self.corruptible and not for_seller:
            paid = economy.side_payments[(deal.counterparty, self.address)]
            unused = paid - self._bribes_used.get(deal.counterparty, 0)
            if unused >= self.min_bribe:
                self._bribes_used[deal.counterparty] = (
                    self._bribes_used.get(deal.counterparty, 0) + self.min_bribe
                )
                self.bribed_rulings += 1
                for_seller = True
        return deal.proposer_bond if for_seller else deal.pot
