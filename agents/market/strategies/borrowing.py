"""A borrower of a ``CollateralVault``: deposits its collateral and borrows close to the limit.

At set-up it deposits ``deposit_fraction`` of its collateral-token balance and borrows a draw
from ``[ltv_low, ltv_high]`` (its own seeded stream) of the vault's limit at the oracle pool's
price then, keeping what it borrowed. A position at a fraction ``u`` of its limit becomes
liquidatable when the oracle price falls by ``1 - u``, and is under water (bad debt) below
``u · collateral factor`` of its opening price: the draw spreads the borrowers over those
thresholds. It sends nothing during the run (no top-ups, no repayment): the positions are the
liquidators' opportunities.

Args:
    ltv_low: Lowest draw, a fraction of the limit in (0, 1].
    ltv_high: Highest draw, in [ltv_low, 1].
    deposit_fraction: Share of its collateral balance deposited, in (0, 1].
    **kwargs: Passed to ``Agent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import Action, Agent, TxIntent, check_fraction
from agentbed.agents.erc20 import approve_intent
from agentbed.agents.market.lending import vault_of
from agentbed.agents.market.strategies.common import token_balance

DEPOSIT_GAS = 120_000
"""Gas limit of a deposit (about 75,000 used)."""
BORROW_GAS = 150_000
"""Gas limit of a borrow (about 90,000 used: it reads the oracle pool)."""
_DEPOSIT = function_signature_to_4byte_selector("deposit(uint256)")
_BORROW = function_signature_to_4byte_selector("borrow(uint256)")


class Borrower(Agent):
    """Opens one position at set-up and holds it (see the module docstring)."""

    def __init__(
        self,
        *args: Any,
        ltv_low: float = 0.85,
        ltv_high: float = 0.99,
        deposit_fraction: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_fraction("ltv_low", ltv_low)
        check_fraction("ltv_high", ltv_high)
        check_fraction("deposit_fraction", deposit_fraction)
        if ltv_high < ltv_low:
            raise ValueError(f"ltv_high must be >= ltv_low ({ltv_low}), got {ltv_high}")
        self.ltv_low = ltv_low
        self.ltv_high = ltv_high
        self.deposit_fraction = deposit_fraction
        self.ltv: float | None = None
        """The drawn fraction of the limit borrowed (set at set-up)."""

    def setup(self, market: Any) -> Sequence[Action]:
        """Approve the vault, deposit, borrow the drawn share of the limit."""
        vault = vault_of(market)
        held = token_balance(market.chain, vault.collateral, self.address)
        deposit = int(Fraction(self.deposit_fraction) * held)
        self.ltv = self.rng.uniform(self.ltv_low, self.ltv_high)
        if deposit <= 0:
            return ()
        r_coll, r_debt = vault.reserves(market.reserves[vault.pool.address])
        borrow = int(Fraction(self.ltv) * vault.limit(deposit, r_coll, r_debt))
        actions: list[Action] = [
            approve_intent(vault.collateral, vault.address),
            TxIntent(
                to=vault.address,
                data=_DEPOSIT + encode(("uint256",), (deposit,)),
                gas=DEPOSIT_GAS,
                label="setup",
            ),
        ]
        if borrow > 0:
            data = _BORROW + encode(("uint256",), (borrow,))
            actions.append(TxIntent(to=vault.address, data=data, gas=BORROW_GAS, label="setup"))
        return tuple(actions)
