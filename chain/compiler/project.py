"""A user project: the ``[tool.agentbed]`` table of its ``pyproject.toml``, read in one place.

The compiler, the pytest plugin and ``testbed compile`` all find a project the same way: from a
start directory upwards to the nearest ``pyproject.toml`` with a ``[tool.agentbed]`` table
(``load_project``); nothing is guessed from folder names or the installed package's location.
The table, with its defaults::

    [tool.agentbed]
    sources = ["contracts"]        # folders holding the project's .sol files (src layout: ["src"])
    include_paths = []             # extra import roots, relative to the project root
    remappings = []                # "prefix=target"; default: @openzeppelin/ -> node_modules
    solc = "pragma"                # or one exact version for every file, e.g. "0.8.28"
    optimizer_runs = 200           # false turns the optimizer off
    evm_version = "prague"         # default: the newest target the chosen compiler knows
    library_contracts = true       # agentbed's own contracts deployable by name too

    [tool.agentbed.libraries]
    MathLib = "0x..."              # link at this address, or "deploy" to deploy it first

Parsing happens once, here; every malformed value is a one-line ``ProjectConfigError`` naming
the file and the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from agentbed.chain.compiler.artifacts import CompileResult
from agentbed.chain.compiler.compiler import compile_files
from agentbed.chain.compiler.config import (
    DEFAULT_OPTIMIZER_RUNS,
    DEFAULT_REMAPPINGS,
    PYPROJECT,
    TABLE_NAME,
    CompilerConfig,
    find_project_table,
)
from agentbed.chain.compiler.errors import ProjectConfigError, ProjectNotFound
from agentbed.chain.compiler.imports import Remapping
from agentbed.chain.compiler.library import (
    covers_library,
    library_contracts_dir,
    library_imports,
    merge_library,
)
from agentbed.chain.compiler.linking import DEPLOY, is_library_address, is_library_name

PRAGMA = "pragma"
"""The ``solc`` value meaning: choose the version per file from its pragmas."""

EVM_VERSIONS = (
    "homestead",
    "tangerineWhistle",
    "spuriousDragon",
    "byzantium",
    "constantinople",
    "petersburg",
    "istanbul",
    "berlin",
    "london",
    "paris",
    "shanghai",
    "cancun",
    "prague",
    "osaka",
)
"""EVM targets solc accepts as ``evmVersion``."""

_KEYS = (
    "sources",
    "include_paths",
    "remappings",
    "solc",
    "optimizer_runs",
    "evm_version",
    "library_contracts",
    "libraries",
)


# ---------------------------------------------------------------------------------------------
# Values (shared by the table and the command line)
# ---------------------------------------------------------------------------------------------


def parse_solc(value: str) -> str:
    """Check a ``solc`` value: ``"pragma"`` or an exact ``major.minor.patch``.

    Raises:
        ValueError: With what was wrong.
    """
    if value == PRAGMA or re.fullmatch(r"\d+\.\d+\.\d+", value):
        return value
    raise ValueError(f'expected "pragma" or an exact version such as "0.8.28", got {value!r}')


def parse_remapping(value: str) -> str:
    """Check a remapping ``[context:]prefix=target`` (both prefix and target non-empty).

    Raises:
        ValueError: With what was wrong.
    """
    remapping = Remapping.parse(value)  # ValueError on a missing "=" or an empty prefix
    if not remapping.target:
        raise ValueError(f"remapping has an empty target: {value!r}")
    return value


def parse_library(name: str, value: str) -> tuple[str, str]:
    """Check one library entry: ``Name``/``path:Name`` to an address or ``"deploy"``.

    Raises:
        ValueError: With what was wrong.
    """
    if not is_library_name(name):
        raise ValueError(f"library name must be Name or path/to/File.sol:Name, got {name!r}")
    if value != DEPLOY and not is_library_address(value):
        raise ValueError(f'expected a 0x-prefixed 20-byte hex address or "deploy", got {value!r}')
    return name, value


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """The values of a ``[tool.agentbed]`` table (defaults where a key is absent).

    Attributes:
        sources: Folders holding the project's sources, relative to the root.
        include_paths: Extra import roots, relative to the root.
        remappings: ``prefix=target`` remappings; ``None`` means the default (OpenZeppelin
            from ``node_modules`` when that folder exists).
        solc: ``"pragma"`` (per file, from its pragmas) or one exact version.
        optimizer: Whether the optimizer runs (``optimizer_runs = false`` turns it off).
        optimizer_runs: The optimizer's ``runs``.
        evm_version: EVM target; ``None`` picks the newest the compiler knows, up to Prague.
        library_contracts: Whether agentbed's own contracts are deployable next to the project's.
        libraries: ``(name, address or "deploy")`` pairs, sorted by name.
    """

    sources: tuple[str, ...] = ("contracts",)
    include_paths: tuple[str, ...] = ()
    remappings: tuple[str, ...] | None = None
    solc: str = PRAGMA
    optimizer: bool = True
    optimizer_runs: int = DEFAULT_OPTIMIZER_RUNS
    evm_version: str | None = None
    library_contracts: bool = True
    libraries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_table(cls, table: Mapping[str, Any], file: Path | str) -> ProjectConfig:
        """Validate a parsed ``[tool.agentbed]`` table.

        Args:
            table: The table.
            file: The ``pyproject.toml`` it came from (for messages).

        Returns:
            The config.

        Raises:
            ProjectConfigError: On an unknown key or a malformed value (one line, file and key).
        """

        def fail(key: str, problem: str) -> NoReturn:
            raise ProjectConfigError(file, f"tool.{TABLE_NAME}.{key}", problem)

        for key in table:
            if key not in _KEYS:
                fail(key, f"unknown key; known keys: {', '.join(_KEYS)}")
        values: dict[str, Any] = {}
        if "sources" in table:
            values["sources"] = _strings(table["sources"], "sources", fail, nonempty=True)
        if "include_paths" in table:
            values["include_paths"] = _strings(table["include_paths"], "include_paths", fail)
        if "remappings" in table:
            texts = _strings(table["remappings"], "remappings", fail)
            values["remappings"] = tuple(
                _checked(parse_remapping, text, f"remappings[{i}]", fail)
                for i, text in enumerate(texts)
            )
        if "solc" in table:
            solc = _string(table["solc"], "solc", fail)
            values["solc"] = _checked(parse_solc, solc, "solc", fail)
        if "optimizer_runs" in table:
            values.update(_optimizer(table["optimizer_runs"], fail))
        if "evm_version" in table:
            evm = _string(table["evm_version"], "evm_version", fail)
            if evm not in EVM_VERSIONS:
                known = ", ".join(EVM_VERSIONS)
                fail("evm_version", f"unknown EVM version {evm!r}; one of {known}")
            values["evm_version"] = evm
        if "library_contracts" in table:
            flag = table["library_contracts"]
            if not isinstance(flag, bool):
                fail("library_contracts", f"expected true or false, got {flag!r}")
            values["library_contracts"] = flag
        if "libraries" in table:
            values["libraries"] = _libraries(table["libraries"], fail)
        return cls(**values)


Fail = Callable[[str, str], NoReturn]


def _string(value: object, key: str, fail: Fail) -> str:
    if not isinstance(value, str) or not value:
        fail(key, f"expected a non-empty string, got {value!r}")
    return value


def _strings(value: object, key: str, fail: Fail, *, nonempty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list):
        fail(key, f"expected a list of strings, got {value!r}")
    if nonempty and not value:
        fail(key, "expected at least one folder")
    return tuple(_string(item, f"{key}[{i}]", fail) for i, item in enumerate(value))


def _checked(parse: Callable[[str], str], text: str, key: str, fail: Fail) -> str:
    try:
        return parse(text)
    except ValueError as err:
        fail(key, str(err))


def _optimizer(value: object, fail: Fail) -> dict[str, Any]:
    if value is False:
        return {"optimizer": False}
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
        fail("optimizer_runs", f"expected a non-negative integer or false, got {shown}")
    return {"optimizer": True, "optimizer_runs": value}


def _libraries(value: object, fail: Fail) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        fail("libraries", f'expected a table of Name = address or "deploy", got {value!r}')
    pairs: list[tuple[str, str]] = []
    for name, address in sorted(value.items()):
        if not isinstance(address, str):
            fail(f"libraries.{name}", f'expected an address or "deploy", got {address!r}')
        try:
            pairs.append(parse_library(name, address))
        except ValueError as err:
            fail(f"libraries.{name}", str(err))
    return tuple(pairs)


# ---------------------------------------------------------------------------------------------
# The project
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Project:
    """A project: its root, its table's values and where they came from.

    Attributes:
        root: The directory holding the ``pyproject.toml`` (paths in the table are relative
            to it).
        config: The table's values.
        pyproject: The file the table was read from (``None`` for the library itself).
    """

    root: Path
    config: ProjectConfig
    pyproject: Path | None = None

    @property
    def source_dirs(self) -> tuple[Path, ...]:
        """The source folders, resolved against the root."""
        return tuple(self.root / folder for folder in self.config.sources)

    @property
    def remappings(self) -> tuple[str, ...]:
        """The remappings in force (the OpenZeppelin default only when its folder exists)."""
        if self.config.remappings is not None:
            return self.config.remappings
        if (self.root / "node_modules" / "@openzeppelin").is_dir():
            return DEFAULT_REMAPPINGS
        return ()

    @property
    def libraries(self) -> dict[str, str]:
        """``{name: address or "deploy"}`` from ``[tool.agentbed.libraries]``."""
        return dict(self.config.libraries)

    @property
    def includes_library(self) -> bool:
        """Whether the library's contracts are compiled with this project (as a group)."""
        return self.config.library_contracts and not covers_library(self.source_dirs)

    def compiler_config(self, base: CompilerConfig | None = None) -> CompilerConfig:
        """The compiler settings for the project's own sources.

        Args:
            base: Cache locations and native binary (``CompilerConfig.from_env()`` when ``None``).

        Returns:
            ``base`` with root, version, optimizer, EVM target, remappings and include paths
            taken from the table.
        """
        config = self.config
        return replace(
            base if base is not None else CompilerConfig.from_env(),
            root=self.root,
            solc_version=None if config.solc == PRAGMA else config.solc,
            optimizer=config.optimizer,
            optimizer_runs=config.optimizer_runs,
            evm_version=config.evm_version,
            remappings=self.remappings,
            include_paths=tuple(Path(p) for p in config.include_paths),
        )

    def with_overrides(self, **values: Any) -> Project:
        """A copy whose table values are replaced (``ProjectConfig`` field names).

        ``libraries`` given as a mapping are added over the table's (a name given again wins).
        """
        if "libraries" in values:
            merged = {**self.libraries, **dict(values["libraries"])}
            values["libraries"] = tuple(sorted(merged.items()))
        return replace(self, config=replace(self.config, **values))

    def compile(self, base: CompilerConfig | None = None, **options: Any) -> CompileResult:
        """Compile the project's sources, plus the library's contracts unless turned off.

        Args:
            base: Cache locations and native binary (``CompilerConfig.from_env()`` when ``None``).
            **options: ``CompilerConfig`` fields to override for the project's own sources.

        Returns:
            The project's artifacts, and the library's under names the project does not use.

        Raises:
            SourcePathError: If a source folder is missing or holds no ``.sol`` files.
            CompilationError: If the sources do not compile.
            ToolchainError: If node/npm or the compiler are missing or broken.
        """
        base = base if base is not None else CompilerConfig.from_env()
        own = compile_files(self.source_dirs, self.compiler_config(base), **options)
        if not self.includes_library:
            return own
        library = library_project(self).compile(base)
        return merge_library(own, library)


