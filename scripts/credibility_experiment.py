"""Run the commitment-credibility and censorship-delay experiments of
``scenarios/blockprod/credibility.toml`` and print their reports.

Usage: ``python scripts/credibility_experiment.py scenarios/blockprod/credibility.toml
[--only credibility|censorship] [--out runs/credibility.md] [--slots N] [--seeds 1,2,3]``.
Deterministic per seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentbed.agents.blockprod import censorship, credibility


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--only", choices=("credibility", "censorship"), default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--slots", type=int, default=None, help="credibility slots per run")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.seeds is not None:
        overrides["seeds"] = tuple(int(s) for s in args.seeds.split(","))
    parts = []
    if args.only in (None, "credibility"):
        slots = {} if args.slots is None else {"slots": args.slots}
        cfg, grid = credibility.run_from_file(args.config, **overrides, **slots)
        parts.append(credibility.report(cfg, grid))
    if args.only in (None, "censorship"):
        ccfg, cgrid = censorship.run_from_file(args.config, **overrides)
        parts.append(censorship.report(ccfg, cgrid))
    text = "\n".join(parts)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
