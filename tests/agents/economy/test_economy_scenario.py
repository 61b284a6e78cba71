"""Economy scenario files and variants: the ``[economy]`` and ``[variants.NAME]`` tables.

Loading and validation (one-line errors naming the key path, variants included), building an
economy from a file, and ``testbed compare`` over a file's variants. The mechanism tests of the
shipped economy scenarios are in ``test_commitment_scenarios.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenario_helpers import load_error

from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.study import CURRENCY
from agentbed.agents.economy.study import METRICS as ECONOMY_METRICS
from agentbed.agents.economy.world import TOKEN, Economy
from agentbed.cli import main
from agentbed.experiments.runner import BASE, compare, variant_runs
from agentbed.experiments.scenario import ScenarioError, build, load_scenario
from agentbed.experiments.sweep import (
    default_metrics,
    parse_param,
    plan_sweep,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[3]

ECONOMY = """
[run]
seed = 4
blocks = 6

[economy]
timeout_policy = "refund"
min_arbitrator_stake = 50
grace_s = 24

[[agents]]
kind = "buyer"
count = 2
funding = { AGC = 100 }
params = { price = 2.5, value = 4, demand = 1.0 }

[[agents]]
kind = "seller"
count = 2
funding = { AGC = 50 }
params = { behaviour = "opportunistic", cost = 1 }

[[agents]]
kind = "arbitrator"
count = 2
funding = { AGC = 80 }
params = { stake = 60 }

[variants.slash]
economy.timeout_policy = "slash"

