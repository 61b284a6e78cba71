"""Running scenarios: one run into one directory, or several runs side by side.

``run_scenario`` builds a scenario under one ordering policy, runs it with its event log in the
output directory, and has the scenario's study summarize it and write its report. ``compare``
does that for each of several runs -- the same scenario under different policies
(``policy_runs``) or the scenario's variants (``variant_runs``) -- and each of several seeds,
in parallel processes or on a Ray cluster when asked (:mod:`.engines`; every run depends only
on its scenario, policy and seed, so the results are the same either way), then has the study
write the comparison over the seeds.

Policies are canonical names here (:data:`agentbed.chain.ordering.POLICY_NAMES`): user input is
read with :func:`agentbed.chain.ordering.parse_policy` where it enters (the scenario file, the
command line).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from agentbed.agents.eventlog import EventLog
from agentbed.agents.reporting.agent_sections import agent_sections
from agentbed.agents.study import StudyReport
from agentbed.experiments.build import build
from agentbed.experiments.cassettes import per_run_cassettes
from agentbed.experiments.engines import ProcessEngine, RunEngine, RunTask
from agentbed.experiments.schema import Scenario
from agentbed.experiments.studies import resolve_study

EVENTS = "events.jsonl"
BASE = "base"
"""The label of a scenario file as written, beside its variants."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One finished run.

    Attributes:
        report: Its report data, the study's (``Study.summarize``).
        out_dir: Where its files are.
        report_path: Its ``report.md``.
        wall_s: Wall-clock seconds it took (not part of any report file).
        line: The study's one-line summary of the run (``Study.summary_line``).
    """

    report: StudyReport
    out_dir: Path
    report_path: Path
    wall_s: float
    line: str = ""


def run_scenario(
    scenario: Scenario,
    out: Path,
    *,
    policy: str | None = None,
    seed: int | None = None,
    label: str | None = None,
    progress: IO[str] | None = None,
) -> RunOutcome:
    """Run ``scenario`` under one policy and write its report into ``out``.

    The event log ``out/events.jsonl`` is written as the run goes (a previous run's log there
    is replaced); if the run is interrupted it keeps every block up to the last one and ends
    with an ``interrupted`` record, and no report files are written.

    Args:
        scenario: The scenario (or one of its variants).
        out: Output directory (created if missing).
        policy: Canonical policy name; default: the scenario's.
        seed: Root seed; default: the scenario's.
        label: The run's name in comparisons; default: the variant's name, else the policy.
        progress: Stream for the simulation's progress bar, or None.

    Raises:
        ValueError: ``policy`` is not a canonical policy name.
    """
    name = scenario.policy_spec(policy).name
    study = resolve_study(scenario.study)
    root = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    events = out / EVENTS
    events.unlink(missing_ok=True)  # the log appends; a stale one would mix two runs
    log = EventLog(events)
    try:
        report = simulate(scenario, policy=name, seed=root, label=label, log=log, progress=progress)
    finally:
        log.close()
    path = study.write_run(out, report, scenario, root)
    line = study.summary_line(report.summary)
    return RunOutcome(report, out, path, time.perf_counter() - start, line)


def simulate(
    scenario: Scenario,
    *,
    policy: str,
    seed: int,
    label: str | None = None,
    log: EventLog | None = None,
    progress: IO[str] | None = None,
) -> StudyReport:
    """Build and run ``scenario`` under ``policy`` (a canonical name) with root ``seed``; return
    the study's report data (``Study.summarize``).

    Writes no files apart from the event log, when one is given.
    """
    study = resolve_study(scenario.study)
    sim, world = build(scenario, policy=policy, seed=seed, log=log, progress=progress)
    sim.run()
    kinds = {agent: group.kind for group in scenario.agents for agent in group.agent_names()}
    name = label or scenario.variant or policy
    report = study.summarize(
        sim, world, scenario, policy=policy, seed=seed, label=name, kinds=kinds
    )
    # Agents with numbers of their own (e.g. a language model's tokens) add their sections.
    report.summary.update(agent_sections(sim.agents))
    return report


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a comparison.

    Attributes:
        label: Its name in the comparison and its directory's name.
        scenario: The scenario (or variant) it runs.
        policy: The ordering policy's short name.
    """

    label: str
    scenario: Scenario
    policy: str


