"""Parameter sweeps: one scenario over a grid of overridden values and several seeds.

A sweep names scenario values by their key path (``run.policy``, ``agents[1].params.slippage_bps``,
the same paths scenario errors use) and a list of values for each. The grid is the cartesian
product of those lists; every cell runs the seeds ``root .. root + N - 1``. Overrides are
written into the parsed TOML data before validation, so an overridden value is checked exactly
like one typed into the file.

Each finished run leaves ``DIR/runs/<cell-id>/seed<N>/summary.json`` (written atomically; the
same content ``testbed run`` writes). A run whose summary exists is not run again, which is what
makes an interrupted sweep resumable. The results table (mean and 95% t-interval per cell and
metric, ``DIR/sweep.csv`` and ``DIR/sweep.md``) is always computed from those files, so a
resumed sweep writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agentbed.agents.config import ScenarioError
from agentbed.agents.reporting.files import summary_text, write_text
from agentbed.experiments.cassettes import per_run_cassettes
from agentbed.experiments.engines import ProcessEngine, RunEngine, RunTask
from agentbed.experiments.grid import (
    BASE_CELL,
    Cell,
    Param,
    SweepError,
    cell_id,
    expand_grid,
    parse_param,
    parse_value,
    value_text,
)
from agentbed.experiments.intervals import (
    CONFIDENCE,
    Interval,
    confidence_interval,
    t_critical,
)
from agentbed.experiments.overrides import apply_overrides
from agentbed.experiments.parse import parse_scenario, read_scenario_toml
from agentbed.experiments.schema import Scenario
from agentbed.experiments.studies import resolve_study

__all__ = [
    "BASE_CELL",
    "CONFIDENCE",
    "Cell",
    "Interval",
    "Param",
    "SweepError",
    "SweepPlan",
    "SweepResult",
    "cell_id",
    "check_metrics",
    "collect_stats",
    "confidence_interval",
    "default_metrics",
    "expand_grid",
    "load_with_overrides",
    "metric_value",
    "parse_param",
    "parse_value",
    "plan_sweep",
    "read_scenario_data",
    "run_summary",
    "run_sweep",
    "summary_text",
    "t_critical",
    "table_csv",
    "table_lines",
    "table_markdown",
    "value_text",
]

RUNS = "runs"
SUMMARY = "summary.json"
MANIFEST = "sweep.json"


def default_metrics(scenario: Scenario) -> tuple[str, ...]:
    """The metrics a sweep of ``scenario`` tabulates unless others are named: its study's."""
    return resolve_study(scenario.study).metrics


# ---------------------------------------------------------------------------------------------
# Overriding scenario values
# ---------------------------------------------------------------------------------------------


def read_scenario_data(path: str | Path) -> dict[str, Any]:
    """The parsed TOML of a scenario file that :func:`load_scenario` accepts.

    Raises:
        ScenarioError: the file is unreadable, not TOML, or breaks the schema.
    """
    data = read_scenario_toml(path)
    parse_scenario(data, str(path))  # one-line errors for a broken file, before any override
    return data


def load_with_overrides(path: str | Path, overrides: Sequence[tuple[str, Any]]) -> Scenario:
    """Load a scenario file with key paths set to other values, validated like the file.

    Raises:
        ScenarioError: the file is broken, or an override names a bad key or value (the
            message names its key path).
    """
    return parse_scenario(
        apply_overrides(read_scenario_data(path), overrides, str(path)), str(path)
    )


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """A validated sweep: which scenario per cell, which seeds, where the files go.

    Attributes:
        path: The scenario file.
        params: The swept parameters.
        cells: The grid, in table order.
        scenarios: The validated scenario of each cell, by cell id.
        seeds: Root seeds every cell runs.
        out: Output directory.
        scenario_sha256: Digest of the scenario file, recorded so that a later sweep into the
            same directory does not reuse runs of a different file.
    """

    path: str
    params: tuple[Param, ...]
    cells: tuple[Cell, ...]
    scenarios: Mapping[str, Scenario]
    seeds: tuple[int, ...]
    out: Path
    scenario_sha256: str

    @property
    def total(self) -> int:
        """Number of runs (cells times seeds)."""
        return len(self.cells) * len(self.seeds)

    def summary_path(self, cell: Cell, seed: int) -> Path:
        """``out/runs/<cell-id>/seed<N>/summary.json``."""
        return self.out / RUNS / cell.id / f"seed{seed}" / SUMMARY

    def runs(self) -> Iterator[tuple[Cell, int]]:
        """Every (cell, seed), cell by cell."""
        for cell in self.cells:
            for seed in self.seeds:
                yield cell, seed

    def done(self) -> int:
        """How many runs already have their summary."""
        return sum(1 for cell, seed in self.runs() if self.summary_path(cell, seed).exists())


