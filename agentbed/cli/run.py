"""``testbed run``: run one scenario under one ordering policy and write its report.

The runner and the chain load when the command runs, so ``testbed --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from agentbed.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Subparsers
from agentbed.cli.experiment_args import add_scenario_args, report_interrupted, scenario_setup


def add_run(subparsers: Subparsers) -> None:
    """Declare ``testbed run``: the scenario arguments, ``--policy`` and ``--variant``."""
    parser = subparsers.add_parser(
        "run",
        help="run a scenario file and write its report",
        description="Run a scenario under one ordering policy and write blocks.csv, agents.csv, "
        "victims.csv, summary.json, events.jsonl, plots and report.md into DIR (default: "
        "runs/<scenario>-<policy>-seed<N>). Deterministic per seed.",
    )
    add_scenario_args(parser)
    parser.add_argument("--policy", metavar="P", help="ordering policy (default: the scenario's)")
    parser.add_argument(
        "--variant", metavar="V", help="one of the file's [variants] (default: the file as written)"
    )


def run_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the scenario and print its description and where the report went.

    Returns:
        0; 2 for bad arguments or scenario; 1 when the run fails; 130 when interrupted.
    """
    import time

    from agentbed.agents.sim import default_progress
    from agentbed.chain.ordering import parse_policy
    from agentbed.experiments.runner import BASE, describe, run_scenario

    setup = scenario_setup("run", args, err)
    if setup is None:
        return EXIT_USAGE
    scenario, seed = setup
    try:
        if args.variant is not None and args.variant != BASE:
            scenario = scenario.variant_named(args.variant)
        policy = parse_policy(args.policy).name if args.policy else scenario.run.policy
    except ValueError as exc:
        print(f"testbed run: {exc}", file=err)
        return EXIT_USAGE
    name = f"{scenario.variant}-{policy}" if scenario.variant else policy
    target = args.out or Path("runs") / f"{Path(scenario.path).stem}-{name}-seed{seed}"
    start = time.perf_counter()
    try:
        outcome = run_scenario(
            scenario, target, policy=policy, seed=seed, progress=default_progress()
        )
    except KeyboardInterrupt:
        return report_interrupted("run", [target / "events.jsonl"], err)
    except Exception as exc:
        print(f"testbed run: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    print(describe(outcome), file=out)
    print(f"report: {outcome.report_path} ({time.perf_counter() - start:.1f}s)", file=out)
    return EXIT_OK