def _job(out: Path, spec: RunSpec, seed: int, *, progress: IO[str] | None = None) -> RunOutcome:
    # Top-level so that worker processes can import it. Each run has its own cassettes.
    scenario = per_run_cassettes(spec.scenario, spec.label, f"seed{seed}")
    return run_scenario(
        scenario, out, policy=spec.policy, seed=seed, label=spec.label, progress=progress
    )


def describe(outcome: RunOutcome, seed: int | None = None) -> str:
    """One line about a finished run (of ``seed``, in a comparison), for progress output."""
    name = outcome.report.label if seed is None else f"{outcome.report.label} seed {seed}"
    return f"{name}: {outcome.wall_s:.1f}s, {outcome.line}"


def policy_runs(scenario: Scenario, policies: Sequence[str]) -> list[RunSpec]:
    """The runs comparing ``policies`` (canonical names) on ``scenario``.

    Raises:
        ValueError: a name that is not a canonical policy, a repeated policy, or none.
    """
    names = list(policies)
    if not names:
        raise ValueError("no policies to compare")
    for name in names:
        scenario.policy_spec(name)  # the one-line error of an unknown name, before any run
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"policy listed twice: {', '.join(repeated)}")
    return [RunSpec(name, scenario, name) for name in names]


def variant_runs(
    scenario: Scenario, variants: Sequence[str], policy: str | None = None
) -> list[RunSpec]:
    """The runs comparing ``variants`` of ``scenario`` (``BASE`` is the file as written).

    Raises:
        ValueError: an unknown or repeated variant, or none.
    """
    if not variants:
        raise ValueError("no variants to compare")
    repeated = sorted({v for v in variants if list(variants).count(v) > 1})
    if repeated:
        raise ValueError(f"variant listed twice: {', '.join(repeated)}")
    runs = []
    for name in variants:
        chosen = scenario if name == BASE else scenario.variant_named(name)
        runs.append(RunSpec(name, chosen, policy or chosen.run.policy))
    return runs


MAX_SEEDS = 1000
"""The most seeds a comparison runs: beyond it a typo (``--seeds 10**9``), not a study."""


def seed_range(root: int, seeds: int) -> tuple[int, ...]:
    """The seeds ``root .. root + seeds - 1`` a comparison runs.

    Raises:
        ValueError: ``seeds`` outside ``1 .. MAX_SEEDS`` or ``root < 0``.
    """
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"--seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
    if root < 0:
        raise ValueError(f"--seed must be >= 0, got {root}")
    return tuple(range(root, root + seeds))


def run_dir(out: Path, label: str, seed: int) -> Path:
    """Where one run of a comparison goes: ``out/<label>/seed<N>/``."""
    return out / label / f"seed{seed}"


def default_baseline(runs: Sequence[RunSpec]) -> str:
    """The label differences are taken against unless told: ``fifo`` among policies (arrival
    order, the ordering without fee or payment power, so a difference reads as what that power
    changes), ``base`` among variants (the file as written), else the first run."""
    labels = [r.label for r in runs]
    for name in ("fifo", BASE):
        if name in labels:
            return name
    return labels[0]


