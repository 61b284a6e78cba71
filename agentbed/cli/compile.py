"""``testbed compile``: compile the project (or given paths) and print contract sizes.

The project's ``[tool.agentbed]`` table gives the settings; flags override it. Outside any
project, PATHS compile with the flags as the only settings. Library addresses given in the
table or by ``--library`` are linked into the output.
"""

from __future__ import annotations

import argparse
import json
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
    link_artifact,
    load_project,
)
from agentbed.chain.compiler.linking import DEPLOY
from agentbed.chain.compiler.project import PRAGMA, parse_library, parse_remapping, parse_solc
from agentbed.chain.errors import CompilationError, ToolchainError
from agentbed.cli.common import EXIT_OK, EXIT_USAGE, Subparsers, toolchain_failure


def add_compile(subparsers: Subparsers) -> None:
    """Declare ``testbed compile`` and its arguments."""
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


def run_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Compile, print the size table (and write the artifacts when ``--json`` asks).

    Returns:
        0; 2 for a bad flag, a missing project or source path; 1 when compilation fails.
    """
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
        return toolchain_failure("compile", exc, err)
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
