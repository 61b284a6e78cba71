"""The chain's sealed history: blocks, their receipts, and the read-only lookups over them.

The block producer appends a block and its receipts when it seals one, a reorg
(:mod:`agentbed.chain.forks`) replaces the blocks above a common ancestor, and ``Chain`` cuts
the history back on ``revert`` (undoing the reorgs made since, from a journal); everything else
here only reads. Blocks off the canonical chain live in :attr:`ChainHistory.tree`. Transactions
are found through an index from hash to ``(block number, position)``, so a receipt lookup does
not scan the blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_utils import to_checksum_address

from agentbed.chain.blocktree import BlockTree
from agentbed.chain.errors import UnknownBlock, UnknownTransaction
from agentbed.chain.types import Address, Block, Log, Receipt

HistoryMark = tuple[int, int, tuple[int, int]]
"""A snapshot of the history: blocks, reorg-journal entries and the tree's mark."""


class ChainHistory:
    """Blocks from genesis to the head with their receipts, indexed by tx hash.

    Args:
        genesis: The genesis block record (it has no receipts).
    """

    def __init__(self, genesis: Block) -> None:
        self._blocks: list[Block] = [genesis]
        self._receipts: list[tuple[Receipt, ...]] = [()]
        self._tx_index: dict[bytes, tuple[int, int]] = {}
        self._journal: list[tuple[int, list[Block], list[tuple[Receipt, ...]]]] = []
        self.tree = BlockTree()
        """Side blocks, the reorg log and the fork-choice settings."""

    def __len__(self) -> int:
        """Number of blocks, genesis included."""
        return len(self._blocks)

    @property
    def head_number(self) -> int:
        return len(self._blocks) - 1

    @property
    def head(self) -> Block:
        return self._blocks[-1]

    def append(self, block: Block, receipts: tuple[Receipt, ...]) -> None:
        """Record a newly sealed block; ``receipts`` are in the order of ``block.tx_hashes``."""
        self._blocks.append(block)
        self._receipts.append(receipts)
        for i, tx_hash in enumerate(block.tx_hashes):
            self._tx_index[tx_hash] = (block.number, i)

    def truncate(self, n_blocks: int) -> None:
        """Forget every block from number ``n_blocks`` on, with its receipts (for ``revert``)."""
        for number in range(n_blocks, len(self._blocks)):
            for rec in self._receipts[number]:
                self._tx_index.pop(rec.tx_hash, None)
        del self._blocks[n_blocks:]
        del self._receipts[n_blocks:]

    def replace_above(
        self, ancestor: int, blocks: list[Block], receipts: list[tuple[Receipt, ...]]
    ) -> tuple[list[Block], list[tuple[Receipt, ...]]]:
        """Make ``blocks`` (children of block ``ancestor``, in order) the canonical chain above
        ``ancestor``; return the blocks and receipts they replaced (journaled for revert)."""
        old_blocks = self._blocks[ancestor + 1 :]
        old_receipts = self._receipts[ancestor + 1 :]
        self.truncate(ancestor + 1)
        self._journal.append((ancestor, old_blocks, old_receipts))
        for block, recs in zip(blocks, receipts, strict=True):
            self.append(block, recs)
        return old_blocks, old_receipts

    def mark(self) -> HistoryMark:
        """The history as it is now, for :meth:`restore` (a snapshot)."""
        return len(self._blocks), len(self._journal), self.tree.mark()

    def restore(self, mark: int | HistoryMark) -> None:
        """Return to ``mark``: undo later reorgs (newest first), then cut later blocks.

        A plain block count only cuts blocks (a history loaded whole has nothing to undo).
        """
        if isinstance(mark, int):
            self.truncate(mark)
            return
        n_blocks, n_journal, tree_mark = mark
        while len(self._journal) > n_journal:
            ancestor, blocks, receipts = self._journal.pop()
            self.truncate(ancestor + 1)
            for block, recs in zip(blocks, receipts, strict=True):
                self.append(block, recs)
        self.truncate(n_blocks)
        self.tree.restore(tree_mark)

    def position(self, tx_hash: bytes) -> tuple[int, int] | None:
        """``(block number, index in block)`` of a mined tx; None if it is not mined."""
        return self._tx_index.get(tx_hash)

    def receipt(self, tx_hash: bytes) -> Receipt:
        """Receipt of a mined tx. Raises :class:`UnknownTransaction` if it is not mined."""
        try:
            number, index = self._tx_index[tx_hash]
        except KeyError:
            raise UnknownTransaction(f"no mined transaction 0x{tx_hash.hex()}") from None
        return self._receipts[number][index]

    def block(self, number: int | str) -> Block:
        """Block ``number``, ``"latest"`` or ``"earliest"``; raises :class:`UnknownBlock`."""
        if number == "latest":
            return self.head
        if number == "earliest":
            return self._blocks[0]
        if not isinstance(number, int) or not 0 <= number < len(self._blocks):
            raise UnknownBlock(f"no block {number!r} (head is {self.head_number})")
        return self._blocks[number]

    def block_by_hash(self, block_hash: bytes) -> Block:
        """The canonical block with this hash (newest first); raises :class:`UnknownBlock`."""
        for block in reversed(self._blocks):
            if block.hash == block_hash:
                return block
        raise UnknownBlock(f"no block with hash 0x{block_hash.hex()}")

    def receipts(self, number: int) -> tuple[Receipt, ...]:
        """Receipts of block ``number`` in block order; raises :class:`UnknownBlock`."""
        self.block(number)
        return self._receipts[number]

    def logs(
        self,
        *,
        address: Address | Sequence[Address] | None,
        topics: Sequence[bytes | Iterable[bytes] | None] | None,
        from_block: int,
        to_block: int | None,
    ) -> tuple[Log, ...]:
        """Logs matching ``address`` (one or several) and positional ``topics`` filters."""
        last = self.head_number if to_block is None else min(to_block, self.head_number)
        addresses = None
        if address is not None:
            addrs = [address] if isinstance(address, str) else list(address)
            addresses = {to_checksum_address(a) for a in addrs}
        wanted = [_topic_set(want) for want in topics or ()]
        out = []
        for number in range(max(from_block, 0), last + 1):
            for rec in self._receipts[number]:
                for log in rec.logs:
                    if addresses is not None and log.address not in addresses:
                        continue
                    if wanted and not _topics_match(log.topics, wanted):
                        continue
                    out.append(log)
        return tuple(out)


