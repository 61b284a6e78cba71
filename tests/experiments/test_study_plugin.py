"""Studies as plug-ins: the registry, a third study named by import path, and the boundary.

The counter study (``tests/studykit/counter.py``) is not in the registry: its scenario files name
it with ``study = "studykit.counter:STUDY"``, and it runs through ``testbed run`` and
``testbed compare`` like the built-in studies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scenario_helpers import load_error
from studykit.counter import Clicker, CounterWorld

from agentbed.agents.study import Study
from agentbed.cli import main
from agentbed.experiments import studies
from agentbed.experiments.scenario import build, load_scenario
from agentbed.experiments.sweep import default_metrics

EXPERIMENTS = Path(studies.__file__).resolve().parent
TOKEN = 10**18

COUNTER = """
study = "studykit.counter:STUDY"

[run]
name = "clicks"
seed = 5
blocks = 4
block_time_ms = 2000
gas_limit = 3_000_000

[counter]
symbol = "CLK"

[[agents]]
kind = "clicker"
count = 2
funding = { CLK = 10 }
params = { step = 1.5 }
schedule = { kind = "periodic", period_ms = 2000 }

[[agents]]
kind = "watcher"

[variants.small_steps]
"agents[0].params.step" = 0.5
"""


def write(tmp_path: Path, text: str = COUNTER) -> Path:
    path = tmp_path / "counter.toml"
    path.write_text(text)
    return path


def test_registry_holds_the_built_in_studies_under_their_names() -> None:
    found = studies.registered()
    assert list(found) == ["market", "economy", "sim_economy"]
    for name, study in found.items():
        assert isinstance(study, Study)
        assert study.name == name
        assert study.sections and study.strategies and study.metrics
    keys = [{studies.section_key(h) for h in s.sections} for s in found.values()]
    assert sum(map(len, keys)) == len(set().union(*keys))  # a file's tables say whose it is


def test_a_study_named_by_import_path_reads_its_own_tables(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path))
    assert scenario.study == "studykit.counter:STUDY"
    assert scenario.counter.symbol == "CLK"
    assert scenario.pools is None and scenario.economy is None  # other studies' tables
    clickers, watcher = scenario.agents
    assert clickers.params == {"step": 3 * TOKEN // 2}  # a token parameter, in wei
    assert clickers.funding == {"CLK": 10 * TOKEN}
    assert watcher.kind == "watcher"
    assert default_metrics(scenario) == ("clicks", "sink_balance")
    assert scenario.variant_named("small_steps").agents[0].params == {"step": TOKEN // 2}


def test_build_deploys_the_study_world_and_funds_its_agents(tmp_path: Path) -> None:
    sim, world = build(load_scenario(write(tmp_path)))
    assert isinstance(world, CounterWorld) and sim.market is world
    assert [type(a) for a in sim.agents] == [Clicker, Clicker, type(sim.agents[2])]
    assert world.sink == sim.chain.accounts[-1].address  # the study's extra account
    assert world.sink not in {a.address for a in sim.agents}
    sim.run()
    assert world.clicks > 0
    assert world.sink_balance() == world.clicks * 3 * TOKEN // 2


BROKEN = [
    ('symbol = "CLK"', 'symbl = "CLK"', "counter.symbl", "did you mean 'symbol'"),
    ('kind = "watcher"', 'kind = "clack"', "agents[1].kind", "expected one of clicker, watcher"),
    (
        'kind = "watcher"',
        'kind = "retail"',
        "agents[1].kind",
        "'retail' is a strategy of the market study",
    ),
    ("CLK = 10", "USDC = 10", "agents[0].funding.USDC", "unknown key (allowed: CLK)"),
    ("funding = { CLK = 10 }", "funding = {}", "agents[0].funding", "a clicker needs CLK"),
    ("step = 1.5", "step = -1", "agents[0].params.step", ">= 0"),
    ("[counter]", "[economy]\n\n[counter]", "economy", "unknown key"),
    ('"agents[0].params.step" = 0.5', 'study = "market"', "variants.small_steps.study", "study"),
    ("studykit.counter:STUDY", "nope", "study", "unknown study 'nope'; expected one of market"),
    ("studykit.counter:STUDY", "studykit.counter:GONE", "study", "does not import"),
    ("studykit.counter:STUDY", "studykit.counter:CounterWorld", "study", "not a Study"),
]


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN, ids=[b[2] for b in BROKEN])
def test_revert_when_a_study_table_or_kind_is_wrong(
    tmp_path: Path, old: str, new: str, key: str, fragment: str
) -> None:
    assert old in COUNTER
    load_error(write(tmp_path, COUNTER.replace(old, new, 1)), key, fragment)


def test_testbed_run_runs_a_third_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path)), "--out", str(out), "--policy", "fifo"]) == 0
    stdout = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["policy"], summary["seed"], summary["blocks"]) == ("fifo", 5, 4)
    assert summary["clicks"] > 0
    assert summary["sink_balance"] == summary["clicks"] * 1.5
    assert "fifo: " in stdout and f"{summary['clicks']} clicks" in stdout
    assert "| fifo |" in (out / "report.md").read_text()
    assert (out / "events.jsonl").exists()


def test_testbed_compare_runs_the_variants_of_a_third_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", str(write(tmp_path)), "--out", str(out), "--jobs", "1", "--seeds", "2"]
    assert main(argv) == 0
    runs = json.loads((out / "summary.json").read_text())["runs"]
    assert list(runs) == ["base", "small_steps"]
    assert runs["base"]["clicks"] == runs["small_steps"]["clicks"]  # same seed, same wakes
    assert runs["small_steps"]["sink_balance"] == runs["base"]["sink_balance"] / 3
    assert "| variant | clicks |" in (out / "report.md").read_text()
    assert (out / "small_steps" / "seed5" / "summary.json").exists()
    assert (out / "small_steps" / "seed6" / "summary.json").exists()


def test_experiments_name_no_study_outside_the_registry() -> None:
    # The boundary a new study relies on: runner, parser, builder and sweep know studies only
    # through the Study protocol; the registry's lines are the one place that names them.
    names = re.compile(r"market|economy", re.IGNORECASE)
    found = {
        f"{path.name}:{number}": line.strip()
        for path in sorted(EXPERIMENTS.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if names.search(line)
    }
    assert all(key.startswith("studies.py:") for key in found), found
    assert sorted(found.values()) == [
        '"economy": "agentbed.agents.economy.study:STUDY",',
        '"market": "agentbed.agents.market.study:STUDY",',
        '"sim_economy": "agentbed.agents.simecon.study:STUDY",',
    ]
