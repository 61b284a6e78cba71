"""The ``testbed`` command line.

Each subcommand is a pair of functions, ``_add_<name>(subparsers)`` to declare its arguments
and ``_run_<name>(args) -> int`` to execute it, registered in ``_COMMANDS``.

    testbed demo [--seed N] [--json OUT]     the main job (README quick start)
    testbed compile [PATHS] [--root DIR] [--json OUT] [--include-path P] [--remap A=B]
                    [--solc-version V|pragma] [--optimizer-runs N] [--library NAME=ADDRESS]
                                             compile the project (or PATHS), print sizes
    testbed gas [PATHS] [-- PYTEST ARGS]     gas per contract operation from the test suites
    testbed run SCENARIO [--seed N] [--out DIR] [--policy P] [--variant V]
                                             run a scenario file and write its report
    testbed compare SCENARIO [--policies P,P | --variants V,V] [--seed N] [--out DIR] [--jobs J]
                                             the same scenario under several policies, or
                                             the scenario's variants side by side
    testbed sweep SCENARIO --param KEY=V,V --seeds N [--seed N] [--out DIR] [--jobs J]
                  [--metric NAME ...]        a grid of scenario values over several seeds
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from agentbed.chain.compiler import (
    EIP170_RUNTIME_LIMIT,
    Compiler,
    CompilerConfig,
    CompileResult,
    Project,
    ProjectConfigError,
    ProjectNotFound,
    SourcePathError,
    compile_files,
    find_project_root,
    link_artifact,
    load_project,
)
from agentbed.chain.compiler.linking import DEPLOY
from agentbed.chain.compiler.project import PRAGMA, parse_library, parse_remapping, parse_solc
from agentbed.chain.errors import CompilationError, ToolchainError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _toolchain_failure(command: str, exc: CompilationError | ToolchainError, err: TextIO) -> int:
    """Print a compile or toolchain failure (compiler messages as they are) and return 1."""
    if isinstance(exc, CompilationError):
        print("\n".join(exc.errors), file=err)
    else:
        print(f"testbed {command}: {exc}", file=err)
    return EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------------------------


def _add_compile(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile Solidity sources and print contract sizes",
        description="Compile the project configured by [tool.agentbed] in pyproject.toml (found "
        "from the current directory, or --root, upwards), or just PATHS, with solc-js via "
        "py-solc-x (cached), and print a table of contracts with creation/runtime sizes; flags "
        "runtime code over the EIP-170 limit. Flags override the table.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or directories (default: the project's sources and agentbed's contracts)",
    )
    parser.add_argument(
        "--json", dest="json_out", type=Path, metavar="OUT", help="write artifacts as JSON"
    )
    parser.add_argument(
        "--root", type=Path, metavar="DIR", help="a directory of the project (default: cwd)"
    )
    parser.add_argument(
        "--include-path",
        dest="include_paths",
        action="append",
        metavar="P",
        help="extra import root, relative to the project root (repeatable; replaces the table's)",
    )
    parser.add_argument(
        "--remap",
        dest="remappings",
        action="append",
        metavar="PREFIX=TARGET",
        help="import remapping, target relative to the project root (repeatable; replaces "
        "the table's)",
    )
    parser.add_argument(
        "--solc-version",
        metavar="V",
        help='exact solc version for every file, or "pragma" to choose per file (the default)',
    )
    parser.add_argument(
        "--optimizer-runs", type=int, metavar="N", help="optimizer runs (default 200)"
    )
    parser.add_argument(
        "--library",
        dest="libraries",
        action="append",
        metavar="NAME=ADDRESS",
        help="link library NAME (or path:NAME) at ADDRESS in the output (repeatable)",
    )


def _compile_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Table values the flags override (``ProjectConfig`` fields).

    Raises:
        ValueError: ``--flag: problem`` for a malformed flag value.
    """
    values: dict[str, Any] = {}
    if args.include_paths:
        values["include_paths"] = tuple(args.include_paths)
    try:
        remappings = tuple(parse_remapping(text) for text in args.remappings or ())
    except ValueError as exc:
        raise ValueError(f"--remap: {exc}") from exc
    if remappings:
        values["remappings"] = remappings
    if args.solc_version is not None:
        try:
            values["solc"] = parse_solc(args.solc_version)
        except ValueError as exc:
            raise ValueError(f"--solc-version: {exc}") from exc
    if args.optimizer_runs is not None:
        if args.optimizer_runs < 0:
            raise ValueError("--optimizer-runs must be >= 0")
        values.update(optimizer=True, optimizer_runs=args.optimizer_runs)
    libraries: dict[str, str] = {}
    for text in args.libraries or ():
        name, _, address = text.partition("=")
        try:
            libraries.update([parse_library(name, address)])
        except ValueError as exc:
            raise ValueError(f"--library: {exc}") from exc
    if libraries:
        values["libraries"] = libraries
    return values


