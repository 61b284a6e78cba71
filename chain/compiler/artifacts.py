"""Typed compiler output: one ``Artifact`` per contract and a ``CompileResult`` holding them.

Also turns solc's standard-JSON error entries into ``path:line:col: Type: message`` strings,
computing line and column from the ``sourceLocation`` offsets and the source text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentbed.chain.compiler.imports import line_col
from agentbed.chain.errors import UnknownContract

# Hex never contains "_": anything between double underscores is a 40-char library placeholder.
_PLACEHOLDER = re.compile(r"__\$[0-9a-fA-F]{34}\$__|__.{36}__")


class AmbiguousContractName(UnknownContract):
    """A bare contract name matched contracts in more than one source unit."""


def _code_bytes(hex_code: str) -> bytes:
    """Decode bytecode hex; unlinked library placeholders become zero bytes (see link refs)."""
    text = hex_code[2:] if hex_code.startswith("0x") else hex_code
    return bytes.fromhex(_PLACEHOLDER.sub("0" * 40, text))


@dataclass(frozen=True, slots=True)
class Artifact:
    """A compiled contract.

    Attributes:
        name: Contract name.
        source: Source unit name it was declared in, e.g. ``contracts/mocks/MockERC20.sol``.
        abi: The ABI entries.
        creation_bytecode: Init code (what a deployment transaction carries).
        runtime_bytecode: Code stored at the contract's address.
        creation_source_map: solc source map of the creation code.
        runtime_source_map: solc source map of the runtime code.
        storage_layout: solc's ``storageLayout`` output.
        metadata: solc's metadata JSON (text, as hashed into the bytecode).
        compiler_version: Full compiler version, e.g. ``0.8.28+commit.7893614a``.
        settings: The compiler settings used (optimizer, evmVersion, remappings, ...).
        link_references: Library placeholders in the creation code (zeroed in the bytes):
            ``{source: {library: [{"start": byte offset, "length": 20}, ...]}}``.
        method_identifiers: Function signature to 4-byte selector (hex).
        runtime_link_references: Library placeholders in the runtime code, same shape.
    """

    name: str
    source: str
    abi: tuple[Mapping[str, Any], ...]
    creation_bytecode: bytes
    runtime_bytecode: bytes
    creation_source_map: str
    runtime_source_map: str
    storage_layout: Mapping[str, Any]
    metadata: str
    compiler_version: str
    settings: Mapping[str, Any]
    link_references: Mapping[str, Any]
    method_identifiers: Mapping[str, str]
    runtime_link_references: Mapping[str, Any] = field(default_factory=dict)

    @property
    def bytecode(self) -> bytes:
        """Alias of ``creation_bytecode`` (the name web3 and solc's JSON use)."""
        return self.creation_bytecode

    @property
    def deployed_bytecode(self) -> bytes:
        """Alias of ``runtime_bytecode`` (solc's ``deployedBytecode``)."""
        return self.runtime_bytecode

    @property
    def qualified_name(self) -> str:
        """``source:Name``, unique within a compile."""
        return f"{self.source}:{self.name}"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (bytecode as ``0x`` hex)."""
        return {
            "name": self.name,
            "source": self.source,
            "abi": list(self.abi),
            "bytecode": "0x" + self.creation_bytecode.hex(),
            "deployedBytecode": "0x" + self.runtime_bytecode.hex(),
            "sourceMap": self.creation_source_map,
            "deployedSourceMap": self.runtime_source_map,
            "storageLayout": self.storage_layout,
            "metadata": self.metadata,
            "compilerVersion": self.compiler_version,
            "settings": self.settings,
            "linkReferences": self.link_references,
            "deployedLinkReferences": self.runtime_link_references,
            "methodIdentifiers": self.method_identifiers,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Artifact:
        """Rebuild an artifact from ``to_json`` output.

        Raises:
            KeyError, TypeError, ValueError: If ``data`` is not such output.
        """
        return cls(
            name=str(data["name"]),
            source=str(data["source"]),
            abi=tuple(data["abi"]),
            creation_bytecode=_code_bytes(data["bytecode"]),
            runtime_bytecode=_code_bytes(data["deployedBytecode"]),
            creation_source_map=str(data["sourceMap"]),
            runtime_source_map=str(data["deployedSourceMap"]),
            storage_layout=dict(data["storageLayout"]),
            metadata=str(data["metadata"]),
            compiler_version=str(data["compilerVersion"]),
            settings=dict(data["settings"]),
            link_references=dict(data["linkReferences"]),
            method_identifiers=dict(data["methodIdentifiers"]),
            runtime_link_references=dict(data.get("deployedLinkReferences") or {}),
        )


@dataclass(frozen=True, slots=True)
class CompileResult:
    """All artifacts of one compile, plus the compiler's warnings.

    Attributes:
        artifacts: One per contract, sorted by ``(source, name)``.
        warnings: ``path:line:col: Warning: message`` strings (never raised).
        compiler_version: Full version of the compiler that produced the artifacts.
        cache_key: sha256 of sources, settings and compiler version.
        from_cache: Whether the artifacts came from the on-disk cache.
    """

    artifacts: tuple[Artifact, ...]
    warnings: tuple[str, ...]
    compiler_version: str
    cache_key: str
    from_cache: bool = False

    def get(self, name: str) -> Artifact:
        """Look an artifact up by contract name, or by ``path:Name`` when names collide.

        Args:
            name: ``Name`` or ``source/unit.sol:Name``.

        Returns:
            The artifact.

        Raises:
            UnknownContract: If nothing matches.
            AmbiguousContractName: If a bare name matches contracts in several sources.
        """
        if ":" in name:
            for artifact in self.artifacts:
                if artifact.qualified_name == name:
                    return artifact
            raise UnknownContract(f"no compiled contract {name!r}")
        matches = [artifact for artifact in self.artifacts if artifact.name == name]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            known = ", ".join(sorted({a.name for a in self.artifacts})) or "none"
            raise UnknownContract(f"no compiled contract named {name!r} (compiled: {known})")
        options = ", ".join(a.qualified_name for a in matches)
        raise AmbiguousContractName(f"contract name {name!r} is ambiguous; use one of: {options}")

    def __getitem__(self, name: str) -> Artifact:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.get(name)
        except UnknownContract:
            return False
        return True

    def __iter__(self) -> Iterator[Artifact]:
        return iter(self.artifacts)

    def __len__(self) -> int:
        return len(self.artifacts)

    @property
    def names(self) -> tuple[str, ...]:
        """Qualified names of all artifacts."""
        return tuple(a.qualified_name for a in self.artifacts)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of everything in the result."""
        return {
            "compilerVersion": self.compiler_version,
            "cacheKey": self.cache_key,
            "warnings": list(self.warnings),
            "contracts": {a.qualified_name: a.to_json() for a in self.artifacts},
        }


def combine_results(
    parts: Sequence[CompileResult], artifacts: Iterable[Artifact], warnings: Iterable[str]
) -> CompileResult:
    """One result made of several compiles (version groups, or a project and the library).

    Args:
        parts: The compiles' results, in order; their versions and cache keys are combined.
        artifacts: The artifacts kept from them.
        warnings: The warnings kept from them.

    Returns:
        The artifacts sorted by ``(source, name)``, each compiler version once (joined by
        ``", "``), a cache key hashed over the parts' keys, and ``from_cache`` only if every
        part came from the cache.
    """
    versions = dict.fromkeys(v for r in parts for v in r.compiler_version.split(", ") if v)
    key = hashlib.sha256("".join(r.cache_key for r in parts).encode("ascii")).hexdigest()
    return CompileResult(
        artifacts=tuple(sorted(artifacts, key=lambda a: (a.source, a.name))),
        warnings=tuple(warnings),
        compiler_version=", ".join(versions),
        cache_key=key,
        from_cache=all(r.from_cache for r in parts),
    )


def format_diagnostic(entry: Mapping[str, Any], contents: Mapping[str, str]) -> str:
    """Render one standard-JSON error entry as ``path:line:col: Type: message``.

    Args:
        entry: An element of the output's ``errors`` list.
        contents: Source text by source unit name (for offset -> line/column).

    Returns:
        The one-line diagnostic (no location prefix when solc gave none).
    """
    kind = entry.get("type") or entry.get("severity", "Error")
    message = f"{kind}: {entry.get('message', '').strip()}"
    location = entry.get("sourceLocation")
    if not isinstance(location, Mapping) or not location.get("file"):
        return message
    unit = str(location["file"])
    start = location.get("start", -1)
    if unit in contents and isinstance(start, int) and start >= 0:
        line, column = line_col(contents[unit], start)
        return f"{unit}:{line}:{column}: {message}"
    return f"{unit}: {message}"


def split_diagnostics(
    output: Mapping[str, Any], contents: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split the output's ``errors`` into ``(errors, warnings)``, each formatted.

    Args:
        output: The compiler's standard-JSON output.
        contents: Source text by source unit name.

    Returns:
        Formatted errors and formatted warnings/infos.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for entry in output.get("errors", ()):
        text = format_diagnostic(entry, contents)
        (errors if entry.get("severity") == "error" else warnings).append(text)
    return tuple(errors), tuple(warnings)


def artifacts_from_output(
    output: Mapping[str, Any], settings: Mapping[str, Any]
) -> tuple[Artifact, ...]:
    """Build one artifact per contract in a successful standard-JSON output.

    Args:
        output: The compiler's output.
        settings: The settings the input carried (recorded on every artifact).

    Returns:
        Artifacts sorted by ``(source, name)``.
    """
    found: list[Artifact] = []
    for source, contracts in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(contracts.items()):
            evm = data.get("evm", {})
            creation = evm.get("bytecode", {})
            runtime = evm.get("deployedBytecode", {})
            metadata = data.get("metadata", "") or ""
            try:
                version = str(json.loads(metadata)["compiler"]["version"])
            except (ValueError, KeyError, TypeError):
                version = ""
            found.append(
                Artifact(
                    name=name,
                    source=source,
                    abi=tuple(data.get("abi", ())),
                    creation_bytecode=_code_bytes(creation.get("object", "")),
                    runtime_bytecode=_code_bytes(runtime.get("object", "")),
                    creation_source_map=creation.get("sourceMap", "") or "",
                    runtime_source_map=runtime.get("sourceMap", "") or "",
                    storage_layout=data.get("storageLayout") or {},
                    metadata=metadata,
                    compiler_version=version,
                    settings=dict(settings),
                    link_references=creation.get("linkReferences") or {},
                    method_identifiers=evm.get("methodIdentifiers") or {},
                    runtime_link_references=runtime.get("linkReferences") or {},
                )
            )
    return tuple(found)
