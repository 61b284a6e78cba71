"""Liquidators of a ``CollateralVault``: capital-free (flash loan) or with their own funds.

A liquidation repays part of an unhealthy position's debt and receives its collateral worth
the repaid amount plus a bonus; selling that collateral on the oracle pool for the debt token
turns the bonus into profit, less the pool's fee and price impact. The repayment must be paid
first, which is capital, unless it is borrowed for the length of the transaction: an ERC-3156
flash loan (``contracts/FlashLender.sol``) lends the debt token, the executor
(``contracts/FlashLiquidator.sol``) liquidates, sells, and repays the loan and its fee in the
same transaction, or nothing happened. :class:`FlashLiquidator` holds no tokens at all;
:class:`Liquidator` repays with its own inventory through the same executor.

Strategy, after every block: read every other agent's position at the head (a keeper indexing
the vault's ``Borrowed`` events would find the same borrowers), and for each one over its limit
at the oracle pool's reserves, the repayment earning most: ``repay`` at most the close factor's
share of the debt, at most what keeps the seizure within the collateral, at most what its
source can fund (the lender's balance, or its own), maximising
``amount_out(seize(repay)) - repay - loan fee`` (concave up to the pool's rounding: a ternary
search over the integers, then its neighbours). Net of gas in wei (measured gas of each route),
it sends up to ``max_per_block`` liquidations of different borrowers, most profitable first, each
planned on the reserves after the sales of those before it. The executor's ``minProfit`` is the
gas cost in the debt token (at least 1 unit), so a liquidation a rival took first reverts
instead of losing. Nothing is sent while one of its transactions is pending.

Liquidators all wake a fixed ``reaction_ms`` after a block, and a block's transactions of equal
tip are ordered by arrival, so without ``jitter_ms`` the order of the scenario's agents would
decide every race. With it, each liquidator's delay after the next block is ``reaction_ms``
plus a draw from ``[0, jitter_ms]`` of its own seeded stream (the time it takes to notice the
block and plan): who reaches the builder first is then a seeded draw, as it is for the backrun
races of latency.

Args:
    tip: Priority fee per gas, in wei.
    max_per_block: Most liquidations sent after one block.
    jitter_ms: Most extra delay drawn per block after ``reaction_ms`` (0: none).
    min_profit_wei: Least profit net of gas, in wei, for a liquidation to be sent.
    numeraire: Token the wei valuation walks the pools from (see ``WeiPricer``).
    eth_price: Numeraire per ETH; None when the numeraire is ETH-like (``WETH``).
    prices_wei: Fixed wei per smallest unit by token symbol, overriding the walk.
    **kwargs: Passed to ``Agent`` (``reaction_ms``, ``gas_budget``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent, check_non_negative
from agentbed.agents.erc20 import approve_intent
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.lending import Vault, position_of, vault_of
from agentbed.agents.market.strategies.common import HeadBalances, WeiPricer
from agentbed.agents.market.strategies.flash import DEPLOY_GAS, create_address

BPS = 10_000
LOAN_GAS_USED = 300_000
"""Gas ``liquidateWithLoan`` uses on our pool (measured: 298,517 in the contract tests)."""
OWN_GAS_USED = 212_000
"""Gas ``liquidateWithOwnFunds`` uses (measured: 210,313 in the same test)."""
LIQUIDATION_GAS_LIMIT = 450_000
"""Gas limit of a liquidation (headroom for the 63/64 rule of the nested calls)."""
EXACT_CAP = 2_048
"""Up to this many candidate repayments the search tries them all."""
WINDOW = 64
"""Repayments scanned either side of the ternary search's result."""
_LOAN = function_signature_to_4byte_selector(
    "liquidateWithLoan(address,address,address,uint256,address,uint256)"
)
_OWN = function_signature_to_4byte_selector(
    "liquidateWithOwnFunds(address,address,uint256,address,uint256)"
)


@dataclass(frozen=True, slots=True)
class LiquidationPlan:
    """One liquidation: repay ``repay`` of ``borrower``'s debt, seize ``seized``, sell it for
    ``proceeds``; ``profit`` in the debt token after any loan fee, ``net_wei`` after gas."""

    borrower: str
    repay: int
    seized: int
    proceeds: int
    profit: int
    net_wei: int
    gas_cost_wei: int


