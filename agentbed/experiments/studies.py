"""The registry of studies: which :class:`~agentbed.agents.study.Study` a scenario file is a run of.

A built-in study is one line of :data:`STUDIES`: its name and the import path of its ``Study``
object, imported when first needed. A scenario file names its study with a top-level
``study = "NAME"``; without it, the file is a run of the registered study whose tables
(``Study.sections``, e.g. ``[[pools]]``) it holds. A study outside this package needs no
registry line: the file names it by import path, ``study = "package.module:ATTR"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from agentbed.agents.study import Study

STUDIES: Mapping[str, str] = MappingProxyType(
    {
        "market": "agentbed.agents.market.study:STUDY",
        "economy": "agentbed.agents.economy.study:STUDY",
        "sim_economy": "agentbed.agents.simecon.study:STUDY",
    }
)
"""Each built-in study's name and the import path (``module:attribute``) of its ``Study``."""


class UnknownStudy(ValueError):
    """A study name that is neither registered nor an importable ``module:attribute``."""


def resolve_study(name: str) -> Study:
    """The study a scenario names: a key of :data:`STUDIES` or ``"package.module:ATTR"``.

    Raises:
        UnknownStudy: no such registered study, an import path that does not import, or an
            object that is not a ``Study``; the one-line message says which.
    """
    path = STUDIES.get(name, name)
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        known = ", ".join(STUDIES)
        raise UnknownStudy(
            f"unknown study {name!r}; expected one of {known}, or 'package.module:ATTR'"
        )
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise UnknownStudy(f"study {name!r} does not import: {err}") from None
    if not isinstance(found, Study):
        raise UnknownStudy(f"study {name!r} is a {type(found).__name__}, not a Study")
    return found


def registered() -> dict[str, Study]:
    """Every registered study by name, in registry order."""
    return {name: resolve_study(name) for name in STUDIES}


def section_key(header: str) -> str:
    """The table key of a section header: ``"[[pools]]"`` -> ``"pools"``."""
    return header.strip("[]")


def section_keys() -> frozenset[str]:
    """The top-level table keys the registered studies read."""
    return frozenset(section_key(h) for study in registered().values() for h in study.sections)
