"""What a market run measured: the rows of its tables and its summary, from its accounting.

Each metric is a small named function of the finished run's accounting
(``agentbed.agents.market.accounting.RunAccount``) and block metrics; :func:`summarize` is
the collector that calls them and gathers the results into a :class:`RunReport`. Writing the
results (CSV, JSON, plots, Markdown) is ``agentbed.agents.market.report``'s part.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentbed.agents.market.intent_accounting import maker_pnl
from agentbed.agents.market.mev import DetectedSandwich
from agentbed.agents.market.truth import BACKRUN_RECOVERY
from agentbed.agents.market.victims import FATES
from agentbed.agents.reporting.stats import delay_summary, mean, quantile
from agentbed.agents.reporting.tables import metrics_row

if TYPE_CHECKING:
    from agentbed.agents.market.accounting import AgentAccount, RunAccount, Valuation
    from agentbed.agents.sim import BlockMetrics, Simulation
    from agentbed.experiments.scenario import Scenario


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
# Table rows
# ---------------------------------------------------------------------------------------------


def block_rows(metrics: Sequence[BlockMetrics], account: RunAccount) -> list[dict[str, Any]]:
    """``blocks.csv``: each block's own metrics, fees paid to the builder, the base fee burned,
    and the victim loss and searcher profit accounted to it (not cumulative)."""
    series = {b.number: b for b in account.blocks}
    return [
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


def agent_rows(account: RunAccount) -> list[dict[str, Any]]:
    """``agents.csv``: each agent's transactions, ETH paid, profit and holdings change
    (``symbol:+amount`` pairs in smallest units)."""
    return [
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


def victim_rows(account: RunAccount) -> list[dict[str, Any]]:
    """``victims.csv``: each victim's fate and class (bot-on-user or bot-on-bot), its output
    against the same block without the attacker's txs, the loss in wei of the output token,
    of gas, and in the numeraire, who hit it, and why a negative loss is one."""
    symbols = account.valuation.symbols
    return [
        {
            "tx": "0x" + v.tx.hex(),
            "agent": v.agent,
            "block": v.block,
            "fate": v.fate,
            "class": "bot-on-bot" if v.bot else "bot-on-user",
            "pool": v.pool,
            "token_out": symbols.get(v.token_out, v.token_out),
            "actual_out": v.actual_out,
            "counterfactual_out": v.counterfactual_out,
            "loss": v.loss,
            "gas_loss_wei": v.gas_loss,
            "value": v.value,
            "attack": v.attack,
            "attackers": " ".join(v.attackers),
            "delay_blocks": "" if v.delay is None else v.delay,
            "note": v.note,
        }
        for v in account.victims
    ]


# ---------------------------------------------------------------------------------------------
# Summary metrics
# ---------------------------------------------------------------------------------------------


def kind_totals(account: RunAccount) -> dict[str, dict[str, Any]]:
    """Per agent kind, in order of first appearance: agents, transactions, ETH paid (wei) and
    the sum of the agents' profits."""
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
    return by_kind


def victim_loss_by_token(account: RunAccount) -> dict[str, int]:
    """Bot-on-user victims' losses of output summed per output token (by symbol, sorted), in
    its smallest units."""
    symbols = account.valuation.symbols
    loss_wei: dict[str, int] = defaultdict(int)
    for v in account.user_victims:
        loss_wei[symbols.get(v.token_out, v.token_out)] += v.loss
    return dict(sorted(loss_wei.items()))


def victim_classes(account: RunAccount) -> dict[str, Any]:
    """Victim counts and losses (numeraire) by class and fate, and the victims whose loss is
    negative (the replay shows they gained) with why."""
    classes: dict[str, Any] = {}
    for name, bot in (("bot_on_user", False), ("bot_on_bot", True)):
        group = [v for v in account.victims if v.bot == bot]
        classes[name] = {
            "victims": len(group),
            "loss": sum(v.value for v in group),
            **{
                fate: {
                    "victims": sum(1 for v in group if v.fate == fate),
                    "loss": sum(v.value for v in group if v.fate == fate),
                }
                for fate in FATES
            },
        }
    gained: dict[str, int] = defaultdict(int)
    for v in account.victims:
        if v.note:
            gained[v.note] += 1
    classes["negative"] = dict(sorted(gained.items()))
    return classes


def builder_revenue(metrics: Sequence[BlockMetrics], valuation: Valuation) -> dict[str, Any]:
    """What the block builder was paid: priority fees and direct coinbase transfers (wei), and
    both together in the numeraire."""
    tips = sum(m.priority_fees for m in metrics)
    direct = sum(m.coinbase_transfers for m in metrics)
    return {
        "priority_fees_wei": tips,
        "coinbase_transfers_wei": direct,
        "revenue": valuation.value_eth(tips + direct),
    }


def producer_share(agents: Sequence[AgentAccount], valuation: Valuation) -> dict[str, Any]:
    """How the searchers' extracted value splits between them and the block producer.

    ``paid`` is what the searchers paid the producer: their priority fees (tips above the base
    fee) and direct coinbase transfers, failed txs included. ``extracted`` is their value
    before paying it: their net profit plus ``paid``. ``share`` = ``paid / extracted``, the
    producer's share of extracted value (None when ``extracted`` is not positive); the
    searchers keep ``1 - share``. The base fee they burned is a cost outside both (it is in
    neither their profit nor ``paid``). Other agents' tips are the producer's revenue but not
    extracted value, so they are left out (``builder.revenue`` has them). In the numeraire.
    """
    searchers = [a for a in agents if a.searcher]
    paid = valuation.value_eth(sum(a.tips_paid + a.coinbase_paid for a in searchers))
    extracted = sum(a.profit for a in searchers) + paid
    return {
        "share": paid / extracted if extracted > 0 else None,
        "paid": paid,
        "extracted": extracted,
    }


