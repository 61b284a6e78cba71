"""Reading an experiment's settings from one table of a TOML file into a frozen record.

Both block-production experiments (:mod:`.builders`, :mod:`.experiment`) keep their settings
in one table of a file under ``scenarios/blockprod/``; every way that file can be wrong ends
in the experiment's own named error with a one-line message naming the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def load_table(path: str | Path, section: str, record: type[T], error: type[Exception]) -> T:
    """The ``[section]`` table of the TOML file at ``path`` as a ``record`` (arrays as tuples).

    Raises:
        error: the file cannot be read or parsed, has no such table, names an unknown key,
            or holds a value the record refuses.
    """
    try:
        with Path(path).open("rb") as f:
            table = tomllib.load(f).get(section)
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from err
    if not isinstance(table, dict):
        raise error(f"{path}: no [{section}] table")
    unknown = sorted(set(table) - {f.name for f in fields(record)})  # type: ignore[arg-type]
    if unknown:
        raise error(f"{path}: unknown keys in [{section}]: {unknown}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    try:
        return record(**values)
    except TypeError as err:
        raise error(f"{path}: {err}") from err
