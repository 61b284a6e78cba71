"""Loss-versus-rebalancing (``agents/market/lvr.py``) against independent computations.

The closed form is Milionis et al.'s: a fee-less constant-product pool with liquidity ``L``
brought from reference price ``p`` to ``p·r`` loses ``L·√p·(√r - 1)²`` to the rebalancing
strategy. The integer paths replay a pool with the exact pool arithmetic and run the
rebalancing portfolio next to it, trade by trade, in exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.lvr import (
    BlockState,
    RecordingMarket,
    ideal_lvr,
    pool_lvr,
    pool_trade,
)
from agentbed.agents.market.mev import SwapEvent
from agentbed.agents.market.world import Pool, PoolSpec
from agentbed.chain.node import Chain
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.scenario import load_scenario

TOKEN0 = "0x" + "11" * 20  # the lower address is token0, as the pools sort them
TOKEN1 = "0x" + "22" * 20
POOL = "0x" + "33" * 20
TRADER = "0x" + "44" * 20


def make_pool(fee_bps: int) -> Pool:
    return Pool(POOL, TOKEN0, TOKEN1, "WETH", "USDC", fee_bps)


def swap_event(block: int, index: int, token_in: str, amount_in: int, out: int) -> SwapEvent:
    return SwapEvent(
        block=block,
        tx_index=index,
        tx_hash=bytes([block, index]) * 16,
        actor=TRADER,
        pool=POOL,
        token_in=token_in,
        amount_in=amount_in,
        amount_out=out,
        recipient=TRADER,
        log_index=index,
    )


def moves(start: tuple[int, int], end: tuple[int, int], block: int) -> SwapEvent:
    """The swap that takes a fee-less pool from reserves ``start`` to ``end``."""
    (x0, y0), (x1, y1) = start, end
    if x1 > x0:  # token0 sold to the pool
        return swap_event(block, 0, TOKEN0, x1 - x0, y0 - y1)
    return swap_event(block, 0, TOKEN1, y1 - y0, x0 - x1)


PRICES = [3000.0, 3090.0, 2950.0, 2950.0, 3300.0, 2700.0]
LIQUIDITY = 10**24


def test_lvr_of_a_pool_tracking_the_reference_matches_the_closed_form() -> None:
    pool = make_pool(0)
    reserves = [(round(LIQUIDITY / math.sqrt(p)), round(LIQUIDITY * math.sqrt(p))) for p in PRICES]
    path = [BlockState(n, {POOL: p}, {POOL: reserves[max(n - 1, 0)]}) for n, p in enumerate(PRICES)]
    swaps = [
        moves(reserves[n - 1], reserves[n], n)
        for n in range(1, len(PRICES))
        if reserves[n] != reserves[n - 1]
    ]
    figures = pool_lvr(pool, swaps, path, range(1, len(PRICES)))

    closed = sum(
        LIQUIDITY * math.sqrt(a) * (math.sqrt(b / a) - 1) ** 2 for a, b in pairwise(PRICES)
    )
    assert closed > 0
    # Integer reserves round each side by under one unit; the closed form is exact.
    assert figures.lvr == pytest.approx(closed, rel=1e-9)
    assert figures.ideal == pytest.approx(closed, rel=1e-9)
    assert figures.fees == 0
    assert figures.swaps == len(swaps) == 4  # no trade in the block the price stood still


def test_ideal_lvr_is_zero_without_a_price_move_and_rejects_bad_prices() -> None:
    assert ideal_lvr((10**20, 3 * 10**23), 3000.0, 3000.0) == 0
    assert ideal_lvr((10**20, 3 * 10**23), 3000.0, 3100.0) > 0
    with pytest.raises(ValueError, match="positive"):
        ideal_lvr((10**20, 3 * 10**23), 0.0, 3100.0)


def test_a_swap_of_another_pool_is_rejected() -> None:
    swap = swap_event(1, 0, "0x" + "55" * 20, 10, 5)
    with pytest.raises(ValueError, match="not a trade of pool"):
        pool_trade(swap, make_pool(30))


def test_a_block_without_a_recorded_price_is_named() -> None:
    swap = swap_event(7, 0, TOKEN0, 10**18, 10**18)
    with pytest.raises(ValueError, match="block 7"):
        pool_lvr(make_pool(30), [swap], [BlockState(6, {POOL: 1.0}, {POOL: (1, 1)})], [7])


trades = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=10**15, max_value=5 * 10**19)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    fee_bps=st.sampled_from([0, 5, 30, 100]),
    blocks=st.lists(
        st.tuples(st.floats(min_value=1500.0, max_value=6000.0), trades), min_size=1, max_size=5
    ),
)
def test_fuzz_lvr_minus_fees_is_the_rebalancing_portfolio_over_the_pool(
    fee_bps: int, blocks: list[tuple[float, list[tuple[bool, int]]]]
) -> None:
    """Integer pool, exact arithmetic: the rebalancing portfolio copies the pool's token0
    holding (fees included), trading at each block's reference price; its lead over the pool
    at the end is LVR minus fees, and with no fee LVR alone."""
    pool = make_pool(fee_bps)
    x, y = 1_000 * 10**18, 3_000_000 * 10**18
    cash = Fraction(y)  # the rebalancing portfolio starts with the pool's holdings
    path, swaps = [], []
    for number, (price, block_trades) in enumerate(blocks, start=1):
        path.append(BlockState(number, {POOL: price}, {POOL: (x, y)}))
        for index, (sell0, amount) in enumerate(block_trades):
            if sell0:
                out = amount_out(amount, x, y, fee_bps)
                swaps.append(swap_event(number, index, TOKEN0, amount, out))
                x, y, bought0 = x + amount, y - out, amount
            else:
                out = amount_out(amount, y, x, fee_bps)
                swaps.append(swap_event(number, index, TOKEN1, amount, out))
                x, y, bought0 = x - out, y + amount, -out
            cash -= bought0 * Fraction(price)  # the same token0 trade at the reference
    # Both hold x of token0 now: the difference of their values is the difference of cash.
    lead = float(cash - y)
    figures = pool_lvr(pool, swaps, path, range(1, len(blocks) + 1))
    assert figures.lvr - figures.fees == pytest.approx(lead, rel=1e-9, abs=1e6)
    if fee_bps == 0:
        assert figures.fees == 0
        assert figures.lvr == pytest.approx(lead, rel=1e-9, abs=1e6)
    assert figures.swaps == len(swaps)
    assert sum(figures.by_actor.values()) == pytest.approx(figures.lvr)


def test_recording_market_records_the_price_the_block_was_built_at() -> None:
    chain = Chain(seed=5, accounts=1, automine=True)
    market: Any = RecordingMarket.deploy(
        chain, [PoolSpec("WETH", "USDC", 10**21, 3 * 10**24)], seed=5, volatility=0.01
    )
    pool = market.pools[0].address
    before = market.reference[pool]
    block = SimpleNamespace(number=chain.block_number)
    market.on_block(block, [])
    market.on_block(SimpleNamespace(number=block.number + 1), [])
    assert [s.block for s in market.path] == [block.number, block.number + 1]
    assert market.path[0].reference[pool] == before
    assert market.path[1].reference[pool] != before  # the walk stepped after the block
    assert market.path[0].reserves[pool] == market.reserves[pool]


ARBITRAGED = """
[run]
name = "lvr"
seed = 3
blocks = 12
block_time_ms = 12_000
gas_limit = 3_000_000
base_fee = 1_000_000_000
policy = "priority"

