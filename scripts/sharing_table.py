"""The surplus-sharing comparison's table from a ``testbed compare`` output directory.

Reads ``DIR/<variant>/seed<K>/summary.json`` for the coordinated (``base``) and
``uncoordinated`` variants of ``scenarios/routing_sharing.toml`` and prints, per metric, each
variant's mean with its 95% t-interval over the seeds and the seed-paired difference
``base - uncoordinated`` with its interval (``agentbed.agents.reporting.intervals``). Metrics
are ``summary.json``'s ``routing`` (docs/routing.md, "Metrics") and ``sharing`` sections, and
the realised social cost in basis points of the value sold. The price of anarchy is left out:
the optimal replay's cost is negative on most seeds of this scenario, so the ratio is undefined
(docs/routing.md says why).

Usage (from the repository root, after the compare of docs/routing.md)::

    python scripts/sharing_table.py runs/routing-sharing
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's agentbed, however the script is started

from agentbed.agents.reporting.intervals import (  # noqa: E402
    Interval,
    confidence_interval,
    paired_difference,
)

METRICS = (
    ("routing.cost_realised", "social cost, realised (D)"),
    ("routing.cost_optimal", "social cost, optimal replay (D)"),
    ("routing.routing_loss", "routing loss (D)"),
    ("cost_bps", "social cost, bps of value sold"),
    ("routing.searcher_profit", "searcher profit (D)"),
    ("routing.orders", "orders settled"),
    ("sharing.paying_orders", "orders paying a maker"),
    ("sharing.makers", "makers paid"),
    ("sharing.surplus", "payers' measured surplus (D)"),
    ("sharing.paid", "paid to makers (D)"),
    ("sharing.failed", "failed settlements"),
)


def _get(summary: dict[str, Any], path: str) -> float:
    if path == "cost_bps":  # social cost over the value of everything the orders sold
        sold = sum(group["sold"] for group in summary["routing"]["by_choice"].values())
        return 10_000 * float(summary["routing"]["cost_realised"]) / sold
    value: Any = summary
    for key in path.split("."):
        value = value[key]
    return float(value)


def _text(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return f"{interval.mean:.3g} | n/a"
    return f"{interval.mean:,.3f} | [{interval.low:,.3f}, {interval.high:,.3f}]"


def table(directory: Path, coordinated: str = "base", baseline: str = "uncoordinated") -> str:
    """The Markdown table of the comparison in ``directory``.

    Raises:
        FileNotFoundError: a variant has no runs, or the two have different seeds.
    """
    runs = {}
    for name in (coordinated, baseline):
        paths = sorted((directory / name).glob("seed*/summary.json"))
        if not paths:
            raise FileNotFoundError(f"{directory / name}: no seed*/summary.json")
        runs[name] = {p.parent.name: json.loads(p.read_text()) for p in paths}
    seeds = sorted(runs[coordinated])
    if seeds != sorted(runs[baseline]):
        raise FileNotFoundError(f"{directory}: the variants ran different seeds")
    lines = [
        f"| metric | {coordinated} | 95% interval | {baseline} | 95% interval "
        f"| paired difference | 95% interval |",
        "| --- | ---: | --- | ---: | --- | ---: | --- |",
    ]
    for path, label in METRICS:
        a = [_get(runs[coordinated][s], path) for s in seeds]
        b = [_get(runs[baseline][s], path) for s in seeds]
        cells = (
            _text(confidence_interval(a)),
            _text(confidence_interval(b)),
            _text(paired_difference(a, b)),
        )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\nSeeds: {', '.join(s.removeprefix('seed') for s in seeds)}.\n"


def main(argv: list[str] | None = None) -> int:
    """Print the table of a compare directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the testbed compare output directory")
    args = parser.parse_args(argv)
    try:
        print(table(args.directory))
    except (FileNotFoundError, KeyError) as err:
        print(f"sharing_table: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
