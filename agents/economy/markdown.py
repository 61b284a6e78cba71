"""The Markdown of economy reports: the comparison table and its definitions, sellers by
behaviour, credentials, congestion, agents by kind, and the report text that holds them.

Everything here reads the runs' summaries (``EconomyReport.summary``) only; the files are
written by ``agentbed.agents.economy.report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from agentbed.agents.closure import closure_line
from agentbed.agents.economy.closure import CURRENCY_SYMBOL
from agentbed.agents.economy.collector import EconomyReport
from agentbed.agents.economy.world import TOKEN
from agentbed.agents.reporting.tables import markdown_table, number_text, percent_text

DEFINITIONS: Final = (
    "Rates are over the agreements that were accepted and have closed: settlement = released "
    "(both parties confirmed); disputes = ruled or left unruled by the arbitrator; timeouts = "
    "closed by a delivery timeout; default = the seller never confirmed delivery. The "
    "opportunistic timeout rate is that rate over the opportunistic sellers' agreements. "
    "Welfare, in currency tokens: the trade surplus (buyer's value minus seller's cost) of "
    "every delivered agreement, plus the outside gains opportunistic sellers took by "
    "defaulting, minus bonds and stake slashed to the treasury; gas is not included. Slashed: "
    "bonds slashed at timeouts plus arbitrators' stake slashed for missing the ruling window. "
    "Gini: of the economy agents' holdings (currency balance plus stake; deposits locked in "
    "open agreements are not counted), at the last block. "
    "AUC: the probability that an honest seller's on-chain trust score ((good + 1) / (all + "
    "2) over its attested outcomes) is above a dishonest seller's, ties counting half, at the "
    "last block (0.5: reputation does not separate them). Honest share: the buyers' "
    "proposals that went to honest sellers. Bribed rulings: rulings a corruptible arbitrator "
    "gave a seller for a side payment. Mean inclusion delay: from a transaction's arrival in "
    "the pool to its block, over every transaction mined during the run."
)
CONGESTION_NOTES: Final = (
    "Priced out: transactions sent during the run that were never mined by its end "
    "(evicted, replaced, or still waiting, e.g. under a fee cap below the base fee). Broken "
    "commitments: agreements that timed out or were ruled against the seller although the "
    "seller had decided to deliver, i.e. broken by something other than the seller's "
    "choice. Missed acceptances: proposals a seller meant to accept that expired instead. "
    "Late deliveries: sellers' delivery confirmations that were mined but reverted (past the "
    "deadline, or the agreement already settled)."
)


def comparison_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """The comparison table, one row per run, as Markdown lines."""
    header = [
        column,
        "settlement",
        "timeouts",
        "disputes",
        "opportunistic timeout rate",
        "welfare",
        "slashed",
        "Gini last",
        "AUC last",
        "honest share of choices",
        "bribed rulings",
        "mean inclusion delay (s)",
    ]
    rows = []
    for run in reports:
        s = run.summary
        opportunistic = s["by_behaviour"].get("opportunistic")
        rows.append(
            [
                run.label,
                percent_text(s["settlement_rate"]),
                percent_text(s["timeout_rate"]),
                percent_text(s["dispute_rate"]),
                percent_text(opportunistic["timeout_rate"]) if opportunistic else "-",
                number_text(s["welfare"]["total"]),
                number_text(s["welfare"]["slashed"]),
                f"{s['gini']['last']:.3f}",
                f"{s['auc']['last']:.2f}",
                percent_text(s["choice"]["honest_share"]),
                s["bribes"]["bribed_rulings"],
                f"{s['inclusion_delay_ms']['mean'] / 1000:.2f}",
            ]
        )
    return markdown_table(header, rows, "l" + "r" * 11)


def behaviour_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """Sellers by behaviour in each run, as Markdown lines."""
    header = [
        column,
        "behaviour",
        "sellers",
        "agreements",
        "delivered",
        "timeout rate",
        "default rate",
        "disputes lost",
        "mean trust",
    ]
    rows = [
        [
            run.label,
            behaviour,
            row["sellers"],
            row["deals"],
            row["delivered"],
            percent_text(row["timeout_rate"]),
            percent_text(row["default_rate"]),
            row["dispute_lost"],
            f"{row['trust_mean']:.2f}",
        ]
        for run in reports
        for behaviour, row in run.summary["by_behaviour"].items()
    ]
    return markdown_table(header, rows, "ll" + "r" * 7)


def congestion_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """Fees, fullness and what congestion did to commitments, as Markdown lines."""
    header = [
        column,
        "base fee max (gwei)",
        "mean fullness",
        "priced out",
        "broken commitments",
        "missed acceptances",
        "late deliveries",
    ]
    rows = []
    for run in reports:
        s = run.summary
        rows.append(
            [
                run.label,
                f"{s['base_fee']['max'] / 1e9:,.2f}",
                percent_text(s["fullness_mean"]),
                s["priced_out"],
                s["broken_commitments"],
                s["missed_acceptances"],
                s["late_deliveries"],
            ]
        )
    return markdown_table(header, rows, "l" + "r" * 6)


def credentials_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """Off-chain credentials issued, revoked, forged and rejected, as Markdown lines (none
    when no run had an issuer or a forger)."""
    if not any(
        r.summary["credentials"]["issued"] or r.summary["credentials"]["forged"] for r in reports
    ):
        return []
    header = [column, "issued", "revoked", "forged", "rejected by verifying buyers"]
    rows = []
    for run in reports:
        c = run.summary["credentials"]
        why = ", ".join(f"{reason} {n}" for reason, n in c["rejected"].items()) or "none"
        rows.append([run.label, c["issued"], c["revoked"], c["forged"], why])
    return markdown_table(header, rows, "lrrrl")


def kind_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """Transactions and net result per agent kind in each run, as Markdown lines."""
    header = [
        column,
        "kind",
        "agents",
        "sent",
        "included",
        "priced out",
        "mean inclusion delay (s)",
        "net (tokens)",
    ]
    rows = [
        [
            run.label,
            kind,
            row["agents"],
            row["sent"],
            row["included"],
            row["priced_out"],
            f"{row['inclusion_delay_ms_mean'] / 1000:.2f}",
            number_text(row["net"]),
        ]
        for run in reports
        for kind, row in run.summary["by_kind"].items()
    ]
    return markdown_table(header, rows, "ll" + "r" * 6)


SAFETY_NOTES: Final = (
    "p: the buyer's trust estimate of a seller when proposing ((good + 1) / (all + 2) over "
    "its record plus accepted credentials). Accepted: the sellers proposed to; rejected: the "
    "other sellers each proposal scored. Toxicity = E[1 - p | accepted]; quality gap = E[p | "
    "accepted] - E[p | rejected] (negative: adverse selection); harm realised: share of closed "
    "accepted deals the seller did not deliver; Brier: mean (p - delivered)^2; ECE: expected "
    "calibration error over 5 equal-width bins of p (agentbed.agents.economy.safety)."
)


def safety_table(reports: Sequence[EconomyReport], column: str = "variant") -> list[str]:
    """Toxicity, quality gap and calibration per run, as Markdown lines."""
    header = [column, "accepted", "toxicity", "quality gap", "harm realised", "Brier", "ECE"]
    rows = []
    for report in reports:
        safety = report.summary.get("safety", {})
        rows.append(
            [
                report.label,
                str(safety.get("accepted", 0)),
                f"{safety.get('toxicity', 0.0):.3f}",
                f"{safety.get('quality_gap', 0.0):+.3f}",
                percent_text(safety.get("harm_realised", 0.0)),
                f"{safety.get('brier', 0.0):.3f}",
                f"{safety.get('calibration_error', 0.0):.3f}",
            ]
        )
    return markdown_table(header, rows, "lrrrrrr")


def _credentials_section(reports: Sequence[EconomyReport], column: str) -> list[str]:
    table = credentials_table(reports, column)
    if not table:
        return []
    return [
        "## Credentials",
        "",
        *table,
        "",
        "Issuers sign a credential for each delivered agreement and revoke a seller's earlier "
        "ones when it defaults; dishonest sellers show forged ones. Buyers that verify check "
        "each shown credential off-chain (signature, subject, registered issuer, not revoked, "
        "not expired) and ignore the invalid ones; naive buyers count all of them.",
        "",
    ]


def closure_lines(reports: Sequence[EconomyReport], column: str) -> list[str]:
    """Each run's closure line, and the non-agent holders' changes (currency and ETH, in
    tokens) beside the agents' total."""
    runs = [r for r in reports if "closure" in r.summary]
    if not runs:
        return []
    lines: list[str] = []
    rows: list[list[object]] = []
    for report in runs:
        c = report.summary["closure"]
        prefix = f"{report.label}: " if len(reports) > 1 else ""
        lines += [prefix + closure_line(c), ""]
        agents = c["agents"]
        rows.append(
            [
                report.label,
                f"agents ({report.summary['agents']})",
                "agents",
                f"{agents['currency_change_wei'] / TOKEN:,.4f}",
                f"{agents['eth_change_wei'] / TOKEN:,.6f}",
            ]
        )
        rows += [
            [
                report.label,
                h["name"],
                h["kind"],
                f"{h['currency_change_wei'] / TOKEN:,.4f}",
                f"{h['eth_change_wei'] / TOKEN:,.6f}",
            ]
            for h in c["holders"]
        ]
        burned = c["eth"]["burned_wei"] / TOKEN
        minted = (
            c["tokens"][CURRENCY_SYMBOL]["minted_wei"] - c["tokens"][CURRENCY_SYMBOL]["burned_wei"]
        )
        rows.append(
            [
                report.label,
                "burned base fee / net mint",
                "source",
                f"{-minted / TOKEN:,.4f}",
                f"{burned:,.6f}",
            ]
        )
    header = [column, "address", "kind", "currency change (AGC)", "ETH change"]
    return lines + markdown_table(header, rows, "lllrr")


