"""Reports of commitment-economy runs: CSV tables, a JSON summary, PNG plots and Markdown.

The escrow-market counterpart of ``agentbed.agents.market.report``, with the same output shape.
One run's directory holds ``blocks.csv`` (per block: fees, fullness, cumulative outcomes, the
Gini coefficient of the agents' holdings and how well reputation separates honest from
dishonest sellers), ``agents.csv`` (per agent: transactions and net result), ``deals.csv`` (one
row per agreement), ``summary.json``, the plots and ``report.md``. A comparison directory holds
the same tables with a first column naming the run (a variant or a policy), one
``summary.json`` keyed by that name, plots with one line per run and a ``report.md`` with one
row per run.

This module writes those files. What a run measured comes from the named metrics of
``agentbed.agents.economy.metrics``, gathered by ``agentbed.agents.economy.collector`` (whose
``summarize_economy`` and ``EconomyReport`` are re-exported here); the Markdown from
``agentbed.agents.economy.markdown``; files, tables and plots shared by every study from
``agentbed.agents.reporting``. Without matplotlib the report is written without its plots and
says so. Nothing here reads the wall clock or a global random state: the same run gives
byte-identical CSV, JSON, Markdown and PNG files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Final

from agentbed.agents.economy.collector import EconomyReport, summarize_economy
from agentbed.agents.economy.markdown import report_text
from agentbed.agents.economy.metrics import attested_records, auc, gini
from agentbed.agents.reporting.files import summary_text, write_text
from agentbed.agents.reporting.plots import (
    comparison_subtitle,
    draw_plots,
    new_figure,
    plot_section,
    save_figure,
    write_chain_plots,
    write_seed_chain_plots,
    write_seed_series,
)
from agentbed.agents.reporting.seeds import (
    NONE,
    SHARE,
    Metric,
    seed_stats,
    seeds_text,
    stats_json,
    stats_table,
)
from agentbed.agents.reporting.tables import number_text, percent_text, write_tables

__all__ = [
    "AGENT_COLUMNS",
    "BLOCK_COLUMNS",
    "DEAL_COLUMNS",
    "PLOTS",
    "TABLES",
    "EconomyReport",
    "attested_records",
    "auc",
    "economy_summary_line",
    "gini",
    "summarize_economy",
    "write_economy_comparison",
    "write_economy_plots",
    "write_economy_run",
]

BLOCK_COLUMNS: Final = (
    "block",
    "timestamp_ms",
    "base_fee",
    "gas_used",
    "gas_limit",
    "fullness",
    "txs",
    "reverted",
    "pending_after",
    "mean_wait_ms",
    "released",
    "timed_out",
    "disputed",
    "gini",
    "auc",
)
AGENT_COLUMNS: Final = (
    "name",
    "kind",
    "role",
    "behaviour",
    "economy",
    "sent",
    "included",
    "failed",
    "rejected",
    "priced_out",
    "mean_wait_ms",
    "gas_spent_wei",
    "balance_change",
    "stake_change",
    "service_value",
    "delivery_cost",
    "outside_gains",
    "net",
)
DEAL_COLUMNS: Final = (
    "id",
    "buyer",
    "seller",
    "seller_behaviour",
    "arbitrator",
    "price",
    "state",
    "delivered",
    "proposed_block",
    "closed_block",
    "slashed",
    "to_proposer",
    "planned_default",
)
TABLES: Final = (
    ("blocks.csv", BLOCK_COLUMNS, "blocks"),
    ("agents.csv", AGENT_COLUMNS, "agents"),
    ("deals.csv", DEAL_COLUMNS, "deals"),
)
"""A run's CSV files: (file name, columns, the ``EconomyReport`` attribute holding the rows)."""
PLOTS: Final = {
    "outcomes.png": "Cumulative outcomes",
    "gini.png": "Gini coefficient of holdings",
    "auc.png": "Reputation AUC (honest vs dishonest sellers)",
    "base_fee_fullness.png": "Base fee and block fullness",
    "inclusion_delay.png": "Inclusion delay",
}
"""Plot files and their captions."""


