"""The language-model trader against a local stub server: scripted tool calls become actions,
malformed calls are answered with readable errors and retried, timeouts and HTTP errors make
a wake do nothing, and tokens are counted and charged."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.agent import AgentView, BundleIntent, TxIntent
from agentbed.agents.llm import LLMTrader
from agentbed.agents.market.world import Market
from agentbed.agents.sim import Simulation
from agentbed.experiments.build import build
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "llm_market.toml"
WETH_BALANCE = 50 * 10**18


@pytest.fixture(scope="module")
def built() -> tuple[Simulation, Market]:
    """The llm_market scenario built (funded, not run): a market to show the trader."""
    sim, world = build(load_with_overrides(SCENARIO, [("run.blocks", 1)]))
    assert isinstance(world, Market)
    return sim, world


def view_of(sim: Simulation, market: Market, reason: str = "schedule") -> AgentView:
    chain = sim.chain
    return AgentView(
        now_ms=1000,
        reason=reason,  # type: ignore[arg-type]
        head=chain.head,
        base_fee=chain.base_fee,
        nonce=0,
        confirmed_nonce=0,
        pending=(),
        trigger=None,
        new_blocks=(),
        reader=chain,
        market=market,
    )


def trader(sim: Simulation, market: Market, **params: Any) -> LLMTrader:
    """An http-backed trader on the first llm agent's funded account, set up on ``market``."""
    (funded,) = [a for a in sim.agents if a.name == "llm0"]
    params.setdefault("max_reserve_fraction", 0.02)  # 20 of the pool's 1,000 WETH
    agent = LLMTrader("llm0", funded.account, random.Random(1), None, backend="http", **params)
    agent.setup(market)
    return agent


Reply = Callable[..., dict[str, Any]]


