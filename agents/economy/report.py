"""Reports of commitment-economy runs: CSV tables, a JSON summary, PNG plots and Markdown.

The escrow-market counterpart of ``agentbed.agents.market.report``, with the same output shape. One
run's
directory holds ``blocks.csv`` (per block: fees, fullness, cumulative outcomes, the Gini
coefficient of the agents' holdings and how well reputation separates honest from dishonest
sellers), ``agents.csv`` (per agent: transactions and net result), ``deals.csv`` (one row per
agreement), ``summary.json``, the plots and ``report.md``. A comparison directory holds the same
tables with a first column naming the run (a variant or a policy), one ``summary.json`` keyed
by that name, plots with one line per run and a ``report.md`` with one row per run.

Everything is computed from the finished simulation: the economy's agreement states (kept
from the Escrow events), the agents' own ground truth (sellers' plans and outside gains,
buyers' choices), the receipts, and currency balances and stakes read at past blocks. Nothing
here reads the wall clock or a global random state: the same run gives byte-identical CSV,
JSON and Markdown.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.strategies.issuer import ReputationIssuer
from agentbed.agents.economy.world import TOKEN, Deal, Economy, SellerRecord
from agentbed.agents.market.report import (
    markdown_table,
    mean,
    metrics_row,
    new_figure,
    number_text,
    percent_text,
    quantile,
    save_figure,
    summary_text,
    write_chain_plots,
    write_tables,
    write_text,
)

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Receipt

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
MAX_SAMPLES: Final = 100
"""Most blocks at which holdings are read for the Gini series (every k-th block, plus the last)."""

ACCEPTED_STATES: Final = frozenset(
    {"Accepted", "Disputed", "Released", "Ruled", "TimedOut", "ArbitratorTimedOut"}
)
"""States an agreement can only be in once the seller accepted it."""
CLOSED_ACCEPTED: Final = frozenset({"Released", "Ruled", "TimedOut", "ArbitratorTimedOut"})
"""Terminal states of accepted agreements: the denominator of the outcome rates."""

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_SLASHABLE_OF = function_signature_to_4byte_selector("slashableOf(address)")


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


# ---------------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------------


def _tokens(wei: int) -> float:
    return wei / TOKEN


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _lost_ruling(deal: Deal) -> bool:
    """A ruling that gave the buyer more than half the pot: the seller lost it."""
    return deal.state == "Ruled" and 2 * deal.to_proposer > deal.pot


def _read_uint(chain: Chain, to: str, selector: bytes, account: str, block: int) -> int:
    raw = chain.call(to, selector + encode(("address",), (account,)), block_number=block)
    return int(decode(("uint256",), raw)[0])


def _sample_blocks(numbers: Sequence[int]) -> list[int]:
    """Every k-th run block and the last, at most about ``MAX_SAMPLES``."""
    if not numbers:
        return []
    step = max(1, math.ceil(len(numbers) / MAX_SAMPLES))
    picked = list(numbers[::step])
    if picked[-1] != numbers[-1]:
        picked.append(numbers[-1])
    return picked


def _role(agent: Agent) -> str:
    if isinstance(agent, ServiceBuyer):
        return "buyer"
    if isinstance(agent, ServiceSeller):
        return "seller"
    if isinstance(agent, Arbitrator):
        return "arbitrator"
    return ""


def _credentials_summary(agents: Sequence[Agent]) -> dict[str, Any]:
    """Off-chain credentials: issued and revoked by issuers, forged by sellers, and the ones
    verifying buyers rejected, by reason."""
    rejected: Counter[str] = Counter()
    for agent in agents:
        if isinstance(agent, ServiceBuyer):
            rejected.update(agent.rejected_credentials)
    issuers = [a for a in agents if isinstance(a, ReputationIssuer)]
    return {
        "issued": sum(len(v) for a in issuers for v in a.issued.values()),
        "revoked": sum(len(a.revoked) for a in issuers),
        "forged": sum(a.forged for a in agents if isinstance(a, ServiceSeller)),
        "rejected": dict(sorted(rejected.items())),
    }


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
    chain = sim.chain
    metrics = sim.metrics
    agents = list(sim.agents)
    numbers = [m.number for m in metrics]
    start_block = numbers[0] - 1 if numbers else chain.block_number
    end_block = numbers[-1] if numbers else chain.block_number
    first_run_block = start_block + 1
    by_address = {a.address: a for a in agents}
    names = {a.address: a.name for a in agents}
    kind_of = {a.name: kinds.get(a.name, a.kind) for a in agents}
    sellers = [a for a in agents if isinstance(a, ServiceSeller)]
    buyers = [a for a in agents if isinstance(a, ServiceBuyer)]
    arbitrators = [a for a in agents if isinstance(a, Arbitrator)]
    deals = sorted(economy.deals.values(), key=lambda d: d.id)

    # -- transactions: receipts of every block, so set-up txs can be told from run txs --------
    receipts: dict[bytes, Receipt] = {}
    run_waits: list[int] = []
    run_blocks = set(numbers)
    for number in range(chain.block_number + 1):
        for receipt in chain.receipts(number):
            receipts[receipt.tx_hash] = receipt
            if number in run_blocks and receipt.waited_ms is not None:
                run_waits.append(receipt.waited_ms)
    run_sent = [
        s
        for s in sim.sent.values()
        if s.hash not in receipts or receipts[s.hash].block_number >= first_run_block
    ]
    tx_stats: dict[str, dict[str, Any]] = {
        a.name: {"sent": 0, "included": 0, "failed": 0, "priced_out": 0, "waits": []}
        for a in agents
    }
    late_deliveries = 0
    for sent in run_sent:
        row = tx_stats[sent.agent]
        row["sent"] += 1
        mined = receipts.get(sent.hash)
        if mined is None:
            row["priced_out"] += 1
            continue
        row["included"] += 1
        row["failed"] += mined.status == 0
        if mined.waited_ms is not None:
            row["waits"].append(mined.waited_ms)
        if sent.label == "deliver" and mined.status == 0:
            late_deliveries += 1

    # -- holdings: currency balance plus stake (bonded and unbonding), read at past blocks ----
    # Cached: the last Gini sample is the end block, read for every agent already.
    @functools.cache
    def balance_at(address: str, block: int) -> int:
        return _read_uint(chain, economy.currency.address, _BALANCE_OF, address, block)

    @functools.cache
    def stake_at(address: str, block: int) -> int:
        return _read_uint(chain, economy.staking.address, _SLASHABLE_OF, address, block)

    start_balance = {a.name: balance_at(a.address, start_block) for a in agents}
    end_balance = {a.name: balance_at(a.address, end_block) for a in agents}
    start_stake = {a.name: stake_at(a.address, start_block) for a in agents}
    end_stake = {a.name: stake_at(a.address, end_block) for a in agents}
    members = [
        a
        for a in agents
        if _role(a)
        or start_balance[a.name] + start_stake[a.name] > 0
        or end_balance[a.name] + end_stake[a.name] > 0
    ]
    stakers = {s.agent for s in sim.sent.values() if s.label == "stake"} | {
        a.name for a in members if isinstance(a, Arbitrator) or start_stake[a.name] > 0
    }
    gini_at: dict[int, float] = {}
    for block in _sample_blocks(numbers):
        holdings = [
            balance_at(a.address, block) + (stake_at(a.address, block) if a.name in stakers else 0)
            for a in members
        ]
        gini_at[block] = gini(holdings)

    # -- reputation over time: honest against dishonest sellers' trust ------------------------
    # One pass over the agreements in closing order, counting what each block adds.
    closing = sorted(
        ((d.closed_block, d) for d in deals if d.closed_block is not None), key=lambda c: c[0]
    )
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    honest_sellers = [s.address for s in sellers if s.behaviour == "honest"]
    dishonest_sellers = [s.address for s in sellers if s.behaviour != "honest"]
    attested = 0
    auc_at: dict[int, float] = {}
    for block in numbers:
        while attested < len(closing) and closing[attested][0] <= block:
            _attest(counts, closing[attested][1])
            attested += 1
        auc_at[block] = auc(
            [SellerRecord(*counts[a]).trust() for a in honest_sellers],
            [SellerRecord(*counts[a]).trust() for a in dishonest_sellers],
        )
    final_records = attested_records(deals, end_block)

    # -- blocks -------------------------------------------------------------------------------
    closed_in: dict[int, Counter[str]] = defaultdict(Counter)
    for deal in deals:
        if deal.closed_block is not None:
            closed_in[deal.closed_block][deal.state] += 1
    cumulative: Counter[str] = Counter()
    for number, closed_then in closed_in.items():
        if number <= start_block:
            cumulative += closed_then
    blocks = []
    for m in metrics:
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

    # -- deals and welfare --------------------------------------------------------------------
    deal_rows = []
    service_value: Counter[str] = Counter()
    delivery_cost: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    trade_surplus = outside_gains = 0
    broken = missed_acceptances = 0
    for deal in deals:
        buyer = by_address.get(deal.proposer)
        seller = by_address.get(deal.counterparty)
        plan = seller.plans.get(deal.id) if isinstance(seller, ServiceSeller) else None
        if deal.counterparty_confirmed:
            value = buyer.value if isinstance(buyer, ServiceBuyer) else 0
            cost = seller.cost if isinstance(seller, ServiceSeller) else 0
            trade_surplus += value - cost
            if buyer is not None:
                service_value[buyer.name] += value
            if seller is not None:
                delivery_cost[seller.name] += cost
        elif deal.state in CLOSED_ACCEPTED and isinstance(seller, ServiceSeller):
            gain = seller.outside_gains.get(deal.id, 0)
            outside_gains += gain
            outside[seller.name] += gain
        if plan is False and (deal.state == "TimedOut" or _lost_ruling(deal)):
            broken += 1
        if plan is not None and deal.state == "Expired":
            missed_acceptances += 1
        deal_rows.append(
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
    slashed_wei = economy.slashed_bonds + economy.slashed_stake
    in_escrow = sum(
        d.price + d.proposer_bond + d.fee + (d.counterparty_bond if d.state != "Proposed" else 0)
        for d in deals
        if d.is_open
    )

    # -- agents -------------------------------------------------------------------------------
    member_names = {a.name for a in members}
    agent_rows = []
    net_wei: dict[str, int] = {}
    for a in agents:
        stats = tx_stats[a.name]
        balance_change = end_balance[a.name] - start_balance[a.name]
        stake_change = end_stake[a.name] - start_stake[a.name]
        net_wei[a.name] = (
            balance_change
            + stake_change
            + service_value[a.name]
            - delivery_cost[a.name]
            + outside[a.name]
        )
        behaviour: str
        if isinstance(a, ServiceSeller):
            behaviour = a.behaviour
        elif isinstance(a, Arbitrator):
            behaviour = "corruptible" if a.corruptible else "honest"
        else:
            behaviour = ""
        agent_rows.append(
            {
                "name": a.name,
                "kind": kind_of[a.name],
                "role": _role(a),
                "behaviour": behaviour,
                "economy": a.name in member_names,
                "sent": stats["sent"],
                "included": stats["included"],
                "failed": stats["failed"],
                "rejected": a.rejected,
                "priced_out": stats["priced_out"],
                "mean_wait_ms": round(mean(stats["waits"]), 3),
                "gas_spent_wei": a.gas_spent,
                "balance_change": _tokens(balance_change),
                "stake_change": _tokens(stake_change),
                "service_value": _tokens(service_value[a.name]),
                "delivery_cost": _tokens(delivery_cost[a.name]),
                "outside_gains": _tokens(outside[a.name]),
                "net": _tokens(net_wei[a.name]),
            }
        )
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(kind_of.values())):
        group = [a for a in agents if kind_of[a.name] == kind]
        waits = [w for a in group for w in tx_stats[a.name]["waits"]]
        by_kind[kind] = {
            "agents": len(group),
            "sent": sum(tx_stats[a.name]["sent"] for a in group),
            "included": sum(tx_stats[a.name]["included"] for a in group),
            "failed": sum(tx_stats[a.name]["failed"] for a in group),
            "rejected": sum(a.rejected for a in group),
            "priced_out": sum(tx_stats[a.name]["priced_out"] for a in group),
            "inclusion_delay_ms_mean": mean(waits),
            "gas_eth": sum(a.gas_spent for a in group) / 10**18,
            "net": _tokens(sum(net_wei[a.name] for a in group)),
        }

    # -- outcome counts and rates -------------------------------------------------------------
    states = Counter(d.state for d in deals)
    closed_accepted = [d for d in deals if d.state in CLOSED_ACCEPTED]
    closed = [d for d in deals if not d.is_open]
    n_ca = len(closed_accepted)

    def seller_rates(group: Sequence[Deal]) -> dict[str, Any]:
        done = [d for d in group if d.state in CLOSED_ACCEPTED]
        return {
            "timeout_rate": _rate(sum(d.state == "TimedOut" for d in done), len(done)),
            "default_rate": _rate(sum(not d.counterparty_confirmed for d in done), len(done)),
        }

    by_behaviour: dict[str, dict[str, Any]] = {}
    for behaviour in sorted({s.behaviour for s in sellers}):
        addresses = {s.address for s in sellers if s.behaviour == behaviour}
        theirs = [d for d in deals if d.counterparty in addresses]
        trust = [
            final_records.get(address, SellerRecord(0, 0, 0, 0)).trust()
            for address in sorted(addresses)
        ]
        by_behaviour[behaviour] = {
            "sellers": len(addresses),
            "deals": len(theirs),
            "closed": sum(d.state in CLOSED_ACCEPTED for d in theirs),
            "delivered": sum(d.counterparty_confirmed for d in theirs),
            **seller_rates(theirs),
            "dispute_lost": sum(_lost_ruling(d) for d in theirs),
            "trust_mean": mean(trust),
        }

    # -- buyers' choices: overall from their own record, halves from the sent proposals -------
    honest = {s.address for s in sellers if s.behaviour == "honest"}
    chosen = [seller for b in buyers for seller in b.chosen]
    buyer_names = {b.name for b in buyers}
    proposals = sorted(
        (s.submitted_ms, str(s.meta.get("seller", "")))
        for s in run_sent
        if s.label == "propose" and s.agent in buyer_names
    )
    t0 = metrics[0].timestamp_ms if metrics else 0
    t1 = metrics[-1].timestamp_ms if metrics else 0
    middle = (t0 + t1) / 2
    first = [seller for at, seller in proposals if at < middle]
    second = [seller for at, seller in proposals if at >= middle]

    def honest_share(picks: Sequence[str]) -> float:
        return _rate(sum(p in honest for p in picks), len(picks))

    corruptible = {a.address for a in arbitrators if a.corruptible}
    ruled_by_corruptible = sum(d.state == "Ruled" and d.arbitrator in corruptible for d in deals)
    gini_series = [gini_at[b] for b in sorted(gini_at)]
    auc_series = [auc_at[b] for b in numbers]
    half = auc_series[len(auc_series) // 2 :]
    economy_gas = sum(a.gas_spent for a in members)
    summary: dict[str, Any] = {
        "scenario": scenario_name,
        "seed": seed,
        "label": label,
        "blocks": len(metrics),
        "agents": len(agents),
        "economy_agents": len(members),
        "timeout_policy": economy.timeout_policy,
        "txs": sum(m.txs for m in metrics),
        "reverted": sum(m.reverted for m in metrics),
        "deals": {
            "proposed": len(deals),
            "accepted": sum(d.state in ACCEPTED_STATES for d in deals),
            "released": states["Released"],
            "ruled": states["Ruled"],
            "timed_out": states["TimedOut"],
            "expired": states["Expired"],
            "arbitrator_timed_out": states["ArbitratorTimedOut"],
            "open_at_end": sum(d.is_open for d in deals),
        },
        "settlement_rate": _rate(states["Released"], n_ca),
        "dispute_rate": _rate(states["Ruled"] + states["ArbitratorTimedOut"], n_ca),
        "timeout_rate": _rate(states["TimedOut"], n_ca),
        "default_rate": _rate(sum(not d.counterparty_confirmed for d in closed_accepted), n_ca),
        "expire_rate": _rate(states["Expired"], len(closed)),
        "by_behaviour": by_behaviour,
        "welfare": {
            "trade_surplus": _tokens(trade_surplus),
            "outside_gains": _tokens(outside_gains),
            "slashed": _tokens(slashed_wei),
            "total": _tokens(trade_surplus + outside_gains - slashed_wei),
            "in_escrow_at_end": _tokens(in_escrow),
            "gas_eth": economy_gas / 10**18,
        },
        "slashing": {
            "bonds": _tokens(economy.slashed_bonds),
            "stake": _tokens(economy.slashed_stake),
            "events": sum(d.slashed > 0 for d in deals),
        },
        "gini": {
            "first": gini_series[0] if gini_series else 0.0,
            "last": gini_series[-1] if gini_series else 0.0,
            "mean": mean(gini_series),
            "samples": len(gini_series),
        },
        "auc": {
            "last": auc_series[-1] if auc_series else 0.5,
            "mean_second_half": mean(half) if half else 0.5,
        },
        "choice": {
            "proposals": len(chosen),
            "honest_share": honest_share(chosen),
            "honest_share_first_half": honest_share(first),
            "honest_share_second_half": honest_share(second),
        },
        "credentials": _credentials_summary(agents),
        "bribes": {
            "side_payments": _tokens(sum(economy.side_payments.values())),
            "bribed_rulings": sum(a.bribed_rulings for a in arbitrators),
            "ruled_by_corruptible": ruled_by_corruptible,
        },
        "base_fee": {
            "first": metrics[0].base_fee if metrics else 0,
            "max": max((m.base_fee for m in metrics), default=0),
            "mean": mean([m.base_fee for m in metrics]),
        },
        "fullness_mean": mean([m.fullness for m in metrics]),
        "inclusion_delay_ms": {
            "mean": mean(run_waits),
            "median": quantile(run_waits, 0.5),
            "p90": quantile(run_waits, 0.9),
            "max": max(run_waits, default=0),
        },
        "priced_out": sum(row["priced_out"] for row in tx_stats.values()),
        "broken_commitments": broken,
        "missed_acceptances": missed_acceptances,
        "late_deliveries": late_deliveries,
        "by_kind": by_kind,
    }
    return EconomyReport(label, summary, blocks, agent_rows, deal_rows, list(run_waits))


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


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------


def write_economy_plots(out: Path, reports: Sequence[EconomyReport]) -> list[str]:
    """Write the five plots for ``reports`` (one line per run); return their file names."""
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


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


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


def _report_text(
    title: str,
    intro: Sequence[str],
    reports: Sequence[EconomyReport],
    plots: Sequence[str],
    column: str,
) -> str:
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
        *_credentials_section(reports, column),
        "## Congestion",
        "",
        *congestion_table(reports, column),
        "",
        CONGESTION_NOTES,
        "",
        "## By agent kind",
        "",
        *kind_table(reports, column),
        "",
        "Net: change in currency balance and stake, plus the value of services received, "
        "minus delivery costs, plus outside gains, in tokens (gas not included).",
        "",
        "## Plots",
        "",
    ]
    for name in plots:
        lines += [f"![{PLOTS.get(name, name)}]({name})", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Writing directories
# ---------------------------------------------------------------------------------------------


def write_economy_run(
    out: Path, report: EconomyReport, *, title: str, intro: Sequence[str]
) -> Path:
    """Write one run's tables, summary, plots and report into ``out``; return the report."""
    write_tables(out, TABLES, [report])
    write_text(out / "summary.json", summary_text(report.summary))
    plots = write_economy_plots(out, [report])
    path = out / "report.md"
    write_text(path, _report_text(title, intro, [report], plots, "run"))
    return path


def write_economy_comparison(
    out: Path,
    reports: Sequence[EconomyReport],
    *,
    title: str,
    intro: Sequence[str],
    column: str = "variant",
) -> Path:
    """Write the comparison of ``reports`` (same scenario and seed) into ``out``; return the
    report. The tables get a first column ``column`` holding each run's label."""
    write_tables(out, TABLES, reports, column)
    first = reports[0].summary if reports else {}
    summary = {
        "scenario": first.get("scenario", ""),
        "seed": first.get("seed", 0),
        f"{column}s": [r.label for r in reports],
        "runs": {r.label: r.summary for r in reports},
    }
    write_text(out / "summary.json", summary_text(summary))
    plots = write_economy_plots(out, reports)
    path = out / "report.md"
    write_text(path, _report_text(title, intro, reports, plots, column))
    return path
