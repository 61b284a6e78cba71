"""Who extracts: how many searchers made money in a run, and how concentrated their profit is.

* **Profitable searchers**: searchers (``AgentAccount.searcher``) whose profit over the measured
  blocks (holdings at the final reference prices, net of gas and coinbase payments) is > 0.
* **Concentration** of searcher profit: the Herfindahl-Hirschman index, the sum of the squared
  shares ``s_i = π_i / Σ π_j`` of the profitable searchers' profits ``π_i > 0`` (losses are no
  share of what was extracted). It runs from ``1/n`` (``n`` equal earners) to 1 (one earner
  takes everything); undefined when nobody earned. (A. O. Hirschman, *National Power and the
  Structure of Foreign Trade*, 1945; O. C. Herfindahl, *Concentration in the Steel Industry*,
  Columbia PhD thesis, 1950. The U.S. DOJ/FTC Merger Guidelines, 2023, state it on a
  0-10,000 scale: the same index times 10,000.)
* **Top share**: the largest profitable searcher's share of their summed profit.

:data:`CONCENTRATION_METRICS` reads them, and the retail traders' summed result (their
execution: what they got for what they paid, valued the same way), from a run's summary for a
comparison over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentbed.agents.reporting.seeds import COUNT, SHARE, Metric
from agentbed.agents.reporting.tables import percent_text

if TYPE_CHECKING:
    from agentbed.agents.market.accounting import RunAccount


def hhi(values: list[float]) -> float | None:
    """The Herfindahl-Hirschman index of the positive ``values`` (None when there are none)."""
    positive = [v for v in values if v > 0]
    total = sum(positive)
    if total <= 0:
        return None
    return sum((v / total) ** 2 for v in positive)


def searcher_concentration(account: RunAccount) -> dict[str, Any]:
    """``summary.json``'s ``searchers``: counts, HHI and top share of searcher profit."""
    profits = [a.profit for a in account.agents if a.searcher]
    positive = [p for p in profits if p > 0]
    return {
        "searchers": len(profits),
        "profitable": len(positive),
        "hhi": hhi(profits),
        "top_share": max(positive) / sum(positive) if positive else None,
    }


def _searchers(summary: Mapping[str, Any], key: str) -> float | None:
    value = summary.get("searchers", {}).get(key)
    return None if value is None else float(value)


def _retail(summary: Mapping[str, Any]) -> float | None:
    row = summary.get("by_kind", {}).get("retail")
    return None if row is None else float(row["profit"])


CONCENTRATION_METRICS: tuple[Metric, ...] = (
    Metric(
        "profitable_searchers",
        "profitable searchers",
        "searchers whose profit over the measured blocks (final reference prices, net of gas "
        "and coinbase payments) is > 0.",
        lambda s: _searchers(s, "profitable"),
        lambda v: f"{v:.1f}",
        bounds=COUNT,
    ),
    Metric(
        "searcher_hhi",
        "searcher profit HHI",
        "Herfindahl-Hirschman index of the profitable searchers' profits (sum of squared "
        "shares; 1 = one searcher takes all; Hirschman 1945, Herfindahl 1950); runs where "
        "nobody earned are left out.",
        lambda s: _searchers(s, "hhi"),
        lambda v: f"{v:.3f}",
        bounds=SHARE,
    ),
    Metric(
        "top_searcher_share",
        "top searcher's share",
        "the largest profitable searcher's share of the profitable searchers' summed profit.",
        lambda s: _searchers(s, "top_share"),
        percent_text,
        bounds=SHARE,
    ),
    Metric(
        "retail_result",
        "retail traders' result",
        "the retail traders' summed value change (holdings at the final reference prices, "
        "net of gas): their execution, fees, slippage and losses to searchers included.",
        _retail,
    ),
)
"""The comparison's metrics of who extracts (read from a market run's summary)."""
