"""The ``venue`` key of a scenario's ``[[pools]]``: its default, its names, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_helpers import load_error

from agentbed.agents.market.venues import DEFAULT_VENUE, VENUE_NAMES
from agentbed.experiments.scenario import load_scenario

BASE = """
[run]
seed = 3
blocks = 2
gas_limit = 4_000_000

[[pools]]
token0 = "WETH"
token1 = "USDC"
reserve0 = 100
reserve1 = 300_000

[[pools]]
token0 = "WETH"
token1 = "USDC"
reserve0 = 100
reserve1 = 300_000
venue = "uniswap-v2"

[[agents]]
kind = "retail"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "venues.toml"
    path.write_text(text)
    return path


def test_venue_defaults_to_our_pool_and_names_uniswap_v2(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert [p.venue for p in scenario.pools] == [DEFAULT_VENUE, "uniswap-v2"]
    assert VENUE_NAMES == ("constant-product", "uniswap-v2")


@pytest.mark.parametrize(
    ("new", "key", "fragment"),
    [
        ('venue = "uniswap-v3"', "pools[1].venue", "constant-product, uniswap-v2"),
        ('venue = "uniswap-v2"\nfee_bps = 5', "pools[1].fee_bps", "fixed at 30"),
    ],
)
def test_revert_when_the_venue_is_wrong_names_the_key(
    tmp_path: Path, new: str, key: str, fragment: str
) -> None:
    path = write(tmp_path, BASE.replace('venue = "uniswap-v2"', new))
    assert load_error(path, key, fragment).key == key


def test_a_pair_may_have_one_pool_per_venue_not_two(tmp_path: Path) -> None:
    text = BASE.replace('venue = "uniswap-v2"', 'venue = "constant-product"')
    load_error(write(tmp_path, text), "pools[1]", "one pool per venue")
