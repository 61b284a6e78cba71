"""The economy run's closure: the currency's and ETH's books over the measured blocks, every
holder counted (agents, the admin, the treasury that receives slashed bonds and stake, the
escrow, staking, reputation and currency contracts, and the tax's arbitration fund if any).

The identities come from :func:`agentbed.agents.closure.balance_ledger`: the holders' currency
changes sum to what was minted minus burned in the run (slashing to ``address(0)`` is a burn),
and their ETH changes plus the burned base fee sum to zero, both exactly in wei. The currency
has no price in ETH, so nothing is valued: each unit closes on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentbed.agents.closure import balance_ledger

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Economy
    from agentbed.agents.sim import Simulation

CURRENCY_SYMBOL = "AGC"
"""The currency's symbol in the closure (``Economy.deploy`` names it ``AGC``)."""


def _contracts(economy: Economy) -> dict[str, tuple[str, str]]:
    """``(name, kind)`` of the economy's own addresses (the tax's arbitration fund too)."""
    own = {
        str(economy.currency.address): ("currency", "contract"),
        str(economy.staking.address): ("staking", "contract"),
        str(economy.reputation.address): ("reputation", "contract"),
        str(economy.escrow.address): ("escrow", "contract"),
        economy.treasury: ("treasury (slash sink)", "treasury"),
        economy.admin.address: ("admin", "admin"),
    }
    if economy.governor.rules.tax_bps:
        fund = str(economy.escrow.functions.treasury().call())
        own[fund] = ("treasury (arbitration fund)", "treasury")
    return own


def economy_closure(sim: Simulation, economy: Economy, kinds: Mapping[str, str]) -> dict[str, Any]:
    """The closure of an economy run, for ``summary.json``.

    Holds :meth:`~agentbed.agents.closure.Ledger.summary` (exact identities in wei) and
    ``holders``: one row per address that is not an agent and whose currency or ETH changed,
    or that is one of the economy's contracts, treasury or admin; ``agents`` sums the agents'
    changes.

    Args:
        sim: The finished simulation.
        economy: Its economy.
        kinds: Scenario kind per agent name.
    """
    own = _contracts(economy)
    for number in (m.number for m in sim.metrics):
        own.setdefault(sim.chain.block(number).coinbase, ("coinbase", "builder"))
    agents = {a.address: a.name for a in sim.agents}
    known = [*agents, *own, *(a.address for a in sim.chain.accounts)]
    currency = str(economy.currency.address)
    numbers = [m.number for m in sim.metrics]
    ledger = balance_ledger(sim.chain, {currency: CURRENCY_SYMBOL}, numbers, known)
    (book,) = ledger.tokens
    rows = []
    agent_currency = agent_eth = 0
    for holder in ledger.holders:
        units, wei = book.change(holder), ledger.eth.change(holder)
        if holder in agents:
            agent_currency += units
            agent_eth += wei
            continue
        if not units and not wei and holder not in own:
            continue  # an idle funded account: no row
        name, kind = own.get(holder, (holder, "other"))
        rows.append(
            {
                "name": name,
                "kind": kind,
                "address": holder,
                "currency_change_wei": units,
                "eth_change_wei": wei,
            }
        )
    summary = ledger.summary()
    summary["agents"] = {"currency_change_wei": agent_currency, "eth_change_wei": agent_eth}
    summary["holders"] = rows
    return summary
