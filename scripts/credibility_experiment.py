"""Run the commitment-credibility experiments (escrow releases, then intent fills) and the
censorship-delay experiment of ``scenarios/blockprod/credibility.toml``; print their reports.

Usage: ``python scripts/credibility_experiment.py scenarios/blockprod/credibility.toml
[--only credibility|intents|censorship] [--out runs/credibility.md] [--slots N]
[--seeds 1,2,3] [--jobs 2]``. Deterministic per seed (``--jobs`` runs the credibility grids'
seeds in that many processes and changes no number).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from agentbed.agents.blockprod import censorship, credibility, intent_credibility
from agentbed.agents.reporting.files import write_text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--only", choices=("credibility", "intents", "censorship"), default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--slots", type=int, default=None, help="credibility slots per run")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the credibility grids")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.seeds is not None:
        overrides["seeds"] = tuple(int(s) for s in args.seeds.split(","))
    slots = {} if args.slots is None else {"slots": args.slots}
    cases = [
        (module.report, module.submit)
        for name, module in (("credibility", credibility), ("intents", intent_credibility))
        if args.only in (None, name)
    ]
    # Both credibility grids queue their seeds on one pool; censorship runs here meanwhile.
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        cfg = credibility.configured(args.config, **overrides, **slots) if cases else None
        pending = [(report, submit(cfg, pool)) for report, submit in cases if cfg is not None]
        tail = []
        if args.only in (None, "censorship"):
            ccfg, cgrid = censorship.run_from_file(args.config, **overrides)
            tail.append(censorship.report(ccfg, cgrid))
        parts = [report(cfg, collect()) for report, collect in pending if cfg is not None]
    text = "\n".join(parts + tail)
    if args.out is not None:
        write_text(args.out, text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
