"""Reports of sim-economy runs: the paper's measures per run and over seeds, beside the paper's.

One run's directory holds ``turns.csv`` (per turn: fees, interest, lottery weight, winner,
actions), ``summary.json`` and ``report.md``. A comparison directory holds ``turns.csv`` with
the run's label and seed first, ``summary.json`` (each label's per-metric mean and 95%
t-interval over the seeds, and the paper's figure) and ``report.md``: the reproduction table,
each metric's mean and interval beside the paper's, saying whether ours falls inside the paper's
interval. Measures are defined in :mod:`agentbed.agents.simecon.metrics`. Nothing here reads
the wall clock: the same runs give byte-identical files.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agentbed.agents.closure import closure_line
from agentbed.agents.reporting.files import summary_text, write_text
from agentbed.agents.reporting.intervals import Interval, confidence_interval, paired_difference
from agentbed.agents.reporting.seeds import COUNT, NONE, SHARE, clipped
from agentbed.agents.reporting.tables import markdown_table, write_tables
from agentbed.agents.simecon import metrics as m
from agentbed.agents.simecon.paper import PAPER, PAPER_RUNS, PAPER_TURNS, paper_interval
from agentbed.agents.simecon.world import ACTIONS

if TYPE_CHECKING:
    from agentbed.agents.simecon.world import SimWorld

TURN_COLUMNS: Final = ("turn", "block", "fees", "interest", "weight", "winner", *ACTIONS[1:])
TABLES: Final = (("turns.csv", TURN_COLUMNS, "turn_rows"),)
METRICS: Final = tuple(PAPER)
"""The metrics of the reproduction table and of a sweep: key paths into ``summary.json``."""
_SHARES: Final = frozenset(
    {"top1_wealth_share_final", "top1_wealth_shifted_share_final", "mine_job_share"}
)
_SIGNED: Final = frozenset(
    {
        "token_supply_final",
        "mean_balance_final",
        "min_balance_final",
        "max_balance_final",
        "gini_wealth_final",
    }
)


def bounds_of(key: str) -> tuple[float | None, float | None]:
    """The range a metric's values can take; a mean's t-interval is clipped to it."""
    if key in _SHARES:
        return SHARE
    return NONE if key in _SIGNED else COUNT


@dataclass(frozen=True, slots=True)
class SimReport:
    """One finished sim-economy run: its label, summary and per-turn rows."""

    label: str
    summary: dict[str, Any]
    turn_rows: tuple[dict[str, Any], ...]


def _read(world: SimWorld, name: str) -> int:
    contract = world.chain.contract(world.address, "SimEconomy")
    return int(getattr(contract.functions, name)().call())


def summarize_run(world: SimWorld, *, label: str, seed: int) -> SimReport:
    """The paper's measures of the run ``world`` has followed (read at the chain's head)."""
    snap = world.snapshot(world.chain)
    balances = list(snap.balances)
    wealth = [b + s for b, s in zip(balances, snap.staked, strict=True)]
    endowment = world.params.genesis_tokens * len(world.agents)
    fees = _read(world, "totalFees")
    actions = {name: sum(t.actions[name] for t in world.turns) for name in ACTIONS[1:]}
    total_actions = sum(actions.values())
    summary: dict[str, Any] = {
        "label": label,
        "seed": seed,
        "turns": len(world.turns),
        "token_supply_final": sum(wealth),
        "fees_total": fees,
        "fees_to_endowment": m.fees_to_endowment(fees, endowment),
        "turns_with_block": _read(world, "blocksSealed"),
        "negative_balance_agents": m.negative_count(balances),
        "mean_balance_final": statistics.fmean(balances),
        "median_balance_final": statistics.median(balances),
        "min_balance_final": min(balances),
        "max_balance_final": max(balances),
        "gini_wealth_final": m.gini(wealth),
        "top1_wealth_share_final": m.top1_share(wealth),
        "wealth_shift_used": m.shift_of(wealth),
        "gini_wealth_shifted": m.gini(m.shifted(wealth)),
        "top1_wealth_shifted_share_final": m.top1_share(m.shifted(wealth)),
        "actions": actions,
        "mine_job_share": (actions["mine"] + actions["job"]) / total_actions
        if total_actions
        else 0.0,
        "interest_total": _read(world, "totalInterest"),
        "dividends_to_agents": sum(t.dividends_to_agents for t in world.turns),
    }
    rows = tuple(
        {
            "turn": t.turn,
            "block": t.block,
            "fees": t.fees,
            "interest": t.interest,
            "weight": t.weight,
            "winner": t.winner or "",
            **{name: t.actions[name] for name in ACTIONS[1:]},
        }
        for t in world.turns
    )
    return SimReport(label, summary, rows)


def value_at(summary: Mapping[str, Any], key: str) -> float:
    """The number at a dotted key path of a summary (``"actions.mine"``)."""
    node: Any = summary
    for part in key.split("."):
        node = node[part]
    return float(node)


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line about a run: blocks, fees, supply, debtors and shifted Gini."""
    return (
        f"blocks {summary['turns_with_block']}/{summary['turns']}, fees "
        f"{summary['fees_total']:,} ({summary['fees_to_endowment']:.2f}x endowment), supply "
        f"{summary['token_supply_final']:,}, {summary['negative_balance_agents']} in debt, "
        f"shifted Gini {summary['gini_wealth_shifted']:.3f}"
    )


