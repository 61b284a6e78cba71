"""Retail order flow: random swaps of random size with a slippage tolerance, and a panic
seller whose sales are a scenario's scripted price shock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentbed.agents.agent import GWEI, Action, Agent, AgentView
from agentbed.agents.market.strategies.common import (
    BPS,
    check_slippage_bps,
    random_trade,
    token_balance,
)


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
        check_slippage_bps(slippage_bps)
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
        pool, token_in, amount_in = random_trade(
            self.rng, market, self.mean_size, self.size_sigma, self.relative
        )
        if amount_in <= 0:
            return ()
        quote = market.quote(pool, token_in, amount_in)
        min_out = quote * (BPS - self.slippage_bps) // BPS
        if min_out <= 0 or not self.can_afford(150_000, 2 * view.base_fee + self.tip):
            return ()
        return (market.swap(pool, token_in, amount_in, min_out, self.address, tip=self.tip),)


class PanicSeller(Agent):
    """Sells its whole balance of one token in equal chunks over consecutive blocks: the
    scripted price shock of a scenario (retail selling into a pool, not information).

    From the ``start_block``-th block after the run starts, after each block it sells its
    balance divided by the chunks left, on the first pool trading ``token``, accepting
    ``slippage_bps`` below the quote.

    Args:
        token: Symbol of the token sold.
        start_block: Blocks to wait before the first sale (>= 1).
        chunks: Number of sales.
        slippage_bps: Tolerance below the quote, in basis points.
        tip: Priority fee per gas in wei.
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(
        self,
        *args: Any,
        token: str = "WETH",
        start_block: int = 2,
        chunks: int = 3,
        slippage_bps: int = 1_000,
        tip: int = GWEI,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_slippage_bps(slippage_bps)
        if start_block < 1:
            raise ValueError(f"start_block must be >= 1, got {start_block}")
        if chunks < 1:
            raise ValueError(f"chunks must be >= 1, got {chunks}")
        self.token = token
        self.start_block = start_block
        self.chunks_left = chunks
        self.slippage_bps = slippage_bps
        self.tip = tip
        self._blocks = 0

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        self._blocks += max(1, len(view.new_blocks))
        if self._blocks < self.start_block or self.chunks_left < 1:
            return ()
        market = view.market
        token = market.tokens.get(self.token)
        pool = next((p for p in market.pools if token in (p.token0, p.token1)), None)
        if token is None or pool is None:
            raise ValueError(f"panic seller: no pool trades {self.token!r}")
        held = token_balance(view.reader, token, self.address)
        amount = held // self.chunks_left
        self.chunks_left -= 1
        min_out = market.quote(pool, token, amount) * (BPS - self.slippage_bps) // BPS
        if amount <= 0 or min_out <= 0:
            return ()
        return (market.swap(pool, token, amount, min_out, self.address, tip=self.tip),)