def plan_sweep(
    path: str | Path,
    params: Sequence[Param],
    *,
    seeds: int,
    out: Path,
    root: int | None = None,
) -> SweepPlan:
    """Expand and validate a sweep before anything runs.

    Args:
        path: The scenario file.
        params: The swept parameters (none: one cell, seeds only).
        seeds: Seeds per cell (>= 1).
        out: Output directory.
        root: First seed; default: the scenario's ``run.seed``.

    Raises:
        ScenarioError: the scenario file itself is broken.
        SweepError: ``seeds < 1``, a key path given twice, or a cell that fails validation
            (the message names the ``--param`` and the key path).
    """
    if seeds < 1:
        raise SweepError(f"--seeds must be >= 1, got {seeds}")
    if root is not None and root < 0:
        raise SweepError(f"--seed must be >= 0, got {root}")
    file = str(path)
    data = read_scenario_toml(file)
    base = parse_scenario(data, file)
    cells = expand_grid(params)
    scenarios: dict[str, Scenario] = {}
    for cell in cells:
        try:
            scenarios[cell.id] = parse_scenario(apply_overrides(data, cell.overrides, file), file)
        except ScenarioError as err:
            raise SweepError(f"{_culprit(cell, err.key)}: {err}") from None
    first = base.run.seed if root is None else root
    digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    return SweepPlan(
        file,
        tuple(params),
        cells,
        scenarios,
        tuple(range(first, first + seeds)),
        out,
        digest,
    )


def _culprit(cell: Cell, key: str) -> str:
    """The ``--param KEY=VALUE`` behind a validation error at ``key``, else the whole cell."""
    for name, value in cell.overrides:
        inside = key == name or key.startswith((f"{name}.", f"{name}["))
        if inside or (key and name.startswith((f"{key}.", f"{key}["))):
            return f"--param {name}={value_text(value)}"
    return f"cell {cell.label}"


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def run_summary(
    scenario: Scenario, seed: int, *, progress: IO[str] | None = None
) -> dict[str, Any]:
    """Run ``scenario`` with root seed ``seed`` and return its summary, writing no files.

    The numbers are those :func:`agentbed.experiments.runner.run_scenario` writes to
    ``summary.json``.
    """
    from agentbed.experiments.runner import simulate

    return simulate(scenario, policy=scenario.run.policy, seed=seed, progress=progress).summary


