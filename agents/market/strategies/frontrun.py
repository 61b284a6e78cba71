"""Displacement front-running: copy a profitable pending swap ahead of it, outbidding rivals."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.strategies.common import (
    BPS,
    SWAP_GAS_USED,
    HeadBalances,
    WeiPricer,
    best_arbitrage,
    check_slippage_bps,
    effective_tip,
    hash_hex,
    pool_of,
    reference_price,
)
from agentbed.agents.market.world import SwapCall
from agentbed.chain.types import PoolTx, Receipt

PRICE_BUMP_PERCENT = 10
"""The least raise of tip and fee cap a same-nonce replacement needs (geth's default)."""


@dataclass(frozen=True, slots=True)
class OpenFront:
    """The frontrunner's own pending front-run, as last (re)submitted."""

    victim: bytes
    pool: str
    token_in: str
    nonce: int
    tip: int
    max_fee: int
    cap: int
    """Highest tip per gas it will bid for this opportunity."""
    intent: TxIntent


class Frontrunner(Agent):
    """Copies a visible pending swap that is profitable at the reference price, ahead of it.

    Model (displacement, kept simple): a pending swap that sells token X on a pool where
    selling X earns more than the reference price is a signal that the pool is mispriced. The
    frontrunner sends the same swap — ``size_multiple`` times the victim's input, capped by the
    sale that earns most at the reference price (``best_arbitrage``) and by its balance — ahead
    of the victim. Its value is the copy's output valued at the reference price minus its input
    (in the output token, converted to wei): what the copy earns once the pool is back at the
    reference, whatever the victim's own trade then does (the victim's swap, behind the copy,
    gets a worse price and may revert). It holds what it bought: there is no closing leg, so
    nothing of the value depends on later prices beyond the reference. Swaps that do not pay at
    the reference (uninformed flow at a fair pool) are ignored.

    Bidding: the first bid tips the victim's effective tip plus ``tip_increment`` (or the best
    rival's already visible, plus the increment). When a rival's swap on the same pool and in
    the same direction shows up that would be ordered ahead of its own (higher tip, or equal
    tip and earlier arrival), it replaces its transaction (same nonce) with tip and fee cap
    raised by at least geth's 10 % and above the rival's tip, as long as the tip stays within
    ``max_tip_fraction`` of the value per gas (``reprice``). Two such frontrunners bid each
    other up: a priority gas auction. Its minimum output is the planned output less
    ``slippage_bps``, so the copy that lands second reverts instead of trading at a loss.

    Ordering matters: the bidding assumes priority ordering. Under FIFO no copy can get ahead
    of its victim (it is sent only after the victim has arrived) and tips buy nothing: the
    race between frontrunners goes to whoever arrives first, and a replacement only sends the
    copy to the back of the queue, so run it with ``reprice=False`` there.

    Label ``"front"``, ``meta = {"victim": hash, "expected_profit": int}`` (profit in the
    output token before gas).

    Args:
        tip_increment: How much each bid exceeds the tip it must beat, in wei (> 0).
        max_tip_fraction: Largest share of the expected value it will pay in tips.
        size_multiple: Copy size as a multiple of the victim's input (before the caps).
        slippage_bps: Tolerance of the copy's minimum output below the planned output.
        reprice: Whether to outbid rivals by replacing its transaction.
        min_profit_wei: Least profit net of gas, in wei.
        numeraire: Token the wei valuation walks the pools from (see ``WeiPricer``).
        eth_price: Numeraire per ETH; None when the numeraire is ETH-like (``WETH``).
        prices_wei: Fixed wei per smallest unit by token symbol, overriding the walk.
        **kwargs: Passed to ``Agent``.
    """

    wants_pending = True

    def __init__(
        self,
        *args: Any,
        tip_increment: int = GWEI,
        max_tip_fraction: float = 0.9,
        size_multiple: float = 1.0,
        slippage_bps: int = 0,
        reprice: bool = True,
        min_profit_wei: int = 0,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_positive("tip_increment", tip_increment)
        check_fraction("max_tip_fraction", max_tip_fraction)
        check_positive("size_multiple", size_multiple)
        check_slippage_bps(slippage_bps)
        check_non_negative("min_profit_wei", min_profit_wei)
        self.tip_increment = tip_increment
        self.max_tip_fraction = max_tip_fraction
        self.size_multiple = size_multiple
        self.slippage_bps = slippage_bps
        self.reprice = reprice
        self.min_profit_wei = min_profit_wei
        self.pricer = WeiPricer(numeraire, eth_price, prices_wei)
        self.balances = HeadBalances()
        self.open: OpenFront | None = None
        """Its pending front-run, if any."""

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        trigger = view.trigger
        if view.reason != "pending" or trigger is None:
            return ()
        own = self._own_pending(view)
        if own is None:
            self.open = None  # mined, or never admitted
        if trigger.sender == self.address:
            return ()
        swap = view.market.pending_swap(trigger.tx)
        if swap is None:
            return ()
        if self.open is not None and own is not None:
            return self._outbid(view, trigger, swap, own)
        return self._front(view, trigger, swap)

    def on_receipt(self, receipt: Receipt, label: str) -> None:
        if label == "front":
            self.open = None

    # -- opening -------------------------------------------------------------------------

    def _front(self, view: AgentView, victim: PoolTx, swap: SwapCall) -> Sequence[Action]:
        market = view.market
        pool = pool_of(market, swap.pool)
        if pool is None or swap.token_in not in (pool.token0, pool.token1):
            return ()
        if view.nonce > view.confirmed_nonce:
            return ()  # something of its own is still pending
        reserve_in, reserve_out = market.reserves_for(pool, swap.token_in)
        price = reference_price(market, pool, swap.token_in)
        best, _ = best_arbitrage(reserve_in, reserve_out, pool.fee_bps, price)
        size = min(
            int(swap.amount_in * self.size_multiple),
            best,
            self.balances.get(view, swap.token_in, self.address),
        )
        if size <= 0:
            return ()  # the victim's direction does not pay at the reference, or no funds
        out = amount_out(size, reserve_in, reserve_out, pool.fee_bps)
        profit = out - size * price
        value = self.pricer.wei(market, pool.other(swap.token_in), profit)
        rivals = [
            effective_tip(p, view.base_fee)
            for p in view.pending
            if p.hash != victim.hash and self._same_trade(market, p, swap)
        ]
        tip = max([effective_tip(victim, view.base_fee), *rivals]) + self.tip_increment
        cap = int(self.max_tip_fraction * value) // SWAP_GAS_USED
        if tip > cap or value - SWAP_GAS_USED * (view.base_fee + tip) < self.min_profit_wei:
            return ()
        max_fee = 2 * view.base_fee + tip
        intent = dataclasses.replace(
            market.swap(
                pool,
                swap.token_in,
                size,
                out * (BPS - self.slippage_bps) // BPS,
                self.address,
                tip=tip,
                label="front",
                victim=hash_hex(victim.hash),
                expected_profit=int(profit),
            ),
            max_fee=max_fee,
        )
        self.open = OpenFront(
            victim.hash, pool.address, swap.token_in, view.nonce, tip, max_fee, cap, intent
        )
        return (intent,)

    # -- the auction ---------------------------------------------------------------------

    def _outbid(
        self, view: AgentView, rival: PoolTx, swap: SwapCall, own: PoolTx
    ) -> Sequence[Action]:
        front = self.open
        assert front is not None
        if not self.reprice or swap.pool != front.pool or swap.token_in != front.token_in:
            return ()
        rival_tip = effective_tip(rival, view.base_fee)
        own_tip = effective_tip(own, view.base_fee)
        if (rival_tip, -rival.arrival_ms, -rival.seq) < (own_tip, -own.arrival_ms, -own.seq):
            return ()  # the rival lands behind it anyway
        if not any(p.hash == front.victim for p in view.pending):
            return ()  # the victim is gone: nothing left to win
        bump = 100 + PRICE_BUMP_PERCENT
        tip = max(front.tip * bump // 100, front.tip + 1, rival_tip + self.tip_increment)
        max_fee = max(front.max_fee * bump // 100, front.max_fee + 1, 2 * view.base_fee + tip)
        if tip > front.cap:
            return ()  # beyond what the opportunity is worth to it: let the rival have it
        intent = dataclasses.replace(front.intent, tip=tip, max_fee=max_fee, nonce=front.nonce)
        self.open = dataclasses.replace(front, tip=tip, max_fee=max_fee, intent=intent)
        return (intent,)

    # -- helpers -------------------------------------------------------------------------

    def _own_pending(self, view: AgentView) -> PoolTx | None:
        """Its open front as the pool holds it now, or None when it is no longer pending."""
        if self.open is None:
            return None
        for ptx in view.pending:
            if ptx.sender == self.address and ptx.nonce == self.open.nonce:
                return ptx
        return None

    def _same_trade(self, market: Any, ptx: PoolTx, swap: SwapCall) -> bool:
        """Whether ``ptx`` is another agent's swap on ``swap``'s pool in the same direction."""
        if ptx.sender == self.address:
            return False
        other = market.pending_swap(ptx.tx)
        return other is not None and other.pool == swap.pool and other.token_in == swap.token_in
