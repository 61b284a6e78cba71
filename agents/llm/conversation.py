"""The part of every language-model agent that talks to the model: one wake's conversation,
the checks of its tool calls, token counts, compute payments and the agent's summary entry.

:class:`ChatAgent` is the base of the study-specific LLM agents (the market's
:class:`~agentbed.agents.llm.agent.LLMTrader`, the economy's
:class:`~agentbed.agents.llm.escrow_agent.LLMBuyer`): a subclass renders its view, names its tools
(``tools``, ``system_prompt``) and turns one checked call into an action; ``converse`` does the
rest. A wake sends the system prompt and the view with the tools; each tool call of the reply is
run through the subclass's checker; a refused one (:class:`ToolError`) is answered with a tool
message ``error: ...`` and the model gets another round, at most ``max_rounds`` requests per
wake; at most ``max_tool_calls`` actions are accepted per wake. A call may also answer with
information (a :class:`Lookup`, e.g. a seller's on-chain record): the model reads it and gets
another round too. An accepted call that sends no transaction (an :class:`OffChain` decision:
an intent posted to the off-chain board, a proposal declined) takes effect only when the wake
succeeds (:meth:`ChatAgent.publish`). A backend failure (timeout,
connection or HTTP error, malformed response) ends the wake with no action; it is counted and
logged in ``events``.

Tokens (the responses' ``usage``) are summed per agent; with ``token_cost`` > 0 the agent pays
``token_cost`` whole tokens per 1,000 tokens to ``compute_sink`` with a real ERC-20 transfer
(label ``"compute"``) when it is told which token pays (``charge``), so a run's books still
close. The agent's numbers go to ``summary.json`` under ``llm``
(:mod:`agentbed.agents.reporting.agent_sections`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import Action, Agent, TxIntent
from agentbed.agents.llm.backends import ChatBackend, ChatUnavailable
from agentbed.agents.llm.settings import ChatSettings

if TYPE_CHECKING:
    from agentbed.chain.types import Receipt

COMPUTE_SINK = "0x00000000000000000000000000000000C0FFEE00"
"""Default recipient of compute payments: an address no key controls."""
MAX_EVENTS = 100
"""Events kept per agent for ``summary.json`` (the counts cover them all)."""
RECENT = 5
"""Own transactions' outcomes a view shows."""
TRANSFER_GAS = 60_000
UNIT = 10**18
_TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")


@dataclass(frozen=True, slots=True)
class Lookup:
    """A tool's answer that is information, not an action: the model reads ``text`` (the
    tool message) and is asked again in the same wake."""

    text: str


@dataclass(frozen=True, slots=True)
class OffChain:
    """An accepted decision that sends no transaction; ``apply`` carries it out once the wake
    has succeeded (a failed wake discards it, as it discards transactions).

    Attributes:
        label: What it is (``"intent"``, ``"decline"``), as an action's label.
        apply: Carries it out (posts the intent, remembers the refusal).
    """

    label: str
    apply: Callable[[], object]


Decision = Action | OffChain
"""What an accepted call becomes: a transaction or bundle, or an off-chain decision."""
ToolRunner = Callable[[str, object], Decision | Lookup | None]
"""Checks one call (tool name, raw arguments) and returns its decision, or a lookup's answer
(None: end the wake). Raises ``ToolError`` for a refused call."""


class ToolError(ValueError):
    """A tool call that cannot be carried out; the message is what the model is told."""


