"""The Markdown of a market run's report: its tables, who paid whom, the detector's scores,
profit by agent kind, intents, and the report text that holds them (a comparison over seeds is
written by ``agentbed.agents.market.comparison``, which reuses the notes defined here).

Everything here reads the runs' summaries (``RunReport.summary``) only; the files are written
by ``agentbed.agents.market.report``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentbed.agents.blockprod.loopmetrics import BLOCK_PRODUCTION_NOTES, block_production_lines
from agentbed.agents.closure import closure_line
from agentbed.agents.market.metrics import RunReport
from agentbed.agents.reporting.tables import markdown_table, number_text, percent_text


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


def detector_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """The detector's scores per run and kind, as Markdown lines."""
    header = [
        column,
        "sandwiches true / detected",
        "precision",
        "recall",
        "backruns true / detected",
        "matched / false / missed",
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
                _rate_text(sw["precision"] if sw["detected"] else None),
                _rate_text(sw["recall"] if sw["true"] else None),
                f"{br['true']} / {br['detected']}",
                f"{br['true_positives']} / {br['false_positives']} / {br['false_negatives']}",
                _rate_text(br["precision"]),
                _rate_text(br["recall"]),
            ]
        )
    return markdown_table(header, rows, "l" + "r" * 7)


def _rate_text(value: float | None) -> str:
    """A share as a percentage, ``n/a`` when it is undefined (no cases to divide by)."""
    return "n/a" if value is None else percent_text(value)


def lvr_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """Per run and pool: LVR (ex post and the ideal benchmark), fees, the LVR of the
    arbitrageurs' own swaps and their realised profit, as Markdown lines (empty when no run
    recorded its reference path)."""
    rows: list[list[object]] = []
    for run in runs:
        lvr = run.summary.get("lvr")
        if not lvr:
            continue
        for pool in lvr["pools"]:
            rows.append(
                [
                    run.label,
                    pool["pool"],
                    pool["swaps"],
                    number_text(pool["lvr"]),
                    number_text(pool["fees"]),
                    number_text(pool["lvr_ideal"]),
                    number_text(pool["lvr_arbitrageur_swaps"]),
                    number_text(pool["arbitrage_profit"]),
                ]
            )
        rows.append(
            [
                run.label,
                "not on one pool",
                "",
                "",
                "",
                "",
                "",
                number_text(lvr["arbitrage_unattributed"]),
            ]
        )
    if not rows:
        return []
    unit = runs[0].summary["numeraire"]
    header = [
        column,
        "pool",
        "swaps",
        f"LVR ({unit})",
        f"fees ({unit})",
        f"ideal LVR ({unit})",
        f"LVR of arbitrageurs' swaps ({unit})",
        f"arbitrage profit ({unit})",
    ]
    return markdown_table(header, rows, "ll" + "r" * 6)


def who_pays(runs: Sequence[RunReport]) -> list[str]:
    """A sentence per run on who paid whom. Runs are not compared with each other here: one
    seed cannot tell a difference from noise (a comparison over seeds is
    ``agentbed.agents.market.comparison``)."""
    if not runs:
        return []
    unit = runs[0].summary["numeraire"]
    lines = []
    for run in runs:
        s = run.summary
        extracted = s["victim_loss"]
        builder = s["builder"]["revenue"]
        traders = sum(v["profit"] for v in s["by_kind"].values() if not v["searcher"])
        payee = "the builder"
        game = s.get("block_production")
        if game:  # the coinbase paid the proposers out of its block value: count both sides
            builder = game["proposer_revenue"] + game["builder_margin"]
            payee = (
                f"the block producers (proposers {number_text(game['proposer_revenue'])}, "
                f"builders {number_text(game['builder_margin'])})"
            )
        line = (
            f"- **{run.label}**: victims lost {number_text(extracted)} {unit}; searchers netted "
            f"{number_text(s['searcher_profit'])} {unit} after paying {payee} "
            f"{number_text(builder)} {unit} (tips and direct payments) and burning "
            f"{number_text(s['burned'])} {unit} of base fee; non-searchers' net result "
            f"{number_text(traders)} {unit}."
        )
        lines.append(line)
    return lines


