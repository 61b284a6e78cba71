"""A deterministic, rule-based stand-in for a chat model, speaking the chat-completions protocol
in-process, so that a language-model scenario runs offline and in the test suite.

:class:`ScriptedBackend` reads the view JSON of the conversation's first user message and
answers with tool calls as a model would:

* after a tool error it gives up for this wake (``do_nothing``), as a cautious model might;
  after a lookup's answer (a tool message ``ok: {...}``) it decides again knowing it;
* when a visible pending swap sells at least ``backrun_fraction`` of a pool's reserve, it
  backruns it (``bundle`` with ``after_tx``), buying back half the sold amount's value;
* else, when the market has an intent book (the view lists ``my_open_intents``) and none of
  its intents is open, it posts one (``intent``, :meth:`ScriptedBackend.decide_intent`);
* else, when a pool's price is more than ``threshold`` away from its reference price, it sells
  the token the pool overprices, a quarter of what would bring the pool to the reference,
  capped at half its balance (a public ``swap``);
* else ``do_nothing``.

An escrow buyer's view (one with ``my_deals``) gets :meth:`ScriptedBackend.decide_escrow`:
confirm a delivered deal, dispute an undelivered one the model was asked about, else check the
most trusted seller's credentials (``check_seller``) and propose to it unless the check shows
more bad outcomes than good or an invalid credential, else ``do_nothing``. An escrow seller's
view (one with ``delivery_cost``) gets :meth:`ScriptedBackend.decide_seller`: deliver an
accepted deal whose price covers the delivery cost, default on one whose price does not;
accept a proposal whose price covers at least half the cost, decline one that does not.

Token usage is an estimate: a quarter of the characters of the request's messages and tools
(prompt) and of the reply (completion), rounded up -- about what a BPE tokenizer gives for JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from agentbed.agents.llm.backends import Request, Response
from agentbed.agents.llm.cassette import canonical

CHARS_PER_TOKEN = 4
LOOKUP = "ok: {"
"""How a lookup's answer starts (``ok: {json}``); other ``ok: ...`` answers are not JSON."""


def _last_answers(messages: list[dict[str, Any]]) -> list[str]:
    """The tool messages answering the last assistant turn (none if the turn is new)."""
    answers: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        answers.append(str(message.get("content", "")))
    return answers[::-1]


