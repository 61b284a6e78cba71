"""The governance levers' harm / welfare trade-off table from a ``testbed compare`` directory.

Reads the comparison's ``summary.json`` (every run's summary, by variant and seed) of
``scenarios/governance.toml`` and prints, in Markdown, each variant's mean with its 95 %
t-interval over the seeds, then each lever's seed-paired difference against ``base`` (a
difference is stated only when its interval excludes zero): welfare (tokens), toxicity
(E[1 - p | accepted]), realised harm (share of closed accepted deals not delivered), quality
gap, Brier score, and the share of proposals that went to honest sellers. Definitions:
docs/governance.md and ``agentbed.agents.economy.safety``.

    testbed compare scenarios/governance.toml --seeds 5 --out runs/governance
    python scripts/governance_table.py runs/governance          # from the repo root
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from agentbed.agents.reporting.seeds import NONE, SHARE, Metric, seed_stats, stats_table
from agentbed.agents.reporting.tables import number_text, percent_text

BASELINE = "base"


def _value(summary: dict[str, Any], path: str) -> float | None:
    value: Any = summary
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


def _three(v: float) -> str:
    return f"{v:.3f}"


METRICS = tuple(
    Metric(key, title, "", partial(_value, path=key), fmt, bounds=bounds)
    for key, title, fmt, bounds in (
        ("welfare.total", "welfare (AGC)", number_text, NONE),
        ("safety.toxicity", "toxicity", _three, SHARE),
        ("safety.harm_realised", "harm realised", percent_text, SHARE),
        ("safety.quality_gap", "quality gap", _three, NONE),
        ("safety.brier", "Brier", _three, SHARE),
        ("choice.honest_share", "honest share", percent_text, SHARE),
    )
)


def table(directory: Path) -> list[str]:
    """The Markdown lines of the table for the comparison written into ``directory``.

    Raises:
        SystemExit: no comparison ``summary.json`` there, or no ``base`` variant in it.
    """
    path = directory / "summary.json"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (run `testbed compare` into {directory} first)")
    summary = json.loads(path.read_text())
    runs: dict[str, dict[str, Any]] = summary.get("runs", {})
    if BASELINE not in runs:
        raise SystemExit(f"{path}: no {BASELINE!r} variant among {', '.join(runs) or 'none'}")
    seeds = summary["seeds"]
    by_label = {label: [runs[label][f"seed{s}"] for s in seeds] for label in runs}
    stats = seed_stats(by_label, METRICS, BASELINE)
    return [
        f"Mean [95% t-interval] over seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seeds):",
        "",
        *stats_table("variant", stats, METRICS),
        "",
        f"Seed-paired difference against {BASELINE}:",
        "",
        *stats_table("variant", stats, METRICS, differences=True),
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the table for the comparison directory given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the `testbed compare` output directory")
    args = parser.parse_args(argv)
    print("\n".join(table(args.directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
