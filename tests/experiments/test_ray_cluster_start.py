"""``--engine ray`` without a cluster: the command starts a local one for itself and stops it.

A module of its own, so that no other module's open Ray connection is around (the engine would
use it instead of starting one). Ray's files go to a short temporary directory (``RAY_TMPDIR``).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from scenario_helpers import with_blocks

from agentbed.cli import main

SMALL = Path(__file__).resolve().parents[2] / "scenarios" / "small.toml"


@pytest.fixture
def ray_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Short: Ray's socket paths must fit in 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="ray"))
    monkeypatch.setenv("RAY_TMPDIR", str(temp))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_engine_ray_starts_a_local_cluster_of_jobs_cpus_and_stops_it(
    ray_tmpdir: Path, tmp_path: Path
) -> None:
    assert not ray.is_initialized()
    scenario = tmp_path / "short.toml"
    scenario.write_text(with_blocks(SMALL.read_text(), 3))
    argv = ["sweep", str(scenario), "--seeds", "1", "--jobs", "1"]
    code, _, err = _main([*argv, "--out", str(tmp_path / "p")])
    assert code == 0, err
    code, out, err = _main([*argv, "--engine", "ray", "--out", str(tmp_path / "r")])
    assert code == 0, err
    assert "running 1 runs on Ray (1 CPUs) ..." in err
    assert "(--engine ray, --jobs 1)" in out
    assert not ray.is_initialized()  # it stopped the cluster it started
    assert any(ray_tmpdir.iterdir())  # the cluster was this command's, under RAY_TMPDIR
    for name in ("sweep.csv", "sweep.md", "sweep.json", "runs/base/seed1/summary.json"):
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "p" / name).read_bytes()
