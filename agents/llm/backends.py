"""Where a language-model agent's chat completions come from: the backend protocol, the HTTP
client of an OpenAI-compatible ``/chat/completions`` endpoint, and the failure they report.

A backend takes one chat-completions request (a JSON object: ``model``, ``messages``,
``tools``, ...) and returns the response object. Anything that keeps the agent from getting a
usable response -- a timeout, a connection error, an HTTP error status, a body that is not a
chat completion -- is one :class:`ChatUnavailable`, which the agent logs and answers by doing
nothing that wake. The HTTP client is the standard library's ``urllib``: no extra package. It
uses the environment's proxy settings, except for a server on this machine.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts reached without a proxy."""
Request = Mapping[str, Any]
"""A chat-completions request body."""
Response = dict[str, Any]
"""A chat-completions response body."""


class ChatUnavailable(Exception):
    """No usable response this time: ``kind`` is ``"timeout"``, ``"http"``, ``"connection"``
    or ``"malformed"``; the message says what happened."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.detail = message
        super().__init__(f"{kind}: {message}")


class LLMConfigError(ValueError):
    """An LLM agent's configuration cannot work (e.g. an API-key variable that is not set)."""


class ChatBackend(Protocol):
    """Answers chat-completions requests."""

    def complete(self, request: Request) -> Response:
        """The response to ``request``.

        Raises:
            ChatUnavailable: no usable response (timeout, HTTP or connection error).
        """
        ...


def check_response(body: object) -> Response:
    """``body`` if it has the shape of a chat completion (a first choice with a message).

    Raises:
        ChatUnavailable: kind ``"malformed"``, saying what is missing.
    """
    if not isinstance(body, dict):
        raise ChatUnavailable("malformed", "the response is not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ChatUnavailable("malformed", "the response has no choices")
    if not isinstance(choices[0].get("message"), dict):
        raise ChatUnavailable("malformed", "the first choice has no message")
    return body


class HttpBackend:
    """POSTs requests to ``{base_url}/chat/completions`` (OpenAI, vLLM, llama.cpp's server,
    Ollama's ``/v1``, ...).

    Args:
        base_url: The API root, e.g. ``http://127.0.0.1:8080/v1``.
        timeout_s: Seconds to wait for the whole response.
        api_key_env: Name of the environment variable holding the bearer token; empty for a
            server without authentication. The key itself is never recorded.
    """

    def __init__(self, base_url: str, timeout_s: float, api_key_env: str = "") -> None:
        if not base_url.startswith(("http://", "https://")):
            raise LLMConfigError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.timeout_s = timeout_s
        self.api_key_env = api_key_env
        # A server on this machine is reached directly, even where HTTP(S)_PROXY is set for
        # the outside world (a proxy would not reach, or would log, a local model's traffic).
        host = urllib.parse.urlsplit(self.url).hostname or ""
        local = host in LOOPBACK_HOSTS
        handlers = [urllib.request.ProxyHandler({})] if local else []
        self._opener = urllib.request.build_opener(*handlers)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise LLMConfigError(
                    f"api_key_env names {self.api_key_env!r}, which is not set in the environment"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def complete(self, request: Request) -> Response:
        """POST ``request``; the decoded response.

        Raises:
            ChatUnavailable: timeout, connection failure, HTTP error status or a malformed body.
            LLMConfigError: ``api_key_env`` names an unset variable.
        """
        data = json.dumps(request).encode()
        http_request = urllib.request.Request(
            self.url, data=data, headers=self._headers(), method="POST"
        )
        try:
            with self._opener.open(http_request, timeout=self.timeout_s) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as err:
            raise ChatUnavailable("http", f"HTTP {err.code} from {self.url}") from err
        except TimeoutError as err:
            raise ChatUnavailable("timeout", f"no response within {self.timeout_s}s") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise ChatUnavailable("timeout", f"no response within {self.timeout_s}s") from err
            raise ChatUnavailable("connection", f"{self.url}: {err.reason}") from err
        except OSError as err:  # a reset connection mid-read
            raise ChatUnavailable("connection", f"{self.url}: {err}") from err
        try:
            body = json.loads(raw)
        except ValueError as err:
            raise ChatUnavailable("malformed", "the response body is not JSON") from err
        return check_response(body)
