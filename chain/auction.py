"""Proposers, competing builders and the slot auction between them (MEV-Boost style).

Opt-in: ``Chain.mine`` keeps today's single passive builder. A :class:`SlotAuction` produces
blocks instead::

    auction = SlotAuction(chain, builders, RoundRobinSchedule(proposers))
    auction.send_bundle([raw_backrun], builders=["b1"])   # only b1 sees it
    result = auction.run_slot()                           # who proposed, every bid, who won

**Each slot** a seeded schedule names the proposer (:class:`RoundRobinSchedule`, or
:class:`StakeWeightedSchedule`: drawn with probability proportional to stake, from an RNG
derived from the seed and the block number). Every builder assembles a block on the head as
it would seal it: the public pool as *it* sees it (the chain's latency model, the builder's
name as observer), the bundles sent to it, its own ordering policy (any of
:mod:`agentbed.chain.ordering`; bundles need a ``bundles_first`` policy). Its **block value**
is what the block pays its coinbase (priority fees plus direct transfers), and its bid follows
its :class:`BidStrategy`. The proposer also values its own local block (its policy, the pool
as it sees it, bundles sent to it). It takes the highest bid if that beats its local block
(MEV-Boost's rule), else proposes its local block; a proposer with ``mev_boost=False`` always
builds itself.

**Pricing**: ``"first"``: the winner pays its bid; ``"second"``: the winner pays the
second-highest bid (the proposer's local value if only one builder bid), a Vickrey auction in
which bidding the full value is a dominant strategy (Vickrey 1961). Ties go to the builder
listed first. The winner's block is sealed as simulated (same txs, same order, deterministic
re-execution) with the builder as coinbase and, last, a payment tx from the builder to the
proposer's fee recipient for the price (its gas is the builder's cost), as MEV-Boost builders
pay proposers.

**Bundles and vertical integration**: :meth:`SlotAuction.send_bundle` names the builders that
get a bundle (default: every builder). A builder configured with ``searcher="name"`` is
vertically integrated: bundles whose origin is that searcher go to it alone, whatever they
name. A builder inserts its own txs the same way (bundles routed to itself).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from eth_account.signers.local import LocalAccount

from agentbed.chain.addresses import checksum
from agentbed.chain.builder import BlockBuilder
from agentbed.chain.latency import visible_txs
from agentbed.chain.ordering import BundlesFirstPolicy, PriorityFeePolicy
from agentbed.chain.seeds import policy_rng, prev_randao
from agentbed.chain.types import Address, Block, Bundle, Transaction

if TYPE_CHECKING:
    from agentbed.chain.interfaces import OrderingPolicy
    from agentbed.chain.node import Chain

PAYMENT_GAS = 21_000
"""Gas of the builder's payment tx to the proposer (a plain transfer)."""

Pricing = Literal["first", "second"]


class AuctionConfigError(ValueError):
    """A builder, proposer or schedule is misconfigured (names say which)."""


class BidStrategy(Protocol):
    """How much of its block value a builder bids."""

    def bid(self, value: int) -> int: ...


@dataclass(frozen=True, slots=True)
class FullValueBid:
    """Bid the whole block value (truthful: dominant under second-price pricing)."""

    def bid(self, value: int) -> int:
        return value


@dataclass(frozen=True, slots=True)
class ShadedBid:
    """Bid ``share_bps`` basis points of the block value (bid shading in a first-price auction)."""

    share_bps: int

    def __post_init__(self) -> None:
        if not 0 <= self.share_bps <= 10_000:
            raise AuctionConfigError(f"share_bps must be in [0, 10000], got {self.share_bps}")

    def bid(self, value: int) -> int:
        return value * self.share_bps // 10_000


@dataclass(frozen=True)
class BuilderSpec:
    """One competing builder.

    Args:
        name: Its id (also its observer id in the latency model).
        account: Its key: coinbase of its blocks and sender of its payments to proposers.
        policy: How it orders the pool (a ``bundles_first`` policy includes bundles).
        bidding: How much of its block value it bids.
        searcher: The searcher it is integrated with: that searcher's bundles go to it alone.
    """

    name: str
    account: LocalAccount
    policy: OrderingPolicy = field(default_factory=lambda: BundlesFirstPolicy(PriorityFeePolicy()))
    bidding: BidStrategy = field(default_factory=FullValueBid)
    searcher: str | None = None

    @property
    def address(self) -> Address:
        return str(self.account.address)


