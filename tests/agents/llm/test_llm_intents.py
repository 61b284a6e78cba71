"""The language-model trader's ``intent`` tool in the intents scenario, against a local stub
server: a scripted call signs and posts an intent the book accepts, its view then lists it and
later calls cannot spend what it commits, malformed calls are answered with readable errors,
and the scripted responder's intents are settled by the solvers in a short run."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.agents.agent import AgentView
from agentbed.agents.llm import LLMTrader
from agentbed.agents.llm.conversation import OffChain, ToolError
from agentbed.agents.llm.intent_tools import IntentContext, run_intent_tool
from agentbed.agents.llm.tools import ToolContext
from agentbed.agents.market.intents import ConditionKind, intent_digest
from agentbed.agents.market.world import Market
from agentbed.agents.sim import Simulation
from agentbed.experiments.build import build
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
INTENTS = ROOT / "scenarios" / "intents.toml"
LLM_MAKERS = [
    ("agents[1].kind", "llm_trader"),
    ("agents[1].name", "llm"),
    ("agents[1].count", 2),
    ("agents[1].schedule", {"kind": "periodic", "period_ms": 12_000, "offset_ms": 1_000}),
    ("agents[1].params", {"token_cost": 0.002}),
]
Reply = Callable[..., dict[str, Any]]
TOKEN = 10**18


@pytest.fixture(scope="module")
def built() -> tuple[Simulation, Market]:
    sim, world = build(load_with_overrides(INTENTS, [("run.blocks", 1), *LLM_MAKERS]))
    assert isinstance(world, Market) and world.intent_board is not None
    return sim, world


def view_of(sim: Simulation, market: Market) -> AgentView:
    chain = sim.chain
    return AgentView(
        now_ms=5_000,
        reason="schedule",
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


def trader(sim: Simulation, market: Market, url: str, **params: Any) -> LLMTrader:
    (funded,) = [a for a in sim.agents if a.name == "llm0"]
    agent = LLMTrader(
        "llm0", funded.account, random.Random(1), None, backend="http", base_url=url, **params
    )
    agent.setup(market)
    return agent


@pytest.fixture
def fresh_board(built: tuple[Simulation, Market]) -> Any:
    """The board emptied after the test, so each test starts without posted intents."""
    _, market = built
    board = market.intent_board
    assert board is not None
    yield board
    board.posted.clear()


def test_an_intent_call_signs_and_posts_an_intent_the_book_accepts(
    built: tuple[Simulation, Market], fresh_board: Any, stub: Any, reply: Reply
) -> None:
    sim, market = built
    args = {"pool": "USDC/WETH", "sell": "WETH", "amount": 2, "horizon_s": 90}
    stub.script = lambda request: (200, reply(("intent", {**args, "conditional": True})), 0.0)
    agent = trader(sim, market, stub.url)
    assert agent.observe(view_of(sim, market)) == ()  # an intent sends no transaction
    (posted,) = fresh_board.posted.values()
    intent = posted.intent
    assert intent.maker == agent.address and intent.nonce == 0 and agent.intents == [intent]
    assert intent.sell_token == market.tokens["WETH"] and intent.sell_amount == 2 * TOKEN
    assert intent.buy_token == market.tokens["USDC"]
    assert intent.deadline == sim.chain.head.timestamp + 90
    assert intent.condition.kind == ConditionKind.COUNTER_INTENT
    pool = market.pools[0]
    quote = market.quote(pool, market.tokens["WETH"], 2 * TOKEN)
    assert intent.min_buy_amount == quote * 9_950 // 10_000
    digest = intent_digest(
        intent, chain_id=fresh_board.chain_id, verifying_contract=fresh_board.book
    )
    assert Account._recover_hash(digest, signature=posted.signature) == agent.address
    (request,) = stub.requests
    names = [t["function"]["name"] for t in request["tools"]]
    assert names == ["swap", "bundle", "intent", "do_nothing"]
    assert json.loads(request["messages"][1]["content"])["my_open_intents"] == []


def test_an_open_intent_is_shown_and_its_amount_cannot_be_spent_again(
    built: tuple[Simulation, Market], fresh_board: Any, stub: Any, reply: Reply
) -> None:
    sim, market = built
    big = ("intent", {"pool": "USDC/WETH", "sell": "WETH", "amount": 30})
    stub.script = lambda request: (200, reply(big), 0.0)
    agent = trader(sim, market, stub.url, max_reserve_fraction=0.05, max_rounds=1)
    agent.observe(view_of(sim, market))
    assert len(fresh_board.posted) == 1
    agent.observe(view_of(sim, market))
    assert len(fresh_board.posted) == 1
    assert "exceeds your balance less your open intents (20)" in agent.events[0]["detail"]
    shown = json.loads(stub.requests[1]["messages"][1]["content"])["my_open_intents"]
    assert shown == [
        {
            "amount": "30",
            "buy": "USDC",
            "conditional": False,
            "expires_in_s": 60,
            "min_buy": shown[0]["min_buy"],
            "nonce": 0,
            "sell": "WETH",
        }
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ('{"pool": ', "arguments are not valid JSON"),
        ({"pool": "USDC/WETH", "sell": "WETH"}, "missing argument(s) amount"),
        ({"pool": "EUR/WETH", "sell": "WETH", "amount": 1}, 'unknown pool "EUR/WETH"'),
        ({"pool": "USDC/WETH", "sell": "DAI", "amount": 1}, 'sell must be USDC or WETH, got "DAI"'),
        ({"pool": "USDC/WETH", "sell": "WETH", "amount": 0}, "amount must be > 0"),
        ({"pool": "USDC/WETH", "sell": "WETH", "amount": 30}, "above the limit"),
        (
            {"pool": "USDC/WETH", "sell": "WETH", "amount": 1, "horizon_s": 0},
            "horizon_s must be in [1, 600]",
        ),
        (
            {"pool": "USDC/WETH", "sell": "WETH", "amount": 1, "conditional": "yes"},
            "conditional must be true or false",
        ),
        ({"pool": "USDC/WETH", "sell": "WETH", "amount": 1, "tip_gwei": 1}, "unknown argument"),
        ({"pool": "USDC/WETH", "sell": "USDC", "amount": 1e-15}, "it buys nothing"),
    ],
)
def test_a_bad_intent_call_is_answered_with_an_error_and_posts_nothing(
    built: tuple[Simulation, Market],
    fresh_board: Any,
    stub: Any,
    reply: Reply,
    args: Any,
    error: str,
) -> None:
    sim, market = built
    stub.script = lambda request: (200, reply(("intent", args)), 0.0)
    agent = trader(sim, market, stub.url, max_rounds=1, max_reserve_fraction=0.02)
    assert agent.observe(view_of(sim, market)) == ()
    assert not fresh_board.posted and agent.intents == []
    assert error in agent.events[0]["detail"]


def test_a_market_without_an_intent_book_offers_no_intent_tool(stub: Any, reply: Reply) -> None:
    sim, market = build(load_with_overrides(ROOT / "scenarios" / "llm_market.toml", []))
    assert isinstance(market, Market)
    call = ("intent", {"pool": "USDC/WETH", "sell": "WETH", "amount": 1})
    stub.script = lambda request: (200, reply(call), 0.0)
    (funded,) = [a for a in sim.agents if a.name == "llm0"]
    agent = LLMTrader(
        "llm0", funded.account, random.Random(1), None, backend="http", base_url=stub.url
    )
    agent.setup(market)
    agent.max_rounds = 1
    assert agent.observe(view_of(sim, market)) == ()
    assert 'unknown tool "intent"' in agent.events[0]["detail"]


def test_scripted_intent_traders_post_intents_the_solvers_settle(tmp_path: Path) -> None:
    scenario = load_with_overrides(INTENTS, [("run.blocks", 6), *LLM_MAKERS])
    outcome = run_scenario(scenario, tmp_path / "run")
    summary = outcome.report.summary
    assert summary["intents"]["posted"] >= 2 and summary["intents"]["filled"] >= 1
    total = summary["llm"]["total"]
    assert total["refused_calls"] == 0 and total["failures"] == 0
    assert summary["closure"]["closes"] is True


_values = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats() | st.text(max_size=12)
_intent_args = st.dictionaries(
    st.sampled_from(
        ["pool", "sell", "amount", "max_slippage_bps", "horizon_s", "conditional", "tip_gwei"]
    ),
    _values | st.sampled_from(["USDC/WETH", "DAI/WETH", "WETH", "USDC", "DAI"]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_intent_args | st.text(max_size=12), min_size=1, max_size=4))
def test_fuzz_intent_calls_post_or_refuse_and_never_commit_more_than_held(
    built: tuple[Simulation, Market], calls: list[Any]
) -> None:
    sim, market = built
    board = market.intent_board
    assert board is not None
    (funded,) = [a for a in sim.agents if a.name == "llm0"]
    held = {"WETH": 50 * TOKEN, "USDC": 150_000 * TOKEN, "DAI": 150_000 * TOKEN}
    ctx = ToolContext(view_of(sim, market), funded.address, dict(held), 10**9, 50.0, 0.05)
    intents = IntentContext(board, funded.account, 0, lambda intent: None)
    accepted = 0
    for raw in calls:
        try:
            decision = run_intent_tool(
                raw if isinstance(raw, str) else json.dumps(raw), ctx, intents
            )
        except ToolError as err:
            assert str(err)
        else:
            assert isinstance(decision, OffChain) and decision.label == "intent"
            accepted += 1
    assert all(0 <= ctx.balances[s] <= held[s] for s in held)
    assert intents.nonce == accepted  # each posted intent gets the next nonce
    assert not board.posted  # nothing is posted until the wake's decisions are applied
