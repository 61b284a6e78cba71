"""The grid of a parameter sweep: swept values by key path, and the cells they combine into.

A ``--param KEY=V1,V2,...`` names a scenario value by its key path and the values it takes, as
TOML scalars. The grid is the cartesian product of those lists, the first parameter varying
slowest; each cell has a readable, stable id that names its directory.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentbed.experiments.overrides import split_key_path

BASE_CELL = "base"
"""Id of the only cell of a sweep without parameters (seeds only)."""
_INDEX = re.compile(r"\[(\d+)\]")
_MAX_ID = 120


class SweepError(ValueError):
    """A sweep cannot start (or go on): a bad parameter, metric, seed count or directory.

    The message is one line naming the offending parameter, metric or file.
    """


def parse_value(text: str) -> Any:
    """One value of a ``--param`` as a TOML scalar: integer, float, boolean or string.

    Text that is not a TOML value (``fifo``) is a string as written; ``"a b"`` is the string
    inside the quotes.

    Raises:
        SweepError: an empty value, a non-finite float, or a TOML array, table or date.
    """
    stripped = text.strip()
    if not stripped:
        raise SweepError("empty value")
    try:
        value = tomllib.loads(f"v = {stripped}")["v"]
    except tomllib.TOMLDecodeError:
        return stripped
    if isinstance(value, float) and not math.isfinite(value):
        raise SweepError(f"expected a finite number, got {stripped}")
    if not isinstance(value, bool | int | float | str):
        raise SweepError(f"expected an integer, float, boolean or string, got {stripped}")
    return value


def value_text(value: Any) -> str:
    """A parameter value written back as on the command line (``true``, ``0.001``, ``fifo``).

    A string that would read back as another value (``"1"``, ``"true"``) keeps its quotes.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return repr(value)
    try:
        plain = parse_value(value) == value and isinstance(parse_value(value), str)
    except SweepError:
        plain = False
    return value if plain else json.dumps(value)


@dataclass(frozen=True, slots=True)
class Param:
    """One swept scenario value.

    Attributes:
        key: Key path into the scenario, e.g. ``agents[1].params.slippage_bps``.
        values: The values it takes, in grid order.
    """

    key: str
    values: tuple[Any, ...]


def parse_param(text: str) -> Param:
    """Read ``KEY=V1,V2,...`` (values are TOML scalars, see :func:`parse_value`).

    Raises:
        SweepError: no ``=``, a bad key path, an empty or repeated value, or ``run.seed``
            (seeds are the sweep's own axis).
    """
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SweepError(f"--param {text!r}: expected KEY=V1,V2,...")
    try:
        split_key_path(key)
    except ValueError as err:
        raise SweepError(str(err)) from None
    if key == "run.seed":
        raise SweepError("--param run.seed: seeds are set by --seed and --seeds")
    values: list[Any] = []
    for item in rest.split(","):
        try:
            value = parse_value(item)
        except SweepError as err:
            raise SweepError(f"--param {key}: {err}") from None
        if any(type(v) is type(value) and v == value for v in values):
            raise SweepError(f"--param {key}: value {value_text(value)} listed twice")
        values.append(value)
    return Param(key, tuple(values))


@dataclass(frozen=True, slots=True)
class Cell:
    """One point of the grid.

    Attributes:
        id: Directory name of its runs: a readable, stable slug of its values.
        overrides: ``(key path, value)`` per parameter, in parameter order.
    """

    id: str
    overrides: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        """``run.policy=fifo run.gas_limit=3000000`` (``base`` without parameters)."""
        if not self.overrides:
            return BASE_CELL
        return " ".join(f"{k}={value_text(v)}" for k, v in self.overrides)


def _id_part(key: str, value: Any) -> str:
    dotted = _INDEX.sub(r".\1", key)
    return f"{dotted}={value_text(value)}"


def cell_id(overrides: Sequence[tuple[str, Any]]) -> str:
    """The slug naming a cell's directory: ``run.policy=fifo__agents.1.params.slippage_bps=50``.

    Characters other than letters, digits and ``._=-`` become ``_``; when that loses
    information, or the slug is long, a short hash of the exact values is appended so that
    distinct cells never share a directory.
    """
    if not overrides:
        return BASE_CELL
    readable = "__".join(_id_part(k, v) for k, v in overrides)
    slug = re.sub(r"[^A-Za-z0-9._=-]", "_", readable)
    if slug == readable and len(slug) <= _MAX_ID:
        return slug
    exact = repr([(k, type(v).__name__, v) for k, v in overrides])
    return f"{slug[:_MAX_ID]}~{hashlib.sha256(exact.encode()).hexdigest()[:10]}"


def expand_grid(params: Sequence[Param]) -> tuple[Cell, ...]:
    """The cartesian product of the parameters' values: the first parameter varies slowest.

    Raises:
        SweepError: a key path named twice.
    """
    keys = [p.key for p in params]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise SweepError(f"--param {repeated[0]} given twice; list its values in one --param")
    cells = []
    for combo in itertools.product(*(p.values for p in params)):
        overrides = tuple(zip(keys, combo, strict=True))
        cells.append(Cell(cell_id(overrides), overrides))
    return tuple(cells)