def test_scripted_swap_call_becomes_a_swap_with_the_view_and_tools_sent(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    stub.script = lambda request: (
        200,
        reply(("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 1.5, "tip_gwei": 2})),
        0.0,
    )
    agent = trader(sim, market, base_url=stub.url, model="stub-model")
    (action,) = agent.observe(view_of(sim, market))
    assert isinstance(action, TxIntent)
    assert action.label == "trade" and action.tip == 2 * 10**9
    assert (
        action.to
        == market.venue_of(market.pools[0])
        .encode_swap(
            market.pools[0].address, market.tokens["WETH"], 15 * 10**17, 0, agent.address, 0
        )
        .to
    )
    (request,) = stub.requests
    assert request["model"] == "stub-model" and request["temperature"] == 0.0
    assert [t["function"]["name"] for t in request["tools"]] == ["swap", "bundle", "do_nothing"]
    view = json.loads(request["messages"][1]["content"])
    assert view["me"]["tokens"]["WETH"] == "50"
    assert view["pools"][0]["pool"] == "USDC/WETH"
    assert agent.usage == {"prompt_tokens": 100, "completion_tokens": 10}
    assert agent.counts["accepted_calls"] == 1 and agent.counts["refused_calls"] == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (("swap", '{"pool": "USDC/WETH", "sell": '), "arguments are not valid JSON"),
        (("launch_rocket", {}), 'unknown tool "launch_rocket"'),
        (("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 500}), "exceeds your balance"),
        (("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 49}), "above the limit"),
        (("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": -1}), "amount must be > 0"),
        (("swap", {"pool": "WETH/DAI", "sell": "WETH", "amount": 1}), 'unknown pool "WETH/DAI"'),
        (("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": "lots"}), "must be a number"),
        (
            ("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 1, "tip_gwei": 1e9}),
            "tip_gwei must be in",
        ),
        (("bundle", {"swaps": []}), "swaps must be a list of 1 to 3"),
        (
            (
                "bundle",
                {
                    "swaps": [{"pool": "USDC/WETH", "sell": "WETH", "amount": 1}],
                    "after_tx": "0x" + "ab" * 32,
                },
            ),
            "is not a pending tx you can see",
        ),
    ],
)
def test_a_bad_call_is_answered_with_an_error_and_the_model_tries_again(
    built: tuple[Simulation, Market], stub: Any, reply: Reply, call: tuple[str, Any], error: str
) -> None:
    sim, market = built
    good = ("swap", {"pool": "USDC/WETH", "sell": "USDC", "amount": 1000})
    stub.script = lambda request: (200, reply(good if len(stub.requests) > 1 else call), 0.0)
    agent = trader(sim, market, base_url=stub.url)
    (action,) = agent.observe(view_of(sim, market))
    assert isinstance(action, TxIntent) and action.label == "trade"
    first, second = stub.requests
    answer = second["messages"][-1]
    assert answer["role"] == "tool" and answer["tool_call_id"] == "call_0"
    assert answer["content"].startswith("error: ") and error in answer["content"]
    assert second["messages"][:2] == first["messages"]
    assert agent.counts["refused_calls"] == 1
    assert [e["kind"] for e in agent.events] == ["refused_call"]


def test_refusals_stop_after_max_rounds(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    stub.script = lambda request: (200, reply(("swap", "not json")), 0.0)
    agent = trader(sim, market, base_url=stub.url, max_rounds=3)
    assert agent.observe(view_of(sim, market)) == ()
    assert len(stub.requests) == 3
    assert agent.counts["refused_calls"] == 3


def test_a_bundle_call_becomes_a_private_bundle(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    legs = [{"pool": "USDC/WETH", "sell": "WETH", "amount": 1}] * 2
    stub.script = lambda request: (200, reply(("bundle", {"swaps": legs})), 0.0)
    agent = trader(sim, market, base_url=stub.url)
    (action,) = agent.observe(view_of(sim, market))
    assert isinstance(action, BundleIntent) and len(action.items) == 2


def test_calls_beyond_the_per_wake_limit_are_refused(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    one = ("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 1})
    stub.script = lambda request: (200, reply(one, one, one), 0.0)
    agent = trader(sim, market, base_url=stub.url, max_tool_calls=2)
    assert len(agent.observe(view_of(sim, market))) == 2
    assert len(stub.requests) == 1  # the limit ends the wake: no retry
    assert "limit of 2 actions per wake" in agent.events[0]["detail"]


def test_balances_are_committed_across_the_calls_of_one_wake(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    half = ("swap", {"pool": "USDC/WETH", "sell": "WETH", "amount": 30})
    stub.script = lambda request: (200, reply(half, half), 0.0)
    agent = trader(sim, market, base_url=stub.url, max_reserve_fraction=1.0, max_rounds=1)
    assert len(agent.observe(view_of(sim, market))) == 1
    assert "exceeds your balance 20" in agent.events[0]["detail"]


def test_a_timeout_makes_the_wake_do_nothing_and_is_logged(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    stub.script = lambda request: (200, reply(("do_nothing", {})), 5.0)
    agent = trader(sim, market, base_url=stub.url, timeout_s=0.2)
    assert agent.observe(view_of(sim, market)) == ()
    assert agent.counts["failures"] == 1
    assert [e["kind"] for e in agent.events] == ["timeout"]


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (500, b'{"error": "boom"}', "http"),
        (200, b"<html>not json</html>", "malformed"),
        (200, b'{"choices": []}', "malformed"),
    ],
)
def test_http_errors_and_malformed_responses_make_the_wake_do_nothing(
    built: tuple[Simulation, Market], stub: Any, status: int, body: bytes, kind: str
) -> None:
    sim, market = built
    stub.script = lambda request: (status, body, 0.0)
    agent = trader(sim, market, base_url=stub.url)
    assert agent.observe(view_of(sim, market)) == ()
    assert [e["kind"] for e in agent.events] == [kind]


def test_an_unreachable_server_makes_the_wake_do_nothing(
    built: tuple[Simulation, Market], stub: Any
) -> None:
    sim, market = built
    url = stub.url
    stub.stop()
    agent = trader(sim, market, base_url=url, timeout_s=2.0)
    assert agent.observe(view_of(sim, market)) == ()
    assert [e["kind"] for e in agent.events] == ["connection"]


def test_tokens_are_charged_as_a_transfer_to_the_sink(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    stub.script = lambda request: (200, reply(("do_nothing", {}), usage=(1500, 500)), 0.0)
    agent = trader(sim, market, base_url=stub.url, token_cost=0.25, cost_token="USDC")
    (payment,) = agent.observe(view_of(sim, market))
    assert isinstance(payment, TxIntent) and payment.label == "compute"
    assert payment.to == market.tokens["USDC"]
    amount = int.from_bytes(payment.data[-32:], "big")
    assert amount == 2000 * 25 * 10**16 // 1000  # 2,000 tokens at 0.25 USDC per 1k
    assert agent.compute_charged_wei == amount
    assert agent.observe(view_of(sim, market))[0].data[-32:] == payment.data[-32:]


def test_a_pending_wake_does_not_ask_the_model_unless_told_to(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    stub.script = lambda request: (200, reply(("do_nothing", {})), 0.0)
    assert trader(sim, market, base_url=stub.url).observe(view_of(sim, market, "pending")) == ()
    assert stub.requests == []
    eager = trader(sim, market, base_url=stub.url, react_to_pending=True)
    eager.observe(view_of(sim, market, "pending"))
    assert len(stub.requests) == 1


def test_an_unset_api_key_variable_is_a_named_error(
    built: tuple[Simulation, Market], stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentbed.agents.llm import LLMConfigError

    sim, market = built
    monkeypatch.delenv("AGENTBED_TEST_NO_SUCH_KEY", raising=False)
    agent = trader(sim, market, base_url=stub.url, api_key_env="AGENTBED_TEST_NO_SUCH_KEY")
    with pytest.raises(LLMConfigError, match="AGENTBED_TEST_NO_SUCH_KEY"):
        agent.observe(view_of(sim, market))


def test_the_api_key_is_sent_as_a_bearer_token_and_never_in_the_request(
    built: tuple[Simulation, Market], stub: Any, reply: Reply, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, market = built
    monkeypatch.setenv("AGENTBED_TEST_KEY", "sk-test-123")
    stub.script = lambda request: (200, reply(("do_nothing", {})), 0.0)
    agent = trader(sim, market, base_url=stub.url, api_key_env="AGENTBED_TEST_KEY")
    agent.observe(view_of(sim, market))
    assert "sk-test-123" not in json.dumps(stub.requests)


def test_a_local_server_is_reached_without_the_environments_proxy(
    built: tuple[Simulation, Market], stub: Any, reply: Reply, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, market = built
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    stub.script = lambda request: (200, reply(("do_nothing", {})), 0.0)
    agent = trader(sim, market, base_url=stub.url)
    agent.observe(view_of(sim, market))
    assert len(stub.requests) == 1 and agent.events == []


def test_the_view_shows_others_pending_swaps_not_its_own(
    built: tuple[Simulation, Market], stub: Any, reply: Reply
) -> None:
    sim, market = built
    chain = market.chain
    pool = market.pools[0]
    by_name = {a.name: a for a in sim.agents}
    pending = []
    for name, agent in (("llm0", by_name["llm0"]), ("retail0", by_name["retail0"])):
        swap = market.swap(pool, market.tokens["WETH"], 10**18, 1, agent.address, tip=10**9)
        fields = {"to": swap.to, "data": swap.data, "gas": swap.gas}
        tx_hash = chain.submit(chain.sign(agent.account, fields), origin=name)
        pending.append(chain.mempool.get(tx_hash))
    stub.script = lambda request: (200, reply(("do_nothing", {})), 0.0)
    agent = trader(sim, market, base_url=stub.url)
    view = view_of(sim, market)
    agent.observe(
        AgentView(**{**{f: getattr(view, f) for f in view.__slots__}, "pending": tuple(pending)})
    )
    rows = json.loads(stub.requests[0]["messages"][1]["content"])["pending_swaps"]
    assert [r["tx"] for r in rows] == ["0x" + pending[1].hash.hex()]
    assert rows[0]["sell"] == "WETH" and rows[0]["amount"] == "1"
