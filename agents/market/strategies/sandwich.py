"""Sandwich attacks on visible pending swaps, by tip bidding or by private bundle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentbed.agents.agent import (
    GWEI,
    Action,
    Agent,
    AgentView,
    BundleIntent,
    check_fraction,
    check_non_negative,
    check_positive,
)
from agentbed.agents.market.amm_math import SandwichPlan
from agentbed.agents.market.sandwich_math import closed_form_sandwich
from agentbed.agents.market.strategies.bidding import (
    SwapSeen,
    first_price_fraction,
    sandwich_senders,
)
from agentbed.agents.market.strategies.common import (
    SWAP_GAS_USED,
    HeadBalances,
    WeiPricer,
    check_mode,
    effective_tip,
    fraction_of,
    hash_hex,
    pool_of,
)
from agentbed.agents.market.world import Pool, SwapCall
from agentbed.chain.types import PoolTx


class Sandwicher(Agent):
    """Sandwiches visible pending swaps: buy ahead of the victim, sell right after it.

    For a pending swap of another agent that sells ``a`` of token X with minimum output ``m``,
    the plan is ``agentbed.agents.market.sandwich_math.closed_form_sandwich`` at the last block's
    reserves: the front-run
    size (at most ``max_front_fraction`` of its X balance and ``max_front_in``) that maximises
    ``back_out - front_in`` while the victim still gets at least ``m``, so the victim never
    reverts because of the plan. The profit is in X; it is valued in wei at the reference price
    and must exceed the gas of both legs (and their tips) by ``min_profit_wei``.

    Modes:

    * ``"fee"`` (for priority ordering): front and back go to the public mempool. The front's
      tip is the victim's effective tip plus ``tip_increment``, so priority ordering puts it
      ahead; the back's tip is the victim's own tip, so it ties with the victim and loses the
      tie on arrival time: it lands right after the victim (a lower tip would also let every
      other swap at the victim's tip in between). The plan assumes nothing else touches the
      pool in between, so a victim is skipped while any other visible pending tx on its pool
      pays at least the victim's tip, and only one sandwich is in flight at a time.
    * ``"bundle"``: a private bundle ``[front, victim's raw tx, back]`` for the next block; both
      legs tip a share of the expected profit, spread over their gas: its bid in the builder's
      sealed-bid, first-price auction, which includes the best-paying of the bundles on one
      victim (a policy without bundles drops them). The share is ``bribe_fraction`` when given;
      otherwise the first-price rule ``(n - 1) / n`` of ``agentbed.agents.market.strategies.
      bidding`` for ``n`` bidders, itself and ``rivals`` (when given) or the other senders it has
      seen sandwich a trade on the market's pools since the start (it sees who won, never the
      sealed bids), and at least ``min_bid_fraction``. The builder drops the bundle if any leg
      (or the victim) would revert. Several bundles for one block (for different victims) are
      alternatives: they reuse the same nonces, so at most one lands.

    Guards: the front's minimum output is exactly the planned output (if the pool moved first,
    it reverts rather than push the victim past its limit); the back's minimum output is the
    front's input (it never closes at a loss before gas; if it reverts, the tokens bought stay
    with the sandwicher).

    Labels ``"front"`` and ``"back"``, ``meta = {"victim": hash, "expected_profit": int}`` (profit
    in the victim's input token, before gas).

    Args:
        mode: ``"fee"`` or ``"bundle"``.
        tip_increment: Fee mode: how much the front's tip exceeds the victim's, in wei.
        bribe_fraction: Bundle mode: share of the expected profit paid to the builder; None
            (default) bids by the first-price rule against the rivals it counts.
        rivals: Bundle mode with the first-price rule: the number of rival bidders, taken as
            known; None (default) counts the rivals it has seen win.
        min_bid_fraction: Bundle mode with the first-price rule: the least share it bids, also
            when it sees no rival. A bid of nothing would leave the builder indifferent among
            its alternatives for one block (they share nonces) and let it pick a worse one;
            a bid in proportion to the value makes the builder pick its best.
        max_front_fraction: Largest share of its balance of the victim's input token to use.
        max_front_in: Absolute cap on the front-run input (None for none).
        min_profit_wei: Least profit net of gas, in wei.
        search_budget: Profit evaluations the plan's exact check may spend. It binds only
            where the closed form's proven window is wider than this (a victim whose limit
            does not bind, in a large pool: the profit is flat within rounding over many
            sizes); the window is then searched by branch and bound within the budget, and
            the plan may fall short of the optimum by its (small) ``optimality_gap``.
        numeraire: Token the wei valuation walks the pools from (see ``WeiPricer``).
        eth_price: Numeraire per ETH; None when the numeraire is ETH-like (``WETH``).
        prices_wei: Fixed wei per smallest unit by token symbol, overriding the walk.
        **kwargs: Passed to ``Agent``.
    """

    wants_pending = True

    def __init__(
        self,
        *args: Any,
        mode: str = "fee",
        tip_increment: int = GWEI,
        bribe_fraction: float | None = None,
        rivals: int | None = None,
        min_bid_fraction: float = 0.01,
        max_front_fraction: float = 1.0,
        max_front_in: int | None = None,
        min_profit_wei: int = 0,
        search_budget: int = 1_000,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_mode(mode)
        check_positive("tip_increment", tip_increment)
        if bribe_fraction is not None:
            check_fraction("bribe_fraction", bribe_fraction, allow_zero=True)
        if rivals is not None:
            check_non_negative("rivals", rivals)
        check_fraction("min_bid_fraction", min_bid_fraction, allow_zero=True)
        check_fraction("max_front_fraction", max_front_fraction)
        check_non_negative("min_profit_wei", min_profit_wei)
        check_positive("search_budget", search_budget)
        if max_front_in is not None and max_front_in <= 0:
            raise ValueError(f"max_front_in must be > 0 (or None), got {max_front_in}")
        self.mode = mode
        self.tip_increment = tip_increment
        self.bribe_fraction = bribe_fraction
        self.rivals = rivals
        self.min_bid_fraction = min_bid_fraction
        self.rivals_seen: set[str] = set()
        """Other senders it has seen sandwich a trade (first-price rule, ``rivals`` None)."""
        self.max_front_fraction = max_front_fraction
        self.max_front_in = max_front_in
        self.min_profit_wei = min_profit_wei
        self.search_budget = search_budget
        self.pricer = WeiPricer(numeraire, eth_price, prices_wei)
        self.balances = HeadBalances()

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.mode == "bundle" and self.bribe_fraction is None and self.rivals is None:
            self._watch_rivals(view)
        victim = view.trigger
        if view.reason != "pending" or victim is None or victim.sender == self.address:
            return ()
        swap = view.market.pending_swap(victim.tx)
        pool = pool_of(view.market, swap.pool if swap else None)
        if swap is None or pool is None or swap.token_in not in (pool.token0, pool.token1):
            return ()
        if self.mode == "fee" and (
            view.nonce > view.confirmed_nonce or self._crowded(view, victim, pool)
        ):
            return ()
        plan = self.plan(view, pool, swap)
        if plan is None:
            return ()
        value = self.pricer.wei(view.market, swap.token_in, plan.profit)
        gas = 2 * SWAP_GAS_USED
        if self.mode == "fee":
            victim_tip = effective_tip(victim, view.base_fee)
            front_tip, back_tip = victim_tip + self.tip_increment, victim_tip
        else:
            front_tip = back_tip = int(self.bid_fraction() * value) // gas
        cost = SWAP_GAS_USED * (2 * view.base_fee + front_tip + back_tip)
        if value <= cost or value - cost < self.min_profit_wei:
            return ()
        market = view.market
        meta = {"victim": hash_hex(victim.hash), "expected_profit": plan.profit}
        token_out = pool.other(swap.token_in)
        front = market.swap(
            pool,
            swap.token_in,
            plan.front_in,
            plan.front_out,
            self.address,
            tip=front_tip,
            label="front",
            **meta,
        )
        back = market.swap(
            pool,
            token_out,
            plan.back_in,
            plan.front_in,
            self.address,
            tip=back_tip,
            label="back",
            **meta,
        )
        if self.mode == "fee":
            return (front, back)
        return (BundleIntent(items=(front, victim.tx.raw, back), label="sandwich"),)

    def plan(self, view: AgentView, pool: Pool, swap: SwapCall) -> SandwichPlan | None:
        """The most profitable sandwich of ``swap`` at the last block's reserves, or None."""
        reserve_in, reserve_out = view.market.reserves_for(pool, swap.token_in)
        cap = fraction_of(
            self.balances.get(view, swap.token_in, self.address), self.max_front_fraction
        )
        if self.max_front_in is not None:
            cap = min(cap, self.max_front_in)
        if cap <= 0:
            return None
        return closed_form_sandwich(
            reserve_in,
            reserve_out,
            pool.fee_bps,
            swap.amount_in,
            swap.min_amount_out,
            max_front_in=cap,
            budget=self.search_budget,
        )

    def bid_fraction(self) -> float:
        """Bundle mode: the share of the expected profit it bids to the builder."""
        if self.bribe_fraction is not None:
            return self.bribe_fraction
        rivals = self.rivals if self.rivals is not None else len(self.rivals_seen)
        return max(first_price_fraction(1 + rivals), self.min_bid_fraction)

    def _watch_rivals(self, view: AgentView) -> None:
        """Add the senders that sandwiched a trade in the blocks sealed since it last woke."""
        if not view.new_blocks:
            return
        numbers = {block.number for block in view.new_blocks}
        swaps = []
        for pool in view.market.pools:
            for log in view.reader.logs(address=pool.address):
                event = log.event
                # Pools whose Swap names no input token (a Uniswap v2 pair) are not read.
                if (
                    log.block_number in numbers
                    and event is not None
                    and event.name == "Swap"
                    and "tokenIn" in event.args
                ):
                    swaps.append(
                        SwapSeen(
                            log.block_number,
                            (log.tx_index, log.log_index),
                            pool.address,
                            str(event.args["sender"]).lower(),
                            str(event.args["tokenIn"]).lower(),
                            int(event.args["amountIn"]),
                            int(event.args["amountOut"]),
                        )
                    )
        self.rivals_seen |= sandwich_senders(swaps) - {self.address.lower()}

    def _crowded(self, view: AgentView, victim: PoolTx, pool: Pool) -> bool:
        """Whether another visible pending tx on the pool could land inside the sandwich.

        A rival solver's settlement to the same intent book as a settlement victim does not
        count: solvers race to settle the same open intents, and whichever settlement lands
        first makes the same planned swap while the other finds the nonces used and reverts
        (on a Revert book at the nonce check; on a Skip book its intents are skipped and its
        swap, with nothing pulled to pay for it, reverts), leaving the pool as it was.
        """
        floor = effective_tip(victim, view.base_fee)
        board = view.market.intent_board
        book = board.book.lower() if board is not None else None
        to_book = book is not None and str(victim.tx.to).lower() == book
        return any(
            ptx.hash != victim.hash
            and ptx.sender != self.address
            and effective_tip(ptx, view.base_fee) >= floor
            and not (to_book and str(ptx.tx.to).lower() == book)
            and view.market.touches(ptx.tx, pool)
            for ptx in view.pending
        )
