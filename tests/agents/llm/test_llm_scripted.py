"""The scripted responder: it speaks the chat-completions protocol, answers the same request
the same way, and follows its documented rules (backrun, trade toward the reference, give up
after a refusal, else nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentbed.agents.llm.backends import check_response
from agentbed.agents.llm.cassette import canonical
from agentbed.agents.llm.scripted import ScriptedBackend, estimate_tokens


def _view(price: str, reference: str, pending: list[dict[str, Any]] | None = None) -> str:
    return canonical(
        {
            "me": {"tokens": {"USDC": "100000", "WETH": "50"}},
            "pools": [
                {
                    "pool": "USDC/WETH",
                    "pair": ["USDC", "WETH"],
                    "reserves": {"USDC": "3000000", "WETH": "1000"},
                    "price": price,
                    "reference_price": reference,
                }
            ],
            "pending_swaps": pending or [],
        }
    )


def _request(view: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": view}, *extra],
        "tools": [],
    }


def _call(response: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (call,) = check_response(response)["choices"][0]["message"]["tool_calls"]
    return call["function"]["name"], json.loads(call["function"]["arguments"])


def test_a_pool_near_its_reference_is_left_alone() -> None:
    name, _ = _call(ScriptedBackend().complete(_request(_view("0.000333", "0.000333"))))
    assert name == "do_nothing"


def test_it_sells_the_token_the_pool_overprices() -> None:
    # WETH per USDC above the reference: USDC is dear in the pool, so it sells USDC.
    name, args = _call(ScriptedBackend().complete(_request(_view("0.000340", "0.000333"))))
    assert (name, args["pool"], args["sell"]) == ("swap", "USDC/WETH", "USDC")
    assert 0 < args["amount"] <= 50_000
    name, args = _call(ScriptedBackend().complete(_request(_view("0.000320", "0.000333"))))
    assert (name, args["sell"]) == ("swap", "WETH")


def test_it_backruns_a_large_visible_sale() -> None:
    pending = [{"tx": "0xaa", "pool": "USDC/WETH", "sell": "WETH", "amount": "10"}]
    name, args = _call(ScriptedBackend().complete(_request(_view("0.000333", "0.000333", pending))))
    assert name == "bundle" and args["after_tx"] == "0xaa"
    assert args["swaps"][0]["sell"] == "USDC"


def test_after_a_refusal_it_does_nothing() -> None:
    refusal = {"role": "tool", "tool_call_id": "call_0", "content": "error: no"}
    request = _request(_view("0.000340", "0.000333"), refusal)
    assert _call(ScriptedBackend().complete(request))[0] == "do_nothing"


def test_the_same_request_gets_the_same_reply_and_usage_estimate() -> None:
    request = _request(_view("0.000340", "0.000333"))
    first, second = ScriptedBackend().complete(request), ScriptedBackend().complete(request)
    assert canonical(first) == canonical(second)
    prompt = canonical(request["messages"]) + canonical(request["tools"])
    assert first["usage"]["prompt_tokens"] == estimate_tokens(prompt) == -(-len(prompt) // 4)


def _escrow_view(deals: list[dict[str, Any]], can_propose: bool = True) -> str:
    return canonical(
        {
            "can_propose": can_propose,
            "sellers": [{"address": "0xS1", "trust": 0.4}, {"address": "0xS2", "trust": 0.9}],
            "arbitrators": [{"address": "0xA1", "no_shows": 2}, {"address": "0xA2", "no_shows": 0}],
            "my_deals": deals,
        }
    )


def _deal(deal: int, delivered: bool, confirmed: bool = False) -> dict[str, Any]:
    return {
        "deal": deal,
        "state": "Accepted",
        "delivered": delivered,
        "confirmed": confirmed,
        "deadline_in_s": 12,
    }


def _checked(seller: str, defaulted: int = 0, invalid: int = 0) -> dict[str, Any]:
    """The tool message answering ``check_seller`` about ``seller``."""
    answer = {
        "seller": seller,
        "record": {"completed": 1, "defaulted": defaulted, "dispute_won": 0, "dispute_lost": 0},
        "credentials": {"shown": invalid, "valid": 0, "invalid": {"wrong signer": invalid}}
        if invalid
        else {"shown": 0, "valid": 0, "invalid": {}},
    }
    return {"role": "tool", "tool_call_id": "call_0", "content": "ok: " + canonical(answer)}


def test_an_escrow_buyer_confirms_then_disputes_then_checks_and_proposes_to_the_most_trusted() -> (
    None
):
    backend = ScriptedBackend()
    both = _escrow_view([_deal(1, delivered=False), _deal(2, delivered=True)])
    assert _call(backend.complete(_request(both))) == ("confirm", {"deal": 2})
    missed = _escrow_view([_deal(1, delivered=False)])
    assert _call(backend.complete(_request(missed))) == ("dispute", {"deal": 1})
    fresh = _escrow_view([])
    assert _call(backend.complete(_request(fresh))) == ("check_seller", {"seller": "0xS2"})
    assert _call(backend.complete(_request(fresh, _checked("0xS2")))) == (
        "propose",
        {"seller": "0xS2", "arbitrator": "0xA2"},
    )
    idle = _escrow_view([], can_propose=False)
    assert _call(backend.complete(_request(idle)))[0] == "do_nothing"


@pytest.mark.parametrize("answer", [_checked("0xS2", defaulted=2), _checked("0xS2", invalid=1)])
def test_an_escrow_buyer_does_not_propose_to_a_seller_that_fails_its_check(
    answer: dict[str, Any],
) -> None:
    request = _request(_escrow_view([]), answer)
    assert _call(ScriptedBackend().complete(request))[0] == "do_nothing"


def _seller_view(cost: str, *deals: tuple[int, str]) -> str:
    return canonical(
        {
            "delivery_cost": cost,
            "deals": [{"deal": d, "state": state, "price": "10"} for d, state in deals],
        }
    )


@pytest.mark.parametrize(
    ("cost", "state", "expected"),
    [
        ("4", "Proposed", "accept"),
        ("15", "Proposed", "accept"),
        ("25", "Proposed", "decline"),
        ("4", "Accepted", "deliver"),
        ("15", "Accepted", "default"),
    ],
)
def test_an_escrow_seller_delivers_what_pays_and_declines_or_defaults_on_what_does_not(
    cost: str, state: str, expected: str
) -> None:
    name, args = _call(ScriptedBackend().complete(_request(_seller_view(cost, (3, state)))))
    assert (name, args["deal"]) == (expected, 3)
    nothing = _call(ScriptedBackend().complete(_request(_seller_view("4"))))
    assert nothing[0] == "do_nothing"
