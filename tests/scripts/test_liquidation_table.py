"""``scripts/liquidation_table.py``: the liquidation comparison's table from hand-built
summaries (no simulation runs here; the metrics are tested in tests/agents/market/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    """Import ``scripts/liquidation_table.py`` (scripts/ is not a package)."""
    name = "testbed_liquidation_table_script"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "scripts" / "liquidation_table.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _summary(liquidations: int, bad_debt: float, flash_profit: float) -> dict[str, object]:
    return {
        "lending": {
            "liquidations": liquidations,
            "liquidators": 1,
            "repaid": 1000.0 * liquidations,
            "bad_debt": bad_debt,
            "liquidatable_debt": 2 * bad_debt,
            "final_price": 2000.0,
        },
        "searchers": {"profitable": 1, "hhi": 1.0, "top_share": 1.0},
        "searcher_profit": 100.0 + flash_profit,
        "by_kind": {"liquidator": {"profit": 100.0}, "flash_liquidator": {"profit": flash_profit}},
        "reverted": 3,
    }


def test_table_reads_means_and_paired_differences(tmp_path: Path, capsys) -> None:
    script = _load_script()
    runs = {
        "base": {f"seed{i}": _summary(10 + i, 5.0, 50.0 + i) for i in (1, 2, 3)},
        "no_flash": {f"seed{i}": _summary(4, 5.0 + i, 0.0) for i in (1, 2, 3)},
    }
    (tmp_path / "summary.json").write_text(json.dumps({"runs": runs}))
    assert script.main([str(tmp_path)]) == 0
    lines = {
        line.split(" | ")[0].strip("| "): line for line in capsys.readouterr().out.splitlines()
    }
    # 11, 12, 13 against 4 on every seed: a difference of +8 whose interval excludes zero
    assert "| 12.0 [" in lines["liquidations mined"]
    assert "+8.0 [" in lines["liquidations mined"]
    assert "not distinguishable" not in lines["liquidations mined"]
    # 5 against 6, 7, 8: -2 on average, differences -1, -2, -3
    assert "-2 [" in lines["bad debt left (USDC)"]
    assert lines["4 capital-free liquidators (USDC)"].count("[") == 3


def test_unreadable_directory_exits_2(tmp_path: Path, capsys) -> None:
    assert _load_script().main([str(tmp_path)]) == 2
    assert "cannot read the comparison's summary" in capsys.readouterr().err


def test_missing_variant_exits_2_naming_the_ones_there(tmp_path: Path, capsys) -> None:
    runs = {"base": {"seed1": _summary(1, 0.0, 0.0)}, "no_flash": {"seed1": _summary(1, 0.0, 0.0)}}
    (tmp_path / "summary.json").write_text(json.dumps({"runs": runs}))
    assert _load_script().main([str(tmp_path), "--treated", "thin"]) == 2
    assert "no variant 'thin'; it has base, no_flash" in capsys.readouterr().err
