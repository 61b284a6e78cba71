"""Reports of simulation runs: CSV tables, a JSON summary, PNG plots and a Markdown report.

One run's directory holds ``blocks.csv`` (per-block metrics), ``agents.csv`` (per agent),
``victims.csv`` (each victim's loss against its counterfactual), ``summary.json``, the
``events.jsonl`` the run wrote as it went, the plots and ``report.md``. A comparison directory
holds the same tables with a ``policy`` column, one ``summary.json`` keyed by policy, the
comparison plots and a ``report.md`` whose table answers "who pays for ordering", with each
run's own directory beside them.

Every file is written atomically (a temporary file in the same directory, then a rename), so
an interrupted report never leaves a half-written file; files with other names in the output
directory are never touched. Nothing here reads the wall clock: the same runs give
byte-identical CSV, JSON and Markdown.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentbed.agents.market.mev import DetectedSandwich

if TYPE_CHECKING:
    from agentbed.agents.market.accounting import RunAccount
    from agentbed.agents.sim import BlockMetrics, Simulation
    from agentbed.experiments.scenario import Scenario

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
    "pool",
    "token_out",
    "actual_out",
    "alone_out",
    "loss",
    "value",
    "attack",
    "attackers",
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


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything one run contributes to reports; plain data, so it crosses processes.

    Attributes:
        policy: The policy's short name (``fifo``, ``priority``, ...).
        summary: The run's ``summary.json`` content.
        label: Its name in comparisons: the policy, or the scenario variant's name.
        blocks: Rows of ``blocks.csv``.
        agents: Rows of ``agents.csv``.
        victims: Rows of ``victims.csv``.
        waits_ms: Inclusion delay of every mined tx.
    """

    policy: str
    summary: dict[str, Any]
    blocks: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    victims: list[dict[str, Any]] = field(default_factory=list)
    waits_ms: list[int] = field(default_factory=list)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.policy)


# ---------------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------------


def quantile(values: Sequence[int], q: float) -> float:
    """The ``q`` quantile of ``values``: the element at rank ``int(q * n)`` (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of ``values`` (0.0 for none)."""
    return statistics.fmean(values) if values else 0.0


def metrics_row(m: BlockMetrics) -> dict[str, Any]:
    """The columns of a ``blocks.csv`` row that come from the block's own metrics."""
    return {
        "block": m.number,
        "timestamp_ms": m.timestamp_ms,
        "base_fee": m.base_fee,
        "gas_used": m.gas_used,
        "gas_limit": m.gas_limit,
        "fullness": round(m.fullness, 6),
        "txs": m.txs,
        "reverted": m.reverted,
        "pending_after": m.pending_after,
        "mean_wait_ms": round(m.mean_wait_ms, 3),
    }


