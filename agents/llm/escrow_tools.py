"""The escrow tools a language-model buyer may call, and the checks every call passes.

Five tools (OpenAI function-calling schemas in :data:`ESCROW_TOOLS`):

* ``check_seller(seller)``: a seller's credentials, answered from chain reads (no
  transaction): its track record in the ``Reputation`` registry (valid attestations of
  completed, defaulted, dispute-won and dispute-lost deals, counted as the buyer reads them:
  distinct counterparties of deals with at least its price at stake, or raw counts) and the
  "service.delivered" credentials it shows on the economy's board, each checked with
  ``verify_attestation`` (valid, or why not: wrong subject, wrong signer, unregistered issuer,
  revoked, expired); the model reads the answer and is asked again;
* ``propose(seller, arbitrator)``: a new escrow with a listed seller on the buyer's own terms
  (price, bonds, fee and windows are the agent's parameters, as a ``buyer``'s);
* ``confirm(deal)``: confirm a delivered deal, releasing the price to the seller;
* ``dispute(deal)``: dispute an accepted deal before its deadline (and grace) ends;
* ``do_nothing(reason?)``.

A call is refused with a :class:`~agentbed.agents.llm.conversation.ToolError` saying why when
its arguments are not a JSON object of the tool's keys; the seller (of ``propose`` or
``check_seller``) is not a listed seller other than the buyer (or is frozen by the governor);
the arbitrator is not eligible (staked), or is a party; the buyer lacks ``price + bond + fee``
of currency (less what this wake's proposals committed) or has no room for another open deal
(``max_open``); the deal is not one of the buyer's own open deals, or is not in a state the
step needs (``confirm``: accepted and delivered; ``dispute``: accepted, not delivered, before
the deadline plus grace); the arbitrator refuses to consent to the terms.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import TxIntent
from agentbed.agents.economy.credentials import SERVICE_DELIVERED
from agentbed.agents.llm.cassette import canonical
from agentbed.agents.llm.conversation import Lookup, ToolError
from agentbed.agents.llm.tools import parse_arguments

if TYPE_CHECKING:
    from agentbed.agents.agent import AgentView
    from agentbed.agents.economy.consent import Terms
    from agentbed.agents.economy.world import Deal, Economy


def function_schema(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI function-calling tool schema; every property but ``reason`` is required."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": [k for k in properties if k != "reason"],
                "additionalProperties": False,
            },
        },
    }


_DEAL = {"deal": {"type": "integer", "minimum": 0, "description": "Deal id from the view."}}
ESCROW_TOOLS: tuple[dict[str, Any], ...] = (
    function_schema(
        "check_seller",
        "Check a seller's credentials on chain before dealing with it: its reputation record "
        "and the delivery credentials it shows, each verified. Sends nothing.",
        {"seller": {"type": "string", "description": "A seller's address from the view."}},
    ),
    function_schema(
        "propose",
        "Propose an escrow to a seller on your terms, naming an eligible arbitrator.",
        {
            "seller": {"type": "string", "description": "A seller's address from the view."},
            "arbitrator": {"type": "string", "description": "An arbitrator's address."},
        },
    ),
    function_schema("confirm", "Confirm a delivered deal: the seller is paid.", _DEAL),
    function_schema("dispute", "Dispute an accepted deal that was not delivered.", _DEAL),
    function_schema("do_nothing", "Do nothing this time.", {"reason": {"type": "string"}}),
)
"""The escrow tools' schemas, as a chat-completions request's ``tools``."""
ESCROW_TOOL_NAMES = tuple(t["function"]["name"] for t in ESCROW_TOOLS)


@dataclass(slots=True)
class EscrowContext:
    """What checking one wake's escrow calls needs.

    Attributes:
        view: The buyer's view this wake.
        owner: The buyer's address.
        balance: The buyer's currency (wei), less this wake's proposals.
        room: How many more deals the buyer may open now.
        cost: What a proposal locks: price, bond and fee (wei).
        terms: The buyer's terms with a seller and an arbitrator.
        eligible: Whether an address is an eligible arbitrator.
        min_stake: What a deal must have had at stake to count in a seller's record as the
            buyer reads it (None: raw counts).
    """

    view: AgentView
    owner: str
    balance: int
    room: int
    cost: int
    terms: Callable[[str, str], Terms]
    eligible: Callable[[str], bool]
    min_stake: int | None = None

    @property
    def economy(self) -> Economy:
        """The study's world."""
        economy: Economy = self.view.market
        return economy