def economy_summary_line(summary: Mapping[str, Any]) -> str:
    """One line about an economy run's summary, for progress output."""
    deals = summary["deals"]
    welfare = summary["welfare"]
    return (
        f"{deals['proposed']} deals: {percent_text(summary['settlement_rate'])} settled, "
        f"{percent_text(summary['timeout_rate'])} timed out, "
        f"{percent_text(summary['dispute_rate'])} disputed; "
        f"welfare {number_text(welfare['total'])} (slashed {number_text(welfare['slashed'])}); "
        f"Gini {summary['gini']['last']:.3f}; AUC {summary['auc']['last']:.2f}"
    )


def write_economy_plots(out: Path, reports: Sequence[EconomyReport]) -> list[str]:
    """Write the five plots for ``reports`` (one line per run); return their file names.

    Raises:
        MatplotlibMissing: matplotlib is not installed (no file is written then).
    """
    outcomes = (("released", "Released"), ("timed_out", "Timed out"), ("disputed", "Disputed"))
    fig, axes = new_figure(len(outcomes))
    for ax, (key, title) in zip(axes, outcomes, strict=True):
        for run in reports:
            ax.plot([r["block"] for r in run.blocks], [r[key] for r in run.blocks], label=run.label)
        ax.set(xlabel="block", ylabel="agreements", title=f"{title} (cumulative)")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    save_figure(fig, out / "outcomes.png")

    fig, (ax,) = new_figure()
    for run in reports:
        points = [(r["block"], r["gini"]) for r in run.blocks if r["gini"] != ""]
        ax.plot([b for b, _ in points], [g for _, g in points], label=run.label)
    # Holdings of a short run differ by little: scale to the data, from 0.
    ax.set(xlabel="block", ylabel="Gini", title=PLOTS["gini.png"])
    ax.set_ylim(bottom=0)
    ax.legend()
    save_figure(fig, out / "gini.png")

    fig, (ax,) = new_figure()
    for run in reports:
        ax.plot([r["block"] for r in run.blocks], [r["auc"] for r in run.blocks], label=run.label)
    ax.axhline(0.5, color="grey", linewidth=0.5)
    ax.set(xlabel="block", ylabel="AUC", title=PLOTS["auc.png"], ylim=(0, 1.02))
    ax.legend()
    save_figure(fig, out / "auc.png")

    write_chain_plots(out, reports)
    return list(PLOTS)


def write_economy_run(
    out: Path, report: EconomyReport, *, title: str, intro: Sequence[str]
) -> Path:
    """Write one run's tables, summary, plots and report into ``out``; return the report."""
    write_tables(out, TABLES, [report])
    write_text(out / "summary.json", summary_text(report.summary))
    plots = draw_plots(lambda: write_economy_plots(out, [report]))
    path = out / "report.md"
    write_text(path, report_text(title, intro, [report], plot_section(plots, PLOTS), "run"))
    return path


def _path_value(summary: Mapping[str, Any], path: str) -> float | None:
    value: Any = summary
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


HEADLINES: Final = (
    ("settlement_rate", "settlement", percent_text),
    ("timeout_rate", "timeouts", percent_text),
    ("dispute_rate", "disputes", percent_text),
    ("default_rate", "defaults", percent_text),
    ("welfare.total", "welfare", number_text),
    ("welfare.slashed", "slashed", number_text),
    ("broken_commitments", "broken commitments", number_text),
    ("gini.last", "Gini last", lambda v: f"{v:.3f}"),
    ("auc.last", "AUC last", lambda v: f"{v:.2f}"),
    ("safety.toxicity", "toxicity", lambda v: f"{v:.3f}"),
    ("safety.quality_gap", "quality gap", lambda v: f"{v:.3f}"),
    ("safety.brier", "Brier", lambda v: f"{v:.3f}"),
)
"""The economy's headline numbers over seeds: (key path, title, format); defined in
``DEFINITIONS`` of :mod:`agentbed.agents.economy.markdown`."""