def summarize(
    sim: Simulation, account: RunAccount, scenario: Scenario, policy: str, seed: int
) -> RunReport:
    """Collect one finished run's report data.

    Args:
        sim: The finished simulation.
        account: Its accounting.
        scenario: The scenario it ran.
        policy: The policy's short name.
        seed: The root seed it ran with.
    """
    valuation = account.valuation
    metrics = sim.metrics
    series = {b.number: b for b in account.blocks}
    blocks = [
        {
            **metrics_row(m),
            "priority_fees": m.priority_fees,
            "coinbase_transfers": m.coinbase_transfers,
            "burned": m.burned,
            "victim_loss": series[m.number].victim_loss,
            "searcher_profit": series[m.number].searcher_profit,
        }
        for m in metrics
    ]
    agents = [
        {
            "name": a.name,
            "kind": a.kind,
            "searcher": a.searcher,
            "sent": a.sent,
            "included": a.included,
            "failed": a.failed,
            "rejected": a.rejected,
            "gas_spent_wei": a.gas_spent,
            "tips_paid_wei": a.tips_paid,
            "coinbase_paid_wei": a.coinbase_paid,
            "profit": a.profit,
            "holdings": ";".join(f"{k}:{v:+d}" for k, v in a.holdings.items()),
        }
        for a in account.agents
    ]
    victims = [
        {
            "tx": "0x" + v.tx.hex(),
            "agent": v.agent,
            "block": v.block,
            "pool": v.pool,
            "token_out": valuation.symbols.get(v.token_out, v.token_out),
            "actual_out": v.actual_out,
            "alone_out": v.alone_out,
            "loss": v.loss,
            "value": v.value,
            "attack": v.attack,
            "attackers": " ".join(v.attackers),
        }
        for v in account.victims
    ]
    by_kind: dict[str, dict[str, Any]] = {}
    for a in account.agents:
        row = by_kind.setdefault(
            a.kind,
            {
                "agents": 0,
                "searcher": a.searcher,
                "sent": 0,
                "included": 0,
                "failed": 0,
                "rejected": 0,
                "gas_spent_wei": 0,
                "tips_paid_wei": 0,
                "coinbase_paid_wei": 0,
                "profit": 0.0,
            },
        )
        row["agents"] += 1
        for key in ("sent", "included", "failed", "rejected"):
            row[key] += getattr(a, key)
        row["gas_spent_wei"] += a.gas_spent
        row["tips_paid_wei"] += a.tips_paid
        row["coinbase_paid_wei"] += a.coinbase_paid
        row["profit"] += a.profit
    loss_wei: dict[str, int] = defaultdict(int)
    for v in account.victims:
        loss_wei[valuation.symbols.get(v.token_out, v.token_out)] += v.loss
    tips = sum(m.priority_fees for m in metrics)
    direct = sum(m.coinbase_transfers for m in metrics)
    burned = sum(m.burned for m in metrics)
    waits = account.waits_ms
    truth = account.truth
    detected_sandwiches = sum(1 for d in account.detected if isinstance(d, DetectedSandwich))
    summary: dict[str, Any] = {
        "scenario": scenario.run.name,
        "seed": seed,
        "policy": policy,
        "policy_name": account.policy,
        "blocks": len(metrics),
        "agents": len(sim.agents),
        "numeraire": valuation.numeraire,
        "eth_price": valuation.eth_price,
        "unpriced_tokens": list(valuation.unpriced),
        "sent": sum(a.sent for a in account.agents),
        "txs": sum(m.txs for m in metrics),
        "reverted": sum(m.reverted for m in metrics),
        "rejected": sum(a.rejected for a in account.agents),
        "victim_loss": account.victim_loss,
        "victims": len(account.victims),
        "victim_loss_wei": dict(sorted(loss_wei.items())),
        "searcher_profit": account.searcher_profit,
        "builder": {
            "priority_fees_wei": tips,
            "coinbase_transfers_wei": direct,
            "revenue": valuation.value_eth(tips + direct),
        },
        "burned_wei": burned,
        "burned": valuation.value_eth(burned),
        "sandwiches": {
            "attempted": truth.sandwich_attempts,
            "true": truth.count("sandwich"),
            "detected": detected_sandwiches,
            "precision": account.sandwich_score.precision,
            "recall": account.sandwich_score.recall,
        },
        "backruns": {
            "true": truth.count("backrun"),
            "detected": len(account.detected) - detected_sandwiches,
            "precision": account.backrun_score.precision,
            "recall": account.backrun_score.recall,
        },
        "frontruns": {"attempted": truth.frontrun_attempts, "landed": len(truth.frontruns)},
        "victims_reverted": truth.reverted_victims,
        "detection": {
            "precision": account.overall_score.precision,
            "recall": account.overall_score.recall,
            "true_positives": account.overall_score.true_positives,
            "false_positives": account.overall_score.false_positives,
            "false_negatives": account.overall_score.false_negatives,
        },
        "inclusion_delay_ms": {
            "mean": mean(waits),
            "median": quantile(waits, 0.5),
            "p90": quantile(waits, 0.9),
            "max": max(waits, default=0),
        },
        "base_fee": {
            "first": metrics[0].base_fee if metrics else 0,
            "last": metrics[-1].base_fee if metrics else 0,
            "mean": mean([m.base_fee for m in metrics]),
        },
        "fullness_mean": mean([m.fullness for m in metrics]),
        "by_kind": by_kind,
    }
    if account.intents is not None:
        summary["intents"] = _intents_summary(account)
    return RunReport(policy, summary, blocks, agents, victims, list(waits))


