"""WebSocket subscriptions (``eth_subscribe`` / ``eth_unsubscribe``) for the JSON-RPC server.

Served, with geth's notification shapes (``eth_subscription`` with ``subscription`` and
``result``):

* ``newHeads`` -- each block the chain seals, as ``eth_getBlockByNumber(n, false)`` answers it;
* ``logs`` (optional ``{"address": .., "topics": [..]}``, as ``eth_getLogs`` takes them) -- one
  notification per matching log of each sealed block;
* ``newPendingTransactions`` (optional ``true`` for whole tx objects, as geth) -- the hash of
  each tx entering the pool, fed by the pool's entry hook (``Mempool.entry_listeners``).

**Naming the observer.** A client that names itself gets ``newPendingTransactions`` as that
observer of the chain's latency model sees the pool (:class:`~agentbed.chain.provider.filters.
PendingWatch`): a tx is announced once ``Chain.latency`` lets the observer see it, on the
simulated clock, and never if it left the pool first. A connection names itself with the
``observer`` query parameter of the WebSocket URL (``ws://127.0.0.1:8545/?observer=alice``) or
the ``X-Testbed-Observer`` header of the upgrade request; one subscription can name another
with an options object, ``eth_subscribe("newPendingTransactions", {"observer": "bob",
"fullTx": true})``. An unnamed client sees every tx at once, as from geth. Delayed
announcements go out when the clock reaches them: after each request and each sealed block.

Subscription ids count up per server (``"0x1"``, ``"0x2"``, ...), not random as in geth, so
runs are reproducible.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import handlers as h
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams
from agentbed.chain.provider.filters import PendingWatch, observer_option, watch_pool
from agentbed.chain.provider.reorgs import removed_logs

if TYPE_CHECKING:
    from agentbed.chain.blocktree import Reorg
    from agentbed.chain.node import Chain
    from agentbed.chain.provider import TestbedProvider
    from agentbed.chain.types import Block

SERVED_KINDS = ("newHeads", "logs", "newPendingTransactions")
OBSERVER_HEADER = "X-Testbed-Observer"
"""The WebSocket upgrade header that names the connection's observer."""
OBSERVER_QUERY = "observer"
"""The WebSocket URL's query parameter that names the connection's observer."""


class Sender(Protocol):
    """Where a connection's notifications go (an aiohttp ``WebSocketResponse``)."""

    async def send_str(self, data: str) -> None:
        """Send one text frame."""


@dataclass
class _Subscription:
    """One live subscription: its owner, kind, and what it needs to answer."""

    sender: Sender
    kind: str
    criteria: Mapping[str, Any] = field(default_factory=dict)
    """For ``logs``: the address and topics filter."""
    watch: PendingWatch | None = None
    """For ``newPendingTransactions``: the pool entries not yet announced."""
    full_tx: bool = False


