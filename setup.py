"""Build hook: refuse to build a wheel that lacks the bundled OpenZeppelin sources.

All metadata lives in ``pyproject.toml``; this file only adds one check. The library contracts
import ``@openzeppelin/contracts/...``, and the wheel carries those sources as package data
through the symlink ``agentbed/vendor/@openzeppelin -> ../../node_modules/@openzeppelin``. When
``npm ci`` has not been run, the symlink dangles and setuptools would quietly build a wheel
whose library contracts cannot compile, so the build stops here with a message saying why.

Editable installs are exempt: they read the sources from the work tree at run time, and
``make setup`` installs the Python package before running ``npm ci``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

VENDORED_PROBE = Path("agentbed/vendor/@openzeppelin/contracts/token/ERC20/ERC20.sol")
"""One file every OpenZeppelin release ships; its absence means the vendor tree is missing."""


class MissingVendoredSources(RuntimeError):
    """The OpenZeppelin sources the wheel must carry are not in the build tree."""


class BuildPyWithVendoredSources(build_py):
    """``build_py`` that checks for the OpenZeppelin sources before copying package data."""

    def run(self) -> None:
        """Fail with one clear line when a non-editable build lacks the vendored sources."""
        if not getattr(self, "editable_mode", False) and not VENDORED_PROBE.is_file():
            raise MissingVendoredSources(
                f"cannot build the agentbed wheel: {VENDORED_PROBE} is missing "
                "(node_modules/@openzeppelin is not installed); run `npm ci` in the "
                "repository first"
            )
        super().run()


setup(cmdclass={"build_py": BuildPyWithVendoredSources})