def _intents_summary(account: RunAccount) -> dict[str, Any]:
    """The ``intents`` block of a run with an intent book: fills, surplus, rewards, latency,
    conditional intents, price dispersion within batches, and the victim loss of each group
    of traders (so that a variant sending the makers' trades as public swaps compares)."""
    stats = account.intents
    assert stats is not None
    latencies = stats.latencies_ms
    makers = {a.name for a in account.agents if a.kind == "intent_maker"}
    # A scenario group's agents are built in a row and named name0, name1, ...: one scan
    # recovers the groups (a kind would not do: a variant may make the makers retail traders).
    group_of: dict[str, str] = {}
    stem, following = "", -1
    for agent in account.agents:
        if following < 0 or agent.name != f"{stem}{following}":
            stem, following = agent.name.removesuffix("0"), 0
        group_of[agent.name] = stem
        following += 1
    # Trader groups only: a searcher's own tx can be frontrun by a rival, which is no
    # question of how the order flow is routed.
    by_group = {group_of[a.name]: 0.0 for a in account.agents if not a.searcher}
    for v in account.victims:
        if group_of.get(v.agent) in by_group:
            by_group[group_of[v.agent]] += v.value
    spreads = stats.price_spreads_bps
    return {
        "posted": stats.posted,
        "filled": stats.filled,
        "fill_rate": stats.fill_rate,
        "maker_surplus": stats.maker_surplus,
        "surplus_per_fill": stats.maker_surplus / stats.filled if stats.filled else 0.0,
        "surplus_bps": {
            "mean": mean(stats.surplus_bps),
            "median": statistics.median(stats.surplus_bps) if stats.surplus_bps else 0.0,
        },
        "price_spread_bps": {
            "sides": len(spreads),
            "mean": mean(spreads),
            "max": max(spreads, default=0.0),
        },
        "solver_rewards": stats.solver_rewards,
        "fill_latency_ms": {
            "mean": mean(latencies),
            "median": quantile(latencies, 0.5),
            "max": max(latencies, default=0),
        },
        "conditional": {
            "posted": stats.conditional_posted,
            "filled": stats.conditional_filled,
            "expired": stats.conditional_expired,
            "filled_without_counter": stats.conditional_without_counter,
        },
        # Makers send no swaps, so this stays 0 unless an intent maker's tx is squeezed.
        "maker_victim_loss": sum(v.value for v in account.victims if v.agent in makers),
        "public_victim_loss": sum(v.value for v in account.victims if v.agent not in makers),
        "victim_loss_by_group": by_group,
    }


# ---------------------------------------------------------------------------------------------
# Atomic files
# ---------------------------------------------------------------------------------------------


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Produce ``path`` through ``write(tmp)`` and a rename: all of it or nothing.

    The temporary file lives in the same directory (so the rename is atomic) and is removed if
    ``write`` fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (UTF-8, ``\\n`` line ends)."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV table of ``rows`` under ``columns`` (a row's missing columns left empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in columns})
    return buffer.getvalue()


def write_tables(
    out: Path,
    tables: Iterable[tuple[str, Sequence[str], str]],
    runs: Sequence[Any],
    column: str | None = None,
) -> None:
    """Write each ``(file name, columns, attribute)`` table of ``runs`` into ``out``.

    Without ``column``, ``runs`` is one run and each file holds its rows; with it, each file
    holds every run's rows under a first column ``column`` naming the run (its ``label``).
    """
    for name, columns, attr in tables:
        if column is None:
            (run,) = runs
            text = csv_text(columns, getattr(run, attr))
        else:
            rows = ({column: r.label, **row} for r in runs for row in getattr(r, attr))
            text = csv_text((column, *columns), rows)
        write_text(out / name, text)


