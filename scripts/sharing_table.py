"""The surplus-sharing comparison's table from a ``testbed compare`` output directory.

Reads ``DIR/<variant>/seed<K>/summary.json`` for the coordinated (``base``) and
``uncoordinated`` variants of ``scenarios/routing_sharing.toml`` and prints, per metric, each
variant's mean with its 95% t-interval over the seeds and the seed-paired difference
``base - uncoordinated`` with its interval (``agentbed.agents.reporting.intervals``). Metrics
are ``summary.json``'s ``routing`` (docs/routing.md, "Metrics") and ``sharing`` sections, and
the realised social cost in basis points of the value sold. The price of anarchy is the
searcher-free one (``agents/market/routing_anarchy.py``); a metric that is undefined on some
seed (a ratio over a non-positive cost) gets a row saying on which seeds instead of numbers.

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
    ("routing.price_of_anarchy", "price of anarchy C_selfish / C_optimal (searcher-free)"),
    ("routing.cost_selfish_replay", "social cost, selfish replay (D)"),
    ("routing.cost_optimal_replay", "social cost, optimal replay (D)"),
    ("routing.routing_loss", "routing loss C_selfish - C_optimal (D)"),
    ("routing.blocks_optimal_nonpositive", "blocks with C_optimal <= 0"),
    ("routing.cost_realised", "social cost, realised at the reference price (D)"),
    ("cost_bps", "social cost realised, bps of value sold"),
    ("routing.searchers_fixed.cost_optimal", "optimal replay with searchers fixed (D)"),
    ("routing.searcher_profit", "searcher profit (D)"),
    ("routing.searcher_share", "searcher profit / routing loss"),
    ("routing.orders", "orders settled"),
    ("sharing.paying_orders", "orders paying a maker"),
    ("sharing.makers", "makers paid"),
    ("sharing.surplus", "payers' measured surplus (D)"),
    ("sharing.paid", "paid to makers (D)"),
    ("sharing.failed", "failed settlements"),
)


def _get(summary: dict[str, Any], path: str) -> float | None:
    """The metric at ``path`` (None where the summary says it is undefined)."""
    if path == "cost_bps":  # social cost over the value of everything the orders sold
        sold = sum(group["sold"] for group in summary["routing"]["by_choice"].values())
        return 10_000 * float(summary["routing"]["cost_realised"]) / sold
    value: Any = summary
    for key in path.split("."):
        value = value[key]
    return None if value is None else float(value)


def _row(label: str, seeds: list[str], a: list[float | None], b: list[float | None]) -> str:
    undefined = [
        s.removeprefix("seed") for s, x, y in zip(seeds, a, b, strict=True) if None in (x, y)
    ]
    if undefined:
        return f"| {label} | undefined on seed {', '.join(undefined)} | | | | | |"
    first = [x for x in a if x is not None]
    second = [y for y in b if y is not None]
    cells = (
        _text(confidence_interval(first)),
        _text(confidence_interval(second)),
        _text(paired_difference(first, second)),
    )
    return f"| {label} | " + " | ".join(cells) + " |"


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
        lines.append(_row(label, seeds, a, b))
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
