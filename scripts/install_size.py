"""Measurement: how much disk an install of the agentbed wheel takes, with and without extras.

A measurement, not a test: it prints figures and never fails on them. It builds the wheel from
a clean copy of the repository (``build_wheel``), installs it from PyPI into fresh virtual
environments under /tmp (no pip inside them: the running interpreter's pip installs with
``--python``), and prints the size of each one's site-packages in MB (10^6 bytes) with the
largest distributions of the difference, so the ``plots`` extra's weight is a number.

    python scripts/install_size.py                      # core vs core + [plots]
    python scripts/install_size.py --dev                # also the whole [dev] install
    python scripts/install_size.py --wheel dist/agentbed-0.1.0-py3-none-any.whl

Needs the package index (pip's configured one). ``build_wheel`` and ``copy_source_tree`` are
also used by tests/packaging/test_wheel.py, which builds offline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Left out of the copy the wheel is built from: caches, virtual environments and earlier build
# output. A stale build/lib would otherwise put files that no longer exist into the wheel.
_NOT_SOURCES = (
    ".git",
    ".venv*",
    "node_modules",
    "build",
    "dist",
    "runs",
    "out",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)

MB = 1_000_000


class WheelBuildError(RuntimeError):
    """``pip wheel`` failed; the message carries pip's last output lines."""


def copy_source_tree(root: Path, dest: Path, *, with_node_modules: bool = True) -> Path:
    """Copy the repository's sources to ``dest``, keeping symlinks as symlinks.

    ``node_modules/@openzeppelin`` is linked (not copied) into the copy, so the package's
    ``vendor/@openzeppelin`` symlink resolves there as it does in the repository.

    Args:
        root: The repository root.
        dest: Directory to create; must not exist.
        with_node_modules: Link ``node_modules/@openzeppelin``; ``False`` builds the copy a
            fresh clone has before ``npm ci``.

    Returns:
        ``dest``.
    """
    shutil.copytree(root, dest, symlinks=True, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
    vendored = root / "node_modules" / "@openzeppelin"
    if with_node_modules and vendored.is_dir():
        (dest / "node_modules").mkdir()
        (dest / "node_modules" / "@openzeppelin").symlink_to(vendored.resolve())
    return dest


def build_wheel(
    root: Path,
    out_dir: Path,
    *,
    isolated: bool = False,
    python: str = sys.executable,
    with_node_modules: bool = True,
) -> Path:
    """Build the agentbed wheel from a clean copy of ``root``.

    Args:
        root: The repository root.
        out_dir: Directory the wheel (and the source copy, in ``src/``) is written to.
        isolated: Let pip fetch the build backend into an isolated environment (needs the
            index); ``False`` uses the setuptools installed next to ``python`` (offline).
        python: Interpreter whose pip builds the wheel.
        with_node_modules: Passed to ``copy_source_tree``.

    Returns:
        Path of the built ``.whl``.

    Raises:
        WheelBuildError: If pip fails (e.g. node_modules/@openzeppelin is missing).
    """
    source = copy_source_tree(root, out_dir / "src", with_node_modules=with_node_modules)
    command = [python, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check"]
    command += [] if isolated else ["--no-build-isolation", "--no-index"]
    command += ["-w", str(out_dir), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(out_dir.glob("agentbed-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise WheelBuildError(f"pip wheel failed (exit {done.returncode}):\n{tail}")
    return wheels[-1]


def create_venv(path: Path) -> Path:
    """Create a virtual environment without pip and return its site-packages directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    found = sorted(path.glob("lib/python3*/site-packages"))
    if not found:
        raise RuntimeError(f"no site-packages in the new virtual environment {path}")
    return found[0]


def install(venv: Path, requirement: str) -> None:
    """Install ``requirement`` (and its dependencies, from the index) into ``venv``."""
    command = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    command += ["install", "--quiet", "--disable-pip-version-check", requirement]
    # Captured: pip's index warnings would bury the figures; shown only when pip fails.
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise RuntimeError(f"pip install {requirement} failed (exit {done.returncode}):\n{tail}")


def tree_size(path: Path) -> int:
    """Bytes in the regular files below ``path`` (symlinks are not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def distribution_sizes(site_packages: Path) -> dict[str, int]:
    """Bytes per installed distribution, from each ``*.dist-info/RECORD``."""
    sizes: dict[str, int] = {}
    for record in site_packages.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        total = 0
        for line in record.read_text(encoding="utf-8").splitlines():
            relative = line.rsplit(",", 2)[0]
            target = site_packages / relative
            if relative and target.is_file():
                total += target.stat().st_size
        sizes[name] = total
    return sizes


def measure(work: Path, wheel: Path, extras: str) -> tuple[int, dict[str, int]]:
    """Install ``wheel[extras]`` into a fresh venv; return its size and per-distribution sizes."""
    label = extras or "core"
    started = time.perf_counter()
    site_packages = create_venv(work / f"venv-{label}")
    install(work / f"venv-{label}", f"{wheel}[{extras}]" if extras else str(wheel))
    size = tree_size(site_packages)
    elapsed = time.perf_counter() - started
    print(f"  {label:<6} {size / MB:8.1f} MB  (installed in {elapsed:.0f} s)", file=sys.stderr)
    return size, distribution_sizes(site_packages)


def _largest(more: dict[str, int], less: dict[str, int], count: int) -> list[tuple[str, int]]:
    extra = {name: size for name, size in more.items() if name not in less}
    return sorted(extra.items(), key=lambda item: -item[1])[:count]


def main(argv: list[str] | None = None) -> int:
    """Build (or take) the wheel, install it in fresh venvs and print the sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="measure this wheel instead of building one")
    parser.add_argument("--dev", action="store_true", help="also measure the [dev] install")
    parser.add_argument("--keep", action="store_true", help="keep the venvs (path printed)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="agentbed-size-", dir="/tmp"))
    try:
        wheel = args.wheel.resolve() if args.wheel else build_wheel(ROOT, work / "wheel")
        wheel_bytes = wheel.stat().st_size
        print(f"wheel: {wheel.name}, {wheel_bytes / MB:.2f} MB", file=sys.stderr)
        core, core_dists = measure(work, wheel, "")
        plots, plots_dists = measure(work, wheel, "plots")
        dev = measure(work, wheel, "dev")[0] if args.dev else None
    finally:
        if args.keep:
            print(f"venvs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"site-packages, core install:      {core / MB:8.1f} MB")
    print(f"site-packages, with [plots]:      {plots / MB:8.1f} MB")
    print(f"difference ([plots] adds):        {(plots - core) / MB:8.1f} MB")
    print(f"core install is {core / plots:.0%} of the [plots] install")
    if dev is not None:
        print(f"site-packages, with [dev]:        {dev / MB:8.1f} MB")
    print("largest distributions [plots] adds:")
    for name, size in _largest(plots_dists, core_dists, 8):
        print(f"  {name:<20} {size / MB:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
