"""Prices of a market run's holdings in a numeraire, from the market's reference prices at the
end: every token along the chain of pools that connects it to the numeraire, LP shares at
their share of their pool's reserves, and ETH like ``WETH`` unless a price is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils import function_signature_to_4byte_selector

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market

_TOTAL_SUPPLY = function_signature_to_4byte_selector("totalSupply()")
UNIT = 10**18
"""Smallest units per whole token (and wei per ETH)."""


@dataclass(frozen=True, slots=True)
class Valuation:
    """Prices of every holding in a numeraire, from the market's reference prices at the end.

    Attributes:
        numeraire: Symbol of the unit of account.
        prices: Numeraire per whole token (1e18 units), by token or LP-share address.
        eth_price: Numeraire per ETH.
        symbols: Display name by address (token symbols, ``LP:A/B`` for pool shares).
        unpriced: Symbols no chain of pools connects to the numeraire (valued at 0).
    """

    numeraire: str
    prices: Mapping[str, float]
    eth_price: float
    symbols: Mapping[str, str]
    unpriced: tuple[str, ...] = ()

    def value(self, token: str, amount: int) -> float:
        """``amount`` (smallest units) of ``token`` in numeraire units."""
        return amount / UNIT * self.prices.get(token, 0.0)

    def value_eth(self, wei: int) -> float:
        """``wei`` of ETH in numeraire units."""
        return wei / UNIT * self.eth_price

    @classmethod
    def from_market(
        cls, market: Market, numeraire: str, eth_price: float | None = None
    ) -> Valuation:
        """Value tokens along the pools' reference prices, starting from ``numeraire``.

        Args:
            market: The run's market (reference prices as of its last block).
            numeraire: Symbol of the unit of account.
            eth_price: Numeraire per ETH; None values ETH like the ``WETH`` token.

        Raises:
            ValueError: ``numeraire`` is not a market token, or no ETH price can be found.
        """
        if numeraire not in market.tokens:
            raise ValueError(f"numeraire {numeraire!r} is not a market token")
        prices = market.reference_prices(market.tokens[numeraire])
        symbols: dict[str, str] = dict(market.symbols)
        for pool in market.pools:
            symbols[pool.address] = f"LP:{pool.symbol0}/{pool.symbol1}"
            supply = int.from_bytes(market.chain.call(pool.address, _TOTAL_SUPPLY), "big")
            r0, r1 = market.reserves[pool.address]
            if supply > 0:
                worth = r0 / UNIT * prices.get(pool.token0, 0.0) + r1 / UNIT * prices.get(
                    pool.token1, 0.0
                )
                prices[pool.address] = worth / (supply / UNIT)
        unpriced = tuple(sorted(s for a, s in market.symbols.items() if a not in prices))
        if eth_price is None:
            weth = market.tokens.get("WETH")
            if weth is None or weth not in prices:
                raise ValueError("no eth_price given and no priced WETH token to value ETH by")
            eth_price = prices[weth]
        return cls(numeraire, prices, eth_price, symbols, unpriced)
