"""Key paths into a scenario file and setting values by them.

A key path (``agents[1].params.slippage_bps``) names one value of a scenario file, the same way
validation errors name it. A file's ``[variants.NAME]`` tables and ``testbed sweep --param`` set
values by key path in the parsed TOML *before* validation, so an overridden value is checked
exactly like one typed into the file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agentbed.agents.config import ScenarioError, Table

_KEY_SEGMENT = re.compile(r"([A-Za-z0-9_-]+)((?:\[\d+\])*)")
_KEY_INDEX = re.compile(r"\[(\d+)\]")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def split_key_path(key: str) -> list[str | int]:
    """``agents[1].params.x`` -> ``["agents", 1, "params", "x"]``.

    Raises:
        ValueError: the text is not a dotted key path with optional ``[index]`` parts.
    """
    parts: list[str | int] = []
    for segment in key.split("."):
        match = _KEY_SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(
                f"bad key path {key!r}: expected names joined by '.', each optionally followed "
                "by [index], e.g. agents[1].params.slippage_bps"
            )
        parts.append(match.group(1))
        parts.extend(int(i) for i in _KEY_INDEX.findall(match.group(2)))
    return parts


def describe_path(parts: Sequence[str | int]) -> str:
    """The key path of split ``parts``: ``["agents", 1, "count"]`` -> ``agents[1].count``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def apply_overrides(
    data: Mapping[str, Any], overrides: Sequence[tuple[str, Any]], file: str
) -> dict[str, Any]:
    """A copy of parsed scenario data with each key path set to its value.

    Missing tables on the way are created (``policies.batch.window_ms`` in a file without
    ``[policies]``); whether the key is allowed there is left to validation, which reports it
    like a typo in the file.

    Raises:
        ScenarioError: the path indexes past the end of an array, indexes a table, or goes
            through a value that is not a table.
    """
    result = copy.deepcopy(dict(data))
    for key, value in overrides:
        _set(result, split_key_path(key), value, file)
    return result


def _set(root: dict[str, Any], parts: Sequence[str | int], value: Any, file: str) -> None:
    node: Any = root
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = describe_path(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ScenarioError(file, here, "not an array of tables; cannot index it")
            if part >= len(node):
                raise ScenarioError(
                    file,
                    here,
                    f"no such entry: {describe_path(parts[:depth])} has {len(node)} "
                    f"entr{'y' if len(node) == 1 else 'ies'}",
                )
        elif not isinstance(node, dict):
            raise ScenarioError(
                file, describe_path(parts[:depth]), f"not a table; cannot set {part!r} in it"
            )
        elif isinstance(node.get(part), list) and not last and isinstance(parts[depth + 1], str):
            raise ScenarioError(
                file, here, f"an array of tables; index it, e.g. {here}[0].{parts[depth + 1]}"
            )
        if last:
            node[part] = value
        elif isinstance(part, str) and part not in node:
            node[part] = {}
            node = node[part]
        else:
            node = node[part]


def flatten_overrides(table: Table) -> list[tuple[str, Any]]:
    """``(key path, value)`` pairs of a variant table.

    Bare TOML keys nest (``intents.pricing = "uniform"`` is ``{"intents": {"pricing": ...}}``)
    and are flattened back into paths; a quoted key path (``"agents[1].params" = {...}``)
    keeps its value whole, so a table can be replaced rather than merged.

    Raises:
        ScenarioError: an empty table (it would override nothing).
    """
    pairs: list[tuple[str, Any]] = []

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and _BARE_KEY.fullmatch(key):
                if not value:
                    raise table.error(path, "an empty table overrides nothing")
                walk(path, value)
            else:
                pairs.append((path, value))

    walk("", table.data)
    return pairs
