"""Shared test configuration.

Hypothesis: under CI (``CI`` set, as ``.ci/run`` is run) examples are derandomized so a run is
reproducible from the commit alone, and no per-example deadline applies on a loaded 2-core
machine. Locally the default profile keeps exploring new examples on every run.

Fixtures for the Reputation contract, used by suites in two directories, come from the
``reputation_fixtures`` plugin module.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Fixtures shared across directories; a plugin module rather than test-module imports, so
# each suite asks for them by name like any other fixture.
pytest_plugins = ("reputation_fixtures",)

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
