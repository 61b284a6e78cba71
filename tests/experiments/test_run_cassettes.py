"""Each run of a comparison or sweep records to and replays from its own cassette directory
(``agentbed.experiments.cassettes``), so runs no longer overwrite each other's recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentbed.experiments.cassettes import per_run_cassettes
from agentbed.experiments.grid import Param
from agentbed.experiments.runner import RunSpec, compare
from agentbed.experiments.sweep import load_with_overrides, plan_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[2]
LLM_MARKET = ROOT / "scenarios" / "llm_market.toml"


def _llm_market(mode: str, cassettes: Path, blocks: int = 3) -> Any:
    return load_with_overrides(
        LLM_MARKET,
        [
            ("run.blocks", blocks),
            ("agents[3].params.mode", mode),
            ("agents[3].params.cassette_dir", str(cassettes)),
        ],
    )


def test_only_groups_that_record_or_replay_get_a_per_run_directory(tmp_path: Path) -> None:
    scenario = _llm_market("record", tmp_path / "c")
    moved = per_run_cassettes(scenario, "priority", "seed4")
    assert moved.agents[3].params["cassette_dir"] == f"{tmp_path}/c/priority/seed4"
    assert moved.agents[:3] == scenario.agents[:3]
    live = _llm_market("live", tmp_path / "c")
    assert per_run_cassettes(live, "priority", "seed4") is live


def test_compare_records_each_seed_apart_and_replays_each_run_identically(
    tmp_path: Path,
) -> None:
    cassettes = tmp_path / "cassettes"

    def run(mode: str, out: Path) -> dict[str, Any]:
        scenario = _llm_market(mode, cassettes)
        outcomes, _ = compare(scenario, [RunSpec("p", scenario, "priority")], out, seeds=2)
        return {o.out_dir.name: o.report.summary for o in outcomes}

    recorded = run("record", tmp_path / "rec")
    files = sorted(p.relative_to(cassettes).as_posix() for p in cassettes.rglob("*.jsonl"))
    assert files == [f"p/seed{s}/llm{i}.jsonl" for s in (1, 2) for i in (0, 1)]
    seed1, seed2 = (cassettes / f"p/seed{s}/llm0.jsonl" for s in (1, 2))
    assert seed1.read_bytes() != seed2.read_bytes()
    assert run("replay", tmp_path / "rep") == recorded


def test_a_sweep_records_each_cell_and_seed_apart(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    path = tmp_path / "llm.toml"
    old = 'params = { backend = "scripted",'
    new = f'params = {{ mode = "record", cassette_dir = "{cassettes}", backend = "scripted",'
    text = LLM_MARKET.read_text().replace("blocks = 15", "blocks = 2")
    assert old in text
    path.write_text(text.replace(old, new))
    param = Param("agents[3].params.max_rounds", (1, 2))
    plan = plan_sweep(path, [param], seeds=2, out=tmp_path / "sweep")
    run_sweep(plan, metrics=["llm.total.requests"])
    found = sorted(p.relative_to(cassettes).as_posix() for p in cassettes.rglob("*.jsonl"))
    expected = [f"{c.id}/seed{s}/llm{i}.jsonl" for c in plan.cells for s in (1, 2) for i in (0, 1)]
    assert found == sorted(expected)
