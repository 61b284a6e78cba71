"""What an intent-book attack cost its attacker and did to the honest makers (issue 15, flaws 3
and 4).

The attackers are a ``Solver`` steering surplus (``steer_to``) with the maker it steers to, and a
``BatchGriefer``; ``scripts/attacks.py`` runs them against the vulnerable and the fixed books and
tabulates these metrics over seeds (``docs/attacks.md`` has the table and the definitions).
Token amounts are valued in the market's numeraire at the reference prices at the end.

* **diverted** -- over every settled (transaction, sell token) group of fills holding an
  attacker's intent, what the honest makers of the group got less than a split of the group's
  total bought amount pro rata to sell amount: ``sum(fair_k - bought_k)``;
* **honest surplus** -- over the honest makers' fills, what they bought above their signed
  limits: ``sum(bought_k - limit_k)``;
* **reverted** -- settlements mined with status 0, and the gas their solvers paid for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from agentbed.agents.market.strategies.batch_griefer import BatchGriefer
from agentbed.agents.market.strategies.intents import Solver, board_of
from agentbed.chain.errors import UnknownTransaction

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent
    from agentbed.agents.market.world import IntentFill, Market
    from agentbed.agents.sim import Simulation
    from agentbed.chain.types import Receipt

UNIT = 10**18
Price = Callable[[str, float], float]
"""Values an amount (smallest units, as float) of a token (address) in the numeraire."""


def attacker_addresses(agents: Iterable[Agent]) -> frozenset[str]:
    """Batch griefers, steering solvers and the makers they steer to."""
    found: set[str] = set()
    for agent in agents:
        if isinstance(agent, BatchGriefer):
            found.add(agent.address)
        elif isinstance(agent, Solver) and agent.steer_to is not None:
            found.update((agent.address, agent.steer_to))
    return frozenset(found)


def diverted(fills: Iterable[IntentFill], attackers: Collection[str], value: Price) -> float:
    """Honest makers' shortfall against a pro-rata split, in fills grouped with an attacker's."""
    groups: defaultdict[tuple[bytes, str], list[IntentFill]] = defaultdict(list)
    for fill in fills:
        groups[fill.tx_hash, fill.sell_token].append(fill)
    total = 0.0
    for group in groups.values():
        if not any(f.maker in attackers for f in group):
            continue
        bought = sum(f.buy_amount for f in group)
        sold = sum(f.sell_amount for f in group)
        for f in group:
            if f.maker not in attackers:
                total += value(f.buy_token, bought * f.sell_amount / sold - f.buy_amount)
    return total


def honest_surplus(
    fills: Iterable[IntentFill],
    limits: Mapping[bytes, int],
    attackers: Collection[str],
    value: Price,
) -> float:
    """What honest makers' fills bought above their limits (``limits`` by intent digest)."""
    return sum(
        value(f.buy_token, f.buy_amount - limits[f.digest])
        for f in fills
        if f.maker not in attackers
    )


def _receipts(sim: Simulation, label: str) -> list[Receipt]:
    """Receipts of the mined txs the agents sent with ``label`` (pending ones have none)."""
    found = []
    for tx_hash, sent in sim.sent.items():
        if sent.label != label:
            continue
        try:
            found.append(sim.chain.receipt(tx_hash))
        except UnknownTransaction:
            continue  # still pending when the run ended
    return found


def intent_attack_metrics(
    sim: Simulation, market: Market, numeraire: str = "USDC"
) -> dict[str, float]:
    """The attack metrics of one finished market run (see the module docstring), valued in
    token ``numeraire`` (a symbol of the market).

    Returns:
        ``attacker_gas_eth``, ``diverted``, ``honest_surplus``, ``honest_fills``,
        ``reverted`` and ``reverted_gas_eth``.
    """
    attackers = attacker_addresses(sim.agents)
    board = board_of(market)
    prices = market.reference_prices(market.tokens[numeraire])

    def value(token: str, amount: float) -> float:
        return amount / UNIT * prices.get(token, 0.0)

    fills = list(board.fills.values())
    limits = {digest: p.intent.min_buy_amount for digest, p in board.posted.items()}
    failed = [r for r in _receipts(sim, "settle") if r.status == 0]
    return {
        "attacker_gas_eth": sum(a.gas_spent for a in sim.agents if a.address in attackers) / UNIT,
        "diverted": diverted(fills, attackers, value),
        "honest_surplus": honest_surplus(fills, limits, attackers, value),
        "honest_fills": float(sum(f.maker not in attackers for f in fills)),
        "reverted": float(len(failed)),
        "reverted_gas_eth": sum(r.gas_used * r.effective_gas_price for r in failed) / UNIT,
    }