def _compile_plain(paths: list[Path], values: dict[str, Any]) -> CompileResult:
    """Compile PATHS outside any project: the flags are the only settings."""
    solc = values.get("solc")
    config = CompilerConfig.from_env(
        solc_version=None if solc in (None, PRAGMA) else solc,
        optimizer_runs=values.get("optimizer_runs"),
        include_paths=tuple(Path(p) for p in values.get("include_paths", ())) or None,
        remappings=values.get("remappings"),
    )
    return compile_files(paths, config)


def _compile_for(args: argparse.Namespace, values: dict[str, Any]) -> CompileResult:
    """Compile what the arguments name; library addresses are linked into the output.

    Raises:
        ProjectNotFound: No project above ``--root`` (or the current directory when no PATHS).
    """
    paths: list[Path] = list(args.paths)
    project: Project | None
    if args.root is not None or not paths:
        project = load_project(args.root)
    else:
        try:
            project = load_project()
        except ProjectNotFound:
            project = None
    if project is None:
        result = _compile_plain(paths, values)
        libraries = values.get("libraries", {})
    else:
        project = project.with_overrides(**values)
        own = Compiler(project.compiler_config())
        result = own.compile(paths) if paths else project.compile()
        libraries = project.libraries
    addresses = {name: value for name, value in libraries.items() if value != DEPLOY}
    if not addresses:
        return result
    linked = tuple(link_artifact(a, addresses, require_all=False) for a in result.artifacts)
    return replace(result, artifacts=linked)


def _run_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        values = _compile_overrides(args)
    except ValueError as exc:
        print(f"testbed compile: {exc}", file=err)
        return EXIT_USAGE
    try:
        result = _compile_for(args, values)
    except (ProjectNotFound, ProjectConfigError) as exc:
        print(f"testbed: error: {exc}", file=err)
        return EXIT_USAGE
    except SourcePathError as exc:
        print(f"testbed compile: {exc}", file=err)
        return EXIT_USAGE
    except (CompilationError, ToolchainError) as exc:
        return _toolchain_failure("compile", exc, err)
    for warning in result.warnings:
        print(warning, file=err)
    print("\n".join(_size_table(result)), file=out)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json_out}", file=out)
    return EXIT_OK


def _size_table(result: CompileResult) -> list[str]:
    """One row per deployable contract; interfaces and abstract contracts are counted only."""
    deployable = [a for a in result.artifacts if a.creation_bytecode]
    width = max([len("contract"), *(len(a.qualified_name) for a in deployable)])
    lines = [f"{'contract':<{width}}  {'creation':>9}  {'runtime':>9}"]
    for artifact in deployable:
        runtime = len(artifact.runtime_bytecode)
        flag = (
            f"  over EIP-170 limit ({EIP170_RUNTIME_LIMIT})"
            if runtime > EIP170_RUNTIME_LIMIT
            else ""
        )
        creation = len(artifact.creation_bytecode)
        lines.append(f"{artifact.qualified_name:<{width}}  {creation:>9}  {runtime:>9}{flag}")
    skipped = len(result.artifacts) - len(deployable)
    source = "cache" if result.from_cache else "compiled"
    lines.append(
        f"{len(deployable)} deployable, {skipped} interfaces/abstract; "
        f"solc {result.compiler_version} ({source})"
    )
    return lines


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------


