"""``testbed run`` and ``testbed compare``: reports, one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenario_helpers import with_blocks, with_bomb

from agentbed.cli import main
from agentbed.experiments.bundled import bundled_names, scenario_path

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(with_blocks(SMALL.read_text(), 4))
    return path


def test_run_prints_where_the_report_went(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(short), "--out", str(out), "--policy", "fifo", "--seed", "9"]) == 0
    stdout = capsys.readouterr().out
    assert f"report: {out / 'report.md'}" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["policy"], summary["seed"], summary["blocks"]) == ("fifo", 9, 4)


def test_run_defaults_to_a_directory_named_after_scenario_policy_and_seed(
    short: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(short)]) == 0
    assert (tmp_path / "runs" / "short-priority-seed1" / "report.md").exists()


def test_compare_prints_progress_and_the_report(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    code = main(["compare", str(short), "--policies", "fifo,bundles", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert "[1/2]" in captured.err and "[2/2]" in captured.err
    assert f"report: {out / 'report.md'}" in captured.out
    assert (out / "fifo" / "events.jsonl").exists() and (out / "bundles" / "report.md").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "{short}", "--policy", "lifo"],
            "testbed run: unknown policy 'lifo'; valid "
            "policies: fifo, priority, random, batch, bundles",
        ),
        (["compare", "{short}", "--policies", "fifo,lifo"], "unknown policy 'lifo'"),
        (["compare", "{short}", "--policies", "fifo,,random"], "empty name"),
        (["compare", "{short}", "--policies", "fifo,priority_fee,priority"], "listed twice"),
        (["compare", "{short}", "--jobs", "0"], "--jobs must be >= 1"),
        (["run", "{short}", "--seed", "-1"], "--seed must be >= 0"),
        (["run", "{tmp}/nope.toml"], "nope.toml: cannot read"),
        (
            ["run", "nope"],
            "nope: cannot read: No such file or directory; bundled scenarios: bench, competition, "
            "congestion, escrow, intents, mev, small",
        ),
        (["sweep", "mevv", "--seeds", "1"], "mevv: cannot read"),
        (["run", "{bad}"], "bad.toml: run.blocks: expected an integer"),
        (["run", "{short}", "--out", "{short}"], "exists and is not a directory"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    short: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(short.read_text().replace("blocks = 4", 'blocks = "4"'))
    argv = [a.format(short=short, tmp=tmp_path, bad=bad) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_interrupted_run_exits_130_and_says_where(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bomb.toml"
    scenario.write_text(with_bomb(with_blocks(short.read_text(), 20)))
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    last = events[-1]["last_block"]
    assert f"interrupted; {out / 'events.jsonl'} keeps the run up to block {last}" in err
    assert not (out / "summary.json").exists()


def test_a_bundled_scenario_runs_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no file named "small" here: the name means the bundled one
    assert scenario_path("small") == scenario_path("small.toml")
    assert scenario_path("small").read_text() == SMALL.read_text()
    assert main(["run", "small", "--policy", "fifo"]) == 0
    out = tmp_path / "runs" / "small-fifo-seed1"  # named like a run of the file
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["scenario"], summary["policy"], summary["blocks"]) == ("small", "fifo", 30)
    assert f"report: {Path('runs') / 'small-fifo-seed1' / 'report.md'}" in capsys.readouterr().out


def test_an_existing_file_wins_over_a_bundled_name(tmp_path: Path) -> None:
    local = tmp_path / "small"
    local.write_text("[run]\n")
    assert scenario_path(local) == local
    assert scenario_path(str(tmp_path / "mev")) == tmp_path / "mev"  # a path is never a name
    assert scenario_path("mev").name == "mev.toml"
    assert set(bundled_names()) >= {"mev", "small", "escrow"}
