"""Scenario files: loading, strict validation with key paths, and seeding of ``build``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from scenario_helpers import load_error

from agentbed.agents.agent import PeriodicSchedule
from agentbed.chain.latency import PerObserverLatency, RandomLatency
from agentbed.chain.ordering import POLICY_NAMES, FrequentBatchPolicy
from agentbed.cli.compare import _chosen_runs
from agentbed.experiments.scenario import ScenarioError, build, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "small.toml"
MEV = ROOT / "scenarios" / "mev.toml"

BASE = """
[run]
seed = 3
blocks = 5
block_time_ms = 2000
gas_limit = 3_000_000

[latency]
model = "per-agent"
default_ms = 100

[[pools]]
token0 = "WETH"
token1 = "USDC"
reserve0 = 100
reserve1 = 300_000.5

[market]
volatility = 0.01

[[agents]]
kind = "retail"
count = 2
funding = { WETH = 1.25, USDC = 3000 }
schedule = { kind = "poisson", rate_per_s = 0.5 }
params = { slippage_bps = 50 }
latency_ms = 10

[[agents]]
kind = "retail"
name = "whale"
schedule = { kind = "periodic", period_ms = 4000, offset_ms = 250 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def test_loads_every_table_with_units_converted(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert scenario.run.seed == 3 and scenario.run.blocks == 5
    assert scenario.run.name == "scenario"  # default: the file's stem
    assert scenario.run.policy == "priority"
    (pool,) = scenario.pools
    assert (pool.reserve0, pool.reserve1) == (100 * 10**18, 300_000_500_000_000_000_000_000)
    assert pool.fee_bps == 30
    assert scenario.market.numeraire == "USDC"
    retail, whale = scenario.agents
    assert retail.funding == {"WETH": 1_250_000_000_000_000_000, "USDC": 3000 * 10**18}
    assert retail.params == {"slippage_bps": 50}
    assert retail.agent_names() == ("retail0", "retail1")
    assert whale.agent_names() == ("whale0",)
    assert (whale.schedule.kind, whale.schedule.period_ms) == ("periodic", 4000)
    assert whale.schedule.make() == PeriodicSchedule(4000, 250)
    assert retail.latency_ms == 10 and whale.latency_ms is None


def test_shipped_scenarios_load() -> None:
    assert load_scenario(SMALL).run.blocks <= 50
    flagship = load_scenario(MEV)
    assert flagship.run.policy in POLICY_NAMES
    assert len(flagship.pools) == 2


BROKEN = [
    # (replace this, with this, key path, fragment of the expectation)
    ("[market]", "[markets]", "markets", "did you mean 'market'"),
    ("blocks = 5", 'blocks = "five"', "run.blocks", "expected an integer"),
    ("blocks = 5", "blocks = 0", "run.blocks", ">= 1"),
    ("blocks = 5", "blocks = 5.0", "run.blocks", "expected an integer"),
    ("blocks = 5", "blocks = true", "run.blocks", "got a boolean"),
    ("seed = 3", "sed = 3", "run.sed", "did you mean 'seed'"),
    ("seed = 3", 'policy = "fastest"', "run.policy", "fifo, priority, random, batch, bundles"),
    ("seed = 3", 'compare = "seeds"', "run.compare", "'policies' or 'variants'"),
    ("gas_limit = 3_000_000", "gas_limit = 21_000", "run.gas_limit", ">= 2500000"),
    ('model = "per-agent"', 'model = "gauss"', "latency.model", "constant, per-agent, random"),
    ("default_ms = 100", "ms = 100", "latency.ms", "unknown key"),
    ('token1 = "USDC"', 'token1 = "WETH"', "pools[0].token1", "other than token0"),
    ("reserve0 = 100", "reserve0 = 0", "pools[0].reserve0", "> 0"),
    ("reserve0 = 100", 'reserve0 = "100"', "pools[0].reserve0", "whole tokens"),
    ("reserve0 = 100", "reserve0 = 1e-19", "pools[0].reserve0", "at most 18 decimals"),
    ("reserve1 = 300_000.5", "reserve1 = 300_000.5\nfee_bps = 10_000", "pools[0].fee_bps", "[0"),
    ("volatility = 0.01", 'numeraire = "EUR"', "market.numeraire", "WETH"),
    ("volatility = 0.01", "volatility = -1", "market.volatility", ">= 0"),
    ('kind = "retail"\ncount = 2', 'kind = "retial"\ncount = 2', "agents[0].kind", "retail"),
    ("count = 2", "count = -1", "agents[0].count", ">= 0"),
    (
        "params = { slippage_bps = 50 }",
        "params = { slippage_bp = 50 }",
        "agents[0].params.slippage_bp",
        "did you mean 'slippage_bps'",
    ),
    (
        "params = { slippage_bps = 50 }",
        "params = { slippage_bps = 20_000 }",
        "agents[0].params.slippage_bps",
        "[0, 10000)",
    ),
    (
        "params = { slippage_bps = 50 }",
        'params = { slippage_bps = "low" }',
        "agents[0].params.slippage_bps",
        "expected an integer",
    ),
    (
        "params = { slippage_bps = 50 }",
        "params = { name = 'x' }",
        "agents[0].params.name",
        "not a parameter",
    ),
    ("WETH = 1.25", "DOGE = 1.25", "agents[0].funding.DOGE", "unknown key"),
    ("USDC = 3000", "USDC = -3", "agents[0].funding.USDC", ">= 0"),
    ('kind = "poisson", rate_per_s = 0.5', 'kind = "cron"', "agents[0].schedule.kind", "poisson"),
    (
        'kind = "poisson", rate_per_s = 0.5',
        'kind = "poisson"',
        "agents[0].schedule.rate_per_s",
        "required",
    ),
    ("period_ms = 4000", "period_ms = 0", "agents[1].schedule.period_ms", ">= 1"),
    ("offset_ms = 250", "offset_ms = -1", "agents[1].schedule.offset_ms", ">= 0"),
    ("offset_ms = 250", "rate_per_s = 1", "agents[1].schedule.rate_per_s", "unknown key"),
    ('name = "whale"', 'name = "retail"', "agents[1].name", "already used by agents[0]"),
    ('name = "whale"', 'name = "two words"', "agents[1].name", "letters"),
    ('model = "per-agent"\ndefault_ms = 100', "ms = 5", "agents[0].latency_ms", "per-agent"),
    ("[market]", "[policies.batch]\nwindow = 5\n\n[market]", "policies.batch.window", "batch"),
    (
        "[market]",
        "[policies.batch]\nwindow_ms = 0\n\n[market]",
        "policies.batch.window_ms",
        "positive",
    ),
    ("[market]", "[policies.turbo]\n\n[market]", "policies.turbo", "unknown policy"),
    ("[[pools]]", "[pools]", "pools", "array of tables"),
]


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN, ids=[b[2] for b in BROKEN])
def test_revert_when_a_key_is_wrong_names_the_key_path(
    tmp_path: Path, old: str, new: str, key: str, fragment: str
) -> None:
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    assert load_error(path, key, fragment).key == key


def test_revert_when_required_tables_are_missing(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r": pools: required"):
        load_scenario(write(tmp_path, "[run]\nblocks = 3\n"))
    no_agents = BASE[: BASE.index("[[agents]]")]
    with pytest.raises(ScenarioError, match=r": agents: required"):
        load_scenario(write(tmp_path, no_agents))


def test_revert_when_no_eth_price_and_no_weth(tmp_path: Path) -> None:
    text = BASE.replace("WETH", "WBTC")
    with pytest.raises(ScenarioError, match=r"market\.eth_price: required"):
        load_scenario(write(tmp_path, text))
    priced = text.replace("volatility = 0.01", "volatility = 0.01\neth_price = 3000")
    assert load_scenario(write(tmp_path, priced)).market.eth_price == 3000.0


def test_toml_syntax_error_gives_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[run]\nseed = 3\nblocks 5\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:3:8: invalid TOML: ")
    assert info.value.line == 3
    assert "\n" not in str(info.value)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.toml")


def test_policy_aliases_are_read_once_into_canonical_names(tmp_path: Path) -> None:
    text = BASE.replace("seed = 3", 'seed = 3\npolicy = "Frequent_Batch"').replace(
        "[market]", '[policies.bundles_first]\ninner = "fifo"\n\n[market]'
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.run.policy == "batch"
    assert scenario.policy_params == {"bundles": {"inner": "fifo"}}
    assert scenario.policy_spec().name == "batch"
    assert scenario.make_policy("bundles").name == "bundles_first+fifo"
    with pytest.raises(ValueError, match="'priority_fee' is an alias of the policy 'priority'"):
        scenario.make_policy("priority_fee")  # inner code takes canonical names only


def test_policy_params_apply_to_the_named_policy(tmp_path: Path) -> None:
    text = BASE.replace("[market]", '[policies.batch]\nwindow_ms = 500\nwithin = "tip"\n\n[market]')
    scenario = load_scenario(write(tmp_path, text))
    policy = scenario.make_policy("batch")
    assert isinstance(policy, FrequentBatchPolicy)
    assert (policy.window_ms, policy.within) == (500, "tip")
    assert scenario.make_policy().name == "priority_fee"


def test_build_fans_the_root_seed_out_to_every_component(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    sim, market = build(scenario)
    again, _ = build(scenario)
    other, _ = build(scenario, seed=4)
    names = [a.name for a in sim.agents]
    assert names == ["retail0", "retail1", "whale0"]
    assert [a.address for a in sim.agents] == [a.address for a in again.agents]
    assert [a.address for a in sim.agents] != [a.address for a in other.agents]
    assert [a.rng.random() for a in sim.agents] == [a.rng.random() for a in again.agents]
    assert sim.agents[0].rng.random() != sim.agents[1].rng.random()
    assert sim.seed == 3 and other.seed == 4
    latency = sim.chain.latency
    assert isinstance(latency, PerObserverLatency)
    assert latency.delays["retail0"] == 10 and latency.default_ms == 100
    assert sim.agents[0].slippage_bps == 50  # type: ignore[attr-defined]
    # Funding is minted before the run.
    usdc = market.tokens["USDC"]
    balance = sim.chain.call(
        usdc, bytes.fromhex("70a08231") + bytes(12) + bytes.fromhex(sim.agents[0].address[2:])
    )
    assert int.from_bytes(balance, "big") == 3000 * 10**18


def test_random_latency_is_seeded_from_the_root(tmp_path: Path) -> None:
    text = BASE.replace('model = "per-agent"\ndefault_ms = 100', 'model = "random"\nhigh_ms = 50')
    text = text.replace("latency_ms = 10\n", "")
    scenario = load_scenario(write(tmp_path, text))
    one, _ = build(scenario, seed=1)
    two, _ = build(scenario, seed=2)
    assert isinstance(one.chain.latency, RandomLatency)
    assert isinstance(two.chain.latency, RandomLatency)
    assert one.chain.latency.seed != two.chain.latency.seed
    assert (one.chain.latency.low_ms, one.chain.latency.high_ms) == (0, 50)


def test_load_scenario_reads_a_bundled_scenario_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file named "small" here: the bundled one is meant
    from agentbed import load_scenario

    scenario = load_scenario("small")
    assert Path(scenario.path).name == "small.toml"
    assert scenario.run.name == load_scenario(ROOT / "scenarios" / "small.toml").run.name


def test_load_scenario_prefers_an_existing_file_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").write_text("not = [valid", encoding="utf-8")
    from agentbed import load_scenario

    with pytest.raises(ScenarioError, match="small"):
        load_scenario("small")


def test_run_compare_chooses_what_compare_runs_without_options() -> None:
    # The flagship has a venue variant but says `compare = "policies"`: without options
    # `testbed compare` runs the five policies of the file as written, not base vs variant.
    mev = load_scenario(MEV)
    assert mev.variants and mev.run.compare == "policies"
    none = argparse.Namespace(policies=None, variants=None)
    assert [r.label for r in _chosen_runs(none, mev)] == list(POLICY_NAMES)
    asked = argparse.Namespace(policies=None, variants="base,uniswap_v2")
    assert [r.label for r in _chosen_runs(asked, mev)] == ["base", "uniswap_v2"]
    plain = load_scenario(ROOT / "scenarios" / "escrow.toml")
    assert plain.run.compare == ""
    assert _chosen_runs(none, plain)[0].label == "base"
