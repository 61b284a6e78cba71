"""``testbed sweep``: a grid of scenario values over several seeds, in parallel processes.

The table gives the mean and 95% t-interval per cell and metric; finished runs are kept
under ``DIR/runs/`` and reused, so an interrupted sweep resumes where it stopped. The sweep
machinery loads when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from agentbed.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Subparsers,
    echo_to,
)
from agentbed.cli.experiment_args import (
    add_engine_args,
    add_scenario_args,
    engine_or_default,
    scenario_setup,
)


def add_sweep(subparsers: Subparsers) -> None:
    """Declare ``testbed sweep``: the scenario arguments, the grid, seeds, engine and metrics."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a scenario over a grid of values and seeds; mean and 95%% interval per cell",
        description="Run the scenario for every combination of the --param values (the grid) "
        "and each of --seeds seeds, in parallel processes, and write a table of the mean and "
        "95% t-interval per cell and metric to DIR/sweep.csv and DIR/sweep.md (default DIR: "
        "runs/<scenario>-sweep). Each run's summary goes to DIR/runs/<cell>/seed<N>/; runs "
        "found there are reused, so an interrupted sweep resumes where it stopped.",
    )
    add_scenario_args(parser)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a scenario value by key path (run.policy, agents[1].params.slippage_bps, "
        "market.volatility) and its values as TOML scalars; repeat for more dimensions",
    )
    parser.add_argument(
        "--seeds", type=int, required=True, metavar="N", help="seeds per cell: root .. root+N-1"
    )
    add_engine_args(parser)
    parser.add_argument(
        "--metric",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="key paths into summary.json for the table (default: the study's metrics, e.g. "
        "victim_loss, searcher_profit, txs, reverted, inclusion_delay_ms.mean, fullness_mean "
        "for a market; see docs/scenarios.md)",
    )


def run_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Plan the grid, run what is not done yet and print the table.

    Returns:
        0; 2 for bad arguments, scenario or grid; 1 when a run fails; 130 when interrupted.
    """
    from agentbed.agents.sim import default_progress
    from agentbed.experiments.engines import EngineError, RunFailed
    from agentbed.experiments.scenario import ScenarioError
    from agentbed.experiments.sweep import (
        SweepError,
        default_metrics,
        parse_param,
        plan_sweep,
        table_lines,
    )
    from agentbed.experiments.sweep import run_sweep as run_plan

    if args.seeds < 1:
        print(f"testbed sweep: --seeds must be >= 1, got {args.seeds}", file=err)
        return EXIT_USAGE
    engine = engine_or_default("sweep", args, err)
    if engine is None:
        return EXIT_USAGE
    setup = scenario_setup("sweep", args, err)
    if setup is None:
        return EXIT_USAGE
    scenario, seed = setup
    target = args.out or Path("runs") / f"{Path(scenario.path).stem}-sweep"
    try:
        params = [parse_param(text) for text in args.param]
        plan = plan_sweep(scenario.path, params, seeds=args.seeds, out=target, root=seed)
    except (SweepError, ScenarioError) as exc:
        print(f"testbed sweep: {exc}", file=err)
        return EXIT_USAGE
    try:
        result = run_plan(
            plan,
            metrics=args.metric or default_metrics(scenario),
            engine=engine,
            echo=echo_to(err),
            progress=default_progress() if engine.in_process else None,
        )
    except KeyboardInterrupt:
        print(
            f"testbed sweep: interrupted; {plan.done()} of {plan.total} runs done in "
            f"{target / 'runs'}; run the same command again to resume",
            file=err,
        )
        return EXIT_INTERRUPTED
    except SweepError as exc:
        print(f"testbed sweep: {exc}", file=err)
        return EXIT_USAGE
    except RunFailed as exc:  # names the run: its label or cell, and its seed
        print(f"testbed sweep: failed: {exc}", file=err)
        return EXIT_FAILED
    except EngineError as exc:  # e.g. a Ray cluster that cannot be reached
        print(f"testbed sweep: {exc}", file=err)
        return EXIT_FAILED
    except Exception as exc:
        print(f"testbed sweep: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    print("\n".join(table_lines(plan, result.metrics, result.stats)), file=out)
    print(
        f"{plan.total} runs (ran {result.ran}, reused {result.reused}) in {result.wall_s:.1f}s "
        f"({engine.describe()}); table: {result.csv_path}, {result.md_path}",
        file=out,
    )
    return EXIT_OK