CLOSURE_NOTES = (
    "Closure: every address holding currency or ETH, at the block before the run and at its "
    "last block. The holders' currency changes sum to what was minted minus burned (slashing "
    "to address(0) is a burn), and their ETH changes plus the burned base fee sum to zero, "
    "both exactly in wei; the last row is what closes each column (minus the net mint, plus "
    "the burned fee)."
)


def report_text(
    title: str,
    intro: Sequence[str],
    reports: Sequence[EconomyReport],
    plot_lines: Sequence[str],
    column: str,
) -> str:
    """The text of ``report.md`` for ``reports`` (one run, or a comparison).

    Args:
        title: The report's title.
        intro: Lines under the title.
        reports: The runs it covers, one table row each.
        plot_lines: The ``Plots`` section (``agentbed.agents.reporting.plots.plot_section``).
        column: What the runs differ in, the first column of the tables.
    """
    lines = [
        f"# {title}",
        "",
        *intro,
        "",
        "## Comparison",
        "",
        *comparison_table(reports, column),
        "",
        DEFINITIONS,
        "",
        "## Sellers by behaviour",
        "",
        *behaviour_table(reports, column),
        "",
        "Agreements: every proposal addressed to the behaviour's sellers. Rates are over those "
        "accepted and closed. Mean trust: the sellers' on-chain trust scores at the end.",
        "",
        "## Distributional safety",
        "",
        *safety_table(reports, column),
        "",
        SAFETY_NOTES,
        "",
        *_credentials_section(reports, column),
        "## Congestion",
        "",
        *congestion_table(reports, column),
        "",
        CONGESTION_NOTES,
        "",
        "## Closure",
        "",
        *closure_lines(reports, column),
        "",
        CLOSURE_NOTES,
        "",
        "## By agent kind",
        "",
        *kind_table(reports, column),
        "",
        "Net: change in currency balance and stake, plus the value of services received, "
        "minus delivery costs, plus outside gains, in tokens (gas not included).",
        "",
        *plot_lines,
    ]
    return "\n".join(lines)