def write_run(out: Path, report: SimReport, *, title: str, intro: Sequence[str]) -> Path:
    """Write one run's ``turns.csv``, ``summary.json`` and ``report.md``; return the latter."""
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, TABLES, [report])
    write_text(out / "summary.json", summary_text(report.summary))
    rows = [(key, _fmt(value_at(report.summary, key))) for key in METRICS]
    lines = [f"# {title}", "", *intro, "", summary_line(report.summary), ""]
    lines += markdown_table(("metric", "value"), rows, "lr")
    closure = report.summary.get("closure")
    if closure is not None:
        credit = closure["credit"]
        lines += [
            "",
            closure_line(closure),
            f"Credit ledger: held {credit['held']:,} = issued {credit['issued']:,} "
            f"(minted - burned - interest), residual {credit['residual']}.",
        ]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _interval_text(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return _fmt(interval.mean)
    return f"{_fmt(interval.mean)} [{_fmt(interval.low)}, {_fmt(interval.high)}]"


def _verdict(key: str, interval: Interval) -> str:
    """Whether our mean is inside the paper's interval, the intervals overlap, or neither."""
    paper = paper_interval(key)
    if paper is None:
        return ""
    low, high = paper
    if low <= interval.mean <= high:
        return "inside"
    ours_low = interval.mean if interval.low is None else interval.low
    ours_high = interval.mean if interval.high is None else interval.high
    return "overlaps" if ours_low <= high and low <= ours_high else "outside"


def comparison_stats(reports: Sequence[SimReport]) -> dict[str, Interval]:
    """Each metric's mean and 95% t-interval over the runs of one label."""
    return {
        key: clipped(
            confidence_interval([value_at(r.summary, key) for r in reports]), bounds_of(key)
        )
        for key in METRICS
    }


def _difference_text(interval: Interval) -> str:
    """A paired difference: stated only when its interval excludes zero."""
    if interval.low is None or interval.high is None or interval.low <= 0 <= interval.high:
        return f"{interval.mean:+.4g} (not distinguishable)"
    return f"{interval.mean:+.4g} [{interval.low:+.4g}, {interval.high:+.4g}]"


def _label_lines(
    label: str, reports: Sequence[SimReport], base: Sequence[SimReport] | None
) -> tuple[list[str], dict[str, Any]]:
    """One label's table (beside the paper; paired against ``base`` unless it is the base)."""
    stats = comparison_stats(reports)
    data: dict[str, Any] = {}
    rows = []
    for key, iv in stats.items():
        data[key] = {"mean": iv.mean, "low": iv.low, "high": iv.high, "paper": list(PAPER[key])}
        row = [key, f"{_fmt(PAPER[key][0])} ± {PAPER[key][1]:.3g}", _interval_text(iv)]
        if base is None:
            row.append(_verdict(key, iv))
        else:
            diff = paired_difference(
                [value_at(r.summary, key) for r in reports],
                [value_at(r.summary, key) for r in base],
            )
            data[key]["difference"] = {"mean": diff.mean, "low": diff.low, "high": diff.high}
            row.append(_difference_text(diff))
        rows.append(tuple(row))
    last = "vs the paper's interval" if base is None else "paired difference vs the base"
    header = ("metric", "paper (95%)", "ours: mean [95% t-interval]", last)
    lines = [
        f"## {label}: {len(reports)} seed(s) x {reports[0].summary['turns']} turns "
        f"(paper: {PAPER_RUNS} x {PAPER_TURNS})",
        "",
        *markdown_table(header, rows, "lrrl"),
        "",
    ]
    return lines, data


def write_comparison(
    out: Path,
    runs: Mapping[str, Sequence[SimReport]],
    *,
    title: str,
    intro: Sequence[str],
    seeds: Sequence[int],
    baseline: str,
) -> Path:
    """Write the over-seeds comparison, beside the paper's figures; return its ``report.md``.

    The ``baseline`` label's table says where each mean falls against the paper's interval
    (inside it, intervals overlapping, or outside); every other label's gives its seed-paired
    difference against the baseline.
    """
    out.mkdir(parents=True, exist_ok=True)
    flat = [r for group in runs.values() for r in group]
    write_tables(out, TABLES, flat, "label", seeds=[s for _ in runs for s in seeds])
    lines = [f"# {title}", "", *intro, ""]
    data: dict[str, Any] = {}
    for label, reports in runs.items():
        base = None if label == baseline else runs[baseline]
        label_lines, data[label] = _label_lines(label, reports, base)
        lines += label_lines
    write_text(out / "summary.json", summary_text(data))
    path = out / "report.md"
    write_text(path, "\n".join(lines))
    return path