def check_keys(args: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse keys not in ``allowed`` and missing ones (all but ``reason`` are required)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ToolError(f"unknown argument(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    missing = [k for k in allowed if k != "reason" and k not in args]
    if missing:
        raise ToolError(f"missing argument(s) {', '.join(missing)}")


def _own_deal(args: Mapping[str, Any], ctx: EscrowContext) -> Deal:
    deal_id = args["deal"]
    if isinstance(deal_id, bool) or not isinstance(deal_id, int):
        raise ToolError(f"deal must be an integer id, got {json.dumps(deal_id)}")
    deal = ctx.economy.deals.get(deal_id)
    if deal is None or deal.proposer != ctx.owner or not deal.is_open:
        raise ToolError(f"deal {deal_id} is not one of your open deals")
    return deal


def _seller(args: Mapping[str, Any], ctx: EscrowContext) -> str:
    economy, seller = ctx.economy, args["seller"]
    frozen = economy.governor.frozen
    if not isinstance(seller, str) or seller not in economy.sellers:
        raise ToolError(f"seller {json.dumps(seller)} is not a listed seller you may deal with")
    if seller == ctx.owner or seller in frozen:
        raise ToolError(f"seller {json.dumps(seller)} is not a listed seller you may deal with")
    return str(seller)


def check_seller(seller: str, ctx: EscrowContext) -> dict[str, Any]:
    """What ``check_seller`` answers about a listed ``seller``, read at the view's head."""
    economy, reader = ctx.economy, ctx.view.reader
    record = economy.record(reader, seller, min_stake=ctx.min_stake)
    shown = [c for c in economy.credentials.shown_by(seller) if c[0].schema == SERVICE_DELIVERED]
    verdicts: dict[str, int] = {}
    for credential in shown:
        # A credential about someone else proves nothing about this seller, however signed.
        if credential[0].subject != seller:
            reason = "wrong subject"
        else:
            reason = economy.verdicts.reason(reader, credential)
        verdicts[reason] = verdicts.get(reason, 0) + 1
    return {
        "seller": seller,
        "record": {
            "completed": record.completed,
            "defaulted": record.defaulted,
            "dispute_won": record.dispute_won,
            "dispute_lost": record.dispute_lost,
            "counted": "raw" if ctx.min_stake is None else "distinct counterparties",
        },
        "credentials": {
            "shown": len(shown),
            "valid": verdicts.pop("ok", 0),
            "invalid": dict(sorted(verdicts.items())),
        },
    }


def _propose(args: Mapping[str, Any], ctx: EscrowContext) -> TxIntent:
    economy = ctx.economy
    seller, arbitrator = _seller(args, ctx), args["arbitrator"]
    if arbitrator in (ctx.owner, seller) or arbitrator not in economy.arbitrators:
        raise ToolError(f"arbitrator {json.dumps(arbitrator)} is not a listed third party")
    if not ctx.eligible(arbitrator):
        raise ToolError(f"arbitrator {arbitrator} lacks the stake the escrow requires")
    if ctx.room <= 0:
        raise ToolError("you have no room for another open deal")
    if ctx.cost > ctx.balance:
        raise ToolError(f"a proposal locks {ctx.cost} wei; you have {ctx.balance}")
    proposal = economy.propose(ctx.owner, ctx.terms(seller, arbitrator))
    if proposal is None:
        raise ToolError(f"arbitrator {arbitrator} did not consent to these terms")
    ctx.balance -= ctx.cost
    ctx.room -= 1
    return proposal


def run_escrow_tool(
    name: str, raw_arguments: object, ctx: EscrowContext
) -> TxIntent | Lookup | None:
    """The action of one escrow tool call (None for ``do_nothing``; a ``Lookup`` for
    ``check_seller``).

    Raises:
        ToolError: an unknown tool or arguments that fail a check (nothing is committed then).
    """
    args = parse_arguments(raw_arguments)
    if name == "do_nothing":
        check_keys(args, ("reason",))
        return None
    if name == "propose":
        check_keys(args, ("seller", "arbitrator"))
        return _propose(args, ctx)
    if name == "check_seller":
        check_keys(args, ("seller",))
        return Lookup("ok: " + canonical(check_seller(_seller(args, ctx), ctx)))
    if name not in ("confirm", "dispute"):
        raise ToolError(f"unknown tool {json.dumps(name)}; tools: {', '.join(ESCROW_TOOL_NAMES)}")
    check_keys(args, ("deal",))
    deal = _own_deal(args, ctx)
    if deal.state != "Accepted":
        raise ToolError(f"deal {deal.id} is {deal.state}, not Accepted")
    economy = ctx.economy
    if name == "confirm":
        if not deal.counterparty_confirmed:
            raise ToolError(f"deal {deal.id} has not been delivered yet")
        if deal.proposer_confirmed:
            raise ToolError(f"you already confirmed deal {deal.id}")
        return economy.confirm(deal.id)
    if deal.counterparty_confirmed:
        raise ToolError(f"deal {deal.id} was delivered: confirm it instead")
    if ctx.view.head.timestamp >= deal.deliver_by + economy.grace_period:
        raise ToolError(f"deal {deal.id} is past its deadline: it can only time out")
    return economy.dispute(deal.id)
