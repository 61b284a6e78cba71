"""Reports of market runs: CSV tables, a JSON summary, PNG plots and a Markdown report.

One run's directory holds ``blocks.csv`` (per-block metrics), ``agents.csv`` (per agent),
``victims.csv`` (each victim's loss against its counterfactual), ``summary.json``, the
``events.jsonl`` the run wrote as it went, the plots and ``report.md``. A comparison directory
holds the same tables with ``policy`` and ``seed`` columns, one ``summary.json`` keyed by
policy and seed (with the statistics over the seeds), the
comparison plots (one facet per policy) and a ``report.md`` that opens with "who pays for
ordering" in means with 95% intervals over the seeds, with each run's own directory
(``<policy>/seed<N>/``) beside them.

This module writes those files; what a run measured comes from
``agentbed.agents.market.metrics`` (whose ``RunReport``, ``summarize`` and ``summary_line``
are re-exported here) and the Markdown from ``agentbed.agents.market.markdown``, the files,
tables and plots shared by every study from ``agentbed.agents.reporting``. Every file is
written atomically, so an interrupted report never leaves a half-written file; files with other
names in the output directory are never touched. Without matplotlib the report is written
without its plots and says so. Nothing here reads the wall clock: the same runs give
byte-identical CSV, JSON, Markdown and PNG files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentbed.agents.market.comparison import comparison_text, market_stats
from agentbed.agents.market.markdown import intents_table, report_text
from agentbed.agents.market.metrics import RunReport, summarize, summary_line
from agentbed.agents.reporting.files import summary_text, write_atomic, write_text
from agentbed.agents.reporting.intro import intro_lines
from agentbed.agents.reporting.plots import (
    comparison_subtitle,
    cumulative,
    draw_plots,
    new_figure,
    plot_section,
    save_figure,
    write_chain_plots,
    write_seed_chain_plots,
    write_seed_series,
)
from agentbed.agents.reporting.seeds import seeds_text, stats_json
from agentbed.agents.reporting.tables import write_tables

if TYPE_CHECKING:
    from agentbed.experiments.scenario import Scenario

__all__ = [
    "AGENT_COLUMNS",
    "BLOCK_COLUMNS",
    "PLOTS",
    "TABLES",
    "VICTIM_COLUMNS",
    "RunReport",
    "intents_table",
    "summarize",
    "summary_line",
    "write_atomic",
    "write_comparison",
    "write_plots",
    "write_run",
]

BLOCK_COLUMNS = (
    "block",
    "timestamp_ms",
    "base_fee",
    "gas_used",
    "gas_limit",
    "fullness",
    "txs",
    "reverted",
    "priority_fees",
    "coinbase_transfers",
    "burned",
    "pending_after",
    "mean_wait_ms",
    "victim_loss",
    "searcher_profit",
)
AGENT_COLUMNS = (
    "name",
    "kind",
    "searcher",
    "sent",
    "included",
    "failed",
    "rejected",
    "gas_spent_wei",
    "tips_paid_wei",
    "coinbase_paid_wei",
    "profit",
    "holdings",
)
VICTIM_COLUMNS = (
    "tx",
    "agent",
    "block",
    "fate",
    "class",
    "pool",
    "token_out",
    "actual_out",
    "counterfactual_out",
    "loss",
    "gas_loss_wei",
    "value",
    "attack",
    "attackers",
    "delay_blocks",
    "note",
)
TABLES = (
    ("blocks.csv", BLOCK_COLUMNS, "blocks"),
    ("agents.csv", AGENT_COLUMNS, "agents"),
    ("victims.csv", VICTIM_COLUMNS, "victims"),
)
"""A run's CSV files: (file name, columns, the ``RunReport`` attribute holding the rows)."""
PLOTS = {
    "victim_loss.png": "Cumulative victim loss",
    "searcher_profit.png": "Cumulative searcher profit",
    "base_fee_fullness.png": "Base fee and block fullness",
    "inclusion_delay.png": "Inclusion delay",
}
"""Plot files and their captions."""