def max_repay(vault: Vault, collateral: int, debt: int, r_coll: int, r_debt: int) -> int:
    """The largest repayment the vault accepts: within the close factor, and seizing at most
    the collateral (``seize(r) <= collateral`` solved exactly for the floor)."""
    cfg = vault.config
    by_close = debt * cfg.close_factor_bps // BPS
    by_collateral = ((collateral + 1) * BPS * r_debt - 1) // ((BPS + cfg.bonus_bps) * r_coll)
    return min(by_close, by_collateral)


def best_repay(
    vault: Vault, cap: int, r_coll: int, r_debt: int, fee_bps: int, loan_fee_bps: int
) -> tuple[int, int]:
    """``(repay, profit)`` maximising the profit over ``[1, cap]``; ``(0, 0)`` if none is > 0.

    Exact up to ``EXACT_CAP`` (every repayment is tried). Above it, a ternary search over the
    integers and a scan of ``WINDOW`` repayments either side of its result: the profit is a
    concave function moved by the floors of the seizure, the pool's output and the loan fee, so
    the search can miss the integer optimum by about one unit of collateral's worth (measured:
    at most 5 units of the debt token over 20,000 random small markets without the scan). At
    18-decimal tokens that is a few wei.
    """

    def profit(repay: int) -> int:
        seized = vault.seize(repay, r_coll, r_debt)
        return amount_out(seized, r_coll, r_debt, fee_bps) - repay - repay * loan_fee_bps // BPS

    if cap < 1:
        return 0, 0
    lo, hi = 1, cap
    while hi - lo > EXACT_CAP:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if profit(m1) < profit(m2):
            lo = m1 + 1
        else:
            hi = m2
    if cap > EXACT_CAP:
        mid = (lo + hi) // 2
        lo, hi = max(1, min(lo, mid - WINDOW)), min(cap, max(hi, mid + WINDOW))
    best = max(range(lo, hi + 1), key=lambda r: (profit(r), -r))
    gain = profit(best)
    return (best, gain) if gain > 0 else (0, 0)


