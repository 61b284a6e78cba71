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
from agentbed.experiments.runner import compare, policy_runs, run_scenario
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


def test_compare_writes_the_comparison_and_does_not_depend_on_jobs(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path, blocks=6)
    lines: list[str] = []
    runs, report = compare(
        scenario,
        policy_runs(scenario, ["fifo", "random"]),
        tmp_path / "seq",
        jobs=1,
        echo=lines.append,
    )
    assert report == tmp_path / "seq" / "report.md"
    assert [r.report.policy for r in runs] == ["fifo", "random"]
    assert sum("fifo:" in line for line in lines) == 1
    compare(scenario, policy_runs(scenario, ["fifo", "random"]), tmp_path / "par", jobs=2)
    for directory in ("seq", "par"):
        names = {p.name for p in (tmp_path / directory).iterdir()}
        assert names == (RUN_FILES - {"events.jsonl"}) | {"fifo", "random"}
        for policy in ("fifo", "random"):
            assert {p.name for p in (tmp_path / directory / policy).iterdir()} == RUN_FILES
    for name in ("summary.json", "blocks.csv", "agents.csv", "victims.csv", "report.md"):
        assert (tmp_path / "seq" / name).read_bytes() == (tmp_path / "par" / name).read_bytes()
    assert (tmp_path / "seq" / "fifo" / "events.jsonl").read_bytes() == (
        tmp_path / "par" / "fifo" / "events.jsonl"
    ).read_bytes()
    summary = json.loads((tmp_path / "seq" / "summary.json").read_text())
    assert summary["policies"] == ["fifo", "random"]
    assert summary["runs"]["fifo"]["policy_name"] == "fifo"
    assert summary["runs"]["random"]["policy_name"] == "random"
    with (tmp_path / "seq" / "blocks.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["policy"] for r in rows] == ["fifo"] * 6 + ["random"] * 6
    report_text = report.read_text()
    assert "| fifo |" in report_text and "| random |" in report_text
    assert "## Who pays for ordering" in report_text


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
