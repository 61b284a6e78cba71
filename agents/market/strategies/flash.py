"""A capital-free searcher: two-pool arbitrage funded by a flash loan or a flash swap.

The point of a flash loan is a commitment only atomicity makes credible: the lender hands over
its whole balance because the same transaction must give it back (with the fee), or nothing
happened. A searcher therefore needs no inventory for an opportunity that opens and closes in
one transaction. :class:`FlashArbitrageur` holds no tokens at all; it deploys its own
``FlashArbitrage`` executor (``contracts/FlashArbitrage.sol``) at set-up and sends it the cycles
of :mod:`agentbed.agents.market.flash_math`: buy the other token on the pool where it is cheap,
sell it on the pool of the same pair where it is dear, repay, keep the rest.

**Why there is no capital-free sandwicher.** A sandwich's two legs are separate transactions
around the victim's: the front leg must *hold* the bought tokens across a transaction boundary
(the victim's swap) before the back leg sells them. A flash loan must be repaid before its own
transaction ends, so it cannot finance a position that outlives the transaction; a flash swap
likewise settles before its call returns. Putting the three transactions in one bundle does not
change this: a bundle is atomic as a *set* (all included, in order, or none), but each
transaction still executes and settles on its own, so the front leg's loan would still be due
before the victim runs. Doing the front, the victim's trade and the back inside one transaction
would need the victim's signed intent to be executable by the searcher's contract (an intent
settlement, not a sandwich of a public swap). So the sandwich's front leg needs capital, or an
unsecured loan across transactions, which is the credit risk flash loans exist to avoid; we do
not fake one.

Strategy: after every block, the best cycle between any two pools of one pair at the last
block's reserves (label ``"arb"``, tip ``tip``); on every visible pending swap of another agent,
the best cycle between that pool after the swap (if it would succeed; the visible pending swaps a
priority-ordered block would run first applied before it) and the other pools of its pair, sent
with the victim's effective tip so that priority ordering puts it right behind the
victim (label ``"backrun"``, ``meta["victim"]``). For each direction it prices both sources it
may use (``sources``): a loan of ``A`` from the market's lender (at most the lender's balance,
at its fee) and a flash swap out of the buy pool, and it sends the one earning most net of gas
(measured gas of each route). The executor's ``minProfit`` is the gas cost in ``A`` (at least 1
unit), so a cycle a rival already took reverts instead of paying the pools. One public
transaction in flight at a time.

Args:
    tip: Priority fee per gas of block-triggered cycles, in wei.
    sources: Funding it may use: ``"loan"``, ``"flash_swap"`` (none: it never trades).
    backrun: Whether to watch the mempool and backrun swaps.
    arb_on_blocks: Whether to look for a cycle after every block too.
    min_profit_wei: Least profit net of gas, in wei, for a cycle to be sent.
    search_budget: Intervals the exact sizing may examine (see ``flash_math``).
    numeraire: Token the wei valuation walks the pools from (see ``WeiPricer``).
    eth_price: Numeraire per ETH; None when the numeraire is ETH-like (``WETH``).
    prices_wei: Fixed wei per smallest unit by token symbol, overriding the walk.
    **kwargs: Passed to ``Agent`` (``reaction_ms``, ``gas_budget``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent, check_non_negative
from agentbed.agents.market.flash_math import Leg, best_flash_swap, best_loan, loan_profit
from agentbed.agents.market.strategies.common import (
    HeadBalances,
    WeiPricer,
    apply_swap,
    effective_tip,
    hash_hex,
    pool_of,
)
from agentbed.agents.market.world import Pool
from agentbed.chain.types import PoolTx

SOURCES = ("loan", "flash_swap")
"""Names of the funding sources."""
LOAN_GAS_USED = 270_000
"""Gas ``arbitrageWithLoan`` uses on our pools (measured: 268,520 in the searcher's tests)."""
FLASH_SWAP_GAS_USED = 195_000
"""Gas ``arbitrageWithFlashSwap`` uses on our pools (measured: 193,208 in the same tests)."""
CYCLE_GAS_LIMIT = 400_000
"""Gas limit of a cycle transaction (a loan needs headroom: the 63/64 rule of inner calls)."""
DEPLOY_GAS = 1_500_000
"""Gas limit of the executor's deployment."""
_LOAN = function_signature_to_4byte_selector(
    "arbitrageWithLoan(address,address,uint256,address,address,uint256)"
)
_SWAP = function_signature_to_4byte_selector(
    "arbitrageWithFlashSwap(address,address,uint256,address,uint256)"
)


@dataclass(frozen=True, slots=True)
class CycleChoice:
    """One cycle to send: ``source`` funds ``amount`` through ``buy`` then ``sell``.

    ``token`` is ``A`` (sold on the buy pool, and the profit's token); ``amount`` is ``A``
    borrowed for a loan, the other token taken out of ``buy`` for a flash swap. ``profit`` is in
    ``A`` before gas, ``net_wei`` the profit in wei minus the gas it costs.
    """

    source: str
    buy: Pool
    sell: Pool
    token: str
    amount: int
    profit: int
    net_wei: int
    gas_cost_wei: int


def create_address(sender: str, nonce: int) -> str:
    """The address a contract created by ``sender`` at ``nonce`` gets (``CREATE``)."""
    raw = keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))
    return to_checksum_address(raw[12:])


