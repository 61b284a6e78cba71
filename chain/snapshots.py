"""Snapshot bookkeeping for ``Chain.snapshot`` / ``Chain.revert``.

A :class:`ChainSnapshot` holds everything a revert restores; a :class:`SnapshotStore` numbers
them and enforces that reverting to one consumes it and every snapshot taken after it, so an
id can never bring back a future that the revert discarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentbed.chain.errors import UnknownSnapshot
from agentbed.chain.history import HistoryMark
from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
from agentbed.chain.types import Address, Bundle

if TYPE_CHECKING:
    from agentbed.chain.clock import SimClock
    from agentbed.chain.mempool import Mempool


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """The chain's state at one moment: the backend's own snapshot plus the chain's records.

    The mempool and clock are private copies; the history is kept as its mark (block count,
    reorg journal and side-block counts: all only ever appended after it).
    """

    backend: bytes
    mempool: Mempool
    clock: SimClock
    n_blocks: int | HistoryMark
    """The history's mark (a plain block count from a loaded state file)."""
    bundles: tuple[Bundle, ...]
    seq: int
    automine: bool
    policy: OrderingPolicy
    latency: LatencyModel
    coinbase: Address
    next_block_time_ms: int | None
    deployments: tuple[tuple[Address, str], ...]


class SnapshotStore:
    """Snapshots by id; ids count up from 1 and are never reused."""

    def __init__(self) -> None:
        self._snapshots: dict[int, ChainSnapshot] = {}
        self._next_id = 1

    def add(self, snapshot: ChainSnapshot) -> int:
        """Keep ``snapshot``; return its id."""
        sid = self._next_id
        self._next_id += 1
        self._snapshots[sid] = snapshot
        return sid

    def consume(self, snapshot_id: int) -> ChainSnapshot:
        """Take out snapshot ``snapshot_id``, dropping it and every later one.

        Raises:
            UnknownSnapshot: No such snapshot (never taken, or already consumed).
        """
        snap = self._snapshots.get(snapshot_id)
        if snap is None:
            raise UnknownSnapshot(f"no snapshot {snapshot_id}")
        for sid in [s for s in self._snapshots if s >= snapshot_id]:
            del self._snapshots[sid]
        return snap
