"""``testbed demo``: the main job of the README quick start.

The demo itself lives in :mod:`agentbed.demo`, imported when the command runs so that
``testbed --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from agentbed.chain.errors import CompilationError, ToolchainError
from agentbed.cli.common import Subparsers, toolchain_failure


def add_demo(subparsers: Subparsers) -> None:
    """Declare ``testbed demo`` and its arguments."""
    parser = subparsers.add_parser(
        "demo",
        help="compile and deploy the project, then show ordering, bundles and congestion",
        description="The main job: compile all contracts, deploy them on a fresh chain, build "
        "the same transactions under each ordering policy, land a private bundle, and drive "
        "the EIP-1559 base fee with a demand shock. Deterministic per --seed.",
    )
    parser.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    parser.add_argument(
        "--json", dest="json_out", type=Path, metavar="OUT", help="write a JSON summary"
    )


def run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the demo for ``--seed``; 1 when the contracts do not compile."""
    from agentbed import demo

    try:
        return demo.run_demo(seed=args.seed, json_out=args.json_out, out=out)
    except (CompilationError, ToolchainError) as exc:
        return toolchain_failure("demo", exc, err)
