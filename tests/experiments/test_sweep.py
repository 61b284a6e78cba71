"""``testbed sweep``: the grid, key-path overrides, the t-interval, determinism and resuming."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scenario_helpers import with_blocks

from agentbed.agents.market.study import METRICS as MARKET_METRICS
from agentbed.cli import main
from agentbed.experiments import sweep
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario
from agentbed.experiments.sweep import (
    SweepError,
    cell_id,
    confidence_interval,
    expand_grid,
    load_with_overrides,
    metric_value,
    parse_param,
    parse_value,
    t_critical,
    value_text,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"
MEV = ROOT / "scenarios" / "mev.toml"
GRID = ["--param", "agents[0].count=4,8", "--seeds", "2"]
CELLS = ("agents.0.count=4", "agents.0.count=8")


@dataclass(frozen=True)
class Swept:
    """One finished CLI sweep, shared by the tests that only read it."""

    scenario: Path
    out: Path
    code: int
    stdout: str
    stderr: str


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "short.toml"
    path.write_text(with_blocks(SMALL.read_text(), 5))
    return path


@pytest.fixture(scope="module")
def swept(short: Path, tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """2 cells x 2 seeds in two worker processes."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    code, stdout, stderr = _main(["sweep", str(short), *GRID, "--jobs", "2", "--out", str(out)])
    return Swept(short, out, code, stdout, stderr)


def _copy(swept: Swept, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(swept.out, target)
    return target


# ---------------------------------------------------------------------------------------------
# Parameters, grid, overrides
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        ("3_000_000", 3_000_000),
        ("0.001", 0.001),
        ("3e-3", 0.003),
        ("true", True),
        ("fifo", "fifo"),
        ('"two words"', "two words"),
        (" priority ", "priority"),
    ],
)
def test_parse_value_reads_toml_scalars(text: str, value: Any) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("run.policy", "expected KEY=V1,V2"),
        ("=fifo", "expected KEY=V1,V2"),
        ("run.policy=fifo,,batch", "--param run.policy: empty value"),
        ("run.policy=fifo,fifo", "value fifo listed twice"),
        ("run..policy=fifo", "bad key path 'run..policy'"),
        ("agents[x].count=1", "bad key path"),
        ("market.volatility=nan", "expected a finite number"),
        ("run.seed=1,2", "seeds are set by --seed and --seeds"),
    ],
)
def test_revert_when_a_param_is_malformed(text: str, message: str) -> None:
    with pytest.raises(SweepError) as caught:
        parse_param(text)
    assert message in str(caught.value)


def test_grid_is_the_cartesian_product_with_the_first_param_slowest() -> None:
    cells = expand_grid(
        [parse_param("run.policy=fifo,priority"), parse_param("market.volatility=0.001,0.003")]
    )
    assert [c.overrides for c in cells] == [
        (("run.policy", "fifo"), ("market.volatility", 0.001)),
        (("run.policy", "fifo"), ("market.volatility", 0.003)),
        (("run.policy", "priority"), ("market.volatility", 0.001)),
        (("run.policy", "priority"), ("market.volatility", 0.003)),
    ]
    assert cells[0].id == "run.policy=fifo__market.volatility=0.001"
    assert cells[0].label == "run.policy=fifo market.volatility=0.001"
    assert [c.id for c in expand_grid([])] == ["base"]
    with pytest.raises(SweepError, match="given twice"):
        expand_grid([parse_param("run.blocks=1"), parse_param("run.blocks=2")])