def estimate_tokens(text: str) -> int:
    """``ceil(len(text) / CHARS_PER_TOKEN)``."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _amount(value: float) -> float:
    """A token amount as a model would write it: 4 significant digits."""
    return float(f"{value:.4g}")


class ScriptedBackend:
    """The rule-based responder (see the module docstring).

    Args:
        model: The model name it reports.
        threshold: Relative gap between a pool's price and its reference that it trades on.
        backrun_fraction: Smallest pending sale, as a fraction of the pool's reserve of the
            sold token, that it backruns.
        intent_fraction: Size of the intents it posts, as a fraction of the pool's reserve of
            the sold token.
    """

    def __init__(
        self,
        model: str = "scripted",
        threshold: float = 0.003,
        backrun_fraction: float = 0.004,
        intent_fraction: float = 0.002,
    ) -> None:
        self.model = model
        self.intent_fraction = intent_fraction
        self.threshold = threshold
        self.backrun_fraction = backrun_fraction
        self.calls = 0

    def complete(self, request: Request) -> Response:
        """The reply to ``request`` with its usage estimate."""
        messages = request.get("messages", [])
        view: dict[str, Any] = next(
            (json.loads(m["content"]) for m in messages if m.get("role") == "user"), {}
        )
        answers = _last_answers(messages)
        if any(a.startswith("error") for a in answers):
            name, args = "do_nothing", {"reason": "my last call was refused"}
        else:
            lookups = [json.loads(a[len(LOOKUP) - 1 :]) for a in answers if a.startswith(LOOKUP)]
            name, args = self.decide(view, lookups)
        index = self.calls
        self.calls += 1
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{index}_0",
                    "type": "function",
                    "function": {"name": name, "arguments": canonical(args)},
                }
            ],
        }
        prompt = canonical(messages) + canonical(request.get("tools", []))
        completion = canonical(message)
        usage = {
            "prompt_tokens": estimate_tokens(prompt),
            "completion_tokens": estimate_tokens(completion),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return {
            "id": f"scripted-{index}",
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
            "usage": usage,
        }

    def decide(
        self, view: dict[str, Any], lookups: list[dict[str, Any]] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The tool and its arguments for a view and the lookups answered in this wake (see
        the module docstring)."""
        if "my_deals" in view:
            return self.decide_escrow(view, lookups or [])
        if "delivery_cost" in view:
            return self.decide_seller(view)
        held = {k: float(v) for k, v in view.get("me", {}).get("tokens", {}).items()}
        pools = {row["pool"]: row for row in view.get("pools", [])}
        for swap in view.get("pending_swaps", []):
            row = pools.get(swap["pool"])
            if row is None:
                continue
            reserve = float(row["reserves"][swap["sell"]])
            sold = float(swap["amount"])
            if sold < self.backrun_fraction * reserve:
                continue
            (other,) = (s for s in row["reserves"] if s != swap["sell"])
            value = sold * float(row["reserves"][other]) / reserve / 2
            amount = _amount(min(value, held.get(other, 0.0) / 2))
            if amount > 0:
                leg = {"pool": swap["pool"], "sell": other, "amount": amount}
                return "bundle", {
                    "swaps": [{**leg, "max_slippage_bps": 200}],
                    "after_tx": swap["tx"],
                }
        if "my_open_intents" in view and not view["my_open_intents"] and pools:
            return self.decide_intent(pools, held)
        for name, row in pools.items():
            gap = float(row["price"]) / float(row["reference_price"]) - 1
            if abs(gap) <= self.threshold:
                continue
            symbol0, symbol1 = row["pair"]
            reserve0 = float(row["reserves"][symbol0])
            reserve1 = float(row["reserves"][symbol1])
            # Selling d of token0 moves price p = r1/r0 to about p * (r0 / (r0 + d))^2.
            ratio = math.sqrt(1 + gap)
            if gap > 0:
                sell, target = symbol0, reserve0 * (ratio - 1)
            else:
                sell, target = symbol1, reserve1 * (1 / ratio - 1)
            amount = _amount(min(target / 4, held.get(sell, 0.0) / 2))
            if amount > 0:
                return "swap", {
                    "pool": name,
                    "sell": sell,
                    "amount": amount,
                    "max_slippage_bps": 100,
                }
        return "do_nothing", {"reason": "prices are near their references"}

    def decide_intent(
        self, pools: dict[str, dict[str, Any]], held: dict[str, float]
    ) -> tuple[str, dict[str, Any]]:
        """With an intent book and no open intent of its own: an intent selling
        ``intent_fraction`` of the reserve (at most half its balance) of the token that the
        pool furthest from its reference price overprices (token0 on a tie)."""

        def gap(row: dict[str, Any]) -> float:
            return float(row["price"]) / float(row["reference_price"]) - 1

        name = max(pools, key=lambda n: abs(gap(pools[n])))
        row = pools[name]
        symbol0, symbol1 = row["pair"]
        sell = symbol0 if gap(row) >= 0 else symbol1
        reserve = float(row["reserves"][sell])
        amount = _amount(min(self.intent_fraction * reserve, held.get(sell, 0.0) / 2))
        if amount <= 0:
            return "do_nothing", {"reason": f"no {sell} to sell"}
        return "intent", {"pool": name, "sell": sell, "amount": amount, "max_slippage_bps": 100}

    def decide_escrow(
        self, view: dict[str, Any], lookups: list[dict[str, Any]]
    ) -> tuple[str, dict[str, Any]]:
        """An escrow buyer's step: confirm a delivery, dispute a missed one, or check the most
        trusted seller and then propose to it with the arbitrator of fewest no-shows (the
        first on ties)."""
        for deal in view["my_deals"]:
            if deal["state"] == "Accepted" and deal["delivered"] and not deal["confirmed"]:
                return "confirm", {"deal": deal["deal"]}
        for deal in view["my_deals"]:
            if deal["state"] == "Accepted" and not deal["delivered"] and deal["deadline_in_s"] > 0:
                return "dispute", {"deal": deal["deal"]}
        sellers, arbitrators = view.get("sellers", []), view.get("arbitrators", [])
        if view.get("can_propose") and sellers and arbitrators:
            seller = max(sellers, key=lambda s: s["trust"])["address"]
            checked = next((c for c in lookups if c.get("seller") == seller), None)
            if checked is None:
                return "check_seller", {"seller": seller}
            record, shown = checked["record"], checked["credentials"]
            good = record["completed"] + record["dispute_won"]
            if record["defaulted"] + record["dispute_lost"] > good or shown["invalid"]:
                return "do_nothing", {"reason": "the seller failed my check"}
            arbitrator = min(arbitrators, key=lambda a: a["no_shows"])["address"]
            return "propose", {"seller": seller, "arbitrator": arbitrator}
        return "do_nothing", {"reason": "nothing to decide"}

    def decide_seller(self, view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """An escrow seller's step on its first waiting deal (see the module docstring)."""
        cost = float(view["delivery_cost"])
        for deal in view["deals"]:
            price = float(deal["price"])
            if deal["state"] == "Accepted":
                if price >= cost:
                    return "deliver", {"deal": deal["deal"]}
                return "default", {"deal": deal["deal"], "reason": "delivery costs more"}
            if 2 * price >= cost:
                return "accept", {"deal": deal["deal"]}
            return "decline", {"deal": deal["deal"], "reason": "the price is too low"}
        return "do_nothing", {"reason": "nothing to decide"}
