"""Victim loss: what each squeezed swap of a market run lost to the transactions ordered around
it, against the same transaction replayed alone on the pre-block state.

The counterfactual executes the victim's calldata from the same sender on block ``N - 1``'s
post-state (``Chain.call``) and decodes the returned ``amountOut``; the loss is that output
minus what the victim actually received, exactly in wei of the output token, and its value in
the numeraire at the run's final reference prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import decode

from agentbed.agents.market.mev import SwapEvent
from agentbed.agents.market.truth import MevTruth
from agentbed.agents.market.valuation import Valuation
from agentbed.chain.errors import ExecutionReverted

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market
    from agentbed.chain.node import Chain


@dataclass(frozen=True, slots=True)
class VictimLoss:
    """What one victim lost to the transactions ordered around it.

    Attributes:
        tx: The victim's tx hash.
        agent: The victim agent's name ("" if not a simulated agent).
        block: Block it landed in.
        pool: Pool it swapped on.
        token_out: The token it bought.
        actual_out: What it received.
        alone_out: What the same tx would have received alone on the pre-block state.
        loss: ``alone_out - actual_out`` in wei of ``token_out``.
        value: ``loss`` in numeraire units.
        attack: ``"sandwich"`` or ``"frontrun"``.
        attackers: Names of the agents whose txs hit it.
    """

    tx: bytes
    agent: str
    block: int
    pool: str
    token_out: str
    actual_out: int
    alone_out: int
    loss: int
    value: float
    attack: str
    attackers: tuple[str, ...]


def counterfactual_output(chain: Chain, tx_hash: bytes, block: int) -> int | None:
    """Output of a mined swap tx had it run alone on the state before ``block``.

    Executes the same calldata from the same sender on block ``block - 1``'s post-state and
    decodes the returned ``amountOut``; None when it would have reverted alone.
    """
    tx = chain.transaction(tx_hash)
    try:
        output = chain.call(
            tx.to, tx.data, sender=tx.sender, value=tx.value, block_number=block - 1
        )
    except ExecutionReverted:
        return None
    if len(output) < 32:
        return None
    (amount,) = decode(("uint256",), output[:32])
    return int(amount)


def victim_losses(
    chain: Chain,
    truth: MevTruth,
    swaps_of: Mapping[bytes, Sequence[SwapEvent]],
    valuation: Valuation,
    agent_of: Mapping[str, str],
    market: Market,
) -> tuple[VictimLoss, ...]:
    """The loss of every victim in ``truth`` against its counterfactual alone on the pre-block
    state, in block and tx order."""
    out: list[VictimLoss] = []
    for tx in truth.victims:
        swaps = swaps_of.get(tx)
        if not swaps:
            continue  # reverted or not a swap: it kept its input; no output to compare
        swap = swaps[0]
        alone = counterfactual_output(chain, tx, swap.block)
        if alone is None:
            continue
        actual = sum(s.amount_out for s in swaps if s.pool == swap.pool)
        pool = market.by_address.get(swap.pool)
        token_out = pool.other(swap.token_in) if pool is not None else swap.token_in
        attack, attackers = truth.victims[tx]
        out.append(
            VictimLoss(
                tx=tx,
                agent=agent_of.get(swap.actor, ""),
                block=swap.block,
                pool=swap.pool,
                token_out=token_out,
                actual_out=actual,
                alone_out=alone,
                loss=alone - actual,
                value=valuation.value(token_out, alone - actual),
                attack=attack,
                attackers=attackers,
            )
        )
    out.sort(key=lambda v: (v.block, swaps_of[v.tx][0].tx_index))
    return tuple(out)
