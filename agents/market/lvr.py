"""Loss-versus-rebalancing (LVR) of each pool, next to what the arbitrageurs made on it.

The benchmark is Milionis, Moallemi, Roughgarden and Zhang, "Automated Market Making and
Loss-Versus-Rebalancing" (2022, arXiv:2208.06046): a *rebalancing strategy* holds, at every
moment, the same quantity of the risky token as the pool, but makes each of its trades at the
external (reference) price instead of the pool's. LVR is the value of that portfolio minus the
value of the pool's holdings; it is the part of the liquidity providers' loss that the pool
hands to better-informed traders (arbitrageurs), before fees.

Discrete version used here (per block, ex post, exact amounts). For a pool with tokens
``token0``/``token1`` let ``p_n`` be the market's reference price (token1 per token0) in force
while block ``n`` was built — the price the block's traders saw, recorded by
:class:`RecordingMarket` before the walk steps after the block. Each swap in block ``n`` pays
the pool ``a`` of its input token, of which the fee ``a·f`` (``f = fee_bps / 10000``) stays in
the pool as fee income and ``a·(1 - f)`` moves the pool along its curve, and takes ``b`` of the
output token. With ``Δ0, Δ1`` the curve change of the pool's reserves (fee excluded), the
rebalancing strategy makes the same trade ``Δ0`` at ``p_n``, so its cash changes by
``-Δ0·p_n`` while the pool's changes by ``Δ1``. Both hold the same risky quantity at all times,
so the difference of their values is the difference of their cash:

    LVR = Σ_n Σ_{swaps in block n} -(Δ0·p_n + Δ1)            (in token1)
    fees = Σ_n Σ_{swaps in block n} fee0·p_n + fee1           (in token1)

and the pool's liquidity providers end ``LVR - fees`` behind the rebalancing strategy on the
pool's trades (Milionis et al.'s "LP P&L = fees - LVR"). Liquidity added or removed is not a
trade: the rebalancing strategy is handed the same deposit, so it cancels and is left out.
Swaps come from the pools' ``Swap`` logs, as the accounting read them (``RunAccount.swaps``),
so the figure does not depend on which agent sent what.

The same paper's closed form gives an *ideal* benchmark computed from the price path and the
pool's liquidity alone: a fee-less constant-product pool with liquidity ``L = √(x·y)`` that
arbitrageurs bring exactly to the reference price each block loses, when the price moves from
``p_{n-1}`` to ``p_n``,

    LVR_n = L·√p_{n-1}·(√(p_n / p_{n-1}) - 1)²                (in token1)

(its reserves go from ``(L/√p_{n-1}, L·√p_{n-1})`` to ``(L/√p_n, L·√p_n)``; insert into the
formula above). ``L`` is taken from the pool's reserves before block ``n``. The ideal figure says
what the path alone makes available; the ex-post one what the pool actually gave up.

Every figure is converted from token1 into the scenario's numeraire at the run's valuation
prices (the final reference prices, like every profit in the report). The arbitrageurs'
realised profit on a pool is, for the agents of kind ``arbitrageur`` or ``flash_arbitrageur``
(whose flash swaps count as the swaps they amount to), what their swaps on that
pool paid out minus what they paid in, at the same valuation prices, minus the gas of their
transactions sent to that pool (reverted ones included); what cannot be put on one pool (e.g.
direct payments to the block producer, or the gas of a cycle sent to a flash executor) is
reported as unattributed, so that the per-pool rows
and the unattributed rest add up to the accounting's arbitrageur profit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from agentbed.agents.market.mev import SwapEvent
from agentbed.agents.market.world import Market, Pool

if TYPE_CHECKING:
    from agentbed.agents.market.accounting import RunAccount
    from agentbed.agents.sim import Simulation
    from agentbed.chain.types import Block, Receipt

ARBITRAGEUR_KIND = "arbitrageur"
"""The scenario kind whose realised profit is set against LVR."""
ARBITRAGEUR_KINDS = frozenset({ARBITRAGEUR_KIND, "flash_arbitrageur"})
"""Every kind set against LVR: capital-free arbitrage (flash loans and swaps) counts too; its
gas, paid to its executor rather than to a pool, falls in the part no pool accounts for."""
_BPS = 10_000


@dataclass(frozen=True, slots=True)
class BlockState:
    """A pool-market's state as one block was built.

    Attributes:
        block: The block number.
        reference: Each pool's reference price (token1 per token0) in force while the block
            was built, by pool address.
        reserves: Each pool's reserves before the block, by pool address.
    """

    block: int
    reference: Mapping[str, float]
    reserves: Mapping[str, tuple[int, int]]


class RecordingMarket(Market):
    """A :class:`Market` that also records, per block, the reference prices in force while the
    block was built and the reserves before it (``path``), for LVR after the run.

    The market steps its reference walk after each block; recording before that step gives the
    price the block's traders saw. Recording changes nothing the agents see.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path: list[BlockState] = []

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Record the block's state, then follow it as the market does."""
        self.path.append(BlockState(block.number, dict(self.reference), dict(self.reserves)))
        super().on_block(block, receipts)


