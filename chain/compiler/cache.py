"""Content-addressed on-disk cache of compile results.

The key is a sha256 over the compiler identity and the complete standard-JSON input, which
holds every source's content in the import closure and all settings; it is computed without
starting the compiler. Entries are written to a temporary file and renamed into place, so an
interrupted run never leaves a half-written entry; an unreadable entry counts as a miss and is
overwritten by the next successful compile.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentbed.chain.compiler.artifacts import Artifact, CompileResult

CACHE_SCHEMA = 2
"""Bumped whenever the entry format or the meaning of a key changes (2: runtime link refs)."""


def cache_key(
    compiler_id: str,
    standard_input: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> str:
    """Hash the compiler identity, the standard-JSON input and what else decided the compile.

    Args:
        compiler_id: E.g. ``solcjs:0.8.28`` or ``native:0.8.28+commit.7893614a``.
        standard_input: The exact input given to the compiler.
        context: Further inputs that decided which sources were read (e.g. include paths);
            left out of the hash when ``None``, so keys without it stay what they were.

    Returns:
        The hex sha256 digest.
    """
    keyed: dict[str, Any] = {
        "schema": CACHE_SCHEMA,
        "compiler": compiler_id,
        "input": standard_input,
    }
    if context is not None:
        keyed["context"] = context
    canonical = json.dumps(
        keyed,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ArtifactCache:
    """Stores one JSON file per cache key under ``directory/<key[:2]>/<key>.json``.

    Args:
        directory: The cache directory (created on first write).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        return self.directory / key[:2] / f"{key}.json"

    def load(self, key: str) -> CompileResult | None:
        """Return the cached result for ``key``, or ``None`` on a miss or a corrupt entry."""
        try:
            data = json.loads(self.path_for(key).read_text(encoding="utf-8"))
            if data.get("schema") != CACHE_SCHEMA or data.get("key") != key:
                return None
            return CompileResult(
                artifacts=tuple(Artifact.from_json(item) for item in data["artifacts"]),
                warnings=tuple(str(w) for w in data["warnings"]),
                compiler_version=str(data["compilerVersion"]),
                cache_key=key,
                from_cache=True,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, result: CompileResult) -> Path:
        """Write ``result`` under its ``cache_key`` atomically.

        Args:
            result: A successful compile's result.

        Returns:
            The entry's path.
        """
        target = self.path_for(result.cache_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "schema": CACHE_SCHEMA,
            "key": result.cache_key,
            "compilerVersion": result.compiler_version,
            "warnings": list(result.warnings),
            "artifacts": [a.to_json() for a in result.artifacts],
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem[:16]}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle, separators=(",", ":"))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