def test_cell_ids_are_readable_stable_and_never_collide() -> None:
    assert cell_id([("agents[1].params.slippage_bps", 50)]) == "agents.1.params.slippage_bps=50"
    assert cell_id([("x", True), ("y", 1.5)]) == "x=true__y=1.5"
    # Lossy slugs carry a hash of the exact values, so "a b" and "a_b" stay apart.
    spaced, plain = cell_id([("run.name", "a b")]), cell_id([("run.name", "a_b")])
    assert plain == "run.name=a_b"
    assert spaced.startswith("run.name=a_b~") and spaced != plain
    assert cell_id([("run.name", "a b")]) == spaced
    # 1 and 1.0 and "1" are different TOML values.
    assert len({cell_id([("k", 1)]), cell_id([("k", 1.0)]), cell_id([("k", "1")])}) == 3
    assert value_text("1") == '"1"' and parse_value(value_text("1")) == "1"
    long = cell_id([("run.name", "x" * 300)])
    assert len(long) < 140 and "~" in long


def test_overrides_reach_the_validated_scenario() -> None:
    scenario = load_with_overrides(
        SMALL,
        [
            ("run.policy", "fifo"),
            ("run.gas_limit", 4_000_000),
            ("agents[0].params.slippage_bps", 150),
            ("market.volatility", 0.003),
            ("policies.batch.window_ms", 500),  # no [policies] in the file: created
        ],
    )
    assert (scenario.run.policy, scenario.run.gas_limit) == ("fifo", 4_000_000)
    assert scenario.agents[0].params["slippage_bps"] == 150
    assert scenario.market.volatility == 0.003
    assert scenario.policy_params == {"batch": {"window_ms": 500}}
    assert load_scenario(SMALL).agents[0].params["slippage_bps"] == 100  # the file is unchanged


def test_an_index_selects_one_agent_group() -> None:
    scenario = load_with_overrides(MEV, [("agents[5].params.bribe_fraction", 0.25)])
    base = load_scenario(MEV)
    assert scenario.agents[5].params["bribe_fraction"] == 0.25
    assert "bribe_fraction" not in base.agents[5].params  # the flagship's bids are first-price
    assert scenario.agents[:5] == base.agents[:5] and scenario.agents[6:] == base.agents[6:]


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("run.blockz=5", "--param run.blockz=5: {f}: run.blockz: unknown key"),
        ("agents[3].count=1", "{f}: agents[3]: no such entry: agents has 1 entry"),
        ("run.gas_limit=fast", "{f}: run.gas_limit: expected an integer, got a string 'fast'"),
        ("run.gas_limit=1000", "{f}: run.gas_limit: expected an integer >= 2500000, got 1000"),
        ("run.blocks.x=1", "{f}: run.blocks: not a table; cannot set 'x' in it"),
        ("agents.count=1", "{f}: agents: an array of tables; index it, e.g. agents[0].count"),
        ("agents[0].params.slippage_bp=5", "agents[0].params.slippage_bp: not a parameter"),
        ("market.volatility=true", "market.volatility: expected a number, got a boolean"),
        ("run.policy=fifo,fastest", "--param run.policy=fastest: {f}: run.policy: expected one"),
    ],
)
def test_revert_when_an_override_breaks_the_schema(
    short: Path, tmp_path: Path, param: str, message: str
) -> None:
    out = tmp_path / "out"
    code, _, err = _main(["sweep", str(short), "--param", param, "--seeds", "1", "--out", str(out)])
    assert code == 2
    assert err.startswith("testbed sweep: ") and err.count("\n") == 1
    assert message.format(f=short) in err
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "value"),
    [(1, 12.7062047), (2, 4.3026527), (3, 3.1824463), (9, 2.2621572), (29, 2.0452296)],
)
def test_t_critical_matches_published_tables(df: int, value: float) -> None:
    assert t_critical(df) == pytest.approx(value, abs=1e-7)
    assert t_critical(df, 0.9) < t_critical(df)


def test_confidence_interval_matches_a_hand_computed_t_interval() -> None:
    # mean 4, s^2 = (4 + 0 + 0 + 4) / 3, t(0.975, 3) = 3.1824463:
    # half-width = 3.1824463 * sqrt(8/3) / sqrt(4) = 2.5984565.
    interval = confidence_interval([2.0, 4.0, 4.0, 6.0])
    assert interval.n == 4 and interval.mean == 4.0
    assert interval.low == pytest.approx(4 - 2.5984565, abs=1e-6)
    assert interval.high == pytest.approx(4 + 2.5984565, abs=1e-6)
    assert confidence_interval([3.0, 3.0]) == sweep.Interval(2, 3.0, 3.0, 3.0)
    assert confidence_interval([7.0]) == sweep.Interval(1, 7.0, None, None)
    with pytest.raises(ValueError, match="no values"):
        confidence_interval([])


