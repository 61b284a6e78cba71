"""The language-model escrow seller and the buyer's credential check against a local stub
server: scripted calls of ``accept``, ``decline``, ``deliver``, ``default`` and ``check_seller``
become their decisions, malformed ones are answered with readable errors, and a failed wake
applies nothing; every seller call, whatever its arguments, is a decision or a ``ToolError``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.agents.agent import AgentView, TxIntent
from agentbed.agents.config import ScenarioError
from agentbed.agents.economy.world import Deal, Economy
from agentbed.agents.llm import LLMBuyer, LLMSeller
from agentbed.agents.llm.conversation import OffChain, ToolError
from agentbed.agents.llm.seller_tools import SELLER_TOOL_NAMES, SellerContext, run_seller_tool
from agentbed.agents.sim import Simulation
from agentbed.experiments.build import build
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
ESCROW = ROOT / "scenarios" / "escrow.toml"
TOKEN = 10**18
LLM_SELLER = [
    ("agents[0].kind", "llm_buyer"),
    ("agents[0].count", 1),
    ("agents[1].kind", "llm_seller"),
    ("agents[1].count", 1),
    ("agents[1].params", {"cost": 4}),
]
Reply = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def built() -> tuple[Simulation, Economy]:
    sim, world = build(load_with_overrides(ESCROW, [("run.blocks", 1), *LLM_SELLER]))
    assert isinstance(world, Economy)
    sim.run()  # the set-up lists the sellers and stakes the arbitrators
    return sim, world


def _address(sim: Simulation, name: str) -> str:
    return next(a.address for a in sim.agents if a.name == name)


def view_of(sim: Simulation, economy: Economy) -> AgentView:
    chain = sim.chain
    return AgentView(
        now_ms=0,
        reason="block",
        head=chain.head,
        base_fee=chain.base_fee,
        nonce=0,
        confirmed_nonce=0,
        pending=(),
        trigger=None,
        new_blocks=(),
        reader=chain,
        market=economy,
    )


@pytest.fixture
def deals(built: tuple[Simulation, Economy]) -> Iterator[dict[str, int]]:
    """Two deals addressed to the llm seller, one Proposed (id 900) and one Accepted (901),
    shown to the agents for one test."""
    sim, economy = built
    now = sim.chain.head.timestamp
    common = {
        "proposer": _address(sim, "llm_buyer0"),
        "counterparty": _address(sim, "honest0"),
        "arbitrator": _address(sim, "arbitrator0"),
        "price": 10 * TOKEN,
        "proposer_bond": 2 * TOKEN,
        "counterparty_bond": 10 * TOKEN,
        "fee": TOKEN,
        "accept_by": now + 36,
        "deliver_by": now + 96,
    }
    economy.deals[900] = Deal(900, **common)
    economy.deals[901] = Deal(901, **common, state="Accepted")
    try:
        yield {"proposed": 900, "accepted": 901}
    finally:
        del economy.deals[900], economy.deals[901]


def seller(sim: Simulation, url: str, **params: Any) -> LLMSeller:
    (funded,) = [a for a in sim.agents if a.name == "honest0"]
    return LLMSeller(
        "honest0", funded.account, random.Random(1), None, backend="http", base_url=url, **params
    )


@pytest.mark.parametrize(
    ("call", "label"),
    [(("accept", {"deal": 900}), "accept"), (("deliver", {"deal": 901}), "deliver")],
)
def test_accept_and_deliver_calls_become_escrow_transactions(
    built: tuple[Simulation, Economy],
    deals: dict[str, int],
    stub: Any,
    reply: Reply,
    call: tuple[str, Any],
    label: str,
) -> None:
    sim, economy = built
    stub.script = lambda request: (200, reply(call), 0.0)
    agent = seller(sim, stub.url)
    (action,) = agent.observe(view_of(sim, economy))
    assert isinstance(action, TxIntent) and action.label == label
    assert action.meta["escrow"] == call[1]["deal"]
    (request,) = stub.requests
    names = [t["function"]["name"] for t in request["tools"]]
    assert names == ["accept", "decline", "deliver", "default", "do_nothing"]
    view = json.loads(request["messages"][1]["content"])
    assert [d["deal"] for d in view["deals"]] == [900, 901]
    assert view["delivery_cost"] == "4" and view["my_record"]["completed"] == 0


def test_declined_and_defaulted_deals_send_nothing_and_are_not_asked_about_again(
    built: tuple[Simulation, Economy], deals: dict[str, int], stub: Any, reply: Reply
) -> None:
    sim, economy = built
    calls = (("decline", {"deal": 900, "reason": "busy"}), ("default", {"deal": 901}))
    stub.script = lambda request: (200, reply(*calls), 0.0)
    agent = seller(sim, stub.url)
    assert agent.observe(view_of(sim, economy)) == ()
    assert agent.declined == {900} and agent.plans == {901: True}
    assert agent.observe(view_of(sim, economy)) == ()
    assert len(stub.requests) == 1  # nothing left to decide: the model is not asked


def test_a_failed_wake_applies_no_off_chain_decision(
    built: tuple[Simulation, Economy], deals: dict[str, int], stub: Any, reply: Reply
) -> None:
    sim, economy = built
    first = reply(("decline", {"deal": 900}), ("deliver", {"deal": 12}))

    def script(request: dict[str, Any]) -> tuple[int, Any, float]:
        return (200, first, 0.0) if len(stub.requests) == 1 else (500, b"down", 0.0)

    stub.script = script
    agent = seller(sim, stub.url)
    assert agent.observe(view_of(sim, economy)) == ()
    assert agent.declined == set() and agent.counts["failures"] == 1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (("accept", '{"deal": '), "arguments are not valid JSON"),
        (("accept", {"deal": "900"}), "deal must be an integer id"),
        (("accept", {"deal": 12345}), "deal 12345 is not an open deal addressed to you"),
        (("accept", {"deal": 901}), "deal 901 is Accepted, not Proposed"),
        (("decline", {"deal": 901}), "deal 901 is Accepted, not Proposed"),
        (("deliver", {"deal": 900}), "deal 900 is Proposed, not Accepted"),
        (("default", {"deal": 900, "why": "x"}), "unknown argument(s) why"),
        (("deliver", {}), "missing argument(s) deal"),
        (("rule", {"deal": 900}), 'unknown tool "rule"'),
    ],
)
def test_a_bad_seller_call_is_answered_with_an_error_and_the_model_tries_again(
    built: tuple[Simulation, Economy],
    deals: dict[str, int],
    stub: Any,
    reply: Reply,
    call: tuple[str, Any],
    error: str,
) -> None:
    sim, economy = built
    good = ("accept", {"deal": 900})
    stub.script = lambda request: (200, reply(good if len(stub.requests) > 1 else call), 0.0)
    agent = seller(sim, stub.url)
    (action,) = agent.observe(view_of(sim, economy))
    assert isinstance(action, TxIntent) and action.label == "accept"
    answer = stub.requests[1]["messages"][-1]["content"]
    assert answer.startswith("error: ") and error in answer


def test_one_deal_is_decided_once_per_wake_and_an_accept_needs_the_bond(
    built: tuple[Simulation, Economy], deals: dict[str, int]
) -> None:
    sim, economy = built
    owner = _address(sim, "honest0")
    ctx = context(sim, economy, owner, balance=15 * TOKEN)
    assert isinstance(run_seller_tool("accept", {"deal": 900}, ctx), TxIntent)
    assert ctx.balance == 5 * TOKEN
    with pytest.raises(ToolError, match="already decided on deal 900"):
        run_seller_tool("decline", {"deal": 900}, ctx)
    poor = context(sim, economy, owner, balance=TOKEN)
    with pytest.raises(ToolError, match="posts a bond of"):
        run_seller_tool("accept", {"deal": 900}, poor)
    late = context(sim, economy, owner, in_flight=True)
    with pytest.raises(ToolError, match="not mined yet"):
        run_seller_tool("deliver", {"deal": 901}, late)


def context(
    sim: Simulation,
    economy: Economy,
    owner: str,
    balance: int = 100 * TOKEN,
    in_flight: bool = False,
) -> SellerContext:
    return SellerContext(
        view_of(sim, economy),
        owner,
        balance,
        lambda deal, step: in_flight,
        lambda deal: None,
        lambda deal: None,
    )


values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**20) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["deal", "reason", "x"]), inner)
    ),
    max_leaves=6,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([*SELLER_TOOL_NAMES, "propose"]),
    values | st.fixed_dictionaries({"deal": st.sampled_from([900, 901, 0, -1])}),
)
def test_fuzz_any_seller_arguments_give_a_decision_or_a_tool_error(
    built: tuple[Simulation, Economy], deals: dict[str, int], name: str, arguments: Any
) -> None:
    sim, economy = built
    try:
        decision = run_seller_tool(
            name, json.dumps(arguments), context(sim, economy, _address(sim, "honest0"))
        )
    except ToolError as err:
        assert str(err)
    else:
        assert decision is None or isinstance(decision, TxIntent | OffChain)


def test_a_buyer_checks_a_seller_on_chain_then_proposes(
    built: tuple[Simulation, Economy], stub: Any, reply: Reply
) -> None:
    sim, economy = built
    target = _address(sim, "deceptive0")
    arbitrator = _address(sim, "arbitrator0")

    def script(request: dict[str, Any]) -> tuple[int, Any, float]:
        if len(stub.requests) == 1:
            return 200, reply(("check_seller", {"seller": target})), 0.0
        return 200, reply(("propose", {"seller": target, "arbitrator": arbitrator})), 0.0

    stub.script = script
    (funded,) = [a for a in sim.agents if a.name == "llm_buyer0"]
    agent = LLMBuyer(
        "llm_buyer0", funded.account, random.Random(1), None, backend="http", base_url=stub.url
    )
    agent.demand = 1.0
    (action,) = agent.observe(view_of(sim, economy))
    assert isinstance(action, TxIntent) and action.label == "propose"
    answer = stub.requests[1]["messages"][-1]["content"]
    assert answer.startswith("ok: {")
    checked = json.loads(answer[len("ok: ") :])
    assert checked["seller"] == target
    assert checked["record"]["completed"] == 0 and checked["record"]["defaulted"] == 0
    assert checked["credentials"]["shown"] == len(economy.credentials.shown_by(target))
    assert agent.counts["lookups"] == 1 and agent.counts["actions"] == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"seller": "nobody"}, 'seller "nobody" is not a listed seller'),
        ({"seller": 7}, "seller 7 is not a listed seller"),
        ({}, "missing argument(s) seller"),
        ({"seller": "x", "deep": True}, "unknown argument(s) deep"),
    ],
)
def test_a_bad_check_is_answered_with_an_error(
    built: tuple[Simulation, Economy], stub: Any, reply: Reply, args: dict[str, Any], error: str
) -> None:
    sim, economy = built
    stub.script = lambda request: (200, reply(("check_seller", args)), 0.0)
    (funded,) = [a for a in sim.agents if a.name == "llm_buyer0"]
    agent = LLMBuyer(
        "llm_buyer0",
        funded.account,
        random.Random(1),
        None,
        backend="http",
        base_url=stub.url,
        max_rounds=1,
    )
    agent.demand = 1.0
    assert agent.observe(view_of(sim, economy)) == ()
    assert error in agent.events[0]["detail"]


def test_a_rule_based_seller_parameter_is_refused_when_the_file_is_read() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_with_overrides(ESCROW, [("agents[1].kind", "llm_seller")])
    assert "agents[1].params.behaviour: behaviour is not an llm_seller parameter" in str(
        caught.value
    )


def test_a_least_margin_is_refused_too() -> None:
    """The tax lever's price response is a rule (leave below a margin): the model decides."""
    with pytest.raises(ScenarioError) as caught:
        load_with_overrides(
            ESCROW,
            [
                ("agents[1].kind", "llm_seller"),
                ("agents[1].params", {"min_margin": 5.5}),
            ],
        )
    assert "min_margin is not an llm_seller parameter" in str(caught.value)
