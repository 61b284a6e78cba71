"""The ``testbed`` command line.

Each subcommand is a pair of functions, ``_add_<name>(subparsers)`` to declare its arguments
and ``_run_<name>(args) -> int`` to execute it, registered in ``_COMMANDS``.

    testbed demo [--seed N] [--json OUT]     the main job (README quick start)
    testbed compile [PATHS] [--json OUT]     compile and print contract sizes
    testbed gas [PATHS] [-- PYTEST ARGS]     gas per contract operation from the test suites
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from chain.compiler import (
    EIP170_RUNTIME_LIMIT,
    CompilerConfig,
    CompileResult,
    SourcePathError,
    compile_files,
    find_project_root,
)
from chain.errors import CompilationError, ToolchainError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


# ---------------------------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------------------------


def _add_compile(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile Solidity sources and print contract sizes",
        description="Compile Solidity sources (solc-js via py-solc-x, cached) and print a table "
        "of contracts with creation/runtime sizes; flags runtime code over the EIP-170 limit.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="files or directories (default: contracts/)"
    )
    parser.add_argument(
        "--json", dest="json_out", type=Path, metavar="OUT", help="write artifacts as JSON"
    )
    parser.add_argument("--solc-version", metavar="V", help="exact solc version (default: pinned)")
    parser.add_argument(
        "--optimizer-runs", type=int, metavar="N", help="optimizer runs (default 200)"
    )


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


def _run_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths: list[Path] = list(args.paths)
    if not paths:
        root = find_project_root()
        paths = [root / "contracts" if root is not None else Path("contracts")]
    if args.optimizer_runs is not None and args.optimizer_runs < 0:
        print("testbed compile: --optimizer-runs must be >= 0", file=err)
        return EXIT_USAGE
    config = CompilerConfig.from_env(
        solc_version=args.solc_version, optimizer_runs=args.optimizer_runs
    )
    try:
        result = compile_files(paths, config)
    except SourcePathError as exc:
        print(f"testbed compile: {exc}", file=err)
        return EXIT_USAGE
    except CompilationError as exc:
        print("\n".join(exc.errors), file=err)
        return EXIT_FAILED
    except ToolchainError as exc:
        print(f"testbed compile: {exc}", file=err)
        return EXIT_FAILED
    for warning in result.warnings:
        print(warning, file=err)
    print("\n".join(_size_table(result)), file=out)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json_out}", file=out)
    return EXIT_OK


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
    from chain.demo import run_demo

    try:
        return run_demo(seed=args.seed, json_out=args.json_out, out=out)
    except CompilationError as exc:
        print("\n".join(exc.errors), file=err)
        return EXIT_FAILED
    except ToolchainError as exc:
        print(f"testbed demo: {exc}", file=err)
        return EXIT_FAILED


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
# Registry: (name, add arguments, run).
# ---------------------------------------------------------------------------------------------

Runner = Callable[[argparse.Namespace, TextIO, TextIO], int]
Adder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

_COMMANDS: tuple[tuple[str, Adder, Runner], ...] = (
    ("demo", _add_demo, _run_demo),
    ("compile", _add_compile, _run_compile),
    ("gas", _add_gas, _run_gas),
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
