"""The Markdown of a market comparison over seeds: who pays for ordering, in numbers with
intervals, then the tables.

Every policy (or variant) ran the same seeds; each headline number is reported as its mean over
the seeds with a 95% t-interval, and each policy's difference from the baseline is paired by
seed (:mod:`agentbed.agents.reporting.seeds`). A difference is stated only when its interval
excludes zero; otherwise the report says "not distinguishable at n seeds". Everything here
reads the runs' summaries (``RunReport.summary``) only; the files are written by
``agentbed.agents.market.report``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from agentbed.agents.blockprod.loopmetrics import BLOCK_PRODUCTION_METRICS
from agentbed.agents.market.concentration import CONCENTRATION_METRICS
from agentbed.agents.market.markdown import (
    CLOSURE_NOTES,
    DETECTION_NOTES,
    INTENTS_NOTES,
    intents_table,
)
from agentbed.agents.market.metrics import RunReport
from agentbed.agents.reporting.intervals import confidence_interval
from agentbed.agents.reporting.seeds import (
    COUNT,
    SHARE,
    Metric,
    Stats,
    clipped,
    definition_lines,
    difference_text,
    distinguishable,
    interval_text,
    seed_stats,
    seeds_text,
    signed,
    stats_table,
)
from agentbed.agents.reporting.tables import markdown_table, number_text, percent_text

DEPLOYER = "deployer / passive LP"
"""The closure's kind of the pool deployer's (and passive LPs') row."""

Runs = Mapping[str, Sequence[RunReport]]


def _holders(summary: Mapping[str, Any], kind: str) -> float | None:
    closure = summary.get("closure")
    if closure is None:
        return None
    return float(sum(h["value_change"] for h in closure["holders"] if h["kind"] == kind))


def _non_searchers(summary: Mapping[str, Any]) -> float:
    return float(sum(v["profit"] for v in summary["by_kind"].values() if not v["searcher"]))


def _precision(summary: Mapping[str, Any], case: str) -> float | None:
    found = summary.get(case)
    return None if not found or not found["detected"] else float(found["precision"])


def _recall(summary: Mapping[str, Any], case: str) -> float | None:
    found = summary.get(case)
    return None if not found or not found["true"] else float(found["recall"])


def _kind_profit(summary: Mapping[str, Any], kind: str) -> float:
    return float(summary["by_kind"].get(kind, {}).get("profit", 0.0))


def _count(value: float) -> str:
    return f"{value:,.1f}"


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _percent(value: float) -> str:
    return percent_text(value)


def headline_metrics(unit: str) -> tuple[Metric, ...]:
    """The headline numbers of a market run, each with how it is measured (``unit``: the
    numeraire amounts are valued in)."""
    return (
        Metric(
            "victim_loss",
            f"victim loss ({unit})",
            "bot-on-user: each victim's outcome in its block against the same block with the "
            "attacker's transactions removed, replayed in order on the parent state; reverted "
            "and displaced victims count too.",
            lambda s: float(s["victim_loss"]),
        ),
        Metric(
            "bot_victim_loss",
            f"bot-on-bot loss ({unit})",
            "the same counterfactual for searchers' own transactions hit by a rival.",
            lambda s: float(s.get("bot_victim_loss", 0.0)),
        ),
        Metric(
            "searcher_profit",
            f"searcher profit ({unit})",
            "the searchers' (arbitrageurs', frontrunners', sandwichers') holdings change at the "
            "final reference prices, net of gas and direct payments.",
            lambda s: float(s["searcher_profit"]),
            unit=unit,
        ),
        Metric(
            "builder_revenue",
            f"block producer ({unit})",
            "priority fees plus direct payments to the coinbase, valued at the ETH price.",
            lambda s: float(s["builder"]["revenue"]),
        ),
        Metric(
            "producer_share",
            "producer share",
            "what searchers paid the block producer (tips above the base fee and direct "
            "coinbase payments) over what they extracted (their net profit plus that payment); "
            "undefined on a run where they extracted nothing; above 100% where the searchers "
            "paid the producer more than they extracted (they lost money).",
            _producer_share,
            _percent,
            bounds=COUNT,
        ),
        Metric(
            "lvr",
            f"LVR ({unit})",
            "loss-versus-rebalancing of the pools, summed (Milionis et al. 2022; ex post, per "
            "block, at each block's reference price): the benchmark of the arbitrage profit.",
            _lvr_total,
        ),
        Metric(
            "arbitrage_profit",
            f"arbitrage profit ({unit})",
            "the arbitrageurs' realised profit on the pools, at the final reference prices, net "
            "of gas (next to LVR).",
            lambda s: float(s["lvr"]["arbitrage_profit"]) if "lvr" in s else None,
        ),
        Metric(
            "burned",
            f"burned ({unit})",
            "base fee burned in the measured blocks (EIP-1559), valued at the ETH price.",
            lambda s: float(s["burned"]),
        ),
        Metric(
            "deployer",
            f"deployer / passive LP ({unit})",
            "the pool deployer's value change in the closure (the liquidity it left in the "
            "pools, looked through to its share of the reserves).",
            lambda s: _holders(s, DEPLOYER),
        ),
        Metric(
            "non_searchers",
            f"non-searchers ({unit})",
            "the summed result of every agent that is not a searcher (retail, LPs, spam).",
            _non_searchers,
        ),
        Metric(
            "inclusion_delay_s",
            "inclusion delay (s)",
            "mean time from a transaction's arrival to the block that includes it.",
            lambda s: s["inclusion_delay_ms"]["mean"] / 1000,
            _seconds,
            bounds=COUNT,
        ),
        Metric(
            "reverted",
            "reverted txs",
            "included transactions with status 0 in the measured blocks.",
            lambda s: float(s["reverted"]),
            _count,
            bounds=COUNT,
        ),
        Metric(
            "sandwich_precision",
            "sandwich precision",
            "share of the receipt-only detector's sandwiches that are true ones (runs where "
            "it detected any).",
            lambda s: _precision(s, "sandwiches"),
            _percent,
            bounds=SHARE,
        ),
        Metric(
            "sandwich_recall",
            "sandwich recall",
            "share of the true sandwiches it detected (runs that had any).",
            lambda s: _recall(s, "sandwiches"),
            _percent,
            bounds=SHARE,
        ),
        *CONCENTRATION_METRICS,
    )


def _producer_share(summary: Mapping[str, Any]) -> float | None:
    share = summary.get("producer_share", {}).get("share")
    return None if share is None else float(share)


def _lvr_total(summary: Mapping[str, Any]) -> float | None:
    if "lvr" not in summary:
        return None
    return float(sum(row["lvr"] for row in summary["lvr"]["pools"]))


def market_stats(runs: Runs, baseline: str) -> tuple[tuple[Metric, ...], Stats]:
    """The headline metrics and their statistics over the seeds."""
    first = next(iter(runs.values()))
    metrics = headline_metrics(first[0].summary["numeraire"] if first else "")
    if any("block_production" in r.summary for group in runs.values() for r in group):
        metrics = (*metrics, *BLOCK_PRODUCTION_METRICS)  # only where the game was played
    summaries = {label: [r.summary for r in group] for label, group in runs.items()}
    return metrics, seed_stats(summaries, metrics, baseline)


PARTIES = (
    ("searcher_profit", "searchers"),
    ("deployer", "the pool deployer / passive LP"),
    ("builder_revenue", "the block producer"),
    ("non_searchers", "non-searchers"),
)
"""The parties of the opening paragraph, by metric key."""


def _party_text(stats: Mapping[str, Any], key: str, fmt: Any) -> str:
    return interval_text(stats[key].interval, signed(fmt))


def who_pays_paragraph(
    stats: Stats, metrics: Sequence[Metric], seeds: Sequence[int], column: str, baseline: str
) -> list[str]:
    """The report's opening: who gains and who loses under each label, how much goes to the
    block producer and how much is burned, and what differs from ``baseline``."""
    by_key = {m.key: m for m in metrics}
    unit = by_key["searcher_profit"].unit
    n = len(seeds)
    lines = [
        f"**Who pays for ordering**, over {seeds_text(n)} ({seeds[0]}-{seeds[-1]}) per "
        f"{column}: each party's value change over the measured blocks, mean [95% t-interval] "
        f"in {unit}."
    ]
    gains, losses = [], []
    for key, party in PARTIES:
        intervals = [s[key].interval for s in stats.values()]
        if all(i is not None and i.low is not None and i.low > 0 for i in intervals):
            gains.append(party)
        if all(i is not None and i.high is not None and i.high < 0 for i in intervals):
            losses.append(party)
    fmt = by_key["victim_loss"].fmt
    for label, s in stats.items():
        lines.append(
            f"- **{label}**: searchers {_party_text(s, 'searcher_profit', fmt)}, pool deployer "
            f"/ passive LP {_party_text(s, 'deployer', fmt)}, block producer "
            f"{_party_text(s, 'builder_revenue', fmt)} (a share of "
            f"{interval_text(s['producer_share'].interval, _percent)} of what searchers "
            f"extracted); non-searchers "
            f"{_party_text(s, 'non_searchers', fmt)}, of which lost by victims of attacks "
            f"{interval_text(s['victim_loss'].interval, fmt)}; burned base fee "
            f"{interval_text(s['burned'].interval, fmt)}."
        )
    verdict = []
    if gains:
        verdict.append(f"{_join(gains)} gain under every {column}")
    if losses:
        verdict.append(f"{_join(losses)} lose under every {column}")
    if not verdict:
        verdict.append(f"no party gains or loses under every {column}")
    lines += [
        "",
        "In short: " + "; ".join(verdict) + " (their intervals exclude zero). Against "
        f"{baseline}, paired by seed (a difference is stated only when its interval excludes "
        "zero):",
        "",
        *difference_sentences(stats, metrics, baseline),
    ]
    return lines


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def difference_sentences(stats: Stats, metrics: Sequence[Metric], baseline: str) -> list[str]:
    """Per label, the metrics whose seed-paired difference from ``baseline`` excludes zero,
    and the rest named as not distinguishable."""
    lines = []
    for label, by_key in stats.items():
        if label == baseline:
            continue
        shown = [
            f"{m.title} {difference_text(by_key[m.key].difference, m.fmt)}"
            for m in metrics
            if distinguishable(by_key[m.key].difference)
        ]
        rest: dict[int, list[str]] = {}
        for m in metrics:
            d = by_key[m.key].difference
            if d is not None and not distinguishable(d):
                rest.setdefault(d.n, []).append(m.title)
        parts = [", ".join(shown)] if shown else []
        parts += [
            f"not distinguishable at {seeds_text(n)}: {', '.join(titles)}"
            for n, titles in sorted(rest.items(), reverse=True)
        ]
        lines.append(f"- **{label}** against {baseline}, paired by seed: " + "; ".join(parts) + ".")
    return lines


def _mean_text(
    values: Sequence[float],
    fmt: Any = number_text,
    bounds: tuple[float | None, float | None] = (None, None),
) -> str:
    return interval_text(clipped(confidence_interval(list(values)), bounds), fmt)


def _count_text(values: Sequence[float]) -> str:
    return _mean_text(values, _count, COUNT)


def _share_text(values: Sequence[float]) -> str:
    return _mean_text(values, _percent, SHARE)


def victim_lines(runs: Runs) -> list[str]:
    """Per label, the victim loss by class and fate over the seeds (means and intervals), and
    why any victim's loss was negative (counted over every seed)."""
    lines = []
    for label, group in runs.items():
        classes = [r.summary["victim_classes"] for r in group if "victim_classes" in r.summary]
        if not classes:
            continue
        user = [c["bot_on_user"] for c in classes]
        bot = [c["bot_on_bot"] for c in classes]
        fates = ", ".join(
            f"{fate} {_mean_text([u[fate]['loss'] for u in user])} over "
            f"{_count_text([u[fate]['victims'] for u in user])} victims"
            for fate in ("landed", "reverted", "displaced")
        )
        line = (
            f"- **{label}**: bot-on-user {_mean_text([u['loss'] for u in user])} over "
            f"{_count_text([u['victims'] for u in user])} victims ({fates}); "
            f"bot-on-bot {_mean_text([b['loss'] for b in bot])} over "
            f"{_count_text([b['victims'] for b in bot])} victims."
        )
        negative: Counter[str] = Counter()
        for c in classes:
            negative.update(c["negative"])
        if negative:
            why = "; ".join(f"{n} because {reason}" for reason, n in sorted(negative.items()))
            line += f" Negative losses over all seeds: {why}."
        lines.append(line)
    return lines


def closure_section(runs: Runs, seeds: Sequence[int], column: str) -> list[str]:
    """Whether each run's books close exactly in wei (or which do not), and the mean value
    change of each kind of holder per label, with the agents and the burned fee beside them."""
    checked = [(label, r) for label, group in runs.items() for r in group if "closure" in r.summary]
    if not checked:
        return []
    failures = [
        f"{label} seed {r.summary['seed']}"
        for label, r in checked
        if not r.summary["closure"]["closes"]
    ]
    total = f"{len(seeds)} x {len(runs)}"
    if failures:
        head = f"Closure fails on {len(failures)} of the {total} runs: {', '.join(failures)}."
    else:
        residual = max(abs(r.summary["closure"]["valued"]["residual"]) for _, r in checked)
        head = (
            f"Closure is exact in wei on all {total} runs (per token and for ETH plus the burned "
            f"base fee); the largest valued residual, from float valuation, is {residual:.1e}."
        )
    unit = checked[0][1].summary["numeraire"]
    rows: list[list[object]] = []
    for label, group in runs.items():
        closures = [r.summary["closure"] for r in group if "closure" in r.summary]
        kinds = sorted({h["kind"] for c in closures for h in c["holders"]})
        rows.append([label, "agents", _mean_text([c["valued"]["agents"] for c in closures])])
        for kind in kinds:
            values = [
                sum(h["value_change"] for h in c["holders"] if h["kind"] == kind) for c in closures
            ]
            rows.append([label, kind, _mean_text(values)])
        rows.append(
            [label, "burned base fee", _mean_text([c["valued"]["burned"] for c in closures])]
        )
    header = [column, "holder", f"value change ({unit}), mean [95% interval]"]
    return [head, "", *markdown_table(header, rows, "llr")]


def detector_table(runs: Runs, column: str) -> list[str]:
    """The receipt-only detector per label: true and detected cases summed over the seeds,
    precision and recall as means with intervals over the seeds where they are defined."""
    rows = []
    for label, group in runs.items():
        cells: list[object] = [label]
        for case in ("sandwiches", "backruns"):
            found = [r.summary[case] for r in group if case in r.summary]
            precision = [f["precision"] for f in found if f["detected"]]
            recall = [f["recall"] for f in found if f["true"]]
            cells += [
                f"{sum(f['true'] for f in found)} / {sum(f['detected'] for f in found)}",
                _share_text(precision) if precision else "-",
                _share_text(recall) if recall else "-",
            ]
        rows.append(cells)
    header = [
        column,
        "sandwiches true / detected (all seeds)",
        "precision",
        "recall",
        "backruns true / detected (all seeds)",
        "precision",
        "recall",
    ]
    return markdown_table(header, rows, "l" + "r" * 6)


def kind_tables(runs: Runs, column: str, baseline: str) -> list[str]:
    """Profit per agent kind: means with intervals per label, then each label's seed-paired
    difference against ``baseline``."""
    kinds = sorted({k for group in runs.values() for r in group for k in r.summary["by_kind"]})
    unit = next(iter(runs.values()))[0].summary["numeraire"]
    metrics = [
        Metric(
            kind,
            kind,
            f"holdings change of the {kind} agents at the final reference prices, net of gas.",
            partial(_kind_profit, kind=kind),
        )
        for kind in kinds
    ]
    summaries = {label: [r.summary for r in group] for label, group in runs.items()}
    stats = seed_stats(summaries, metrics, baseline)
    lines = [
        f"Mean [95% interval] in {unit}:",
        "",
        *stats_table(column, stats, metrics),
    ]
    if len(runs) > 1:
        lines += [
            "",
            f"Seed-paired difference against {baseline}:",
            "",
            *stats_table(column, stats, metrics, differences=True),
        ]
    return lines


VICTIM_NOTES = (
    "Victims: loss, victims and fates are means over the seeds with 95% intervals (counts' "
    "and shares' intervals clipped to their range, here and in every table). A loss is "
    "negative only where the replay without the attacker shows the victim gained (the reasons "
    "are counted over every seed)."
)


def _headline_tables(
    stats: Stats, metrics: Sequence[Metric], column: str, baseline: str, n: int
) -> list[str]:
    money, other = list(metrics[:7]), list(metrics[7:])
    lines = [f"Mean [95% t-interval] over {seeds_text(n)}.", ""]
    lines += [*stats_table(column, stats, money), "", *stats_table(column, stats, other), ""]
    if len(stats) > 1:
        lines += [
            f"### Seed-paired differences against {baseline}",
            "",
            f"Each {column} minus {baseline} on the same seed, mean [95% t-interval]; a "
            f'difference whose interval contains zero reads "not distinguishable".',
            "",
            *stats_table(column, stats, money, differences=True),
            "",
            *stats_table(column, stats, other, differences=True),
            "",
        ]
    return [*lines, "How each number is measured:", "", *definition_lines(metrics), ""]


def comparison_text(
    title: str,
    intro: Sequence[str],
    runs: Runs,
    seeds: Sequence[int],
    plot_lines: Sequence[str],
    *,
    column: str,
    baseline: str,
) -> str:
    """The text of a comparison's ``report.md``: the answer first, then the tables.

    Args:
        title: The report's title.
        intro: Lines about the scenario, under the answer.
        runs: Each label's runs, one per seed in the order of ``seeds``.
        seeds: The root seeds every label ran.
        plot_lines: The ``Plots`` section.
        column: What the labels differ in (``policy`` or ``variant``).
        baseline: The label paired differences are taken against.
    """
    metrics, stats = market_stats(runs, baseline)
    lines = [
        f"# {title}",
        "",
        *who_pays_paragraph(stats, metrics, seeds, column, baseline),
        "",
        *intro,
        "",
        "## Headline numbers",
        "",
        *_headline_tables(stats, metrics, column, baseline, len(seeds)),
        "## Victims",
        "",
        VICTIM_NOTES,
        "",
        *victim_lines(runs),
        "",
        "## Closure",
        "",
        *closure_section(runs, seeds, column),
        "",
        CLOSURE_NOTES,
        "",
        "## Detection from receipts alone",
        "",
        *detector_table(runs, column),
        "",
        DETECTION_NOTES,
        "",
        "## Profit by agent kind",
        "",
        *kind_tables(runs, column, baseline),
        "",
    ]
    first = [group[0] for group in runs.values()]
    intents = intents_table(first, column)
    if intents:
        lines += [
            f"## Intents (seed {seeds[0]})",
            "",
            *intents,
            "",
            INTENTS_NOTES,
            "",
            INTENTS_NOTE,
            "",
        ]
    return "\n".join([*lines, *plot_lines])


INTENTS_NOTE = (
    "The intents table is one seed's; each run's own report (in its seed directory) has its "
    "own, and the headline numbers above cover every seed."
)
