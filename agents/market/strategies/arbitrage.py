"""Arbitrage against the reference price, and backrunning of price-moving swaps."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from agentbed.agents.agent import (
    GWEI,
    Action,
    Agent,
    AgentView,
    BundleIntent,
    TxIntent,
    check_fraction,
    check_non_negative,
)
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.strategies.common import (
    BPS,
    SWAP_GAS_USED,
    WeiPricer,
    apply_swap,
    best_arbitrage,
    check_mode,
    effective_tip,
    fraction_of,
    hash_hex,
    oriented,
    pool_of,
    reference_price,
    token_balance,
)
from agentbed.agents.market.world import Pool


@dataclass(frozen=True, slots=True)
class ArbPlan:
    """One arbitrage trade: sell ``amount_in`` of ``token_in`` on ``pool``.

    ``profit`` is in the bought token, valued at the reference price, before gas;
    ``profit_wei`` is the same in wei.
    """

    pool: Pool
    token_in: str
    amount_in: int
    min_out: int
    profit: Fraction
    profit_wei: int


class Arbitrageur(Agent):
    """Trades each pool back toward the market's reference price; backruns price-moving swaps.

    **Arbitrage** (after every block): a pool whose price ``reserve1 / reserve0`` deviates
    from the reference by more than ``threshold_bps`` is traded toward the reference: the sale
    of the overpriced side that earns most when its output is valued at the reference price
    (found within the sale ``swap_to_price`` gives for the reference itself; it stops short of
    the reference by about the fee, where further units no longer pay). The minimum output is
    the break-even at the reference, so a trade that another searcher pre-empts reverts rather
    than losing. The trade is sent when its profit, in wei, exceeds the gas it costs at the next
    base fee plus ``tip`` by ``min_profit_wei``. Label ``"arb"``.

    **Backrun** (``backrun=True``, on every visible pending swap of another agent): the
    pool's reserves after that swap (if it would succeed at the last block's reserves) are
    arbitraged the same way, and the trade is placed right behind the victim: in mode
    ``"fee"`` with exactly the victim's effective tip (priority ordering breaks the tie by
    arrival, so it lands after the victim; FIFO puts it after anyway); in mode ``"bundle"`` as
    a private bundle ``[victim raw tx, backrun]`` whose backrun tip pays the builder
    ``bribe_fraction`` of the expected profit. Label ``"backrun"``, ``meta["victim"]`` the
    victim's hash.

    Model and limits: plans use the reserves of the last block (other pending swaps are not
    anticipated), the balance of the token sold at the head, and at most one public trade in
    flight: while one of its transactions is pending, it sends no other public one.

    Args:
        threshold_bps: Least deviation from the reference, in basis points, worth a look.
        tip: Priority fee per gas of plain arbitrage trades, in wei.
        backrun: Whether to watch the mempool and backrun swaps.
        mode: ``"fee"`` (public backruns) or ``"bundle"`` (private bundles).
        bribe_fraction: In bundle mode, share of the expected profit paid to the builder.
        min_profit_wei: Least profit net of gas, in wei, for a trade to be sent.
        max_trade_fraction: Largest share of its balance of a token it sells in one trade.
        numeraire: Token the wei valuation walks the pools from (see ``WeiPricer``).
        eth_price: Numeraire per ETH; None when the numeraire is ETH-like (``WETH``).
        prices_wei: Fixed wei per smallest unit by token symbol, overriding the walk.
        **kwargs: Passed to ``Agent`` (``reaction_ms``, ``gas_budget``, ...).
    """

    wants_blocks = True
    wants_pending = True

    def __init__(
        self,
        *args: Any,
        threshold_bps: int = 10,
        tip: int = GWEI,
        backrun: bool = True,
        mode: str = "fee",
        bribe_fraction: float = 0.5,
        min_profit_wei: int = 0,
        max_trade_fraction: float = 1.0,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_non_negative("threshold_bps", threshold_bps)
        check_non_negative("tip", tip)
        check_mode(mode)
        check_fraction("bribe_fraction", bribe_fraction, allow_zero=True)
        check_fraction("max_trade_fraction", max_trade_fraction)
        check_non_negative("min_profit_wei", min_profit_wei)
        self.threshold_bps = threshold_bps
        self.tip = tip
        self.wants_pending = backrun
        self.mode = mode
        self.bribe_fraction = bribe_fraction
        self.min_profit_wei = min_profit_wei
        self.max_trade_fraction = max_trade_fraction
        self.pricer = WeiPricer(numeraire, eth_price, prices_wei)

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason == "pending":
            return self._backrun(view)
        if view.nonce > view.confirmed_nonce:
            return ()  # its last trade is not mined yet: the reserves it sees are stale
        balances: dict[str, int] = {}
        actions: list[Action] = []
        for pool in view.market.pools:
            plan = self.plan(view, pool, view.market.reserves[pool.address], balances)
            if plan is None or not self._pays(view, plan, self.tip):
                continue
            balances[plan.token_in] -= plan.amount_in
            actions.append(self._intent(view, plan, self.tip, "arb", {}))
        return actions

    def plan(
        self,
        view: AgentView,
        pool: Pool,
        reserves: tuple[int, int],
        balances: dict[str, int] | None = None,
    ) -> ArbPlan | None:
        """The best trade toward the reference on ``pool`` at ``reserves``, before gas.

        Args:
            view: The agent's view (market, reader).
            pool: The pool.
            reserves: ``(reserve0, reserve1)`` to plan against.
            balances: Balances already read (and spent) during this wake, by token; filled
                in as needed.

        Returns:
            The plan, or None below the threshold or when no sale pays.
        """
        market = view.market
        r0, r1 = reserves
        if r0 <= 0 or r1 <= 0:
            return None
        ref = Fraction(market.reference[pool.address])
        ratio = Fraction(r1, r0) / ref
        if abs(ratio - 1) * BPS <= self.threshold_bps:
            return None
        token_in = pool.token0 if ratio > 1 else pool.token1
        r_in, r_out = oriented(reserves, pool, token_in)
        price = reference_price(market, pool, token_in)
        amount, profit = best_arbitrage(r_in, r_out, pool.fee_bps, price)
        if amount == 0:
            return None
        if balances is None:
            balances = {}
        if token_in not in balances:
            balances[token_in] = token_balance(view.reader, token_in, self.address)
        available = fraction_of(balances[token_in], self.max_trade_fraction)
        if amount > available:
            amount = available
            profit = amount_out(amount, r_in, r_out, pool.fee_bps) - amount * price
            if amount <= 0 or profit <= 0:
                return None
        min_out = -(-amount * price.numerator // price.denominator)  # break-even, rounded up
        profit_wei = self.pricer.wei(market, pool.other(token_in), profit)
        return ArbPlan(pool, token_in, amount, min_out, profit, profit_wei)

    def _pays(self, view: AgentView, plan: ArbPlan, tip: int) -> bool:
        gas_cost = SWAP_GAS_USED * (view.base_fee + tip)
        return plan.profit_wei - gas_cost >= self.min_profit_wei and plan.profit_wei > gas_cost

    def _intent(
        self, view: AgentView, plan: ArbPlan, tip: int, label: str, meta: dict[str, Any]
    ) -> TxIntent:
        intent = view.market.swap(
            plan.pool,
            plan.token_in,
            plan.amount_in,
            plan.min_out,
            self.address,
            tip=tip,
            label=label,
        )
        full = {"pool": plan.pool.address, "expected_profit": int(plan.profit), **meta}
        return dataclasses.replace(intent, meta=full)

    def _backrun(self, view: AgentView) -> Sequence[Action]:
        victim = view.trigger
        if victim is None or victim.sender == self.address:
            return ()
        if self.mode == "fee" and view.nonce > view.confirmed_nonce:
            return ()
        swap = view.market.pending_swap(victim.tx)
        pool = pool_of(view.market, swap.pool if swap else None)
        if swap is None or pool is None or swap.token_in not in (pool.token0, pool.token1):
            return ()
        after = apply_swap(
            view.market.reserves[pool.address],
            pool,
            swap.token_in,
            swap.amount_in,
            swap.min_amount_out,
        )
        if after is None:
            return ()  # the victim would revert: it moves no price
        plan = self.plan(view, pool, after)
        if plan is None:
            return ()
        meta = {"victim": hash_hex(victim.hash)}
        if self.mode == "fee":
            tip = effective_tip(victim, view.base_fee)
            if not self._pays(view, plan, tip):
                return ()
            return (self._intent(view, plan, tip, "backrun", meta),)
        tip = int(self.bribe_fraction * plan.profit_wei) // SWAP_GAS_USED
        if not self._pays(view, plan, tip):
            return ()
        backrun = self._intent(view, plan, tip, "backrun", meta)
        return (BundleIntent(items=(victim.tx.raw, backrun), label="backrun"),)