class FlashArbitrageur(Agent):
    """A capital-free two-pool arbitrageur (see the module docstring)."""

    wants_blocks = True
    wants_pending = True

    def __init__(
        self,
        *args: Any,
        tip: int = GWEI,
        sources: Sequence[str] = SOURCES,
        backrun: bool = True,
        arb_on_blocks: bool = True,
        min_profit_wei: int = 0,
        search_budget: int = 200,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_non_negative("tip", tip)
        check_non_negative("min_profit_wei", min_profit_wei)
        if search_budget < 1:
            raise ValueError(f"search_budget must be >= 1, got {search_budget}")
        unknown = sorted(set(sources) - set(SOURCES))
        if unknown:
            raise ValueError(f"sources: unknown {unknown}; expected some of {list(SOURCES)}")
        self.tip = tip
        self.sources = frozenset(sources)
        self.wants_pending = backrun
        self.wants_blocks = arb_on_blocks
        self.min_profit_wei = min_profit_wei
        self.search_budget = search_budget
        self.pricer = WeiPricer(numeraire, eth_price, prices_wei)
        self.executor: str | None = None
        self._lender_balances = HeadBalances()
        self._fee: int | None = None

    def setup(self, market: Any) -> Sequence[Action]:
        """Deploy its own executor (owner: this agent); no approvals, it holds no tokens."""
        art = market.chain.artifacts.get("FlashArbitrage")
        self.executor = create_address(self.address, market.chain.pending_nonce(self.address))
        data = bytes(art.bytecode) + encode(("address",), (self.address,))
        return (TxIntent(to=None, data=data, gas=DEPLOY_GAS, label="setup"),)

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.executor is None or not self.sources or view.nonce > view.confirmed_nonce:
            return ()  # no executor, nothing to fund it with, or its last cycle is pending
        market = view.market
        reserves = dict(market.reserves)
        if view.reason == "pending":
            victim = view.trigger
            if victim is None or victim.sender == self.address:
                return ()
            swap = market.pending_swap(victim.tx)
            pool = pool_of(market, swap.pool if swap else None)
            if swap is None or pool is None:
                return ()
            tip = effective_tip(victim, view.base_fee)
            if not self._apply_ahead(view, reserves, victim, tip):
                return ()  # the victim would revert: it moves no price
            choice = self.best_cycle(view, reserves, tip, only=pool)
            meta = {"victim": hash_hex(victim.hash)}
            return () if choice is None else (self._intent(view, choice, tip, "backrun", meta),)
        choice = self.best_cycle(view, reserves, self.tip)
        return () if choice is None else (self._intent(view, choice, self.tip, "arb", {}),)

    def _apply_ahead(
        self,
        view: AgentView,
        reserves: dict[str, tuple[int, int]],
        victim: PoolTx,
        tip: int,
    ) -> bool:
        """Apply to ``reserves`` the visible pending swaps a priority-ordered block would put
        ahead of a backrun at ``tip`` (a higher tip, or the same tip and an earlier arrival),
        the victim last; False when the victim would revert there."""
        ahead = []
        for ptx in view.pending:
            other = effective_tip(ptx, view.base_fee)
            if ptx.sender == self.address or ptx.hash == victim.hash:
                continue
            if other > tip or (other == tip and ptx.seq < victim.seq):
                ahead.append((-other, ptx.seq, ptx))
        ahead.sort(key=lambda entry: entry[:2])
        for ptx in [entry[2] for entry in ahead] + [victim]:
            swap = view.market.pending_swap(ptx.tx)
            pool = pool_of(view.market, swap.pool if swap else None)
            if swap is None or pool is None:
                continue
            after = apply_swap(
                reserves[pool.address], pool, swap.token_in, swap.amount_in, swap.min_amount_out
            )
            if after is not None:
                reserves[pool.address] = after
            elif ptx is victim:
                return False
        return True

    def best_cycle(
        self,
        view: AgentView,
        reserves: Mapping[str, tuple[int, int]],
        tip: int,
        only: Pool | None = None,
    ) -> CycleChoice | None:
        """The cycle earning most net of gas over every ordered pair of pools of one pair (those
        involving ``only``, if given), both directions and the allowed sources; None when none
        clears ``min_profit_wei``."""
        market = view.market
        best: CycleChoice | None = None
        for buy in market.pools:
            for sell in market.pools:
                if buy is sell or {buy.token0, buy.token1} != {sell.token0, sell.token1}:
                    continue
                if only is not None and only not in (buy, sell):
                    continue
                for token in (buy.token0, buy.token1):
                    for choice in self._choices(view, reserves, buy, sell, token, tip):
                        if best is None or choice.net_wei > best.net_wei:
                            best = choice
        if best is None or best.net_wei < max(self.min_profit_wei, 1):
            return None
        return best

    def _choices(
        self,
        view: AgentView,
        reserves: Mapping[str, tuple[int, int]],
        buy: Pool,
        sell: Pool,
        token: str,
        tip: int,
    ) -> list[CycleChoice]:
        other = buy.other(token)
        b0, b1 = reserves[buy.address]
        s0, s1 = reserves[sell.address]
        buy_leg = Leg(*((b0, b1) if token == buy.token0 else (b1, b0)), buy.fee_bps)
        sell_leg = Leg(*((s0, s1) if other == sell.token0 else (s1, s0)), sell.fee_bps)
        found: list[tuple[str, int, int, int]] = []
        lender = view.market.flash_lender
        if "loan" in self.sources and lender is not None:
            fee = self._lender_fee(view, lender)
            plan = best_loan(buy_leg, sell_leg, fee, self.search_budget)
            cap = self._lender_balances.get(view, token, lender)
            if plan is not None and cap > 0:
                amount = min(plan.amount, cap)  # concave: the cap is the best size below it
                profit = loan_profit(amount, buy_leg, sell_leg, fee)
                if profit > 0:
                    found.append(("loan", amount, profit, LOAN_GAS_USED))
        if "flash_swap" in self.sources:
            plan = best_flash_swap(buy_leg, sell_leg, self.search_budget)
            if plan is not None:
                found.append(("flash_swap", plan.amount, plan.profit, FLASH_SWAP_GAS_USED))
        choices = []
        for source, amount, profit, gas in found:
            gas_cost = gas * (view.base_fee + tip)
            net = self.pricer.wei(view.market, token, profit) - gas_cost
            choices.append(CycleChoice(source, buy, sell, token, amount, profit, net, gas_cost))
        return choices

    def _lender_fee(self, view: AgentView, lender: str) -> int:
        if self._fee is None:  # immutable in the lender: read once
            raw = view.reader.call(lender, function_signature_to_4byte_selector("feeBps()"))
            self._fee = int.from_bytes(raw[:32], "big")
        return self._fee

    def _intent(
        self, view: AgentView, choice: CycleChoice, tip: int, label: str, meta: dict[str, Any]
    ) -> TxIntent:
        per_unit = self.pricer.wei_per_unit(view.market, choice.token)
        # Break-even after gas, in A: a cycle a rival already took reverts instead of losing.
        min_profit = max(1, int(choice.gas_cost_wei / per_unit) + 1) if per_unit > 0 else 1
        min_profit = min(min_profit, choice.profit)
        if choice.source == "loan":
            lender = view.market.flash_lender
            args = (lender, choice.token, choice.amount, choice.buy.address, choice.sell.address)
            data = _LOAN + encode(
                ("address", "address", "uint256", "address", "address", "uint256"),
                (*args, min_profit),
            )
        else:
            out = choice.buy.other(choice.token)
            data = _SWAP + encode(
                ("address", "address", "uint256", "address", "uint256"),
                (choice.buy.address, out, choice.amount, choice.sell.address, min_profit),
            )
        full = {
            "pool": choice.buy.address,
            "sell_pool": choice.sell.address,
            "source": choice.source,
            "expected_profit": choice.profit,
            **meta,
        }
        assert self.executor is not None
        return TxIntent(
            to=self.executor, data=data, gas=CYCLE_GAS_LIMIT, tip=tip, label=label, meta=full
        )
