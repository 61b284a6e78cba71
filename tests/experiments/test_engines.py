"""Run engines: choosing one from the command line, the process engine, and failed runs named."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest
from scenario_helpers import with_blocks

from agentbed.cli import main
from agentbed.experiments import sweep
from agentbed.experiments.engines import (
    EngineError,
    ProcessEngine,
    RunFailed,
    RunTask,
    make_engine,
)
from agentbed.experiments.sweep import _run_job

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(with_blocks(SMALL.read_text(), 3))
    return path


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("name", "jobs", "address", "message"),
    [
        ("spark", None, None, "--engine 'spark': unknown engine (choose from process, ray)"),
        ("process", 0, None, "--jobs must be >= 1, got 0"),
        ("ray", 0, None, "--jobs must be >= 1, got 0"),
        ("process", 2, "auto", "--ray-address needs --engine ray"),
        ("ray", 2, "auto", "with --ray-address the cluster's own CPUs decide"),
    ],
)
def test_revert_when_engine_settings_do_not_fit(
    name: str, jobs: int | None, address: str | None, message: str
) -> None:
    with pytest.raises(EngineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_engine(name, jobs=jobs, address=address)


@pytest.mark.parametrize("command", ["sweep", "compare"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ray-address", "auto"], "--ray-address needs --engine ray"),
        (["--engine", "ray", "--ray-address", "auto", "--jobs", "3"], "own CPUs decide"),
        (["--engine", "ray", "--jobs", "0"], "--jobs must be >= 1, got 0"),
    ],
)
def test_commands_reject_engine_options_that_do_not_fit_in_one_line(
    short: Path, command: str, extra: list[str], message: str
) -> None:
    code, out, err = _main([command, str(short), "--seeds", "1", *extra])
    assert code == 2 and out == ""
    assert err.startswith(f"testbed {command}: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_engine_ray_without_ray_says_which_extra_to_install(
    short: Path, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # how a missing module looks to find_spec
    argv = [command, str(short), "--seeds", "1", "--engine", "ray", "--out", str(tmp_path / "o")]
    code, out, err = _main(argv)
    assert (code, out) == (2, "")
    assert err == f'testbed {command}: --engine ray needs Ray: pip install "agentbed[cluster]"\n'
    assert not (tmp_path / "o").exists()


def test_the_default_engine_is_local_processes(short: Path, tmp_path: Path) -> None:
    code, out, err = _main(
        ["sweep", str(short), "--seeds", "1", "--jobs", "1", "--out", str(tmp_path / "o")]
    )
    assert code == 0, err
    assert out.rstrip().endswith(
        f"(--jobs 1); table: {tmp_path / 'o' / 'sweep.csv'}, {tmp_path / 'o' / 'sweep.md'}"
    )


def test_a_failed_sweep_run_is_named_by_its_cell_and_seed(
    short: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scenario: Any, seed: int, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"no market for seed {seed}")

    monkeypatch.setattr(sweep, "run_summary", broken)
    argv = ["sweep", str(short), "--param", "agents[0].count=4,8", "--seeds", "2", "--seed", "5"]
    code, _, err = _main([*argv, "--jobs", "1", "--out", str(tmp_path / "o")])
    assert code == 1
    assert err.splitlines()[-1] == (
        "testbed sweep: failed: agents[0].count=4 seed 5: ValueError: no market for seed 5"
    )
    assert not list((tmp_path / "o").rglob("summary.json"))


def test_the_process_engine_runs_here_in_task_order_with_the_progress_stream(
    tmp_path: Path,
) -> None:
    stream = io.StringIO()
    calls: list[tuple[str, Any]] = []

    def job(out: Path, value: int, *, progress: IO[str] | None = None) -> int:
        calls.append(("job", (out.name, value, progress is stream)))
        return value * 10

    tasks = [RunTask(f"t{i}", tmp_path / f"t{i}", (i,)) for i in range(3)]
    engine = ProcessEngine(1)
    assert engine.in_process and engine.describe() == "--jobs 1"
    engine.run(
        job,
        tasks,
        lambda i, result: calls.append(("done", (i, result))),
        say=lambda line: calls.append(("say", line)),
        progress=stream,
        starting=lambda i: calls.append(("start", i)),
    )
    assert calls == [
        item
        for i in range(3)
        for item in (("start", i), ("job", (f"t{i}", i, True)), ("done", (i, i * 10)))
    ]


def test_a_run_failing_in_a_worker_process_is_named_and_writes_nothing(tmp_path: Path) -> None:
    # No scenario: the sweep's job raises in the worker before it writes anything.
    tasks = [RunTask(f"cell x={i} seed 7", tmp_path / f"x{i}", (None, 7)) for i in (1, 2)]
    lines: list[str] = []
    engine = ProcessEngine(2)
    assert not engine.in_process
    with pytest.raises(RunFailed) as caught:
        engine.run(_run_job, tasks, lambda i, r: None, say=lines.append)
    assert lines == ["running 2 runs in 2 processes ..."]
    assert caught.value.name in {"cell x=1 seed 7", "cell x=2 seed 7"}
    assert caught.value.reason.startswith("AttributeError: ")
    assert str(caught.value) == f"{caught.value.name}: {caught.value.reason}"
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_ray_address_fails_in_one_line(short: Path, tmp_path: Path) -> None:
    # Port 1 on this machine: nothing listens, the connection is refused at once (Ray itself
    # would retry for minutes).
    argv = ["sweep", str(short), "--seeds", "1", "--out", str(tmp_path / "o")]
    code, out, err = _main([*argv, "--engine", "ray", "--ray-address", "127.0.0.1:1"])
    assert (code, out) == (1, "")
    assert err.startswith("testbed sweep: --ray-address 127.0.0.1:1: cannot connect (")
    assert err.count("\n") == 1


def _die(out: Path, *, progress: IO[str] | None = None) -> None:
    os._exit(3)  # like a worker killed for memory: no answer at all


def test_a_worker_process_that_dies_is_a_failed_run(tmp_path: Path) -> None:
    tasks = [RunTask(f"run {i}", tmp_path / f"r{i}", ()) for i in (1, 2)]
    with pytest.raises(RunFailed, match=r"^run [12]: its worker process died$"):
        ProcessEngine(2).run(_die, tasks, lambda i, r: None, say=lambda line: None)


def _first(out: Path, other: Path, *, progress: IO[str] | None = None) -> str:
    # Finishes once the second run is under way, so the stop surely finds it running.
    for _ in range(6000):
        if (other / "started").exists():
            return "first"
        time.sleep(0.01)
    raise AssertionError("the second run never started")


def _second(out: Path, *, progress: IO[str] | None = None) -> None:
    out.mkdir(parents=True)
    (out / "started").touch()
    try:
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        (out / "interrupted").touch()  # what an event log's finally block does
        raise


def _either(out: Path, which: str, *args: Any, progress: IO[str] | None = None) -> Any:
    return _first(out, *args) if which == "first" else _second(out)


def test_stopping_the_process_engine_interrupts_running_runs_like_ctrl_c(tmp_path: Path) -> None:
    second = tmp_path / "second"
    tasks = [
        RunTask("first", tmp_path / "first", ("first", second)),
        RunTask("second", second, ("second",)),
    ]

    def done(index: int, result: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the parent handles the first result

    with pytest.raises(KeyboardInterrupt):
        ProcessEngine(2).run(_either, tasks, done, say=lambda line: None)
    assert (second / "started").exists() and (second / "interrupted").exists()
