"""``python -m agentbed.cli``: the ``testbed`` command without the console script."""

from __future__ import annotations

import sys

from agentbed.cli.app import main

# Guarded although -m always runs it as __main__: tools that import every module (the wheel
# test walks the package) must not start the command line.
if __name__ == "__main__":
    sys.exit(main())
