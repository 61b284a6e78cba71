"""``testbed compare``: one scenario under several ordering policies, or its variants, over
several seeds.

Each run goes into ``DIR/<name>/seed<N>/`` and the comparison (means with 95% intervals over
the seeds, seed-paired differences against a baseline, tables with a policy or variant column
and a seed column, summary, plots, report) into ``DIR``. The runner loads when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agentbed.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Subparsers, echo_to
from agentbed.cli.experiment_args import (
    add_engine_args,
    add_scenario_args,
    engine_or_default,
    report_interrupted,
    scenario_setup,
    split_names,
)

if TYPE_CHECKING:  # the experiments package loads only when the command runs
    from agentbed.experiments.runner import RunSpec
    from agentbed.experiments.scenario import Scenario

DEFAULT_SEEDS = 5
"""Seeds per policy or variant unless ``--seeds`` says otherwise: enough for a t-interval with
4 degrees of freedom, and the flagship's 25 runs stay within its time target."""


def add_compare(subparsers: Subparsers) -> None:
    """Declare ``testbed compare``: the scenario arguments, what to compare and the engine."""
    parser = subparsers.add_parser(
        "compare",
        help="run a scenario under several ordering policies, or its variants, and compare",
        description="Run the same scenario and seeds under each policy, or each of the "
        "scenario's [variants] ('base' is the file as written), each run into "
        "DIR/<name>/seed<N>/, and write the comparison (means with 95%% t-intervals over the "
        "seeds, seed-paired differences against the baseline, tables with a policy or variant "
        "column and a seed column, summary.json, plots, report.md) into DIR (default: "
        "runs/<scenario>-compare-seed<N>x<seeds>). Without options, what the scenario's "
        "run.compare says ('policies' or 'variants'); if it says nothing, a scenario with "
        "variants compares base and every variant and one without compares all five policies.",
    )
    add_scenario_args(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--policies",
        metavar="P,P,...",
        help="comma-separated policies (default without variants: all five)",
    )
    which.add_argument(
        "--variants",
        metavar="V,V,...",
        help="comma-separated variant names, 'base' for the file as written (default with "
        "variants: base and all of them)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        metavar="N",
        help=f"seeds per policy or variant: the root seed and the N-1 after it (default: "
        f"{DEFAULT_SEEDS}; 1 compares one seed)",
    )
    parser.add_argument(
        "--baseline",
        metavar="NAME",
        help="the policy or variant differences are taken against (default: fifo among "
        "policies, base among variants, else the first)",
    )
    add_engine_args(parser)


def run_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the chosen policies or variants and print where the comparison went.

    Without ``--policies`` or ``--variants``, a scenario with variants compares the file as
    written and every variant; one without compares all policies.

    Returns:
        0; 2 for bad arguments or scenario; 1 when a run fails; 130 when interrupted.
    """
    import time

    from agentbed.agents.sim import default_progress
    from agentbed.experiments.engines import EngineError, RunFailed
    from agentbed.experiments.runner import compare, default_baseline, run_dir, seed_range

    setup = scenario_setup("compare", args, err)
    if setup is None:
        return EXIT_USAGE
    scenario, seed = setup
    try:
        runs = _chosen_runs(args, scenario)
        seeds = seed_range(seed, args.seeds)
        baseline = args.baseline or default_baseline(runs)
        if baseline not in [r.label for r in runs]:
            compared = ", ".join(r.label for r in runs)
            raise ValueError(f"--baseline {baseline!r} is not compared; compared: {compared}")
    except ValueError as exc:
        print(f"testbed compare: {exc}", file=err)
        return EXIT_USAGE
    engine = engine_or_default("compare", args, err)
    if engine is None:
        return EXIT_USAGE
    target = (
        args.out or Path("runs") / f"{Path(scenario.path).stem}-compare-seed{seed}x{len(seeds)}"
    )
    start = time.perf_counter()
    try:
        _, report = compare(
            scenario,
            runs,
            target,
            seed=seed,
            seeds=len(seeds),
            baseline=baseline,
            engine=engine,
            echo=echo_to(err),
            progress=default_progress() if engine.in_process else None,
        )
    except KeyboardInterrupt:
        logs = [run_dir(target, r.label, s) / "events.jsonl" for r in runs for s in seeds]
        return report_interrupted("compare", logs, err)
    except RunFailed as exc:  # names the run: its label or cell, and its seed
        print(f"testbed compare: failed: {exc}", file=err)
        return EXIT_FAILED
    except EngineError as exc:  # e.g. a Ray cluster that cannot be reached
        print(f"testbed compare: {exc}", file=err)
        return EXIT_FAILED
    except Exception as exc:
        print(f"testbed compare: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    elapsed = time.perf_counter() - start
    total = len(runs) * len(seeds)
    print(
        f"compared {len(runs)} x {len(seeds)} seeds = {total} runs in {elapsed:.1f}s "
        f"({engine.describe()})",
        file=out,
    )
    print(f"report: {report}", file=out)
    return EXIT_OK


def _chosen_runs(args: argparse.Namespace, scenario: Scenario) -> list[RunSpec]:
    """The runs ``--policies`` or ``--variants`` ask for (by default what the file's
    ``run.compare`` says, else its variants, else every policy).

    Raises:
        ValueError: an empty, unknown or repeated name.
    """
    from agentbed.chain.ordering import POLICY_NAMES, parse_policy
    from agentbed.experiments.runner import BASE, policy_runs, variant_runs

    by_default = "variants" if scenario.variants else "policies"
    default = scenario.run.compare or by_default
    if args.variants is not None or (args.policies is None and default == "variants"):
        chosen = (
            split_names("--variants", args.variants)
            if args.variants is not None
            else [BASE, *scenario.variants]
        )
        return variant_runs(scenario, chosen)
    names = split_names("--policies", args.policies) if args.policies else POLICY_NAMES
    return policy_runs(scenario, [parse_policy(name).name for name in names])
