"""An escrow seller whose choices come from a chat model with tool calling
(``kind = "llm_seller"`` in an economy scenario).

It is a ``seller`` (:class:`~agentbed.agents.economy.strategies.escrow.ServiceSeller`: listed at
set-up, the same delivery ``cost`` for welfare, the same reports) whose choices are the
model's: which proposals to accept (posting its bond) or decline, and whether to deliver an
accepted deal or default on it. Its ``behaviour`` in the reports is ``"llm"``; a deal it
defaulted on counts as a planned default, one it delivered as planned delivery.

The model is asked only when there is something to decide: a proposal addressed to it that can
still be accepted before ``acceptBy`` and that it has not declined, or an accepted deal it has
neither delivered nor defaulted on while a delivery can still be mined before the deadline plus
grace (and no earlier accept or delivery of it is waiting to be mined). Its view (canonical
JSON): the time, block, its currency balance, its delivery cost, its own on-chain record (raw
counts), those deals (buyer, arbitrator, state, price, bonds, seconds left to accept and to
deliver) and its recent transactions. Its tools are :mod:`agentbed.agents.llm.seller_tools`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from agentbed.agents.agent import TxIntent
from agentbed.agents.economy.strategies.escrow import RETRY_BLOCKS, Behaviour, ServiceSeller
from agentbed.agents.llm.cassette import canonical
from agentbed.agents.llm.conversation import ChatAgent
from agentbed.agents.llm.seller_tools import SELLER_TOOLS, SellerContext, run_seller_tool
from agentbed.agents.llm.view import tokens

if TYPE_CHECKING:
    from agentbed.agents.agent import Action, AgentView
    from agentbed.agents.economy.world import Deal, Economy

SYSTEM_PROMPT = (
    "You sell a service through a three-party escrow on an Ethereum-like chain. Each message "
    "is your view as JSON: the time, your currency balance, what delivering costs you, your "
    "on-chain record, the deals waiting for your decision and your recent transactions. "
    "Accepting a proposal posts your bond; delivering costs you `delivery_cost` and earns the "
    "price when the buyer confirms; a deal you do not deliver ends in a dispute or a timeout "
    "where your bond is at stake. Act only through the tools: accept, decline (a proposal), "
    "deliver, default (an accepted deal), or do_nothing."
)
RULE_PARAMS = (
    "behaviour",
    "bribe",
    "temptation_prob",
    "temptation",
    "believed_dispute_prob",
    "honest_deals",
    "work_s",
    "forge_credentials",
    "forgery",
    "min_margin",
)
"""``seller`` parameters that describe a rule-based behaviour: an ``llm_seller`` refuses them."""


class LLMSeller(ChatAgent, ServiceSeller):
    """A seller whose acceptances, deliveries and defaults are a chat model's (see the module
    docstring; the model settings are :class:`ChatAgent`'s, ``cost`` and ``tip``
    ``ServiceSeller``'s).

    Raises:
        ValueError: a rule-based behaviour's parameter (:data:`RULE_PARAMS`) is given.
    """

    tools = SELLER_TOOLS
    system_prompt = SYSTEM_PROMPT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = [key for key in RULE_PARAMS if key in kwargs]
        if given:
            raise ValueError(
                f"{given[0]} is not an llm_seller parameter (the model decides how it behaves)"
            )
        super().__init__(*args, **kwargs)
        # Reports show what decides; "llm" is no rule of BEHAVIOURS, so no rule ever runs.
        self.behaviour = cast("Behaviour", "llm")
        self.declined: set[int] = set()
        """Proposals the model declined (it is not asked about them again)."""

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        now = view.head.timestamp
        mine = [d for d in economy.escrows_of(self.address) if d.counterparty == self.address]
        for deal in mine:
            if not deal.is_open:
                self.caught |= self._lost(deal)
        waiting = [d for d in mine if self._waits(view, economy, d, now)]
        if not waiting:
            return ()
        context = SellerContext(
            view,
            self.address,
            economy.balance_of(view.reader, self.address),
            partial(self._in_flight, view.head.number),
            self.declined.add,
            self._default,
        )
        text = self._render(view, economy, waiting, context.balance)
        decisions = self.converse(view.now_ms, text, partial(run_seller_tool, ctx=context))
        actions: list[Action] = []
        for action in self.publish(decisions):
            if isinstance(action, TxIntent):
                deal_id = int(action.meta["escrow"])
                if action.label == "accept":
                    self.taken += 1
                elif action.label == "deliver":
                    self.plans[deal_id] = False
                sent = self._once(view, deal_id, action)
                if sent is not None:
                    actions.append(sent)
        return (*actions, *self.charge(str(economy.currency.address), self.tip))

    def _default(self, deal: int) -> None:
        self.plans[deal] = True

    def _in_flight(self, head: int, deal: int, step: str) -> bool:
        sent = self._acted.get((deal, step))
        return sent is not None and head - sent < RETRY_BLOCKS

    def _waits(self, view: AgentView, economy: Economy, deal: Deal, now: int) -> bool:
        """Whether ``deal`` waits for the model's decision (see the module docstring)."""
        step, head = economy.block_interval_s, view.head.number
        if deal.state == "Proposed":
            return (
                now + step <= deal.accept_by
                and deal.id not in self.declined
                and not self._in_flight(head, deal.id, "accept")
            )
        return (
            deal.state == "Accepted"
            and not deal.counterparty_confirmed
            and not self.plans.get(deal.id, False)
            and now + step <= deal.deliver_by + economy.grace_period
            and not self._in_flight(head, deal.id, "deliver")
        )

    def _render(
        self, view: AgentView, economy: Economy, waiting: Sequence[Deal], balance: int
    ) -> str:
        """The view as canonical JSON (see the module docstring)."""
        now = view.head.timestamp
        record = economy.record(view.reader, self.address)
        body = {
            "t_s": now,
            "block": view.head.number,
            "balance": tokens(balance),
            "delivery_cost": tokens(self.cost),
            "my_record": {
                "completed": record.completed,
                "defaulted": record.defaulted,
                "dispute_won": record.dispute_won,
                "dispute_lost": record.dispute_lost,
            },
            "deals": [
                {
                    "deal": d.id,
                    "buyer": d.proposer,
                    "arbitrator": d.arbitrator,
                    "state": d.state,
                    "price": tokens(d.price),
                    "my_bond": tokens(d.counterparty_bond),
                    "buyer_bond": tokens(d.proposer_bond),
                    "accept_in_s": d.accept_by - now,
                    "deadline_in_s": d.deliver_by + economy.grace_period - now,
                }
                for d in waiting
            ],
            "my_recent_txs": list(self.recent),
        }
        return canonical(body)
