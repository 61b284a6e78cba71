"""Retail order flow: random swaps of random size with a slippage tolerance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from agents.agent import GWEI, Action, Agent, AgentView


class RetailTrader(Agent):
    """Swaps a random amount in a random direction on a random pool when it wakes.

    Sizes are log-normal around ``mean_size`` (in the sold token's smallest units, scaled by
    the pool's reserve of that token when ``relative`` is on). The minimum output is the quote
    at the last block's reserves less ``slippage_bps``: the slack a sandwicher can take.

    Args:
        mean_size: Median trade size: a fraction of the sold token's reserve when
            ``relative``, else an absolute amount.
        size_sigma: Log-normal spread of the size.
        slippage_bps: Tolerance below the quote, in basis points.
        tip: Priority fee per gas in wei.
        relative: Whether ``mean_size`` is a fraction of the pool's reserve.
        **kwargs: Passed to ``Agent``.
    """

    def __init__(
        self,
        *args: Any,
        mean_size: float = 0.005,
        size_sigma: float = 0.5,
        slippage_bps: int = 100,
        tip: int = GWEI,
        relative: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not 0 <= slippage_bps < 10_000:
            raise ValueError(f"slippage_bps must be in [0, 10000), got {slippage_bps}")
        if mean_size <= 0:
            raise ValueError(f"mean_size must be > 0, got {mean_size}")
        self.mean_size = mean_size
        self.size_sigma = size_sigma
        self.slippage_bps = slippage_bps
        self.tip = tip
        self.relative = relative

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        market = view.market
        if view.nonce - view.confirmed_nonce >= 4:
            return ()  # do not pile up unmined trades
        pool = market.pools[self.rng.randrange(len(market.pools))]
        token_in = pool.token0 if self.rng.random() < 0.5 else pool.token1
        reserve_in, _ = market.reserves_for(pool, token_in)
        size = math.exp(self.rng.gauss(math.log(self.mean_size), self.size_sigma))
        amount_in = int(size * reserve_in) if self.relative else int(size)
        if amount_in <= 0:
            return ()
        quote = market.quote(pool, token_in, amount_in)
        min_out = quote * (10_000 - self.slippage_bps) // 10_000
        if min_out <= 0 or not self.can_afford(150_000, 2 * view.base_fee + self.tip):
            return ()
        return (market.swap(pool, token_in, amount_in, min_out, self.address, tip=self.tip),)
