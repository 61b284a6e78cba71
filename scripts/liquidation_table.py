"""The liquidation table of docs/flash.md, from a ``testbed compare scenarios/liquidation.toml``
output directory.

Per variant, the mean over the seeds with its 95% t-interval, and the seed-paired difference of
``base`` (flash liquidity) against ``no_flash``, as ``scripts/flash_table.py`` computes them,
for: liquidations mined and how many liquidators made them, the number of profitable
liquidators, the HHI and top share of liquidator profit
(:mod:`agentbed.agents.market.concentration`; liquidators are the run's only searchers),
liquidator profit in total, of the capitalised liquidator and of the capital-free ones, the
debt repaid by liquidations, the bad debt and the liquidatable debt left at the end
(:mod:`agentbed.agents.market.lending`), the oracle pool's final price, and reverted
transactions. Profits are holdings at the final reference prices, net of gas; liquidators end
holding only USDC, so theirs are exact USDC.

Usage (from the repository root)::

    testbed compare scenarios/liquidation.toml --baseline no_flash --out runs/liquidation
    python scripts/liquidation_table.py runs/liquidation
    python scripts/liquidation_table.py runs/liquidation --treated thin --baseline thin_no_flash
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # flash_table, next to this script

from flash_table import Row, kind_profit, load_summary, table  # noqa: E402


def _lending(key: str) -> Callable[[Mapping[str, Any]], float | None]:
    return lambda s: float(s["lending"][key])


ROWS: tuple[Row, ...] = (
    ("liquidations mined", _lending("liquidations"), "{:.1f}", None),
    ("liquidators that liquidated (of 5)", _lending("liquidators"), "{:.1f}", (0, 5)),
    (
        "profitable liquidators (of 5)",
        lambda s: float(s["searchers"]["profitable"]),
        "{:.1f}",
        (0, 5),
    ),
    ("HHI of liquidator profit", lambda s: s["searchers"]["hhi"], "{:.3f}", (0, 1)),
    ("top liquidator's share", lambda s: s["searchers"]["top_share"], "{:.3f}", (0, 1)),
    ("liquidator profit (USDC)", lambda s: float(s["searcher_profit"]), "{:,.0f}", None),
    ("capitalised liquidator (USDC)", kind_profit("liquidator"), "{:,.0f}", None),
    ("4 capital-free liquidators (USDC)", kind_profit("flash_liquidator"), "{:,.0f}", None),
    ("debt repaid by liquidations (USDC)", _lending("repaid"), "{:,.0f}", None),
    ("bad debt left (USDC)", _lending("bad_debt"), "{:,.0f}", None),
    ("liquidatable debt left (USDC)", _lending("liquidatable_debt"), "{:,.0f}", None),
    ("final oracle price (USDC per WETH)", _lending("final_price"), "{:,.0f}", None),
    ("reverted txs", lambda s: float(s["reverted"]), "{:.1f}", None),
)


def main(argv: list[str] | None = None) -> int:
    """Print the table of the comparison in the directory given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the compare output directory")
    parser.add_argument("--treated", default="base", help="variant with flash liquidity")
    parser.add_argument("--baseline", default="no_flash", help="variant without it")
    args = parser.parse_args(argv)
    path = args.out / "summary.json"
    summary = load_summary(args.out)
    if summary is None:
        return 2
    runs = summary.get("runs", {})
    for variant in (args.treated, args.baseline):
        if variant not in runs:
            print(f"{path}: no variant {variant!r}; it has {', '.join(runs)}", file=sys.stderr)
            return 2
    print(table(summary, args.treated, args.baseline, rows=ROWS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
