"""Compiler settings and where things live on disk.

``CompilerConfig`` is a frozen record of everything that decides a compile (compiler version,
optimizer, EVM target, remappings, cache locations). Environment variables are read once, by
``CompilerConfig.from_env``, never at import time, so tests can pass their own mapping.
``find_project_table`` finds a project by the ``[tool.agentbed]`` table of its ``pyproject.toml``
(the table's values are checked by ``agentbed.chain.compiler.project``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentbed.chain.compiler.errors import ProjectConfigError

DEFAULT_SOLC_VERSION = "0.8.28"
"""The pinned compiler version; sources whose pragma excludes it get a matching one."""

DEFAULT_OPTIMIZER_RUNS = 200

DEFAULT_REMAPPINGS: tuple[str, ...] = ("@openzeppelin/=node_modules/@openzeppelin/",)
"""Remappings applied when none are given; targets are relative to the project root."""

EIP170_RUNTIME_LIMIT = 24_576
"""Maximum runtime bytecode size a deployment may have (EIP-170)."""

ENV_SOLC_BINARY = "TESTBED_SOLC"
ENV_SOLC_CACHE = "TESTBED_SOLC_CACHE"
ENV_CACHE = "TESTBED_CACHE"

PYPROJECT = "pyproject.toml"
TABLE_NAME = "agentbed"
"""A project is configured by the ``[tool.agentbed]`` table of its ``pyproject.toml``."""

# Oldest compiler release that accepts each EVM target, newest target first. py-evm runs
# Prague, so Prague is used whenever the compiler knows it.
_EVM_TARGETS: tuple[tuple[tuple[int, int, int], str], ...] = (
    ((0, 8, 27), "prague"),
    ((0, 8, 24), "cancun"),
    ((0, 8, 20), "shanghai"),
    ((0, 8, 18), "paris"),
)


def default_cache_root(env: Mapping[str, str]) -> Path:
    """Return the per-user cache directory of agentbed.

    Args:
        env: Environment to read ``HOME`` from (via ``Path.home`` when absent).

    Returns:
        ``~/.cache/agentbed``.
    """
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "agentbed"


def evm_version_for(solc_version: str) -> str | None:
    """Return the newest EVM target, up to Prague, that ``solc_version`` accepts.

    Args:
        solc_version: A ``major.minor.patch`` compiler version (a ``+commit`` suffix is ignored).

    Returns:
        The ``evmVersion`` setting, or ``None`` to leave the compiler's own default.
    """
    core = solc_version.split("+", 1)[0].split("-", 1)[0]
    try:
        parsed = tuple(int(part) for part in core.split("."))
    except ValueError:
        return None
    for oldest, target in _EVM_TARGETS:
        if parsed >= oldest:
            return target
    return None


def read_agentbed_table(pyproject: Path) -> dict[str, Any] | None:
    """Return the ``[tool.agentbed]`` table of a ``pyproject.toml``, or ``None`` if it has none.

    Args:
        pyproject: Path of the file.

    Returns:
        The table as parsed.

    Raises:
        ProjectConfigError: If the file is not valid TOML or ``tool.agentbed`` is not a table.
    """
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ProjectConfigError(pyproject, "(file)", f"cannot read: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ProjectConfigError(pyproject, "(file)", f"not valid TOML: {err}") from err
    tool = data.get("tool")
    if not isinstance(tool, dict) or TABLE_NAME not in tool:
        return None
    table = tool[TABLE_NAME]
    if not isinstance(table, dict):
        raise ProjectConfigError(pyproject, f"tool.{TABLE_NAME}", "expected a table")
    return table


def find_project_table(start: Path | str | None = None) -> tuple[Path, dict[str, Any]] | None:
    """Find the nearest folder whose ``pyproject.toml`` has ``[tool.agentbed]``, with that table.

    Directories whose ``pyproject.toml`` lacks the table are passed over, so a project nested
    in another Python project is found by its own table, never by a guess. Each file on the
    way is read once; the table found is returned so that nobody reads it again.

    Args:
        start: File or directory to search upwards from; the current directory when ``None``.

    Returns:
        ``(root directory, table as parsed)``, or ``None`` when no ancestor has such a table.

    Raises:
        ProjectConfigError: If a ``pyproject.toml`` on the way is not valid TOML.
    """
    here = Path(start).resolve() if start is not None else Path.cwd().resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        pyproject = candidate / PYPROJECT
        if pyproject.is_file():
            table = read_agentbed_table(pyproject)
            if table is not None:
                return candidate, table
    return None


def find_project_root(start: Path | str | None = None) -> Path | None:
    """Find the project root: the nearest folder whose ``pyproject.toml`` has ``[tool.agentbed]``.

    Args:
        start: File or directory to search upwards from; the current directory when ``None``.

    Returns:
        The root directory, or ``None`` when no ancestor has such a table (see
        :func:`find_project_table`).

    Raises:
        ProjectConfigError: If a ``pyproject.toml`` on the way is not valid TOML.
    """
    found = find_project_table(start)
    return found[0] if found is not None else None


@dataclass(frozen=True, slots=True)
class CompilerConfig:
    """Everything that decides how sources are compiled and where results are kept.

    Attributes:
        root: Base path: source unit names are relative to it, remapping targets too. ``None``
            means the project root found from the inputs (or their common directory).
        solc_version: Exact compiler version to use; ``None`` means ``default_solc_version``
            unless a pragma excludes it, in which case the newest matching release is used.
        default_solc_version: The pinned default version.
        optimizer: Whether the optimizer is enabled.
        optimizer_runs: The optimizer's ``runs`` parameter.
        evm_version: EVM target; ``None`` means Prague, or the newest target the compiler knows.
        via_ir: Compile through the IR pipeline.
        remappings: ``[context:]prefix=target`` remappings; ``None`` means the default
            OpenZeppelin remapping.
        include_paths: Extra directories imports are looked up in (after ``root``).
        artifact_cache_dir: Directory of the content-addressed artifact cache.
        solc_cache_dir: Directory holding one installed solc-js version per subdirectory.
        solc_binary: A native ``solc`` to use instead of solc-js.
        use_cache: Read and write the artifact cache.
    """

    root: Path | None = None
    solc_version: str | None = None
    default_solc_version: str = DEFAULT_SOLC_VERSION
    optimizer: bool = True
    optimizer_runs: int = DEFAULT_OPTIMIZER_RUNS
    evm_version: str | None = None
    via_ir: bool = False
    remappings: tuple[str, ...] | None = None
    include_paths: tuple[Path, ...] = field(default=())
    artifact_cache_dir: Path | None = None
    solc_cache_dir: Path | None = None
    solc_binary: Path | None = None
    use_cache: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> CompilerConfig:
        """Build a config whose cache dirs and native binary come from the environment.

        ``TESTBED_CACHE`` replaces ``~/.cache/agentbed`` as the parent of ``artifacts/``;
        ``TESTBED_SOLC_CACHE`` is the solc-js install directory (default
        ``~/.cache/agentbed/solc``); ``TESTBED_SOLC`` names a native ``solc`` binary.
        Keyword overrides win over the environment.

        Args:
            env: Environment mapping; ``os.environ`` when ``None``.
            **overrides: Field values to set explicitly.

        Returns:
            The config.
        """
        env = os.environ if env is None else env
        base = default_cache_root(env)
        cache_parent = Path(env[ENV_CACHE]) if env.get(ENV_CACHE) else base
        values: dict[str, object] = {
            "artifact_cache_dir": cache_parent / "artifacts",
            "solc_cache_dir": Path(env[ENV_SOLC_CACHE])
            if env.get(ENV_SOLC_CACHE)
            else base / "solc",
            "solc_binary": Path(env[ENV_SOLC_BINARY]) if env.get(ENV_SOLC_BINARY) else None,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]

    @property
    def effective_remappings(self) -> tuple[str, ...]:
        """The remappings in force (the defaults when none were given)."""
        return DEFAULT_REMAPPINGS if self.remappings is None else self.remappings