def library_project(for_project: Project | None = None) -> Project:
    """agentbed's own contracts as a project (the group compiled next to a user's project).

    Args:
        for_project: The project the library is compiled for; its remapping of
            ``@openzeppelin/`` (if any) is used for the library's imports too.

    Returns:
        A project rooted at the library's ``contracts`` folder's parent, with the library's
        default settings and no library group of its own.
    """
    user_root = for_project.root if for_project is not None else None
    user_remappings = for_project.remappings if for_project is not None else ()
    root, remappings, include_paths = library_imports(user_root, user_remappings)
    config = ProjectConfig(
        sources=(library_contracts_dir().relative_to(root).as_posix(),),
        include_paths=tuple(str(p) for p in include_paths),
        remappings=remappings,
        library_contracts=False,
    )
    return Project(root=root, config=config)


def load_project(start: Path | str | None = None) -> Project:
    """Find and read the project above ``start``.

    Args:
        start: Directory (or file) to search upwards from; the current directory when ``None``.

    Returns:
        The project.

    Raises:
        ProjectNotFound: If no ``pyproject.toml`` with a ``[tool.agentbed]`` table is found.
        ProjectConfigError: If the table is malformed.
    """
    where = Path(start).resolve() if start is not None else Path.cwd().resolve()
    found = find_project_table(where)
    if found is None:
        raise ProjectNotFound([where])
    root, table = found
    pyproject = root / PYPROJECT
    config = ProjectConfig.from_table(table, pyproject)
    return Project(root=root, config=config, pyproject=pyproject)