def compare(
    scenario: Scenario,
    runs: Sequence[RunSpec],
    out: Path,
    *,
    seed: int | None = None,
    seeds: int = 1,
    baseline: str | None = None,
    jobs: int = 1,
    engine: RunEngine | None = None,
    echo: Callable[[str], None] | None = None,
    progress: IO[str] | None = None,
) -> tuple[list[RunOutcome], Path]:
    """Run each of ``runs`` with each seed and write the comparison over the seeds.

    Each run goes to ``out/<label>/seed<N>/`` (:func:`run_dir`); the comparison (tables with a
    policy or variant column and a seed column, one summary with means, intervals and
    seed-paired differences against ``baseline``, plots, ``report.md``) to ``out``. Build
    ``runs`` with :func:`policy_runs` or :func:`variant_runs`.

    Args:
        scenario: The scenario file's scenario (for the report's introduction).
        runs: The runs, in report order (distinct labels).
        out: Output directory.
        seed: First root seed; default: the scenario's.
        seeds: How many seeds each run has: ``seed .. seed + seeds - 1``.
        baseline: The label paired differences are taken against; default
            :func:`default_baseline`.
        jobs: Worker processes; 1 runs in this process. Used when ``engine`` is None.
        engine: Where the runs go (:mod:`agentbed.experiments.engines`); default: a
            :class:`ProcessEngine` of ``jobs`` processes. Results do not depend on it.
        echo: Called with a line as each run finishes.
        progress: Progress-bar stream for sequential runs.

    Returns:
        The runs, label by label and seed by seed within a label, and the report's path.

    Raises:
        ValueError: no runs, repeated labels, a baseline that is not a label, ``seeds``
            outside ``1 .. MAX_SEEDS`` or ``jobs < 1`` (before anything runs).
        RunFailed: a run raised (the message names its label and seed).
    """
    labels = [r.label for r in runs]
    if not runs:
        raise ValueError("nothing to compare")
    if len(set(labels)) < len(labels):
        raise ValueError(f"run labels repeat: {', '.join(labels)}")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    chosen = seed_range(scenario.run.seed if seed is None else seed, seeds)
    base = default_baseline(runs) if baseline is None else baseline
    if base not in labels:
        raise ValueError(f"--baseline {base!r} is not compared; compared: {', '.join(labels)}")
    tasks = [(spec, s) for spec in runs for s in chosen]
    say = echo or (lambda line: None)
    outcomes = _run_all(tasks, out, engine or ProcessEngine(jobs), say, progress)
    ordered = [outcomes[spec.label, s] for spec, s in tasks]
    by_variant = any(spec.scenario.variant or spec.label == BASE for spec in runs) and (
        len({spec.policy for spec in runs}) == 1
    )
    column = "variant" if by_variant else "policy"
    study = resolve_study(scenario.study)
    grouped = {spec.label: [outcomes[spec.label, s].report for s in chosen] for spec in runs}
    report = study.write_comparison(out, grouped, scenario, chosen, column=column, baseline=base)
    return ordered, report


Task = tuple[RunSpec, int]


def _run_all(
    tasks: Sequence[Task],
    out: Path,
    engine: RunEngine,
    say: Callable[[str], None],
    progress: IO[str] | None,
) -> dict[tuple[str, int], RunOutcome]:
    """Every run on ``engine``, each into :func:`run_dir`, by (label, seed)."""
    runs = [
        RunTask(f"{spec.label} seed {seed}", run_dir(out, spec.label, seed), (spec, seed))
        for spec, seed in tasks
    ]
    outcomes: dict[tuple[str, int], RunOutcome] = {}

    def starting(index: int) -> None:
        say(f"[{index + 1}/{len(runs)}] running {runs[index].name} ...")

    def record(index: int, outcome: RunOutcome) -> None:
        spec, seed = tasks[index]
        # The run may have been made elsewhere (another node's scratch directory): its files
        # are now in its run directory, and so are its paths.
        where = runs[index].out
        outcome = replace(
            outcome,
            out_dir=where,
            report_path=where / outcome.report_path.relative_to(outcome.out_dir),
        )
        outcomes[spec.label, seed] = outcome
        say(f"[{len(outcomes)}/{len(runs)}] {describe(outcome, seed)}")

    engine.run(_job, runs, record, say=say, progress=progress, starting=starting)
    return outcomes
