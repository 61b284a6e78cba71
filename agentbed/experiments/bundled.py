"""The scenario files shipped inside the package, found by name (``testbed run mev``).

They are ``agentbed/scenarios/*.toml`` (the repository's ``scenarios/``), located through
:mod:`importlib.resources`, so a name works in an installed package as in a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SUFFIX = ".toml"


def _directory() -> Path:
    return Path(str(resources.files("agentbed") / "scenarios"))


def bundled_names() -> tuple[str, ...]:
    """The bundled scenarios' names (file stems), sorted."""
    directory = _directory()
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.stem for p in directory.iterdir() if p.suffix == SUFFIX))


def scenario_path(argument: str | Path) -> Path:
    """The scenario file a command-line argument means.

    An existing file is itself; otherwise a bundled scenario's name (``mev``, ``mev.toml``)
    is its bundled file; anything else is returned as given, for the loader to report as
    unreadable (see :func:`bundled_names` to list the alternatives).
    """
    path = Path(argument)
    if path.is_file():
        return path
    name = path.name.removesuffix(SUFFIX)
    if path.name == str(argument) and name in bundled_names():
        return _directory() / f"{name}{SUFFIX}"
    return path