def victim_lines(runs: Sequence[RunReport]) -> list[str]:
    """Per run, the victim loss by class and fate, and why any victim's loss is negative."""
    lines = []
    for run in runs:
        classes = run.summary.get("victim_classes")
        if not classes:
            continue
        unit = run.summary["numeraire"]
        user, bot = classes["bot_on_user"], classes["bot_on_bot"]
        fates = ", ".join(
            f"{fate} {user[fate]['victims']}: {number_text(user[fate]['loss'])}"
            for fate in ("landed", "reverted", "displaced")
        )
        line = (
            f"- **{run.label}**: bot-on-user {number_text(user['loss'])} {unit} over "
            f"{user['victims']} victims ({fates}); bot-on-bot {number_text(bot['loss'])} {unit} "
            f"over {bot['victims']} victims."
        )
        negative = "; ".join(f"{n} because {why}" for why, n in classes["negative"].items())
        if negative:
            line += f" Negative losses: {negative}."
        lines.append(line)
    return lines


def intents_table(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """Intent fills, conditional intents, the makers' full P&L, their surplus over limits
    (secondary), price dispersion, latency and each trader group's victim loss per run (empty
    without an intent book)."""
    rows = [r for r in runs if "intents" in r.summary]
    if not rows:
        return []
    numeraire = rows[0].summary["numeraire"]
    lines = [
        f"| {column} | posted | filled | fill rate | conditional posted / filled / expired | "
        f"makers' full P&L ({numeraire}) | "
        f"makers' surplus over limit ({numeraire}, secondary) | per fill | "
        "price spread in a batch (bps) | "
        f"solver rewards ({numeraire}) | mean fill latency (s) | victim loss by group |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
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
            f"{number_text(sum(i.get('maker_pnl', {}).values()))} | "
            f"{number_text(i['maker_surplus'])} | {number_text(i.get('surplus_per_fill', 0.0))} | "
            f"{spread.get('mean', 0.0):.1f} (max {spread.get('max', 0.0):.1f}) | "
            f"{number_text(i['solver_rewards'])} | {i['fill_latency_ms']['mean'] / 1000:.1f} | "
            f"{groups or '-'} |"
        )
    return lines


def closure_lines(runs: Sequence[RunReport], column: str = "policy") -> list[str]:
    """Each run's closure line, and a table of the addresses outside the agents table (the
    pool deployer, the pools, the coinbase, contracts) with the agents' total beside them."""
    rows = [r for r in runs if "closure" in r.summary]
    if not rows:
        return []
    numeraire = rows[0].summary["numeraire"]
    lines: list[str] = []
    for run in rows:
        c = run.summary["closure"]
        residual = f"{c['valued']['residual']:.6f}".replace("-0.000000", "0.000000")
        valued = f"valued residual {residual} {numeraire}"
        prefix = f"{run.label}: " if len(runs) > 1 else ""
        lines += [prefix + closure_line(c, valued), ""]
    table_rows: list[list[object]] = []
    for run in rows:
        c = run.summary["closure"]
        agents = run.summary["agents"]
        table_rows.append(
            [run.label, f"agents ({agents})", "agents", number_text(c["valued"]["agents"])]
        )
        table_rows += [
            [run.label, h["name"], h["kind"], number_text(h["value_change"])] for h in c["holders"]
        ]
        table_rows.append(
            [run.label, "burned base fee", "burned", number_text(c["valued"]["burned"])]
        )
    header = [column, "address", "kind", f"value change ({numeraire})"]
    return lines + markdown_table(header, table_rows, "lllr")


def unknown_calls_lines(runs: Sequence[RunReport]) -> list[str]:
    """One line per run: mined calls to a venue's pool or router that no venue could read."""
    lines = []
    for run in runs:
        count = run.summary.get("unknown_swap_calls")
        if count is not None:
            prefix = f"{run.label}: " if len(runs) > 1 else ""
            lines.append(
                f"{prefix}Unknown swap-looking calls (to a pool or router, call not decodable "
                f"by its venue): {count}."
            )
    return [*lines, ""] if lines else []


VICTIM_NOTES = (
    "Victim loss (bot-on-user): each victim's outcome in its block against the same block "
    "with the attacker's transactions removed, replayed in order on the parent state; "
    "victims that reverted behind the attack (gas and the trade they missed) and victims "
    "pushed out of the block count too; searchers' own txs hit by a rival are bot-on-bot, "
    "apart. A loss is negative only where the replay shows the victim gained. Searcher "
    "profit: holdings change valued at the final reference prices, net of gas and direct "
    "payments. Precision and recall: the "
    "receipt-only sandwich detector against the simulation's ground truth."
)
DETECTION_NOTES = (
    "A detection counts as true only when it names exactly the transactions of a true case. "
    "True backruns are defined by behaviour from the chain, whoever sent them: the next swap "
    "in the same pool and block, by another sender, in the opposite direction, that brings "
    "the pool's log price back to within half of the target's move of where the target found "
    "it (takes back 50% to 150% of the move), and is not the back of a sandwich around the "
    "target. Precision and recall read n/a where there is nothing to divide by."
)
LVR_NOTES = (
    "Loss-versus-rebalancing (Milionis, Moallemi, Roughgarden and Zhang, 2022): a portfolio "
    "that holds the pool's quantity of each token but makes the pool's trades at the "
    "reference price in force while each block was built, against the pool. LVR: over every "
    "swap on the pool, the value at that reference price of what the pool gave up along its "
    "curve, fee excluded; fees: what the pool kept (the liquidity providers end LVR minus fees "
    "behind the rebalancing portfolio). Ideal LVR: the closed form for a fee-less pool with the "
    "same liquidity that tracks the reference exactly each block, from the price path alone. "
    "LVR sums every trader's swaps: a trade against a pool at the reference has negative LVR "
    "(its trader pays the pool's spread), so other order flow offsets what the arbitrageurs "
    "take; their own swaps' part is the next column. "
    "Arbitrage profit: the arbitrageurs' swaps on the pool net of their gas there, valued like "
    "every profit at the final reference prices; 'not on one pool' is the rest of their "
    "accounted profit."
)
CLOSURE_NOTES = (
    "Closure: every address that holds value (agents, the pool deployer, the pools, the "
    "coinbase, contracts) at the start and the end of the measured blocks. Per token, the "
    "holders' changes sum to what was minted minus burned, to the wei; ETH changes plus the "
    "burned base fee sum to zero. Values: tokens at the final reference prices at both ends, "
    "LP shares looked through to their floor share of the pool's tokens (the pool keeps the "
    "dust and the locked minimum liquidity), so reserves are never counted twice."
)
INTENTS_NOTES = (
    "Intents are signed off-chain, but the solvers' settlements wait in the public "
    "mempool, and searchers read them as the pool swaps they will make: a settlement "
    "whose plan commits only to the makers' limits can be sandwiched down to them. "
    "Makers' full P&L: the maker group's holdings change at the final reference prices, "
    "net of ETH spent (the figure to compare with the same makers' trades sent as public "
    "swaps, over seeds: scripts/intents_compare.py). Conditional intents execute only "
    "beside a crossing reverse intent; expired: past their deadline unsettled at the last "
    "block. Makers' surplus over limit (secondary, not a P&L): what the makers received "
    "above their signed limits, after the solver's reward, at the final reference prices "
    "(per fill: over the filled intents). Price spread: within each batch and side, how "
    "far apart the makers' execution rates are (uniform pricing gives every maker of a "
    "side the same rate, so 0). Fill latency: from posting to the settling block. Victim loss "
    "by group: what each trader group's swaps lost to sandwiches and frontruns."
)


def _section(title: str, body: Sequence[str], notes: str) -> list[str]:
    """A titled section with its notes, or nothing when ``body`` is empty."""
    return [f"## {title}", "", *body, "", notes, ""] if body else []


def report_text(
    title: str,
    intro: Sequence[str],
    runs: Sequence[RunReport],
    plot_lines: Sequence[str],
    column: str = "policy",
) -> str:
    """The text of ``report.md`` for ``runs`` (one run, or a comparison).

    Args:
        title: The report's title.
        intro: Lines under the title.
        runs: The runs it covers, one table row each.
        plot_lines: The ``Plots`` section (``agentbed.agents.reporting.plots.plot_section``).
        column: What the runs differ in, the first column of the tables.
    """
    lines = [f"# {title}", "", *intro, "", "## Comparison", "", *comparison_table(runs, column), ""]
    victims = victim_lines(runs)
    lines += [VICTIM_NOTES, "", *victims, *([""] if victims else [])]
    lines += [
        "## Who pays for ordering",
        "",
        *who_pays(runs),
        "",
        "## Closure",
        "",
        *closure_lines(runs, column),
        "",
        CLOSURE_NOTES,
        "",
        "## Detection from receipts alone",
        "",
        *detector_table(runs, column),
        "",
        *unknown_calls_lines(runs),
        DETECTION_NOTES,
        "",
        *_section("Arbitrage against loss-versus-rebalancing", lvr_table(runs, column), LVR_NOTES),
        *_section(
            "Block production",
            block_production_lines(
                [(r.label, r.summary.get("block_production", {})) for r in runs],
                runs[0].summary["numeraire"] if runs else "",
            ),
            BLOCK_PRODUCTION_NOTES,
        ),
        "## Profit by agent kind",
        "",
        *kind_table(runs),
        "",
    ]
    intents = intents_table(runs, column)
    if intents:
        lines += ["## Intents", "", *intents, "", INTENTS_NOTES, ""]
    lines += plot_lines
    return "\n".join(lines)
