"""What every ``testbed`` subcommand shares: exit codes, handler types and the error path.

A subcommand is a pair of functions: an :data:`Adder` declares its arguments on the
subparsers, a :data:`Runner` executes it with the parsed arguments and the two output
streams and returns the exit code. Handlers print results to ``out`` and every message
about the run (errors, progress) to ``err``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO, TypeAlias

from agentbed.chain.errors import CompilationError, ToolchainError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# argparse does not export the subparsers' type; typeshed makes it generic, the runtime class
# is not subscriptable, so the alias stays a string.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Runner: TypeAlias = Callable[[argparse.Namespace, TextIO, TextIO], int]
Adder: TypeAlias = Callable[[Subparsers], None]


def toolchain_failure(command: str, exc: CompilationError | ToolchainError, err: TextIO) -> int:
    """Print a compile or toolchain failure and return the failure exit code.

    Compiler messages are printed as the compiler wrote them; a toolchain problem (no solc,
    no node) gets one line naming the subcommand.

    Args:
        command: The subcommand's name, for the message.
        exc: The failure.
        err: Where the message goes.

    Returns:
        ``EXIT_FAILED``.
    """
    if isinstance(exc, CompilationError):
        print("\n".join(exc.errors), file=err)
    else:
        print(f"testbed {command}: {exc}", file=err)
    return EXIT_FAILED


def echo_to(err: TextIO) -> Callable[[str], None]:
    """A line printer for progress messages: to ``err``, flushed at once.

    Args:
        err: The stream the lines go to.

    Returns:
        A function printing one line.
    """

    def echo(line: str) -> None:
        print(line, file=err, flush=True)

    return echo
