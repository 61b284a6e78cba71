"""The ``Compiler``: inputs -> import closure -> version groups -> cache or solc -> artifacts.

A warm compile (same sources, settings and compiler version) is answered from the artifact
cache without starting any process: the cache key is computed from the Python-side import
closure, and solc-js versions are identified by their exact npm version, so not even
``--version`` runs. With ``TESTBED_SOLC`` (a native binary) the key includes that binary's
reported version, which costs one cheap ``--version`` call.

Sources whose pragmas admit no single version are compiled in version groups (see
``agentbed.chain.compiler.groups``), each group cached on its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import solcx
from solcx.exceptions import SolcError
from solcx.wrapper import get_version_str_from_solc_binary

from agentbed.chain.compiler.artifacts import (
    CompileResult,
    artifacts_from_output,
    split_diagnostics,
)
from agentbed.chain.compiler.cache import ArtifactCache, cache_key
from agentbed.chain.compiler.config import CompilerConfig, evm_version_for, find_project_root
from agentbed.chain.compiler.errors import SourcePathError
from agentbed.chain.compiler.groups import VersionGroup, merge_results, plan_groups
from agentbed.chain.compiler.imports import ImportResolver, Remapping, SourceUnit
from agentbed.chain.compiler.solcjs import SolcJsInstaller, require_tools
from agentbed.chain.compiler.versions import select_version
from agentbed.chain.errors import CompilationError, ToolchainError

OUTPUT_SELECTION = (
    "abi",
    "metadata",
    "storageLayout",
    "evm.bytecode.object",
    "evm.bytecode.sourceMap",
    "evm.bytecode.linkReferences",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.sourceMap",
    "evm.deployedBytecode.linkReferences",
    "evm.methodIdentifiers",
)


def collect_sources(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Expand inputs into ``.sol`` files: directories recursively, files as given.

    Args:
        paths: Files and directories.

    Returns:
        Resolved file paths, without duplicates, in a stable order.

    Raises:
        SourcePathError: If a path does not exist or nothing was found.
    """
    found: dict[Path, None] = {}
    given = list(paths)
    for path in given:
        if path.is_dir():
            for file in sorted(path.rglob("*.sol")):
                if file.is_file():
                    found.setdefault(file.resolve(), None)
        elif path.is_file():
            found.setdefault(path.resolve(), None)
        else:
            raise SourcePathError(f"no such file or directory: {path}")
    if not found:
        shown = ", ".join(str(p) for p in given) or "(no paths)"
        raise SourcePathError(f"no Solidity sources (*.sol) found in {shown}")
    return tuple(found)


def _common_dir(files: Sequence[Path]) -> Path:
    parents = [f.parent for f in files]
    common = parents[0]
    while not all(p.is_relative_to(common) for p in parents):
        common = common.parent
    return common


