"""``--engine ray``: sweeps and comparisons on a local Ray cluster give the process engine's bytes.

One small cluster (2 CPUs, no dashboard) is started for the module in a temporary directory of
its own, so several pytest-xdist workers can each run one side by side, and is shut down after.
The engine finds the connection open and uses it, as it would in a notebook.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from scenario_helpers import with_blocks

from agentbed.cli import main
from agentbed.experiments.engines import RunFailed, RunTask, make_engine
from agentbed.experiments.ray_engine import RayEngine, read_files, write_files
from agentbed.experiments.sweep import _run_job

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"
GRID = ["--param", "agents[0].count=4,8", "--seeds", "2"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    # A short directory of its own: Ray's socket paths must fit in 107 bytes, and two xdist
    # workers must not share one.
    temp = tempfile.mkdtemp(prefix="ray")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        _temp_dir=temp,
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "short.toml"
    path.write_text(with_blocks(SMALL.read_text(), 3))
    return path


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _assert_same_files(left: Path, right: Path) -> None:
    mine, theirs = _tree(left), _tree(right)
    assert sorted(mine) == sorted(theirs)
    different = [name for name in mine if mine[name] != theirs[name]]
    assert different == []


def test_a_ray_sweep_writes_the_process_engines_bytes_and_resumes(
    cluster: None, short: Path, tmp_path: Path
) -> None:
    code, _, err = _main(["sweep", str(short), *GRID, "--jobs", "1", "--out", str(tmp_path / "p")])
    assert code == 0, err
    argv = ["sweep", str(short), *GRID, "--engine", "ray", "--out", str(tmp_path / "r")]
    code, out, err = _main(argv)
    assert code == 0, err
    assert "running 4 runs on Ray (2 CPUs) ..." in err
    assert "4 runs (ran 4, reused 0)" in out and "(--engine ray, --jobs 2)" in out
    assert sum(line.startswith("[") for line in err.splitlines()) == 4
    _assert_same_files(tmp_path / "p", tmp_path / "r")
    # A sweep stopped before its last runs finished resumes on Ray like on processes.
    runs = tmp_path / "r" / "runs"
    (runs / "agents.0.count=8" / "seed2" / "summary.json").unlink()
    (runs / "agents.0.count=4" / "seed1" / "summary.json").unlink()
    (tmp_path / "r" / "sweep.csv").unlink()
    code, out, err = _main(argv)
    assert code == 0, err
    assert "reusing 2 of 4 runs" in err and "4 runs (ran 2, reused 2)" in out
    _assert_same_files(tmp_path / "p", tmp_path / "r")


def test_a_ray_comparison_writes_the_process_engines_bytes(
    cluster: None, short: Path, tmp_path: Path
) -> None:
    common = ["compare", str(short), "--policies", "fifo,priority", "--seeds", "2", "--seed", "3"]
    code, _, err = _main([*common, "--jobs", "1", "--out", str(tmp_path / "p")])
    assert code == 0, err
    code, out, err = _main([*common, "--engine", "ray", "--out", str(tmp_path / "r")])
    assert code == 0, err
    assert (
        "compared 2 x 2 seeds = 4 runs" in out and f"report: {tmp_path / 'r' / 'report.md'}" in out
    )
    finished = [
        line.split("] ", 1)[1].split(":")[0] for line in err.splitlines() if line[:1] == "["
    ]
    assert sorted(finished) == ["fifo seed 3", "fifo seed 4", "priority seed 3", "priority seed 4"]
    files = _tree(tmp_path / "r")
    assert "fifo/seed3/events.jsonl" in files and "priority/seed4/summary.json" in files
    _assert_same_files(tmp_path / "p", tmp_path / "r")


def test_a_run_failing_on_ray_is_named_by_its_task(cluster: None, tmp_path: Path) -> None:
    engine = make_engine("ray", jobs=1)
    assert isinstance(engine, RayEngine)
    # No scenario: the sweep's job raises in the worker, and nothing is written for it.
    tasks = [RunTask("cell x=1 seed 7", tmp_path / "x1", (None, 7))]
    reported: list[Any] = []
    with pytest.raises(RunFailed) as caught:
        engine.run(_run_job, tasks, lambda i, r: reported.append(i), say=lambda line: None)
    assert str(caught.value).startswith("cell x=1 seed 7: AttributeError: ")
    assert "\n" not in str(caught.value)
    assert reported == [] and not (tmp_path / "x1").exists()
    assert ray.is_initialized()  # a connection it did not open stays open


def test_run_files_travel_by_relative_path_and_stay_inside(tmp_path: Path) -> None:
    made = tmp_path / "made"
    (made / "seed1").mkdir(parents=True)
    (made / "seed1" / "summary.json").write_bytes(b"{}\n")
    (made / "report.md").write_bytes(b"# r\n")
    files = read_files(made)
    assert files == {"report.md": b"# r\n", "seed1/summary.json": b"{}\n"}
    assert read_files(tmp_path / "missing") == {}
    write_files(tmp_path / "copy", files)
    assert _tree(tmp_path / "copy") == files
    with pytest.raises(ValueError, match="outside its directory"):
        write_files(tmp_path / "copy", {"../escape.txt": b""})
    assert not (tmp_path / "escape.txt").exists()
