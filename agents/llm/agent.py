"""A trader whose decisions come from a chat model with tool calling (``kind = "llm_trader"``).

When it wakes, the agent renders its view as compact JSON (:mod:`.view`), sends it with the
market tools (:mod:`.tools`) to a chat-completions backend (:mod:`.backends`: an
OpenAI-compatible HTTP endpoint, or the in-process :mod:`.scripted` responder), checks every
tool call, and returns the accepted calls as actions. A refused call is answered with a tool
result saying what was wrong, and the model gets another round (at most ``max_rounds`` per
wake); at most ``max_tool_calls`` calls are accepted per wake. A backend failure (timeout, HTTP
error, malformed response) ends the wake with no action, and is counted and logged in the
agent's ``events``. Every exchange can be recorded to, or replayed from, a cassette
(:mod:`.cassette`; ``mode``).

Tokens (the responses' ``usage``) are counted per agent; with ``token_cost`` > 0 the agent pays
``token_cost`` whole ``cost_token`` per 1,000 tokens to ``compute_sink`` with a real ERC-20
transfer at the end of each wake (label ``"compute"``), so the run's books still close.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent
from agentbed.agents.llm.backends import ChatBackend, ChatUnavailable
from agentbed.agents.llm.settings import ChatSettings
from agentbed.agents.llm.tools import MARKET_TOOLS, ToolContext, ToolError, run_tool
from agentbed.agents.llm.view import UNIT, render_view
from agentbed.agents.market.strategies.common import token_balance

if TYPE_CHECKING:
    from agentbed.chain.types import Receipt

COMPUTE_SINK = "0x00000000000000000000000000000000C0FFEE00"
"""Default recipient of compute payments: an address no key controls."""
MAX_EVENTS = 100
"""Events kept per agent for ``summary.json`` (the counts cover them all)."""
TRANSFER_GAS = 60_000
_TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
SYSTEM_PROMPT = (
    "You are a trading agent on an Ethereum-like chain with constant-product pools. Each "
    "message is your view as JSON: the time, block, base fee, your balances (whole tokens), "
    "each pool's reserves, price (pair[1] per pair[0]) and an external reference price, "
    "pending public swaps you can see, and your recent transactions. Act only through the "
    "tools: swap, bundle (private; after_tx backruns a pending tx), or do_nothing. Gas costs "
    "ETH; a swap reverts if its output falls below your slippage bound."
)


class LLMTrader(Agent):
    """Trades by asking a chat model (see the module docstring).

    Args:
        backend: ``"scripted"`` (in-process, offline) or ``"http"`` (``base_url``).
        base_url: The OpenAI-compatible API root, e.g. ``http://127.0.0.1:8080/v1``.
        model: The model name sent with every request.
        api_key_env: Environment variable holding the API key (empty: no authentication).
        temperature: Sampling temperature (0: as deterministic as the server allows).
        max_tokens: Completion token limit per request.
        timeout_s: Seconds to wait for one response.
        max_tool_calls: Most tool calls accepted per wake.
        max_rounds: Most requests per wake (a refused call costs a round).
        mode: ``"live"`` (no cassette), ``"record"`` or ``"replay"``.
        cassette_dir: Directory of the cassettes, one ``<agent name>.jsonl`` per agent
            (required to record or replay).
        token_cost: Whole ``cost_token`` paid per 1,000 tokens (0: nothing is charged).
        cost_token: Symbol of the token compute is paid in.
        compute_sink: Address compute payments go to.
        tip_gwei: Tip of a call that names none.
        max_tip_gwei: Largest tip a call may name.
        max_reserve_fraction: Largest sale, as a fraction of the pool's reserve.
        max_pending: Most pending swaps shown in the view.
        watch_pending: Whether the view shows pending swaps (the agent watches the mempool).
        react_to_pending: Whether a pending swap reaching the agent wakes the model too
            (otherwise only its schedule does).
        **kwargs: Passed to ``Agent``.
    """

    def __init__(
        self,
        *args: Any,
        backend: str = "scripted",
        base_url: str = "",
        model: str = "scripted",
        api_key_env: str = "",
        temperature: float = 0.0,
        max_tokens: int = 256,
        timeout_s: float = 30.0,
        max_tool_calls: int = 2,
        max_rounds: int = 2,
        mode: str = "live",
        cassette_dir: str = "",
        token_cost: float = 0.0,
        cost_token: str = "USDC",
        compute_sink: str = COMPUTE_SINK,
        tip_gwei: float = 1.0,
        max_tip_gwei: float = 50.0,
        max_reserve_fraction: float = 0.05,
        max_pending: int = 8,
        watch_pending: bool = True,
        react_to_pending: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.settings = ChatSettings(
            backend,
            base_url,
            model,
            api_key_env,
            temperature,
            max_tokens,
            timeout_s,
            mode,
            cassette_dir,
        )
        for name, value in (("max_tool_calls", max_tool_calls), ("max_rounds", max_rounds)):
            if value < 1:
                raise ValueError(f"{name} must be > 0, got {value}")
        for name, number in (("token_cost", token_cost), ("max_pending", max_pending)):
            if number < 0:
                raise ValueError(f"{name} must be >= 0, got {number}")
        if not 0 < max_reserve_fraction <= 1:
            raise ValueError(f"max_reserve_fraction must be in (0, 1], got {max_reserve_fraction}")
        if not 0 <= tip_gwei <= max_tip_gwei:
            raise ValueError(
                f"tip_gwei must be in [0, max_tip_gwei ({max_tip_gwei})], got {tip_gwei}"
            )
        self.max_tool_calls = max_tool_calls
        self.max_rounds = max_rounds
        self.token_cost = Fraction(str(token_cost))
        self.cost_token = cost_token
        self.compute_sink = compute_sink
        self.tip = int(Fraction(str(tip_gwei)) * GWEI)
        self.max_tip_gwei = max_tip_gwei
        self.max_reserve_fraction = max_reserve_fraction
        self.max_pending = max_pending
        self.wants_pending = watch_pending
        self.react_to_pending = react_to_pending
        # A per-agent sampling seed for servers that honour it; drawn once from the agent's
        # own stream, so it is part of the request a cassette keys on.
        self.request_seed = self.rng.getrandbits(31)
        self._backend: ChatBackend | None = None
        self._cost_address: str | None = None
        self._recent: list[dict[str, Any]] = []
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self.counts = {
            "wakes": 0,
            "requests": 0,
            "tool_calls": 0,
            "accepted_calls": 0,
            "refused_calls": 0,
            "failures": 0,
            "actions": 0,
            "compute_payments_failed": 0,
        }
        self.compute_charged_wei = 0
        self.events: list[dict[str, Any]] = []
        self.summary_section = "llm"

    # -- the backend --------------------------------------------------------------------------

    def backend(self) -> ChatBackend:
        """The backend, built at the first request (so a scenario check builds nothing)."""
        if self._backend is None:
            self._backend = self.settings.open(self.name)
        return self._backend

    # -- the simulation's hooks ---------------------------------------------------------------

    def setup(self, market: Any) -> Sequence[Action]:
        """Approvals for the pools; checks that ``cost_token`` is one of the market's tokens."""
        if self.token_cost > 0:
            if self.cost_token not in market.tokens:
                raise ValueError(
                    f"{self.name}: cost_token {self.cost_token!r} is not a market token "
                    f"({', '.join(sorted(market.tokens))})"
                )
            self._cost_address = market.tokens[self.cost_token]
        return tuple(market.approvals())

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason == "pending" and not self.react_to_pending:
            return ()
        self.counts["wakes"] += 1
        balances = {
            symbol: token_balance(view.reader, address, self.address)
            for symbol, address in view.market.tokens.items()
        }
        text = render_view(
            view,
            balances,
            view.reader.balance(self.address),
            self._recent,
            max_pending=self.max_pending,
        )
        context = ToolContext(
            view,
            self.address,
            dict(balances),
            self.tip,
            self.max_tip_gwei,
            self.max_reserve_fraction,
        )
        actions = self._converse(view.now_ms, text, context)
        self.counts["actions"] += len(actions)
        return (*actions, *self._compute_payment())

    def on_receipt(self, receipt: Receipt, label: str) -> None:
        if label == "compute" and receipt.status != 1:
            self.counts["compute_payments_failed"] += 1
        self._recent = [
            *self._recent[-4:],
            {"block": receipt.block_number, "label": label, "ok": receipt.status == 1},
        ]

    # -- one wake's conversation --------------------------------------------------------------

    def _request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "messages": messages,
            "tools": list(MARKET_TOOLS),
            "tool_choice": "auto",
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "seed": self.request_seed,
        }

    def _converse(self, now_ms: int, text: str, context: ToolContext) -> list[Action]:
        """Ask, check the calls, answer refusals, for at most ``max_rounds`` requests."""
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": text},
        ]
        actions: list[Action] = []
        for _ in range(self.max_rounds):
            self.counts["requests"] += 1
            try:
                response = self.backend().complete(self._request(messages))
            except ChatUnavailable as err:
                self.counts["failures"] += 1
                self._log(now_ms, err.kind, err.detail)
                return []  # a failed wake does nothing, whatever earlier rounds accepted
            self._count_usage(response)
            message = response["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            if not isinstance(calls, list) or not calls:
                return actions  # an answer without tool calls: nothing more to do
            messages.append(
                {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
            )
            refused, done = self._answer_calls(now_ms, calls, context, actions, messages)
            if done or not refused:
                return actions
        return actions

    def _answer_calls(
        self,
        now_ms: int,
        calls: list[Any],
        context: ToolContext,
        actions: list[Action],
        messages: list[dict[str, Any]],
    ) -> tuple[bool, bool]:
        """Run each call into ``actions``, a tool result for each into ``messages``; whether
        any was refused, and whether the model ended the wake (``do_nothing`` or the limit)."""
        refused = done = False
        for index, call in enumerate(calls):
            self.counts["tool_calls"] += 1
            call_id = f"call_{index}"
            try:
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    raise ToolError("a tool call must have a function with a name and arguments")
                call_id = str(call.get("id") or call_id)
                function = call["function"]
                if len(actions) >= self.max_tool_calls:
                    done = True
                    raise ToolError(f"limit of {self.max_tool_calls} actions per wake reached")
                action = run_tool(str(function.get("name")), function.get("arguments"), context)
            except ToolError as err:
                refused = True
                self.counts["refused_calls"] += 1
                self._log(now_ms, "refused_call", str(err))
                result = f"error: {err}"
            else:
                self.counts["accepted_calls"] += 1
                if action is None:
                    done = True
                    result = "ok: nothing sent"
                else:
                    actions.append(action)
                    result = f"ok: {action.label} sent"
            messages.append({"role": "tool", "tool_call_id": call_id, "content": result})
        return refused, done

    def _count_usage(self, response: dict[str, Any]) -> None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return
        for key in ("prompt_tokens", "completion_tokens"):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self.usage[key] += value

    def _compute_payment(self) -> tuple[TxIntent, ...]:
        """The transfer paying for the tokens used since the last payment (none if nothing
        is owed in whole wei, or compute is free)."""
        if self.token_cost <= 0 or self._cost_address is None:
            return ()
        used = self.usage["prompt_tokens"] + self.usage["completion_tokens"]
        owed = int(self.token_cost * used * UNIT / 1000) - self.compute_charged_wei
        if owed <= 0:
            return ()
        self.compute_charged_wei += owed
        data = _TRANSFER + encode(("address", "uint256"), (self.compute_sink, owed))
        return (
            TxIntent(
                to=self._cost_address, data=data, gas=TRANSFER_GAS, tip=self.tip, label="compute"
            ),
        )

    def _log(self, now_ms: int, kind: str, detail: str) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append({"t_ms": now_ms, "kind": kind, "detail": detail})

    # -- reporting ----------------------------------------------------------------------------

    def summary_entry(self) -> dict[str, Any]:
        """This agent's numbers for ``summary.json`` (section ``llm``)."""
        tokens = self.usage["prompt_tokens"] + self.usage["completion_tokens"]
        return {
            "model": self.settings.model,
            # Not the mode: a replay's summary must be byte-identical to its recording's.
            "backend": self.settings.backend,
            **self.usage,
            "total_tokens": tokens,
            **self.counts,
            "compute_charged_wei": self.compute_charged_wei,
            "events": list(self.events),
        }
