"""Reorg-as-a-service: the buyer who posts a :file:`contracts/ReorgBounty.sol` bounty, and the
proposer who sells reorgs by taking bounties into its time-bandit decision.

The buyer is whoever loses by block ``N`` staying canonical: a searcher who lost an
opportunity in it, or an escrow party that wants its settlement undone. It escrows ``amount``
for "block ``N`` with hash ``H`` is not canonical after block ``deadline``" and hands the
seller, off chain, the txs it wants in place of its own txs in ``N`` (same sender and nonce,
so nothing after them breaks): a cancel, a dispute, a double-spend. Without a substitute a
re-mined block carries the same txs, and the reorg changes who was paid, not what settled.

The seller is a :class:`~agentbed.agents.blockprod.bandit.TimeBanditProposer` whose gain for
orphaning the last ``k`` blocks is their coinbase payments plus the bounties whose block lies
among them, minus ``k`` times its cost per block (Daian et al. 2020, "Flash Boys 2.0": bribes
paid to rewrite history). It re-mines those blocks with the buyers' substitutes and, once a
deadline has passed, claims with the replaced block's RLP header: the contract pays the
coinbase of the canonical block at that height, its own. With no orders it is the bandit.

Decide, then apply: the agents return signed txs; the caller submits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eth_abi import decode, encode
from eth_utils import keccak

from agentbed.agents.blockprod.bandit import TimeBanditProposer
from agentbed.chain.addresses import checksum

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address, Block, Transaction

OFFER = keccak(text="offer(uint256,bytes32,uint256)")[:4]
CLAIM = keccak(text="claim(uint256,bytes)")[:4]
BOUNTY = keccak(text="bounty(uint256)")[:4]
COUNT = keccak(text="bountyCount()")[:4]
OFFER_GAS = 150_000
CLAIM_GAS = 150_000
BLOCKHASH_WINDOW = 256


class BountyOrderError(ValueError):
    """A bounty order names a block or deadline the contract would refuse."""


@dataclass(frozen=True, slots=True)
class BountyOrder:
    """One bounty as the buyer and the seller know it off chain.

    Attributes:
        buyer: Who escrows the bounty.
        block_number: The height to replace.
        block_hash: The hash of the block there now.
        deadline: The last block before the bounty can be settled.
        amount: Wei escrowed.
        substitutes: ``(hash of a tx in the block, the tx to seal instead)`` pairs.
    """

    buyer: Address
    block_number: int
    block_hash: bytes
    deadline: int
    amount: int
    substitutes: tuple[tuple[bytes, Transaction], ...] = ()


@dataclass(frozen=True)
class BountyBuyer:
    """Posts bounties on the contract at ``contract`` from ``account``."""

    account: LocalAccount
    contract: Address

    def offer(
        self,
        chain: Chain,
        block_number: int,
        amount: int,
        deadline: int,
        substitutes: Iterable[tuple[bytes, Transaction]] = (),
    ) -> tuple[bytes, BountyOrder]:
        """The signed offer tx for canonical block ``block_number`` and its off-chain order.

        Raises:
            BountyOrderError: ``amount`` is not positive, the block is not in the past, or
                ``deadline`` is before the next block or too late for ``blockhash``.
        """
        head = chain.block_number
        if amount <= 0 or not 0 < block_number <= head:
            raise BountyOrderError(
                f"bounty on block {block_number}: need amount > 0 and a past block (head {head})"
            )
        if not head < deadline < block_number + BLOCKHASH_WINDOW:
            raise BountyOrderError(
                f"bounty on block {block_number}: deadline {deadline} must be after the head"
                f" ({head}) and before block {block_number + BLOCKHASH_WINDOW}"
            )
        block_hash = chain.block(block_number).hash
        args = [block_number, block_hash, deadline]
        data = OFFER + encode(["uint256", "bytes32", "uint256"], args)
        raw = chain.sign(
            self.account,
            {"to": self.contract, "data": data, "value": amount, "gas": OFFER_GAS},
        )
        order = BountyOrder(
            checksum(self.account.address),
            block_number,
            block_hash,
            deadline,
            amount,
            tuple(substitutes),
        )
        return raw, order


@dataclass
class BountySeller:
    """A time-bandit proposer that sells reorgs for bounties and claims what it earned.

    Args:
        bandit: Its reorg decision and coinbase.
        keeper: The account that sends its claims (any funded account: the contract pays the
            replacing block's coinbase, whoever claims).
        contract: The bounty contract.
    """

    bandit: TimeBanditProposer
    keeper: LocalAccount
    contract: Address
    claimed: set[int] = field(default_factory=set)
    """Bounty ids it has sent claims for."""

    def live(self, chain: Chain, orders: Sequence[BountyOrder]) -> list[BountyOrder]:
        """Orders it could still earn by a reorg now: the block is canonical with the hash the
        buyer named and the offer can still be included (the next block is not past the
        deadline)."""
        head = chain.block_number
        return [
            o
            for o in orders
            if o.block_number <= head
            and head + 1 <= o.deadline
            and chain.block(o.block_number).hash == o.block_hash
        ]

    def bonus(self, chain: Chain, orders: Sequence[BountyOrder]) -> Callable[[int], int]:
        """What orphaning the last ``k`` blocks earns in bounties, by ``k``."""
        live = self.live(chain, orders)
        head = chain.block_number
        return lambda depth: sum(o.amount for o in live if o.block_number > head - depth)

    def propose(self, chain: Chain, orders: Sequence[BountyOrder]) -> Block:
        """This slot's block: a reorg when the orders' bounties make it pay (see the module)."""
        swap = {h: tx for o in self.live(chain, orders) for h, tx in o.substitutes}
        return self.bandit.propose(chain, self.bonus(chain, orders), swap)

    def claims(self, chain: Chain) -> list[bytes]:
        """Signed claims for every open bounty whose block its own block replaced and whose
        deadline has passed (once each; the next block must still read the block's hash)."""
        next_block = chain.block_number + 1
        count = int.from_bytes(chain.call(self.contract, COUNT), "big")
        raws = []
        for bounty_id in range(1, count + 1):
            if bounty_id in self.claimed:
                continue
            out = chain.call(self.contract, BOUNTY + encode(["uint256"], [bounty_id]))
            _, number, deadline, amount, block_hash = decode(
                ["address", "uint64", "uint64", "uint256", "bytes32"], out
            )
            if not amount or not deadline < next_block <= number + BLOCKHASH_WINDOW:
                continue
            block = chain.block(number)
            if block.hash == block_hash or block.coinbase != self.bandit.coinbase:
                continue
            data = CLAIM + encode(["uint256", "bytes"], [bounty_id, chain.header_rlp(number)])
            tx = {"to": self.contract, "data": data, "gas": CLAIM_GAS}
            raws.append(chain.sign(self.keeper, tx))
            self.claimed.add(bounty_id)
        return raws
