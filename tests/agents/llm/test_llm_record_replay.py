"""Recording a language-model run against the stub server, then replaying it with the server
gone: the run's output files are byte-identical, and a replay whose requests differ stops with
a named error saying which request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.llm import CassetteMismatch, ScriptedBackend
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "llm_market.toml"
LLM_GROUP = "agents[3].params"


def _scenario(cassettes: Path, mode: str, base_url: str = "", **extra: Any) -> Any:
    overrides = [
        ("run.blocks", 6),
        (f"{LLM_GROUP}.backend", "http"),
        (f"{LLM_GROUP}.mode", mode),
        (f"{LLM_GROUP}.cassette_dir", str(cassettes)),
        (f"{LLM_GROUP}.timeout_s", 20.0),
        *((f"{LLM_GROUP}.{k}", v) for k, v in extra.items()),
    ]
    if base_url:
        overrides.append((f"{LLM_GROUP}.base_url", base_url))
    return load_with_overrides(SCENARIO, overrides)


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _serve_scripted(stub: Any) -> None:
    # One responder per agent, as the in-process backend has: its call counter names the ids.
    responders: dict[str, ScriptedBackend] = {}

    def script(request: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        key = str(request["seed"])
        return 200, responders.setdefault(key, ScriptedBackend()).complete(request), 0.0

    stub.script = script


def test_a_recorded_run_replays_byte_identically_without_the_server(
    stub: Any, tmp_path: Path
) -> None:
    cassettes = tmp_path / "cassettes"
    _serve_scripted(stub)
    recorded = run_scenario(_scenario(cassettes, "record", stub.url), tmp_path / "record")
    served = len(stub.requests)
    stub.stop()
    assert served > 0
    lines = [
        json.loads(line)
        for name in ("llm0", "llm1")
        for line in (cassettes / f"{name}.jsonl").read_text().split("\n")[:-1]
    ]
    assert len(lines) == served
    replayed = run_scenario(_scenario(cassettes, "replay"), tmp_path / "replay")
    assert _files(replayed.out_dir) == _files(recorded.out_dir)
    summary = json.loads((replayed.out_dir / "summary.json").read_text())
    assert summary["llm"]["total"]["requests"] == served
    assert summary["llm"]["total"]["total_tokens"] > 0


def test_a_recorded_timeout_replays_as_a_timeout(stub: Any, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    stub.script = lambda request: (200, {}, 5.0)
    recorded = run_scenario(
        _scenario(cassettes, "record", stub.url, timeout_s=0.2), tmp_path / "record"
    )
    stub.stop()
    replayed = run_scenario(_scenario(cassettes, "replay", timeout_s=0.2), tmp_path / "replay")
    assert _files(replayed.out_dir) == _files(recorded.out_dir)
    entry = json.loads((cassettes / "llm0.jsonl").read_text().split("\n")[0])
    assert entry["error"]["kind"] == "timeout" and "response" not in entry
    summary = json.loads((replayed.out_dir / "summary.json").read_text())
    assert summary["llm"]["total"]["failures"] == summary["llm"]["total"]["requests"] > 0


def test_a_replay_with_a_different_request_names_the_request(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    run_scenario(_scenario(cassettes, "record", backend="scripted"), tmp_path / "record")
    with pytest.raises(CassetteMismatch, match=r"llm0\.jsonl: request 0 differs") as caught:
        # Another model name changes every request from the first.
        run_scenario(_scenario(cassettes, "replay", model="other"), tmp_path / "replay")
    assert caught.value.index == 0
