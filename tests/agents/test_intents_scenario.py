"""The intents scenario: intent makers beside public swappers under sandwichers.

One short run of ``scenarios/intents.toml`` (bundles-first ordering, where sandwiches land
most often) is shared by the module: its intents are filled and never squeezed, while public
swaps are; the summary's ``intents`` block agrees with itself. ``[intents]`` validation names
the offending key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents.accounting import RunAccount, account_run
from agents.intents import Pricing
from agents.mev import DetectedSandwich
from agents.report import summarize
from agents.scenario import Scenario, ScenarioError, build, load_scenario, parse_scenario
from agents.sim import Simulation

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ROOT / "scenarios" / "intents.toml"
BLOCKS = 12
POLICY = "bundles"


@dataclass(frozen=True)
class IntentsRun:
    scenario: Scenario
    sim: Simulation
    account: RunAccount
    summary: dict[str, Any]


def small_copy(tmp: Path) -> Path:
    text = INTENTS.read_text(encoding="utf-8")
    assert "\nblocks = 30\n" in text
    path = tmp / "intents.toml"
    path.write_text(text.replace("\nblocks = 30\n", f"\nblocks = {BLOCKS}\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> IntentsRun:
    scenario = load_scenario(small_copy(tmp_path_factory.mktemp("intents")))
    sim, market = build(scenario, policy=POLICY)
    sim.run()
    kinds = {agent: group.kind for group in scenario.agents for agent in group.agent_names()}
    account = account_run(sim, market, numeraire=scenario.market.numeraire, kinds=kinds)
    report = summarize(sim, account, scenario, POLICY, scenario.run.seed)
    return IntentsRun(scenario, sim, account, report.summary)


def kind_of(run: IntentsRun, tx: bytes) -> str:
    """The scenario kind of the agent that sent ``tx`` ("" if no agent did)."""
    kinds = {a: g.kind for g in run.scenario.agents for a in g.agent_names()}
    sent = run.sim.sent.get(tx)
    return "" if sent is None else kinds.get(sent.agent, "")


def test_scenario_loads_with_its_intent_book() -> None:
    scenario = load_scenario(INTENTS)
    assert scenario.intents is not None
    assert scenario.intents.pricing == "pay_as_filled"
    kinds = {g.kind for g in scenario.agents}
    assert {"retail", "intent_maker", "solver", "sandwicher", "arbitrageur"} <= kinds


def test_build_deploys_the_configured_book_variant() -> None:
    data = tomllib.loads(INTENTS.read_text(encoding="utf-8"))
    data["intents"]["pricing"] = "uniform"
    data["run"]["blocks"] = 1
    _, market = build(parse_scenario(data, str(INTENTS)))
    assert market.intent_board is not None
    assert market.intent_board.pricing == Pricing.UNIFORM_PRICE
    assert market.intent_board.share_bps == data["intents"]["solver_share_bps"]


def test_intents_are_filled(run: IntentsRun) -> None:
    intents = run.summary["intents"]
    assert intents["posted"] >= 10
    assert intents["filled"] >= intents["posted"] // 2
    assert intents["filled"] <= intents["posted"]
    assert intents["fill_rate"] == pytest.approx(intents["filled"] / intents["posted"])


def test_makers_are_never_sandwiched_but_public_swaps_are(run: IntentsRun) -> None:
    true_victims = set(run.account.truth.victims)
    detected_victims = {
        tx for d in run.account.detected if isinstance(d, DetectedSandwich) for tx in d.victim_txs
    }
    victim_kinds = {kind_of(run, tx) for tx in true_victims | detected_victims}
    # Makers send no swaps and solvers' settlements are not sandwiched either.
    assert not victim_kinds & {"intent_maker", "solver"}
    assert "retail" in victim_kinds
    assert run.summary["sandwiches"]["true"] >= 1
    assert run.summary["intents"]["maker_victim_loss"] == 0
    assert run.summary["intents"]["public_victim_loss"] > 0


def test_summary_intents_block_is_consistent(run: IntentsRun) -> None:
    intents = run.summary["intents"]
    assert intents["maker_surplus"] > 0
    assert intents["solver_rewards"] > 0  # solver_share_bps > 0 and makers beat their limits
    latency = intents["fill_latency_ms"]
    assert 0 < latency["mean"] <= latency["max"]
    assert latency["max"] <= run.scenario.run.blocks * run.scenario.run.block_time_ms
    assert intents["public_victim_loss"] == pytest.approx(run.summary["victim_loss"])


def test_scenario_without_intents_table_has_no_book() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "mev.toml")
    assert scenario.intents is None


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["intents"].update(pricing="dutch"), "intents.pricing"),
        (lambda d: d["intents"].update(on_unmet="ignore"), "intents.on_unmet"),
        (lambda d: d["intents"].update(solver_share_bps=10_001), "intents.solver_share_bps"),
        (lambda d: d["intents"].update(solver_share=5), "intents.solver_share"),
        (lambda d: d.pop("intents"), "intents"),
    ],
    ids=["pricing", "on_unmet", "share_range", "unknown_key", "missing_table"],
)
def test_revert_when_intents_table_is_invalid(edit: Any, key: str) -> None:
    data = tomllib.loads(INTENTS.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "intents.toml")
    assert info.value.key == key
    assert key in str(info.value)
