"""A time-bandit proposer: re-mines the last blocks when the MEV in them outweighs the cost.

In its slot the bandit looks back at the last ``k`` canonical blocks (``k`` up to ``max_depth``,
and below the chain's finality depth: deeper reorgs would be refused). What it can take from
them is what they paid their coinbases (priority fees plus direct transfers, :func:`takeable`: a
builder's payment to its proposer does not reduce it): re-mining their transactions with itself
as coinbase moves those payments to it. What it forgoes is modelled as ``cost_per_block`` for
every block it orphans (the stand-in for what rewriting history costs a proposer: lost
attestations, penalties, the risk of losing the race; Daian et al. 2020, "Flash Boys 2.0",
section on time-bandit attacks). It picks the ``k`` with the largest net gain and attacks only
if that gain is positive: it seals the ``k`` blocks again on their common ancestor, each with
the same txs in the same order, then its own slot's block from the pool, so its branch is one
block longer and the longest-chain rule makes it canonical. Otherwise it proposes honestly on
the head.

Decide, then apply: :meth:`TimeBanditProposer.plan` only reads the chain.

Two optional inputs let a seller of reorgs (:mod:`.bounty`) reuse this decision: ``bonus``
adds what orphaning the last ``k`` blocks earns beyond their coinbase payments (a bounty), and
``substitutes`` swaps a re-mined tx for another (the buyer's conflicting tx). Without them the
bandit behaves exactly as before.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentbed.chain.addresses import checksum
from agentbed.chain.ordering import PriorityFeePolicy

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address, Block, Transaction


def takeable(chain: Chain, block: Block) -> int:
    """What re-mining ``block`` (same txs, same order) with another coinbase pays that coinbase.

    Its coinbase payment, plus what its coinbase paid out in it: a builder's payment to the
    proposer (value and gas) nets against its coinbase payment, but re-mined it is the
    builder's tx, not the new coinbase's, so the new coinbase takes the block's whole value.
    """
    paid_out = sum(
        chain.transaction(r.tx_hash).value + r.gas_used * r.effective_gas_price
        for r in chain.receipts(block.number)
        if r.sender == block.coinbase
    )
    return block.coinbase_payment + paid_out


@dataclass(frozen=True, slots=True)
class BanditPlan:
    """The depth to re-mine (0: propose honestly) and the net gain expected from it."""

    depth: int
    gain: int


@dataclass(frozen=True)
class TimeBanditProposer:
    """Args:
    name: Its id (the block records' policy says ``bandit:<name>``).
    coinbase: Its fee recipient.
    cost_per_block: What orphaning one block costs it (wei).
    max_depth: The deepest reorg it considers.
    """

    name: str
    coinbase: Address
    cost_per_block: int
    max_depth: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "coinbase", checksum(self.coinbase))
        if self.cost_per_block < 0 or self.max_depth < 1:
            raise ValueError(
                f"bandit {self.name!r}: cost_per_block must be >= 0 and max_depth >= 1"
            )

    def plan(self, chain: Chain, bonus: Callable[[int], int] | None = None) -> BanditPlan:
        """The most profitable depth to re-mine now (ties: the shallower).

        Args:
            chain: The chain to read.
            bonus: Extra wei earned by orphaning the last ``k`` blocks, by ``k`` (None: 0).
        """
        limit = min(self.max_depth, chain.block_number)
        if chain.finality_depth is not None:
            limit = min(limit, chain.finality_depth - 1)
        best = BanditPlan(0, 0)
        taken = 0
        for depth in range(1, limit + 1):
            taken += takeable(chain, chain.block(chain.block_number - depth + 1))
            extra = bonus(depth) if bonus is not None else 0
            gain = taken + extra - depth * self.cost_per_block
            if gain > best.gain:
                best = BanditPlan(depth, gain)
        return best

    def propose(
        self,
        chain: Chain,
        bonus: Callable[[int], int] | None = None,
        substitutes: Mapping[bytes, Transaction] | None = None,
    ) -> Block:
        """Propose this slot's block: re-mine the planned depth first if it pays.

        Args:
            chain: The chain to seal on.
            bonus: As for :meth:`plan`.
            substitutes: Re-mined txs to replace, by hash, with the given txs.
        """
        plan = self.plan(chain, bonus)
        swap = substitutes or {}
        if plan.depth == 0:
            chain.coinbase = self.coinbase
            return chain.mine()[0]
        label = f"bandit:{self.name}"
        head = chain.block_number
        parent = chain.block(head - plan.depth).hash
        for number in range(head - plan.depth + 1, head + 1):
            txs = [swap.get(h) or chain.transaction(h) for h in chain.block(number).tx_hashes]
            parent = chain.mine_on(parent, txs, coinbase=self.coinbase, policy=label).hash
        rng = random.Random(f"agent-testbed/bandit/{chain.seed}/{head}")
        pool = PriorityFeePolicy().order(chain.pending_transactions(), chain.base_fee, rng)
        return chain.mine_on(parent, [p.tx for p in pool], coinbase=self.coinbase, policy=label)
