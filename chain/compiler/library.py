"""The contracts agentbed ships, compiled next to a user project's own.

The package carries its Solidity sources as data (``agentbed/contracts``: AgentCurrency,
Staking, Escrow, Reputation, ConstantProductPool, PoolFactory, IntentBook, the mocks) and
OpenZeppelin's sources they import (``agentbed/vendor/@openzeppelin``). They are compiled as a
group of their own, with their own root and settings, so a user's remappings, version choice
or file names never change what the library's contracts are; the results are merged with the
project's, and a project contract of the same name wins.

Where ``@openzeppelin/...`` resolves for the library's sources: through the user's own
remapping of that prefix when there is one; else, in a source checkout (``node_modules`` next to
``contracts/``), through the repository's own remapping, which makes the group exactly the
repository's compile (same bytecode, same cache entry); else through the vendored copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from agentbed.chain.compiler.artifacts import CompileResult, combine_results
from agentbed.chain.compiler.config import DEFAULT_REMAPPINGS
from agentbed.chain.compiler.imports import Remapping

PACKAGE = "agentbed"
OPENZEPPELIN_PREFIX = "@openzeppelin/"


def package_dir() -> Path:
    """The installed ``agentbed`` package directory (as imported, symlinks kept)."""
    return Path(str(files(PACKAGE)))


def library_contracts_dir() -> Path:
    """The library's own ``contracts`` directory, symlinks resolved."""
    return (package_dir() / "contracts").resolve()


def vendor_dir() -> Path:
    """The directory holding the vendored ``@openzeppelin`` sources."""
    return package_dir() / "vendor"


def _resolves_openzeppelin(remapping: Remapping) -> bool:
    return not remapping.context and remapping.prefix.startswith(OPENZEPPELIN_PREFIX)


def _absolute(base: Path, target: str) -> str:
    """``target`` made absolute against ``base``, keeping a trailing slash."""
    joined = (base / target).as_posix()
    return joined + "/" if target.endswith("/") and not joined.endswith("/") else joined


def library_imports(
    user_root: Path | None, user_remappings: Sequence[str]
) -> tuple[Path, tuple[str, ...], tuple[Path, ...]]:
    """Where the library's sources are compiled from and how their imports resolve.

    Args:
        user_root: Root of the project the library is compiled for (``None``: none).
        user_remappings: That project's remappings in force.

    Returns:
        ``(root, remappings, include paths)`` of the library group.
    """
    root = library_contracts_dir().parent
    if user_root is not None:
        own = [r for r in map(Remapping.parse, user_remappings) if _resolves_openzeppelin(r)]
        if own:
            # Absolute targets: the library's base path is not the user's, and the user's
            # copy must win over whatever lies next to the library.
            base = user_root.resolve()
            return root, tuple(f"{r.prefix}={_absolute(base, r.target)}" for r in own), ()
    if (root / "node_modules" / OPENZEPPELIN_PREFIX).is_dir():
        return root, DEFAULT_REMAPPINGS, ()
    return root, (), (vendor_dir(),)


def covers_library(source_dirs: Sequence[Path]) -> bool:
    """Whether a project's source folders already hold the library's contracts (this repo)."""
    library = library_contracts_dir()
    return any(library.is_relative_to(folder.resolve()) for folder in source_dirs)


def merge_library(own: CompileResult, library: CompileResult) -> CompileResult:
    """Add the library's artifacts to a project's; the project's win on a name.

    Args:
        own: The project's compile result.
        library: The library group's compile result.

    Returns:
        The project's artifacts plus every library artifact whose name (bare or qualified) the
        project does not declare; the project's warnings only (the library's are not the
        user's to fix); a cache key over both keys.
    """
    names = {a.name for a in own.artifacts} | {a.qualified_name for a in own.artifacts}
    extra = [a for a in library.artifacts if a.name not in names and a.qualified_name not in names]
    return combine_results((own, library), (*own.artifacts, *extra), own.warnings)