[variants.picky]
"agents[0].params" = { price = 3, ignore_reputation = true }
economy.grace_s = 0
"""


def write(tmp_path: Path, text: str, name: str = "economy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_economy_table_and_currency_params_are_read_in_whole_tokens(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ECONOMY))
    assert scenario.study == "economy"
    assert scenario.pools is None  # another study's table
    assert scenario.economy is not None
    assert scenario.economy.timeout_policy == "refund"
    assert scenario.economy.min_arbitrator_stake == 50 * TOKEN
    assert scenario.economy.grace_s == 24
    buyers = scenario.agents[0]
    assert buyers.params == {"price": 2_500_000_000_000_000_000, "value": 4 * TOKEN, "demand": 1.0}
    assert buyers.funding == {CURRENCY: 100 * TOKEN}


def test_variants_override_the_file_and_each_is_a_whole_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ECONOMY))
    assert list(scenario.variants) == ["slash", "picky"]
    assert scenario.variants["slash"] == (("economy.timeout_policy", "slash"),)
    slash = scenario.variant_named("slash")
    assert slash.variant == "slash" and slash.economy is not None
    assert slash.economy.timeout_policy == "slash"
    assert slash.economy.grace_s == 24  # untouched keys stay as written
    picky = scenario.variant_named("picky")
    # A quoted path replaces the whole table: demand and value fall back to their defaults.
    assert picky.agents[0].params == {"price": 3 * TOKEN, "ignore_reputation": True}
    assert picky.economy is not None and picky.economy.grace_s == 0
    assert scenario.economy is not None and scenario.economy.timeout_policy == "refund"
    with pytest.raises(ValueError, match=r"no variant 'nope'.*slash, picky"):
        scenario.variant_named("nope")


BROKEN = [
    # (replace this, with this, key path, fragment of the expectation)
    ('timeout_policy = "refund"', 'timeout_policy = "burn"', "economy.timeout_policy", "slash"),
    ("grace_s = 24", "grace_s = -1", "economy.grace_s", ">= 0"),
    ("grace_s = 24", "grace = 24", "economy.grace", "did you mean 'grace_s'"),
    (
        "min_arbitrator_stake = 50",
        "min_arbitrator_stake = -5",
        "economy.min_arbitrator_stake",
        ">= 0",
    ),
    ("grace_s = 24", "grace_s = 24\ncommunity = 1", "economy.community", "expected a boolean"),
    ("AGC = 100", "WETH = 100", "agents[0].funding.WETH", "unknown key"),
    ("price = 2.5", "price = -2.5", "agents[0].params.price", ">= 0"),
    ('behaviour = "opportunistic"', 'behaviour = "sly"', "agents[1].params.behaviour", "sly"),
    ('kind = "buyer"', 'kind = "retail"', "agents[0].kind", "a strategy of the market study"),
    (
        'economy.timeout_policy = "slash"',
        'economy.timeout_policy = "slsh"',
        "variants.slash.economy.timeout_policy",
        "expected one of slash, refund",
    ),
    (
        'economy.timeout_policy = "slash"',
        '"agents[7].count" = 1',
        "variants.slash.agents[7]",
        "no such entry",
    ),
    ('economy.timeout_policy = "slash"', "run.seed = 9", "variants.slash.run.seed", "seed"),
    ("[variants.slash]", "[variants.base]", "variants.base", "names the file as written"),
    ("[variants.slash]", '[variants."a b"]', "variants.a b", "letters, digits"),
    ('economy.timeout_policy = "slash"', "", "variants.slash", "at least one key path"),
]


@pytest.mark.parametrize(("old", "new", "key", "expected"), BROKEN)
def test_broken_economy_or_variant_gives_one_line_naming_the_key(
    tmp_path: Path, old: str, new: str, key: str, expected: str
) -> None:
    assert old in ECONOMY
    load_error(write(tmp_path, ECONOMY.replace(old, new, 1)), key, expected)


def test_a_scenario_is_a_market_or_an_economy(tmp_path: Path) -> None:
    both = ECONOMY.replace(
        "[economy]",
        '[[pools]]\ntoken0 = "WETH"\ntoken1 = "USDC"\nreserve0 = 1\nreserve1 = 1\n\n[economy]',
    )
    with pytest.raises(ScenarioError, match=r"pools: a scenario has either \[\[pools\]\]"):
        load_scenario(write(tmp_path, both))
    small = (ROOT / "scenarios" / "small.toml").read_text()
    with_buyer = small + '\n[[agents]]\nkind = "buyer"\n'
    with pytest.raises(ScenarioError, match=r"kind: 'buyer' is a strategy of the economy study"):
        load_scenario(write(tmp_path, with_buyer, "market.toml"))


def test_build_deploys_the_economy_of_the_file_and_funds_the_agents(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ECONOMY)).variant_named("slash")
    sim, economy = build(scenario)
    assert isinstance(economy, Economy) and sim.market is economy
    assert economy.escrow.functions.timeoutPolicy().call() == 1  # SlashBoth
    assert economy.escrow.functions.gracePeriod().call() == 24
    assert economy.escrow.functions.minArbitratorStake().call() == 50 * TOKEN
    roles = [type(a) for a in sim.agents]
    assert roles == [ServiceBuyer] * 2 + [ServiceSeller] * 2 + [Arbitrator] * 2
    balances = [economy.currency.functions.balanceOf(a.address).call() for a in sim.agents]
    assert balances == [100 * TOKEN] * 2 + [50 * TOKEN] * 2 + [80 * TOKEN] * 2
    agents = {a.address for a in sim.agents}
    assert economy.treasury not in agents and economy.admin.address not in agents


def test_compare_runs_base_and_variants_over_seeds(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ECONOMY))
    runs, report = compare(
        scenario, variant_runs(scenario, [BASE, "slash"]), tmp_path / "out", seeds=2
    )
    assert [r.report.label for r in runs] == ["base", "base", "slash", "slash"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    first, second = (f"seed{s}" for s in summary["seeds"])
    assert summary["variants"] == ["base", "slash"]
    assert summary["runs"]["base"][first]["timeout_policy"] == "refund"
    assert summary["runs"]["slash"][second]["timeout_policy"] == "slash"
    assert summary["runs"]["slash"][first]["variant"] == "slash"
    welfare = summary["statistics"]["metrics"]["slash"]["welfare.total"]
    assert welfare["values"] == [
        summary["runs"]["slash"][s]["welfare"]["total"] for s in (first, second)
    ]
    assert summary["statistics"]["baseline"] == "base"
    text = report.read_text()
    assert "| variant |" in text and "| slash |" in text
    assert "Seed-paired difference against base" in text
    assert (
        "Variant **slash**: `economy.timeout_policy` = 'slash'."
        in (tmp_path / "out" / "slash" / first / "report.md").read_text()
    )
    with pytest.raises(ValueError, match="variant listed twice"):
        variant_runs(scenario, ["slash", "slash"])


def test_cli_compare_defaults_to_the_variants_and_rejects_unknown_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, ECONOMY.replace("blocks = 6", "blocks = 2"))
    assert (
        main(["compare", str(path), "--variants", "base,nope", "--out", str(tmp_path / "x")]) == 2
    )
    assert "no variant 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    argv = ["compare", str(path), "--out", str(tmp_path / "y"), "--jobs", "1", "--seeds", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "compared 3 x 2 seeds = 6 runs" in out
    assert {p.name for p in (tmp_path / "y").iterdir() if p.is_dir()} == {"base", "slash", "picky"}
    assert len(list((tmp_path / "y" / "picky").iterdir())) == 2


def test_shipped_economy_scenarios_load_with_their_variants() -> None:
    escrow = load_scenario(ROOT / "scenarios" / "escrow.toml")
    assert set(escrow.variants) >= {"refund", "no_stake", "no_reputation", "no_stake_community"}
    congestion = load_scenario(ROOT / "scenarios" / "congestion.toml")
    grace = congestion.variant_named("grace")
    assert grace.economy is not None and grace.economy.grace_s > 0
    assert congestion.economy is not None and congestion.economy.grace_s == 0


def test_cli_run_picks_one_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ECONOMY.replace("blocks = 6", "blocks = 2"))
    assert main(["run", str(path), "--variant", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "no variant 'nope' in" in capsys.readouterr().err
    assert main(["run", str(path), "--variant", "slash", "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert (summary["variant"], summary["timeout_policy"]) == ("slash", "slash")
    assert "(slash variant)" in (tmp_path / "r" / "report.md").read_text()


def test_sweep_of_an_economy_scenario_tabulates_the_economy_metrics(tmp_path: Path) -> None:
    path = write(tmp_path, ECONOMY.replace("blocks = 6", "blocks = 2"))
    plan = plan_sweep(
        path, [parse_param("economy.timeout_policy=slash,refund")], seeds=1, out=tmp_path / "s"
    )
    scenario = plan.scenarios[plan.cells[0].id]
    result = run_sweep(plan, metrics=default_metrics(scenario), jobs=1)
    assert result.metrics == ECONOMY_METRICS
    table = result.md_path.read_text()
    assert "| settlement_rate |" in table and "| welfare.total |" in table