def summary_text(summary: Mapping[str, Any]) -> str:
    """A summary as ``summary.json`` holds it (sorted keys, so equal runs give equal bytes)."""
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line about a run's summary (txs, reverts, victim loss, searcher profit)."""
    unit = summary["numeraire"]
    return (
        f"{summary['txs']} txs ({summary['reverted']} reverted), victim loss "
        f"{summary['victim_loss']:,.2f} {unit}, searcher profit "
        f"{summary['searcher_profit']:,.2f} {unit}"
    )


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------


def new_figure(rows: int = 1) -> Any:
    """A figure of ``rows`` stacked plots and the list of their axes (headless backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(8, 3.2 * rows), squeeze=False)
    return fig, [ax for (ax,) in axes]


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically and without metadata, and close it."""
    from matplotlib import pyplot as plt

    fig.tight_layout()
    # No Software/date metadata: the same data gives the same bytes.
    write_atomic(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    )
    plt.close(fig)


def _cumulative(values: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for value in values:
        total += value
        out.append(total)
    return out


class _ChainRun(Protocol):
    """What the chain plots need of a run's report (``RunReport``, ``EconomyReport``)."""

    @property
    def label(self) -> str: ...

    @property
    def blocks(self) -> list[dict[str, Any]]: ...

    @property
    def waits_ms(self) -> list[int]: ...


def write_chain_plots(out: Path, runs: Sequence[_ChainRun]) -> None:
    """Write ``base_fee_fullness.png`` and ``inclusion_delay.png``, one line per run.

    Each run's ``blocks`` rows need ``block``, ``base_fee`` and ``fullness``.
    """
    fig, (fee_ax, full_ax) = new_figure(2)
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        fee_ax.plot(xs, [row["base_fee"] / 1e9 for row in run.blocks], label=run.label)
        full_ax.plot(xs, [row["fullness"] for row in run.blocks], label=run.label)
    fee_ax.set(xlabel="block", ylabel="gwei", title="Base fee")
    full_ax.set(xlabel="block", ylabel="gas used / limit", title="Block fullness", ylim=(0, 1.05))
    fee_ax.legend()
    save_figure(fig, out / "base_fee_fullness.png")

    fig, (ax,) = new_figure()
    for run in runs:
        waits = sorted(w / 1000 for w in run.waits_ms)
        if waits:
            ys = [(i + 1) / len(waits) for i in range(len(waits))]
            ax.step(waits, ys, where="post", label=run.label)
    ax.set(
        xlabel="seconds from arrival to inclusion",
        ylabel="share of mined txs",
        title="Inclusion delay (cumulative distribution)",
        ylim=(0, 1.02),
    )
    if ax.get_legend_handles_labels()[0]:  # no run mined anything: nothing to label
        ax.legend()
    save_figure(fig, out / "inclusion_delay.png")


def write_plots(out: Path, runs: Sequence[RunReport], numeraire: str) -> list[str]:
    """Write the four plots for ``runs`` (one line per policy); return their file names."""
    fig, (ax,) = new_figure()
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        ax.plot(xs, _cumulative(row["victim_loss"] for row in run.blocks), label=run.label)
    ax.set(xlabel="block", ylabel=numeraire, title=PLOTS["victim_loss.png"])
    ax.legend()
    save_figure(fig, out / "victim_loss.png")

    fig, (ax,) = new_figure()
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        ax.plot(xs, _cumulative(row["searcher_profit"] for row in run.blocks), label=run.label)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set(xlabel="block", ylabel=numeraire, title=PLOTS["searcher_profit.png"])
    ax.legend()
    save_figure(fig, out / "searcher_profit.png")

    write_chain_plots(out, runs)
    return list(PLOTS)


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def number_text(value: float) -> str:
    """``value`` as a report shows an amount: thousands separators, two decimals."""
    return f"{value:,.2f}"


def percent_text(value: float) -> str:
    """A share (0..1) as a whole percentage."""
    return f"{100 * value:.0f}%"


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], align: str
) -> list[str]:
    """A Markdown table as lines; ``align`` holds a letter per column, ``l`` (left) or ``r``."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(str(c) for c in cells) + " |" for cells in (header, rule, *rows)]


def comparison_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """The comparison table, one row per run (policy or variant), as Markdown lines."""
    numeraire = runs[0].summary["numeraire"] if runs else ""
    header = [
        column,
        f"victim loss ({numeraire})",
        f"searcher profit ({numeraire})",
        f"tips + coinbase ({numeraire})",
        f"burned ({numeraire})",
        "sandwiches true / detected",
        "sandwich precision",
        "sandwich recall",
        "mean inclusion delay (s)",
        "reverted",
    ]
    rows = []
    for run in runs:
        s = run.summary
        sandwiches = s["sandwiches"]
        rows.append(
            [
                run.label,
                number_text(s["victim_loss"]),
                number_text(s["searcher_profit"]),
                number_text(s["builder"]["revenue"]),
                number_text(s["burned"]),
                f"{sandwiches['true']} / {sandwiches['detected']}",
                percent_text(sandwiches["precision"]),
                percent_text(sandwiches["recall"]),
                f"{s['inclusion_delay_ms']['mean'] / 1000:.2f}",
                s["reverted"],
            ]
        )
    return markdown_table(header, rows, "l" + "r" * 9)


def kind_table(runs: Sequence[RunReport]) -> list[str]:
    """Profit per agent kind (rows) under each policy (columns), as Markdown lines."""
    kinds = sorted({k for run in runs for k in run.summary["by_kind"]})
    lines = [
        "| kind | agents | " + " | ".join(run.label for run in runs) + " |",
        "| --- | ---: |" + " ---: |" * len(runs),
    ]
    for kind in kinds:
        counts = {run.summary["by_kind"].get(kind, {}).get("agents", 0) for run in runs}
        cells = [
            number_text(run.summary["by_kind"].get(kind, {}).get("profit", 0.0)) for run in runs
        ]
        lines.append(f"| {kind} | {max(counts)} | " + " | ".join(cells) + " |")
    return lines


def kind_changes(runs: Sequence[RunReport]) -> list[str]:
    """For each searcher kind, its profit under each policy against the priority-fee run."""
    base = next((r for r in runs if r.policy == "priority"), runs[0] if runs else None)
    if base is None or len(runs) < 2:
        return []
    lines = []
    for kind, row in sorted(base.summary["by_kind"].items()):
        if not row["searcher"]:
            continue
        reference = row["profit"]
        parts = []
        for run in runs:
            if run is base:
                continue
            profit = run.summary["by_kind"].get(kind, {}).get("profit", 0.0)
            change = f" ({(profit - reference) / abs(reference):+.0%})" if reference else ""
            parts.append(f"{run.label} {number_text(profit)}{change}")
        lines.append(
            f"- **{kind}** profit: {number_text(reference)} under {base.label}; "
            + ", ".join(parts)
            + "."
        )
    return lines


def detector_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """The detector's scores per run and kind, as Markdown lines."""
    header = [
        column,
        "sandwiches true / detected",
        "precision",
        "recall",
        "backruns true / detected",
        "precision",
        "recall",
    ]
    rows = []
    for run in runs:
        sw, br = run.summary["sandwiches"], run.summary["backruns"]
        rows.append(
            [
                run.label,
                f"{sw['true']} / {sw['detected']}",
                percent_text(sw["precision"]),
                percent_text(sw["recall"]),
                f"{br['true']} / {br['detected']}",
                percent_text(br["precision"]),
                percent_text(br["recall"]),
            ]
        )
    return markdown_table(header, rows, "l" + "r" * 6)


