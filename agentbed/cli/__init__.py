"""The ``testbed`` command line (console script ``testbed = "agentbed.cli:main"``).

    testbed demo [--seed N] [--json OUT]     the main job (README quick start)
    testbed compile [PATHS] [--root DIR] [--json OUT] [--include-path P] [--remap A=B]
                    [--solc-version V|pragma] [--optimizer-runs N] [--library NAME=ADDRESS]
                                             compile the project (or PATHS), print sizes
    testbed gas [PATHS] [-- PYTEST ARGS]     gas per contract operation from the test suites
                                             (needs the ``agentbed[pytest]`` extra)
    testbed run SCENARIO [--seed N] [--out DIR] [--policy P] [--variant V]
                                             run a scenario file and write its report
    testbed compare SCENARIO [--policies P,P | --variants V,V] [--seed N] [--out DIR] [--jobs J]
                                             the same scenario under several policies, or
                                             the scenario's variants side by side
    testbed sweep SCENARIO --param KEY=V,V --seeds N [--seed N] [--out DIR] [--jobs J]
                  [--metric NAME ...]        a grid of scenario values over several seeds

:mod:`agentbed.cli.app` holds the registry and ``main``; each subcommand has its own module
(``demo``, ``compile``, ``gas`` for the chain and its contracts; ``run``, ``compare``,
``sweep`` for scenario experiments, sharing :mod:`agentbed.cli.experiment_args`), and
:mod:`agentbed.cli.common` the exit codes and the error path.
"""

from __future__ import annotations

from agentbed.cli.app import COMMANDS, build_parser, main
from agentbed.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = [
    "COMMANDS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]