def mev_cases(account: RunAccount) -> dict[str, Any]:
    """Sandwiches, backruns and frontruns: attempted and true (ground truth) against what the
    receipt-only detector found, with its precision and recall per kind, and the victims that
    reverted behind a front."""
    truth = account.truth
    detected_sandwiches = sum(1 for d in account.detected if isinstance(d, DetectedSandwich))
    return {
        "sandwiches": {
            "attempted": truth.sandwich_attempts,
            "true": truth.count("sandwich"),
            "detected": detected_sandwiches,
            "precision": account.sandwich_score.precision,
            "recall": account.sandwich_score.recall,
        },
        "backruns": backrun_cases(account),
        "frontruns": {"attempted": truth.frontrun_attempts, "landed": len(truth.frontruns)},
        "victims_reverted": truth.reverted_victims,
    }


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is 0 (a rate over no cases is undefined)."""
    return part / whole if whole else None


def backrun_cases(account: RunAccount) -> dict[str, Any]:
    """The receipt-only backrun detector against the behaviour-defined truth
    (:func:`agentbed.agents.market.truth.behavioural_backruns`): true and detected cases, the
    matches, and precision and recall (None where there is nothing to divide by)."""
    score = account.backrun_score
    found = score.true_positives + score.false_positives
    real = score.true_positives + score.false_negatives
    return {
        "recovery": BACKRUN_RECOVERY,
        "true": account.truth.count("backrun"),
        "detected": found,
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "false_negatives": score.false_negatives,
        "precision": share(score.true_positives, found),
        "recall": share(score.true_positives, real),
    }


def detection(account: RunAccount) -> dict[str, Any]:
    """The detector's score over both kinds: precision, recall and the case counts."""
    overall = account.overall_score
    return {
        "precision": overall.precision,
        "recall": overall.recall,
        "true_positives": overall.true_positives,
        "false_positives": overall.false_positives,
        "false_negatives": overall.false_negatives,
    }


def base_fee_summary(metrics: Sequence[BlockMetrics]) -> dict[str, Any]:
    """The base fee (wei) at the first and last block and its mean over the blocks."""
    return {
        "first": metrics[0].base_fee if metrics else 0,
        "last": metrics[-1].base_fee if metrics else 0,
        "mean": mean([m.base_fee for m in metrics]),
    }


def intents_summary(account: RunAccount) -> dict[str, Any]:
    """The ``intents`` block of a run with an intent book: fills, surplus, rewards, latency,
    conditional intents, price dispersion within batches, and the victim loss of each group
    of traders (so that a variant sending the makers' trades as public swaps compares)."""
    stats = account.intents
    assert stats is not None
    latencies = stats.latencies_ms
    makers = {a.name for a in account.agents if a.kind == "intent_maker"}
    spreads = stats.price_spreads_bps
    return {
        "posted": stats.posted,
        "filled": stats.filled,
        "fill_rate": stats.fill_rate,
        "maker_pnl": maker_pnl(account.agents),  # full P&L per maker (intent_accounting)
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
        "maker_victim_loss": sum(v.value for v in account.user_victims if v.agent in makers),
        "public_victim_loss": sum(v.value for v in account.user_victims if v.agent not in makers),
        "victim_loss_by_group": victim_loss_by_group(account),
    }


def victim_loss_by_group(account: RunAccount) -> dict[str, float]:
    """Victim loss (numeraire) per scenario group of non-searcher agents.

    A scenario group's agents are built in a row and named name0, name1, ...: one scan
    recovers the groups (a kind would not do: a variant may make the makers retail traders).
    """
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
    for v in account.user_victims:
        if group_of.get(v.agent) in by_group:
            by_group[group_of[v.agent]] += v.value
    return by_group


# ---------------------------------------------------------------------------------------------
# The collector
# ---------------------------------------------------------------------------------------------


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
    burned = sum(m.burned for m in metrics)
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
        "victims": len(account.user_victims),
        "bot_victim_loss": account.bot_victim_loss,
        "victim_classes": victim_classes(account),
        "victim_loss_wei": victim_loss_by_token(account),
        "searcher_profit": account.searcher_profit,
        "builder": builder_revenue(metrics, valuation),
        "producer_share": producer_share(account.agents, valuation),
        "burned_wei": burned,
        "burned": valuation.value_eth(burned),
        **mev_cases(account),
        "detection": detection(account),
        "inclusion_delay_ms": delay_summary(account.waits_ms),
        "base_fee": base_fee_summary(metrics),
        "fullness_mean": mean([m.fullness for m in metrics]),
        "by_kind": kind_totals(account),
    }
    if account.intents is not None:
        summary["intents"] = intents_summary(account)
    return RunReport(
        policy,
        summary,
        block_rows(metrics, account),
        agent_rows(account),
        victim_rows(account),
        list(account.waits_ms),
    )


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line about a run's summary (txs, reverts, victim loss, searcher profit)."""
    unit = summary["numeraire"]
    return (
        f"{summary['txs']} txs ({summary['reverted']} reverted), victim loss "
        f"{summary['victim_loss']:,.2f} {unit}, searcher profit "
        f"{summary['searcher_profit']:,.2f} {unit}"
    )