@dataclass(frozen=True, slots=True)
class PoolTrade:
    """One swap as the pool saw it, in the pool's token order.

    Attributes:
        block: The block it landed in.
        delta0: Change of reserve0 along the curve (fee excluded).
        delta1: Change of reserve1 along the curve (fee excluded).
        fee0: Fee kept by the pool in token0.
        fee1: Fee kept by the pool in token1.
    """

    block: int
    delta0: Fraction
    delta1: Fraction
    fee0: Fraction = Fraction(0)
    fee1: Fraction = Fraction(0)


def pool_trade(swap: SwapEvent, pool: Pool) -> PoolTrade:
    """``swap`` (on ``pool``) as the pool's curve change and fee.

    Raises:
        ValueError: the swap is not on ``pool`` or sells neither of its tokens.
    """
    if swap.pool != pool.address or swap.token_in not in (pool.token0, pool.token1):
        raise ValueError(f"swap in tx 0x{swap.tx_hash.hex()} is not a trade of pool {pool.address}")
    fee = Fraction(swap.amount_in * pool.fee_bps, _BPS)
    moved = swap.amount_in - fee
    if swap.token_in == pool.token0:
        return PoolTrade(swap.block, moved, Fraction(-swap.amount_out), fee0=fee)
    return PoolTrade(swap.block, Fraction(-swap.amount_out), moved, fee1=fee)


def trade_lvr(trade: PoolTrade, price: float) -> float:
    """The rebalancing strategy's gain over the pool on one trade at reference ``price``
    (token1 per token0), in token1 smallest units: ``-(Δ0·p + Δ1)``."""
    exact = Fraction(price)
    return float(-(trade.delta0 * exact + trade.delta1))


def trade_fee(trade: PoolTrade, price: float) -> float:
    """The fee the pool kept on one trade, in token1 smallest units at ``price``."""
    return float(trade.fee0 * Fraction(price) + trade.fee1)


def ideal_lvr(reserves: tuple[int, int], before: float, after: float) -> float:
    """Closed-form LVR (token1 units) of a fee-less constant-product pool with the liquidity
    of ``reserves``, brought from reference price ``before`` to ``after``:
    ``L·√before·(√(after/before) - 1)²`` with ``L = √(reserve0·reserve1)``."""
    if before <= 0 or after <= 0:
        raise ValueError(f"reference prices must be positive, got {before} and {after}")
    liquidity = math.sqrt(reserves[0]) * math.sqrt(reserves[1])
    return liquidity * math.sqrt(before) * (math.sqrt(after / before) - 1.0) ** 2


@dataclass(frozen=True, slots=True)
class PoolLvr:
    """One pool's LVR figures over the measured blocks, in token1 smallest units.

    Attributes:
        swaps: Swaps on the pool.
        lvr: Ex-post LVR of all its swaps.
        fees: Fees the pool kept.
        ideal: The closed-form benchmark of a fee-less pool tracking the reference.
        by_actor: Ex-post LVR per sender of the swaps.
    """

    swaps: int
    lvr: float
    fees: float
    ideal: float
    by_actor: Mapping[str, float]


