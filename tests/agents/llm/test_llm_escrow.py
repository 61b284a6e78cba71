"""The language-model escrow buyer: the escrow market with its buyers replaced by ``llm_buyer``
runs on the scripted responder, records and replays byte-identically, and closes its books;
every escrow tool call is checked (whatever its arguments: an action or a ``ToolError``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.agents.agent import AgentView, TxIntent
from agentbed.agents.economy.consent import Terms
from agentbed.agents.economy.world import Economy
from agentbed.agents.llm.conversation import Lookup, ToolError
from agentbed.agents.llm.escrow_tools import ESCROW_TOOL_NAMES, EscrowContext, run_escrow_tool
from agentbed.agents.sim import Simulation
from agentbed.experiments.build import build
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
ESCROW = ROOT / "scenarios" / "escrow.toml"
LLM_BUYERS = [("agents[0].kind", "llm_buyer"), ("agents[0].count", 3)]
TOKEN = 10**18


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


LLM_SELLERS = [
    # A seller whose delivery costs more than the price (it accepts, then defaults), then one
    # that delivers: the scripted buyers try the first, check the second and deal with it.
    ("agents[1].kind", "llm_seller"),
    ("agents[1].name", "llm_greedy"),
    ("agents[1].count", 1),
    ("agents[1].params", {"cost": 15}),
    ("agents[2].kind", "llm_seller"),
    ("agents[2].name", "llm_seller"),
    ("agents[2].count", 1),
    ("agents[2].params", {"cost": 4, "token_cost": 0.01}),
]


def _submitted(out: Path) -> set[tuple[str, str]]:
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    return {(e["agent"], e["label"]) for e in events if e.get("event") == "submitted"}


def test_llm_buyers_and_sellers_trade_record_and_replay_byte_identically(tmp_path: Path) -> None:
    def scenario(mode: str) -> Any:
        cassettes = str(tmp_path / "cassettes")
        return load_with_overrides(
            ESCROW,
            [
                ("run.blocks", 14),
                *LLM_BUYERS,
                *LLM_SELLERS,
                ("agents[0].params.token_cost", 0.01),
                ("agents[0].params.mode", mode),
                ("agents[0].params.cassette_dir", cassettes),
                ("agents[1].params.mode", mode),
                ("agents[1].params.cassette_dir", cassettes),
                ("agents[2].params.mode", mode),
                ("agents[2].params.cassette_dir", cassettes),
            ],
        )

    recorded = run_scenario(scenario("record"), tmp_path / "record")
    replayed = run_scenario(scenario("replay"), tmp_path / "replay")
    assert _files(replayed.out_dir) == _files(recorded.out_dir)
    summary = recorded.report.summary
    assert summary["closure"]["closes"] is True
    llm = summary["llm"]["agents"]
    assert summary["llm"]["total"]["refused_calls"] == 0
    assert all(llm[f"llm_buyer{i}"]["lookups"] > 0 for i in range(3))  # check_seller
    sent = _submitted(recorded.out_dir)
    assert {
        ("llm_greedy0", "accept"),
        ("llm_seller0", "accept"),
        ("llm_seller0", "deliver"),
    } <= sent
    assert ("llm_greedy0", "deliver") not in sent
    assert {a for a, label in sent if label == "propose"} <= {f"llm_buyer{i}" for i in range(3)}
    deals = (recorded.out_dir / "deals.csv").read_text().splitlines()
    # The greedy seller's defaults are planned defaults in the reports, and lost in disputes.
    greedy = [row.split(",") for row in deals[1:] if ",llm_greedy0,llm," in row]
    assert greedy and any(row[6] == "Ruled" for row in greedy)
    assert all(row[-1] in ("True", "") for row in greedy)


@pytest.fixture(scope="module")
def built() -> tuple[Simulation, Economy]:
    sim, world = build(load_with_overrides(ESCROW, [("run.blocks", 1), *LLM_BUYERS]))
    assert isinstance(world, Economy)
    sim.run()  # the set-up lists the sellers and stakes the arbitrators
    return sim, world


def context(sim: Simulation, economy: Economy, room: int = 1, balance: int = 100) -> EscrowContext:
    chain = sim.chain
    view = AgentView(
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
    owner = sim.agents[0].address
    now = chain.head.timestamp

    def terms(seller: str, arbitrator: str) -> Terms:
        return Terms(
            seller, arbitrator, 10 * TOKEN, 2 * TOKEN, 10 * TOKEN, TOKEN, now + 36, now + 96
        )

    return EscrowContext(
        view,
        owner,
        balance * TOKEN,
        room,
        13 * TOKEN,
        terms,
        lambda a: economy.eligible(chain, a),
    )


def _agent(sim: Simulation, name: str) -> str:
    return next(a.address for a in sim.agents if a.name == name)


def test_a_proposal_to_a_listed_seller_with_a_staked_arbitrator_is_sent(
    built: tuple[Simulation, Economy],
) -> None:
    sim, economy = built
    ctx = context(sim, economy)
    args = {"seller": _agent(sim, "honest0"), "arbitrator": _agent(sim, "arbitrator0")}
    action = run_escrow_tool("propose", json.dumps(args), ctx)
    assert isinstance(action, TxIntent) and action.label == "propose"
    assert ctx.room == 0 and ctx.balance == 87 * TOKEN
    with pytest.raises(ToolError, match="no room for another open deal"):
        run_escrow_tool("propose", json.dumps(args), ctx)


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        ("propose", {"seller": "llm_buyer1", "arbitrator": "arbitrator0"}, "not a listed seller"),
        ("propose", {"seller": "honest0", "arbitrator": "honest1"}, "not a listed third party"),
        ("propose", {"seller": "honest0", "arbitrator": "unstaked0"}, "lacks the stake"),
        ("propose", {"seller": "honest0"}, "missing argument(s) arbitrator"),
        ("confirm", {"deal": 12345}, "deal 12345 is not one of your open deals"),
        ("dispute", {"deal": "7"}, "deal must be an integer id"),
        ("dispute", {"deal": 0, "why": 1}, "unknown argument(s) why"),
        ("rule", {"deal": 0}, 'unknown tool "rule"'),
    ],
)
def test_each_escrow_check_says_what_was_wrong(
    built: tuple[Simulation, Economy], name: str, args: dict[str, Any], error: str
) -> None:
    sim, economy = built
    names = {a.name: a.address for a in sim.agents}
    resolved = {k: names.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    with pytest.raises(ToolError) as caught:
        run_escrow_tool(name, json.dumps(resolved), context(sim, economy))
    assert error in str(caught.value)


def test_a_proposal_beyond_the_balance_is_refused(built: tuple[Simulation, Economy]) -> None:
    sim, economy = built
    args = {"seller": _agent(sim, "honest0"), "arbitrator": _agent(sim, "arbitrator0")}
    with pytest.raises(ToolError, match="a proposal locks"):
        run_escrow_tool("propose", json.dumps(args), context(sim, economy, balance=5))


values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**20) | st.text(max_size=45),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["seller", "arbitrator", "deal", "reason", "x"]), inner)
    ),
    max_leaves=8,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([*ESCROW_TOOL_NAMES, "swap"]), values | st.text(max_size=20))
def test_fuzz_any_escrow_arguments_give_an_action_or_a_tool_error(
    built: tuple[Simulation, Economy], name: str, arguments: Any
) -> None:
    sim, economy = built
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    try:
        action = run_escrow_tool(name, raw, context(sim, economy))
    except ToolError as err:
        assert str(err)
    else:
        assert action is None or isinstance(action, TxIntent | Lookup)
