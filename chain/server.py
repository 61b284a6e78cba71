"""A JSON-RPC server (HTTP POST and WebSocket) over a :class:`~agentbed.chain.node.Chain`.

Every method of the in-process provider's table (:data:`agentbed.chain.provider.METHODS`) is
served as it is, through :meth:`TestbedProvider.handle`; this module adds only the JSON-RPC 2.0
envelope (https://www.jsonrpc.org/specification): batches, notifications, and the envelope's
error codes ``-32700`` (the body is not JSON), ``-32600`` (not a request object), ``-32601``,
``-32602`` (answered by the provider) and ``-32603`` for an exception a handler did not expect,
so a request that raises never takes the server down.

The server runs on aiohttp (an optional extra, ``agentbed[node]``). Handlers are synchronous
and the event loop runs one at a time, so requests never interleave on the chain.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Protocol

from agentbed.chain.interval import mine_on_interval
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import RpcError

if TYPE_CHECKING:
    from aiohttp import web

    from agentbed.chain.node import Chain

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted (aiohttp answers 413 above it); far above any real tx."""

MAX_NESTING = 64
"""Deepest array/object nesting parsed; no real request nests more than a handful of levels.

py-evm raises the interpreter's recursion limit to 100,000 on import, so the C JSON parser no
longer stops deep input with ``RecursionError``: it overflows the C stack and the process dies.
"""

MAX_BATCH = 1000
"""Most requests in one batch, geth's default (``--rpc.batch-request-limit``)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: linear, and fast on long hex
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}

_log = logging.getLogger(__name__)


class Handles(Protocol):
    """What answers a method: a :class:`TestbedProvider`, or a WebSocket connection's view."""

    def handle(self, method: str, params: Any = None) -> Any:
        """The JSON-RPC result of ``method``; raises :class:`RpcError` for an error reply."""


def _nesting(body: bytes) -> int:
    """The deepest bracket nesting in ``body``, brackets inside string literals not counted."""
    outside = _STRING.sub(b"", body)
    brackets = outside.translate(None, bytes(c for c in range(256) if c not in _DEPTH_STEP))
    return max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def _error(request_id: Any, code: int, message: str, data: Any = None) -> str:
    """An encoded JSON-RPC error response."""
    error = RpcError(code, message, data).to_json()
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error})


def _valid_id(value: Any) -> bool:
    """Whether ``value`` may be a request id: a string, an integer or null (not a bool)."""
    return value is None or isinstance(value, str) or type(value) is int


def answer_request(provider: Handles, request: Any) -> str | None:
    """Answer one decoded request object; ``None`` for a notification (a request without id).

    Args:
        provider: The provider whose method table serves the request.
        request: The decoded JSON value of one request.

    Returns:
        The encoded response, or ``None`` when the request is a notification.
    """
    if not isinstance(request, dict):
        return _error(None, INVALID_REQUEST, "invalid request: expected a JSON object")
    request_id = request.get("id")
    if not _valid_id(request_id):
        return _error(None, INVALID_REQUEST, "invalid request: id must be a string or integer")
    if request.get("jsonrpc") != "2.0":
        return _error(request_id, INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"')
    method = request.get("method")
    if not isinstance(method, str):
        return _error(request_id, INVALID_REQUEST, "invalid request: method must be a string")
    try:
        result = provider.handle(method, request.get("params"))
        reply = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result})
    except RpcError as err:
        reply = _error(request_id, err.code, err.message, err.data)
    except Exception as err:  # a handler bug must not kill the server
        _log.exception("%s raised", method)
        reply = _error(request_id, INTERNAL_ERROR, f"internal error: {type(err).__name__}: {err}")
    return None if "id" not in request else reply


