"""The ``[block_production]`` table: what it reads, and the one-line error of a bad value."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.config import ScenarioError
from agentbed.experiments.parse import parse_scenario, read_scenario_toml
from agentbed.experiments.schema import Scenario

ROOT = Path(__file__).resolve().parents[3]
BASE = read_scenario_toml(ROOT / "scenarios" / "builders.toml")


def _parse(**edit: Any) -> Scenario:
    data = copy.deepcopy(BASE)
    data.pop("variants")
    data["block_production"].update(edit)
    return parse_scenario(data, "builders.toml")


def test_reads_the_bundled_table_and_its_variants() -> None:
    scenario = parse_scenario(copy.deepcopy(BASE), "builders.toml")
    config = scenario.block_production
    assert config is not None
    assert [b.name for b in config.builders] == ["vi", "b1", "b2"]
    assert config.builders[0].integrated_with == "sandwich_bundle0"
    assert config.builders[0].bid_bps == (8_000, 9_800)
    assert config.proposers.count == 4 and config.pricing == "first"
    variants = scenario.variant_scenarios
    off = variants["not_integrated"].block_production
    assert off is not None and off.builders[0].integrated_with is None
    four = variants["four_builders"].block_production
    assert four is not None and len(four.builders) == 4


def test_scenario_without_the_table_has_none() -> None:
    data = copy.deepcopy(BASE)
    data.pop("variants")
    del data["block_production"]
    assert parse_scenario(data, "builders.toml").block_production is None


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        ({"pricing": "third"}, "block_production.pricing"),
        ({"mode": "single"}, "block_production.mode"),
        ({"finality": 2}, "block_production.finality"),
        ({"finality_depth": 0}, "block_production.finality_depth"),
        ({"builders": []}, "block_production.builders"),
        ({"builders": [{"name": "x", "bid": "half"}]}, "block_production.builders[0].bid"),
        ({"builders": [{"name": "x", "policy": "best"}]}, "block_production.builders[0].policy"),
        ({"builders": [{"name": "x"}, {"name": "x"}]}, "block_production.builders[1].name"),
        ({"builders": [{"name": "retail0"}]}, "block_production.builders[0].name"),
        (
            {"builders": [{"name": "x", "integrated_with": "nobody"}]},
            "block_production.builders[0].integrated_with",
        ),
        ({"routes": {"sandwich_bundle": ["nobody"]}}, "block_production.routes.sandwich_bundle"),
        ({"routes": {"ghost": ["b1"]}}, "block_production.routes.ghost"),
        ({"proposers": {"count": 2, "stakes": [1, 1]}}, "block_production.proposers.stakes"),
        (
            {"proposers": {"count": 2, "schedule": "stake_weighted", "stakes": [1]}},
            "block_production.proposers.stakes",
        ),
        ({"bandit": {"share": 1.5}}, "block_production.bandit.share"),
        ({"bandit": {"share": 0.5, "depth": 2}}, "block_production.bandit.depth"),
        ({"censor": {"share": 0.1, "target": "nobody"}}, "block_production.censor.target"),
        (
            {"bandit": {"share": 0.6}, "censor": {"share": 0.6, "target": "retail0"}},
            "block_production.censor.share",
        ),
    ],
)
def test_bad_value_names_its_key(edit: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError) as err:
        _parse(**edit)
    assert err.value.key == key
    assert str(err.value).startswith(f"builders.toml: {key}: ")


@given(st.integers(min_value=-50_000, max_value=50_000))
def test_fuzz_a_bid_is_basis_points_of_the_block_value(bps: int) -> None:
    builders = [{"name": "x", "bid": bps}]
    if 0 <= bps <= 10_000:
        config = _parse(builders=builders).block_production
        assert config is not None and config.builders[0].bid_bps == (bps, bps)
    else:
        with pytest.raises(ScenarioError, match=r"builders\[0\]\.bid"):
            _parse(builders=builders)
