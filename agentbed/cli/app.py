"""The ``testbed`` application: the subcommand registry, the argument parser and ``main``.

Each subcommand lives in its own module as a pair of functions, ``add_<name>(subparsers)``
to declare its arguments and ``run_<name>(args, out, err) -> int`` to execute it; a new
command is one module and one line in :data:`COMMANDS`. The command modules import their
heavy dependencies inside the handlers, so building the parser (``testbed --help``) is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agentbed.cli.common import EXIT_USAGE, Adder, Runner
from agentbed.cli.compare import add_compare, run_compare
from agentbed.cli.compile import add_compile, run_compile
from agentbed.cli.demo import add_demo, run_demo
from agentbed.cli.gas import add_gas, run_gas
from agentbed.cli.node import add_node, run_node
from agentbed.cli.run import add_run, run_run
from agentbed.cli.sweep import add_sweep, run_sweep

# (name, add arguments, run), in the order ``testbed --help`` lists them.
COMMANDS: tuple[tuple[str, Adder, Runner], ...] = (
    ("demo", add_demo, run_demo),
    ("compile", add_compile, run_compile),
    ("gas", add_gas, run_gas),
    ("run", add_run, run_run),
    ("compare", add_compare, run_compare),
    ("sweep", add_sweep, run_sweep),
    ("node", add_node, run_node),
)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``testbed`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="testbed", description="agentbed: a local blockchain testbed for agent economies"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for _name, add, _run in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``testbed`` command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit code: 0 success, 1 failure (e.g. compile errors), 2 usage errors,
        130 an interrupted run.
    """
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # Words after the first "--" pass through unread (``testbed gas PATHS -- PYTEST_ARGS``):
    # argparse would otherwise take them for positionals of the command.
    passthrough: list[str] = []
    if "--" in words:
        cut = words.index("--")
        words, passthrough = words[:cut], words[cut + 1 :]
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if passthrough:
        if not hasattr(args, "passthrough"):
            print(
                f"testbed {args.command}: takes no arguments after --, got {' '.join(passthrough)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        args.passthrough = passthrough
    runners = {name: run for name, _add, run in COMMANDS}
    return runners[args.command](args, sys.stdout, sys.stderr)
