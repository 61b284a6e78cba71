"""Polling filters (``eth_newFilter``, ``eth_newBlockFilter``, changes, logs, uninstall).

A filter remembers the last block it reported; ``eth_getFilterChanges`` answers what was
sealed since (block hashes, or the matching logs) and moves the mark to the head. The filters
of a chain live beside it, not in it: they are a client's view, so snapshots do not cover
them, and a ``revert`` below a filter's mark moves the mark back to the new head. Unlike geth,
filters never expire (geth drops one idle for 5 minutes of wall time; the testbed has no wall
clock).

A pending-transaction filter (``eth_newPendingTransactionFilter``) reports the hash of every tx
that entered the pool after it was installed, through the pool's entry hook
(``Mempool.entry_listeners``), so a tx mined at once (automine) is still reported. A filter may
name its observer (``[{"observer": "alice"}]``, an extension): it then reports a tx only once
the chain's latency model lets that observer see it (:class:`PendingWatch`).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import handlers as h
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import SERVER_ERROR, InvalidParams, RpcError
from agentbed.chain.provider.reorgs import removed_logs, unseen

if TYPE_CHECKING:
    from agentbed.chain.interfaces import LatencyModel
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, PoolTx

# Block tags that mean "from now on" in a filter's fromBlock (geth: the head at each poll).
_MOVING_TAGS = frozenset({"latest", "pending", "safe", "finalized"})


class PendingWatch:
    """Pool entries as one observer learns of them: each reported once, when it reaches them.

    An observer sees a tx ``Chain.latency.delay_ms(tx, observer)`` after it arrived (at once if
    it sent the tx, or if no observer is named), as :meth:`Chain.mempool_view` does, and only
    while the tx is in the pool: a tx mined, replaced or evicted before it reached the observer
    is never reported to it.

    It keeps no reference to the chain (filters live beside a chain, not in it); the chain is
    passed to :meth:`due`.

    Args:
        observer: The observer's id, or None for one who sees every tx at once.
    """

    def __init__(self, observer: str | None) -> None:
        self.observer = observer
        self._waiting: list[PoolTx] = []
        self._ready: list[PoolTx] = []

    def _due_ms(self, ptx: PoolTx, latency: LatencyModel) -> int:
        if self.observer is None or ptx.origin == self.observer:
            return ptx.arrival_ms
        return ptx.arrival_ms + latency.delay_ms(ptx, self.observer)

    def enter(self, ptx: PoolTx) -> None:
        """Note a tx that has just entered the pool."""
        self._waiting.append(ptx)

    def sealed(self, block: Block, txs: Any, latency: LatencyModel) -> None:
        """Settle the waiting txs ``block`` included: seen if they reached the observer first."""
        mined = {tx.hash for tx in txs}
        still = []
        for ptx in self._waiting:
            if ptx.hash not in mined:
                still.append(ptx)
            elif self._due_ms(ptx, latency) <= block.timestamp_ms:
                self._ready.append(ptx)
        self._waiting = still

    def due(self, chain: Chain) -> list[PoolTx]:
        """The txs that have reached the observer by now, in arrival order; each only once."""
        now, pool = chain.now_ms, chain.mempool
        ready, self._ready = self._ready, []
        still: list[PoolTx] = []
        for ptx in self._waiting:
            if ptx.hash not in pool:
                continue  # replaced or evicted before it reached the observer
            (ready if self._due_ms(ptx, chain.latency) <= now else still).append(ptx)
        self._waiting = still
        return sorted(ready, key=lambda p: p.seq)


@dataclass
class _Filter:
    """One installed filter: ``criteria`` is ``None`` for a block or pending-tx filter."""

    criteria: Mapping[str, Any] | None
    mark: int
    """The last block number already reported."""
    reported_hash_block: bool = False
    """For a ``blockHash`` log filter: whether its one block was reported."""
    pending: PendingWatch | None = None
    """For a pending-transaction filter: the pool entries it has yet to report."""
    reorgs_seen: int = 0
    """How many of the chain's reorgs this filter has accounted for."""


@dataclass
class _Filters:
    """The filters installed on one chain, by id."""

    by_id: dict[int, _Filter] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    hooked: bool = False
    """Whether the chain's pool-entry and block hooks feed this store's pending filters."""

    def watches(self) -> list[PendingWatch]:
        return [f.pending for f in self.by_id.values() if f.pending is not None]


_STORES: weakref.WeakKeyDictionary[Chain, _Filters] = weakref.WeakKeyDictionary()


def _store(chain: Chain) -> _Filters:
    return _STORES.setdefault(chain, _Filters())


def watch_pool(chain: Chain, watches: Callable[[], Iterable[PendingWatch]]) -> None:
    """Feed ``watches()`` every tx entering ``chain``'s pool and every block it seals."""

    def entered(ptx: PoolTx) -> None:
        for watch in watches():
            watch.enter(ptx)

    def sealed(block: Block, receipts: Any, txs: Any) -> None:
        for watch in watches():
            watch.sealed(block, txs, chain.latency)

    chain.mempool.entry_listeners.append(entered)
    chain.add_block_listener(sealed)