def answer_body(provider: Handles, body: bytes | str) -> str | None:
    """Answer a request body: one request object or a batch (an array of them).

    Args:
        provider: The provider whose method table serves the requests.
        body: The raw body as received.

    Returns:
        The encoded response (an array for a batch), or ``None`` when there is nothing to
        answer (a notification, or a batch of notifications only).
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if _nesting(raw) > MAX_NESTING:
        return _error(None, PARSE_ERROR, f"parse error: nested deeper than {MAX_NESTING} levels")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        return _error(None, PARSE_ERROR, f"parse error: {err}")
    if not isinstance(payload, list):
        return answer_request(provider, payload)
    if not payload:
        return _error(None, INVALID_REQUEST, "invalid request: empty batch")
    if len(payload) > MAX_BATCH:
        message = f"batch too large: {len(payload)} requests, at most {MAX_BATCH}"
        return _error(None, INVALID_REQUEST, message)
    replies = [r for r in (answer_request(provider, item) for item in payload) if r is not None]
    return "[" + ",".join(replies) + "]" if replies else None


def build_app(chain: Chain) -> web.Application:
    """The aiohttp application: JSON-RPC on ``POST /`` and over a WebSocket on ``GET /``.

    The WebSocket also serves ``eth_subscribe`` (see :mod:`agentbed.chain.subscriptions`); a
    connection names its observer with ``?observer=<id>`` or the ``X-Testbed-Observer`` header.

    Args:
        chain: The chain to serve.
    """
    from aiohttp import WSMsgType, web

    from agentbed.chain.subscriptions import OBSERVER_HEADER, OBSERVER_QUERY, Connection, Hub

    provider = TestbedProvider(chain)
    hub = Hub(chain)

    async def http(request: web.Request) -> web.StreamResponse:
        reply = answer_body(provider, await request.read())
        hub.flush_pending()  # the request may have moved the clock past a delayed announcement
        if reply is None:
            return web.Response(status=204)
        return web.Response(text=reply, content_type="application/json")

    async def websocket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        observer = request.query.get(OBSERVER_QUERY) or request.headers.get(OBSERVER_HEADER)
        connection = Connection(provider, hub, ws, observer or None)
        try:
            async for message in ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    reply = answer_body(connection, message.data)
                    if reply is not None:
                        await ws.send_str(reply)
                    # Let the notifications the request queued go out before the next reply:
                    # aiohttp hands over buffered messages without yielding to the loop.
                    await asyncio.sleep(0)
        finally:
            hub.drop(ws)
        return ws

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/", http)
    app.router.add_get("/", websocket)
    return app


class NodeServer:
    """A running server: start it with :meth:`start` inside an event loop, stop with :meth:`stop`.

    Args:
        chain: The chain to serve.
        host: The interface to listen on.
        port: The TCP port; 0 lets the operating system pick a free one.
    """

    def __init__(self, chain: Chain, host: str = "127.0.0.1", port: int = 0) -> None:
        self.chain = chain
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._miner: asyncio.Task[None] | None = None  # interval mining (chain/interval.py)

    @property
    def url(self) -> str:
        """The HTTP address (``ws://`` with the same host and port reaches the WebSocket)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        """Listen; return :attr:`url` with the port actually bound.

        Raises:
            OSError: the port is taken or the host is not a local interface.
        """
        from aiohttp import web

        runner = web.AppRunner(build_app(self.chain), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # the port bound, when 0 asked the OS
        self._miner = asyncio.get_running_loop().create_task(mine_on_interval(self.chain))
        return self.url

    async def stop(self) -> None:
        """Close the listening socket and every open connection."""
        if self._miner is not None:
            self._miner.cancel()
            self._miner = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@contextmanager
def serve_in_thread(chain: Chain, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``chain`` from a background thread for as long as the ``with`` block runs.

    For synchronous clients in the same process (tests, notebooks). The chain must not be
    used from the calling thread meanwhile: the server's thread owns it.

    Args:
        chain: The chain to serve.
        host: The interface to listen on.
        port: The TCP port; 0 lets the operating system pick a free one.

    Yields:
        The server's HTTP address.
    """
    loop = asyncio.new_event_loop()
    node = NodeServer(chain, host, port)
    thread = threading.Thread(target=loop.run_forever, name="testbed-node", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(node.start(), loop).result()
    finally:
        asyncio.run_coroutine_threadsafe(node.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
