"""The ``learn`` extra's base classes, or stand-ins that say how to install it.

The environments subclass PettingZoo's ``ParallelEnv`` and Gymnasium's ``Env``. Importing
those at module level would make the modules unimportable without the extra (the package's
other modules, and a fresh install's import of every module, must work without it); here a
missing library gives a stand-in base whose constructor raises one clear ``ImportError``.
"""

from __future__ import annotations

import importlib
from typing import Any, NoReturn

INSTALL = "pip install 'agentbed[learn]'"


def base_class(module: str, name: str) -> type[Any]:
    """``module.name`` when its library is installed, else a class that cannot be made."""
    try:
        found: type[Any] = getattr(importlib.import_module(module), name)
    except ImportError:
        library = module.partition(".")[0]

        class Missing:
            def __init__(self, *args: object, **kwargs: object) -> None:
                raise_missing(library)

        return Missing
    return found


def raise_missing(library: str) -> NoReturn:
    """Raise the ImportError that says how to install the extra."""
    raise ImportError(f"the learning environments need {library}: {INSTALL}")
