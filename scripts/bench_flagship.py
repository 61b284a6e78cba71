"""Benchmark: the flagship comparison (``scenarios/mev.toml``), and where one run's time goes.

A benchmark, not a test: it prints figures and never fails on them. Three measurements:

1. **One 50-block run alone** (the scenario's policy, in this process), repeated ``--repeat``
   times; the median wall time and the split of the last repetition's wall time into
   exclusive shares: EVM (building and sealing blocks, which executes every tx), calls
   (``eth_call`` reads and gas estimates), signing, admission (mempool and bundles), agents'
   decisions, report (the study's summary and files, including its counterfactual replays),
   set-up (deploying and funding) and the simulation loop (the rest: scheduling, views,
   records, the event log).
2. **The comparison**: ``testbed compare`` of every policy at the scenario's seed in ``--jobs``
   processes (the CLI a user runs), repeated ``--repeat`` times; the median wall time.
3. **Against another checkout** (``--baseline-tree PATH``, instead of 1 and 2): the same run
   (``run_scenario``, same scenario file, policy and seed) in this tree and in ``PATH``, each
   in a fresh process (so each imports its own code), alternating baseline and this tree
   ``--repeat`` times; the median CPU time of each side, their ratio and the range of the
   per-pair ratios. Give both sides the scenario as it was in the older tree (e.g.
   ``git show OLD:scenarios/mev.toml > /tmp/mev_old.toml``) so the work compared is the same.

Shares are exclusive CPU time: a timed call inside another (a gas estimate inside signing, a
balance read inside an agent's decision) counts for its own category only. Timers are
``time.process_time`` around the functions named in ``HOOKS``; their own overhead is a few
microseconds per call. On a shared machine compare CPU times: wall times there include
other processes' turns.

    python scripts/bench_flagship.py                 # both, 3 repetitions
    python scripts/bench_flagship.py --repeat 1 --no-compare
    python scripts/bench_flagship.py --repeat 1 --no-compare --policy bundles
    python scripts/bench_flagship.py --baseline-tree ../old --scenario /tmp/mev_old.toml
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentbed.agents.eventlog import EventLog  # noqa: E402
from agentbed.chain import backend, calls, mempool, node, signing  # noqa: E402
from agentbed.chain.ordering import parse_policy  # noqa: E402
from agentbed.experiments.build import build  # noqa: E402
from agentbed.experiments.scenario import load_scenario  # noqa: E402
from agentbed.experiments.studies import resolve_study  # noqa: E402

SCENARIO = ROOT / "scenarios" / "mev.toml"

HOOKS: tuple[tuple[str, object, str], ...] = (
    ("EVM (build + seal)", backend.BlockSession, "apply"),
    ("EVM (build + seal)", backend.BlockSession, "checkpoint"),
    ("EVM (build + seal)", backend.BlockSession, "rollback"),
    ("EVM (build + seal)", backend.BlockSession, "seal"),
    ("EVM (build + seal)", node.Chain, "mine"),
    ("replays (report)", calls, "replay"),
    ("calls", calls, "call"),
    ("calls", calls, "estimate_gas"),
    ("calls", node.Chain, "balance"),
    ("calls", node.Chain, "nonce"),
    ("calls", node.Chain, "code"),
    ("calls", node.Chain, "storage_at"),
    ("signing", signing.LocalSigner, "sign"),
    ("admission", mempool.Mempool, "add"),
    ("admission", node.Chain, "submit"),
    ("admission", node.Chain, "submit_bundle"),
)
"""(category, owner, attribute): the functions timed. ``Chain.mine`` holds the builder's
ordering and the mempool's update after the block as well as the EVM's work."""


class Timers:
    """Exclusive CPU time per category: the innermost timed category gets the time.

    CPU time (``time.process_time``), not wall time: on a shared machine the wall clock
    counts other processes' turns too; the run is one thread, so its CPU time is its work.
    """

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[tuple[str, float]] = []

    def wrap(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` with its calls' exclusive time added to ``category``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._enter(category)
            try:
                return fn(*args, **kwargs)
            finally:
                self._leave()

        return timed

    def _enter(self, category: str) -> None:
        now = time.process_time()
        if self._stack:
            outer, since = self._stack[-1]
            self.totals[outer] += now - since
        self._stack.append((category, now))

    def _leave(self) -> None:
        now = time.process_time()
        category, since = self._stack.pop()
        self.totals[category] += now - since
        if self._stack:
            outer, _ = self._stack[-1]
            self._stack[-1] = (outer, now)


def install(timers: Timers) -> Callable[[], None]:
    """Wrap every hook; return a function that puts the originals back."""
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in HOOKS]
    for category, owner, name in HOOKS:
        setattr(owner, name, timers.wrap(category, getattr(owner, name)))

    def restore() -> None:
        for owner, name, original in originals:
            setattr(owner, name, original)

    return restore


def one_run(scenario: Any, out: Path, timers: Timers | None) -> tuple[float, float]:
    """One run of ``scenario`` writing into ``out``, as ``run_scenario`` does; its wall time
    and its CPU time (the steadier figure on a shared machine)."""
    study = resolve_study(scenario.study)
    seed, policy = scenario.run.seed, scenario.run.policy
    restore = install(timers) if timers is not None else None
    start, cpu = time.perf_counter(), time.process_time()
    try:
        out.mkdir(parents=True, exist_ok=True)
        log = EventLog(out / "events.jsonl")
        try:
            sim, world = _section(
                timers, "set-up", build, scenario, policy=policy, seed=seed, log=log
            )
            if timers is not None:
                for agent in sim.agents:
                    agent.observe = timers.wrap("agents' decisions", agent.observe)  # type: ignore[method-assign]
            _section(timers, "simulation loop", sim.run)
        finally:
            log.close()
        kinds = {a: g.kind for g in scenario.agents for a in g.agent_names()}

        def report() -> None:
            data = study.summarize(
                sim, world, scenario, policy=policy, seed=seed, label=policy, kinds=kinds
            )
            study.write_run(out, data, scenario, seed)

        _section(timers, "report", report)
    finally:
        if restore is not None:
            restore()
    return time.perf_counter() - start, time.process_time() - cpu


def _section(
    timers: Timers | None, category: str, fn: Callable[..., Any], *a: Any, **kw: Any
) -> Any:
    return fn(*a, **kw) if timers is None else timers.wrap(category, fn)(*a, **kw)


def compare_wall(scenario_path: Path, jobs: int) -> tuple[float, float]:
    """Wall time and CPU time (of all its processes) of ``testbed compare`` on
    ``scenario_path``, in a fresh process."""
    code = "import sys; from agentbed.cli import main; sys.exit(main(sys.argv[1:]))"
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "compare",
                str(scenario_path),
                "--out",
                tmp,
                "--jobs",
                str(jobs),
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return wall, cpu


RUN_ONE = """
import sys, time
from dataclasses import replace
from pathlib import Path
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario
scenario = load_scenario(Path(sys.argv[1]))
scenario = replace(scenario, run=replace(scenario.run, policy=sys.argv[2]))
start = time.process_time()
run_scenario(scenario, Path(sys.argv[3]))
print(time.process_time() - start)
"""
"""One run in a fresh process whose working directory is the tree measured: its CPU time
from the start of ``run_scenario`` (imports of the run's own modules included, as a user's
single run pays them), printed."""


def tree_cpu(tree: Path, scenario_path: Path, policy: str) -> float:
    """CPU seconds of one ``run_scenario`` of ``scenario_path`` under ``policy`` in ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", RUN_ONE, str(scenario_path.resolve()), policy, tmp],
            cwd=tree,
            check=True,
            capture_output=True,
            text=True,
        )
    return float(done.stdout.strip().splitlines()[-1])


