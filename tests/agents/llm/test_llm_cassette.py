"""Cassettes: canonical request hashes, record then replay round trips, named errors for a
replay that differs or runs past the end, and writes that never damage an existing cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.llm.backends import ChatUnavailable
from agentbed.agents.llm.cassette import (
    CassetteError,
    CassetteMismatch,
    RecordingBackend,
    ReplayingBackend,
    canonical,
    request_hash,
)
from agentbed.agents.reporting import files

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
requests = st.dictionaries(st.text(min_size=1, max_size=6), json_values, min_size=1, max_size=4)


class Echo:
    """A backend that answers each request with its own canonical text, or fails on
    ``{"fail": true}``."""

    def complete(self, request: Any) -> dict[str, Any]:
        if request.get("fail") is True:
            raise ChatUnavailable("http", "HTTP 500 from stub")
        return {"choices": [{"message": {"content": canonical(request)}}]}


@given(requests)
def test_fuzz_request_hash_ignores_key_order(request: dict[str, Any]) -> None:
    reordered = dict(reversed(list(request.items())))
    assert request_hash(reordered) == request_hash(request)
    assert json.loads(canonical(request)) == request


@settings(max_examples=25)
@given(st.lists(requests, min_size=1, max_size=5))
def test_fuzz_replay_answers_what_was_recorded(
    tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]]
) -> None:
    path = tmp_path_factory.mktemp("cassette") / "agent.jsonl"
    recorder = RecordingBackend(Echo(), path)
    outcomes: list[Any] = []
    for request in batch:
        try:
            outcomes.append(recorder.complete(request))
        except ChatUnavailable as err:
            outcomes.append((err.kind, err.detail))
    player = ReplayingBackend(path)
    for request, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, tuple):
            with pytest.raises(ChatUnavailable) as caught:
                player.complete(request)
            assert (caught.value.kind, caught.value.detail) == outcome
        else:
            assert player.complete(request) == outcome
    with pytest.raises(CassetteMismatch, match=f"request {len(batch)} is past the end"):
        player.complete(batch[0])


def test_each_line_is_canonical_json_with_its_index_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    recorder = RecordingBackend(Echo(), path)
    recorder.complete({"b": 1, "a": [2]})
    with pytest.raises(ChatUnavailable):
        recorder.complete({"fail": True})
    first, second = path.read_text().split("\n")[:-1]
    assert first == canonical(json.loads(first))
    assert json.loads(first)["index"] == 0
    assert json.loads(first)["request_hash"] == request_hash({"a": [2], "b": 1})
    assert json.loads(second)["error"] == {"kind": "http", "message": "HTTP 500 from stub"}


def test_a_differing_request_names_its_index(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    recorder = RecordingBackend(Echo(), path)
    for n in range(3):
        recorder.complete({"n": n})
    player = ReplayingBackend(path)
    player.complete({"n": 0})
    with pytest.raises(CassetteMismatch, match=r"a\.jsonl: request 1 differs") as caught:
        player.complete({"n": 99})
    assert caught.value.index == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read the cassette"),
        ("{not json\n", "a.jsonl:1: not a JSON line"),
        ('{"index": 0}\n', "a.jsonl:1: not a cassette entry"),
    ],
)
def test_an_unreadable_cassette_is_a_named_error(
    tmp_path: Path, text: str | None, message: str
) -> None:
    path = tmp_path / "a.jsonl"
    if text is not None:
        path.write_text(text)
    with pytest.raises(CassetteError, match=message):
        ReplayingBackend(path).complete({"n": 0})


def test_a_failed_write_leaves_the_existing_cassette_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.jsonl"
    RecordingBackend(Echo(), path).complete({"n": 0})
    before = path.read_bytes()

    def broken_replace(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        RecordingBackend(Echo(), path).complete({"n": 1})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl"]
