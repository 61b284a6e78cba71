"""What an economy run measured: named metrics, one per part of the report.

Each metric is a small function of the finished run (an
:class:`~agentbed.agents.economy.observations.EconomyRun`, which reads the chain once for all
of them) and, for a few, of another metric's result. Series give a value per block (the Gini
coefficient of holdings, reputation's AUC), rows fill the CSV tables, and the rest are the
sections of ``summary.json``. The collector that calls them is
``agentbed.agents.economy.collector.summarize_economy``; writing CSV, JSON, plots and Markdown
is ``agentbed.agents.economy.report``'s part.

Amounts of currency in the summary are whole tokens (wei / 1e18); rates are shares (0..1) and 0
when nothing counts.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from agentbed.agents.economy.observations import CLOSED_ACCEPTED, EconomyRun, role_of
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceSeller
from agentbed.agents.economy.strategies.issuer import ReputationIssuer
from agentbed.agents.economy.world import TOKEN, Deal, SellerRecord
from agentbed.agents.reporting.stats import mean
from agentbed.agents.reporting.tables import metrics_row

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent

MAX_SAMPLES: Final = 100
"""Most blocks at which holdings are read for the Gini series (every k-th block, plus the last)."""
ACCEPTED_STATES: Final = frozenset(
    {"Accepted", "Disputed", "Released", "Ruled", "TimedOut", "ArbitratorTimedOut"}
)
"""States an agreement can only be in once the seller accepted it."""


# ---------------------------------------------------------------------------------------------
# Pure measures
# ---------------------------------------------------------------------------------------------


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative ``values``: mean absolute difference over twice the mean.

    The plain (population) definition ``sum_ij |x_i - x_j| / (2 n^2 mean)``, without the
    ``n / (n - 1)`` small-sample correction: ``[1, 1, 1]`` gives 0, ``[0, 0, 1]`` gives 2/3,
    and one holder of everything among ``n`` gives ``(n - 1) / n``.

    Returns:
        0.0 for no values, all-equal values or an all-zero total.

    Raises:
        ValueError: a negative value.
    """
    # Kept as given: integer holdings (wei) then sum exactly, so equal holdings give exactly 0.
    ordered = sorted(values)
    if ordered and ordered[0] < 0:
        raise ValueError(f"gini needs non-negative values, got {ordered[0]}")
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return 0.0
    # Sorted form of the mean absolute difference: sum_i (2i - n - 1) x_(i), i = 1..n.
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1))
    return max(0.0, weighted / (n * total))


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Area under the ROC curve: P(positive > negative) + 0.5 P(tie) (Mann-Whitney U / mn).

    Returns:
        1.0 when every positive scores above every negative, 0.0 when below, 0.5 when all tie
        or either side is empty.
    """
    if not positives or not negatives:
        return 0.5
    ordered = sorted(negatives)
    wins = 0.0
    for p in positives:
        below = bisect.bisect_left(ordered, p)
        ties = bisect.bisect_right(ordered, p) - below
        wins += below + 0.5 * ties
    return wins / (len(positives) * len(negatives))


def attested_records(deals: Iterable[Deal], up_to_block: int) -> dict[str, SellerRecord]:
    """Each address's reputation record from the outcomes of ``deals`` closed by a block.

    The same counts the Reputation registry holds at that block (``Economy.record``), derived
    from the terminal states instead of read from the chain: Escrow attests ``completed`` for
    both parties on a release; on a ruling ``dispute-won`` for the side given at least half the
    pot and ``dispute-lost`` for the other; on a delivery timeout ``defaulted`` for each party
    that had not confirmed; nothing for parties on an expiry or an arbitrator no-show. (It
    assumes the escrow is a registered issuer, as ``Economy.deploy`` makes it.)
    """
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for deal in deals:
        if deal.closed_block is not None and deal.closed_block <= up_to_block:
            _attest(counts, deal)
    return {address: SellerRecord(*c) for address, c in counts.items()}


def _attest(counts: defaultdict[str, list[int]], deal: Deal) -> None:
    """Add a closed ``deal``'s attestations to its parties' ``SellerRecord`` counts."""
    buyer, seller = counts[deal.proposer], counts[deal.counterparty]
    if deal.state == "Released":
        buyer[0] += 1
        seller[0] += 1
    elif deal.state == "Ruled":
        buyer[2 if 2 * deal.to_proposer >= deal.pot else 3] += 1
        seller[2 if 2 * deal.to_proposer <= deal.pot else 3] += 1
    elif deal.state == "TimedOut":
        buyer[1] += not deal.proposer_confirmed
        seller[1] += not deal.counterparty_confirmed


def _tokens(wei: int) -> float:
    return wei / TOKEN


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _lost_ruling(deal: Deal) -> bool:
    """A ruling that gave the buyer more than half the pot: the seller lost it."""
    return deal.state == "Ruled" and 2 * deal.to_proposer > deal.pot


# ---------------------------------------------------------------------------------------------
# Series: a value per block
# ---------------------------------------------------------------------------------------------


def sample_blocks(numbers: Sequence[int]) -> list[int]:
    """Every k-th run block and the last, at most about ``MAX_SAMPLES``."""
    if not numbers:
        return []
    step = max(1, math.ceil(len(numbers) / MAX_SAMPLES))
    picked = list(numbers[::step])
    if picked[-1] != numbers[-1]:
        picked.append(numbers[-1])
    return picked


def gini_series(run: EconomyRun) -> dict[int, float]:
    """Gini coefficient of the economy agents' holdings at sampled blocks (:func:`sample_blocks`).

    An agent's holdings are its currency balance plus, for stakers, its stake (bonded and
    unbonding), read at that block; deposits locked in open agreements are not counted.
    """
    holdings = run.holdings
    gini_at: dict[int, float] = {}
    for block in sample_blocks(run.numbers):
        amounts = [
            holdings.balance_at(a.address, block)
            + (holdings.stake_at(a.address, block) if a.name in holdings.stakers else 0)
            for a in holdings.members
        ]
        gini_at[block] = gini(amounts)
    return gini_at


def reputation_auc_series(run: EconomyRun) -> dict[int, float]:
    """At each run block, how well on-chain reputation separates honest from dishonest sellers.

    The AUC of the honest sellers' trust scores (``SellerRecord.trust``) against the other
    sellers', from the attestations of the agreements closed by that block
    (:func:`attested_records`, counted in one pass in closing order).
    """
    closing = sorted(
        ((d.closed_block, d) for d in run.deals if d.closed_block is not None), key=lambda c: c[0]
    )
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    honest_sellers = [s.address for s in run.sellers if s.behaviour == "honest"]
    dishonest_sellers = [s.address for s in run.sellers if s.behaviour != "honest"]
    attested = 0
    auc_at: dict[int, float] = {}
    for block in run.numbers:
        while attested < len(closing) and closing[attested][0] <= block:
            _attest(counts, closing[attested][1])
            attested += 1
        auc_at[block] = auc(
            [SellerRecord(*counts[a]).trust() for a in honest_sellers],
            [SellerRecord(*counts[a]).trust() for a in dishonest_sellers],
        )
    return auc_at


# ---------------------------------------------------------------------------------------------
# Table rows
# ---------------------------------------------------------------------------------------------


def block_rows(
    run: EconomyRun, gini_at: dict[int, float], auc_at: dict[int, float]
) -> list[dict[str, Any]]:
    """``blocks.csv``: each block's own metrics, the agreements released, timed out and
    disputed (ruled or left unruled) by then, cumulative from the chain's start, and the Gini
    (empty where not sampled) and AUC series."""
    closed_in: dict[int, Counter[str]] = defaultdict(Counter)
    for deal in run.deals:
        if deal.closed_block is not None:
            closed_in[deal.closed_block][deal.state] += 1
    cumulative: Counter[str] = Counter()
    for number, closed_then in closed_in.items():
        if number <= run.start_block:
            cumulative += closed_then
    blocks = []
    for m in run.metrics:
        cumulative += closed_in.get(m.number, Counter())
        blocks.append(
            {
                **metrics_row(m),
                "released": cumulative["Released"],
                "timed_out": cumulative["TimedOut"],
                "disputed": cumulative["Ruled"] + cumulative["ArbitratorTimedOut"],
                "gini": round(gini_at[m.number], 6) if m.number in gini_at else "",
                "auc": round(auc_at[m.number], 6),
            }
        )
    return blocks


def deal_rows(run: EconomyRun) -> list[dict[str, Any]]:
    """``deals.csv``: one row per agreement, its parties by name, outcome and the seller's
    plan (True: it decided to default; empty when it decided nothing)."""
    names = run.names
    rows = []
    for deal in run.deals:
        seller = run.by_address.get(deal.counterparty)
        plan = run.plan(deal)
        rows.append(
            {
                "id": deal.id,
                "buyer": names.get(deal.proposer, deal.proposer),
                "seller": names.get(deal.counterparty, deal.counterparty),
                "seller_behaviour": seller.behaviour if isinstance(seller, ServiceSeller) else "",
                "arbitrator": names.get(deal.arbitrator, deal.arbitrator),
                "price": deal.price,
                "state": deal.state,
                "delivered": deal.counterparty_confirmed,
                "proposed_block": deal.proposed_block,
                "closed_block": "" if deal.closed_block is None else deal.closed_block,
                "slashed": deal.slashed,
                "to_proposer": deal.to_proposer,
                "planned_default": "" if plan is None else plan,
            }
        )
    return rows


def net_results(run: EconomyRun) -> dict[str, int]:
    """Each agent's net result in wei: change in currency balance and stake over the run, plus
    the value of services received, minus delivery costs, plus outside gains (gas excluded)."""
    holdings, values = run.holdings, run.deal_values
    return {
        a.name: (
            holdings.end_balance[a.name]
            - holdings.start_balance[a.name]
            + (holdings.end_stake[a.name] - holdings.start_stake[a.name])
            + values.service_value[a.name]
            - values.delivery_cost[a.name]
            + values.outside[a.name]
        )
        for a in run.agents
    }


def _behaviour(agent: Agent) -> str:
    """A seller's behaviour, an arbitrator's honesty, or "" for other agents."""
    if isinstance(agent, ServiceSeller):
        return agent.behaviour
    if isinstance(agent, Arbitrator):
        return "corruptible" if agent.corruptible else "honest"
    return ""


def agent_rows(run: EconomyRun, net_wei: dict[str, int]) -> list[dict[str, Any]]:
    """``agents.csv``: each agent's role, run transactions, changes of holdings and net
    result (``net_wei``, from :func:`net_results`), amounts in tokens."""
    holdings, values, txs = run.holdings, run.deal_values, run.txs.by_agent
    member_names = {a.name for a in holdings.members}
    rows = []
    for a in run.agents:
        stats = txs[a.name]
        rows.append(
            {
                "name": a.name,
                "kind": run.kind_of[a.name],
                "role": role_of(a),
                "behaviour": _behaviour(a),
                "economy": a.name in member_names,
                "sent": stats.sent,
                "included": stats.included,
                "failed": stats.failed,
                "rejected": a.rejected,
                "priced_out": stats.priced_out,
                "mean_wait_ms": round(mean(stats.waits), 3),
                "gas_spent_wei": a.gas_spent,
                "balance_change": _tokens(
                    holdings.end_balance[a.name] - holdings.start_balance[a.name]
                ),
                "stake_change": _tokens(holdings.end_stake[a.name] - holdings.start_stake[a.name]),
                "service_value": _tokens(values.service_value[a.name]),
                "delivery_cost": _tokens(values.delivery_cost[a.name]),
                "outside_gains": _tokens(values.outside[a.name]),
                "net": _tokens(net_wei[a.name]),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Summary sections
# ---------------------------------------------------------------------------------------------


def deal_counts(run: EconomyRun) -> dict[str, int]:
    """Agreements proposed and accepted, how many ended in each terminal state, and how many
    were still open at the end."""
    deals = run.deals
    states = Counter(d.state for d in deals)
    return {
        "proposed": len(deals),
        "accepted": sum(d.state in ACCEPTED_STATES for d in deals),
        "released": states["Released"],
        "ruled": states["Ruled"],
        "timed_out": states["TimedOut"],
        "expired": states["Expired"],
        "arbitrator_timed_out": states["ArbitratorTimedOut"],
        "open_at_end": sum(d.is_open for d in deals),
    }


def outcome_rates(run: EconomyRun) -> dict[str, float]:
    """Outcome rates over the accepted agreements that closed: settlement (released), disputes
    (ruled or left unruled by the arbitrator), timeouts, defaults (the seller never confirmed
    delivery); and expiries over all closed agreements."""
    deals = run.deals
    states = Counter(d.state for d in deals)
    closed_accepted = [d for d in deals if d.state in CLOSED_ACCEPTED]
    closed = [d for d in deals if not d.is_open]
    n_ca = len(closed_accepted)
    return {
        "settlement_rate": _rate(states["Released"], n_ca),
        "dispute_rate": _rate(states["Ruled"] + states["ArbitratorTimedOut"], n_ca),
        "timeout_rate": _rate(states["TimedOut"], n_ca),
        "default_rate": _rate(sum(not d.counterparty_confirmed for d in closed_accepted), n_ca),
        "expire_rate": _rate(states["Expired"], len(closed)),
    }


def seller_behaviour(run: EconomyRun) -> dict[str, dict[str, Any]]:
    """Per seller behaviour (sorted): sellers, agreements addressed to them, closed and
    delivered ones, timeout and default rates over the closed accepted ones, rulings lost
    (more than half the pot to the buyer), and the sellers' mean trust at the last block."""
    final_records = attested_records(run.deals, run.end_block)
    by_behaviour: dict[str, dict[str, Any]] = {}
    for behaviour in sorted({s.behaviour for s in run.sellers}):
        addresses = {s.address for s in run.sellers if s.behaviour == behaviour}
        theirs = [d for d in run.deals if d.counterparty in addresses]
        done = [d for d in theirs if d.state in CLOSED_ACCEPTED]
        trust = [
            final_records.get(address, SellerRecord(0, 0, 0, 0)).trust()
            for address in sorted(addresses)
        ]
        by_behaviour[behaviour] = {
            "sellers": len(addresses),
            "deals": len(theirs),
            "closed": sum(d.state in CLOSED_ACCEPTED for d in theirs),
            "delivered": sum(d.counterparty_confirmed for d in theirs),
            "timeout_rate": _rate(sum(d.state == "TimedOut" for d in done), len(done)),
            "default_rate": _rate(sum(not d.counterparty_confirmed for d in done), len(done)),
            "dispute_lost": sum(_lost_ruling(d) for d in theirs),
            "trust_mean": mean(trust),
        }
    return by_behaviour


