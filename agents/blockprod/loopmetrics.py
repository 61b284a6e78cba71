"""What the block-production game of a run measured: who took the MEV, how concentrated the
builder market was, how often history was rewritten.

Read after the run, from the canonical chain over the measured blocks (a block a time-bandit
orphaned counts for nobody) and the producer's record of who sealed each block:

* **proposer revenue**: the summed ETH balance change of every proposer's fee recipient over
  the measured blocks (builders' payments, and the fees of the blocks proposers built
  themselves); **builder margin**: the same for the builders' keys (their blocks' coinbase
  payments minus their payments to proposers and the gas of those payments). Both are exact in
  wei, the way the closure measures every holder.
* **shares of MEV**: each of the two, valued at the ETH price, over the searchers' extracted
  value (their net profit plus what they paid the producer; ``summary.producer_share``). The
  numerators also hold ordinary users' tips, which is why they may add up to more than what
  searchers paid; under MEV-Boost the proposer's cut is ``1 - margin``.
* **builder HHI**: the Herfindahl-Hirschman index of the builders' shares of the slots won by a
  builder (sum of squared shares; 1 = one builder wins every slot; Hirschman 1945, Herfindahl
  1950; the U.S. DoJ/FTC Merger Guidelines, 2023, call markets above 0.18 highly concentrated).
* **bandit share of producer revenue**: the time-bandit's balance change (it is one of the
  proposers) over the proposers' and builders' summed balance change.
* **reorgs**: those of the run (``Chain.reorgs``), per slot and their mean depth (orphaned
  blocks per reorg).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentbed.agents.reporting.seeds import COUNT, SHARE, Metric
from agentbed.agents.reporting.tables import percent_text

if TYPE_CHECKING:
    from agentbed.agents.blockprod.loop import LoopProducer
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address

LOCAL = "local"
"""Slots whose block the proposer built itself."""


def _balance_change(chain: Chain, addresses: Sequence[Address], first: int, last: int) -> int:
    return sum(chain.balance(a, last) - chain.balance(a, first - 1) for a in addresses)


def _wins(producer: LoopProducer, chain: Chain, numbers: Sequence[int]) -> Counter[str]:
    wins: Counter[str] = Counter()
    for number in numbers:
        record = producer.slots.get(chain.block(number).hash)
        if record is not None:
            wins[record.winner or LOCAL] += 1
    return wins


def block_production_summary(
    producer: LoopProducer,
    chain: Chain,
    numbers: Sequence[int],
    value_eth: Callable[[int], float],
    extracted: float,
) -> dict[str, Any]:
    """``summary.json``'s ``block_production`` section (see the module docstring).

    Args:
        producer: The run's block producer.
        chain: The chain after the run.
        numbers: The measured blocks (consecutive).
        value_eth: Wei of ETH in the numeraire.
        extracted: The searchers' extracted value in the numeraire.
    """
    first, last = (numbers[0], numbers[-1]) if numbers else (1, 0)
    proposer = _balance_change(chain, list(producer.proposer_addresses.values()), first, last)
    builder = _balance_change(chain, list(producer.builder_addresses.values()), first, last)
    bandit = (
        _balance_change(chain, [producer.bandit.coinbase], first, last)
        if producer.bandit is not None
        else None
    )
    wins = _wins(producer, chain, numbers)
    built = {name: n for name, n in wins.items() if name != LOCAL}
    total_built = sum(built.values())
    hhi = sum((n / total_built) ** 2 for n in built.values()) if total_built else None
    integrated = sum(built.get(name, 0) for name in producer.integrated())
    reorgs = [r for r in chain.reorgs if first <= r.ancestor + 1 <= last]
    slots = len(numbers)
    share = (lambda wei: value_eth(wei) / extracted) if extracted > 0 else (lambda wei: None)
    return {
        "slots": slots,
        "pricing": producer.config.pricing,
        "proposer_revenue_wei": proposer,
        "proposer_revenue": value_eth(proposer),
        "builder_margin_wei": builder,
        "builder_margin": value_eth(builder),
        "proposer_share_of_mev": share(proposer),
        "builder_share_of_mev": share(builder),
        "bandit_revenue_wei": bandit,
        # The bandit's cut of what all producers took (its stake-like share absent attacks is
        # about its share of slots).
        "bandit_share_of_producer_revenue": bandit / (proposer + builder)
        if bandit is not None and proposer + builder > 0
        else None,
        "wins": {name: wins[name] for name in sorted(wins)},
        "builder_hhi": hhi,
        "integrated_builders": list(producer.integrated()),
        "integrated_wins": integrated,
        # Undefined without an integrated builder (not 0: nobody could have won as one).
        "integrated_win_share": integrated / slots if slots and producer.integrated() else None,
        "reorgs": len(reorgs),
        "reorgs_per_slot": len(reorgs) / slots if slots else 0.0,
        "reorg_mean_depth": sum(r.depth for r in reorgs) / len(reorgs) if reorgs else None,
        "reorg_max_depth": max((r.depth for r in reorgs), default=0),
        "finality_depth": chain.finality_depth,
    }


def block_production_lines(summaries: Sequence[tuple[str, dict[str, Any]]], unit: str) -> list[str]:
    """A Markdown table of the ``block_production`` sections of runs (label, section), or
    nothing when no run has one."""
    rows = [(label, s) for label, s in summaries if s]
    if not rows:
        return []

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    lines = [
        f"| run | slots | proposer revenue ({unit}) | builder margin ({unit}) | proposer share"
        " of MEV | builder share of MEV | builder HHI | integrated wins | reorgs | mean depth |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, s in rows:
        hhi = "-" if s["builder_hhi"] is None else f"{s['builder_hhi']:.3f}"
        depth = "-" if s["reorg_mean_depth"] is None else f"{s['reorg_mean_depth']:.2f}"
        lines.append(
            f"| {label} | {s['slots']} | {s['proposer_revenue']:,.2f} | {s['builder_margin']:,.2f}"
            f" | {pct(s['proposer_share_of_mev'])} | {pct(s['builder_share_of_mev'])} | {hhi}"
            f" | {s['integrated_wins']} | {s['reorgs']} | {depth} |"
        )
    return lines


BLOCK_PRODUCTION_NOTES = (
    "Block production ([block_production]): proposer revenue and builder margin are the summed "
    "ETH balance changes of the proposers' fee recipients and of the builders' keys over the "
    "measured blocks (canonical chain), valued at the ETH price; their shares of MEV divide them "
    "by the searchers' extracted value (net profit plus what they paid the producer; ordinary "
    "users' tips are in the numerators too). Builder HHI: sum of squared shares of the "
    "builder-won slots (Herfindahl 1950; 1 = one builder wins all). Reorgs: the chain's reorg "
    "records in the measured blocks; depth = orphaned blocks."
)


def _section(key: str) -> Callable[[Mapping[str, Any]], float | None]:
    def read(summary: Mapping[str, Any]) -> float | None:
        value = summary.get("block_production", {}).get(key)
        return None if value is None else float(value)

    return read


BLOCK_PRODUCTION_METRICS: tuple[Metric, ...] = (
    Metric(
        "proposer_share_of_mev",
        "proposer share of MEV",
        "proposers' fee recipients' summed ETH balance change over the measured blocks, over "
        "the searchers' extracted value (runs with a [block_production] table).",
        _section("proposer_share_of_mev"),
        percent_text,
    ),
    Metric(
        "builder_share_of_mev",
        "builder share of MEV",
        "builders' summed ETH balance change (block value minus payments to proposers and "
        "their gas) over the searchers' extracted value.",
        _section("builder_share_of_mev"),
        percent_text,
    ),
    Metric(
        "builder_hhi",
        "builder HHI",
        "Herfindahl-Hirschman index of the builders' shares of builder-won slots (Herfindahl "
        "1950; 1 = one builder wins every slot).",
        _section("builder_hhi"),
        lambda v: f"{v:.3f}",
        bounds=SHARE,
    ),
    Metric(
        "integrated_win_share",
        "integrated builder's slots",
        "share of the measured slots won by the vertically integrated builder(s); undefined "
        "on runs without one.",
        _section("integrated_win_share"),
        percent_text,
        bounds=SHARE,
    ),
    Metric(
        "bandit_share_of_producer_revenue",
        "bandit share of producer revenue",
        "the time-bandit's ETH balance change over the proposers' and builders' summed change "
        "(runs with a bandit).",
        _section("bandit_share_of_producer_revenue"),
        percent_text,
    ),
    Metric(
        "reorgs_per_slot",
        "reorgs per slot",
        "reorgs (the chain's records) over measured slots.",
        _section("reorgs_per_slot"),
        lambda v: f"{v:.3f}",
        bounds=COUNT,
    ),
    Metric(
        "reorg_mean_depth",
        "mean reorg depth",
        "orphaned blocks per reorg (runs with at least one reorg).",
        _section("reorg_mean_depth"),
        lambda v: f"{v:.2f}",
        bounds=COUNT,
    ),
)
"""The comparison's metrics of the block-production game (None on runs without it)."""
