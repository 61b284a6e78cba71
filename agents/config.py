"""Typed, key-path-aware access to configuration tables read from TOML; the error they raise.

Every value of a configuration file (a scenario, a study's own tables) is read through a
:class:`Table`, which knows the key path of what it holds, so a wrong value gives one
:class:`ScenarioError` line naming the file, the key path (``agents[2].params.slippage_bps``)
and what was expected; ``Table.expect`` makes unknown keys errors, with the closest known key
as a hint. It belongs to the simulation core so that a study reads its own tables with it (see
:meth:`agentbed.agents.study.Study.parse`) without importing :mod:`agentbed.experiments`, which
sits above the studies: it reads scenario files and builds runs from them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

TOKEN_UNIT = 10**18
"""Amounts in scenario files are whole tokens; the mock tokens have 18 decimals."""
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""An agent group's or a variant's name."""


class ScenarioError(ValueError):
    """A scenario file is unreadable or breaks the schema.

    The message is one line: ``FILE: KEY: what was expected`` (or ``FILE:LINE:COL: message``
    for TOML syntax errors).

    Attributes:
        path: The scenario file.
        line: Line of a TOML syntax error (None for schema errors).
        key: Key path of the offending value, e.g. ``agents[2].params.slippage_bps`` (empty for
            syntax errors and unreadable files).
        expected: What was wrong or expected.
    """

    def __init__(
        self,
        path: str | Path,
        key: str,
        expected: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}:{column}"
        super().__init__(f"{where}: {key}: {expected}" if key else f"{where}: {expected}")


def type_name(value: object) -> str:
    """``value``'s type as an error message names it: "an integer", "a table", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Table:
    """Typed access to one TOML table that knows its key path; ``expect`` rejects unknown keys.

    Args:
        file: The scenario file, for error messages.
        key: This table's key path (``""`` for the top level).
        data: The parsed table.

    Raises:
        ScenarioError: ``data`` is not a table.
    """

    def __init__(self, file: str, key: str, data: object) -> None:
        self.file = file
        self.key = key
        if not isinstance(data, dict):
            raise self.error("", f"expected a table, got {type_name(data)}")
        self.data: dict[str, Any] = data

    def path(self, name: str) -> str:
        """The key path of ``name`` in this table (this table's own path for ``""``)."""
        if not name:
            return self.key
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, expected: str) -> ScenarioError:
        """The error about key ``name`` of this table (the table itself for ``""``)."""
        return ScenarioError(self.file, self.path(name), expected)

    def has(self, name: str) -> bool:
        """Whether the table sets ``name``."""
        return name in self.data

    def raw(self, name: str) -> Any:
        """The value of ``name`` as parsed, or None."""
        return self.data.get(name)

    def integer(self, name: str, default: int | None = None, *, minimum: int | None = None) -> int:
        """An integer (not a boolean), at least ``minimum``; required when ``default`` is None."""
        value = self.raw(name)
        if value is None:
            if default is None:
                raise self.error(name, "required: expected an integer")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {type_name(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(name, f"expected an integer >= {minimum}, got {value}")
        return value

    def number(self, name: str, default: float | None, *, positive: bool = False) -> float | None:
        """A number >= 0 (> 0 when ``positive``) as a float, or ``default``."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {type_name(value)} {value!r}")
        if value < 0 or (positive and value == 0):
            bound = "> 0" if positive else ">= 0"
            raise self.error(name, f"expected a number {bound}, got {value}")
        return float(value)

    def string(self, name: str, default: str | None = None) -> str:
        """A non-empty string; required when ``default`` is None."""
        value = self.raw(name)
        if value is None:
            if default is None:
                raise self.error(name, "required: expected a string")
            return default
        if not isinstance(value, str) or not value:
            raise self.error(name, f"expected a non-empty string, got {type_name(value)}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean, or ``default``."""
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"expected a boolean, got {type_name(value)}")
        return value

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        """One of ``options``, or ``default``."""
        value = self.string(name, default)
        if value not in options:
            raise self.error(name, f"expected one of {', '.join(options)}; got {value!r}")
        return value

    def table(self, name: str) -> Table:
        """The sub-table ``name`` (empty when absent)."""
        value = self.raw(name)
        return Table(self.file, self.path(name), {} if value is None else value)

    def tables(self, name: str) -> list[Table]:
        """The array of tables ``name`` (``[[name]]``; empty when absent)."""
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"expected an array of tables ([[{name}]]), got a table")
        return [Table(self.file, f"{self.path(name)}[{i}]", v) for i, v in enumerate(value)]

    def expect(self, known: Sequence[str]) -> None:
        """Reject any key outside ``known``, suggesting the closest known one."""
        for name in self.data:
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                allowed = ", ".join(known) or "none"
                raise self.error(name, f"unknown key (allowed: {allowed}){suggestion}")


def token_amount(
    table: Table, name: str, *, positive: bool = False, default: int | None = None
) -> int:
    """Whole tokens (integer or float) as wei, exactly; ``default`` (wei) when absent."""
    value = table.raw(name)
    if value is None:
        if default is not None:
            return default
        raise table.error(name, "required: expected an amount of whole tokens")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise table.error(
            name, f"expected an amount of whole tokens (a number), got {type_name(value)}"
        )
    try:
        wei = Decimal(str(value)) * TOKEN_UNIT
    except InvalidOperation:
        raise table.error(name, f"expected a finite number, got {value!r}") from None
    if not wei.is_finite() or wei != wei.to_integral_value():
        raise table.error(name, f"expected at most 18 decimals, got {value!r}")
    if wei < 0 or (positive and wei == 0):
        raise table.error(name, f"expected an amount {'> 0' if positive else '>= 0'}, got {value}")
    return int(wei)
