"""A local chat-completions stub server for the language-model agent's tests.

The server listens on 127.0.0.1 (port 0: a free one), in a thread, for as long as a test
needs it. Each POST's JSON body is kept in ``requests``; the reply comes from ``script``, a
function of the request that returns ``(status, body, delay_s)``: a JSON body (dict) or raw
bytes, sent after sleeping ``delay_s`` (longer than the client's timeout makes a timeout).
No test reaches beyond this machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Script = Callable[[dict[str, Any]], tuple[int, "dict[str, Any] | bytes", float]]


class StubServer:
    """The stub (see the module docstring); ``url`` is its API root."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: Script = lambda request: (500, b"no script", 0.0)
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length))
                stub.requests.append(request)
                status, body, delay = stub.script(request)
                if delay:
                    # Woken early when the test ends, so shutdown never waits for a sleeper.
                    stub.release.wait(delay)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def tool_reply(*calls: tuple[str, Any], usage: tuple[int, int] = (100, 10)) -> dict[str, Any]:
    """A chat completion whose message makes ``calls`` (name, arguments: a dict is sent as JSON
    text, a string as is)."""
    tool_calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {
                "name": name,
                "arguments": args if isinstance(args, str) else json.dumps(args),
            },
        }
        for i, (name, args) in enumerate(calls)
    ]
    return {
        "id": "stub",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": tool_calls},
            }
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1]},
    }


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A running stub server, stopped after the test."""
    server = StubServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def reply() -> Callable[..., dict[str, Any]]:
    """:func:`tool_reply`, for tests."""
    return tool_reply