def who_pays(runs: Sequence[RunReport]) -> list[str]:
    """Sentences on who pays under each policy, against the priority-fee (or first) policy."""
    if not runs:
        return []
    base = next((r for r in runs if r.policy == "priority"), runs[0])
    b = base.summary
    unit = b["numeraire"]
    lines = []
    for run in runs:
        s = run.summary
        extracted = s["victim_loss"]
        builder = s["builder"]["revenue"]
        traders = sum(v["profit"] for v in s["by_kind"].values() if not v["searcher"])
        line = (
            f"- **{run.label}**: victims lost {number_text(extracted)} {unit}; searchers netted "
            f"{number_text(s['searcher_profit'])} {unit} after paying the builder "
            f"{number_text(builder)} {unit} (tips and direct payments) and burning "
            f"{number_text(s['burned'])} {unit} of base fee; non-searchers' net result "
            f"{number_text(traders)} {unit}."
        )
        if run is not base and b["searcher_profit"] != 0:
            change = (s["searcher_profit"] - b["searcher_profit"]) / abs(b["searcher_profit"])
            line += f" Searcher profit {change:+.0%} against {base.label}."
        lines.append(line)
    return lines


def intents_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """Intent fills, conditional intents, makers' surplus, price dispersion, latency and each
    trader group's victim loss per run (empty without an intent book)."""
    rows = [r for r in runs if "intents" in r.summary]
    if not rows:
        return []
    numeraire = rows[0].summary["numeraire"]
    lines = [
        f"| {column} | posted | filled | fill rate | conditional posted / filled / expired | "
        f"makers' surplus ({numeraire}) | per fill | price spread in a batch (bps) | "
        f"solver rewards ({numeraire}) | mean fill latency (s) | victim loss by group |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in rows:
        i = run.summary["intents"]
        c = i.get("conditional", {})
        spread = i.get("price_spread_bps", {})
        groups = ", ".join(
            f"{g} {number_text(v)}" for g, v in i.get("victim_loss_by_group", {}).items()
        )
        lines.append(
            f"| {run.label} | {i['posted']} | {i['filled']} | {percent_text(i['fill_rate'])} | "
            f"{c.get('posted', 0)} / {c.get('filled', 0)} / {c.get('expired', 0)} | "
            f"{number_text(i['maker_surplus'])} | {number_text(i.get('surplus_per_fill', 0.0))} | "
            f"{spread.get('mean', 0.0):.1f} (max {spread.get('max', 0.0):.1f}) | "
            f"{number_text(i['solver_rewards'])} | {i['fill_latency_ms']['mean'] / 1000:.1f} | "
            f"{groups or '-'} |"
        )
    return lines


def _report_text(
    title: str,
    intro: Sequence[str],
    runs: Sequence[RunReport],
    plots: Sequence[str],
    column: str = "policy",
) -> str:
    lines = [f"# {title}", "", *intro, "", "## Comparison", "", *comparison_table(runs, column), ""]
    lines += [
        "Victim loss: each victim's output against the same transaction run alone on the "
        "pre-block state; a victim's loss is negative when other transactions of its block "
        "moved the price its way first (arbitrage trades that a frontrunner jumped often "
        "are), so a total can be below zero. Searcher profit: holdings change valued at the "
        "final reference prices, net of gas and direct payments. Precision and recall: the "
        "receipt-only sandwich detector against the simulation's ground truth.",
        "",
        "## Who pays for ordering",
        "",
        *who_pays(runs),
        "",
        "## Detection from receipts alone",
        "",
        *detector_table(runs, column),
        "",
        "A detection counts as true only when it names exactly the transactions of a true case. "
        "The backrun heuristic also flags ordinary trades that happen to move a pool back after "
        "another swap (plain arbitrage toward the reference price included), which is why its "
        "precision is low.",
        "",
        "## Profit by agent kind",
        "",
        *kind_table(runs),
        "",
        *kind_changes(runs),
        "",
    ]
    intents = intents_table(runs, column)
    if intents:
        lines += [
            "## Intents",
            "",
            *intents,
            "",
            "Intents are signed off-chain and settled by solvers, so no maker's order is in "
            "the public mempool to be sandwiched. Conditional intents execute only beside a "
            "crossing reverse intent; expired: past their deadline unsettled at the last "
            "block. Makers' surplus: what the makers received above their signed limits, "
            "after the solver's reward, at the final reference prices (per fill: over the "
            "filled intents). Price spread: within each batch and side, how far apart the "
            "makers' execution rates are (uniform pricing gives every maker of a side the "
            "same rate, so 0). Fill latency: from posting to the settling block. Victim loss "
            "by group: what each trader group's swaps lost to sandwiches and frontruns.",
            "",
        ]
    lines += [
        "## Plots",
        "",
    ]
    for name in plots:
        lines += [f"![{PLOTS.get(name, name)}]({name})", ""]
    return "\n".join(lines)


def _setting(scenario: Scenario) -> str:
    economy = scenario.economy
    if economy is None:
        return f"{len(scenario.pools)} pool(s)"
    stake = economy.min_arbitrator_stake / 10**18
    return (
        f"{'community' if economy.community else 'transferable'} currency, timeouts "
        f"{economy.timeout_policy} the bonds, arbitrator stake {stake:g} required, deadline "
        f"grace {economy.grace_s} s"
    )


def intro_lines(scenario: Scenario, seed: int) -> list[str]:
    """The introduction of a run's report: the description and what the scenario holds."""
    run = scenario.run
    kinds = ", ".join(
        f"{g.count} {g.kind}" if g.name == g.kind else f"{g.count} {g.kind} ({g.name})"
        for g in scenario.agents
        if g.count
    )
    intro = [
        f"Scenario `{scenario.path}` ({run.name}), seed {seed}: {run.blocks} blocks of "
        f"{run.block_time_ms / 1000:g} s, gas limit {run.gas_limit:,}, "
        f"{_setting(scenario)}; agents: {kinds}.",
    ]
    if scenario.variant:
        changes = ", ".join(f"`{k}` = {v!r}" for k, v in scenario.variant_overrides)
        intro += ["", f"Variant **{scenario.variant}**: {changes}."]
    if run.description:
        intro = [run.description, "", *intro]
    return intro


# ---------------------------------------------------------------------------------------------
# Writing directories
# ---------------------------------------------------------------------------------------------


def write_run(out: Path, run: RunReport, scenario: Scenario, seed: int) -> Path:
    """Write one run's tables, summary, plots and report into ``out``; return the report."""
    write_tables(out, TABLES, [run])
    write_text(out / "summary.json", summary_text(run.summary))
    plots = write_plots(out, [run], run.summary["numeraire"])
    report = out / "report.md"
    what = f"{run.label} variant" if scenario.variant else f"{run.policy} ordering"
    title = f"{scenario.run.name} ({what})"
    write_text(report, _report_text(title, intro_lines(scenario, seed), [run], plots))
    return report


def write_comparison(
    out: Path,
    runs: Sequence[RunReport],
    scenario: Scenario,
    seed: int,
    *,
    column: str = "policy",
) -> Path:
    """Write the comparison of ``runs`` (same scenario and seed) into ``out``; return the
    report. Each run's own files are expected in ``out/<label>/``; ``column`` names what the
    runs differ in (``policy`` or ``variant``), the first column of every table."""
    write_tables(out, TABLES, runs, column)
    summary = {
        "scenario": scenario.run.name,
        "seed": seed,
        f"{column}s" if column != "policy" else "policies": [r.label for r in runs],
        "runs": {r.label: r.summary for r in runs},
    }
    write_text(out / "summary.json", summary_text(summary))
    numeraire = runs[0].summary["numeraire"] if runs else ""
    plots = write_plots(out, runs, numeraire)
    intro = [
        *intro_lines(scenario, seed),
        "",
        f"The same scenario and seed under each {column}; each run's own tables, event log "
        f"and plots are in the directory named after its {column}.",
    ]
    report = out / "report.md"
    compared = "ordering policies" if column == "policy" else f"{column}s"
    title = f"{scenario.run.name} ({compared} compared)"
    write_text(report, _report_text(title, intro, runs, plots, column))
    return report
