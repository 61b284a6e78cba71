"""WebSocket subscriptions (``eth_subscribe`` / ``eth_unsubscribe``) for the JSON-RPC server.

Served: ``newHeads`` — one ``eth_subscription`` notification per block the chain seals, whose
``result`` is the block as ``eth_getBlockByNumber(n, false)`` answers it. Not yet served:
``logs`` and ``newPendingTransactions`` (refused with ``-32602``). Subscription ids count up
per server (``"0x1"``, ``"0x2"``, ...), not random as in geth, so runs are reproducible.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import TYPE_CHECKING, Any, Protocol

from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import handlers as h
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.provider import TestbedProvider

SERVED_KINDS = ("newHeads",)


class Sender(Protocol):
    """Where a connection's notifications go (an aiohttp ``WebSocketResponse``)."""

    async def send_str(self, data: str) -> None:
        """Send one text frame."""


class Hub:
    """Every live subscription of one server, fed by the chain's block listener.

    Args:
        chain: The chain whose blocks are announced.
    """

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._ids = itertools.count(1)
        self._subs: dict[str, Sender] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs until each send finishes
        chain.add_block_listener(self.on_block)

    def subscribe(self, sender: Sender, params: list[Any]) -> str:
        """Add a subscription for ``sender``; its id."""
        kind = prm.args(params, 1, 2)[0]
        if kind not in SERVED_KINDS:
            raise InvalidParams(f"unsupported subscription type {kind!r}; served: newHeads")
        sub_id = enc.hex_quantity(next(self._ids))
        self._subs[sub_id] = sender
        return sub_id

    def unsubscribe(self, sender: Sender, params: list[Any]) -> bool:
        """Drop one of ``sender``'s subscriptions; false if it has none with that id."""
        (sub_id,) = prm.args(params, 1, 1)
        if not isinstance(sub_id, str):
            raise InvalidParams(f"subscription id must be a string, got {sub_id!r}")
        if self._subs.get(sub_id) is not sender:
            return False
        del self._subs[sub_id]
        return True

    def drop(self, sender: Sender) -> None:
        """Forget every subscription of a closed connection."""
        for sub_id in [s for s, owner in self._subs.items() if owner is sender]:
            del self._subs[sub_id]

    def on_block(self, block: Any, receipts: Any, txs: Any) -> None:
        """Queue a ``newHeads`` notification to every subscriber (the loop sends it)."""
        if not self._subs:
            return
        try:
            loop = asyncio.get_running_loop()  # the server seals blocks inside a request
        except RuntimeError:  # sealed outside the server's loop: no socket can be written
            return
        head = h.get_block_by_number(self.chain, [enc.hex_quantity(block.number), False])
        for sub_id, sender in self._subs.items():
            note = {"subscription": sub_id, "result": head}
            message = json.dumps({"jsonrpc": "2.0", "method": "eth_subscription", "params": note})
            task = loop.create_task(sender.send_str(message))
            self._tasks.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        """Forget a finished send; a socket closed meanwhile is not an error worth a log."""
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved


class Connection:
    """One WebSocket connection's view of the provider: adds ``eth_(un)subscribe``.

    Args:
        provider: The provider answering every other method.
        hub: The server's subscriptions.
        sender: The connection's socket.
    """

    def __init__(self, provider: TestbedProvider, hub: Hub, sender: Sender) -> None:
        self.provider = provider
        self.hub = hub
        self.sender = sender

    def handle(self, method: str, params: Any = None) -> Any:
        """Answer ``method`` like :meth:`TestbedProvider.handle`, subscriptions included."""
        if method not in ("eth_subscribe", "eth_unsubscribe"):
            return self.provider.handle(method, params)
        if not isinstance(params, list):
            raise InvalidParams(f"params must be an array, got {type(params).__name__}")
        if method == "eth_subscribe":
            return self.hub.subscribe(self.sender, params)
        return self.hub.unsubscribe(self.sender, params)