def test_metric_value_follows_dotted_paths() -> None:
    summary = {"txs": 3, "inclusion_delay_ms": {"mean": 1.5}, "flag": True}
    assert metric_value(summary, "txs") == 3.0
    assert metric_value(summary, "inclusion_delay_ms.mean") == 1.5
    with pytest.raises(SweepError, match=r"no 'median' in inclusion_delay_ms \(keys: mean\)"):
        metric_value(summary, "inclusion_delay_ms.median")
    with pytest.raises(SweepError, match=r"not a number in summary.json \(keys: mean\)"):
        metric_value(summary, "inclusion_delay_ms")
    with pytest.raises(SweepError, match="not a number"):
        metric_value(summary, "flag")


# ---------------------------------------------------------------------------------------------
# Running, determinism, resuming
# ---------------------------------------------------------------------------------------------


def test_sweep_writes_each_run_summary_and_the_table(swept: Swept) -> None:
    assert swept.code == 0, swept.stderr
    for cell in CELLS:
        for seed in (1, 2):
            summary = json.loads(
                (swept.out / "runs" / cell / f"seed{seed}" / "summary.json").read_text()
            )
            assert (summary["seed"], summary["blocks"]) == (seed, 5)
            assert summary["by_kind"]["retail"]["agents"] == int(cell[-1])
    rows = (swept.out / "sweep.csv").read_text().splitlines()
    assert rows[0] == "cell,agents[0].count,metric,seeds,mean,ci95_low,ci95_high"
    assert len(rows) == 1 + 2 * len(MARKET_METRICS)
    assert rows[1].startswith("agents.0.count=4,4,victim_loss,2,")
    table = (swept.out / "sweep.md").read_text()
    assert "| agents[0].count | victim_loss | searcher_profit | txs |" in table
    assert "| 4 | " in table and "| 8 | " in table and " ± " in table
    assert "| agents[0].count | victim_loss" in swept.stdout
    assert f"table: {swept.out / 'sweep.csv'}" in swept.stdout
    assert "running 4 runs in 2 processes" in swept.stderr
    assert "[4/4] agents[0].count=" in swept.stderr
    # More traders, more transactions: the cells really differ.
    txs = {r.split(",")[0]: float(r.split(",")[5]) for r in rows[1:] if ",txs," in r}
    assert txs[CELLS[1]] > txs[CELLS[0]]


def test_a_swept_run_equals_a_single_run_with_the_same_values(swept: Swept, tmp_path: Path) -> None:
    scenario = load_with_overrides(swept.scenario, [("agents[0].count", 4)])
    alone = run_scenario(scenario, tmp_path / "alone", seed=2)
    cell = swept.out / "runs" / CELLS[0]
    assert (cell / "seed2" / "summary.json").read_text() == sweep.summary_text(alone.report.summary)
    other = json.loads((cell / "seed1" / "summary.json").read_text())
    assert (other["txs"], other["by_kind"]) != (
        alone.report.summary["txs"],
        alone.report.summary["by_kind"],
    )


def test_a_resumed_sweep_reuses_finished_runs_and_writes_the_same_bytes(
    swept: Swept, tmp_path: Path
) -> None:
    out = _copy(swept, tmp_path)
    (out / "sweep.csv").unlink()
    (out / "sweep.md").unlink()
    (out / "runs" / CELLS[0] / "seed2" / "summary.json").unlink()
    shutil.rmtree(out / "runs" / CELLS[1] / "seed1")
    code, stdout, err = _main(
        ["sweep", str(swept.scenario), *GRID, "--jobs", "1", "--out", str(out)]
    )
    assert code == 0, err
    assert "reusing 2 of 4 runs" in err
    assert "(ran 2, reused 2)" in stdout
    for name in ("sweep.csv", "sweep.md"):
        assert (out / name).read_bytes() == (swept.out / name).read_bytes(), name