def welfare(run: EconomyRun) -> dict[str, float]:
    """Welfare in tokens: the trade surplus of delivered agreements plus sellers' outside gains
    minus bonds and stake slashed to the treasury (gas not included); beside it, the deposits
    still locked in open agreements and the economy agents' gas in ETH."""
    economy, values = run.economy, run.deal_values
    slashed_wei = economy.slashed_bonds + economy.slashed_stake
    in_escrow = sum(
        d.price + d.proposer_bond + d.fee + (d.counterparty_bond if d.state != "Proposed" else 0)
        for d in run.deals
        if d.is_open
    )
    economy_gas = sum(a.gas_spent for a in run.holdings.members)
    return {
        "trade_surplus": _tokens(values.trade_surplus),
        "outside_gains": _tokens(values.outside_gains),
        "slashed": _tokens(slashed_wei),
        "total": _tokens(values.trade_surplus + values.outside_gains - slashed_wei),
        "in_escrow_at_end": _tokens(in_escrow),
        "gas_eth": economy_gas / 10**18,
    }


def slashing(run: EconomyRun) -> dict[str, float]:
    """Tokens slashed: bonds at delivery timeouts, arbitrators' stake for missing the ruling
    window; and the agreements that slashed anything."""
    economy = run.economy
    return {
        "bonds": _tokens(economy.slashed_bonds),
        "stake": _tokens(economy.slashed_stake),
        "events": sum(d.slashed > 0 for d in run.deals),
    }


