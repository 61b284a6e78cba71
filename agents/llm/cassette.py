"""Record and replay of a language-model agent's chat exchanges (a *cassette*).

A cassette is a JSONL file, one exchange per line in the order the agent made them:
``{"index": i, "request_hash": h, "request": {...}, "response": {...}}``, or ``"error":
{"kind", "message"}`` in place of ``response`` when the backend gave none (a timeout, an HTTP
error), so that a replay reproduces the failure too. Every line is canonical JSON (sorted keys,
no spaces, UTF-8), and ``request_hash`` is the SHA-256 of the request's canonical JSON, so
equal requests have equal hashes on every machine.

Recording replaces the cassette with the exchanges so far after each one, through a temporary
file and a rename: whatever happens, the file on disk is a complete cassette (the previous one
until the first exchange is written). Replaying reads the file once and answers the ``i``-th
request with the ``i``-th recorded response, after checking that the request's hash is the
recorded one: a run whose requests differ from the recorded run's stops with
:class:`CassetteMismatch`, naming the file and the index of the first request that differed.
A replay needs no network and no model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from agentbed.agents.llm.backends import ChatBackend, ChatUnavailable, Request, Response
from agentbed.agents.reporting.files import write_text


def canonical(value: Any) -> str:
    """``value`` as canonical JSON: sorted keys, no whitespace, non-ASCII kept as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(request: Request) -> str:
    """SHA-256 (hex) of the request's canonical JSON."""
    return hashlib.sha256(canonical(request).encode()).hexdigest()


class CassetteError(Exception):
    """A cassette cannot be replayed: missing, unreadable, or not the recorded run's."""


class CassetteMismatch(CassetteError):
    """The ``index``-th request of a replay is not the recorded one (or is past its end).

    Attributes:
        path: The cassette.
        index: The index (from 0) of the first request that differed.
    """

    def __init__(self, path: Path, index: int, detail: str) -> None:
        self.path = path
        self.index = index
        super().__init__(f"{path}: request {index} {detail}")


class RecordingBackend:
    """Passes requests to ``inner`` and records every exchange into ``path``.

    Args:
        inner: The backend that answers (HTTP or the scripted responder).
        path: The cassette written (replaced, atomically, after every exchange).
    """

    def __init__(self, inner: ChatBackend, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._lines: list[str] = []

    def complete(self, request: Request) -> Response:
        """The inner backend's response, recorded (a failure is recorded and re-raised)."""
        entry: dict[str, Any] = {
            "index": len(self._lines),
            "request_hash": request_hash(request),
            "request": request,
        }
        try:
            response = self.inner.complete(request)
        except ChatUnavailable as err:
            entry["error"] = {"kind": err.kind, "message": err.detail}
            self._append(entry)
            raise
        entry["response"] = response
        self._append(entry)
        return response

    def _append(self, entry: dict[str, Any]) -> None:
        self._lines.append(canonical(entry))
        write_text(self.path, "".join(line + "\n" for line in self._lines))


class ReplayingBackend:
    """Answers requests from a recorded cassette, checking each request against the record.

    Args:
        path: The cassette; read at the first request.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[dict[str, Any]] | None = None
        self._next = 0

    def _load(self) -> list[dict[str, Any]]:
        if self._entries is None:
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError as err:
                raise CassetteError(
                    f"{self.path}: cannot read the cassette to replay: {err.strerror}"
                ) from err
            entries = []
            # Split on "\n" only: canonical JSON escapes it inside strings, but not the other
            # line breaks ``str.splitlines`` would split on (U+0085, U+2028, ...).
            lines = text.split("\n")
            if lines and not lines[-1]:
                lines.pop()
            for number, line in enumerate(lines, 1):
                try:
                    entry = json.loads(line)
                except ValueError as err:
                    raise CassetteError(f"{self.path}:{number}: not a JSON line") from err
                if not isinstance(entry, dict) or "request_hash" not in entry:
                    raise CassetteError(f"{self.path}:{number}: not a cassette entry")
                entries.append(entry)
            self._entries = entries
        return self._entries

    def complete(self, request: Request) -> Response:
        """The recorded response to the next request.

        Raises:
            CassetteMismatch: ``request`` is not the one recorded at this index, or the
                cassette has no more entries.
            ChatUnavailable: the recorded exchange was a failure.
        """
        entries = self._load()
        index = self._next
        if index >= len(entries):
            raise CassetteMismatch(
                self.path, index, f"is past the end of the cassette ({len(entries)} recorded)"
            )
        entry = entries[index]
        digest = request_hash(request)
        if digest != entry["request_hash"]:
            raise CassetteMismatch(
                self.path,
                index,
                f"differs from the recorded one (hash {digest[:12]}, recorded "
                f"{str(entry['request_hash'])[:12]})",
            )
        self._next += 1
        error = entry.get("error")
        if isinstance(error, dict):
            raise ChatUnavailable(str(error.get("kind", "http")), str(error.get("message", "")))
        response = entry.get("response")
        if not isinstance(response, dict):
            raise CassetteError(f"{self.path}: entry {index} holds neither response nor error")
        return response