def test_an_interrupted_sweep_exits_130_and_the_rerun_finishes_it(
    swept: Swept, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = sweep.run_summary

    def interrupted_second(*args: Any, **kwargs: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "run_summary", interrupted_second)
    out = tmp_path / "out"
    argv = ["sweep", str(swept.scenario), *GRID, "--jobs", "1", "--out", str(out)]
    code, _, err = _main(argv)
    assert code == 130
    assert err.splitlines()[-1] == (
        f"testbed sweep: interrupted; 1 of 4 runs done in {out / 'runs'}; "
        "run the same command again to resume"
    )
    assert not (out / "sweep.csv").exists()
    assert not list(out.rglob("*.tmp"))
    monkeypatch.undo()
    code, _, err = _main(argv)
    assert code == 0, err
    assert "reusing 1 of 4 runs" in err
    for name in ("sweep.csv", "sweep.md"):
        assert (out / name).read_bytes() == (swept.out / name).read_bytes(), name


def test_one_seed_shows_the_mean_and_na(swept: Swept, tmp_path: Path) -> None:
    out = _copy(swept, tmp_path)
    code, _, err = _main(
        ["sweep", str(swept.scenario), *GRID[:2], "--seeds", "1", "--out", str(out)]
    )
    assert code == 0, err
    assert "reusing 2 of 2 runs" in err
    assert ",txs,1," in (out / "sweep.csv").read_text()
    assert (out / "sweep.csv").read_text().count(",n/a,n/a") == 2 * len(MARKET_METRICS)
    assert "± n/a |" in (out / "sweep.md").read_text()


def test_metrics_are_chosen_by_key_path(swept: Swept, tmp_path: Path) -> None:
    out = _copy(swept, tmp_path)
    argv = ["sweep", str(swept.scenario), *GRID, "--out", str(out)]
    code, stdout, _ = _main([*argv, "--metric", "base_fee.mean", "builder.revenue"])
    assert code == 0
    assert stdout.splitlines()[0] == "| agents[0].count | base_fee.mean | builder.revenue |"
    code, _, err = _main([*argv, "--metric", "base_fee"])
    assert code == 2
    assert err.splitlines()[-1] == (
        "testbed sweep: --metric base_fee: not a number in summary.json (keys: first, last, mean)"
    )


def test_revert_when_the_directory_holds_runs_of_another_scenario_version(
    swept: Swept, tmp_path: Path
) -> None:
    out = _copy(swept, tmp_path)
    changed = tmp_path / "short.toml"
    changed.write_text(with_blocks(swept.scenario.read_text(), 6))
    code, _, err = _main(["sweep", str(changed), *GRID, "--out", str(out)])
    assert code == 2
    assert "holds runs of a different version of short.toml" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seeds", "0"], "testbed sweep: --seeds must be >= 1, got 0"),
        (["--seeds", "-2"], "testbed sweep: --seeds must be >= 1, got -2"),
        (["--seeds", "2", "--jobs", "0"], "testbed sweep: --jobs must be >= 1, got 0"),
        (["--seeds", "2", "--seed", "-1"], "testbed sweep: --seed must be >= 0, got -1"),
        (["--seeds", "2", "--param", "run.policy"], "expected KEY=V1,V2,..."),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    short: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    code, _, err = _main(["sweep", str(short), "--out", str(tmp_path / "out"), *extra])
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_seeds_is_required(short: Path) -> None:
    code, _, err = _main(["sweep", str(short)])
    assert code == 2
    assert "--seeds" in err


def test_sweep_is_listed_in_the_help() -> None:
    code, stdout, _ = _main(["--help"])
    assert code == 0 and "sweep" in stdout
