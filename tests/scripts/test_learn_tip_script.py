"""``scripts/learn_tip.py`` and ``scripts/bench_env.py`` on tiny settings: they run, print
their tables, and the example is deterministic (the same output twice, timings aside)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(stem: str) -> ModuleType:
    """Import ``scripts/<stem>.py`` (scripts/ is not a package)."""
    name = f"testbed_{stem}_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_learn_tip_prints_a_paired_table_deterministically(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = _load("learn_tip")
    args = ["--train", "1", "--seeds", "2", "--blocks", "2"]
    outputs = []
    for _ in range(2):
        assert script.main(args) == 0
        out = capsys.readouterr().out
        outputs.append([line for line in out.splitlines() if not line.startswith("time:")])
    assert outputs[0] == outputs[1]
    text = "\n".join(outputs[0])
    assert "| scripted Frontrunner |" in text
    assert "| learned bandit |" in text
    assert "| learned - scripted (paired) |" in text
    assert "| last-look rule |" in text
    assert "| learned - rule (paired) |" in text
    assert "evaluation seeds 1..2 (paired)" in text


def test_learn_tip_refuses_a_single_evaluation_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _load("learn_tip").main(["--seeds", "1"])
    assert "an interval needs two seeds" in capsys.readouterr().err


def test_bench_env_prints_steps_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("bench_env").main(["--episodes", "1", "--blocks", "2"]) == 0
    out = capsys.readouterr().out
    assert "1 episodes, 2 steps (blocks)" in out
    assert "steps/s, stepping only: " in out
