"""``scripts/governance_table.py``: the lever table from a hand-built comparison summary (no
simulation runs here; the levers are tested in tests/agents/economy/test_governance_*.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    """Import ``scripts/governance_table.py`` (scripts/ is not a package)."""
    name = "testbed_governance_table_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "governance_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _run(welfare: float, toxicity: float) -> dict[str, object]:
    return {
        "welfare": {"total": welfare},
        "safety": {"toxicity": toxicity, "harm_realised": 0.2, "quality_gap": 0.1, "brier": 0.2},
        "choice": {"honest_share": 0.5},
    }


def test_paired_differences_against_base(tmp_path: Path) -> None:
    base = [_run(100, 0.30), _run(110, 0.32), _run(90, 0.28)]
    # Each lever run: toxicity 0.05 lower on its own seed, welfare 10 lower.
    lever = [_run(90, 0.25), _run(100, 0.27), _run(80, 0.23)]
    seeds = [1, 2, 3]
    summary = {
        "seeds": seeds,
        "runs": {
            "base": {f"seed{s}": r for s, r in zip(seeds, base, strict=True)},
            "breaker": {f"seed{s}": r for s, r in zip(seeds, lever, strict=True)},
        },
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    lines = _load_script().table([tmp_path])
    start = next(i for i, line in enumerate(lines) if line.startswith("Seed-paired"))
    (row,) = [line for line in lines[start:] if "breaker" in line]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # Every pair differs by exactly -10 and -0.05: a zero-width interval, so both are stated.
    assert cells[1] == "-10.00 [-10.00, -10.00] *"
    assert cells[2] == "-0.050 [-0.050, -0.050] *"
    assert cells[3] == "+0% [+0%, +0%]"  # no change: not starred


def test_revert_when_no_comparison(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not found"):
        _load_script().table([tmp_path])


def _write_cell(directory: Path, runs: dict[int, dict[str, object]]) -> None:
    for seed, run in runs.items():
        (directory / f"seed{seed}").mkdir(parents=True)
        (directory / f"seed{seed}" / "summary.json").write_text(json.dumps(run))


def test_sweep_cells_are_paired_by_seed_with_the_levers_off(tmp_path: Path) -> None:
    off = tmp_path / "base"
    _write_cell(off, {1: _run(100, 0.30), 2: _run(120, 0.34)})
    sweep = tmp_path / "sweep"
    # Strength 1 costs 5 of welfare on each seed; strength 2 lowers toxicity by 0.1 on each.
    _write_cell(sweep / "runs" / "economy.tax_bps=1", {1: _run(95, 0.30), 2: _run(115, 0.34)})
    _write_cell(sweep / "runs" / "economy.tax_bps=2", {1: _run(100, 0.20), 2: _run(120, 0.24)})
    lines = _load_script().sweep_table([sweep], [off])
    start = next(i for i, line in enumerate(lines) if line.startswith("Seed-paired"))
    rows = {
        cells[0]: cells
        for line in lines[start:]
        if line.startswith("| economy")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows["economy.tax_bps=1"][1] == "-5.00 [-5.00, -5.00] *"
    assert rows["economy.tax_bps=1"][2] == "+0.000 [+0.000, +0.000]"
    assert rows["economy.tax_bps=2"][2] == "-0.100 [-0.100, -0.100] *"


def test_revert_when_a_sweep_cell_misses_a_seed(tmp_path: Path) -> None:
    off = tmp_path / "base"
    _write_cell(off, {1: _run(100, 0.30), 2: _run(120, 0.34)})
    _write_cell(tmp_path / "sweep" / "runs" / "economy.tax_bps=1", {1: _run(95, 0.30)})
    with pytest.raises(SystemExit, match=r"economy.tax_bps=1: no runs for seeds \[2\]"):
        _load_script().sweep_table([tmp_path / "sweep"], [off])


def test_sweep_of_the_tax_shows_the_treasury(tmp_path: Path) -> None:
    off = tmp_path / "base"
    _write_cell(off, {1: _run(100, 0.30), 2: _run(120, 0.34)})
    taxed = {seed: _run(100, 0.30) for seed in (1, 2)}
    for seed, run in taxed.items():
        run["governance"] = {"treasury": {"tax_collected": 10.0 * seed, "subsidised": 1.0}}
    _write_cell(tmp_path / "sweep" / "runs" / "economy.tax_bps=500", taxed)
    lines = _load_script().sweep_table([tmp_path / "sweep"], [off])
    assert "tax collected (AGC)" in lines[2]
    (row,) = [line for line in lines[: lines.index("", 3)] if "tax_bps=500" in line]
    assert row.rstrip(" |").endswith("1.00 [1.00, 1.00]")


def test_sweeps_with_disjoint_seeds_are_pooled_per_cell(tmp_path: Path) -> None:
    offs, sweeps = [tmp_path / "off1", tmp_path / "off2"], [tmp_path / "s1", tmp_path / "s2"]
    _write_cell(offs[0], {1: _run(100, 0.3), 2: _run(100, 0.3)})
    _write_cell(offs[1], {3: _run(100, 0.3), 4: _run(100, 0.3)})
    _write_cell(sweeps[0] / "runs" / "economy.collusion_z=3", {1: _run(90, 0.3), 2: _run(90, 0.3)})
    _write_cell(sweeps[1] / "runs" / "economy.collusion_z=3", {3: _run(80, 0.3), 4: _run(80, 0.3)})
    seeds, runs = _load_script().sweep_runs(sweeps, offs)
    assert seeds == [1, 2, 3, 4]
    assert [r["welfare"] for r in runs["economy.collusion_z=3"]] == [
        {"total": w} for w in (90, 90, 80, 80)
    ]
