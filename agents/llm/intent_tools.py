"""The intent tool a language-model trader may call when its market has an intent book.

``intent(pool, sell, amount, max_slippage_bps?, horizon_s?, conditional?)`` signs a swap intent
(``agentbed.agents.market.intents``: sell exactly ``amount`` of ``sell`` for at least the
quote at the last block's reserves less ``max_slippage_bps``, valid for ``horizon_s`` seconds
after the head block, executed only next to a crossing reverse intent when ``conditional``)
and posts it to the market's off-chain intent board, where the solvers settle it through the
``IntentBook``, as an ``intent_maker``'s intents are. Posting sends no transaction (the solver
pays the gas); it happens only when the wake succeeds
(:class:`~agentbed.agents.llm.conversation.OffChain`).

A call is refused with a :class:`~agentbed.agents.llm.conversation.ToolError` saying why when
its arguments are not a JSON object of the tool's keys; the pool or token is not the market's;
the amount is not above zero, exceeds the agent's balance less what this wake's calls and its
open intents on the board already commit, or exceeds ``max_reserve_fraction`` of the pool's
reserve; the slippage is outside ``[0, MAX_SLIPPAGE_BPS]``; ``horizon_s`` is not an integer in
``[1, MAX_HORIZON_S]``; ``conditional`` is not a boolean; the limit rounds to zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbed.agents.llm.conversation import OffChain, ToolError
from agentbed.agents.llm.tools import (
    BPS,
    DEFAULT_SLIPPAGE_BPS,
    MAX_SLIPPAGE_BPS,
    SWAP_PROPERTIES,
    ToolContext,
    check_reserve_cap,
    checked_sale,
    integer_arg,
    parse_arguments,
    require_keys,
    tool_schema,
)
from agentbed.agents.llm.view import tokens
from agentbed.agents.market.intents import Condition, Intent, sign_intent

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.market.world import IntentBoard, Market

MAX_HORIZON_S = 600
"""The longest validity an intent may have (seconds after the head block)."""
DEFAULT_HORIZON_S = 60

INTENT_TOOL: dict[str, Any] = tool_schema(
    "intent",
    "Sign a swap intent and post it to the off-chain intent book, where solvers settle it in "
    "a batch (no transaction from you, invisible to the public mempool until settled).",
    {
        **SWAP_PROPERTIES,
        "horizon_s": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_HORIZON_S,
            "description": f"Seconds the intent stays valid (default {DEFAULT_HORIZON_S}).",
        },
        "conditional": {
            "type": "boolean",
            "description": "Execute only next to a crossing reverse intent (default false).",
        },
    },
    ["pool", "sell", "amount"],
)
"""The intent tool's schema (offered only when the market has an intent book)."""
_KEYS = ("pool", "sell", "amount", "max_slippage_bps", "horizon_s", "conditional")


@dataclass(slots=True)
class IntentContext:
    """What checking and posting one wake's intents needs.

    Attributes:
        board: The market's intent board.
        account: The agent's key (it signs the intents).
        nonce: The next intent's nonce (the count the agent posted, plus this wake's).
        posted: Called with each intent after posting it (the agent keeps them).
    """

    board: IntentBoard
    account: LocalAccount
    nonce: int
    posted: Callable[[Intent], None]


def open_commitment(board: IntentBoard, owner: str, token: str, now: int) -> int:
    """What ``owner``'s open intents on the board sell of ``token`` (wei)."""
    return sum(
        p.intent.sell_amount
        for p in board.open(now)
        if p.intent.maker == owner and p.intent.sell_token == token
    )


def run_intent_tool(raw_arguments: object, ctx: ToolContext, intents: IntentContext) -> OffChain:
    """The posting of one checked ``intent`` call; commits its amount against the balances.

    Raises:
        ToolError: arguments that fail a check (nothing is committed then).
    """
    args = parse_arguments(raw_arguments)
    require_keys(args, _KEYS, ("pool", "sell", "amount"))
    market: Market = ctx.view.market
    pool, sell, token_in, amount = checked_sale(args, market)
    now = ctx.view.head.timestamp
    # The balances already leave out what the trader's open intents may pull.
    held = ctx.balances.get(sell, 0)
    if amount > held:
        raise ToolError(
            f"amount {tokens(amount)} {sell} exceeds your balance less your open intents "
            f"({tokens(max(held, 0))})"
        )
    check_reserve_cap(ctx, market, pool, token_in, amount)
    slippage = integer_arg(args, "max_slippage_bps", DEFAULT_SLIPPAGE_BPS, 0, MAX_SLIPPAGE_BPS)
    horizon = integer_arg(args, "horizon_s", DEFAULT_HORIZON_S, 1, MAX_HORIZON_S)
    conditional = args.get("conditional", False)
    if not isinstance(conditional, bool):
        raise ToolError(f"conditional must be true or false, got {json.dumps(conditional)}")
    min_out = market.quote(pool, token_in, amount) * (BPS - slippage) // BPS
    if min_out <= 0:
        raise ToolError(f"amount {tokens(amount)} {sell} is too small: it buys nothing")
    intent = Intent(
        maker=ctx.owner,
        sell_token=token_in,
        buy_token=pool.other(token_in),
        sell_amount=amount,
        min_buy_amount=min_out,
        deadline=now + horizon,
        nonce=intents.nonce,
        condition=Condition.counter_intent() if conditional else Condition.none(),
    )
    board = intents.board
    signature = sign_intent(
        intents.account, intent, chain_id=board.chain_id, verifying_contract=board.book
    )
    ctx.balances[sell] = ctx.balances.get(sell, 0) - amount
    intents.nonce += 1
    now_ms = ctx.view.now_ms

    def post() -> None:
        board.post(intent, signature, now_ms=now_ms)
        intents.posted(intent)

    return OffChain("intent", post)
