"""The table of docs/flash.md, from a ``testbed compare scenarios/flash.toml`` output directory.

Reads the comparison's ``summary.json`` (each run's summary by variant and seed) and prints, per
variant, the mean over the seeds with its 95% t-interval, and the seed-paired difference of
``base`` (flash liquidity) against ``no_flash``
(:func:`agentbed.agents.reporting.intervals.paired_difference`) for: the number of profitable
searchers, the HHI and top share of searcher profit
(:mod:`agentbed.agents.market.concentration`), searcher profit in total, of the capitalised
arbitrageur and of the capital-free searchers, the retail traders' result, reverted
transactions and the block producer's revenue. Profits are holdings at the final reference
prices, net of gas (``agentbed.agents.market.accounting``). A difference is called one only
when its interval excludes zero.

Usage (from the repository root)::

    testbed compare scenarios/flash.toml --baseline no_flash --out runs/flash
    python scripts/flash_table.py runs/flash
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's agentbed, however the script is started

from agentbed.agents.reporting.intervals import (  # noqa: E402
    Interval,
    confidence_interval,
    paired_difference,
)

Row = tuple[str, Callable[[Mapping[str, Any]], float | None], str, tuple[float, float] | None]
"""Title, reader, format, and the range a mean's interval is clipped to (a count or a share:
the t-interval of a few bounded values can overshoot; differences are not clipped)."""


def kind_profit(kind: str) -> Callable[[Mapping[str, Any]], float | None]:
    return lambda s: float(s["by_kind"].get(kind, {}).get("profit", 0.0))


ROWS: tuple[Row, ...] = (
    (
        "profitable searchers (of 5)",
        lambda s: float(s["searchers"]["profitable"]),
        "{:.1f}",
        (0, 5),
    ),
    ("HHI of searcher profit", lambda s: s["searchers"]["hhi"], "{:.3f}", (0, 1)),
    ("top searcher's share", lambda s: s["searchers"]["top_share"], "{:.3f}", (0, 1)),
    ("searcher profit (USDC)", lambda s: float(s["searcher_profit"]), "{:,.0f}", None),
    ("capitalised arbitrageur (USDC)", kind_profit("arbitrageur"), "{:,.0f}", None),
    ("4 capital-free searchers (USDC)", kind_profit("flash_arbitrageur"), "{:,.0f}", None),
    ("retail traders' result (USDC)", kind_profit("retail"), "{:,.0f}", None),
    ("reverted txs", lambda s: float(s["reverted"]), "{:.1f}", None),
    ("block producer (USDC)", lambda s: float(s["builder"]["revenue"]), "{:,.1f}", None),
)


def _text(interval: Interval, fmt: str, bounds: tuple[float, float] | None = None) -> str:
    if interval.low is None or interval.high is None:
        return fmt.format(interval.mean)
    low, high = interval.low, interval.high
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return f"{fmt.format(interval.mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def table(
    summary: Mapping[str, Any],
    treated: str = "base",
    baseline: str = "no_flash",
    rows: tuple[Row, ...] = ROWS,
) -> str:
    """The Markdown table of the comparison's ``summary`` (``rows``: which metrics)."""
    runs = summary["runs"]
    seeds = sorted(runs[treated], key=lambda name: int(name.removeprefix("seed")))
    lines = [
        f"| metric | {treated} | {baseline} | {treated} minus {baseline}, paired by seed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for title, read, fmt, bounds in rows:
        a = [read(runs[treated][seed]) for seed in seeds]
        b = [read(runs[baseline][seed]) for seed in seeds]
        cells = []
        for values in (a, b):
            known = [v for v in values if v is not None]
            cells.append(_text(confidence_interval(known), fmt, bounds) if known else "-")
        pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
        if len(pairs) < 2:
            cells.append("- (defined on fewer than 2 seeds of both)")
        else:
            diff = paired_difference([x for x, _ in pairs], [y for _, y in pairs])
            assert diff.low is not None and diff.high is not None
            excludes = diff.low > 0 or diff.high < 0
            note = "" if excludes else f" (not distinguishable at {len(pairs)} seeds)"
            cells.append(_text(diff, fmt.replace("{:", "{:+")) + note)
        lines.append(f"| {title} | {' | '.join(cells)} |")
    return "\n".join(lines)


def load_summary(out: Path) -> dict[str, Any] | None:
    """The comparison's ``summary.json`` in ``out``; None (with a one-line message on stderr)
    if it cannot be read."""
    path = out / "summary.json"
    try:
        summary: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        print(f"{path}: cannot read the comparison's summary: {err}", file=sys.stderr)
        return None
    return summary


def main(argv: list[str] | None = None) -> int:
    """Print the table of the comparison in the directory given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the compare output directory")
    args = parser.parse_args(argv)
    summary = load_summary(args.out)
    if summary is None:
        return 2
    print(table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
