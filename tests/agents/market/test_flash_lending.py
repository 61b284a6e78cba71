"""The ``[flash]`` table: what it accepts, and one-line errors naming the bad key."""

from __future__ import annotations

import pytest

from agentbed.agents.config import ScenarioError, Table
from agentbed.agents.market.flash_lending import FlashConfig, parse_flash

SYMBOLS = ("USDC", "WETH")


def _parse(data: dict[str, object]) -> FlashConfig:
    return parse_flash(Table("x.toml", "flash", data), SYMBOLS)


def test_reads_fee_and_liquidity_in_wei() -> None:
    config = _parse({"fee_bps": 5, "liquidity": {"WETH": 1.5, "USDC": 10}})
    assert config == FlashConfig(5, {"USDC": 10 * 10**18, "WETH": 15 * 10**17})
    assert _parse({}) == FlashConfig(9, {})


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"fee_bps": 1_001}, "flash.fee_bps"),
        ({"fee_bps": -1}, "flash.fee_bps"),
        ({"liquidity": {"DAI": 1}}, "flash.liquidity.DAI"),
        ({"liquidity": {"WETH": -1}}, "flash.liquidity.WETH"),
        ({"lender": 1}, "flash.lender"),
    ],
)
def test_rejects_bad_values_naming_the_key(data: dict[str, object], where: str) -> None:
    with pytest.raises(ScenarioError, match=where.replace(".", r"\.")):
        _parse(data)
