"""Block production for ``Chain``: when the next block is sealed and what goes into it.

A :class:`BlockProducer` keeps what waits between blocks -- private bundles for future blocks
and a time pinned for the next block -- and seals a block on request: it opens a backend block
at the scheduled time, lets the :class:`BlockBuilder` fill it from the bundles for that block
and the pool txs the builder can see by then, records the block in the history, brings the
mempool up to date and tells the block listeners. The mempool, clock, policy, latency model
and coinbase are passed in for each block because ``Chain`` replaces them (on revert, or when
a user sets another policy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentbed.chain.builder import BlockBuilder, BuildResult
from agentbed.chain.interfaces import HeadInfo
from agentbed.chain.latency import visible_txs
from agentbed.chain.records import block_receipts, block_record, simulated_receipts
from agentbed.chain.seeds import policy_rng, prev_randao
from agentbed.chain.types import Address, Block, Bundle, Receipt, Transaction

if TYPE_CHECKING:
    from agentbed.chain.abi import AbiRegistry
    from agentbed.chain.backend import PyEVMBackend
    from agentbed.chain.clock import SimClock
    from agentbed.chain.history import ChainHistory
    from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
    from agentbed.chain.mempool import Mempool

BUILDER = "builder"
"""Observer id of the block builder in latency models."""

BlockListener = Callable[[Block, tuple[Receipt, ...], tuple[Transaction, ...]], None]
"""Called with each sealed block, its receipts and its transactions."""


class BlockProducer:
    """Schedules and seals the blocks of one chain.

    Args:
        backend: The chain's execution backend.
        history: The chain's sealed blocks (the head decides the next block's time).
        abi: Decodes the logs and revert reasons of the receipts.
        seed: The chain's root seed (prevrandao and the policy's RNG derive from it).
    """

    def __init__(
        self, *, backend: PyEVMBackend, history: ChainHistory, abi: AbiRegistry, seed: int
    ) -> None:
        self._backend = backend
        self._history = history
        self._abi = abi
        self._seed = seed
        self._builder = BlockBuilder()
        self.bundles: list[Bundle] = []
        """Private bundles whose target block is not sealed yet, in arrival order."""
        self.pinned_ms: int | None = None
        """Time set for the next block (:meth:`pin_next_block`); None to follow the clock."""
        self.last_build: BuildResult | None = None
        """What the builder did for the last block sealed."""
        self.listeners: list[BlockListener] = []
        """Called after every block sealed (not snapshotted: they survive a revert)."""

    def next_block_ms(self, clock: SimClock) -> int:
        """When the next block will be sealed if mined now (simulated ms)."""
        if self.pinned_ms is not None:
            return self.pinned_ms
        head = self._history.head
        return max(clock.now_ms, head.timestamp_ms + clock.block_interval_ms)

    def next_timestamp(self, block_ms: int) -> int:
        """Header timestamp (seconds) of the next block if it is sealed at ``block_ms``."""
        # Header timestamps are whole seconds and must increase; with sub-second block
        # intervals consecutive blocks get consecutive seconds.
        return max(block_ms // 1000, self._history.head.timestamp + 1)

    def pin_next_block(self, timestamp_ms: int, clock: SimClock) -> None:
        """Seal the next block at exactly ``timestamp_ms`` (see ``Chain.set_next_block_time``).

        Raises:
            ValueError: The time is before the clock's now, or its second is not after the
                head block's timestamp.
        """
        head = self._history.head
        if timestamp_ms < clock.now_ms:
            raise ValueError(
                f"next block time {timestamp_ms} ms is before the clock ({clock.now_ms} ms)"
            )
        if timestamp_ms // 1000 <= head.timestamp:
            raise ValueError(
                f"next block timestamp {timestamp_ms // 1000} s must be after the head block's"
                f" {head.timestamp} s"
            )
        self.pinned_ms = timestamp_ms

    def seal_next(
        self,
        *,
        clock: SimClock,
        mempool: Mempool,
        policy: OrderingPolicy,
        latency: LatencyModel,
        coinbase: Address,
    ) -> Block:
        """Advance ``clock`` to the next block's time, then build, seal and record that block.

        Bundles for this block or earlier are done with (included or dropped) and leave
        :attr:`bundles`; the mempool forgets the included txs and revalidates their senders.
        """
        block_ms = self.next_block_ms(clock)
        self.pinned_ms = None
        clock.advance_to(block_ms)
        number = self._backend.head_number + 1
        session = self._backend.open_block(
            timestamp=self.next_timestamp(block_ms),
            coinbase=coinbase,
            mix_hash=prev_randao(self._seed, number),
        )
        visible = visible_txs(mempool.pending(), BUILDER, block_ms, latency)
        bundles = [b for b in self.bundles if b.target_block == number]
        build = self._builder.build(
            session,
            pending=visible,
            bundles=bundles,
            policy=policy,
            rng=policy_rng(self._seed, number),
        )
        sealed = session.seal()
        receipts = block_receipts(
            build.included,
            number=number,
            block_hash=sealed.hash,
            block_ms=block_ms,
            base_fee=sealed.base_fee,
            abi=self._abi,
        )
        block = block_record(sealed, block_ms, build.included, policy.name, build.bundles)
        self._history.append(block, receipts)
        self.bundles = [b for b in self.bundles if b.target_block > number]
        # Bundle txs never passed through the pool; naming every sender the block touched lets
        # the pool evict pooled txs whose nonces a bundle consumed.
        mempool.on_block(
            block.tx_hashes,
            state=self._backend,
            head=HeadInfo(block_gas_limit=block.gas_limit, base_fee=self._backend.next_base_fee()),
            block_number=number,
            touched={inc.tx.sender for inc in build.included},
        )
        self.last_build = build
        if self.listeners:
            txs = tuple(inc.tx for inc in build.included)
            for listener in self.listeners:
                listener(block, receipts, txs)
        return block

    def simulate_bundle(
        self, bundle: Bundle, *, clock: SimClock, coinbase: Address
    ) -> tuple[tuple[Receipt, ...], str | None]:
        """Receipts ``bundle`` would produce at the top of the next block; changes nothing.

        Returns:
            ``(receipts, failure)``: :class:`SimulatedReceipt` s (return data and coinbase gain
            too, for ``eth_callBundle``); ``failure`` says why the bundle would be dropped, or None.
        """
        block_ms = self.next_block_ms(clock)
        session = self._backend.open_block(
            timestamp=self.next_timestamp(block_ms),
            coinbase=coinbase,
            mix_hash=prev_randao(self._seed, self._backend.head_number + 1),
        )
        results, failure = self._builder.simulate_bundle(session, bundle)
        receipts = block_receipts(
            results,
            number=session.number,
            block_hash=b"\x00" * 32,
            block_ms=block_ms,
            base_fee=session.base_fee,
            abi=self._abi,
        )
        return simulated_receipts(results, receipts), failure