def find_project(starts: Sequence[Path | str]) -> Project:
    """Load the project found from the first of several start directories that has one.

    Args:
        starts: Start directories, in order of preference.

    Returns:
        The project.

    Raises:
        ProjectNotFound: Naming every start directory, if none has a project above it.
    """
    for start in starts:
        try:
            return load_project(start)
        except ProjectNotFound:
            continue
    raise ProjectNotFound([Path(s).resolve() for s in starts])


def default_project(start: Path | str | None = None) -> Project:
    """The project above ``start`` (or the current directory); outside any, the library's own.

    Used by code that only needs the library's contracts wherever it runs (``testbed run``,
    scenario worlds); user-facing entry points (``testbed compile``, the pytest plugin) call
    ``load_project`` and report ``ProjectNotFound`` instead.
    """
    try:
        return load_project(start)
    except ProjectNotFound:
        return library_project()


def compile_project(
    root: Path | str | None = None, config: CompilerConfig | None = None, **options: Any
) -> CompileResult:
    """Compile a project's sources and the library's contracts.

    Args:
        root: A directory in the project (the nearest ``[tool.agentbed]`` table above it is
            used); ``None`` means the project above the current directory, or, outside any
            project, the library's own contracts.
        config: Cache locations and native binary; ``CompilerConfig.from_env()`` when ``None``.
        **options: ``CompilerConfig`` fields to override for the project's own sources.

    Returns:
        The compile result.

    Raises:
        ProjectNotFound: If ``root`` is given and no project is found above it.
    """
    project = load_project(root) if root is not None else default_project()
    return project.compile(config, **options)
