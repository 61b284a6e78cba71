"""A market trader whose decisions come from a chat model with tool calling
(``kind = "llm_trader"``).

When it wakes, the trader reads its balances, renders its view as compact JSON (:mod:`.view`)
and has a conversation with its model (:class:`~agentbed.agents.llm.conversation.ChatAgent`)
whose tools are the market's (:mod:`.tools`: ``swap``, ``bundle``, ``do_nothing``; and
``intent`` when the market has an intent book: :mod:`.intent_tools`); the accepted calls are
its actions, followed by its compute payment in ``cost_token`` when ``token_cost`` is set. A
pending swap reaching it asks the model only with ``react_to_pending`` (each wake costs a
request); otherwise its schedule alone wakes it, and the view still shows the pending swaps it
has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import partial
from typing import Any

from agentbed.agents.agent import GWEI, Action, AgentView
from agentbed.agents.llm.conversation import ChatAgent, OffChain
from agentbed.agents.llm.intent_tools import (
    INTENT_TOOL,
    IntentContext,
    open_commitment,
    run_intent_tool,
)
from agentbed.agents.llm.tools import MARKET_TOOLS, ToolContext, run_tool
from agentbed.agents.llm.view import render_view
from agentbed.agents.market.intents import Intent
from agentbed.agents.market.strategies.common import token_balance

SYSTEM_PROMPT = (
    "You are a trading agent on an Ethereum-like chain with constant-product pools. Each "
    "message is your view as JSON: the time, block, base fee, your balances (whole tokens), "
    "each pool's reserves, price (pair[1] per pair[0]) and an external reference price, "
    "pending public swaps you can see, and your recent transactions. Act only through the "
    "tools: swap, bundle (private; after_tx backruns a pending tx), or do_nothing. Gas costs "
    "ETH; a swap reverts if its output falls below your slippage bound."
)
INTENT_PROMPT = (
    " This market also has an intent book: the intent tool signs a swap intent that solvers "
    "settle off the public mempool; `my_open_intents` lists yours not yet settled or expired."
)


class LLMTrader(ChatAgent):
    """Trades by asking a chat model (see the module docstring; the model settings, limits and
    compute cost are :class:`ChatAgent`'s).

    Args:
        cost_token: Symbol of the market token compute is paid in.
        tip_gwei: Tip of a call that names none.
        max_tip_gwei: Largest tip a call may name.
        max_reserve_fraction: Largest sale, as a fraction of the pool's reserve.
        max_pending: Most pending swaps shown in the view.
        watch_pending: Whether the view shows pending swaps (the agent watches the mempool).
        react_to_pending: Whether a pending swap reaching the agent asks the model too.
        **kwargs: Passed to ``ChatAgent`` and ``Agent``.
    """

    tools = MARKET_TOOLS
    system_prompt = SYSTEM_PROMPT

    def __init__(
        self,
        *args: Any,
        cost_token: str = "USDC",
        tip_gwei: float = 1.0,
        max_tip_gwei: float = 50.0,
        max_reserve_fraction: float = 0.05,
        max_pending: int = 8,
        watch_pending: bool = True,
        react_to_pending: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if max_pending < 0:
            raise ValueError(f"max_pending must be >= 0, got {max_pending}")
        if not 0 < max_reserve_fraction <= 1:
            raise ValueError(f"max_reserve_fraction must be in (0, 1], got {max_reserve_fraction}")
        if not 0 <= tip_gwei <= max_tip_gwei:
            raise ValueError(
                f"tip_gwei must be in [0, max_tip_gwei ({max_tip_gwei})], got {tip_gwei}"
            )
        self.cost_token = cost_token
        self.tip = int(Fraction(str(tip_gwei)) * GWEI)
        self.max_tip_gwei = max_tip_gwei
        self.max_reserve_fraction = max_reserve_fraction
        self.max_pending = max_pending
        self.wants_pending = watch_pending
        self.react_to_pending = react_to_pending
        self._cost_address: str | None = None
        self.intents: list[Intent] = []
        """Every intent the trader posted, in order (its index is its nonce)."""

    def setup(self, market: Any) -> Sequence[Action]:
        """Approvals for the pools (and the intent book, whose ``intent`` tool it then gets);
        checks that ``cost_token`` is one of the market's tokens."""
        board = getattr(market, "intent_board", None)
        if board is not None:
            self.tools = (*MARKET_TOOLS[:-1], INTENT_TOOL, MARKET_TOOLS[-1])
            self.system_prompt = SYSTEM_PROMPT + INTENT_PROMPT
        if self.token_cost > 0:
            if self.cost_token not in market.tokens:
                raise ValueError(
                    f"{self.name}: cost_token {self.cost_token!r} is not a market token "
                    f"({', '.join(sorted(market.tokens))})"
                )
            self._cost_address = market.tokens[self.cost_token]
        book = () if board is None else market.approvals([board.book])
        return (*market.approvals(), *book)

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason == "pending" and not self.react_to_pending:
            return ()
        balances = {
            symbol: token_balance(view.reader, address, self.address)
            for symbol, address in view.market.tokens.items()
        }
        eth = view.reader.balance(self.address)
        board = getattr(view.market, "intent_board", None)
        text = render_view(
            view,
            self.address,
            balances,
            eth,
            self.recent,
            max_pending=self.max_pending,
            board=board,
        )
        available = dict(balances)
        if board is not None:
            # What its open intents may still pull is not the trader's to spend again.
            for symbol, address in view.market.tokens.items():
                now = view.head.timestamp
                available[symbol] -= open_commitment(board, self.address, address, now)
        context = ToolContext(
            view,
            self.address,
            available,
            self.tip,
            self.max_tip_gwei,
            self.max_reserve_fraction,
        )
        if board is None:
            decisions = self.converse(view.now_ms, text, partial(run_tool, ctx=context))
        else:
            intents = IntentContext(board, self.account, len(self.intents), self.intents.append)

            def run(name: str, raw: object) -> Action | OffChain | None:
                if name == "intent":
                    return run_intent_tool(raw, context, intents)
                return run_tool(name, raw, context)

            decisions = self.converse(view.now_ms, text, run)
        return (*self.publish(decisions), *self.charge(self._cost_address, self.tip))
