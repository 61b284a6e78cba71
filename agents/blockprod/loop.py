"""Block production inside the simulation loop: proposers, competing builders, time-bandits.

:class:`LoopProducer` is what :class:`~agentbed.agents.sim.Simulation` asks for each block
when a scenario has a ``[block_production]`` table (:mod:`.loopconfig`); without one the
simulation keeps ``Chain.mine()`` and today's single passive builder.

**Each slot** an RNG derived from the root seed and the block number decides who proposes:
with probability ``bandit.share`` the time-bandit, else with ``censor.share`` the censor, else
the honest proposer the schedule names (round-robin or stake-weighted over
``proposers.count`` validators). An honest or censoring proposer runs the slot auction of
:class:`~agentbed.chain.auction.SlotAuction`: every builder assembles a block from the public
pool as it sees it (its name is its observer id in the latency model) and the bundles sent to
it, with its ordering policy, and bids a share of the block's value; the proposer takes the
best bid if it beats its own local block. A censoring proposer never takes bids (it cannot
see inside a sealed builder block, as with MEV-Boost, so it builds itself) and leaves the
target's transactions out of its block. The time-bandit (:class:`TimeBanditProposer`)
re-mines the last ``k`` blocks when what they paid their coinbases exceeds ``k`` times its
cost per orphaned block, else it proposes honestly through the auction.

**Bundles** go to the builders the searcher chooses: its ``[block_production.routes]`` entry
(by agent or group name), else every builder; a searcher integrated with a builder sends to
that builder only (the auction enforces it).

**Accounts.** Builders get keys derived from the root seed, funded with
:data:`BUILDER_FUNDS` before the run (their payments to proposers cost gas); proposers are fee
recipients at addresses derived from the root seed. Both are ordinary holders in the value
accounting, so closure covers them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from agentbed.agents.agent import derive_seed
from agentbed.agents.blockprod.bandit import TimeBanditProposer
from agentbed.agents.blockprod.builders import DrawnShadeBid
from agentbed.agents.blockprod.censor import CensoringPolicy
from agentbed.agents.blockprod.loopconfig import FULL_BID, BlockProductionConfig
from agentbed.chain.auction import (
    BidStrategy,
    BuilderSpec,
    FullValueBid,
    Proposer,
    RoundRobinSchedule,
    ShadedBid,
    SlotAuction,
    StakeWeightedSchedule,
)
from agentbed.chain.seeds import derive_accounts

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address, Block

BUILDER_FUNDS = 100 * 10**18
"""ETH each builder holds before the run (its payments to proposers and their gas)."""
BANDIT = "bandit"
CENSOR = "censor"


@dataclass(frozen=True, slots=True)
class SlotRecord:
    """Who produced one sealed block.

    Attributes:
        proposer: The proposer's name (``bandit``, ``censor`` or ``proposerN``).
        winner: The builder whose block it is, or None for the proposer's own block.
        price: What the winner paid the proposer (wei).
        reorg: Whether the block is one of a time-bandit's re-mined branch.
    """

    proposer: str
    winner: str | None
    price: int
    reorg: bool = False


def _bidding(bps: tuple[int, int], seed: int) -> BidStrategy:
    """Full value, a fixed shade, or a shade drawn each slot from ``bps`` (seeded)."""
    low, high = bps
    if low == high:
        return FullValueBid() if low == FULL_BID else ShadedBid(low)
    return DrawnShadeBid(low, high, random.Random(seed))


class _SlotSchedule:
    """The proposer of each slot (see the module docstring); a ``SlotAuction`` schedule."""

    def __init__(self, producer: LoopProducer) -> None:
        self._producer = producer

    def proposer_for(self, number: int) -> Proposer:
        return self._producer.proposer_for(number)


class LoopProducer:
    """Produces the simulation's blocks by the ``[block_production]`` game.

    Args:
        chain: The run's chain (automine off).
        config: The scenario's ``[block_production]`` table.
        seed: The run's root seed (builders' and proposers' keys, the slot draws).
        addresses: Agents' addresses by name (integrated searchers, the censor's target).
        groups: Each agent's group name (routes may name a group).
    """

    def __init__(
        self,
        chain: Chain,
        config: BlockProductionConfig,
        seed: int,
        addresses: Mapping[str, Address],
        groups: Mapping[str, str],
    ) -> None:
        self.chain = chain
        self.config = config
        self.seed = seed
        self._groups = dict(groups)
        keys = derive_accounts(derive_seed(seed, "builders"), len(config.builders), None)
        self.builders = tuple(
            BuilderSpec(
                b.name,
                key,
                policy=b.policy.build(),
                bidding=_bidding(b.bid_bps, derive_seed(seed, "bid", b.name)),
                searcher=b.integrated_with,
            )
            for b, key in zip(config.builders, keys, strict=True)
        )
        recipients = derive_accounts(
            derive_seed(seed, "proposers"), config.proposers.count + 2, None
        )
        self.proposers = tuple(
            Proposer(
                f"proposer{i}",
                str(recipients[i].address),
                policy=config.proposers.policy.build(),
                mev_boost=config.proposers.mev_boost,
            )
            for i in range(config.proposers.count)
        )
        self._schedule = (
            StakeWeightedSchedule(
                self.proposers,
                config.proposers.stakes or [1] * len(self.proposers),
                derive_seed(seed, "schedule"),
            )
            if config.proposers.schedule == "stake_weighted"
            else RoundRobinSchedule(self.proposers)
        )
        bandit_address = str(recipients[-2].address)
        self.bandit = (
            TimeBanditProposer(
                BANDIT, bandit_address, config.bandit.cost_per_block, config.bandit.max_depth
            )
            if config.bandit is not None
            else None
        )
        self._bandit_honest = Proposer(
            BANDIT, bandit_address, policy=config.proposers.policy.build()
        )
        self.censor = (
            Proposer(
                CENSOR,
                str(recipients[-1].address),
                policy=CensoringPolicy(
                    config.proposers.policy.build(), [addresses[config.censor.target]]
                ),
                mev_boost=False,
            )
            if config.censor is not None
            else None
        )
        self.auction = SlotAuction(
            chain,
            self.builders,
            _SlotSchedule(self),
            pricing=config.pricing,  # type: ignore[arg-type]
        )
        self.slots: dict[bytes, SlotRecord] = {}
        """Every block sealed by the game (canonical or orphaned), by hash."""

    # -- who is who ----------------------------------------------------------------------------

    def setup(self) -> None:
        """Fund the builders and set the fork choice (before the run's set-up blocks)."""
        for spec in self.builders:
            self.chain.set_balance(spec.address, BUILDER_FUNDS)
        if self.config.finality_depth is not None:
            self.chain.set_fork_choice(finality_depth=self.config.finality_depth)

    def role_for(self, number: int) -> str:
        """``"bandit"``, ``"censor"`` or ``"honest"``: who proposes block ``number``."""
        draw = random.Random(derive_seed(self.seed, "slot", number)).random()
        bandit = self.config.bandit.share if self.config.bandit is not None else 0.0
        censor = self.config.censor.share if self.config.censor is not None else 0.0
        if draw < bandit:
            return BANDIT
        if draw < bandit + censor:
            return CENSOR
        return "honest"

    def proposer_for(self, number: int) -> Proposer:
        """The proposer that runs the auction of block ``number``."""
        role = self.role_for(number)
        if role == BANDIT:
            return self._bandit_honest
        if role == CENSOR and self.censor is not None:
            return self.censor
        return self._schedule.proposer_for(number)

    @property
    def builder_addresses(self) -> dict[str, Address]:
        return {spec.name: spec.address for spec in self.builders}

    @property
    def proposer_addresses(self) -> dict[str, Address]:
        """Fee recipients by proposer name, the bandit and the censor included."""
        out = {p.name: p.fee_recipient for p in self.proposers}
        if self.bandit is not None:
            out[BANDIT] = self.bandit.coinbase
        if self.censor is not None:
            out[CENSOR] = self.censor.fee_recipient
        return out

    def integrated(self) -> tuple[str, ...]:
        """The names of the vertically integrated builders."""
        return tuple(spec.name for spec in self.builders if spec.searcher is not None)

    # -- producing -----------------------------------------------------------------------------

    def route(self, agent: str) -> tuple[str, ...] | None:
        """The builders ``agent`` sends its bundles to (None: every builder)."""
        return self.config.route_for(agent, self._groups.get(agent, agent))

    def send_bundle(
        self, raws: Sequence[bytes], agent: str, target_block: int | None, at_ms: int
    ) -> bytes:
        """Send ``agent``'s bundle to its builders; its id (errors as ``Chain.submit_bundle``)."""
        del at_ms  # the auction reads bundles at the slot; arrival time does not order them
        return self.auction.send_bundle(
            raws, self.route(agent), target_block=target_block, origin=agent
        )

    def produce(self) -> list[Block]:
        """Produce the next slot's block(s); the canonical blocks that changed, oldest first
        (one new block, or a bandit's re-mined branch and its new block)."""
        chain = self.chain
        before = chain.block_number
        seen_reorgs = len(chain.reorgs)
        number = before + 1
        if self.bandit is not None and self.role_for(number) == BANDIT:
            # Only the game's own blocks can be rewritten: the set-up before the run is final
            # (it is not measured, and the simulation's rows start after it).
            # Walk back no further than the bandit could reach: only min(max_depth, own) counts.
            reach = min(before, self.bandit.max_depth)
            own = 0
            while own < reach and chain.block(before - own).hash in self.slots:
                own += 1
            if own:
                bandit = replace(self.bandit, max_depth=own)
                plan = bandit.plan(chain)
                if plan.depth > 0:
                    bandit.propose(chain)
                    for n in range(before - plan.depth + 1, chain.block_number + 1):
                        # Re-mining its own block seals the same block again (same hash).
                        record = SlotRecord(BANDIT, None, 0, reorg=True)
                        self.slots.setdefault(chain.block(n).hash, record)
        if chain.block_number == before:
            result = self.auction.run_slot()
            self.slots[result.block.hash] = SlotRecord(result.proposer, result.winner, result.price)
        lowest = min([before + 1, *(r.ancestor + 1 for r in chain.reorgs[seen_reorgs:])])
        return [chain.block(n) for n in range(lowest, chain.block_number + 1)]
