"""What an escrow attack cost its attacker and did to everyone else (issue 15, flaws 1 and 2).

The attack agents are in :mod:`agentbed.agents.economy.strategies.attacks`; ``scripts/attacks.py``
runs them against the vulnerable and the fixed contracts and tabulates these metrics over seeds
(``docs/attacks.md`` has the table and the definitions). Amounts are whole tokens of the
economy's currency (AGC), gas in ETH.

* **stake lost** -- stake slashed from arbitrators who are not attackers, at
  ``arbitratorTimeout`` of agreements an attacker proposed;
* **no-shows** -- those agreements (each records one no-show against its arbitrator);
* **displaced** -- agreements honest buyers proposed to an attacking seller: trade an honest
  seller would have had;
* **net** -- an agent's net result over the run (``metrics.net_results``: change in currency
  and stake, plus the value of services received, minus delivery costs, plus outside gains; gas
  excluded), summed over the attacker's accounts or over everyone else (honest welfare).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from agentbed.agents.economy.metrics import net_results
from agentbed.agents.economy.observations import EconomyRun
from agentbed.agents.economy.strategies.attacks import ArbitratorGriefer, ReputationFarmer, Sybil
from agentbed.agents.economy.strategies.escrow import ServiceBuyer

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent
    from agentbed.agents.economy.world import Deal, Economy
    from agentbed.agents.sim import Simulation

TOKEN = 10**18
ATTACKERS: tuple[type, ...] = (ArbitratorGriefer, ReputationFarmer, Sybil)
"""The strategies that are attackers' accounts."""


def attacker_names(agents: Iterable[Agent]) -> frozenset[str]:
    """The names of the agents that are an attacker's accounts."""
    return frozenset(a.name for a in agents if isinstance(a, ATTACKERS))


def stake_lost(deals: Iterable[Deal], attackers: Collection[str]) -> int:
    """Wei of stake slashed from non-attacking arbitrators of agreements ``attackers``
    (addresses) proposed, at ``arbitratorTimeout``."""
    return sum(
        d.slashed
        for d in deals
        if d.state == "ArbitratorTimedOut"
        and d.proposer in attackers
        and d.arbitrator not in attackers
    )


def no_shows(deals: Iterable[Deal], attackers: Collection[str]) -> int:
    """Agreements ``attackers`` (addresses) proposed that ended in an arbitrator's no-show."""
    return sum(
        d.state == "ArbitratorTimedOut"
        and d.proposer in attackers
        and d.arbitrator not in attackers
        for d in deals
    )


def displaced(deals: Iterable[Deal], buyers: Collection[str], attackers: Collection[str]) -> int:
    """Agreements honest ``buyers`` (addresses) proposed to an attacker (addresses)."""
    return sum(d.proposer in buyers and d.counterparty in attackers for d in deals)


def escrow_attack_metrics(sim: Simulation, economy: Economy) -> dict[str, float]:
    """The attack metrics of one finished economy run (see the module docstring).

    Returns:
        ``attacker_gas_eth``, ``attacker_net``, ``stake_lost``, ``no_shows``, ``displaced``
        and ``honest_welfare`` (tokens, or counts).
    """
    names = attacker_names(sim.agents)
    run = EconomyRun(sim, economy, {})
    net = net_results(run)
    attackers = {a.address for a in sim.agents if a.name in names}
    buyers = {a.address for a in sim.agents if isinstance(a, ServiceBuyer)}
    deals = run.deals
    return {
        "attacker_gas_eth": sum(a.gas_spent for a in sim.agents if a.name in names) / TOKEN,
        "attacker_net": sum(v for k, v in net.items() if k in names) / TOKEN,
        "stake_lost": stake_lost(deals, attackers) / TOKEN,
        "no_shows": float(no_shows(deals, attackers)),
        "displaced": float(displaced(deals, buyers, attackers)),
        "honest_welfare": sum(v for k, v in net.items() if k not in names) / TOKEN,
    }
