"""Arguments and setup shared by the experiment commands (``run``, ``compare``, ``sweep``).

Each of them takes a scenario (a TOML file or a bundled scenario's name), an optional seed
and output directory; ``compare`` and ``sweep`` also take ``--jobs`` and the engine their runs
go to (``--engine``, ``--ray-address``). The checks here print
their error and return ``None``, so a handler turns that into the usage exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agentbed.cli.common import EXIT_INTERRUPTED

if TYPE_CHECKING:  # the experiments package loads only when an experiment command runs
    from agentbed.experiments.engines import RunEngine
    from agentbed.experiments.scenario import Scenario


def add_scenario_args(parser: argparse.ArgumentParser) -> None:
    """Declare the scenario, ``--seed`` and ``--out`` on an experiment command."""
    parser.add_argument(
        "scenario",
        help="scenario file (TOML; see docs/scenarios.md), or a bundled scenario's name "
        "(e.g. mev, small)",
    )
    parser.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")


def add_jobs_arg(parser: argparse.ArgumentParser) -> None:
    """Declare ``--jobs`` on a command that runs in parallel processes."""
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="parallel processes (default: min(2, CPU count)); results do not depend on it",
    )


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """Declare ``--jobs``, ``--engine`` and ``--ray-address`` on a command running many runs."""
    # The engines module needs only the standard library: cheap to load while parsing.
    from agentbed.experiments.engines import DEFAULT_ENGINE, ENGINE_NAMES

    add_jobs_arg(parser)
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=DEFAULT_ENGINE,
        help="where the runs go: local processes (default), or Ray tasks (pip install "
        '"agentbed[cluster]"); results do not depend on it',
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --engine ray: an existing Ray cluster (auto, HOST:PORT, ray://HOST:PORT); "
        "default: start a local one with --jobs CPUs for this command",
    )


def engine_or_default(command: str, args: argparse.Namespace, err: TextIO) -> RunEngine | None:
    """The engine ``--engine``, ``--jobs`` and ``--ray-address`` ask for; print the error and
    return None when they do not fit together (or Ray is missing)."""
    from agentbed.experiments.engines import EngineError, make_engine

    if args.engine == "ray" and args.ray_address is not None:
        jobs = args.jobs  # the cluster's CPUs decide; --jobs is an error here
    else:
        jobs = jobs_or_default(command, args, err)
        if jobs is None:
            return None
    try:
        return make_engine(args.engine, jobs=jobs, address=args.ray_address)
    except EngineError as exc:
        print(f"testbed {command}: {exc}", file=err)
        return None


def jobs_or_default(command: str, args: argparse.Namespace, err: TextIO) -> int | None:
    """``--jobs`` or its default; print the error and return None when it is below 1."""
    import os

    jobs: int = args.jobs if args.jobs is not None else min(2, os.cpu_count() or 1)
    if jobs < 1:
        print(f"testbed {command}: --jobs must be >= 1, got {jobs}", file=err)
        return None
    return jobs


def split_names(option: str, text: str) -> list[str]:
    """The names of a comma-separated option value.

    Raises:
        ValueError: an empty name.
    """
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise ValueError(f"{option} has an empty name: {text!r}")
    return names


def scenario_setup(
    command: str, args: argparse.Namespace, err: TextIO
) -> tuple[Scenario, int] | None:
    """Load the scenario (a file, else a bundled scenario's name) and resolve the seed.

    Also checks ``--seed`` and ``--out``. Prints the error and returns None on failure.

    Returns:
        The scenario and the seed to run (``--seed``, else the scenario's), or None.
    """
    from agentbed.experiments.bundled import bundled_names, scenario_path
    from agentbed.experiments.scenario import ScenarioError, load_scenario

    if args.seed is not None and args.seed < 0:
        print(f"testbed {command}: --seed must be >= 0, got {args.seed}", file=err)
        return None
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        print(f"testbed {command}: --out {args.out} exists and is not a directory", file=err)
        return None
    path = scenario_path(args.scenario)
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        # Neither a file nor a bundled scenario's name: say which names would do.
        hint = "" if path.exists() else f"; bundled scenarios: {', '.join(bundled_names())}"
        print(f"testbed {command}: {exc}{hint}", file=err)
        return None
    return scenario, scenario.run.seed if args.seed is None else args.seed


def report_interrupted(command: str, logs: Sequence[Path], err: TextIO) -> int:
    """Say, for each event log written so far, up to which block it keeps the run.

    Args:
        command: The subcommand's name, for the message.
        logs: The runs' ``events.jsonl`` paths; those not yet written are skipped (one line
            says so when none is).
        err: Where the messages go.

    Returns:
        ``EXIT_INTERRUPTED``.
    """
    from agentbed.agents.eventlog import read_events

    written = [log for log in logs if log.exists()]
    for log in written:
        events = read_events(log)
        last = next((e for e in reversed(events) if e.get("event") == "interrupted"), None)
        where = f" up to block {last['last_block']}" if last else ""
        print(f"testbed {command}: interrupted; {log} keeps the run{where}", file=err)
    if not written:  # e.g. Ray runs write their files only once they have finished
        print(f"testbed {command}: interrupted before any run's event log was written", file=err)
    return EXIT_INTERRUPTED
