"""``testbed gas``: gas per contract operation, measured by running the contract test suites.

The command runs pytest in a subprocess with the chain fixtures' ``--gas-report`` and
streams its output. pytest is an optional extra (``agentbed[pytest]``), so the command
checks for it first and says how to install it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import TextIO

from agentbed.chain.compiler import find_project_root
from agentbed.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Subparsers

NEEDS_PYTEST = 'testbed gas needs pytest: pip install "agentbed[pytest]"'


def add_gas(subparsers: Subparsers) -> None:
    """Declare ``testbed gas``: test paths, and pytest arguments after ``--``."""
    parser = subparsers.add_parser(
        "gas",
        help="print gas per contract operation, measured by running the contract test suites",
        description="Run pytest with the chain fixtures' --gas-report on the given test paths "
        "(default: tests/contracts/) and print gas per contract and operation: calls, min, "
        "mean, max and reverted calls. Arguments after -- go to pytest unchanged.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="test files or directories")
    parser.set_defaults(passthrough=[])  # the words after --, which main() sets aside


def _pytest_importable() -> bool:
    """Whether this interpreter, which also runs the subprocess, can import pytest."""
    # find_spec answers without importing; an entry of None in sys.modules (how imports are
    # blocked) answers None too.
    try:
        return importlib.util.find_spec("pytest") is not None
    except ValueError:  # a pytest module without __spec__
        return "pytest" in sys.modules


def run_gas(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the test suites under ``--gas-report`` and stream pytest's output to ``out``.

    Returns:
        0 when pytest passes, 1 when it fails, 2 without pytest or for a missing test path.
    """
    import subprocess

    if not _pytest_importable():
        print(f"testbed: error: {NEEDS_PYTEST}", file=err)
        return EXIT_USAGE
    paths: list[Path] = list(args.paths)
    if not paths:
        root = find_project_root() or Path.cwd()
        paths = [root / "tests" / "contracts"]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"testbed gas: no such test path: {missing[0]}", file=err)
        return EXIT_USAGE
    extra = list(args.passthrough)
    command = [sys.executable, "-m", "pytest", "-q", "--gas-report", *map(str, paths), *extra]
    print(f"testbed gas: running {' '.join(command[1:])}", file=err)
    # Stream pytest's output line by line: a full contract suite takes minutes.
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            out.flush()
    return EXIT_OK if proc.returncode == 0 else EXIT_FAILED
