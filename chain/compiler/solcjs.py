"""Installing solc-js versions into a per-user cache and handing out their shims.

Layout of the cache directory (default ``~/.cache/agentbed/solc``)::

    versions.json                 published versions (``npm view solc versions --json``)
    0.8.28/node_modules/solc/     one exact version per directory
    0.8.28/solc                   the executable shim (see ``agentbed.chain.compiler.shim``)

A version is installed into a temporary sibling directory and renamed into place in one
step, so an interrupted install never leaves a half-built version directory behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from agentbed.chain.compiler.shim import SHIM_NAME, render_shim
from agentbed.chain.errors import ToolchainError

NODE_MISSING = (
    "agentbed compiles Solidity with the npm package solc: install Node.js (>=18) with npm, "
    "or set TESTBED_SOLC to a native solc binary"
)
"""The one message shown when ``node`` or ``npm`` is not on PATH."""

_VERSION_LIST = "versions.json"


def require_tools(*names: str) -> dict[str, str]:
    """Locate command-line tools on PATH.

    Args:
        *names: Executables to look up, e.g. ``"node"``, ``"npm"``.

    Returns:
        Each name mapped to its full path.

    Raises:
        ToolchainError: With ``NODE_MISSING`` when any of them is missing.
    """
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, where in found.items() if where is None]
    if missing:
        raise ToolchainError(NODE_MISSING)
    return {name: where for name, where in found.items() if where is not None}


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SolcJsInstaller:
    """Installs solc-js versions with npm and returns the path of each version's shim.

    Args:
        cache_dir: Directory holding one subdirectory per installed version.
        progress: Stream for the one-line progress message printed when installing
            (``sys.stderr`` when ``None``).
    """

    def __init__(self, cache_dir: Path, progress: TextIO | None = None) -> None:
        self.cache_dir = cache_dir
        self._progress = progress

    def shim_path(self, version: str) -> Path:
        """Where the shim of ``version`` lives once installed."""
        return self.cache_dir / version / SHIM_NAME

    def is_installed(self, version: str) -> bool:
        """Whether ``version`` is installed and its shim is executable."""
        shim = self.shim_path(version)
        return shim.is_file() and os.access(shim, os.X_OK)

    def ensure(self, version: str) -> Path:
        """Return the shim of ``version``, installing the version first if needed.

        Args:
            version: Exact ``major.minor.patch`` of the npm package ``solc``.

        Returns:
            Path of an executable that behaves like a native ``solc`` of that version.

        Raises:
            ToolchainError: If node/npm are missing or npm cannot install the version.
        """
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise ToolchainError(f"not an exact solc version: {version!r} (expected e.g. 0.8.28)")
        if self.is_installed(version):
            require_tools("node")
            return self.shim_path(version)
        tools = require_tools("node", "npm")
        final = self.cache_dir / version
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        stream = self._progress if self._progress is not None else sys.stderr
        print(f"agentbed: installing solc {version} (npm package solc) into {final}", file=stream)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{version}.", suffix=".partial", dir=self.cache_dir)
        )
        try:
            self._npm_install(tools["npm"], staging, version)
            full_version = self._read_full_version(tools["node"], staging, version)
            shim = staging / SHIM_NAME
            shim.write_text(render_shim(full_version), encoding="utf-8")
            shim.chmod(0o755)
            if final.exists() and not self.is_installed(version):
                # A directory without a working shim is not ours to trust: move it out first.
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.rename(staging, final)
            except OSError:
                # Another process finished the same install first; its copy is as good.
                if not self.is_installed(version):
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.shim_path(version)

    @staticmethod
    def _npm_install(npm: str, prefix: Path, version: str) -> None:
        command = [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--loglevel=error",
            f"solc@{version}",
        ]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            tail = detail[-1] if detail else f"exit code {proc.returncode}"
            raise ToolchainError(f"npm could not install solc@{version}: {tail}")

    @staticmethod
    def _read_full_version(node: str, prefix: Path, version: str) -> str:
        script = "process.stdout.write(require(process.argv[1]).version())"
        package = prefix / "node_modules" / "solc"
        proc = subprocess.run(
            [node, "-e", script, str(package)], capture_output=True, text=True, check=False
        )
        full = proc.stdout.strip()
        if proc.returncode != 0 or not full.startswith(version + "+commit."):
            raise ToolchainError(
                f"solc@{version} installed but reports version {full!r}: {proc.stderr.strip()}"
            )
        return full

    def published_versions(self, refresh: bool = False) -> Sequence[str]:
        """Return the published versions of the npm package ``solc``.

        The list is kept in ``versions.json`` in the cache directory and fetched with
        ``npm view solc versions --json`` only when missing, unreadable, or ``refresh`` is set.

        Args:
            refresh: Fetch a fresh list even if one is cached.

        Returns:
            Version strings as npm lists them.

        Raises:
            ToolchainError: If the list must be fetched and npm is missing or fails.
        """
        cached = self.cache_dir / _VERSION_LIST
        if not refresh:
            try:
                versions = json.loads(cached.read_text(encoding="utf-8"))
                if isinstance(versions, list) and all(isinstance(v, str) for v in versions):
                    return tuple(versions)
            except (OSError, ValueError):
                pass
        npm = require_tools("npm")["npm"]
        proc = subprocess.run(
            [npm, "view", "solc", "versions", "--json"], capture_output=True, text=True, check=False
        )
        try:
            versions = json.loads(proc.stdout)
        except ValueError:
            versions = None
        if proc.returncode != 0 or not isinstance(versions, list):
            raise ToolchainError(
                f"could not list published solc versions with npm: {proc.stderr.strip()}"
            )
        _atomic_write_text(cached, json.dumps(versions))
        return tuple(str(v) for v in versions)