class ChatAgent(Agent):
    """An agent that decides by asking a chat model (see the module docstring).

    Args:
        backend, base_url, model, api_key_env, temperature, max_tokens, timeout_s, mode,
            cassette_dir: The model settings (:class:`ChatSettings`).
        max_tool_calls: Most actions accepted per wake.
        max_rounds: Most requests per wake (a refused call costs a round).
        token_cost: Whole tokens paid per 1,000 model tokens (0: nothing is charged).
        compute_sink: Address compute payments go to.
        **kwargs: Passed on (to ``Agent`` or the study's agent class).
    """

    tools: tuple[dict[str, Any], ...] = ()
    system_prompt: str = ""

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
        mode: str = "live",
        cassette_dir: str = "",
        max_tool_calls: int = 2,
        max_rounds: int = 2,
        token_cost: float = 0.0,
        compute_sink: str = COMPUTE_SINK,
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
        if token_cost < 0:
            raise ValueError(f"token_cost must be >= 0, got {token_cost}")
        self.max_tool_calls = max_tool_calls
        self.max_rounds = max_rounds
        self.token_cost = Fraction(str(token_cost))
        self.compute_sink = compute_sink
        # A per-agent sampling seed for servers that honour it; drawn once from the agent's
        # own stream, so it is part of the request a cassette keys on.
        self.request_seed = self.rng.getrandbits(31)
        self._backend: ChatBackend | None = None
        self.recent: list[dict[str, Any]] = []
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self.counts = dict.fromkeys(
            (
                "wakes",
                "requests",
                "tool_calls",
                "accepted_calls",
                "refused_calls",
                "failures",
                "lookups",
                "actions",
                "compute_payments_failed",
            ),
            0,
        )
        self.compute_charged_wei = 0
        self.events: list[dict[str, Any]] = []
        self.summary_section = "llm"

    def backend(self) -> ChatBackend:
        """The backend, built at the first request (so a scenario check builds nothing)."""
        if self._backend is None:
            self._backend = self.settings.open(self.name)
        return self._backend

    def on_receipt(self, receipt: Receipt, label: str) -> None:
        if label == "compute" and receipt.status != 1:
            self.counts["compute_payments_failed"] += 1
        outcome = {"block": receipt.block_number, "label": label, "ok": receipt.status == 1}
        self.recent = [*self.recent[1 - RECENT :], outcome]
        super().on_receipt(receipt, label)

    # -- one wake's conversation --------------------------------------------------------------

    def request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The chat-completions request of a conversation so far."""
        return {
            "model": self.settings.model,
            "messages": messages,
            "tools": list(self.tools),
            "tool_choice": "auto",
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "seed": self.request_seed,
        }

    def converse(self, now_ms: int, text: str, run: ToolRunner) -> list[Decision]:
        """One wake: ask with the view ``text``, check the calls with ``run``, answer
        refusals and lookups, for at most ``max_rounds`` requests; the accepted decisions."""
        self.counts["wakes"] += 1
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": text},
        ]
        actions: list[Decision] = []
        for _ in range(self.max_rounds):
            self.counts["requests"] += 1
            try:
                response = self.backend().complete(self.request(messages))
            except ChatUnavailable as err:
                self.counts["failures"] += 1
                self.log(now_ms, err.kind, err.detail)
                return []  # a failed wake does nothing, whatever earlier rounds accepted
            self._count_usage(response)
            message = response["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            if not isinstance(calls, list) or not calls:
                break  # an answer without tool calls: nothing more to do
            messages.append(
                {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
            )
            again, done = self._answer_calls(now_ms, calls, run, actions, messages)
            if done or not again:
                break
        self.counts["actions"] += len(actions)
        return actions

    def _answer_calls(
        self,
        now_ms: int,
        calls: Sequence[Any],
        run: ToolRunner,
        actions: list[Decision],
        messages: list[dict[str, Any]],
    ) -> tuple[bool, bool]:
        """Run each call into ``actions``, a tool result for each into ``messages``; whether
        the model should be asked again (a call was refused or looked something up), and
        whether it ended the wake (``do_nothing`` or the limit)."""
        again = done = False
        for index, call in enumerate(calls):
            self.counts["tool_calls"] += 1
            call_id = f"call_{index}"
            try:
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    raise ToolError("a tool call must have a function with a name and arguments")
                call_id = str(call.get("id") or call_id)
                if len(actions) >= self.max_tool_calls:
                    done = True
                    raise ToolError(f"limit of {self.max_tool_calls} actions per wake reached")
                function = call["function"]
                action = run(str(function.get("name")), function.get("arguments"))
            except ToolError as err:
                again = True
                self.counts["refused_calls"] += 1
                self.log(now_ms, "refused_call", str(err))
                result = f"error: {err}"
            else:
                self.counts["accepted_calls"] += 1
                if action is None:
                    done = True
                    result = "ok: nothing sent"
                elif isinstance(action, Lookup):
                    again = True
                    self.counts["lookups"] += 1
                    result = action.text
                else:
                    actions.append(action)
                    result = f"ok: {action.label} sent"
            messages.append({"role": "tool", "tool_call_id": call_id, "content": result})
        return again, done

    def publish(self, decisions: Sequence[Decision]) -> tuple[Action, ...]:
        """Carry out the off-chain decisions of a successful wake; the transactions to send."""
        actions: list[Action] = []
        for decision in decisions:
            if isinstance(decision, OffChain):
                decision.apply()
            else:
                actions.append(decision)
        return tuple(actions)

    def _count_usage(self, response: dict[str, Any]) -> None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return
        for key in ("prompt_tokens", "completion_tokens"):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self.usage[key] += value

    def charge(self, token: str | None, tip: int) -> tuple[TxIntent, ...]:
        """The transfer of ``token`` paying for the model tokens used since the last payment
        (none when compute is free, ``token`` is None, or nothing is owed in whole wei)."""
        if self.token_cost <= 0 or token is None:
            return ()
        used = self.usage["prompt_tokens"] + self.usage["completion_tokens"]
        owed = int(self.token_cost * used * UNIT / 1000) - self.compute_charged_wei
        if owed <= 0:
            return ()
        self.compute_charged_wei += owed
        data = _TRANSFER + encode(("address", "uint256"), (self.compute_sink, owed))
        return (TxIntent(to=token, data=data, gas=TRANSFER_GAS, tip=tip, label="compute"),)

    def log(self, now_ms: int, kind: str, detail: str) -> None:
        """Keep an event for ``summary.json`` (the first ``MAX_EVENTS``)."""
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
