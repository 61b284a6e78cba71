"""The closure of a sim-economy run: ETH over the chain, and the credit ledger's own identity.

The credit is not an ERC-20 (balances may be negative), so it has no ``Transfer`` logs for the
shared :mod:`agentbed.agents.closure` to replay; its identity is the contract's: what the ledger
holds (every balance, the meter's included, all stake and the undistributed fee pool) equals
what was minted (genesis, wages, signing bonuses) less what was burned and charged as interest.
ETH (gas) closes through the shared ledger as for every study.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentbed.agents.closure import balance_ledger

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.agents.simecon.world import SimWorld


def credit_closure(world: SimWorld) -> dict[str, int]:
    """The credit ledger's identity at the chain's head: ``held``, ``issued``, ``residual``."""
    functions = world.chain.contract(world.address, "SimEconomy").functions
    snap = world.snapshot(world.chain)
    held = (
        sum(snap.balances)
        + sum(snap.staked)
        + int(functions.balanceOf(world.meter).call())
        + int(functions.feePool().call())
    )
    issued = (
        int(functions.totalMinted().call())
        - int(functions.totalBurned().call())
        - int(functions.totalInterest().call())
    )
    return {"held": held, "issued": issued, "residual": held - issued}


def run_closure(sim: Simulation, world: SimWorld) -> dict[str, Any]:
    """The shared closure summary (ETH, no ERC-20s) with the credit's identity as ``credit``;
    ``closes`` holds only when both do."""
    numbers = [m.number for m in sim.metrics]
    known = [*(a.address for a in sim.chain.accounts), world.address]
    known += [sim.chain.block(n).coinbase for n in numbers]
    summary = balance_ledger(sim.chain, {}, numbers, known).summary()
    credit = credit_closure(world)
    summary["credit"] = credit
    summary["closes"] = summary["closes"] and credit["residual"] == 0
    return summary
