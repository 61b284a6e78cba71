"""The reorg market shared by the commitment-credibility experiments (:mod:`.credibility` for
escrow releases, :mod:`.intent_credibility` for intent fills): proposers drawn per slot by
stake, one of them a :class:`~agentbed.agents.blockprod.bounty.BountySeller`; the losing side of
a settlement as a :class:`~agentbed.agents.blockprod.bounty.BountyBuyer`; and the honest side's
rule of counting a settlement settled once its block is ``d`` deep.

A case supplies its contracts (a :class:`SeedDeployment`), its settling txs (followed as
:class:`Settlement` records) and, for each, the substitute the loser wants sealed in its place;
:meth:`ReorgMarket.follow` counts, buys the reorg and hands the substitute to the seller, and
:meth:`ReorgMarket.seal` lets the slot's proposer seal (the seller re-mines when the bounties
pay). Decide, then apply: the parties sign, the market submits and seals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from agentbed.agents.blockprod.bandit import TimeBanditProposer
from agentbed.agents.blockprod.bounty import (
    BLOCKHASH_WINDOW,
    BountyBuyer,
    BountyOrder,
    BountySeller,
)
from agentbed.agents.blockprod.schedule import one_against_honest
from agentbed.chain.auction import StakeWeightedSchedule
from agentbed.chain.errors import UnknownTransaction
from agentbed.chain.node import GWEI, Chain

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.blockprod.credibility import CredibilityConfig
    from agentbed.chain.types import Transaction

ETH = 10**18
CLAIMED_TOPIC = keccak(text="BountyClaimed(uint256,address,uint256)")


@dataclass
class Settlement:
    """A settling tx as the side that counts it follows it off chain.

    Attributes:
        tx: Its hash (None until sent).
        counted: The honest side counted it settled at its depth (and acted on it).
        bounty_posted: The losing side bought a reorg of its block.
    """

    tx: bytes | None = None
    counted: bool = False
    bounty_posted: bool = False


@dataclass
class ReorgMarket:
    """What every credibility run shares: the proposers (a stake-weighted schedule, one of
    them a :class:`BountySeller`), the losing side's :class:`BountyBuyer`, its orders so far,
    and the depth at which the honest side counts a settlement."""

    chain: Chain
    cfg: CredibilityConfig
    depth: int
    buyer: BountyBuyer
    seller: BountySeller
    schedule: StakeWeightedSchedule
    orders: list[BountyOrder] = field(default_factory=list)

    def follow(self, s: Settlement, stake: int, substitute: Callable[[Transaction], bytes]) -> None:
        """Count ``s`` once its block is ``depth`` deep, then buy a reorg of that block.

        The honest side counts the settlement and acts on it irrevocably; the losing side
        learns of that at once and, in the same slot, offers ``bounty_share * stake`` for the
        block, handing the seller ``substitute(settling tx)`` to seal in its place.
        """
        if s.tx is None:
            return
        try:
            receipt = self.chain.receipt(s.tx)
        except UnknownTransaction:
            return  # not (or no longer) on the canonical chain
        if not s.counted:
            deep = self.chain.block_number - receipt.block_number + 1 >= self.depth
            s.counted = receipt.status == 1 and deep
            if not s.counted:
                return
        if not s.bounty_posted and self.cfg.bounty_share > 0:
            self._buy_reorg(s, receipt.block_number, stake, substitute)

    def _buy_reorg(
        self,
        s: Settlement,
        number: int,
        stake: int,
        substitute: Callable[[Transaction], bytes],
    ) -> None:
        chain = self.chain
        assert s.tx is not None
        deadline = chain.block_number + self.cfg.deadline_blocks
        if deadline >= number + BLOCKHASH_WINDOW:
            return
        replacement = chain.decode(substitute(chain.transaction(s.tx)))
        amount = int(self.cfg.bounty_share * stake)
        raw, order = self.buyer.offer(chain, number, amount, deadline, [(s.tx, replacement)])
        chain.submit(raw)
        self.orders.append(order)
        s.bounty_posted = True

    def seal(self) -> None:
        """The slot's proposer seals; the seller then claims what it has earned."""
        chain = self.chain
        proposer = self.schedule.proposer_for(chain.block_number + 1)
        if proposer.name == self.seller.bandit.name:
            self.seller.propose(chain, self.orders)
        else:
            chain.coinbase = proposer.fee_recipient
            chain.mine()
        for raw in self.seller.claims(chain):
            chain.submit(raw)

    def bounties_paid(self) -> int:
        """Wei the bounty contract paid out on the canonical chain."""
        claimed = self.chain.logs(address=self.buyer.contract, topics=[CLAIMED_TOPIC])
        return sum(int.from_bytes(log.data, "big") for log in claimed)


def open_market(
    cfg: CredibilityConfig,
    deployment: SeedDeployment,
    depth: int,
    finality: int,
    buyer: LocalAccount,
) -> ReorgMarket:
    """A run's market on a fresh copy of ``deployment`` (account 3 sends the seller's claims)."""
    chain = deployment.fresh()
    chain.set_fork_choice(finality_depth=finality or None)
    schedule = one_against_honest(
        "bandit", f"0x{0xB0:040x}", cfg.bandit_share, cfg.proposers, deployment.seed
    )
    bandit = TimeBanditProposer(
        "bandit",
        schedule.proposers[0].fee_recipient,
        cost_per_block=int(cfg.cost_per_block_eth * ETH),
        max_depth=cfg.max_depth,
    )
    bounty = deployment.bounty.address
    return ReorgMarket(
        chain=chain,
        cfg=cfg,
        depth=depth,
        buyer=BountyBuyer(buyer, bounty),
        seller=BountySeller(bandit, chain.accounts[3], bounty),
        schedule=schedule,
    )


def calldata(call: Any) -> bytes:
    """A web3 contract call's calldata."""
    return bytes.fromhex(call._encode_transaction_data()[2:])


def signed_call(
    market: ReorgMarket, account: Any, to: str, call: Any, gas: int, **extra: Any
) -> bytes:
    """Sign a contract call with the slot's tip (fee fields fixed, so a substitute can match)."""
    chain, tip = market.chain, market.cfg.tip_gwei * GWEI
    fields_ = {
        "to": to,
        "data": calldata(call),
        "gas": gas,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 4 * chain.base_fee + tip,
        **extra,
    }
    return chain.sign(account, fields_)


@dataclass
class SeedDeployment:
    """One seed's chain with the contracts deployed, and a snapshot to start every run from
    (the deployment is the same at every grid point, so a grid deploys once per seed)."""

    chain: Chain
    seed: int
    bounty: Any
    snapshot: int

    def fresh(self) -> Chain:
        """The chain as it was right after deployment (a new snapshot is kept for the next)."""
        self.chain.revert(self.snapshot)
        self.snapshot = self.chain.snapshot()
        return self.chain
