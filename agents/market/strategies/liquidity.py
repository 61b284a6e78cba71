"""Liquidity provision: deposit into the pools at the start, then add or withdraw now and then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentbed.agents.agent import (
    GWEI,
    Action,
    Agent,
    AgentView,
    TxIntent,
    check_fraction,
    check_non_negative,
    check_positive,
)
from agentbed.agents.market.strategies.common import fraction_of, token_balance
from agentbed.agents.market.world import Pool


class LiquidityProvider(Agent):
    """Deposits into every pool at set-up; on its schedule, adds more or withdraws some.

    The set-up deposit is ``initial_fraction`` of each pool's reserves of both tokens (at the
    pool's ratio, so no value is donated); fund the agent with enough of both. On each wake of
    its own schedule it adds, with probability ``add_probability``, ``add_fraction`` of a
    random pool's reserves (scaled down to its balances, still at the pool's ratio), and
    otherwise burns ``remove_fraction`` of its shares of that pool. Deposits and withdrawals
    accept any share count or payout (no slippage limits): an LP's exposure to a sandwich of
    its own deposit is not what this agent is for. Labels ``"add_liquidity"`` and
    ``"remove_liquidity"``.

    Args:
        initial_fraction: Set-up deposit as a fraction of each pool's reserves (0: none).
        add_fraction: Later deposits as a fraction of the pool's reserves.
        remove_fraction: Share of its LP shares burnt by a withdrawal.
        add_probability: Chance that a scheduled wake adds rather than withdraws.
        tip: Priority fee per gas in wei.
        **kwargs: Passed to ``Agent`` (give it a ``schedule`` for the later changes).
    """

    def __init__(
        self,
        *args: Any,
        initial_fraction: float = 0.1,
        add_fraction: float = 0.01,
        remove_fraction: float = 0.1,
        add_probability: float = 0.5,
        tip: int = GWEI,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not initial_fraction >= 0:
            raise ValueError(f"initial_fraction must be >= 0, got {initial_fraction}")
        check_positive("add_fraction", add_fraction)
        check_fraction("remove_fraction", remove_fraction)
        check_fraction("add_probability", add_probability, allow_zero=True)
        check_non_negative("tip", tip)
        self.initial_fraction = initial_fraction
        self.add_fraction = add_fraction
        self.remove_fraction = remove_fraction
        self.add_probability = add_probability
        self.tip = tip

    def setup(self, market: Any) -> Sequence[Action]:
        actions: list[Action] = list(market.approvals())
        if self.initial_fraction > 0:
            for pool in market.pools:
                r0, r1 = market.reserves[pool.address]
                amount0 = int(r0 * self.initial_fraction)
                amount1 = amount0 * r1 // r0
                if amount0 > 0 and amount1 > 0:
                    actions.append(self.add(market, pool, amount0, amount1))
        return actions

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason != "schedule" or view.nonce > view.confirmed_nonce:
            return ()
        market = view.market
        pool = market.pools[self.rng.randrange(len(market.pools))]
        if self.rng.random() < self.add_probability:
            r0, r1 = market.reserves[pool.address]
            amount0 = min(
                int(r0 * self.add_fraction), token_balance(view.reader, pool.token0, self.address)
            )
            amount1 = amount0 * r1 // r0
            balance1 = token_balance(view.reader, pool.token1, self.address)
            if amount1 > balance1:
                amount0, amount1 = balance1 * r0 // r1, balance1
            if amount0 <= 0 or amount1 <= 0:
                return ()
            return (self.add(market, pool, amount0, amount1),)
        shares = fraction_of(
            token_balance(view.reader, pool.address, self.address), self.remove_fraction
        )
        if shares <= 0:
            return ()
        return (self.remove(market, pool, shares),)

    def add(self, market: Any, pool: Pool, amount0: int, amount1: int) -> TxIntent:
        """A deposit of exactly ``amount0`` and ``amount1`` into ``pool`` (its venue's call)."""
        call = market.venue_of(pool).encode_add(pool.address, amount0, amount1, self.address)
        return TxIntent(
            to=call.to,
            data=call.data,
            gas=call.gas,
            tip=self.tip,
            label="add_liquidity",
            meta={"pool": pool.address, "amount0": amount0, "amount1": amount1},
        )

    def remove(self, market: Any, pool: Pool, shares: int) -> TxIntent:
        """A withdrawal of ``shares`` of ``pool``'s LP shares (its venue's call)."""
        call = market.venue_of(pool).encode_remove(pool.address, shares, self.address)
        return TxIntent(
            to=call.to,
            data=call.data,
            gas=call.gas,
            tip=self.tip,
            label="remove_liquidity",
            meta={"pool": pool.address, "shares": shares},
        )