class Compiler:
    """Compiles Solidity sources with solc-js (or a native solc) and caches the artifacts.

    Args:
        config: Settings; ``CompilerConfig.from_env()`` when ``None``.
        progress: Stream for install progress messages (``sys.stderr`` when ``None``).
    """

    def __init__(
        self, config: CompilerConfig | None = None, progress: TextIO | None = None
    ) -> None:
        self.config = config if config is not None else CompilerConfig.from_env()
        self._progress = progress if progress is not None else sys.stderr
        solc_dir = self.config.solc_cache_dir
        artifact_dir = self.config.artifact_cache_dir
        if solc_dir is None or artifact_dir is None:
            defaults = CompilerConfig.from_env()
            solc_dir = solc_dir or defaults.solc_cache_dir or Path("solc")
            artifact_dir = artifact_dir or defaults.artifact_cache_dir or Path("artifacts")
        self.installer = SolcJsInstaller(solc_dir, progress=self._progress)
        self.cache = ArtifactCache(artifact_dir)

    def compile(self, paths: Iterable[Path | str]) -> CompileResult:
        """Compile files and directories (all ``*.sol`` below them) with their imports.

        Args:
            paths: Input files and directories.

        Returns:
            Artifacts of every contract in the import closure, plus warnings.

        Raises:
            SourcePathError: If an input is missing or holds no sources.
            CompilationError: If the sources do not compile (``file:line:col: message`` each).
            ToolchainError: If node/npm or the solc binary are missing or broken.
        """
        files = collect_sources(Path(p) for p in paths)
        root = self._base_path(files)
        resolver = ImportResolver(
            root,
            include_paths=[root / p for p in self.config.include_paths],
            remappings=[Remapping.parse(r) for r in self.config.effective_remappings],
        )
        units = resolver.closure(files)
        inputs = [resolver.unit_name(f) for f in files]
        groups = self._plan(units, inputs, resolver)
        results = [
            self._compile_group({name: units[name] for name in group.units}, group, resolver)
            for group in groups
        ]
        return merge_results(groups, results)

    def _plan(
        self, units: Mapping[str, SourceUnit], inputs: Sequence[str], resolver: ImportResolver
    ) -> tuple[VersionGroup, ...]:
        """One group unless the version follows the pragmas and they need several releases."""
        if self.config.solc_binary is not None or self.config.solc_version is not None:
            return (VersionGroup("", tuple(inputs), tuple(units)),)

        def choose(pragmas: Sequence[tuple[str, str]]) -> str:
            return select_version(
                pragmas, self.config.default_solc_version, self.installer.published_versions
            )

        return plan_groups(units, inputs, resolver, self.config.default_solc_version, choose)

    def _compile_group(
        self, units: Mapping[str, SourceUnit], group: VersionGroup, resolver: ImportResolver
    ) -> CompileResult:
        """Compile one group's sources with its version (or the configured compiler)."""
        binary, compiler_id, version = self._pick_compiler(group.version)
        settings = self._settings(version)
        standard_input: dict[str, Any] = {
            "language": "Solidity",
            "sources": {name: {"content": unit.content} for name, unit in units.items()},
            "settings": settings,
        }
        # Include paths decide which files were read; their contents are in the input already,
        # but a key naming them keeps two projects' lookups apart even when contents agree.
        context = {"includePaths": [str(p) for p in self.config.include_paths]}
        key = cache_key(compiler_id, standard_input, context if self.config.include_paths else None)
        if self.config.use_cache:
            cached = self.cache.load(key)
            if cached is not None:
                return cached
        output = self._run_solc(binary or self.installer.ensure(version), standard_input, resolver)
        contents = {name: unit.content for name, unit in units.items()}
        errors, warnings = split_diagnostics(output, contents)
        if errors:
            raise CompilationError(errors)
        artifacts = artifacts_from_output(output, settings)
        full_version = next((a.compiler_version for a in artifacts if a.compiler_version), version)
        result = CompileResult(
            artifacts=artifacts,
            warnings=warnings,
            compiler_version=full_version,
            cache_key=key,
        )
        if self.config.use_cache:
            self.cache.store(result)
        return result

    def _base_path(self, files: Sequence[Path]) -> Path:
        if self.config.root is not None:
            return self.config.root.resolve()
        return find_project_root(files[0]) or _common_dir(files)

    def _pick_compiler(self, planned: str) -> tuple[Path | None, str, str]:
        """Return ``(native binary or None, compiler id for the key, version)``.

        ``planned`` is the version :meth:`_plan` gave the group; it is empty only when a native
        binary or ``solc_version`` decides the compiler instead.
        """
        native = self.config.solc_binary
        if native is not None:
            try:
                full = get_version_str_from_solc_binary(native)
            except (OSError, subprocess.CalledProcessError, SolcError) as err:
                raise ToolchainError(f"TESTBED_SOLC={native} is not a working solc: {err}") from err
            return native, f"native:{full}", full
        version = self.config.solc_version or planned
        return None, f"solcjs:{version}", version

    def _settings(self, version: str) -> dict[str, Any]:
        config = self.config
        settings: dict[str, Any] = {
            "optimizer": {"enabled": config.optimizer, "runs": config.optimizer_runs},
            "remappings": list(config.effective_remappings),
            "outputSelection": {"*": {"*": list(OUTPUT_SELECTION)}},
        }
        evm_version = config.evm_version or evm_version_for(version)
        if evm_version is not None:
            settings["evmVersion"] = evm_version
        if config.via_ir:
            settings["viaIR"] = True
        return settings

    def _run_solc(
        self, binary: Path, standard_input: dict[str, Any], resolver: ImportResolver
    ) -> dict[str, Any]:
        if self.config.solc_binary is None:
            require_tools("node")
        allow = [resolver.base_path, *resolver.include_paths]
        try:
            output: dict[str, Any] = solcx.compile_standard(
                standard_input,
                solc_binary=binary,
                base_path=resolver.base_path,
                allow_paths=allow,
            )
        except SolcError as err:
            if err.error_dict:
                # py-solc-x raises on compile errors; keep the structured list for formatting.
                return {"errors": err.error_dict}
            detail = (err.stderr_data or err.message or "").strip()
            raise ToolchainError(f"solc at {binary} failed: {detail}") from err
        except (OSError, ValueError) as err:
            raise ToolchainError(f"solc at {binary} failed: {err}") from err
        return output


def compile_files(
    paths: Iterable[Path | str], config: CompilerConfig | None = None, **options: Any
) -> CompileResult:
    """Compile files and/or directories with a fresh ``Compiler``.

    Args:
        paths: Input files and directories.
        config: Base settings; ``CompilerConfig.from_env()`` when ``None``.
        **options: ``CompilerConfig`` fields to override (e.g. ``solc_version="0.8.26"``,
            ``optimizer_runs=1000``, ``root=Path(...)``).

    Returns:
        The compile result.
    """
    base = config if config is not None else CompilerConfig.from_env()
    if options:
        base = replace(base, **options)
    return Compiler(base).compile(paths)