def write_plots(out: Path, runs: Sequence[RunReport], numeraire: str) -> list[str]:
    """Write the four plots for ``runs`` (one line per policy); return their file names.

    Raises:
        MatplotlibMissing: matplotlib is not installed (no file is written then).
    """
    fig, (ax,) = new_figure()
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        ax.plot(xs, cumulative(row["victim_loss"] for row in run.blocks), label=run.label)
    ax.set(xlabel="block", ylabel=numeraire, title=PLOTS["victim_loss.png"])
    ax.legend()
    save_figure(fig, out / "victim_loss.png")

    fig, (ax,) = new_figure()
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        ax.plot(xs, cumulative(row["searcher_profit"] for row in run.blocks), label=run.label)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set(xlabel="block", ylabel=numeraire, title=PLOTS["searcher_profit.png"])
    ax.legend()
    save_figure(fig, out / "searcher_profit.png")

    write_chain_plots(out, runs)
    return list(PLOTS)


def setting(scenario: Scenario) -> str:
    """The market's setting in a report's first line: how many pools it trades on."""
    return f"{len(scenario.pools)} pool(s)"


def write_run(out: Path, run: RunReport, scenario: Scenario, seed: int) -> Path:
    """Write one run's tables, summary, plots and report into ``out``; return the report."""
    write_tables(out, TABLES, [run])
    write_text(out / "summary.json", summary_text(run.summary))
    plots = draw_plots(lambda: write_plots(out, [run], run.summary["numeraire"]))
    report = out / "report.md"
    what = f"{run.label} variant" if scenario.variant else f"{run.policy} ordering"
    title = f"{scenario.run.name} ({what})"
    intro = intro_lines(scenario, seed, setting(scenario))
    write_text(report, report_text(title, intro, [run], plot_section(plots, PLOTS)))
    return report


def write_comparison_plots(
    out: Path, runs: Mapping[str, Sequence[RunReport]], subtitle: str, numeraire: str
) -> list[str]:
    """Write the comparison's four plots, one facet per label (mean over the seeds with its
    95% t-interval shaded); return their file names.

    Raises:
        MatplotlibMissing: matplotlib is not installed (no file is written then).
    """
    for name, key in (
        ("victim_loss.png", "victim_loss"),
        ("searcher_profit.png", "searcher_profit"),
    ):
        series = {
            label: [cumulative(row[key] for row in run.blocks) for run in group]
            for label, group in runs.items()
        }
        write_seed_series(
            out / name, series, title=PLOTS[name], subtitle=subtitle, ylabel=numeraire
        )
    write_seed_chain_plots(out, runs, subtitle)
    return list(PLOTS)


def write_comparison(
    out: Path,
    runs: Mapping[str, Sequence[RunReport]],
    scenario: Scenario,
    seeds: Sequence[int],
    *,
    column: str = "policy",
    baseline: str,
) -> Path:
    """Write the comparison over seeds of ``runs`` into ``out``; return the report.

    Each run's own files are expected in ``out/<label>/seed<N>/``. The CSV tables hold every
    run's rows under a first column ``column`` (policy or variant) and a ``seed`` column;
    ``summary.json`` holds each run's summary by label and seed, and the headline metrics'
    means, intervals and seed-paired differences against ``baseline``.
    """
    flat = [r for group in runs.values() for r in group]
    write_tables(out, TABLES, flat, column, seeds=[s for _ in runs for s in seeds])
    metrics, stats = market_stats(runs, baseline)
    summary = {
        "scenario": scenario.run.name,
        "seeds": list(seeds),
        f"{column}s" if column != "policy" else "policies": list(runs),
        "runs": {
            label: {f"seed{s}": r.summary for s, r in zip(seeds, group, strict=True)}
            for label, group in runs.items()
        },
        "statistics": stats_json(stats, baseline),
        "definitions": {m.key: f"{m.title}: {m.definition}" for m in metrics},
    }
    write_text(out / "summary.json", summary_text(summary))
    numeraire = flat[0].summary["numeraire"] if flat else ""
    subtitle = comparison_subtitle(scenario.run.name, seeds)
    plots = draw_plots(lambda: write_comparison_plots(out, runs, subtitle, numeraire))
    intro = [
        *intro_lines(scenario, seeds, setting(scenario)),
        "",
        f"The same scenario and seeds under each {column}; each run's own tables, event log "
        f"and plots are in `<{column}>/seed<N>/`.",
    ]
    report = out / "report.md"
    compared = "ordering policies" if column == "policy" else f"{column}s"
    title = f"{scenario.run.name} ({compared} compared over {seeds_text(len(seeds))})"
    text = comparison_text(
        title,
        intro,
        runs,
        seeds,
        plot_section(plots, PLOTS),
        column=column,
        baseline=baseline,
    )
    write_text(report, text)
    return report