def _run_job(
    out: Path, scenario: Scenario, seed: int, *, progress: IO[str] | None = None
) -> tuple[dict[str, Any], float]:
    # Top-level so that worker processes can import it. A local worker writes the file itself:
    # a run that finished is kept even if the parent is interrupted before it hears of it (on
    # Ray the job writes into a scratch directory and the caller writes what it made).
    start = time.perf_counter()
    summary = run_summary(scenario, seed, progress=progress)
    write_text(out / SUMMARY, summary_text(summary))
    return summary, time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A finished sweep.

    Attributes:
        plan: What ran.
        metrics: The table's metrics.
        stats: Per cell (in grid order), per metric, the interval over the seeds.
        csv_path: ``sweep.csv``.
        md_path: ``sweep.md``.
        reused: Runs whose summary was already there.
        ran: Runs done now.
        wall_s: Wall-clock seconds (not part of any file).
    """

    plan: SweepPlan
    metrics: tuple[str, ...]
    stats: tuple[tuple[Interval, ...], ...]
    csv_path: Path
    md_path: Path
    reused: int
    ran: int
    wall_s: float


def _check_manifest(plan: SweepPlan) -> None:
    manifest = plan.out / MANIFEST
    if not manifest.exists():
        return
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8")).get("scenario_sha256")
    except (OSError, ValueError, AttributeError):
        raise SweepError(f"{manifest} is unreadable; remove it or use another --out") from None
    if recorded != plan.scenario_sha256:
        raise SweepError(
            f"{plan.out} holds runs of a different version of {Path(plan.path).name}; "
            "use another --out, or remove the directory to start over"
        )


def _manifest_text(plan: SweepPlan, metrics: Sequence[str]) -> str:
    data = {
        "scenario": Path(plan.path).name,
        "scenario_sha256": plan.scenario_sha256,
        "params": {p.key: [value_text(v) for v in p.values] for p in plan.params},
        "seeds": list(plan.seeds),
        "metrics": list(metrics),
    }
    return json.dumps(data, indent=2) + "\n"


def run_sweep(
    plan: SweepPlan,
    *,
    metrics: Sequence[str] | None = None,
    jobs: int = 1,
    engine: RunEngine | None = None,
    echo: Callable[[str], None] | None = None,
    progress: IO[str] | None = None,
) -> SweepResult:
    """Run every missing (cell, seed) of ``plan``, then write the results table.

    Runs whose ``summary.json`` exists are reused. With ``jobs > 1`` the runs go to a pool of
    worker processes, with a Ray ``engine`` to a cluster; results do not depend on either. On
    Ctrl-C the workers are stopped and the ``KeyboardInterrupt`` propagates; every run
    finished until then is kept (:meth:`SweepPlan.done` counts them) and the next sweep into
    the same directory resumes, whichever engine it uses.

    Args:
        plan: The sweep.
        metrics: Key paths into ``summary.json`` for the table; default: the study's
            (:func:`default_metrics`).
        jobs: Worker processes; 1 runs in this process. Used when ``engine`` is None.
        engine: Where the runs go (:mod:`agentbed.experiments.engines`); default: a
            :class:`ProcessEngine` of ``jobs`` processes.
        echo: Called with a line as each run finishes (and about reused runs).
        progress: Progress-bar stream for runs in this process.

    Raises:
        SweepError: ``jobs < 1``, no metrics, a metric that is not a number in the summaries,
            or an output directory holding runs of another version of the scenario file.
        RunFailed: a run raised (the message names its cell and seed).
    """
    if jobs < 1:
        raise SweepError(f"--jobs must be >= 1, got {jobs}")
    engine = engine or ProcessEngine(jobs)
    first = next(iter(plan.scenarios.values()))
    metrics = tuple(default_metrics(first) if metrics is None else metrics)
    if not metrics:
        raise SweepError("no metrics to tabulate")
    say = echo or (lambda line: None)
    start = time.perf_counter()
    _check_manifest(plan)
    write_text(plan.out / MANIFEST, _manifest_text(plan, metrics))
    todo = [(c, s) for c, s in plan.runs() if not plan.summary_path(c, s).exists()]
    reused = plan.total - len(todo)
    if reused:
        say(f"reusing {reused} of {plan.total} runs found in {plan.out / RUNS}")
        cell, seed = next((c, s) for c, s in plan.runs() if plan.summary_path(c, s).exists())
        check_metrics(_read_summary(plan.summary_path(cell, seed)), metrics)
    finished = _run_missing(plan, todo, metrics, reused, engine, say, progress)
    stats = collect_stats(plan, metrics)
    csv_path, md_path = plan.out / "sweep.csv", plan.out / "sweep.md"
    write_text(csv_path, table_csv(plan, metrics, stats))
    write_text(md_path, table_markdown(plan, metrics, stats))
    return SweepResult(
        plan, metrics, stats, csv_path, md_path, reused, finished, time.perf_counter() - start
    )


def _run_missing(
    plan: SweepPlan,
    todo: Sequence[tuple[Cell, int]],
    metrics: Sequence[str],
    reused: int,
    engine: RunEngine,
    say: Callable[[str], None],
    progress: IO[str] | None,
) -> int:
    """Run ``todo`` on ``engine``, saying a line as each run finishes; return how many ran.

    The metrics are checked against the first summary (unless reused runs were checked).
    """
    tasks = [
        RunTask(
            f"{c.label} seed {s}",
            plan.summary_path(c, s).parent,
            (per_run_cassettes(plan.scenarios[c.id], c.id, f"seed{s}"), s),
        )
        for c, s in todo
    ]
    lines = [resolve_study(plan.scenarios[c.id].study).summary_line for c, _ in todo]
    finished = 0
    checked = reused > 0

    def record(index: int, result: tuple[dict[str, Any], float]) -> None:
        nonlocal finished, checked
        summary, wall_s = result
        finished += 1
        count = f"[{reused + finished}/{plan.total}]"
        say(f"{count} {tasks[index].name}: {wall_s:.1f}s, {lines[index](summary)}")
        if not checked:
            check_metrics(summary, metrics)
            checked = True

    engine.run(_run_job, tasks, record, say=say, progress=progress)
    return finished


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


def metric_value(summary: Mapping[str, Any], metric: str) -> float:
    """The number at key path ``metric`` (``inclusion_delay_ms.mean``) of a summary.

    Raises:
        SweepError: the path does not exist or does not lead to a number.
    """
    node: Any = summary
    for depth, name in enumerate(metric.split(".")):
        if not isinstance(node, Mapping) or name not in node:
            where = ".".join(metric.split(".")[:depth]) or "summary.json"
            keys = ", ".join(sorted(node)) if isinstance(node, Mapping) else "none"
            raise SweepError(f"--metric {metric}: no {name!r} in {where} (keys: {keys})")
        node = node[name]
    if isinstance(node, bool) or not isinstance(node, int | float):
        hint = f" (keys: {', '.join(sorted(node))})" if isinstance(node, Mapping) else ""
        raise SweepError(f"--metric {metric}: not a number in summary.json{hint}")
    return float(node)


def check_metrics(summary: Mapping[str, Any], metrics: Sequence[str]) -> None:
    """Raise :class:`SweepError` unless every metric is a number in ``summary``."""
    for metric in metrics:
        metric_value(summary, metric)


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SweepError(f"{path}: unreadable ({err}); remove it to run it again") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: not a run summary; remove it to run it again")
    return data


def collect_stats(plan: SweepPlan, metrics: Sequence[str]) -> tuple[tuple[Interval, ...], ...]:
    """Per cell and metric, the interval over the seeds, read from the summaries on disk."""
    stats = []
    for cell in plan.cells:
        summaries = [_read_summary(plan.summary_path(cell, seed)) for seed in plan.seeds]
        stats.append(
            tuple(
                confidence_interval([metric_value(s, metric) for s in summaries])
                for metric in metrics
            )
        )
    return tuple(stats)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

NOT_AVAILABLE = "n/a"


def table_csv(plan: SweepPlan, metrics: Sequence[str], stats: Sequence[Sequence[Interval]]) -> str:
    """``sweep.csv``: one row per cell and metric (long format), numbers at full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = [p.key for p in plan.params]
    writer.writerow(["cell", *keys, "metric", "seeds", "mean", "ci95_low", "ci95_high"])
    for cell, intervals in zip(plan.cells, stats, strict=True):
        values = [value_text(v) for _, v in cell.overrides]
        for metric, interval in zip(metrics, intervals, strict=True):
            writer.writerow(
                [
                    cell.id,
                    *values,
                    metric,
                    interval.n,
                    repr(interval.mean),
                    NOT_AVAILABLE if interval.low is None else repr(interval.low),
                    NOT_AVAILABLE if interval.high is None else repr(interval.high),
                ]
            )
    return buffer.getvalue()