def matching_logs(
    logs: Iterable[Log],
    *,
    address: Address | Sequence[Address] | None,
    topics: Sequence[bytes | Iterable[bytes] | None] | None,
) -> tuple[Log, ...]:
    """The logs among ``logs`` that match ``address`` and positional ``topics`` filters (for
    logs off the canonical chain, such as a reorg's removed ones)."""
    addresses = None
    if address is not None:
        addrs = [address] if isinstance(address, str) else list(address)
        addresses = {to_checksum_address(a) for a in addrs}
    wanted = [_topic_set(want) for want in topics or ()]
    return tuple(
        log
        for log in logs
        if (addresses is None or log.address in addresses)
        and (not wanted or _topics_match(log.topics, wanted))
    )


def _topic_set(want: bytes | Iterable[bytes] | None) -> frozenset[bytes] | None:
    """One positional topic filter as a set (built once per query); None matches any topic."""
    if want is None:
        return None
    if isinstance(want, bytes | bytearray):
        return frozenset({bytes(want)})
    return frozenset(bytes(w) for w in want)


def _topics_match(log_topics: Sequence[bytes], wanted: Sequence[frozenset[bytes] | None]) -> bool:
    if len(wanted) > len(log_topics):
        return False
    return all(
        want is None or topic in want for topic, want in zip(log_topics, wanted, strict=False)
    )
