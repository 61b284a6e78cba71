"""A learner's reward: its profit over the blocks of one step, as the run's accounting counts it.

The accounting (:mod:`agentbed.agents.market.accounting`) counts an agent's profit as the change
of its token and LP-share holdings (from ERC-20 ``Transfer`` logs of successful txs) valued at
reference prices in the scenario's numeraire, minus the ETH it spent (gas at the effective
price, and direct payments to the coinbase). A step's reward is that, restricted to the blocks
sealed during the step, with holdings valued at the reference prices as of the step's end. Over
an episode whose reference prices do not move (``volatility = 0``) the rewards add up to the
run's accounted profit of the learner exactly; when they move, the sum differs by how the
prices moved between each step and the end (the accounting values everything at the end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from agentbed.agents.market.accounting import _eth_payments, _holding_flows
from agentbed.agents.market.valuation import Valuation

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market
    from agentbed.chain.node import Chain


def step_profits(
    chain: Chain,
    market: Market,
    numbers: Sequence[int],
    seats: Mapping[str, str],
    *,
    numeraire: str,
    eth_price: float | None,
) -> dict[str, float]:
    """Each seat's profit over blocks ``numbers``, in numeraire units.

    Args:
        chain: The simulation's chain.
        market: Its market (reference prices now value the holdings).
        numbers: The blocks sealed during the step.
        seats: Agent name by address, of the agents to account.
        numeraire: Token symbol to value in.
        eth_price: Numeraire per ETH; None values ETH like ``WETH``.

    Returns:
        Profit by agent name (0.0 for a seat with no flows).
    """
    profits = dict.fromkeys(seats.values(), 0.0)
    if not numbers:
        return profits
    blocks = [chain.block(n) for n in numbers]
    receipts = [r for n in numbers for r in chain.receipts(n)]
    tracked = set(market.tokens.values()) | {p.address for p in market.pools}
    flows = _holding_flows(receipts, seats, tracked)
    payments = _eth_payments(chain, blocks, receipts, seats)
    valuation = Valuation.from_market(market, numeraire, eth_price)
    for (name, _), holdings in flows.items():
        profits[name] += sum(valuation.value(token, amount) for token, amount in holdings.items())
    for (name, _), wei in payments.spent.items():
        profits[name] -= valuation.value_eth(wei)
    return profits
