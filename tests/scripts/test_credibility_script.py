"""``scripts/credibility_experiment.py``: all three reports from one config file, written to
``--out`` (a tiny grid; the experiments are tested in tests/agents/blockprod/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    """Import ``scripts/credibility_experiment.py`` (scripts/ is not a package)."""
    name = "testbed_credibility_experiment_script"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "scripts" / "credibility_experiment.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_all_reports_are_written(tmp_path: Path) -> None:
    config = tmp_path / "credibility.toml"
    config.write_text(
        "[credibility]\nslots = 10\ntail = 4\nprice_eth = [0.4]\ncounting_depths = [1]\n"
        "finality_depths = [1]\n\n[censorship]\nslots = 6\nsubmit_slots = 3\n"
        "censor_shares = [0.0, 0.5]\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs" / "report.md"
    assert _load_script().main([str(config), "--seeds", "1,2", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "# Commitment credibility: escrow" in text and "| 0.4 | 1 | 1 |" in text
    assert "# Commitment credibility: intent fills" in text
    assert "- depth 1, surplus 0.4: finality 1 minus finality 1:" in text
    assert "# Censorship delay" in text and "- share 0.5 minus share 0.0:" in text
