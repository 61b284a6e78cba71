"""Without the ``learn`` extra the package imports, and the environments say what to install."""

from __future__ import annotations

import subprocess
import sys

from learnkit import ROOT

PROBE = """
import importlib, pkgutil, sys
for name in ("pettingzoo", "gymnasium", "numpy"):
    sys.modules[name] = None
import agentbed.agents.learning as learning
for module in pkgutil.walk_packages(learning.__path__, "agentbed.agents.learning."):
    importlib.import_module(module.name)
for env in (learning.MarketParallelEnv, learning.SingleLearnerEnv):
    try:
        env("scenarios/learning_pga.toml")
    except ImportError as err:
        print(err)
"""


def test_environments_without_the_extra_name_the_install_command() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "the learning environments need pettingzoo: pip install 'agentbed[learn]'",
        "the learning environments need gymnasium: pip install 'agentbed[learn]'",
    ]