def _decimals(value: float) -> int:
    """Decimals that show about four significant digits of ``value`` (one above 100)."""
    size = abs(value)
    if size == 0:
        return 0
    if size >= 100:
        return 1
    if size >= 1:
        return 3
    return 2 - math.floor(math.log10(size))


def _entry(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return f"{interval.mean:,.{_decimals(interval.mean)}f} ± {NOT_AVAILABLE}"
    half = (interval.high - interval.low) / 2
    # Mean and half-width to the same decimals, set by the mean (by the spread if it is 0).
    places = _decimals(interval.mean or half)
    return f"{interval.mean:,.{places}f} ± {half:,.{places}f}"


def table_lines(
    plan: SweepPlan, metrics: Sequence[str], stats: Sequence[Sequence[Interval]]
) -> list[str]:
    """The results table in Markdown: a row per cell, ``mean ± half-width`` per metric."""
    keys = [p.key for p in plan.params] or ["cell"]
    header = [*keys, *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for cell, intervals in zip(plan.cells, stats, strict=True):
        values = [value_text(v) for _, v in cell.overrides] or [cell.id]
        lines.append("| " + " | ".join([*values, *(_entry(i) for i in intervals)]) + " |")
    return lines


def table_markdown(
    plan: SweepPlan, metrics: Sequence[str], stats: Sequence[Sequence[Interval]]
) -> str:
    """``sweep.md``: a title, what the numbers are, and the table."""
    first, last = plan.seeds[0], plan.seeds[-1]
    seeds = f"seed {first}" if first == last else f"seeds {first}..{last}"
    cells = f"{len(plan.cells)} cell{'s' if len(plan.cells) > 1 else ''}"
    lines = [
        f"# Sweep of {Path(plan.path).name}",
        "",
        f"{cells}, {seeds} in each ({len(plan.seeds)} runs per cell). Each "
        "entry is the mean over the seeds ± the half-width of its two-sided 95% t-interval "
        f"({NOT_AVAILABLE} with one seed). Runs: `runs/<cell>/seed<N>/summary.json`.",
        "",
        *table_lines(plan, metrics, stats),
    ]
    return "\n".join(lines) + "\n"
