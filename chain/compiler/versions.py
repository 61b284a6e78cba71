"""Solidity version pragmas: parsing, matching and choosing a compiler release.

Solidity's ``pragma solidity`` uses npm-style semver ranges (``^0.8.24``, ``>=0.8.0 <0.9.0``,
``=0.8.26``, ``0.8.26``, ``~0.8.20``, alternatives joined by ``||``). Only the subset that
appears in real code is handled; an unparsable pragma admits no version, which ends in a
``CompilationError`` naming the file and the pragma.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from agentbed.chain.errors import CompilationError

VersionTuple = tuple[int, int, int]

_COMPARATOR = re.compile(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?")


def parse_version(text: str) -> VersionTuple:
    """Parse ``major.minor.patch`` (any ``+commit``/``-pre`` suffix is ignored).

    Args:
        text: A version string such as ``0.8.28`` or ``0.8.28+commit.7893614a``.

    Returns:
        The version as a tuple of three ints.

    Raises:
        ValueError: If ``text`` is not a three-part version.
    """
    core = text.strip().split("+", 1)[0].split("-", 1)[0]
    parts = core.split(".")
    if len(parts) != 3:
        raise ValueError(f"not a major.minor.patch version: {text!r}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _bounds(operator: str, parts: list[int]) -> tuple[VersionTuple | None, VersionTuple | None]:
    """Translate one comparator into a half-open range ``[low, high)``; ``None`` is unbounded."""
    filled = [*parts, 0, 0, 0][:3]
    low: VersionTuple = (filled[0], filled[1], filled[2])
    if len(parts) == 1:
        next_prefix: VersionTuple = (parts[0] + 1, 0, 0)
    elif len(parts) == 2:
        next_prefix = (parts[0], parts[1] + 1, 0)
    else:
        next_prefix = (parts[0], parts[1], parts[2] + 1)
    if operator in ("", "="):
        return low, next_prefix
    if operator == "^":
        major, minor, patch = low
        if major > 0 or len(parts) == 1:
            return low, (major + 1, 0, 0)
        if minor > 0 or len(parts) == 2:
            return low, (0, minor + 1, 0)
        return low, (0, 0, patch + 1)
    if operator == "~":
        return low, ((low[0] + 1, 0, 0) if len(parts) == 1 else (low[0], low[1] + 1, 0))
    if operator == ">=":
        return low, None
    if operator == ">":
        return next_prefix, None
    if operator == "<":
        return None, low
    # "<="
    return None, next_prefix


def _matches_set(comparators: str, version: VersionTuple) -> bool:
    """Whether ``version`` satisfies every comparator of one ``||`` alternative."""
    text = comparators.strip()
    if not text or text in ("*", "x", "X"):
        return True
    position = 0
    matched_any = False
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        found = _COMPARATOR.match(text, position)
        if not found or found.end() == position:
            return False
        matched_any = True
        position = found.end()
        numbers: list[int] = []
        for group in found.groups()[1:]:
            if group is None or not group.isdigit():
                break
            numbers.append(int(group))
        if not numbers:
            continue  # a wildcard comparator accepts everything
        low, high = _bounds(found.group(1) or "", numbers)
        if low is not None and version < low:
            return False
        if high is not None and version >= high:
            return False
    return matched_any


def pragma_matches(pragma: str, version: str | VersionTuple) -> bool:
    """Whether a ``pragma solidity`` range admits a compiler version.

    Args:
        pragma: The range text, e.g. ``^0.8.24`` or ``>=0.8.0 <0.9.0 || =0.7.6``.
        version: The compiler version.

    Returns:
        ``True`` when one of the ``||`` alternatives admits ``version``.
    """
    wanted = parse_version(version) if isinstance(version, str) else version
    return any(_matches_set(alternative, wanted) for alternative in pragma.split("||"))


def newest_matching(pragmas: Iterable[str], versions: Iterable[str]) -> str | None:
    """Return the newest release that satisfies every pragma.

    Args:
        pragmas: Ranges from every source in the import closure.
        versions: Candidate ``major.minor.patch`` versions; others (pre-releases, nightlies)
            are skipped.

    Returns:
        The version string, or ``None`` when no candidate satisfies all pragmas.
    """
    ranges = tuple(pragmas)
    candidates: list[tuple[VersionTuple, str]] = []
    for text in versions:
        if not re.fullmatch(r"\d+\.\d+\.\d+", text):
            continue
        parsed = parse_version(text)
        if all(pragma_matches(pragma, parsed) for pragma in ranges):
            candidates.append((parsed, text))
    return max(candidates)[1] if candidates else None


def select_version(
    pragmas: Sequence[tuple[str, str]],
    default: str,
    published: Callable[[bool], Sequence[str]],
) -> str:
    """Choose the compiler version for an import closure.

    The default wins whenever every pragma admits it, so the common case needs no version list.
    Otherwise the newest published release satisfying all pragmas is chosen; the (cached) list
    is refreshed once if it holds no match.

    Args:
        pragmas: ``(source unit name, range)`` for every pragma in the closure.
        default: The pinned default version.
        published: ``published(refresh)`` returns the published versions; ``refresh=True``
            asks for a fresh list rather than the cached one.

    Returns:
        The version to install and use.

    Raises:
        CompilationError: If no published release satisfies every pragma.
    """
    ranges = [pragma for _, pragma in pragmas]
    if all(pragma_matches(pragma, default) for pragma in ranges):
        return default
    for refresh in (False, True):
        chosen = newest_matching(ranges, published(refresh))
        if chosen is not None:
            return chosen
    raise CompilationError(
        [
            "no published solc release satisfies every version pragma in the sources:",
            *(f"{unit}: pragma solidity {pragma};" for unit, pragma in pragmas),
        ]
    )