class Liquidator(Agent):
    """A liquidator repaying with its own debt tokens (see the module docstring)."""

    wants_blocks = True
    funding = "own"
    """Where the repayment comes from: ``"own"`` inventory or a flash ``"loan"``."""

    def __init__(
        self,
        *args: Any,
        tip: int = GWEI,
        max_per_block: int = 2,
        jitter_ms: int = 0,
        min_profit_wei: int = 0,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_non_negative("tip", tip)
        check_non_negative("min_profit_wei", min_profit_wei)
        check_non_negative("jitter_ms", jitter_ms)
        if max_per_block < 1:
            raise ValueError(f"max_per_block must be >= 1, got {max_per_block}")
        self.tip = tip
        self.max_per_block = max_per_block
        self.jitter_ms = jitter_ms
        self._base_reaction_ms = self.reaction_ms
        self._draw_reaction()
        self.min_profit_wei = min_profit_wei
        self.pricer = WeiPricer(numeraire, eth_price, prices_wei)
        self.executor: str | None = None
        self.borrowers: tuple[str, ...] = ()
        self._balances = HeadBalances()
        self._loan_fee: int | None = None

    def meet(self, directory: Mapping[str, str]) -> None:
        """Every other agent is a possible borrower."""
        self.borrowers = tuple(a for a in directory.values() if a != self.address)

    def setup(self, market: Any) -> Sequence[Action]:
        """Deploy its executor (owner: this agent); with own funds, approve it the debt token."""
        vault = vault_of(market)
        art = market.chain.artifacts.get("FlashLiquidator")
        self.executor = create_address(self.address, market.chain.pending_nonce(self.address))
        data = bytes(art.bytecode) + encode(("address",), (self.address,))
        actions: list[Action] = [TxIntent(to=None, data=data, gas=DEPLOY_GAS, label="setup")]
        if self.funding == "own":
            actions.append(approve_intent(vault.debt, self.executor))
        return tuple(actions)

    def _draw_reaction(self) -> None:
        """Set the delay after the next block (the simulation reads it when a block is sealed)."""
        if self.jitter_ms:
            self.reaction_ms = self._base_reaction_ms + self.rng.randint(0, self.jitter_ms)

    def observe(self, view: AgentView) -> Sequence[Action]:
        self._draw_reaction()
        if self.executor is None or view.nonce > view.confirmed_nonce:
            return ()  # no executor, or its last liquidation is still pending
        vault = vault_of(view.market)
        budget = self._budget(view, vault)
        reserves = vault.reserves(view.market.reserves[vault.pool.address])
        plans = []
        done: set[str] = set()
        for _ in range(self.max_per_block):
            plan = self._best_plan(view, vault, reserves, budget, done)
            if plan is None:
                break
            plans.append(plan)
            done.add(plan.borrower)
            r_coll, r_debt = reserves
            reserves = (r_coll + plan.seized, r_debt - plan.proceeds)
        return tuple(self._intent(view, vault, plan) for plan in plans)

    def _budget(self, view: AgentView, vault: Vault) -> int:
        """Most debt token one liquidation can repay: its own balance."""
        return self._balances.get(view, vault.debt, self.address)

    def _fee_bps(self, view: AgentView) -> int:
        """The loan fee in basis points (none when repaying with its own funds)."""
        return 0

    def _gas_used(self) -> int:
        return OWN_GAS_USED

    def _best_plan(
        self,
        view: AgentView,
        vault: Vault,
        reserves: tuple[int, int],
        budget: int,
        done: set[str],
    ) -> LiquidationPlan | None:
        r_coll, r_debt = reserves
        gas_cost = self._gas_used() * (view.base_fee + self.tip)
        best: LiquidationPlan | None = None
        for borrower in self.borrowers:
            if borrower in done:
                continue
            collateral, debt = position_of(view.reader, vault, borrower)
            if debt <= vault.limit(collateral, r_coll, r_debt):
                continue
            cap = min(max_repay(vault, collateral, debt, r_coll, r_debt), budget)
            repay, profit = best_repay(
                vault, cap, r_coll, r_debt, vault.pool.fee_bps, self._fee_bps(view)
            )
            if repay == 0:
                continue
            seized = vault.seize(repay, r_coll, r_debt)
            proceeds = amount_out(seized, r_coll, r_debt, vault.pool.fee_bps)
            net = self.pricer.wei(view.market, vault.debt, profit) - gas_cost
            plan = LiquidationPlan(borrower, repay, seized, proceeds, profit, net, gas_cost)
            if best is None or plan.net_wei > best.net_wei:
                best = plan
        if best is None or best.net_wei < max(self.min_profit_wei, 1):
            return None
        return best

    def _intent(self, view: AgentView, vault: Vault, plan: LiquidationPlan) -> TxIntent:
        per_unit = self.pricer.wei_per_unit(view.market, vault.debt)
        # Break-even after gas, in the debt token: a liquidation a rival took first reverts.
        floor = max(1, int(plan.gas_cost_wei / per_unit) + 1) if per_unit > 0 else 1
        min_profit = min(floor, plan.profit)
        if self.funding == "loan":
            lender = view.market.flash_lender
            data = _LOAN + encode(
                ("address", "address", "address", "uint256", "address", "uint256"),
                (lender, vault.address, plan.borrower, plan.repay, vault.pool.address, min_profit),
            )
        else:
            data = _OWN + encode(
                ("address", "address", "uint256", "address", "uint256"),
                (vault.address, plan.borrower, plan.repay, vault.pool.address, min_profit),
            )
        meta = {
            "pool": vault.pool.address,
            "borrower": plan.borrower,
            "repay": plan.repay,
            "expected_profit": plan.profit,
            "source": self.funding,
        }
        assert self.executor is not None
        return TxIntent(
            to=self.executor,
            data=data,
            gas=LIQUIDATION_GAS_LIMIT,
            tip=self.tip,
            label="liquidation",
            meta=meta,
        )


class FlashLiquidator(Liquidator):
    """A capital-free liquidator: the repayment is a flash loan of the market's lender."""

    funding = "loan"

    def _budget(self, view: AgentView, vault: Vault) -> int:
        """The lender's balance of the debt token (0 without a lender)."""
        lender = view.market.flash_lender
        return 0 if lender is None else self._balances.get(view, vault.debt, lender)

    def _fee_bps(self, view: AgentView) -> int:
        lender = view.market.flash_lender
        if self._loan_fee is None and lender is not None:  # immutable in the lender: read once
            raw = view.reader.call(lender, function_signature_to_4byte_selector("feeBps()"))
            self._loan_fee = int.from_bytes(raw[:32], "big")
        return self._loan_fee or 0

    def _gas_used(self) -> int:
        return LOAN_GAS_USED