def pool_lvr(
    pool: Pool, swaps: Iterable[SwapEvent], path: Sequence[BlockState], blocks: Sequence[int]
) -> PoolLvr:
    """``pool``'s LVR over ``blocks`` (see the module docstring).

    Args:
        pool: The pool.
        swaps: Swaps decoded from the measured blocks (other pools' are skipped).
        path: The recorded states, in block order, covering ``blocks``.
        blocks: The measured block numbers.

    Raises:
        ValueError: a measured block with a swap on the pool has no recorded reference price.
    """
    state = {s.block: s for s in path}
    measured = set(blocks)
    lvr = fees = 0.0
    count = 0
    by_actor: dict[str, float] = defaultdict(float)
    for swap in swaps:
        if swap.pool != pool.address or swap.block not in measured:
            continue
        if swap.block not in state:
            raise ValueError(f"no reference price recorded for block {swap.block}")
        price = state[swap.block].reference[pool.address]
        trade = pool_trade(swap, pool)
        gain = trade_lvr(trade, price)
        lvr += gain
        fees += trade_fee(trade, price)
        by_actor[swap.actor] += gain
        count += 1
    ideal = 0.0
    for number in sorted(measured):
        now, previous = state.get(number), state.get(number - 1)
        if now is None or previous is None:
            continue  # the first recorded block has no price move before it
        before, after = previous.reference[pool.address], now.reference[pool.address]
        ideal += ideal_lvr(now.reserves[pool.address], before, after)
    return PoolLvr(count, lvr, fees, ideal, dict(by_actor))


def arbitrageurs(sim: Simulation, account: RunAccount) -> set[str]:
    """Addresses of the run's agents of an arbitrageur kind (:data:`ARBITRAGEUR_KINDS`)."""
    names = {a.name for a in account.agents if a.kind in ARBITRAGEUR_KINDS}
    return {str(a.address) for a in sim.agents if a.name in names}


def _arbitrage_by_pool(
    sim: Simulation,
    account: RunAccount,
    swaps: Sequence[SwapEvent],
    receipts: Sequence[Receipt],
    pools: Mapping[str, Pool],
) -> tuple[dict[str, float], float]:
    """(realised arbitrage profit per pool address, accounting's total arbitrageur profit)."""
    valuation = account.valuation
    addresses = arbitrageurs(sim, account)
    by_pool: dict[str, float] = defaultdict(float)
    for swap in swaps:
        if swap.actor in addresses and swap.pool in pools:
            token_out = pools[swap.pool].other(swap.token_in)
            by_pool[swap.pool] += valuation.value(token_out, swap.amount_out) - valuation.value(
                swap.token_in, swap.amount_in
            )
    for receipt in receipts:
        if receipt.sender in addresses and receipt.to in pools:
            paid = receipt.gas_used * receipt.effective_gas_price
            by_pool[str(receipt.to)] -= valuation.value_eth(paid)
    total = sum(a.profit for a in account.agents if a.kind in ARBITRAGEUR_KINDS)
    return dict(by_pool), total


def lvr_summary(sim: Simulation, market: RecordingMarket, account: RunAccount) -> dict[str, Any]:
    """The ``lvr`` block of a run's ``summary.json``: per pool, LVR (ex post and ideal), fees
    and the arbitrageurs' realised profit, in the numeraire; and the arbitrageurs' profit the
    pools do not account for.

    Args:
        sim: The finished simulation.
        market: Its market, with the recorded path.
        account: The run's accounting (valuation prices and arbitrageurs' profit).
    """
    numbers = [m.number for m in sim.metrics]
    receipts = [r for n in numbers for r in sim.chain.receipts(n)]
    swaps = account.swaps
    pools = {p.address: p for p in market.pools}
    arbitrage, total = _arbitrage_by_pool(sim, account, swaps, receipts, pools)
    arb_addresses = arbitrageurs(sim, account)
    value = account.valuation.value
    rows = []
    for pool in market.pools:
        figures = pool_lvr(pool, swaps, market.path, numbers)
        by_arbs = sum(v for actor, v in figures.by_actor.items() if actor in arb_addresses)
        rows.append(
            {
                "pool": f"{pool.symbol0}/{pool.symbol1}",
                "address": pool.address,
                "swaps": figures.swaps,
                "lvr": value(pool.token1, round(figures.lvr)),
                "fees": value(pool.token1, round(figures.fees)),
                "lvr_ideal": value(pool.token1, round(figures.ideal)),
                "lvr_arbitrageur_swaps": value(pool.token1, round(by_arbs)),
                "arbitrage_profit": arbitrage.get(pool.address, 0.0),
            }
        )
    return {
        "pools": rows,
        "arbitrage_profit": total,
        "arbitrage_unattributed": total - sum(arbitrage.values()),
    }
