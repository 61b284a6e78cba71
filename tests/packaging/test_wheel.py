"""End to end: the wheel, installed in a fresh venv outside the repository, serves a project.

The wheel is built offline from a clean copy of the repository (``scripts/install_size.py``'s
``build_wheel``: ``pip wheel --no-deps --no-build-isolation``). A fresh venv (no pip) gets the
third-party dependencies without the network: the dev venv's site-packages entries, less
anything of agentbed's own editable install, are linked into one directory that a ``.pth``
file of the fresh venv names. The dev venv's pip then installs the wheel into it
(``pip --python FRESH/bin/python install --no-deps``), which writes the ``testbed`` script and
the pytest plugin's entry point as a user's install would.

Scratch projects from ``tests/fixtures/userproject/`` run in temporary directories, with an
environment without ``PYTHONPATH`` and with the fresh venv first on ``PATH``: a configured one
(``[tool.agentbed]``, its own ``Counter``) and an unconfigured one (another ``Counter``, no
table) that must be refused with one line. solc-js comes from the user's cache; the configured
project and the scenario runs share one artifact cache (the library contracts compile once),
and the unconfigured project gets an empty one of its own, which shows what it compiled.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from agentbed.chain.compiler import CompilerConfig

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "tests" / "fixtures" / "userproject"
SMALL_SCENARIO = "scenarios/small.toml"  # relative to the installed package
NOT_FOUND = "no agentbed project found"
# What the plots, pytest, bench and cluster extras install; the core must not import them.
OPTIONAL_MODULES = ("matplotlib", "pytest", "eth_tester", "ray")
FACE = "Chain, Simulation, Agent, TxIntent, BundleIntent, load_scenario, run_scenario"


def _load_script() -> ModuleType:
    """Import ``scripts/install_size.py`` (scripts/ is not a package) for its wheel builder."""
    name = "testbed_install_size_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "install_size.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


install_size = _load_script()


@dataclass(frozen=True, slots=True)
class FreshInstall:
    """The wheel installed into a fresh venv, and how to run its commands.

    Attributes:
        venv: The venv directory.
        site_packages: Its site-packages, where the wheel was installed.
        env: Environment for its commands (no ``PYTHONPATH``, the venv first on ``PATH``).
    """

    venv: Path
    site_packages: Path
    env: dict[str, str]

    def run(
        self, *command: str, cwd: Path, cache: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (first word: a name in the venv's bin/) in ``cwd``.

        ``cache``, when given, becomes ``TESTBED_CACHE`` (the parent of the artifact cache)
        instead of the one shared by this module's runs.
        """
        executable = str(self.venv / "bin" / command[0])
        env = self.env if cache is None else {**self.env, "TESTBED_CACHE": str(cache)}
        return subprocess.run(
            [executable, *command[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _is_agentbed_entry(name: str) -> bool:
    """Whether a site-packages entry belongs to agentbed's own (editable) install."""
    return name.startswith(("__editable__", "agentbed-", "agentbed.")) or name == "agentbed"


def _link_dependencies(dest: Path) -> Path:
    """Link the dev venv's site-packages, less agentbed itself, into ``dest``."""
    dest.mkdir()
    source = Path(sysconfig.get_paths()["purelib"])
    for entry in source.iterdir():
        # .pth files only act in a site directory, and this one is reached through a .pth.
        if _is_agentbed_entry(entry.name) or entry.suffix == ".pth":
            continue
        (dest / entry.name).symlink_to(entry)
    return dest


def _clean_env(venv: Path) -> dict[str, str]:
    """The environment a user's shell would give the fresh venv's commands."""
    dev_bin = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"} and not key.startswith("PYTEST_")
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != dev_bin]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    # solc-js is installed once per user; reuse it rather than fetch it again.
    solc_cache = CompilerConfig.from_env().solc_cache_dir
    if solc_cache is not None:
        env["TESTBED_SOLC_CACHE"] = str(solc_cache)
    # Artifacts go to a cache of this test's own: their keys hold the temporary paths, so in
    # the user's cache they would only pile up.
    env["TESTBED_CACHE"] = str(venv.parent / "cache")
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a clean copy of the repository."""
    return install_size.build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> FreshInstall:
    """A fresh venv outside the repository with the wheel installed by pip."""
    base = tmp_path_factory.mktemp("fresh")
    venv = base / "venv"
    site_packages = install_size.create_venv(venv)
    deps = _link_dependencies(base / "deps")
    (site_packages / "_agentbed_test_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    offline = ["--no-deps", "--no-index", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, *offline, str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    return FreshInstall(venv=venv, site_packages=site_packages, env=_clean_env(venv))


def _project(tmp_path_factory: pytest.TempPathFactory, template: str, suite: str) -> Path:
    """Copy a scratch project from the templates; its suite becomes ``tests/test_<name>.py``."""
    project = tmp_path_factory.mktemp(template) / "project"
    source = TEMPLATES / template
    (project / "contracts").mkdir(parents=True)
    (project / "tests").mkdir()
    for name in ("pyproject.toml", "contracts/Counter.sol"):
        (project / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    test_name = f"test_{suite.removesuffix('_suite.py')}.py"
    (project / "tests" / test_name).write_text(
        (source / suite).read_text(encoding="utf-8"), encoding="utf-8"
    )
    return project


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project with ``[tool.agentbed]`` and its own ``contracts/Counter.sol``."""
    return _project(tmp_path_factory, "configured", "counter_suite.py")


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with its own ``contracts/Counter.sol`` but no ``[tool.agentbed]`` table."""
    return _project(tmp_path_factory, "unconfigured", "deploy_suite.py")


def _artifacts(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


# ---------------------------------------------------------------------------------------------
# The wheel's contents
# ---------------------------------------------------------------------------------------------


def test_wheel_carries_contracts_scenarios_docs_and_openzeppelin(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "agentbed/contracts/Escrow.sol",
        "agentbed/contracts/mocks/MockERC20.sol",
        "agentbed/scenarios/mev.toml",
        f"agentbed/{SMALL_SCENARIO}",
        "agentbed/docs/scenarios.md",
        "agentbed/vendor/@openzeppelin/contracts/token/ERC20/ERC20.sol",
        "agentbed/vendor/@openzeppelin/contracts/package.json",
        "agentbed/chain/pytest_plugin.py",
        "agentbed/agents/sim.py",
    ):
        assert expected in names, f"{expected} missing from {wheel.name}"


def test_wheel_installs_nothing_but_agentbed_at_the_top(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"agentbed", "agentbed-0.1.0.dist-info"}, sorted(tops)
    # Only the npm package's sources travel, not its compiled build/ JSON.
    assert not [n for n in names if "/vendor/" in n and not n.endswith((".sol", ".json", ".md"))]
    assert not [n for n in names if "/vendor/@openzeppelin/contracts/build/" in n]


def test_wheel_requires_plots_pytest_and_eth_tester_only_as_extras(wheel: Path) -> None:
    metadata = zipfile.ZipFile(wheel).read("agentbed-0.1.0.dist-info/METADATA").decode()
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, flags=re.M)
    unconditional = [r for r in requires if "extra ==" not in r]
    for optional in ("matplotlib", "pytest", "eth-tester", "hypothesis", "ray"):
        assert not [r for r in unconditional if r.startswith(optional)], unconditional
    assert any(r.startswith("matplotlib") and 'extra == "plots"' in r for r in requires)
    assert any(r.startswith("ray") and 'extra == "cluster"' in r for r in requires)
    assert any(r.startswith("py-evm") for r in unconditional)


def test_wheel_build_stops_without_node_modules(tmp_path: Path) -> None:
    with pytest.raises(install_size.WheelBuildError, match="node_modules/@openzeppelin"):
        install_size.build_wheel(ROOT, tmp_path, with_node_modules=False)
    assert not list(tmp_path.glob("*.whl"))


# ---------------------------------------------------------------------------------------------
# The installed package
# ---------------------------------------------------------------------------------------------


def test_fresh_install_imports_agentbed_from_the_venv_only(
    fresh: FreshInstall, tmp_path: Path
) -> None:
    for top in ("chain", "agents"):
        done = fresh.run("python", "-c", f"import {top}", cwd=tmp_path)
        assert done.returncode == 1, _output(done)
        assert f"ModuleNotFoundError: No module named '{top}'" in done.stderr

    probe = (
        f"from agentbed import {FACE}\n"
        "import importlib.resources, agentbed.chain.node as node\n"
        "vendor = importlib.resources.files('agentbed') / 'vendor' / '@openzeppelin'\n"
        "print(node.__file__)\n"
        "print((vendor / 'contracts/token/ERC20/ERC20.sol').is_file())\n"
    )
    done = fresh.run("python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, _output(done)
    node_file, vendored = done.stdout.split()
    assert Path(node_file).resolve().is_relative_to(fresh.site_packages), node_file
    assert vendored == "True"


def test_modules_import_without_the_optional_dependencies(
    fresh: FreshInstall, tmp_path: Path
) -> None:
    # None in sys.modules makes an import fail, as if the extra were not installed.
    probe = (
        "import importlib, pkgutil, sys\n"
        f"for name in {OPTIONAL_MODULES!r}:\n"
        "    sys.modules[name] = None\n"
        "import agentbed\n"
        "names = [m.name for m in pkgutil.walk_packages(agentbed.__path__, 'agentbed.')]\n"
        "for name in names:\n"
        "    if name != 'agentbed.chain.pytest_plugin':\n"
        "        importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = fresh.run("python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, _output(done)
    assert int(done.stdout) > 40  # every module was walked, not an empty package


def test_user_project_suite_deploys_a_library_contract_and_its_own(
    fresh: FreshInstall, configured: Path
) -> None:
    done = fresh.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=configured)
    assert done.returncode == 0, _output(done)
    assert "1 passed" in done.stdout


def test_bundled_small_scenario_runs_from_the_installed_package(
    fresh: FreshInstall, tmp_path: Path
) -> None:
    scenario = fresh.site_packages / "agentbed" / SMALL_SCENARIO
    out = tmp_path / "run"
    done = fresh.run("testbed", "run", str(scenario), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, _output(done)
    assert (out / "summary.json").is_file()


def test_bundled_scenario_reports_without_matplotlib(fresh: FreshInstall, tmp_path: Path) -> None:
    scenario = fresh.site_packages / "agentbed" / SMALL_SCENARIO
    out = tmp_path / "run"
    probe = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "from agentbed.cli import main\n"
        f"sys.exit(main(['run', {str(scenario)!r}, '--out', {str(out)!r}]))\n"
    )
    done = fresh.run("python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, _output(done)
    assert (out / "summary.json").is_file()
    assert (out / "report.md").is_file()
    assert not list(out.rglob("*.png"))


def _failure_section(stdout: str, test_name: str) -> list[str]:
    """The non-empty lines pytest printed for ``test_name``'s failure or setup error."""
    lines = stdout.splitlines()
    header = next(
        (i for i, line in enumerate(lines) if line.startswith("_") and f" {test_name} " in line),
        None,
    )
    assert header is not None, f"no failure section for {test_name}:\n{stdout}"
    section: list[str] = []
    for line in lines[header + 1 :]:
        if line.startswith(("===", "___")):
            break
        if line.strip():
            section.append(line)
    return section


def test_unconfigured_project_deploy_fails_with_one_line(
    fresh: FreshInstall, configured: Path, unconfigured: Path
) -> None:
    cache = unconfigured.parent / "cache"
    done = fresh.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=unconfigured, cache=cache
    )
    assert done.returncode == 1, _output(done)
    section = _failure_section(done.stdout, "test_deploy_without_configuration")
    # One line, the message itself: no traceback, no chained second report.
    assert len(section) == 1, _output(done)
    message = re.sub(r"^(\S*ProjectNotFound|Failed): ", "", re.sub(r"^E\s+", "", section[0]))
    assert message.startswith(NOT_FOUND), section[0]
    assert str(unconfigured) in message
    assert str(configured) not in done.stdout
    # Neither project's Counter was compiled (each has a function only it declares).
    for artifact in _artifacts(cache):
        text = artifact.read_text(encoding="utf-8", errors="replace")
        assert "stepUp" not in text and "stepDown" not in text, artifact


def test_unconfigured_project_compile_fails_with_one_line(
    fresh: FreshInstall, configured: Path, unconfigured: Path
) -> None:
    cache = unconfigured.parent / "cache-compile"
    done = fresh.run("testbed", "compile", cwd=unconfigured, cache=cache)
    assert done.returncode == 2, _output(done)
    assert done.stderr.startswith(f"testbed: error: {NOT_FOUND}"), _output(done)
    assert len(done.stderr.strip().splitlines()) == 1, _output(done)
    assert "Counter" not in done.stdout
    assert str(configured) not in done.stdout + done.stderr
    assert _artifacts(cache) == [], "an unconfigured project compiled something"
