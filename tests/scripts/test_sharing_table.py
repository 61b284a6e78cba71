"""``scripts/sharing_table.py``: the surplus-sharing comparison's table from hand-built
summaries (no simulation runs here; the metrics are tested in tests/agents/market/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    """Import ``scripts/sharing_table.py`` (scripts/ is not a package)."""
    name = "testbed_sharing_table_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "sharing_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _summary(poa: float | None, selfish: float, optimal: float) -> dict[str, object]:
    return {
        "routing": {
            "price_of_anarchy": poa,
            "cost_selfish_replay": selfish,
            "cost_optimal_replay": optimal,
            "routing_loss": selfish - optimal,
            "blocks_optimal_nonpositive": 0 if optimal > 0 else 1,
            "cost_realised": 50.0,
            "searchers_fixed": {"cost_optimal": -10.0},
            "searcher_profit": 20.0,
            "searcher_share": 20.0 / (selfish - optimal),
            "orders": 10,
            "by_choice": {"greedy": {"sold": 1000.0}},
        },
        "sharing": {"paying_orders": 3, "makers": 2, "surplus": 9.0, "paid": 1.0, "failed": 0},
    }


def _write(directory: Path, variant: str, summaries: list[dict[str, object]]) -> None:
    for seed, summary in enumerate(summaries, start=1):
        path = directory / variant / f"seed{seed}" / "summary.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(summary))


def _row(table: str, label: str) -> list[str]:
    (line,) = [x for x in table.splitlines() if x.startswith(f"| {label} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_price_of_anarchy_row_pairs_the_variants_by_seed(tmp_path: Path) -> None:
    script = _load_script()
    _write(tmp_path, "base", [_summary(1.2, 120, 100), _summary(1.3, 130, 100)])
    _write(tmp_path, "uncoordinated", [_summary(1.5, 150, 100), _summary(1.8, 180, 100)])
    table = script.table(tmp_path)
    row = _row(table, "price of anarchy C_selfish / C_optimal (searcher-free)")
    assert row[1] == "1.250" and row[3] == "1.650"
    assert row[5] == "-0.400"  # mean of the per-seed differences -0.3 and -0.5
    assert _row(table, "social cost realised, bps of value sold")[1] == "500.000"
    assert "Seeds: 1, 2." in table


def test_undefined_metric_says_on_which_seed(tmp_path: Path) -> None:
    script = _load_script()
    _write(tmp_path, "base", [_summary(1.2, 120, 100), _summary(None, 30, -5)])
    _write(tmp_path, "uncoordinated", [_summary(1.5, 150, 100), _summary(1.8, 180, 100)])
    row = _row(script.table(tmp_path), "price of anarchy C_selfish / C_optimal (searcher-free)")
    assert row[1] == "undefined on seed 2"