def _add_demo(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from agentbed.demo import run_demo

    try:
        return run_demo(seed=args.seed, json_out=args.json_out, out=out)
    except (CompilationError, ToolchainError) as exc:
        return _toolchain_failure("demo", exc, err)


# ---------------------------------------------------------------------------------------------
# gas
# ---------------------------------------------------------------------------------------------


def _add_gas(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gas",
        help="print gas per contract operation, measured by running the contract test suites",
        description="Run pytest with the chain fixtures' --gas-report on the given test paths "
        "(default: tests/contracts/) and print gas per contract and operation: calls, min, "
        "mean, max and reverted calls. Arguments after -- go to pytest unchanged.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="test files or directories")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def _run_gas(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import subprocess

    paths: list[Path] = list(args.paths)
    if not paths:
        root = find_project_root() or Path.cwd()
        paths = [root / "tests" / "contracts"]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"testbed gas: no such test path: {missing[0]}", file=err)
        return EXIT_USAGE
    extra = [a for a in args.pytest_args if a != "--"]
    command = [sys.executable, "-m", "pytest", "-q", "--gas-report", *map(str, paths), *extra]
    print(f"testbed gas: running {' '.join(command[1:])}", file=err)
    # Stream pytest's output line by line: a full contract suite takes minutes.
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            out.flush()
    return EXIT_OK if proc.returncode == 0 else EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# run / compare (scenario files)
# ---------------------------------------------------------------------------------------------


def _add_scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario",
        help="scenario file (TOML; see docs/scenarios.md), or a bundled scenario's name "
        "(e.g. mev, small)",
    )
    parser.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")


def _add_jobs_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="parallel processes (default: min(2, CPU count)); results do not depend on it",
    )


def _jobs(command: str, args: argparse.Namespace, err: TextIO) -> int | None:
    """``--jobs`` or its default; print the error and return None when it is below 1."""
    import os

    jobs: int = args.jobs if args.jobs is not None else min(2, os.cpu_count() or 1)
    if jobs < 1:
        print(f"testbed {command}: --jobs must be >= 1, got {jobs}", file=err)
        return None
    return jobs


def _echo_to(err: TextIO) -> Callable[[str], None]:
    """A line printer for progress messages: to ``err``, flushed at once."""

    def echo(line: str) -> None:
        print(line, file=err, flush=True)

    return echo


def _add_run(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a scenario file and write its report",
        description="Run a scenario under one ordering policy and write blocks.csv, agents.csv, "
        "victims.csv, summary.json, events.jsonl, plots and report.md into DIR (default: "
        "runs/<scenario>-<policy>-seed<N>). Deterministic per seed.",
    )
    _add_scenario_args(parser)
    parser.add_argument("--policy", metavar="P", help="ordering policy (default: the scenario's)")
    parser.add_argument(
        "--variant", metavar="V", help="one of the file's [variants] (default: the file as written)"
    )


def _add_compare(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="run a scenario under several ordering policies, or its variants, and compare",
        description="Run the same scenario and seed under each policy, or each of the "
        "scenario's [variants] ('base' is the file as written), each into DIR/<name>/, and "
        "write the comparison (tables with a policy or variant column, summary.json, plots, "
        "report.md) into DIR (default: runs/<scenario>-compare-seed<N>). Without options, a "
        "scenario with variants compares base and every variant; one without compares all "
        "five policies.",
    )
    _add_scenario_args(parser)
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
    _add_jobs_arg(parser)


def _names(option: str, text: str) -> list[str]:
    """The names of a comma-separated option value.

    Raises:
        ValueError: an empty name.
    """
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise ValueError(f"{option} has an empty name: {text!r}")
    return names


def _scenario_setup(command: str, args: argparse.Namespace, err: TextIO) -> tuple[Any, int] | None:
    """Load the scenario (a file, else a bundled scenario's name) and resolve the seed; print
    the error and return None on failure."""
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


def _interrupted(command: str, logs: Sequence[Path], err: TextIO) -> int:
    from agentbed.agents.eventlog import read_events

    for log in logs:
        if not log.exists():
            continue
        events = read_events(log)
        last = next((e for e in reversed(events) if e.get("event") == "interrupted"), None)
        where = f" up to block {last['last_block']}" if last else ""
        print(f"testbed {command}: interrupted; {log} keeps the run{where}", file=err)
    return EXIT_INTERRUPTED


