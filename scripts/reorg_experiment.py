"""Run the time-bandit reorg experiment of ``scenarios/blockprod/reorgs.toml`` and print its report.

Usage: ``python scripts/reorg_experiment.py scenarios/blockprod/reorgs.toml [--out runs/reorgs.md]
[--slots N] [--seeds 1,2,3]``. Deterministic per seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentbed.agents.blockprod.experiment import report, run_from_file
from agentbed.agents.reporting.files import write_text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--slots", type=int, default=None)
    parser.add_argument("--seeds", default=None, help="comma-separated seeds")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.slots is not None:
        overrides["slots"] = args.slots
    if args.seeds is not None:
        overrides["seeds"] = tuple(int(s) for s in args.seeds.split(","))
    cfg, grid = run_from_file(args.config, **overrides)
    text = report(cfg, grid)
    if args.out is not None:
        write_text(args.out, text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
