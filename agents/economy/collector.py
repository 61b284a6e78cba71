"""The collector of an economy run: calls the named metrics of
``agentbed.agents.economy.metrics`` on the finished run and gathers their results into an
:class:`EconomyReport`, the plain data every economy report is written from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbed.agents.economy.governance import treasury
from agentbed.agents.economy.metrics import (
    agent_rows,
    base_fee,
    block_rows,
    bribes,
    buyer_choice,
    congestion,
    credentials,
    deal_counts,
    deal_rows,
    gini_series,
    holdings_gini,
    kind_totals,
    net_results,
    outcome_rates,
    reputation_auc,
    reputation_auc_series,
    seller_behaviour,
    slashing,
    welfare,
)
from agentbed.agents.economy.observations import EconomyRun
from agentbed.agents.economy.safety import safety
from agentbed.agents.economy.strategies.auditor import Auditor
from agentbed.agents.reporting.stats import delay_summary, mean

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Economy
    from agentbed.agents.sim import Simulation


@dataclass(frozen=True, slots=True)
class EconomyReport:
    """Everything one economy run contributes to reports; plain data, so it crosses processes.

    Attributes:
        label: The run's name in comparisons: a variant name or a policy name.
        summary: The run's ``summary.json`` content.
        blocks: Rows of ``blocks.csv``.
        agents: Rows of ``agents.csv``.
        deals: Rows of ``deals.csv``, one per agreement.
        waits_ms: Inclusion delay of every tx mined during the run.
    """

    label: str
    summary: dict[str, Any]
    blocks: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    deals: list[dict[str, Any]]
    waits_ms: list[int]


def summarize_economy(
    sim: Simulation,
    economy: Economy,
    *,
    label: str,
    seed: int,
    scenario_name: str,
    kinds: Mapping[str, str],
) -> EconomyReport:
    """Collect one finished economy run's report data.

    The economy's agents are the escrow roles (buyers, sellers, arbitrators) and any agent
    holding currency or stake at the start or the end; their holdings (currency balance plus
    stake, bonded and unbonding) are read on-chain at the block before the run, at its last
    block, and for the Gini series at up to about ``MAX_SAMPLES`` blocks in between. Sent,
    included and priced-out counts cover the run's transactions, not the set-up's.

    Args:
        sim: The finished simulation (its ``market`` is ``economy``).
        economy: The run's economy.
        label: The run's name in comparisons (a variant or a policy name).
        seed: The root seed it ran with.
        scenario_name: The scenario's name.
        kinds: Agent name -> its scenario kind ("buyer", "seller", "spammer", ...); agents not
            in it are listed under their class name.
    """
    run = EconomyRun(sim, economy, kinds)
    metrics = run.metrics
    gini_at = gini_series(run)
    auc_at = reputation_auc_series(run)
    net_wei = net_results(run)
    summary: dict[str, Any] = {
        "scenario": scenario_name,
        "seed": seed,
        "label": label,
        "blocks": len(metrics),
        "agents": len(run.agents),
        "economy_agents": len(run.holdings.members),
        "timeout_policy": economy.timeout_policy,
        "txs": sum(m.txs for m in metrics),
        "reverted": sum(m.reverted for m in metrics),
        "deals": deal_counts(run),
        **outcome_rates(run),
        "by_behaviour": seller_behaviour(run),
        "welfare": welfare(run),
        "slashing": slashing(run),
        "gini": holdings_gini(gini_at),
        "auc": reputation_auc(run, auc_at),
        "choice": buyer_choice(run),
        "credentials": credentials(run),
        "bribes": bribes(run),
        "base_fee": base_fee(run),
        "fullness_mean": mean([m.fullness for m in metrics]),
        "inclusion_delay_ms": delay_summary(run.txs.waits_ms),
        **congestion(run),
        "by_kind": kind_totals(run, net_wei),
        "safety": safety(run),
    }
    if economy.governor.rules.on_chain:
        summary["governance"] = economy.governor.summary(run.names)
        if economy.governor.rules.tax_bps:
            summary["governance"]["treasury"] = treasury(economy.escrow)
        if economy.governor.rules.collusion_z:
            frozen = economy.escrow.functions.frozen
            summary["governance"]["frozen_on_chain"] = sorted(
                a.name for a in run.agents if frozen(a.address).call()
            )
    if any(s.min_margin is not None for s in run.sellers):
        # Sellers that left the market for the tax's margin, by behaviour (0s kept: metrics).
        gone = [s.behaviour for s in run.sellers if s.priced_out]
        summary["priced_out"] = {
            "total": len(gone),
            **{b: gone.count(b) for b in sorted({s.behaviour for s in run.sellers})},
        }
    auditors = [a for a in run.agents if isinstance(a, Auditor)]
    if auditors:
        summary["audits"] = {
            "audited": sum(len(a.audited) for a in auditors),
            "violations": sum(len(a.violations) for a in auditors),
        }
    return EconomyReport(
        label,
        summary,
        block_rows(run, gini_at, auc_at),
        agent_rows(run, net_wei),
        deal_rows(run),
        list(run.txs.waits_ms),
    )
