"""The reproduction table: each mean placed against the paper's interval, variants paired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentbed.agents.simecon.paper import PAPER
from agentbed.agents.simecon.report import SimReport, write_comparison


def fake(seed: int, shift: float) -> SimReport:
    """A run whose every metric is the paper's mean plus ``shift`` (a seed-sized wobble)."""
    summary: dict[str, Any] = {"turns": 60, "actions": {}}
    for key, (mean, _) in PAPER.items():
        value = mean + shift + 0.001 * seed
        if key.startswith("actions."):
            summary["actions"][key.split(".")[1]] = value
        else:
            summary[key] = value
    return SimReport("x", summary, ())


def test_base_rows_say_inside_and_variants_give_paired_differences(tmp_path: Path) -> None:
    runs = {
        "base": [fake(s, 0.0) for s in (1, 2, 3)],
        "shifted": [fake(s, 1_000.0) for s in (1, 2, 3)],
    }
    path = write_comparison(tmp_path, runs, title="t", intro=[], seeds=[1, 2, 3], baseline="base")
    text = path.read_text()
    base, variant = text.split("## shifted")
    fees_row = next(line for line in base.splitlines() if line.startswith("| fees_total "))
    assert fees_row.endswith("| inside |")
    # +1,000 on every seed: a paired difference of exactly +1000, zero spread
    fees_variant = next(line for line in variant.splitlines() if line.startswith("| fees_total "))
    assert "+1000" in fees_variant and "not distinguishable" not in fees_variant