def holdings_gini(gini_at: dict[int, float]) -> dict[str, float]:
    """The Gini series (:func:`gini_series`) at its first and last sample, its mean, and the
    number of samples."""
    series = [gini_at[b] for b in sorted(gini_at)]
    return {
        "first": series[0] if series else 0.0,
        "last": series[-1] if series else 0.0,
        "mean": mean(series),
        "samples": len(series),
    }


def reputation_auc(run: EconomyRun, auc_at: dict[int, float]) -> dict[str, float]:
    """The AUC series (:func:`reputation_auc_series`) at the last block and its mean over the
    second half of the run (0.5 without blocks)."""
    series = [auc_at[b] for b in run.numbers]
    half = series[len(series) // 2 :]
    return {
        "last": series[-1] if series else 0.5,
        "mean_second_half": mean(half) if half else 0.5,
    }


def buyer_choice(run: EconomyRun) -> dict[str, float]:
    """The share of buyers' picks that went to honest sellers: over all their choices (their
    own record), and over the proposals they sent in the first and second half of the run's
    time."""
    honest = {s.address for s in run.sellers if s.behaviour == "honest"}
    chosen = [seller for b in run.buyers for seller in b.chosen]
    buyer_names = {b.name for b in run.buyers}
    proposals = sorted(
        (s.submitted_ms, str(s.meta.get("seller", "")))
        for s in run.txs.sent
        if s.label == "propose" and s.agent in buyer_names
    )
    metrics = run.metrics
    t0 = metrics[0].timestamp_ms if metrics else 0
    t1 = metrics[-1].timestamp_ms if metrics else 0
    middle = (t0 + t1) / 2
    first = [seller for at, seller in proposals if at < middle]
    second = [seller for at, seller in proposals if at >= middle]

    def honest_share(picks: Sequence[str]) -> float:
        return _rate(sum(p in honest for p in picks), len(picks))

    return {
        "proposals": len(chosen),
        "honest_share": honest_share(chosen),
        "honest_share_first_half": honest_share(first),
        "honest_share_second_half": honest_share(second),
    }


def credentials(run: EconomyRun) -> dict[str, Any]:
    """Off-chain credentials: issued and revoked by issuers, forged by sellers, and the ones
    verifying buyers rejected, by reason."""
    agents = run.agents
    rejected: Counter[str] = Counter()
    for buyer in run.buyers:
        rejected.update(buyer.rejected_credentials)
    issuers = [a for a in agents if isinstance(a, ReputationIssuer)]
    return {
        "issued": sum(len(v) for a in issuers for v in a.issued.values()),
        "revoked": sum(len(a.revoked) for a in issuers),
        "forged": sum(a.forged for a in agents if isinstance(a, ServiceSeller)),
        "rejected": dict(sorted(rejected.items())),
    }


def bribes(run: EconomyRun) -> dict[str, float]:
    """Side payments sellers made to arbitrators (tokens), rulings corruptible arbitrators
    sold, and agreements a corruptible arbitrator ruled."""
    corruptible = {a.address for a in run.arbitrators if a.corruptible}
    return {
        "side_payments": _tokens(sum(run.economy.side_payments.values())),
        "bribed_rulings": sum(a.bribed_rulings for a in run.arbitrators),
        "ruled_by_corruptible": sum(
            d.state == "Ruled" and d.arbitrator in corruptible for d in run.deals
        ),
    }


def base_fee(run: EconomyRun) -> dict[str, float]:
    """The base fee (wei) at the run's first block, its maximum and its mean."""
    metrics = run.metrics
    return {
        "first": metrics[0].base_fee if metrics else 0,
        "max": max((m.base_fee for m in metrics), default=0),
        "mean": mean([m.base_fee for m in metrics]),
    }


def congestion(run: EconomyRun) -> dict[str, int]:
    """What congestion did to commitments.

    Priced out: run transactions never mined by its end. Broken commitments: agreements that
    timed out or were ruled against the seller although it had decided to deliver. Missed
    acceptances: proposals a seller decided on that expired instead. Late deliveries: sellers'
    delivery confirmations mined but reverted.
    """
    broken = missed_acceptances = 0
    for deal in run.deals:
        plan = run.plan(deal)
        if plan is False and (deal.state == "TimedOut" or _lost_ruling(deal)):
            broken += 1
        if plan is not None and deal.state == "Expired":
            missed_acceptances += 1
    return {
        "priced_out": sum(row.priced_out for row in run.txs.by_agent.values()),
        "broken_commitments": broken,
        "missed_acceptances": missed_acceptances,
        "late_deliveries": run.txs.late_deliveries,
    }


def kind_totals(run: EconomyRun, net_wei: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per agent kind (sorted): agents, run transactions, mean inclusion delay over their mined
    ones, gas in ETH and net result in tokens."""
    txs = run.txs.by_agent
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(run.kind_of.values())):
        group = [a for a in run.agents if run.kind_of[a.name] == kind]
        by_kind[kind] = {
            "agents": len(group),
            "sent": sum(txs[a.name].sent for a in group),
            "included": sum(txs[a.name].included for a in group),
            "failed": sum(txs[a.name].failed for a in group),
            "rejected": sum(a.rejected for a in group),
            "priced_out": sum(txs[a.name].priced_out for a in group),
            "inclusion_delay_ms_mean": mean([w for a in group for w in txs[a.name].waits]),
            "gas_eth": sum(a.gas_spent for a in group) / 10**18,
            "net": _tokens(sum(net_wei[a.name] for a in group)),
        }
    return by_kind
