"""Running scenarios and writing reports: determinism, interruption, comparison, files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from scenario_helpers import with_blocks, with_bomb

from agentbed.agents.eventlog import read_events
from agentbed.agents.market.report import PLOTS, write_atomic
from agentbed.experiments.runner import compare, policy_runs, run_scenario, seed_range
from agentbed.experiments.scenario import Scenario, build, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"
MEV = ROOT / "scenarios" / "mev.toml"
RUN_FILES = {
    "blocks.csv",
    "agents.csv",
    "victims.csv",
    "summary.json",
    "events.jsonl",
    "report.md",
    *PLOTS,
}


def short_scenario(tmp_path: Path, blocks: int = 8, *, bomb: bool = False) -> Scenario:
    text = with_blocks(SMALL.read_text(), blocks)
    if bomb:
        text = with_bomb(text)
    path = tmp_path / "short.toml"
    path.write_text(text)
    return load_scenario(path)


def test_run_writes_every_report_file(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path)
    out = tmp_path / "out"
    outcome = run_scenario(scenario, out)
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert outcome.report_path == out / "report.md"
    with (out / "blocks.csv").open() as f:
        blocks = list(csv.DictReader(f))
    assert len(blocks) == 8
    assert [int(b["block"]) for b in blocks] == list(
        range(int(blocks[0]["block"]), int(blocks[0]["block"]) + 8)
    )
    with (out / "agents.csv").open() as f:
        agents = list(csv.DictReader(f))
    assert [a["name"] for a in agents] == [f"retail{i}" for i in range(8)]
    assert {a["kind"] for a in agents} == {"retail"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["policy"] == "priority" and summary["blocks"] == 8
    assert summary["txs"] == sum(int(b["txs"]) for b in blocks)
    assert summary["sent"] == sum(int(a["sent"]) for a in agents)
    assert summary["by_kind"]["retail"]["agents"] == 8
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "| policy | victim loss (USDC)" in report
    assert "| priority |" in report
    assert all(f"]({name})" in report for name in PLOTS)
    events = read_events(out / "events.jsonl")
    assert sum(1 for e in events if e["event"] == "block") >= 8


def test_same_seed_gives_identical_files_and_another_seed_different(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path)
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    run_scenario(scenario, one)
    run_scenario(scenario, two)
    run_scenario(scenario, other, seed=scenario.run.seed + 1)
    for name in sorted(RUN_FILES):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    first = json.loads((one / "summary.json").read_text())
    changed = json.loads((other / "summary.json").read_text())
    assert changed["seed"] != first["seed"]
    assert (changed["txs"], changed["by_kind"]) != (first["txs"], first["by_kind"])
    assert (one / "events.jsonl").read_bytes() != (other / "events.jsonl").read_bytes()


def test_interrupted_run_keeps_the_log_to_the_last_block_and_writes_no_report(
    tmp_path: Path,
) -> None:
    scenario = short_scenario(tmp_path, blocks=20, bomb=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt):
        run_scenario(scenario, out)
    events = read_events(out / "events.jsonl")
    blocks = [e["number"] for e in events if e["event"] == "block"]
    assert events[-1]["event"] == "interrupted"
    assert events[-1]["last_block"] == blocks[-1]
    assert blocks == list(range(blocks[0], blocks[0] + len(blocks)))
    assert 3 <= len(blocks) < 20
    assert {p.name for p in out.iterdir()} == {"events.jsonl", "notes.txt"}
    assert (out / "notes.txt").read_text() == "mine"


def test_a_new_run_replaces_its_own_files_and_leaves_others(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path, blocks=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.jsonl").write_text('{"event":"stale"}\n')
    (out / "mine.csv").write_text("keep")
    run_scenario(scenario, out)
    assert all(e["event"] != "stale" for e in read_events(out / "events.jsonl"))
    assert (out / "mine.csv").read_text() == "keep"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_write_atomic_leaves_nothing_half_written(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_compare_runs_every_seed_and_does_not_depend_on_jobs(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path, blocks=6)
    lines: list[str] = []
    runs, report = compare(
        scenario,
        policy_runs(scenario, ["fifo", "random"]),
        tmp_path / "seq",
        seed=3,
        seeds=2,
        jobs=1,
        echo=lines.append,
    )
    assert report == tmp_path / "seq" / "report.md"
    assert [(r.report.policy, r.out_dir.name) for r in runs] == [
        ("fifo", "seed3"),
        ("fifo", "seed4"),
        ("random", "seed3"),
        ("random", "seed4"),
    ]
    assert sum("fifo seed 4:" in line for line in lines) == 1
    assert lines[-1].startswith("[4/4] random seed 4: ")
    compare(
        scenario,
        policy_runs(scenario, ["fifo", "random"]),
        tmp_path / "par",
        seed=3,
        seeds=2,
        jobs=2,
    )
    for directory in ("seq", "par"):
        names = {p.name for p in (tmp_path / directory).iterdir()}
        assert names == (RUN_FILES - {"events.jsonl"}) | {"fifo", "random"}
        for policy in ("fifo", "random"):
            assert {p.name for p in (tmp_path / directory / policy).iterdir()} == {"seed3", "seed4"}
            for seed in ("seed3", "seed4"):
                files = {p.name for p in (tmp_path / directory / policy / seed).iterdir()}
                assert files == RUN_FILES
    # The same seeds give the same files, byte for byte, whichever way the runs were spread.
    for name in RUN_FILES - {"events.jsonl"}:
        assert (tmp_path / "seq" / name).read_bytes() == (tmp_path / "par" / name).read_bytes()
    assert (tmp_path / "seq" / "fifo" / "seed4" / "events.jsonl").read_bytes() == (
        tmp_path / "par" / "fifo" / "seed4" / "events.jsonl"
    ).read_bytes()
    summary = json.loads((tmp_path / "seq" / "summary.json").read_text())
    assert summary["policies"] == ["fifo", "random"] and summary["seeds"] == [3, 4]
    assert summary["runs"]["fifo"]["seed3"]["policy_name"] == "fifo"
    assert summary["runs"]["random"]["seed4"]["seed"] == 4
    stats = summary["statistics"]
    assert stats["baseline"] == "fifo"
    loss = stats["metrics"]["random"]["victim_loss"]
    assert loss["values"] == [summary["runs"]["random"][f"seed{s}"]["victim_loss"] for s in (3, 4)]
    assert loss["interval"]["n"] == 2 and loss["difference"]["n"] == 2
    with (tmp_path / "seq" / "blocks.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["policy"], r["seed"]) for r in rows] == (
        [("fifo", "3")] * 6 + [("fifo", "4")] * 6 + [("random", "3")] * 6 + [("random", "4")] * 6
    )
    text = report.read_text()
    assert text.startswith("# small (ordering policies compared over 2 seeds)\n\n**Who pays")
    assert "- **random** against fifo, paired by seed:" in text
    assert "| fifo | 0.00 [0.00, 0.00] |" in text  # no attackers in this scenario
    assert "Closure is exact in wei on all 2 x 2 runs" in text
    assert "Searcher profit +" not in text and "against priority" not in text
    assert str(tmp_path) not in text and "/" not in text.split("Scenario `", 1)[1].split("`")[0]


def test_compare_with_one_seed_is_still_a_comparison(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path, blocks=3)
    runs, report = compare(scenario, policy_runs(scenario, ["priority", "bundles"]), tmp_path / "o")
    assert [r.out_dir for r in runs] == [
        tmp_path / "o" / "priority" / "seed1",
        tmp_path / "o" / "bundles" / "seed1",
    ]
    text = report.read_text()
    assert "over 1 seed)" in text
    assert "- **bundles** against priority, paired by seed: not distinguishable at 1 seed:" in text


@pytest.mark.parametrize(
    ("seeds", "root", "message"),
    [
        (0, 1, "--seeds must be between 1 and 1000, got 0"),
        (-2, 1, "--seeds must be between 1 and 1000, got -2"),
        (10**9, 1, "--seeds must be between 1 and 1000, got 1000000000"),
        (2, -1, "--seed must be >= 0, got -1"),
    ],
)
def test_compare_rejects_bad_seeds_before_running(
    tmp_path: Path, seeds: int, root: int, message: str
) -> None:
    scenario = short_scenario(tmp_path, blocks=2)
    with pytest.raises(ValueError, match=re.escape(message)):
        compare(scenario, policy_runs(scenario, ["fifo"]), tmp_path / "x", seed=root, seeds=seeds)
    with pytest.raises(ValueError, match="--baseline 'random' is not compared; compared: fifo"):
        compare(scenario, policy_runs(scenario, ["fifo"]), tmp_path / "x", baseline="random")
    assert not (tmp_path / "x").exists()


def test_seed_range_is_root_and_the_seeds_after_it() -> None:
    assert seed_range(7, 5) == (7, 8, 9, 10, 11)
    assert seed_range(0, 1) == (0,)


def test_compare_rejects_repeated_or_unknown_policies(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path, blocks=2)
    with pytest.raises(ValueError, match="listed twice: fifo"):
        compare(scenario, policy_runs(scenario, ["fifo", "fifo"]), tmp_path / "x")
    with pytest.raises(ValueError, match="valid policies"):
        compare(scenario, policy_runs(scenario, ["fifo", "lifo"]), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_funding_and_set_up_larger_than_a_block_finish_before_the_run(tmp_path: Path) -> None:
    # 40 agents: their mints (~3.6M gas) and approvals (~3.7M) each overflow a 2.5M block.
    text = with_blocks(SMALL.read_text(), 2)
    text = text.replace("gas_limit = 3_000_000", "gas_limit = 2_500_000")
    text = text.replace("count = 8", "count = 40").replace("rate_per_s = 0.25", "rate_per_s = 0.01")
    path = tmp_path / "crowded.toml"
    path.write_text(text)
    scenario = load_scenario(path)
    sim, market = build(scenario)
    funded = sim.chain.block_number
    sim.run()
    assert sim.metrics[0].number > funded + 1  # the set-up took more than one block
    measured = [r for m in sim.metrics for r in sim.chain.receipts(m.number)]
    assert all(sim.sent[r.tx_hash].label == "trade" for r in measured)
    assert all(r.to not in market.tokens.values() for r in measured)


@pytest.mark.parametrize("policy", ["priority", "bundles"])
def test_flagship_cast_is_deterministic(tmp_path: Path, policy: str) -> None:
    # Every searcher kind, private bundles and the demand shock, over a few blocks.
    text = with_blocks(MEV.read_text(), 6)
    text = re.sub(r"start_block = \d+, end_block = \d+", "start_block = 2, end_block = 4", text)
    assert "start_block = 2" in text
    path = tmp_path / "mev_short.toml"
    path.write_text(text)
    scenario = load_scenario(path)
    one, two = tmp_path / "one", tmp_path / "two"
    run_scenario(scenario, one, policy=policy)
    run_scenario(scenario, two, policy=policy)
    for name in ("summary.json", "events.jsonl", "agents.csv", "victims.csv", "blocks.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    summary = json.loads((one / "summary.json").read_text())
    assert set(summary["by_kind"]) == {
        "retail",
        "lp",
        "arbitrageur",
        "frontrunner",
        "sandwicher",
        "spammer",
    }