[latency]
model = "constant"
ms = 50

[[pools]]
token0 = "WETH"
token1 = "USDC"
reserve0 = 1_000
reserve1 = 3_000_000
fee_bps = 30

[market]
volatility = 0.01
numeraire = "USDC"

[[agents]]
kind = "retail"
count = 2
funding = { WETH = 50, USDC = 150_000 }
schedule = { kind = "poisson", rate_per_s = 0.02 }
params = { mean_size = 0.002, slippage_bps = 100 }

[[agents]]
kind = "arbitrageur"
count = 2
funding = { WETH = 100, USDC = 300_000 }
params = { threshold_bps = 10, mode = "fee", max_trade_fraction = 0.5 }
"""


def test_a_run_reports_lvr_next_to_the_arbitrageurs_accounted_profit(tmp_path: Path) -> None:
    path = tmp_path / "lvr.toml"
    path.write_text(ARBITRAGED)
    outcome = run_scenario(load_scenario(path), tmp_path / "out")
    summary = outcome.report.summary
    (row,) = summary["lvr"]["pools"]
    assert row["pool"] == "WETH/USDC" and row["swaps"] > 0
    # A 1% per-block walk on a 3M USDC pool: the closed form's expectation is about
    # L·√p·σ²/4 = 75 USDC a block (a chi-square with 12 degrees of freedom over the run).
    assert 12 * 5 < row["lvr_ideal"] < 12 * 300
    assert row["lvr_arbitrageur_swaps"] > 0 and row["lvr"] > 0 and row["fees"] > 0
    accounted = summary["by_kind"]["arbitrageur"]["profit"]
    assert summary["lvr"]["arbitrage_profit"] == pytest.approx(accounted)
    # Arbitrageurs in fee mode only swap on the pool: every bit of their profit is on it.
    assert summary["lvr"]["arbitrage_unattributed"] == pytest.approx(0.0, abs=1e-6)
    assert row["arbitrage_profit"] == pytest.approx(accounted)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Arbitrage against loss-versus-rebalancing" in report
