"""An escrow buyer whose choices come from a chat model with tool calling
(``kind = "llm_buyer"`` in an economy scenario).

It is a ``buyer`` (:class:`~agentbed.agents.economy.strategies.escrow.ServiceBuyer`: the same
terms, value, reputation reading and reports) whose three choices are the model's: whom to
propose to (and with which arbitrator), whether to confirm a delivery, and whether to dispute.
The protocol's clocks stay rule-based, as anyone may call them: an unaccepted proposal past
``acceptBy`` is expired, a deal past its deadline and grace times out, a dispute past its ruling
window has its arbitrator timed out.

The model is asked only when there is something to choose: a delivered deal to confirm, an
accepted deal whose deadline (plus grace) comes within ``dispute_horizon_blocks`` blocks, or room
for a new deal on a wake the buyer's ``demand`` draw selects. Its view (canonical JSON): the
time, block, its currency balance, its terms (price, bonds, fee, value to it, in whole tokens),
the listed sellers with their trust (the buyer's reputation estimate), the eligible arbitrators
with their no-show counts, its open deals with their state and deadlines, and its recent
transactions. Its tools are :mod:`agentbed.agents.llm.escrow_tools`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from agentbed.agents.economy.consent import Terms
from agentbed.agents.economy.strategies.escrow import RETRY_BLOCKS, ServiceBuyer
from agentbed.agents.llm.cassette import canonical
from agentbed.agents.llm.conversation import ChatAgent
from agentbed.agents.llm.escrow_tools import ESCROW_TOOLS, EscrowContext, run_escrow_tool
from agentbed.agents.llm.view import tokens

if TYPE_CHECKING:
    from agentbed.agents.agent import Action, AgentView, TxIntent
    from agentbed.agents.economy.world import Deal, Economy

SYSTEM_PROMPT = (
    "You buy a service through a three-party escrow on an Ethereum-like chain. Each message is "
    "your view as JSON: the time, your currency balance and terms, the sellers with your trust "
    "in each (0-1), the eligible arbitrators, your open deals and recent transactions. A "
    "delivered service is worth `value` to you; you pay `price`. Act only through the tools: "
    "check_seller (its on-chain record and verified credentials; sends nothing), propose (to a "
    "seller, naming an arbitrator), confirm (a delivered deal), dispute (an accepted deal that "
    "was not delivered, before its deadline), or do_nothing."
)


class LLMBuyer(ChatAgent, ServiceBuyer):
    """A buyer whose proposals, confirmations and disputes are a chat model's (see the module
    docstring; the model settings are :class:`ChatAgent`'s, the terms ``ServiceBuyer``'s).

    Args:
        dispute_horizon_blocks: Ask the model about an undelivered deal once its deadline plus
            grace is this many blocks away.
        **kwargs: Passed to ``ChatAgent`` and ``ServiceBuyer``.
    """

    tools = ESCROW_TOOLS
    system_prompt = SYSTEM_PROMPT

    def __init__(self, *args: Any, dispute_horizon_blocks: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if dispute_horizon_blocks < 1:
            raise ValueError(f"dispute_horizon_blocks must be > 0, got {dispute_horizon_blocks}")
        self.dispute_horizon_blocks = dispute_horizon_blocks

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now, step = view.head.timestamp, economy.block_interval_s
        mine = [d for d in economy.open_escrows_of(self.address) if d.proposer == self.address]
        clocks = [a for d in mine if (a := self._clock(view, economy, d, now)) is not None]
        self._in_flight = [n for n in self._in_flight if view.head.number - n < 2 * RETRY_BLOCKS]
        room = self.max_open - len(mine) - len(self._in_flight)
        horizon = self.dispute_horizon_blocks * step
        pending = [
            d
            for d in mine
            if d.state == "Accepted"
            and not d.proposer_confirmed
            and (d.counterparty_confirmed or now + horizon > d.deliver_by + economy.grace_period)
        ]
        # The demand draw comes first, so the buyer's random stream does not depend on the model.
        wants_new = room > 0 and self.rng.random() < self.demand
        if not pending and not wants_new:
            return tuple(clocks)
        context = self._context(view, economy, now, room if wants_new else 0)
        text = self._render(view, economy, mine, context)
        actions = self.converse(view.now_ms, text, partial(run_escrow_tool, ctx=context))
        for action in actions:
            if action.label == "propose":
                self._in_flight.append(view.head.number)
        currency = str(economy.currency.address)
        return (*clocks, *self.publish(actions), *self.charge(currency, self.tip))

    def _clock(self, view: AgentView, economy: Economy, deal: Deal, now: int) -> TxIntent | None:
        """The deadline call a deal's clock asks for now, if any."""
        if deal.state == "Proposed" and now >= deal.accept_by:
            return self._once(view, deal.id, economy.expire(deal.id))
        if deal.state == "Disputed" and now >= deal.rule_by:
            return self._once(view, deal.id, economy.arbitrator_timeout(deal.id))
        if deal.state == "Accepted" and now >= deal.deliver_by + economy.grace_period:
            return self._once(view, deal.id, economy.timeout(deal.id))
        return None

    def _context(self, view: AgentView, economy: Economy, now: int, room: int) -> EscrowContext:
        accept_by = now + self.accept_window

        def terms(seller: str, arbitrator: str) -> Terms:
            return Terms(
                seller,
                arbitrator,
                self.price,
                self.bond,
                self.seller_bond,
                self.fee,
                accept_by,
                accept_by + self.deliver_window,
            )

        return EscrowContext(
            view,
            self.address,
            economy.balance_of(view.reader, self.address),
            room,
            self.price + self.bond + self.fee,
            terms,
            lambda a: economy.eligible(view.reader, a),
            self._min_stake,
        )

    def _render(
        self, view: AgentView, economy: Economy, mine: Sequence[Deal], context: EscrowContext
    ) -> str:
        """The view as canonical JSON (see the module docstring)."""
        sellers = [
            s for s in economy.sellers if s != self.address and s not in economy.governor.frozen
        ]
        trust = self._trust(view, economy, sellers, tally=False) if sellers else {}
        arbitrators = [a for a in economy.arbitrators if a != self.address and context.eligible(a)]
        body = {
            "t_s": view.head.timestamp,
            "block": view.head.number,
            "balance": tokens(context.balance),
            "can_propose": context.room > 0,
            "terms": {
                "price": tokens(self.price),
                "value": tokens(self.value),
                "my_bond": tokens(self.bond),
                "seller_bond": tokens(self.seller_bond),
                "fee": tokens(self.fee),
                "accept_window_s": self.accept_window,
                "deliver_window_s": self.deliver_window,
            },
            "sellers": [{"address": s, "trust": round(trust[s], 4)} for s in sellers],
            "arbitrators": [
                {"address": a, "no_shows": economy.no_shows(view.reader, a)} for a in arbitrators
            ],
            "my_deals": [
                {
                    "deal": d.id,
                    "seller": d.counterparty,
                    "state": d.state,
                    "delivered": d.counterparty_confirmed,
                    "confirmed": d.proposer_confirmed,
                    "deadline_in_s": d.deliver_by + economy.grace_period - view.head.timestamp,
                }
                for d in mine
            ],
            "my_recent_txs": list(self.recent),
        }
        return canonical(body)
