"""The escrow tools a language-model seller may call, and the checks every call passes.

Five tools (OpenAI function-calling schemas in :data:`SELLER_TOOLS`):

* ``accept(deal)``: accept a proposal addressed to the seller, posting the seller's bond;
* ``decline(deal, reason?)``: leave a proposal unaccepted (the escrow has no refusal call: the
  proposal expires at ``acceptBy`` and the buyer gets its money back); the seller is not asked
  about it again;
* ``deliver(deal)``: deliver an accepted deal (the seller's confirmation is the protocol's
  record of delivery; the buyer then confirms and the price is released);
* ``default(deal, reason?)``: decide not to deliver an accepted deal; it is not asked about it
  again, and the deal ends in a dispute or a timeout, where its bond is at stake;
* ``do_nothing(reason?)``.

A call is refused with a :class:`~agentbed.agents.llm.conversation.ToolError` saying why when
its arguments are not a JSON object of the tool's keys; the deal is not an integer id of an
open deal addressed to the seller; the deal is not in the state the step needs (``accept`` and
``decline``: Proposed; ``deliver`` and ``default``: Accepted and not delivered); the seller
already decided on the deal in this wake, or its earlier accept or delivery is not mined yet;
``accept`` comes too late for the next block to be before ``acceptBy``, or the seller lacks the
bond (less what this wake's acceptances committed); ``deliver`` comes too late for the next
block to be before the deadline plus grace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import TxIntent
from agentbed.agents.llm.conversation import OffChain, ToolError
from agentbed.agents.llm.escrow_tools import check_keys, function_schema
from agentbed.agents.llm.tools import parse_arguments

if TYPE_CHECKING:
    from agentbed.agents.agent import AgentView
    from agentbed.agents.economy.world import Deal, Economy

_DEAL = {"deal": {"type": "integer", "minimum": 0, "description": "Deal id from the view."}}
_WHY = {"reason": {"type": "string"}}
SELLER_TOOLS: tuple[dict[str, Any], ...] = (
    function_schema("accept", "Accept a proposal addressed to you; your bond is posted.", _DEAL),
    function_schema(
        "decline",
        "Leave a proposal unaccepted: it expires and the buyer is refunded.",
        _DEAL | _WHY,
    ),
    function_schema("deliver", "Deliver an accepted deal; the buyer then pays.", _DEAL),
    function_schema(
        "default",
        "Decide not to deliver an accepted deal (your bond is at stake in a dispute or timeout).",
        _DEAL | _WHY,
    ),
    function_schema("do_nothing", "Do nothing this time.", _WHY),
)
"""The seller tools' schemas, as a chat-completions request's ``tools``."""
SELLER_TOOL_NAMES = tuple(t["function"]["name"] for t in SELLER_TOOLS)


@dataclass(slots=True)
class SellerContext:
    """What checking one wake's seller calls needs.

    Attributes:
        view: The seller's view this wake.
        owner: The seller's address.
        balance: Its currency (wei), less the bonds of this wake's acceptances.
        in_flight: Whether a step (deal id, ``"accept"`` or ``"deliver"``) was sent recently
            and is not mined yet.
        on_decline: Remembers a declined proposal (applied when the wake succeeds).
        on_default: Remembers a decision not to deliver (applied when the wake succeeds).
        decided: Deals decided on in this wake.
    """

    view: AgentView
    owner: str
    balance: int
    in_flight: Callable[[int, str], bool]
    on_decline: Callable[[int], None]
    on_default: Callable[[int], None]
    decided: set[int] = field(default_factory=set)

    @property
    def economy(self) -> Economy:
        """The study's world."""
        economy: Economy = self.view.market
        return economy


def _deal(args: Mapping[str, Any], ctx: SellerContext, state: str) -> Deal:
    """The seller's open deal the call names, in ``state``, not decided on yet this wake."""
    deal_id = args["deal"]
    if isinstance(deal_id, bool) or not isinstance(deal_id, int):
        raise ToolError(f"deal must be an integer id, got {json.dumps(deal_id)}")
    deal = ctx.economy.deals.get(deal_id)
    if deal is None or deal.counterparty != ctx.owner or not deal.is_open:
        raise ToolError(f"deal {deal_id} is not an open deal addressed to you")
    if deal.state != state:
        raise ToolError(f"deal {deal_id} is {deal.state}, not {state}")
    if deal_id in ctx.decided:
        raise ToolError(f"you already decided on deal {deal_id} in this turn")
    return deal


def _accept(deal: Deal, ctx: SellerContext) -> TxIntent:
    economy, now = ctx.economy, ctx.view.head.timestamp
    if ctx.in_flight(deal.id, "accept"):
        raise ToolError(f"your acceptance of deal {deal.id} is not mined yet")
    if now + economy.block_interval_s > deal.accept_by:
        raise ToolError(f"deal {deal.id} can no longer be accepted in time (acceptBy has passed)")
    if deal.counterparty_bond > ctx.balance:
        raise ToolError(
            f"accepting deal {deal.id} posts a bond of {deal.counterparty_bond} wei; "
            f"you have {ctx.balance}"
        )
    ctx.balance -= deal.counterparty_bond
    return economy.accept(deal.id)


def _deliver(deal: Deal, ctx: SellerContext) -> TxIntent:
    economy, now = ctx.economy, ctx.view.head.timestamp
    if ctx.in_flight(deal.id, "deliver"):
        raise ToolError(f"your delivery of deal {deal.id} is not mined yet")
    if now + economy.block_interval_s > deal.deliver_by + economy.grace_period:
        raise ToolError(f"deal {deal.id} is past its deadline: it can only time out")
    return economy.deliver(deal.id)


def run_seller_tool(
    name: str, raw_arguments: object, ctx: SellerContext
) -> TxIntent | OffChain | None:
    """The decision of one seller tool call (None for ``do_nothing``).

    Raises:
        ToolError: an unknown tool or arguments that fail a check (nothing is committed then).
    """
    args = parse_arguments(raw_arguments)
    if name == "do_nothing":
        check_keys(args, ("reason",))
        return None
    if name not in SELLER_TOOL_NAMES:
        raise ToolError(f"unknown tool {json.dumps(name)}; tools: {', '.join(SELLER_TOOL_NAMES)}")
    optional = ("reason",) if name in ("decline", "default") else ()
    check_keys(args, ("deal", *optional))
    decision: TxIntent | OffChain
    if name in ("accept", "decline"):
        deal = _deal(args, ctx, "Proposed")
        if name == "accept":
            decision = _accept(deal, ctx)
        else:
            decision = OffChain("decline", lambda: ctx.on_decline(deal.id))
    else:
        deal = _deal(args, ctx, "Accepted")
        if deal.counterparty_confirmed:
            raise ToolError(f"deal {deal.id} is already delivered")
        if name == "deliver":
            decision = _deliver(deal, ctx)
        else:
            decision = OffChain("default", lambda: ctx.on_default(deal.id))
    ctx.decided.add(deal.id)
    return decision
