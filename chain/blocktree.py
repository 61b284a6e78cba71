"""Blocks off the canonical chain and the record of every reorganisation.

The canonical chain lives in :class:`~agentbed.chain.history.ChainHistory`; this module keeps
what a fork-choice rule needs beside it: every sealed block that is (or was) off the canonical
chain, with its receipts and transactions, so a branch can become canonical again without
re-executing anything (py-evm keeps every persisted block and state trie, so switching the
canonical head is a pointer move), and the :class:`Reorg` records in the order they happened.

Both are append-only, so a snapshot is a pair of lengths (:meth:`BlockTree.mark`) and a revert
cuts back to it (:meth:`BlockTree.restore`): a side branch built after a snapshot is gone after
the revert, as are the reorgs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agentbed.chain.types import Block, Log, Receipt, Transaction


@dataclass(frozen=True, slots=True)
class TreeBlock:
    """A sealed block kept off the canonical chain: the record, receipts and transactions."""

    block: Block
    receipts: tuple[Receipt, ...]
    txs: tuple[Transaction, ...]


@dataclass(frozen=True, slots=True)
class Reorg:
    """One switch of the canonical head to another branch.

    ``depth`` is the number of canonical blocks that were orphaned (geth's "reorg depth"):
    the old head's number minus the common ancestor's.
    """

    depth: int
    ancestor: int
    """Number of the last block both branches share."""
    old_head: bytes
    new_head: bytes
    orphaned: tuple[Block, ...]
    """The blocks that left the canonical chain, oldest first."""
    adopted: tuple[Block, ...]
    """The blocks that joined it, oldest first."""
    removed_logs: tuple[Log, ...]
    """Every log of the orphaned blocks, in chain order (reported with ``removed: true``)."""
    returned: tuple[bytes, ...]
    """Hashes of orphaned txs the pool took back (not included on the new branch)."""
    at_ms: int
    """The simulated time of the switch."""


ReorgListener = Callable[[Reorg], None]
"""Called after each reorg with its record (filters and subscriptions report removed logs)."""


class BlockTree:
    """Side blocks by hash and the reorg log; the fork-choice settings live here too.

    Args:
        finality_depth: Blocks at least this deep below the head are final: a reorg that would
            orphan ``finality_depth`` or more blocks is refused. None: longest chain only.
    """

    def __init__(self, finality_depth: int | None = None) -> None:
        self._side: dict[bytes, TreeBlock] = {}
        self._reorgs: list[Reorg] = []
        self.finality_depth = finality_depth
        self.listeners: list[ReorgListener] = []
        """Told of every reorg (a client's view: not part of snapshots)."""

    def __getstate__(self) -> dict[str, object]:
        # Listeners are a client's hooks (bound methods of servers): a state file leaves them.
        return {k: v for k, v in self.__dict__.items() if k != "listeners"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.listeners = []

    def add(self, entry: TreeBlock) -> None:
        """Keep a block off the canonical chain (once; a known hash is left as it is)."""
        self._side.setdefault(entry.block.hash, entry)

    def get(self, block_hash: bytes) -> TreeBlock | None:
        return self._side.get(block_hash)

    def blocks(self) -> tuple[Block, ...]:
        """Every side block kept, in the order they were first seen."""
        return tuple(entry.block for entry in self._side.values())

    @property
    def reorgs(self) -> tuple[Reorg, ...]:
        return tuple(self._reorgs)

    def record(self, reorg: Reorg) -> None:
        self._reorgs.append(reorg)
        for listener in self.listeners:
            listener(reorg)

    def mark(self) -> tuple[int, int]:
        """How many side blocks and reorgs there are now (for snapshots)."""
        return len(self._side), len(self._reorgs)

    def restore(self, mark: tuple[int, int]) -> None:
        """Forget side blocks and reorgs added after ``mark``."""
        n_side, n_reorgs = mark
        for block_hash in list(self._side)[n_side:]:
            del self._side[block_hash]
        del self._reorgs[n_reorgs:]