def observer_option(value: Any) -> str | None:
    """The observer an options object ``{"observer": "alice"}`` names (None: no options)."""
    if value is None:
        return None
    observer = prm.object_arg(value, "options").get("observer")
    if observer is not None and (not isinstance(observer, str) or not observer):
        raise InvalidParams(f"invalid observer: {observer!r} is not a non-empty string")
    return observer


def _install(chain: Chain, flt: _Filter) -> str:
    store = _store(chain)
    filter_id = next(store.ids)
    store.by_id[filter_id] = flt
    return enc.hex_quantity(filter_id)


def _lookup(chain: Chain, params: list[Any]) -> tuple[int, _Filter]:
    (raw_id,) = prm.args(params, 1, 1)
    filter_id = prm.quantity(raw_id, "filter id")
    flt = _store(chain).by_id.get(filter_id)
    if flt is None:
        raise RpcError(SERVER_ERROR, "filter not found")
    return filter_id, flt


def new_filter(chain: Chain, params: list[Any]) -> str:
    """``eth_newFilter(criteria)``: criteria as ``eth_getLogs`` takes them (checked now)."""
    (raw,) = prm.args(params, 1, 1)
    criteria = dict(prm.object_arg(raw, "filter"))
    h.get_logs(chain, [criteria])  # malformed criteria fail at install, as in geth
    return _install(chain, _Filter(criteria, chain.block_number, reorgs_seen=len(chain.reorgs)))


def new_block_filter(chain: Chain, params: list[Any]) -> str:
    """``eth_newBlockFilter``: reports the hash of every block sealed after it."""
    prm.args(params, 0, 0)
    return _install(chain, _Filter(None, chain.block_number, reorgs_seen=len(chain.reorgs)))


def new_pending_transaction_filter(chain: Chain, params: list[Any]) -> str:
    """``eth_newPendingTransactionFilter([{"observer": id}])``: reports pool entries' hashes."""
    (options,) = prm.args(params, 0, 1)
    watch = PendingWatch(observer_option(options))
    store = _store(chain)
    if not store.hooked:
        store.hooked = True
        watch_pool(chain, store.watches)
    return _install(chain, _Filter(None, chain.block_number, pending=watch))


def uninstall_filter(chain: Chain, params: list[Any]) -> bool:
    """``eth_uninstallFilter(id)``: false for an unknown id, as geth."""
    (raw_id,) = prm.args(params, 1, 1)
    return _store(chain).by_id.pop(prm.quantity(raw_id, "filter id"), None) is not None


def _logs_between(chain: Chain, criteria: Mapping[str, Any], lowest: int) -> list[Any]:
    """The criteria's logs in blocks ``>= lowest`` of its range (none if that is empty)."""
    first, last = prm.log_range(chain, criteria)
    start = first
    if criteria.get("blockHash") is None and criteria.get("fromBlock", "latest") in _MOVING_TAGS:
        start = lowest
    start = max(start, lowest)
    if start > last:
        return []
    window = {k: v for k, v in criteria.items() if k not in ("fromBlock", "toBlock")}
    window.update(fromBlock=enc.hex_quantity(start), toBlock=enc.hex_quantity(last))
    return h.get_logs(chain, [window])


def get_filter_changes(chain: Chain, params: list[Any]) -> list[Any]:
    """``eth_getFilterChanges(id)``: block hashes or logs since the previous poll."""
    _, flt = _lookup(chain, params)
    if flt.pending is not None:
        return [enc.hex_data(ptx.hash) for ptx in flt.pending.due(chain)]
    head = chain.block_number
    removed, mark = _reorged(chain, flt)
    flt.mark = head
    if flt.criteria is None:
        return [enc.hex_data(chain.block(n).hash) for n in range(mark + 1, head + 1)]
    if flt.criteria.get("blockHash") is not None:
        if flt.reported_hash_block:
            return []
        flt.reported_hash_block = True
        return h.get_logs(chain, [flt.criteria])
    return removed + _logs_between(chain, flt.criteria, mark + 1)


def _reorged(chain: Chain, flt: _Filter) -> tuple[list[Any], int]:
    """Logs orphaned since the last poll (``removed: true``) and the mark moved back below
    the orphaned blocks, so the new branch is reported."""
    mark = min(flt.mark, chain.block_number)
    removed: list[Any] = []
    for reorg in unseen(chain.reorgs, flt.reorgs_seen):
        if flt.criteria is not None and flt.criteria.get("blockHash") is None:
            removed += removed_logs(reorg, flt.criteria, flt.mark)
        mark = min(mark, reorg.ancestor)
    flt.reorgs_seen = len(chain.reorgs)
    return removed, mark


def get_filter_logs(chain: Chain, params: list[Any]) -> list[Any]:
    """``eth_getFilterLogs(id)``: every log matching a log filter's criteria."""
    _, flt = _lookup(chain, params)
    if flt.criteria is None:
        raise RpcError(SERVER_ERROR, "filter not found")  # geth's answer for a block filter
    return h.get_logs(chain, [flt.criteria])


FILTER_METHODS = {
    "eth_newFilter": new_filter,
    "eth_newBlockFilter": new_block_filter,
    "eth_newPendingTransactionFilter": new_pending_transaction_filter,
    "eth_getFilterChanges": get_filter_changes,
    "eth_getFilterLogs": get_filter_logs,
    "eth_uninstallFilter": uninstall_filter,
}
"""The filter methods, for the provider's method table."""