class Hub:
    """Every live subscription of one server, fed by the chain's block and pool-entry hooks.

    Args:
        chain: The chain whose blocks and pool are announced.
    """

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._ids = itertools.count(1)
        self._subs: dict[str, _Subscription] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs until each send finishes
        # The watches settle a block's txs before on_block announces what is due.
        watch_pool(chain, self._watches)
        chain.add_block_listener(self.on_block)
        chain.add_reorg_listener(self.on_reorg)

    def _watches(self) -> list[PendingWatch]:
        return [s.watch for s in self._subs.values() if s.watch is not None]

    def subscribe(self, sender: Sender, params: list[Any], observer: str | None = None) -> str:
        """Add a subscription for ``sender``; its id.

        Args:
            sender: The subscribing connection's socket.
            params: ``[kind]`` or ``[kind, options]``.
            observer: The connection's observer, if it named one (options may override it).
        """
        kind, options = prm.args(params, 1, 2)
        sub = _Subscription(sender, kind)
        if kind == "logs":
            sub.criteria = _log_criteria(options)
        elif kind == "newPendingTransactions":
            if isinstance(options, bool):
                sub.full_tx = options
            elif options is not None:
                observer = observer_option(options) or observer
                full_tx = options.get("fullTx", False)
                if not isinstance(full_tx, bool):
                    raise InvalidParams(f"fullTx must be a boolean, got {full_tx!r}")
                sub.full_tx = full_tx
            sub.watch = PendingWatch(observer)
        elif kind != "newHeads":
            served = ", ".join(SERVED_KINDS)
            raise InvalidParams(f"unsupported subscription type {kind!r}; served: {served}")
        elif options is not None:
            raise InvalidParams(f"newHeads takes no options, got {options!r}")
        sub_id = enc.hex_quantity(next(self._ids))
        self._subs[sub_id] = sub
        return sub_id

    def unsubscribe(self, sender: Sender, params: list[Any]) -> bool:
        """Drop one of ``sender``'s subscriptions; false if it has none with that id."""
        (sub_id,) = prm.args(params, 1, 1)
        if not isinstance(sub_id, str):
            raise InvalidParams(f"subscription id must be a string, got {sub_id!r}")
        sub = self._subs.get(sub_id)
        if sub is None or sub.sender is not sender:
            return False
        del self._subs[sub_id]
        return True

    def drop(self, sender: Sender) -> None:
        """Forget every subscription of a closed connection."""
        for sub_id in [s for s, sub in self._subs.items() if sub.sender is sender]:
            del self._subs[sub_id]

    def on_block(self, block: Block, receipts: Any, txs: Any) -> None:
        """Announce a sealed block: pending txs that reached their observers first, then the
        head, then its matching logs."""
        if not self._subs:
            return
        self.flush_pending()  # before the head: those txs were seen while still pooled
        head = h.get_block_by_number(self.chain, [enc.hex_quantity(block.number), False])
        for sub_id, sub in list(self._subs.items()):
            if sub.kind == "newHeads":
                self._send(sub_id, sub, head)
            elif sub.kind == "logs":
                criteria = {**sub.criteria, "blockHash": enc.hex_data(block.hash)}
                for log in h.get_logs(self.chain, [criteria]):
                    self._send(sub_id, sub, log)

    def on_reorg(self, reorg: Reorg) -> None:
        """Announce a reorg as geth does: the orphaned logs with ``removed: true``, then the
        new branch's heads and logs."""
        for sub_id, sub in list(self._subs.items()):
            if sub.kind == "logs":
                for log in removed_logs(reorg, sub.criteria, reorg.orphaned[-1].number):
                    self._send(sub_id, sub, log)
        for block in reorg.adopted:
            self.on_block(block, (), ())

    def flush_pending(self) -> None:
        """Announce each pool entry that has reached its subscriber's observer by now."""
        for sub_id, sub in list(self._subs.items()):
            if sub.watch is None:
                continue
            for ptx in sub.watch.due(self.chain):
                self._send(
                    sub_id,
                    sub,
                    enc.tx_json(ptx.tx, None) if sub.full_tx else enc.hex_data(ptx.hash),
                )

    def _send(self, sub_id: str, sub: _Subscription, result: Any) -> None:
        """Queue one notification (the server's loop sends it)."""
        try:
            loop = asyncio.get_running_loop()  # the server changes the chain inside a request
        except RuntimeError:  # changed outside the server's loop: no socket can be written
            return
        note = {"subscription": sub_id, "result": result}
        message = json.dumps({"jsonrpc": "2.0", "method": "eth_subscription", "params": note})
        task = loop.create_task(sub.sender.send_str(message))
        self._tasks.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        """Forget a finished send; a socket closed meanwhile is not an error worth a log."""
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved


def _log_criteria(options: Any) -> dict[str, Any]:
    """A ``logs`` subscription's filter: only ``address`` and ``topics``, checked now."""
    if options is None:
        return {}
    criteria = prm.object_arg(options, "logs filter")
    unknown = sorted(set(criteria) - {"address", "topics"})
    if unknown:
        raise InvalidParams(f"logs subscriptions filter by address and topics only, got {unknown}")
    prm.address_filter(criteria.get("address"))
    prm.topic_filter(criteria.get("topics"))
    return {k: v for k, v in criteria.items() if v is not None}


class Connection:
    """One WebSocket connection's view of the provider: adds ``eth_(un)subscribe``.

    Args:
        provider: The provider answering every other method.
        hub: The server's subscriptions.
        sender: The connection's socket.
        observer: The observer the connection named (URL query or header), if any.
    """

    def __init__(
        self, provider: TestbedProvider, hub: Hub, sender: Sender, observer: str | None = None
    ) -> None:
        self.provider = provider
        self.hub = hub
        self.sender = sender
        self.observer = observer

    def handle(self, method: str, params: Any = None) -> Any:
        """Answer ``method`` like :meth:`TestbedProvider.handle`, subscriptions included."""
        if method not in ("eth_subscribe", "eth_unsubscribe"):
            try:
                return self.provider.handle(method, params)
            finally:
                self.hub.flush_pending()  # the request may have moved the clock
        if not isinstance(params, list):
            raise InvalidParams(f"params must be an array, got {type(params).__name__}")
        if method == "eth_subscribe":
            return self.hub.subscribe(self.sender, params, self.observer)
        return self.hub.unsubscribe(self.sender, params)
