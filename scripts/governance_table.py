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

Several directories of the same scenario with disjoint seeds (``--seed``) are pooled.

With ``--sweep``, the directories are ``testbed sweep`` outputs instead, one lever's strengths
each (``runs/<cell>/seed<N>/summary.json``), and ``--off`` names the directory of the runs with
every lever off on the same seeds (e.g. a sweep's cell at strength 0): each strength's mean and
its seed-paired difference against the levers off, the trade-off of harm reduction against
welfare lost:

    testbed sweep scenarios/governance.toml --seeds 5 --jobs 1 --out runs/gov-tax \
        --param economy.tax_bps=0,100,500,2000
    python scripts/governance_table.py --sweep runs/gov-tax \
        --off "runs/gov-tax/runs/economy.tax_bps=0"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from agentbed.agents.reporting.intervals import Interval
from agentbed.agents.reporting.seeds import NONE, SHARE, Metric, seed_stats, stats_table
from agentbed.agents.reporting.tables import markdown_table, number_text, percent_text

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


TREASURY = tuple(
    Metric(key, title, "", partial(_value, path=key), number_text, bounds=(0.0, None))
    for key, title in (
        ("governance.treasury.tax_collected", "tax collected (AGC)"),
        ("governance.treasury.subsidised", "arbitration paid (AGC)"),
    )
)
"""The tax lever's treasury (``GovernedEscrow``), shown when a run has one."""


def _load(directory: Path) -> tuple[list[int], dict[str, dict[str, Any]]]:
    """The seeds and every run's summary (by variant, then ``seed<N>``) of one comparison."""
    path = directory / "summary.json"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (run `testbed compare` into {directory} first)")
    summary = json.loads(path.read_text())
    return list(summary["seeds"]), summary.get("runs", {})


def merged(directories: list[Path]) -> tuple[list[int], dict[str, list[dict[str, Any]]]]:
    """The seeds and, per variant present in every comparison, its summaries in seed order,
    over comparisons of the same scenario with disjoint seeds.

    Raises:
        SystemExit: a missing comparison, a seed in two of them, or no ``base`` in common.
    """
    seeds: list[int] = []
    runs: dict[str, dict[str, Any]] = {}
    labels: set[str] | None = None
    for directory in directories:
        more, found = _load(directory)
        if set(more) & set(seeds):
            raise SystemExit(f"{directory}: seeds {sorted(set(more) & set(seeds))} seen twice")
        seeds += more
        labels = set(found) if labels is None else labels & set(found)
        for label, by_seed in found.items():
            runs.setdefault(label, {}).update(by_seed)
    if not labels or BASELINE not in labels:
        raise SystemExit(f"no {BASELINE!r} variant common to {', '.join(map(str, directories))}")
    seeds.sort()
    order = [label for label in runs if label in labels]
    return seeds, {label: [runs[label][f"seed{s}"] for s in seeds] for label in order}


def _difference(interval: Interval | None, fmt: Callable[[float], str]) -> str:
    """A paired difference as mean [low, high], starred when the interval excludes zero."""
    if interval is None or interval.low is None or interval.high is None:
        return "n/a"

    def signed(v: float) -> str:
        text = fmt(v)
        return text if text.startswith("-") else f"+{text}"

    star = " *" if interval.low > 0 or interval.high < 0 else ""
    return f"{signed(interval.mean)} [{signed(interval.low)}, {signed(interval.high)}]{star}"


def table(directories: list[Path]) -> list[str]:
    """The Markdown lines of the table for the comparisons written into ``directories``."""
    seeds, by_label = merged(directories)
    stats = seed_stats(by_label, METRICS, BASELINE)
    rows = [
        [label, *(_difference(stats[label][m.key].difference, m.fmt) for m in METRICS)]
        for label in by_label
        if label != BASELINE
    ]
    header = ["variant", *(m.title for m in METRICS)]
    return [
        f"Mean [95% t-interval] over {len(seeds)} seeds ({', '.join(map(str, seeds))}):",
        "",
        *stats_table("variant", stats, METRICS),
        "",
        f"Seed-paired difference against {BASELINE}, mean [95% t-interval]; * where the "
        "interval excludes zero:",
        "",
        *markdown_table(header, rows, "l" + "r" * len(METRICS)),
    ]


OFF = "off"
"""The label of the runs with every lever off in a sweep table."""


def _seed_runs(directory: Path) -> dict[int, dict[str, Any]]:
    """The run summaries under ``directory`` (``seed<N>/summary.json``) by seed."""
    out = {}
    for path in sorted(directory.glob("seed*/summary.json")):
        out[int(path.parent.name.removeprefix("seed"))] = json.loads(path.read_text())
    return out


def _natural(path: Path) -> list[Any]:
    """Sort key of a sweep cell: its name with the numbers in it compared as numbers, so that
    ``tax_bps=500`` comes before ``tax_bps=2000``."""
    parts = re.split(r"(\d+(?:\.\d+)?)", path.name)
    return [float(p) if i % 2 else p for i, p in enumerate(parts)]


def sweep_runs(
    sweeps: list[Path], off: list[Path]
) -> tuple[list[int], dict[str, list[dict[str, Any]]]]:
    """The seeds and, per cell of the ``sweeps`` (labelled by its setting; a cell of the same
    name in several sweeps pools their seeds) and for the runs with the levers off (``OFF``,
    pooled over the ``off`` directories), the summaries in seed order.

    Raises:
        SystemExit: no runs with the levers off, or a cell without every one of their seeds.
    """
    base: dict[int, dict[str, Any]] = {}
    for directory in off:
        base.update(_seed_runs(directory))
    if not base:
        raise SystemExit(f"{off[0]}: no seed<N>/summary.json (the runs with the levers off)")
    seeds = sorted(base)
    skip = {d.resolve() for d in off}
    cells: dict[str, dict[int, dict[str, Any]]] = {}
    for sweep in sweeps:
        for cell in sorted((p for p in (sweep / "runs").iterdir() if p.is_dir()), key=_natural):
            if cell.resolve() not in skip:
                cells.setdefault(cell.name, {}).update(_seed_runs(cell))
    runs = {OFF: [base[s] for s in seeds]}
    for name, found in cells.items():
        missing = sorted(set(seeds) - set(found))
        if missing:
            raise SystemExit(f"{name}: no runs for seeds {missing}")
        runs[name] = [found[s] for s in seeds]
    return seeds, runs


def sweep_table(sweeps: list[Path], off: list[Path]) -> list[str]:
    """The Markdown lines of the per-strength table of ``sweeps`` against the runs ``off``."""
    seeds, by_label = sweep_runs(sweeps, off)
    taxed = any(_value(r, TREASURY[0].key) is not None for g in by_label.values() for r in g)
    metrics = METRICS + TREASURY if taxed else METRICS
    stats = seed_stats(by_label, metrics, OFF)
    return [
        f"Mean [95% t-interval] over {len(seeds)} seeds ({', '.join(map(str, seeds))}):",
        "",
        *stats_table("setting", stats, metrics),
        "",
        f"Seed-paired difference against the levers {OFF}, mean [95% t-interval]; * where the "
        "interval excludes zero:",
        "",
        *markdown_table(
            ["setting", *(m.title for m in METRICS)],
            [
                [label, *(_difference(stats[label][m.key].difference, m.fmt) for m in METRICS)]
                for label in by_label
                if label != OFF
            ],
            "l" + "r" * len(METRICS),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the table for the comparison (or sweep) directories given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "directories",
        type=Path,
        nargs="+",
        help="`testbed compare` output directories (same scenario, disjoint seeds), or with "
        "--sweep `testbed sweep` output directories",
    )
    parser.add_argument("--sweep", action="store_true", help="the directories are sweeps")
    parser.add_argument(
        "--off",
        type=Path,
        nargs="+",
        help="with --sweep: the directories of the runs with the levers off (seeds pooled)",
    )
    args = parser.parse_args(argv)
    if args.sweep and args.off is None:
        parser.error("--sweep needs --off DIR (the runs with every lever off)")
    lines = sweep_table(args.directories, args.off) if args.sweep else table(args.directories)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