@dataclass(frozen=True)
class Proposer:
    """A validator that proposes blocks in the slots the schedule gives it.

    Args:
        name: Its id (observer id for its own local block).
        fee_recipient: Where its bids are paid and its local blocks' fees go.
        policy: Ordering of its local block.
        mev_boost: Whether it takes builders' bids at all.
    """

    name: str
    fee_recipient: Address
    policy: OrderingPolicy = field(default_factory=PriorityFeePolicy)
    mev_boost: bool = True

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "fee_recipient", checksum(self.fee_recipient))
        except (TypeError, ValueError) as err:
            raise AuctionConfigError(
                f"proposer {self.name!r}: fee_recipient {self.fee_recipient!r} is not an address"
            ) from err


class RoundRobinSchedule:
    """Proposer of block ``n`` is ``proposers[n % len(proposers)]``."""

    def __init__(self, proposers: Sequence[Proposer]) -> None:
        if not proposers:
            raise AuctionConfigError("a schedule needs at least one proposer")
        self.proposers = tuple(proposers)

    def proposer_for(self, number: int) -> Proposer:
        return self.proposers[number % len(self.proposers)]


class StakeWeightedSchedule:
    """Proposer of block ``n`` drawn with probability proportional to stake, from an RNG
    derived from ``seed`` and ``n`` (the same seed gives the same schedule)."""

    def __init__(self, proposers: Sequence[Proposer], stakes: Sequence[int], seed: int) -> None:
        if not proposers or len(stakes) != len(proposers):
            raise AuctionConfigError(
                f"need one stake per proposer: {len(proposers)} proposers, {len(stakes)} stakes"
            )
        if any(s < 0 for s in stakes) or sum(stakes) <= 0:
            raise AuctionConfigError(f"stakes must be >= 0 with a positive sum, got {stakes}")
        self.proposers = tuple(proposers)
        self.stakes = tuple(stakes)
        self.seed = seed

    def proposer_for(self, number: int) -> Proposer:
        rng = random.Random(f"agent-testbed/proposer/{self.seed}/{number}")
        return rng.choices(self.proposers, weights=self.stakes)[0]


class Schedule(Protocol):
    def proposer_for(self, number: int) -> Proposer: ...


@dataclass(frozen=True, slots=True)
class Bid:
    """One builder's offer for a slot: its block's value, its bid and the block's txs."""

    builder: str
    value: int
    amount: int
    txs: tuple[Transaction, ...]
    bundles: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SlotResult:
    """What happened in one slot."""

    block: Block
    proposer: str
    bids: tuple[Bid, ...]
    local_value: int
    """What the proposer's own block would have paid it."""
    winner: str | None
    """The builder whose block was proposed; None if the proposer built it."""
    price: int
    """Paid by the winner to the proposer (0 for a local block)."""

    @property
    def proposer_revenue(self) -> int:
        return self.price if self.winner is not None else self.local_value