def _run_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import time

    from agentbed.agents.sim import default_progress
    from agentbed.chain.ordering import parse_policy
    from agentbed.experiments.runner import BASE, describe, run_scenario

    setup = _scenario_setup("run", args, err)
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
        return _interrupted("run", [target / "events.jsonl"], err)
    except Exception as exc:
        print(f"testbed run: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    print(describe(outcome), file=out)
    print(f"report: {outcome.report_path} ({time.perf_counter() - start:.1f}s)", file=out)
    return EXIT_OK


def _run_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import time

    from agentbed.agents.sim import default_progress
    from agentbed.chain.ordering import POLICY_NAMES, parse_policy
    from agentbed.experiments.runner import BASE, compare, policy_runs, variant_runs

    setup = _scenario_setup("compare", args, err)
    if setup is None:
        return EXIT_USAGE
    scenario, seed = setup
    try:
        if args.variants is not None or (args.policies is None and scenario.variants):
            chosen = (
                _names("--variants", args.variants)
                if args.variants is not None
                else [BASE, *scenario.variants]
            )
            runs = variant_runs(scenario, chosen)
        else:
            names = _names("--policies", args.policies) if args.policies else POLICY_NAMES
            runs = policy_runs(scenario, [parse_policy(name).name for name in names])
    except ValueError as exc:
        print(f"testbed compare: {exc}", file=err)
        return EXIT_USAGE
    jobs = _jobs("compare", args, err)
    if jobs is None:
        return EXIT_USAGE
    target = args.out or Path("runs") / f"{Path(scenario.path).stem}-compare-seed{seed}"
    start = time.perf_counter()
    try:
        _, report = compare(
            scenario,
            runs,
            target,
            seed=seed,
            jobs=jobs,
            echo=_echo_to(err),
            progress=default_progress() if jobs == 1 else None,
        )
    except KeyboardInterrupt:
        return _interrupted("compare", [target / r.label / "events.jsonl" for r in runs], err)
    except Exception as exc:
        print(f"testbed compare: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    elapsed = time.perf_counter() - start
    print(f"compared {len(runs)} runs in {elapsed:.1f}s (--jobs {jobs})", file=out)
    print(f"report: {report}", file=out)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------


def _add_sweep(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a scenario over a grid of values and seeds; mean and 95%% interval per cell",
        description="Run the scenario for every combination of the --param values (the grid) "
        "and each of --seeds seeds, in parallel processes, and write a table of the mean and "
        "95% t-interval per cell and metric to DIR/sweep.csv and DIR/sweep.md (default DIR: "
        "runs/<scenario>-sweep). Each run's summary goes to DIR/runs/<cell>/seed<N>/; runs "
        "found there are reused, so an interrupted sweep resumes where it stopped.",
    )
    _add_scenario_args(parser)
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
    _add_jobs_arg(parser)
    parser.add_argument(
        "--metric",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="key paths into summary.json for the table (default: the study's metrics, e.g. "
        "victim_loss, searcher_profit, txs, reverted, inclusion_delay_ms.mean, fullness_mean "
        "for a market; see docs/scenarios.md)",
    )


def _run_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from agentbed.agents.sim import default_progress
    from agentbed.experiments.scenario import ScenarioError
    from agentbed.experiments.sweep import (
        SweepError,
        default_metrics,
        parse_param,
        plan_sweep,
        run_sweep,
        table_lines,
    )

    if args.seeds < 1:
        print(f"testbed sweep: --seeds must be >= 1, got {args.seeds}", file=err)
        return EXIT_USAGE
    jobs = _jobs("sweep", args, err)
    if jobs is None:
        return EXIT_USAGE
    setup = _scenario_setup("sweep", args, err)
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
        result = run_sweep(
            plan,
            metrics=args.metric or default_metrics(scenario),
            jobs=jobs,
            echo=_echo_to(err),
            progress=default_progress() if jobs == 1 else None,
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
    except Exception as exc:
        print(f"testbed sweep: failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    print("\n".join(table_lines(plan, result.metrics, result.stats)), file=out)
    print(
        f"{plan.total} runs (ran {result.ran}, reused {result.reused}) in {result.wall_s:.1f}s "
        f"(--jobs {jobs}); table: {result.csv_path}, {result.md_path}",
        file=out,
    )
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# Registry: (name, add arguments, run).
# ---------------------------------------------------------------------------------------------

Runner = Callable[[argparse.Namespace, TextIO, TextIO], int]
Adder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

_COMMANDS: tuple[tuple[str, Adder, Runner], ...] = (
    ("demo", _add_demo, _run_demo),
    ("compile", _add_compile, _run_compile),
    ("gas", _add_gas, _run_gas),
    ("run", _add_run, _run_run),
    ("compare", _add_compare, _run_compare),
    ("sweep", _add_sweep, _run_sweep),
)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``testbed`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="testbed", description="agent-testbed: a local blockchain testbed for agent economies"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for _name, add, _run in _COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``testbed`` command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit code: 0 success, 1 failure (e.g. compile errors), 2 usage errors.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    runners = {name: run for name, _add, run in _COMMANDS}
    return runners[args.command](args, sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