def economy_metrics() -> tuple[Metric, ...]:
    """The headline numbers as metrics of a comparison over seeds."""
    return tuple(
        Metric(
            key,
            title,
            "see the definitions below.",
            partial(_path_value, path=key),
            fmt,
            # Rates, Gini and AUC all lie in [0, 1].
            bounds=SHARE
            if fmt is percent_text or key in ("gini.last", "auc.last", "safety.toxicity")
            else NONE,
        )
        for key, title, fmt in HEADLINES
    )


def write_economy_seed_plots(
    out: Path, runs: Mapping[str, Sequence[EconomyReport]], subtitle: str
) -> list[str]:
    """The comparison's plots, one facet per label, means over seeds with 95% t-intervals.

    Raises:
        MatplotlibMissing: matplotlib is not installed (no file is written then).
    """
    for key, title in (("released", "Released"), ("timed_out", "Timed out")):
        series = {
            label: [[float(r[key]) for r in run.blocks] for run in group]
            for label, group in runs.items()
        }
        write_seed_series(
            out / f"{key}.png",
            series,
            title=f"{title} (cumulative)",
            subtitle=subtitle,
            ylabel="agreements",
        )
    for key in ("gini", "auc"):
        series = {
            label: [
                [float(r[key]) if r[key] != "" else math.nan for r in run.blocks] for run in group
            ]
            for label, group in runs.items()
        }
        name = f"{key}.png"
        write_seed_series(out / name, series, title=PLOTS[name], subtitle=subtitle, ylabel=key)
    chain = write_seed_chain_plots(out, runs, subtitle)
    return ["released.png", "timed_out.png", "gini.png", "auc.png", *chain]


SEED_PLOTS: Final = {
    "released.png": "Released agreements (cumulative)",
    "timed_out.png": "Timed-out agreements (cumulative)",
    **{k: v for k, v in PLOTS.items() if k != "outcomes.png"},
}


def write_economy_comparison(
    out: Path,
    runs: Mapping[str, Sequence[EconomyReport]],
    *,
    title: str,
    intro: Sequence[str],
    seeds: Sequence[int],
    column: str = "variant",
    baseline: str,
) -> Path:
    """Write the comparison over seeds of ``runs`` (each label's reports in the order of
    ``seeds``) into ``out``; return the report. The tables get a first column ``column``
    holding each run's label and a ``seed`` column; the report opens with the headline
    numbers' means, intervals and seed-paired differences against ``baseline``, then the
    first seed's detailed tables."""
    flat = [r for group in runs.values() for r in group]
    write_tables(out, TABLES, flat, column, seeds=[s for _ in runs for s in seeds])
    metrics = economy_metrics()
    stats = seed_stats({k: [r.summary for r in g] for k, g in runs.items()}, metrics, baseline)
    summary = {
        "scenario": flat[0].summary.get("scenario", "") if flat else "",
        "seeds": list(seeds),
        f"{column}s": list(runs),
        "runs": {
            label: {f"seed{s}": r.summary for s, r in zip(seeds, group, strict=True)}
            for label, group in runs.items()
        },
        "statistics": stats_json(stats, baseline),
    }
    write_text(out / "summary.json", summary_text(summary))
    subtitle = comparison_subtitle(str(summary["scenario"]), seeds)
    plots = draw_plots(lambda: write_economy_seed_plots(out, runs, subtitle))
    over = [
        *intro,
        "",
        f"## Over {seeds_text(len(seeds))}",
        "",
        f"Mean [95% t-interval] over seeds {seeds[0]}-{seeds[-1]}:",
        "",
        *stats_table(column, stats, metrics),
        "",
    ]
    if len(runs) > 1:
        over += [
            f"Seed-paired difference against {baseline} (a difference is stated only when its "
            "interval excludes zero):",
            "",
            *stats_table(column, stats, metrics, differences=True),
            "",
        ]
    over += [
        f"The tables below are seed {seeds[0]}'s; each run's own report is in "
        f"`<{column}>/seed<N>/`."
    ]
    first = [group[0] for group in runs.values()]
    path = out / "report.md"
    lines = plot_section(plots, SEED_PLOTS)
    write_text(path, report_text(title, over, first, lines, column))
    return path
