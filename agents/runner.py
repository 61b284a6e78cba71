"""Running scenarios: one policy into one directory, or several policies side by side.

``run_scenario`` builds a scenario under one ordering policy, runs it with its event log in the
output directory, accounts for it and writes its report. ``compare`` does that for each policy
(in parallel processes when asked; every run depends only on the scenario, the policy and the
seed, so the results are the same either way) and then writes the comparison report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agents.accounting import account_run
from agents.eventlog import EventLog
from agents.report import RunReport, summarize, summary_line, write_comparison, write_run
from agents.scenario import Scenario, build, canonical_policy
from chain.compiler import compile_project

EVENTS = "events.jsonl"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One finished run.

    Attributes:
        report: Its report data.
        out_dir: Where its files are.
        report_path: Its ``report.md``.
        wall_s: Wall-clock seconds it took (not part of any report file).
    """

    report: RunReport
    out_dir: Path
    report_path: Path
    wall_s: float


def run_scenario(
    scenario: Scenario,
    out: Path,
    *,
    policy: str | None = None,
    seed: int | None = None,
    progress: IO[str] | None = None,
) -> RunOutcome:
    """Run ``scenario`` under one policy and write its report into ``out``.

    The event log ``out/events.jsonl`` is written as the run goes (a previous run's log there
    is replaced); if the run is interrupted it keeps every block up to the last one and ends
    with an ``interrupted`` record, and no report files are written.

    Args:
        scenario: The scenario.
        out: Output directory (created if missing).
        policy: Policy short name; default: the scenario's.
        seed: Root seed; default: the scenario's.
        progress: Stream for the simulation's progress bar, or None.

    Raises:
        ValueError: an unknown policy name.
    """
    name = canonical_policy(policy if policy is not None else scenario.run.policy)
    root = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    events = out / EVENTS
    events.unlink(missing_ok=True)  # the log appends; a stale one would mix two runs
    log = EventLog(events)
    try:
        report = simulate(scenario, policy=name, seed=root, log=log, progress=progress)
    finally:
        log.close()
    path = write_run(out, report, scenario, root)
    return RunOutcome(report, out, path, time.perf_counter() - start)


def simulate(
    scenario: Scenario,
    *,
    policy: str,
    seed: int,
    log: EventLog | None = None,
    progress: IO[str] | None = None,
) -> RunReport:
    """Build and run ``scenario`` under ``policy`` with root ``seed``; return its report data.

    Writes no files apart from the event log, when one is given.
    """
    sim, market = build(scenario, policy=policy, seed=seed, log=log, progress=progress)
    sim.run()
    kinds = {agent: group.kind for group in scenario.agents for agent in group.agent_names()}
    account = account_run(
        sim,
        market,
        numeraire=scenario.market.numeraire,
        eth_price=scenario.market.eth_price,
        kinds=kinds,
    )
    return summarize(sim, account, scenario, policy, seed)


def _job(scenario: Scenario, policy: str, seed: int, out: Path) -> RunOutcome:
    # Top-level so that worker processes can import it.
    return run_scenario(scenario, out, policy=policy, seed=seed)


def describe(outcome: RunOutcome) -> str:
    """One line about a finished run, for progress output."""
    report = outcome.report
    return f"{report.policy}: {outcome.wall_s:.1f}s, {summary_line(report.summary)}"


def compare(
    scenario: Scenario,
    policies: Sequence[str],
    out: Path,
    *,
    seed: int | None = None,
    jobs: int = 1,
    echo: Callable[[str], None] | None = None,
    progress: IO[str] | None = None,
) -> tuple[list[RunOutcome], Path]:
    """Run ``scenario`` under each policy with one seed and write the comparison.

    Each run goes to ``out/<policy>/``; the comparison (tables with a policy column, one
    summary, plots, ``report.md``) to ``out``.

    Args:
        scenario: The scenario.
        policies: Policy short names, in report order (no duplicates).
        out: Output directory.
        seed: Root seed; default: the scenario's.
        jobs: Worker processes; 1 runs in this process.
        echo: Called with a line as each run finishes.
        progress: Progress-bar stream for sequential runs.

    Returns:
        The runs in ``policies`` order, and the comparison report's path.

    Raises:
        ValueError: an unknown or repeated policy, or ``jobs < 1``.
    """
    names = [canonical_policy(p) for p in policies]
    if not names:
        raise ValueError("no policies to compare")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"policy listed twice: {', '.join(repeated)}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    root = scenario.run.seed if seed is None else seed
    say = echo or (lambda line: None)
    outcomes: dict[str, RunOutcome] = {}
    if jobs == 1 or len(names) == 1:
        for i, name in enumerate(names, 1):
            say(f"[{i}/{len(names)}] running {name} ...")
            outcomes[name] = run_scenario(
                scenario, out / name, policy=name, seed=root, progress=progress
            )
            say(f"[{i}/{len(names)}] {describe(outcomes[name])}")
    else:
        # Compile (and on a fresh machine install the compiler) once, here, so the workers find
        # a warm cache instead of racing each other to fill it.
        compile_project()
        with ProcessPoolExecutor(max_workers=min(jobs, len(names))) as pool:
            futures: dict[Future[RunOutcome], str] = {
                pool.submit(_job, scenario, name, root, out / name): name for name in names
            }
            say(f"running {len(names)} policies in {min(jobs, len(names))} processes ...")
            try:
                for future in as_completed(futures):
                    outcomes[futures[future]] = future.result()
                    say(f"[{len(outcomes)}/{len(names)}] {describe(outcomes[futures[future]])}")
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    ordered = [outcomes[name] for name in names]
    report = write_comparison(out, [o.report for o in ordered], scenario, root)
    return ordered, report
