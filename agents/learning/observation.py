"""A learner's view of a market, encoded as a fixed-size vector of floats.

The layout (``layout`` names every entry; ``docs/learning.md`` has the table):

* 4 globals: the next block's base fee (gwei), seconds since the head block, the learner's own
  pending transactions (next free nonce minus the confirmed nonce), its ETH balance (ETH);
* one entry per token (by symbol, sorted): the learner's balance in whole tokens;
* 3 per pool (scenario order): reserve0 and reserve1 in whole tokens, and the pool's
  mispricing, ``log(pool price / reference price)`` in basis points;
* 7 per visible pending swap slot (``top_n`` slots): present (1/0), pool index, side (1 when it
  sells token1), size (its input over the pool's reserve of that token, in basis points), its
  effective tip at the next base fee (gwei), its edge (what selling its token at the pool's
  marginal price earns over the reference, less the pool fee, in basis points: a copy of it pays
  only when this is positive), and its age (seconds since it arrived).

The slots hold other agents' single-hop swaps on the market's pools, largest size first (ties:
earlier arrival, then hash); empty slots are zeros. :func:`visible_swaps` is the same ranking,
for the action decoder to find a slot's swap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbed.agents.market.strategies.common import effective_tip, token_balance

if TYPE_CHECKING:
    import numpy as np

    from agentbed.agents.agent import AgentView
    from agentbed.agents.market.venues.protocol import SwapCall
    from agentbed.agents.market.world import Market, Pool
    from agentbed.chain.types import PoolTx

UNIT = 10**18
GLOBALS = ("base_fee_gwei", "since_block_s", "own_pending", "eth")
POOL_FEATURES = ("reserve0", "reserve1", "mispricing_bps")
SLOT_FEATURES = ("present", "pool", "sells_token1", "size_bps", "tip_gwei", "edge_bps", "age_s")


@dataclass(frozen=True, slots=True)
class VisibleSwap:
    """A pending swap as a learner sees it.

    Attributes:
        ptx: The pending transaction.
        swap: The swap it makes.
        pool: Its pool.
        pool_index: The pool's index in the scenario.
        size_bps: Its input over the pool's reserve of the sold token, in basis points.
    """

    ptx: PoolTx
    swap: SwapCall
    pool: Pool
    pool_index: int
    size_bps: float


def layout(symbols: tuple[str, ...], pools: int, top_n: int) -> tuple[str, ...]:
    """The name of every entry of the observation vector, in order."""
    names = list(GLOBALS)
    names += [f"balance_{s}" for s in symbols]
    names += [f"pool{i}_{f}" for i in range(pools) for f in POOL_FEATURES]
    names += [f"slot{i}_{f}" for i in range(top_n) for f in SLOT_FEATURES]
    return tuple(names)


def visible_swaps(view: AgentView, market: Market, own: str) -> tuple[VisibleSwap, ...]:
    """Other agents' pending single-hop swaps in ``view``, largest relative size first."""
    index = {p.address: i for i, p in enumerate(market.pools)}
    found: list[VisibleSwap] = []
    for ptx in view.pending:
        if ptx.sender == own:
            continue
        swap = market.pending_swap(ptx.tx)
        if swap is None:
            continue
        pool = market.by_address[swap.pool]
        reserve_in, _ = market.reserves_for(pool, swap.token_in)
        size = swap.amount_in / reserve_in * 10_000 if reserve_in > 0 else 0.0
        found.append(VisibleSwap(ptx, swap, pool, index[pool.address], size))
    found.sort(key=lambda v: (-v.size_bps, v.ptx.arrival_ms, v.ptx.seq, v.ptx.hash))
    return tuple(found)


def edge_bps(market: Market, pool: Pool, token_in: str) -> float:
    """What selling ``token_in`` at the pool's marginal price earns over the reference, less the
    pool's fee, in basis points."""
    mispricing = math.log(market.price(pool) / market.reference[pool.address]) * 10_000
    sign = 1.0 if token_in == pool.token0 else -1.0
    return sign * mispricing - pool.fee_bps


def encode(
    view: AgentView, market: Market, own: str, top_n: int, swaps: tuple[VisibleSwap, ...]
) -> np.ndarray[Any, Any]:
    """The observation vector of the learner at ``own`` (float32, ``layout``'s order)."""
    import numpy as np

    values: list[float] = [
        view.base_fee / 1e9,
        (view.now_ms - view.head.timestamp_ms) / 1000,
        float(view.nonce - view.confirmed_nonce),
        view.reader.balance(own) / UNIT,
    ]
    for symbol in sorted(market.tokens):
        values.append(token_balance(view.reader, market.tokens[symbol], own) / UNIT)
    for pool in market.pools:
        r0, r1 = market.reserves[pool.address]
        values += [
            r0 / UNIT,
            r1 / UNIT,
            math.log(market.price(pool) / market.reference[pool.address]) * 10_000,
        ]
    for slot in range(top_n):
        if slot >= len(swaps):
            values += [0.0] * len(SLOT_FEATURES)
            continue
        seen = swaps[slot]
        values += [
            1.0,
            float(seen.pool_index),
            float(seen.swap.token_in == seen.pool.token1),
            seen.size_bps,
            effective_tip(seen.ptx, view.base_fee) / 1e9,
            edge_bps(market, seen.pool, seen.swap.token_in),
            (view.now_ms - seen.ptx.arrival_ms) / 1000,
        ]
    return np.asarray(values, dtype=np.float32)
