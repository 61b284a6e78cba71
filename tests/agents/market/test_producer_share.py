"""The producer's share of extracted value, on hand-built accounts."""

from __future__ import annotations

import pytest

from agentbed.agents.market.accounting import AgentAccount
from agentbed.agents.market.metrics import producer_share
from agentbed.agents.market.valuation import UNIT, Valuation

VALUATION = Valuation(numeraire="USDC", prices={}, eth_price=3_000.0, symbols={})


def _agent(name: str, searcher: bool, profit: float, tips: int, direct: int = 0) -> AgentAccount:
    return AgentAccount(
        name=name,
        kind="sandwicher" if searcher else "retail",
        searcher=searcher,
        sent=1,
        included=1,
        failed=0,
        rejected=0,
        gas_spent=tips,
        tips_paid=tips,
        coinbase_paid=direct,
        holdings={},
        profit=profit,
    )


def test_producer_share_is_searchers_payments_over_their_value_before_paying() -> None:
    agents = [
        # Paid 0.1 ETH in tips and 0.05 ETH directly (450 USDC), kept 150 USDC: extracted 600.
        _agent("bot", True, 150.0, UNIT // 10, UNIT // 20),
        # A losing bidder: paid 0.01 ETH (30 USDC) for a failed tx, lost it.
        _agent("rival", True, -30.0, UNIT // 100),
        # A trader's tips are the producer's revenue, not extracted value.
        _agent("trader", False, -500.0, UNIT),
    ]
    share = producer_share(agents, VALUATION)
    assert share["paid"] == pytest.approx(480.0)
    assert share["extracted"] == pytest.approx(600.0)
    assert share["share"] == pytest.approx(0.8)


def test_producer_share_is_none_without_extracted_value() -> None:
    share = producer_share([_agent("bot", True, -30.0, UNIT // 100)], VALUATION)
    assert share == {"share": None, "paid": pytest.approx(30.0), "extracted": pytest.approx(0.0)}
    assert producer_share([], VALUATION)["share"] is None
