"""Run the builder-market experiment of ``scenarios/blockprod/builders.toml`` and print its report.

Usage: ``python scripts/builder_market.py scenarios/blockprod/builders.toml [--out runs/builders.md]
[--slots N] [--seeds 1,2,3]``. Deterministic per seed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from agentbed.agents.blockprod.builders import (
    load_builders_config,
    market_report,
    run_market_grid,
)
from agentbed.agents.reporting.files import write_text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--slots", type=int, default=None)
    parser.add_argument("--seeds", default=None, help="comma-separated seeds")
    args = parser.parse_args(argv)
    cfg = load_builders_config(args.config)
    if args.slots is not None:
        cfg = replace(cfg, slots=args.slots)
    if args.seeds is not None:
        cfg = replace(cfg, seeds=tuple(int(s) for s in args.seeds.split(",")))
    text = market_report(cfg, run_market_grid(cfg))
    if args.out is not None:
        write_text(args.out, text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