class SlotAuction:
    """Runs MEV-Boost-style slots on ``chain`` (see the module docstring).

    Args:
        chain: The chain whose blocks the slots produce.
        builders: The competing builders (unique names).
        schedule: Who proposes each block.
        pricing: ``"first"`` or ``"second"`` price.
    """

    def __init__(
        self,
        chain: Chain,
        builders: Sequence[BuilderSpec],
        schedule: Schedule,
        *,
        pricing: Pricing = "first",
    ) -> None:
        names = [b.name for b in builders]
        if len(set(names)) != len(names):
            raise AuctionConfigError(f"builder names must be unique, got {names}")
        if pricing not in ("first", "second"):
            raise AuctionConfigError(f"pricing must be 'first' or 'second', got {pricing!r}")
        self.chain = chain
        self.builders = tuple(builders)
        self.schedule = schedule
        self.pricing: Pricing = pricing
        self._routes: dict[bytes, frozenset[str]] = {}
        self._integrated = {b.searcher: b.name for b in builders if b.searcher is not None}
        self.results: list[SlotResult] = []

    def send_bundle(
        self,
        raw_txs: Sequence[bytes],
        builders: Iterable[str] | None = None,
        *,
        target_block: int | None = None,
        origin: str | None = None,
        allowed_to_revert: Iterable[bytes] = (),
    ) -> bytes:
        """Send a private bundle to ``builders`` (default: all); return its id.

        Raises:
            AuctionConfigError: An unknown builder name.
            BundleRejected: As :meth:`Chain.submit_bundle`.
        """
        chosen = None if builders is None else frozenset(builders)
        unknown = sorted((chosen or frozenset()) - {b.name for b in self.builders})
        if unknown:
            raise AuctionConfigError(f"no builders named {unknown}")
        bundle_id = self.chain.submit_bundle(
            raw_txs, target_block, allowed_to_revert=allowed_to_revert, origin=origin
        )
        if chosen is not None:
            self._routes[bundle_id] = chosen
        return bundle_id

    def bundles_for(self, name: str, number: int) -> list[Bundle]:
        """The bundles for block ``number`` that builder (or proposer) ``name`` has."""
        out = []
        for bundle in self.chain._producer.bundles:
            if bundle.target_block != number:
                continue
            owner = self._integrated.get(bundle.origin or "")
            if owner is not None:
                if owner == name:
                    out.append(bundle)
            elif name in self._routes.get(bundle.id, {b.name for b in self.builders}):
                out.append(bundle)
        return out

    def _simulate(
        self, observer: str, coinbase: Address, policy: OrderingPolicy, block_ms: int
    ) -> tuple[int, tuple[Transaction, ...], tuple[bytes, ...], int]:
        """``(value, txs, bundle ids, coinbase's nonce after)`` of a block built by
        ``observer`` on the head; changes nothing."""
        chain = self.chain
        number = chain.block_number + 1
        session = chain.backend.open_block(
            timestamp=chain._producer.next_timestamp(block_ms),
            coinbase=coinbase,
            mix_hash=prev_randao(chain.seed, number),
        )
        visible = visible_txs(chain.mempool.pending(), observer, block_ms, chain.latency)
        build = BlockBuilder().build(
            session,
            pending=visible,
            bundles=self.bundles_for(observer, number),
            policy=policy,
            rng=policy_rng(chain.seed, number),
        )
        value = sum(inc.result.coinbase_balance_delta for inc in build.included)
        txs = tuple(inc.tx for inc in build.included)
        return value, txs, build.bundles, session.nonce(coinbase)

    def run_slot(self) -> SlotResult:
        """Produce the next block by the auction; return what happened."""
        chain = self.chain
        number = chain.block_number + 1
        block_ms = chain._producer.next_block_ms(chain.clock)
        proposer = self.schedule.proposer_for(number)
        bids, nonces = [], {}
        for spec in self.builders:
            value, txs, bundle_ids, nonce = self._simulate(
                spec.name, spec.address, spec.policy, block_ms
            )
            bids.append(Bid(spec.name, value, max(spec.bidding.bid(value), 0), txs, bundle_ids))
            nonces[spec.name] = nonce
        local_value, local_txs, _, _ = self._simulate(
            proposer.name, proposer.fee_recipient, proposer.policy, block_ms
        )
        best = max(bids, key=lambda b: b.amount, default=None)  # max keeps the first of ties
        if proposer.mev_boost and best is not None and best.amount > local_value:
            price = self._price(best, bids, local_value)
            spec = next(s for s in self.builders if s.name == best.builder)
            sealed: list[bytes | Transaction] = list(best.txs)
            if price > 0:
                sealed.append(self._payment(spec, proposer, price, nonces[spec.name]))
            block = chain.mine_on(
                chain.head.hash, sealed, coinbase=spec.address, policy=f"builder:{spec.name}"
            )
            result = SlotResult(block, proposer.name, tuple(bids), local_value, spec.name, price)
        else:
            block = chain.mine_on(
                chain.head.hash,
                local_txs,
                coinbase=proposer.fee_recipient,
                policy=f"proposer:{proposer.name}",
            )
            result = SlotResult(block, proposer.name, tuple(bids), local_value, None, 0)
        self.results.append(result)
        return result

    def _price(self, best: Bid, bids: Sequence[Bid], local_value: int) -> int:
        if self.pricing == "first":
            return best.amount
        others = [b.amount for b in bids if b is not best]
        return max([local_value, *others])

    def _payment(self, spec: BuilderSpec, proposer: Proposer, price: int, nonce: int) -> bytes:
        base_fee = self.chain.base_fee
        return self.chain.sign(
            spec.account,
            {
                "to": proposer.fee_recipient,
                "value": price,
                "gas": PAYMENT_GAS,
                "nonce": nonce,
                "maxFeePerGas": base_fee,
                "maxPriorityFeePerGas": 0,
            },
        )


def builder_shares(results: Sequence[SlotResult]) -> Mapping[str, float]:
    """Share of slots each builder won (``"local"`` for proposers' own blocks)."""
    counts: dict[str, int] = {}
    for result in results:
        key = result.winner or "local"
        counts[key] = counts.get(key, 0) + 1
    total = len(results) or 1
    return {name: n / total for name, n in sorted(counts.items())}
