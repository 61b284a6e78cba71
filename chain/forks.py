"""Forks and reorgs as :class:`~agentbed.chain.node.Chain` methods (``Chain`` inherits them).

The chain can seal a block on any known parent, not only the head (:meth:`ChainForks.mine_on`),
keep several branches, and switch the canonical head by a fork-choice rule::

    chain.set_fork_choice(finality_depth=2)       # longest chain; reorgs of < 2 blocks only
    b1 = chain.mine_on(genesis.hash, [raw_tx])    # a side block: the head stays
    b2 = chain.mine_on(b1.hash)                   # longer than the canonical chain: reorg
    chain.reorgs[-1].depth                        # how many canonical blocks were orphaned

**Fork choice**: longest chain; a tie keeps the current head (first seen, as geth). With a
finality depth ``d`` a reorg that would orphan ``d`` or more blocks is refused (the block is
kept as a side block): ``d = 1`` makes every sealed block final.

**A reorg** switches the backend's canonical head to the new branch (py-evm keeps every sealed
block and state, so nothing is re-executed: the blocks, hashes and receipts are the ones sealed
before), replaces the history above the common ancestor, and brings the pool to the new head as
geth's ``txpool.reset`` does: txs the new branch included leave the pool, every sender is
revalidated against the new state (nonces and balances follow the new head), and the orphaned
blocks' txs the new branch did not include go back into the pool (those the pool refuses now,
e.g. a nonce the new branch used, are dropped). The :class:`~agentbed.chain.blocktree.Reorg`
record keeps the depth, both branches and the orphaned logs, which filters and subscriptions
report with ``removed: true``. A snapshot covers the side blocks and reorgs: a revert undoes
them exactly.

Block listeners hear only blocks sealed on the head; a reorg is told to the reorg listeners.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import rlp

from agentbed.chain.backend import TxNotApplicable
from agentbed.chain.blocktree import Reorg, ReorgListener, TreeBlock
from agentbed.chain.builder import IncludedTx
from agentbed.chain.errors import TestbedError, TxRejected, UnknownBlock
from agentbed.chain.records import block_receipts, block_record
from agentbed.chain.seeds import prev_randao
from agentbed.chain.signing import as_bytes
from agentbed.chain.types import Address, Block, Transaction

if TYPE_CHECKING:
    from agentbed.chain.abi import AbiRegistry
    from agentbed.chain.backend import PyEVMBackend
    from agentbed.chain.clock import SimClock
    from agentbed.chain.history import ChainHistory
    from agentbed.chain.interfaces import HeadInfo
    from agentbed.chain.mempool import Mempool
    from agentbed.chain.production import BlockProducer

FORK_POLICY = "fork"
"""Policy name of blocks sealed by :meth:`ChainForks.mine_on` (their txs are given, in order)."""


class ForkError(TestbedError):
    """A fork operation named an unknown parent or block."""


class ReorgBeyondFinality(ForkError):
    """A forced reorg would orphan blocks the finality depth has made final."""


class ChainForks:
    """Fork and reorg methods of :class:`~agentbed.chain.node.Chain` (see the module docstring)."""

    if TYPE_CHECKING:  # what the methods use of Chain, declared for the type checker
        seed: int
        backend: PyEVMBackend
        mempool: Mempool
        clock: SimClock
        coinbase: Address
        abi: AbiRegistry
        _history: ChainHistory
        _producer: BlockProducer

        def head_info(self) -> HeadInfo: ...

        def decode(self, raw: bytes) -> Transaction: ...

    # -- settings and records ------------------------------------------------------------------

    def set_fork_choice(self, *, finality_depth: int | None = None) -> None:
        """Longest chain, refusing reorgs of ``finality_depth`` or more blocks (None: any)."""
        if finality_depth is not None and (type(finality_depth) is not int or finality_depth < 1):
            raise ValueError(f"finality_depth must be an int >= 1 or None, got {finality_depth!r}")
        self._history.tree.finality_depth = finality_depth

    @property
    def finality_depth(self) -> int | None:
        return self._history.tree.finality_depth

    @property
    def reorgs(self) -> tuple[Reorg, ...]:
        """Every reorg so far (a revert forgets those after its snapshot)."""
        return self._history.tree.reorgs

    def side_blocks(self) -> tuple[Block, ...]:
        """Sealed blocks that are not on the canonical chain now, oldest first."""
        return tuple(b for b in self._history.tree.blocks() if not self._on_chain(b))

    def side_block(self, block_hash: bytes | str) -> TreeBlock | None:
        """A sealed block off the canonical chain, by hash, with its receipts and transactions;
        None for a canonical or unknown hash. geth keeps side blocks and serves them by hash
        (``eth_getBlockByHash``) after a reorg; so does the provider."""
        entry = self._history.tree.get(as_bytes(block_hash))
        if entry is None or self._on_chain(entry.block):
            return None
        return entry

    def add_reorg_listener(self, listener: ReorgListener) -> None:
        """Call ``listener(reorg)`` after every reorg (not part of snapshots)."""
        self._history.tree.listeners.append(listener)

    def header_rlp(self, number: int) -> bytes:
        """The RLP-encoded header of canonical block ``number`` (its keccak is the block hash):
        the proof a contract checks against ``blockhash(number)``.

        Raises:
            UnknownBlock: no canonical block ``number``.
        """
        return bytes(rlp.encode(self.backend.header_at(number)))

    def _on_chain(self, block: Block) -> bool:
        """Whether ``block`` is on the canonical chain now."""
        history = self._history
        return (
            block.number <= history.head_number and history.block(block.number).hash == block.hash
        )

    def _known_block(self, ref: bytes | str | int) -> Block:
        """A canonical block by number or hash, or a side block by hash."""
        if isinstance(ref, int):
            return self._history.block(ref)
        block_hash = as_bytes(ref)
        side = self._history.tree.get(block_hash)
        if side is not None:
            return side.block
        try:
            return self._history.block_by_hash(block_hash)
        except UnknownBlock:
            raise ForkError(f"no block 0x{block_hash.hex()} to build on or switch to") from None

    # -- sealing on any parent -----------------------------------------------------------------

    def mine_on(
        self,
        parent: bytes | str | int,
        txs: Sequence[bytes | Transaction] = (),
        *,
        coinbase: Address | None = None,
        policy: str = FORK_POLICY,
    ) -> Block:
        """Seal a block on ``parent`` (a hash, or a canonical number) with ``txs`` in order.

        A tx that cannot be applied there (wrong nonce, unaffordable, no room) is left out. On
        the head, the block is sealed when :meth:`mine` would seal it, and the block listeners
        hear of it; elsewhere its time is one block interval after its parent's (the clock
        never goes back). Then the fork-choice rule runs: if the new branch is longer than the
        canonical chain (and the reorg is within the finality depth) it becomes canonical.

        Args:
            parent: The block to build on.
            txs: Signed txs (raw or decoded), applied in this order.
            coinbase: Fee recipient (default: the chain's coinbase).
            policy: The name the block record gives its ordering (who built it).

        Returns:
            The sealed block's record (canonical or a side block).
        """
        base = self._known_block(parent)
        decoded = [tx if isinstance(tx, Transaction) else self.decode(tx) for tx in txs]
        on_head = base.hash == self._history.head.hash
        if on_head:
            block_ms = self._producer.next_block_ms(self.clock)
            self._producer.pinned_ms = None
        else:
            block_ms = base.timestamp_ms + self.clock.block_interval_ms
        entry = self._seal_on(base, decoded, coinbase or self.coinbase, policy, block_ms)
        block = entry.block
        self._history.tree.add(entry)
        if block_ms > self.clock.now_ms:
            self.clock.advance_to(block_ms)
        head = self._history.head
        depth = head.number - self._ancestor_of(block).number
        final = self.finality_depth is not None and depth >= self.finality_depth
        if block.number > head.number and not final:
            self._switch(block)
        if on_head:
            number = block.number
            self._producer.bundles = [b for b in self._producer.bundles if b.target_block > number]
            for listener in self._producer.listeners:
                listener(block, entry.receipts, entry.txs)
        return block

    def _seal_on(
        self, base: Block, txs: Sequence[Transaction], coinbase: Address, policy: str, block_ms: int
    ) -> TreeBlock:
        """Seal ``txs`` on ``base`` and put the backend's canonical head back as it was."""
        saved = self.backend.snapshot()
        path = [e.block for e in self._branch(base)]
        ancestor = self._history.block(path[0].number - 1) if path else base
        self._point_backend(ancestor, path)
        session = self.backend.open_block(
            timestamp=max(block_ms // 1000, base.timestamp + 1),
            coinbase=coinbase,
            mix_hash=prev_randao(self.seed, base.number + 1),
        )
        included: list[IncludedTx] = []
        for tx in txs:
            pooled = self.mempool.get(tx.hash)
            try:
                result = session.apply(tx)
            except TxNotApplicable:
                continue
            included.append(IncludedTx(tx, result, pooled.arrival_ms if pooled else None, None))
        sealed = session.seal()
        receipts = block_receipts(
            included,
            number=sealed.number,
            block_hash=sealed.hash,
            block_ms=block_ms,
            base_fee=sealed.base_fee,
            abi=self.abi,
        )
        # The canonical head again, until the fork choice says otherwise.
        history = self._history
        canonical = [history.block(n) for n in range(ancestor.number + 1, history.head_number + 1)]
        self._point_backend(ancestor, canonical, pending=saved)
        block = block_record(sealed, block_ms, included, policy)
        return TreeBlock(block, receipts, tuple(i.tx for i in included))

    def switch_head(self, block_hash: bytes | str) -> Reorg | None:
        """Make the branch ending at ``block_hash`` canonical if it is at least as long as the
        canonical chain (a manual fork choice that can break a tie); None if it already is.

        Raises:
            ForkError: No such block, or its branch is shorter than the canonical chain.
            ReorgBeyondFinality: The switch would orphan final blocks.
        """
        tip = self._known_block(block_hash)
        if tip.hash == self._history.head.hash:
            return None
        if tip.number < self._history.head_number:
            raise ForkError(
                f"block 0x{tip.hash.hex()} is at {tip.number}, below the head"
                f" ({self._history.head_number}): a shorter branch cannot become canonical"
            )
        depth = self._history.head_number - self._ancestor_of(tip).number
        if self.finality_depth is not None and depth >= self.finality_depth:
            raise ReorgBeyondFinality(
                f"switching to 0x{tip.hash.hex()} orphans {depth} blocks; finality depth is"
                f" {self.finality_depth}"
            )
        return self._switch(tip)

    # -- the switch ----------------------------------------------------------------------------

    def _branch(self, tip: Block) -> list[TreeBlock]:
        """The side blocks from just above the common ancestor up to ``tip``, oldest first."""
        branch: list[TreeBlock] = []
        block = tip
        while not self._on_chain(block):
            entry = self._history.tree.get(block.hash)
            if entry is None:
                raise ForkError(f"block 0x{block.hash.hex()} is neither canonical nor known")
            branch.append(entry)
            parent = self._history.tree.get(block.parent_hash)
            block = parent.block if parent is not None else self._history.block(block.number - 1)
        branch.reverse()
        return branch

    def _ancestor_of(self, tip: Block) -> Block:
        """The last block the branch ending at ``tip`` shares with the canonical chain."""
        branch = self._branch(tip)
        return self._history.block(branch[0].block.number - 1) if branch else tip

    def _switch(self, tip: Block) -> Reorg | None:
        """Make ``tip``'s branch canonical; the reorg record (None if nothing was orphaned)."""
        branch = self._branch(tip)
        ancestor = branch[0].block.number - 1 if branch else tip.number
        old_head = self._history.head
        # The orphaned blocks' txs are read while those blocks are still canonical.
        orphaned = [
            TreeBlock(block, self._history.receipts(block.number), self._block_txs(block))
            for block in (self._history.block(n) for n in range(ancestor + 1, old_head.number + 1))
        ]
        self._point_backend(self._history.block(ancestor), [e.block for e in branch])
        self._history.replace_above(
            ancestor, [e.block for e in branch], [e.receipts for e in branch]
        )
        for entry in orphaned:
            self._history.tree.add(entry)
        returned = self._reset_pool(branch, orphaned)
        if not orphaned:
            return None  # the branch only extended the head
        reorg = Reorg(
            depth=old_head.number - ancestor,
            ancestor=ancestor,
            old_head=old_head.hash,
            new_head=tip.hash,
            orphaned=tuple(e.block for e in orphaned),
            adopted=tuple(e.block for e in branch),
            removed_logs=tuple(log for e in orphaned for rec in e.receipts for log in rec.logs),
            returned=returned,
            at_ms=self.clock.now_ms,
        )
        self._history.tree.record(reorg)
        return reorg

    def _point_backend(
        self, ancestor: Block, path: Sequence[Block], pending: bytes | None = None
    ) -> None:
        """Make the last block of ``path`` (children of canonical ``ancestor``, in order) the
        backend's canonical head, or ``ancestor`` if ``path`` is empty; ``pending``: end on
        this backend snapshot of the last block instead (it keeps the head's pending state).

        One child at a time, so each number on the way maps to this branch: py-evm re-maps a
        block number only when it finds the number stale walking back from a new head, and a
        number above a shorter head may still name a block of another branch.
        """
        blocks = [ancestor, *path]
        for block in blocks:
            assert block.header is not None  # blocks sealed by a chain carry their header
            if block is blocks[-1] and pending is not None:
                self.backend.revert(pending)
            else:
                self.backend.revert(block.hash + block.header.state_root)

    def _block_txs(self, block: Block) -> tuple[Transaction, ...]:
        return tuple(
            self.decode(self.backend.raw_transaction(block.number, i))
            for i in range(len(block.tx_hashes))
        )

    def _reset_pool(
        self, branch: Sequence[TreeBlock], orphaned: Sequence[TreeBlock]
    ) -> tuple[bytes, ...]:
        """geth's ``txpool.reset`` after a reorg; return the hashes taken back into the pool."""
        head = self.head_info()
        adopted = [h for e in branch for h in e.block.tx_hashes]
        self.mempool.on_block(
            adopted, state=self.backend, head=head, block_number=self._history.head_number
        )
        self.mempool.resync(state=self.backend, head=head)
        on_branch = set(adopted)
        back = sorted(
            (tx for e in orphaned for tx in e.txs if tx.hash not in on_branch),
            key=lambda tx: (tx.sender, tx.nonce),
        )
        returned = []
        for tx in back:
            try:
                self.mempool.add(tx, state=self.backend, head=head, arrival_ms=self.clock.now_ms)
            except TxRejected:
                continue  # e.g. its nonce was used on the new branch: geth drops it too
            returned.append(tx.hash)
        return tuple(returned)