def against_baseline(baseline: Path, scenario_path: Path, policy: str, repeat: int) -> None:
    """Time the same run in ``baseline`` and in this tree, alternating, and print the ratio."""
    pairs = []
    for _ in range(repeat):
        pairs.append(
            (tree_cpu(baseline, scenario_path, policy), tree_cpu(ROOT, scenario_path, policy))
        )
    old = statistics.median(p[0] for p in pairs)
    new = statistics.median(p[1] for p in pairs)
    ratios = sorted(a / b for a, b in pairs)
    print(f"one run ({policy}, {scenario_path}), CPU seconds, {repeat} alternating pairs:")
    print(
        f"  baseline {baseline}: median {old:6.2f} s  ({', '.join(f'{p[0]:.2f}' for p in pairs)})"
    )
    print(f"  this tree {ROOT}: median {new:6.2f} s  ({', '.join(f'{p[1]:.2f}' for p in pairs)})")
    print(f"  ratio of medians {old / new:.2f}x  (per pair {ratios[0]:.2f}-{ratios[-1]:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (medians reported)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the comparison")
    parser.add_argument("--no-compare", action="store_true", help="time the single run only")
    parser.add_argument("--policy", help="the single run's policy (default: the scenario's)")
    parser.add_argument(
        "--baseline-tree", type=Path, help="time the same run in this checkout too (alternating)"
    )
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    if args.baseline_tree is not None:
        policy = parse_policy(args.policy).name if args.policy else scenario.run.policy
        against_baseline(args.baseline_tree, args.scenario, policy, args.repeat)
        return
    if args.policy is not None:
        policy = parse_policy(args.policy).name
        scenario = replace(scenario, run=replace(scenario.run, policy=policy))
    runs: list[tuple[float, float]] = []
    timers = Timers()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            last = i == args.repeat - 1
            runs.append(one_run(scenario, Path(tmp) / str(i), timers if last else None))
    print(
        f"one run ({scenario.run.policy}, {scenario.run.blocks} blocks, seed {scenario.run.seed}, "
        f"{args.repeat} repetitions, the last one timed by category):"
    )
    _medians(runs)
    cpu = runs[-1][1]
    print(f"split of the last run ({cpu:.2f} s CPU, exclusive):")
    for key, seconds in sorted(timers.totals.items(), key=lambda kv: -kv[1]):
        print(f"  {key:<22} {seconds:7.2f} s  {seconds / cpu:6.1%}")
    if args.no_compare:
        return
    print(f"compare (testbed compare's default runs and seeds, --jobs {args.jobs}):")
    _medians([compare_wall(args.scenario, args.jobs) for _ in range(args.repeat)])


def _medians(runs: list[tuple[float, float]]) -> None:
    for i, what in enumerate(("wall", "CPU")):
        values = [r[i] for r in runs]
        listed = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {what:<4} median {statistics.median(values):6.2f} s  ({listed})")


if __name__ == "__main__":
    main()
