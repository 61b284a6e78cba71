"""Benchmark: cold vs warm compile of every project contract (``contracts/``).

Cold means an empty, temporary artifact cache (the solc-js install in the per-user cache is
reused, and made once before timing, so npm is not measured); warm means the same cache
right after. Each is repeated and the median reported.

Usage: ``.venv/bin/python scripts/bench_compile.py [--repeat N] [--root DIR]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from agentbed.chain.compiler import Compiler, CompilerConfig, find_project_root


def _timed(compiler: Compiler, contracts: Path) -> tuple[float, bool, int]:
    start = time.perf_counter()
    result = compiler.compile([contracts])
    return time.perf_counter() - start, result.from_cache, len(result)


def main() -> None:
    """Run the benchmark and print a small report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (default 3)")
    parser.add_argument("--root", type=Path, default=None, help="project root (default: found)")
    args = parser.parse_args()
    root = args.root or find_project_root(Path(__file__).resolve())
    if root is None:
        raise SystemExit("no project root found (pyproject.toml + contracts/)")
    contracts = root / "contracts"

    base = CompilerConfig.from_env(root=root)
    Compiler(base).installer.ensure(base.default_solc_version)
    cold: list[float] = []
    warm: list[float] = []
    count = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
            compiler = Compiler(CompilerConfig.from_env(root=root, artifact_cache_dir=Path(tmp)))
            seconds, hit, count = _timed(compiler, contracts)
            assert not hit, "cold run unexpectedly hit the cache"
            cold.append(seconds)
            seconds, hit, _ = _timed(compiler, contracts)
            assert hit, "warm run missed the cache"
            warm.append(seconds)
    sources = sum(1 for _ in contracts.rglob("*.sol"))
    print(f"project: {contracts} ({sources} source files, {count} artifacts incl. imports)")
    print(f"solc {base.default_solc_version} (solc-js via py-solc-x), repeat={args.repeat}")
    print(f"cold (empty artifact cache): median {statistics.median(cold) * 1000:8.1f} ms")
    print(f"warm (cache hit, no solc):   median {statistics.median(warm) * 1000:8.1f} ms")
    print(f"speed-up: {statistics.median(cold) / statistics.median(warm):.0f}x")


if __name__ == "__main__":
    main()
