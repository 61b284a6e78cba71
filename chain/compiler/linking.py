"""Linking external libraries into compiled bytecode.

solc leaves a 20-byte placeholder wherever a contract calls a public function of an external
library and reports the offsets as ``linkReferences`` (``{source: {library: [{start, length}]}}``);
the artifacts keep the placeholders as zero bytes. Linking writes each library's address at
its offsets. Libraries are named ``path:Name`` (the source unit and the library), and a user
may give either that or the bare ``Name``; a contract with a placeholder nobody gave an address
for raises ``UnlinkedLibraries`` instead of deploying code that calls address zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agentbed.chain.compiler.artifacts import Artifact
from agentbed.chain.compiler.errors import LibraryLinkError, UnlinkedLibraries

DEPLOY = "deploy"
"""The library value meaning: deploy the library first, then link its address."""

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def is_library_address(value: str) -> bool:
    """Whether ``value`` is a ``0x``-prefixed 20-byte hex address."""
    return _ADDRESS.fullmatch(value) is not None


def is_library_name(name: str) -> bool:
    """Whether ``name`` is ``Name`` or ``path:Name`` with a Solidity identifier as ``Name``."""
    path, sep, bare = name.rpartition(":")
    return _IDENTIFIER.fullmatch(bare) is not None and (not sep or bool(path))


def library_refs(artifact: Artifact) -> tuple[str, ...]:
    """The libraries an artifact must be linked with, as sorted ``path:Name`` strings."""
    refs = {
        f"{source}:{name}"
        for references in (artifact.link_references, artifact.runtime_link_references)
        for source, libraries in references.items()
        for name in libraries
    }
    return tuple(sorted(refs))


def lookup_library(ref: str, libraries: Mapping[str, str]) -> str | None:
    """Find the value given for a library: by ``path:Name`` first, then by bare ``Name``.

    Args:
        ref: The library as ``path:Name``.
        libraries: ``{"Name" or "path:Name": address or "deploy"}``.

    Returns:
        The value, or ``None`` when the library was not named.
    """
    if ref in libraries:
        return libraries[ref]
    return libraries.get(ref.rpartition(":")[2])


def _patch(code: bytes, references: Mapping[str, Any], addresses: Mapping[str, bytes]) -> bytes:
    """Write addresses over the placeholders of the libraries in ``addresses``."""
    patched = bytearray(code)
    for source, libraries in references.items():
        for name, spots in libraries.items():
            address = addresses.get(f"{source}:{name}")
            if address is None:
                continue
            for spot in spots:
                start, length = int(spot["start"]), int(spot["length"])
                if length != len(address) or start + length > len(patched):
                    raise LibraryLinkError(
                        f"link reference of {source}:{name} at byte {start} (length {length}) "
                        f"does not fit the bytecode ({len(patched)} bytes)"
                    )
                patched[start : start + length] = address
    return bytes(patched)


def _remaining(references: Mapping[str, Any], linked: Mapping[str, bytes]) -> dict[str, Any]:
    return {
        source: kept
        for source, libraries in references.items()
        if (kept := {n: s for n, s in libraries.items() if f"{source}:{n}" not in linked})
    }


def link_artifact(
    artifact: Artifact, libraries: Mapping[str, str], *, require_all: bool = True
) -> Artifact:
    """Return a copy of ``artifact`` with library addresses written into its bytecode.

    Args:
        artifact: The compiled contract.
        libraries: ``{"Name" or "path:Name": "0x..."}``; names the artifact does not reference
            are ignored. ``"deploy"`` values must be resolved to addresses by the caller.
        require_all: Raise when a referenced library has no address (deployment); with
            ``False`` the unnamed ones stay unlinked and listed in the copy's link references.

    Returns:
        The linked artifact (the same object when it references no libraries).

    Raises:
        UnlinkedLibraries: If ``require_all`` and a library has no address.
        LibraryLinkError: If a value is not a 20-byte hex address.
    """
    refs = library_refs(artifact)
    if not refs:
        return artifact
    addresses: dict[str, bytes] = {}
    missing: list[str] = []
    for ref in refs:
        value = lookup_library(ref, libraries)
        if value is None:
            missing.append(ref)
        elif not is_library_address(value):
            raise LibraryLinkError(
                f"library {ref} of {artifact.name}: expected a 0x-prefixed 20-byte hex address, "
                f"got {value!r}"
            )
        else:
            addresses[ref] = bytes.fromhex(value[2:])
    if missing and require_all:
        raise UnlinkedLibraries(artifact.qualified_name, missing)
    return replace(
        artifact,
        creation_bytecode=_patch(artifact.creation_bytecode, artifact.link_references, addresses),
        runtime_bytecode=_patch(
            artifact.runtime_bytecode, artifact.runtime_link_references, addresses
        ),
        link_references=_remaining(artifact.link_references, addresses),
        runtime_link_references=_remaining(artifact.runtime_link_references, addresses),
    )
