"""Polling filters (``eth_newFilter``, ``eth_newBlockFilter``, changes, logs, uninstall).

A filter remembers the last block it reported; ``eth_getFilterChanges`` answers what was
sealed since (block hashes, or the matching logs) and moves the mark to the head. The filters
of a chain live beside it, not in it: they are a client's view, so snapshots do not cover
them, and a ``revert`` below a filter's mark moves the mark back to the new head. Unlike geth,
filters never expire (geth drops one idle for 5 minutes of wall time; the testbed has no wall
clock). ``eth_newPendingTransactionFilter`` is not served yet.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import handlers as h
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import SERVER_ERROR, RpcError

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

# Block tags that mean "from now on" in a filter's fromBlock (geth: the head at each poll).
_MOVING_TAGS = frozenset({"latest", "pending", "safe", "finalized"})


@dataclass
class _Filter:
    """One installed filter: ``criteria`` is ``None`` for a block filter."""

    criteria: Mapping[str, Any] | None
    mark: int
    """The last block number already reported."""
    reported_hash_block: bool = False
    """For a ``blockHash`` log filter: whether its one block was reported."""


@dataclass
class _Filters:
    """The filters installed on one chain, by id."""

    by_id: dict[int, _Filter] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


_STORES: weakref.WeakKeyDictionary[Chain, _Filters] = weakref.WeakKeyDictionary()


def _store(chain: Chain) -> _Filters:
    return _STORES.setdefault(chain, _Filters())


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
    return _install(chain, _Filter(criteria, chain.block_number))


def new_block_filter(chain: Chain, params: list[Any]) -> str:
    """``eth_newBlockFilter``: reports the hash of every block sealed after it."""
    prm.args(params, 0, 0)
    return _install(chain, _Filter(None, chain.block_number))


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
    head = chain.block_number
    mark, flt.mark = min(flt.mark, head), head
    if flt.criteria is None:
        return [enc.hex_data(chain.block(n).hash) for n in range(mark + 1, head + 1)]
    if flt.criteria.get("blockHash") is not None:
        if flt.reported_hash_block:
            return []
        flt.reported_hash_block = True
        return h.get_logs(chain, [flt.criteria])
    return _logs_between(chain, flt.criteria, mark + 1)


def get_filter_logs(chain: Chain, params: list[Any]) -> list[Any]:
    """``eth_getFilterLogs(id)``: every log matching a log filter's criteria."""
    _, flt = _lookup(chain, params)
    if flt.criteria is None:
        raise RpcError(SERVER_ERROR, "filter not found")  # geth's answer for a block filter
    return h.get_logs(chain, [flt.criteria])


FILTER_METHODS = {
    "eth_newFilter": new_filter,
    "eth_newBlockFilter": new_block_filter,
    "eth_getFilterChanges": get_filter_changes,
    "eth_getFilterLogs": get_filter_logs,
    "eth_uninstallFilter": uninstall_filter,
}
"""The filter methods, for the provider's method table."""
