"""Resolving a Solidity import closure in Python, the way solc resolves it.

Every source reached from the inputs is read here and passed to the compiler with its
``content``, so (a) the artifact cache key covers the exact bytes of every import and can be
computed without starting the compiler, and (b) the compiler needs no filesystem access.

Rules follow solc's path resolution: an import starting with ``./`` or ``../`` is resolved
against the importing source unit name; every other import path is a source unit name as-is;
then remappings (``[context:]prefix=target``, longest context then longest prefix wins) rewrite
the source unit name; the file is looked up under the base path, then each include path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentbed.chain.errors import CompilationError

_COMMENT_OR_STRING = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.DOTALL
)
_IMPORT = re.compile(
    r"\bimport\s+(?:[^;\"']*?\bfrom\s+)?([\"'])((?:\\.|(?!\1).)*)\1[^;]*;", re.DOTALL
)
_PRAGMA = re.compile(r"\bpragma\s+solidity\s+([^;]+);")


@dataclass(frozen=True, slots=True)
class Remapping:
    """One import remapping, ``[context:]prefix=target``."""

    context: str
    prefix: str
    target: str

    @classmethod
    def parse(cls, text: str) -> Remapping:
        """Parse ``[context:]prefix=target``.

        Args:
            text: The remapping as solc accepts it.

        Returns:
            The remapping.

        Raises:
            ValueError: If there is no ``=`` or the prefix is empty.
        """
        head, sep, target = text.partition("=")
        if not sep:
            raise ValueError(f"remapping needs 'prefix=target': {text!r}")
        context, colon, prefix = head.rpartition(":")
        if not colon:
            context, prefix = "", head
        if not prefix:
            raise ValueError(f"remapping has an empty prefix: {text!r}")
        return cls(context=context, prefix=prefix, target=target)

    def __str__(self) -> str:
        return (
            f"{self.context}:{self.prefix}={self.target}"
            if self.context
            else (f"{self.prefix}={self.target}")
        )


@dataclass(frozen=True, slots=True)
class SourceUnit:
    """A source file as the compiler will see it.

    Attributes:
        name: The source unit name (the key in the standard-JSON ``sources``).
        path: Where the content was read from.
        content: The file's text.
        imports: ``(import path as written, offset of the import statement)`` pairs.
        pragmas: The ``pragma solidity`` ranges the file declares.
    """

    name: str
    path: Path
    content: str
    imports: tuple[tuple[str, int], ...]
    pragmas: tuple[str, ...]


def _blank_comments(source: str) -> str:
    """Replace comments with spaces (keeping offsets) and leave string literals alone."""

    def keep_strings(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith(("//", "/*")):
            return re.sub(r"[^\n]", " ", text)
        return text

    return _COMMENT_OR_STRING.sub(keep_strings, source)


def scan_source(content: str) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
    """Find the import paths and version pragmas of a Solidity source.

    Args:
        content: Solidity source text.

    Returns:
        ``(imports, pragmas)``; imports are ``(path, offset of the import keyword)``.
    """
    code = _blank_comments(content)
    imports = tuple((m.group(2), m.start()) for m in _IMPORT.finditer(code))
    pragmas = tuple(" ".join(m.group(1).split()) for m in _PRAGMA.finditer(code))
    return imports, pragmas


def line_col(content: str, offset: int) -> tuple[int, int]:
    """Convert a character offset into a 1-based ``(line, column)``.

    Args:
        content: The source text.
        offset: Offset into ``content``.

    Returns:
        Line and column, both counting from 1.
    """
    offset = max(0, min(offset, len(content)))
    line = content.count("\n", 0, offset) + 1
    column = offset - (content.rfind("\n", 0, offset) + 1) + 1
    return line, column


def resolve_relative(importer: str, import_path: str) -> str:
    """Turn a ``./`` or ``../`` import into a source unit name (solc's rules).

    Args:
        importer: Source unit name of the importing file.
        import_path: The relative import path.

    Returns:
        The source unit name.
    """
    parts = importer.split("/")[:-1]
    for segment in import_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] not in ("", ".."):
                parts.pop()
            continue
        parts.append(segment)
    prefix = "/" if importer.startswith("/") and parts and parts[0] != "" else ""
    return prefix + "/".join(parts)


class ImportResolver:
    """Computes source unit names and the import closure of a set of files.

    Args:
        base_path: Directory source unit names are relative to.
        include_paths: Further directories to look files up in.
        remappings: Remappings to apply to source unit names.
    """

    def __init__(
        self,
        base_path: Path,
        include_paths: Sequence[Path] = (),
        remappings: Iterable[Remapping] = (),
    ) -> None:
        self.base_path = base_path.resolve()
        self.include_paths = tuple(p.resolve() for p in include_paths)
        self.remappings = tuple(remappings)

    def unit_name(self, file: Path) -> str:
        """The source unit name of a file given as an input.

        Args:
            file: Path of the file.

        Returns:
            The path relative to the base path (or to the first include path containing it),
            in POSIX form; the absolute path when it is under neither.
        """
        resolved = file.resolve()
        for root in (self.base_path, *self.include_paths):
            if resolved.is_relative_to(root):
                return resolved.relative_to(root).as_posix()
        return resolved.as_posix()

    def remap(self, importer: str, unit: str) -> str:
        """Apply the best matching remapping to a source unit name."""
        best: Remapping | None = None
        for remapping in self.remappings:
            if not importer.startswith(remapping.context) or not unit.startswith(remapping.prefix):
                continue
            if best is None or (len(remapping.context), len(remapping.prefix)) >= (
                len(best.context),
                len(best.prefix),
            ):
                best = remapping
        if best is None:
            return unit
        return best.target + unit[len(best.prefix) :]

    def import_unit(self, importer: str, import_path: str) -> str:
        """The source unit name an ``import`` statement refers to."""
        if import_path.startswith(("./", "../")):
            unit = resolve_relative(importer, import_path)
        else:
            unit = import_path
        return self.remap(importer, unit)

    def locate(self, unit: str) -> Path | None:
        """Find the file holding a source unit name (base path first, then include paths)."""
        if unit.startswith("/"):
            candidate = Path(unit)
            return candidate if candidate.is_file() else None
        for root in (self.base_path, *self.include_paths):
            candidate = root / unit
            if candidate.is_file():
                return candidate
        return None

    def closure(self, files: Sequence[Path]) -> dict[str, SourceUnit]:
        """Read ``files`` and everything they import, transitively.

        Args:
            files: The input files.

        Returns:
            Source units by name, sorted by name.

        Raises:
            CompilationError: If an import cannot be found (``file:line:col: message``).
        """
        units: dict[str, SourceUnit] = {}
        pending: list[tuple[str, Path]] = [(self.unit_name(f), f.resolve()) for f in files]
        errors: list[str] = []
        while pending:
            name, path = pending.pop()
            if name in units:
                continue
            content = path.read_text(encoding="utf-8")
            imports, pragmas = scan_source(content)
            units[name] = SourceUnit(name, path, content, imports, pragmas)
            for import_path, offset in imports:
                target = self.import_unit(name, import_path)
                if target in units:
                    continue
                found = self.locate(target)
                if found is None:
                    line, column = line_col(content, offset)
                    searched = ", ".join(
                        str(root / target) for root in (self.base_path, *self.include_paths)
                    )
                    errors.append(
                        f'{name}:{line}:{column}: ParserError: Source "{import_path}" not found: '
                        f"file not found (searched {searched})"
                    )
                    continue
                pending.append((target, found))
        if errors:
            raise CompilationError(sorted(set(errors)))
        return dict(sorted(units.items()))
