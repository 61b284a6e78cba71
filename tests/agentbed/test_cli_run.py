"""``testbed run`` and ``testbed compare``: reports, one-line errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenario_helpers import with_blocks, with_bomb

from agentbed.cli import main
from agentbed.experiments.bundled import bundled_names, scenario_path

ROOT = Path(__file__).resolve().parents[2]
# The repository's scenario files, listed here without the package's lookup.
BUNDLED = ", ".join(sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml")))
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
    argv = ["compare", str(short), "--policies", "fifo,bundles", "--out", str(out), "--seeds", "2"]
    assert main([*argv, "--baseline", "bundles"]) == 0
    captured = capsys.readouterr()
    assert "[1/4]" in captured.err and "[4/4]" in captured.err
    assert "compared 2 x 2 seeds = 4 runs" in captured.out
    assert f"report: {out / 'report.md'}" in captured.out
    assert (out / "fifo" / "seed1" / "events.jsonl").exists()
    assert (out / "bundles" / "seed2" / "report.md").exists()
    assert "- **fifo** against bundles, paired by seed:" in (out / "report.md").read_text()


def test_compare_defaults_to_five_seeds_in_a_directory_named_after_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(with_blocks(SMALL.read_text(), 2))
    assert main(["compare", "tiny.toml", "--policies", "priority", "--seed", "4"]) == 0
    out = tmp_path / "runs" / "tiny-compare-seed4x5"
    assert sorted(p.name for p in (out / "priority").iterdir()) == [f"seed{s}" for s in range(4, 9)]
    assert json.loads((out / "summary.json").read_text())["seeds"] == [4, 5, 6, 7, 8]
    # No output file names the machine's directories.
    for path in out.rglob("*"):
        if path.suffix in {".md", ".json", ".csv", ".jsonl"}:
            assert str(tmp_path) not in path.read_text(), path


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
        (["compare", "{short}", "--seeds", "0"], "--seeds must be between 1 and 1000, got 0"),
        (["compare", "{short}", "--seeds", "-3"], "--seeds must be between 1 and 1000, got -3"),
        (
            ["compare", "{short}", "--seeds", str(10**9)],
            "--seeds must be between 1 and 1000, got 1000000000",
        ),
        (
            ["compare", "{short}", "--policies", "fifo,random", "--baseline", "priority"],
            "--baseline 'priority' is not compared; compared: fifo, random",
        ),
        (["run", "{short}", "--seed", "-1"], "--seed must be >= 0"),
        (["run", "{tmp}/nope.toml"], "nope.toml: cannot read"),
        (
            ["run", "nope"],
            "nope: cannot read: No such file or directory; bundled scenarios: " + BUNDLED,
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
    before = set(tmp_path.rglob("*"))
    assert main([*argv, "--out", str(tmp_path / "o")] if "--out" not in argv else argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert set(tmp_path.rglob("*")) == before  # nothing written


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


def test_interrupted_compare_exits_130_and_names_each_seeds_log(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bomb.toml"
    scenario.write_text(with_bomb(with_blocks(short.read_text(), 20)))
    out = tmp_path / "cmp"
    argv = ["compare", str(scenario), "--policies", "fifo", "--seeds", "2", "--out", str(out)]
    assert main([*argv, "--jobs", "1"]) == 130
    err = capsys.readouterr().err
    log = out / "fifo" / "seed1" / "events.jsonl"
    assert f"interrupted; {log} keeps the run up to block" in err
    assert not (out / "fifo" / "seed2").exists()  # the second seed never started
    assert not (out / "report.md").exists() and not (out / "summary.json").exists()


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
