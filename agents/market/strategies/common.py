"""What the searcher strategies share: reading balances, reference prices and valuing in wei.

Searchers weigh a profit in some token against gas paid in ETH, so every token needs a price
in wei. Prices follow the market's reference prices along the pools from a *numeraire* token,
and the numeraire's own ETH price is either given (``eth_price``, numeraire per ETH) or taken
to be 1 when the numeraire is ``WETH`` (the same convention as
``agentbed.agents.market.accounting``). The mock
tokens all have 18 decimals, like ETH, so "numeraire per ETH" is also "numeraire units per wei".
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.market.amm_math import amount_out, swap_to_price

if TYPE_CHECKING:
    from agentbed.agents.agent import AgentView, ChainReader
    from agentbed.agents.market.world import Market, Pool
    from agentbed.chain.types import PoolTx

BPS = 10_000
SWAP_GAS_USED = 80_000
"""Gas a ``swapExactIn`` uses (about 76,800 measured), for weighing gas against profit."""
_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")


def token_balance(reader: ChainReader, token: str, owner: str) -> int:
    """``owner``'s balance of the ERC-20 ``token`` at the head."""
    raw = reader.call(token, _BALANCE_OF + encode(("address",), (owner,)))
    (balance,) = decode(("uint256",), raw)
    return int(balance)


class HeadBalances:
    """One owner's token balances at the head, each read once per head block.

    Searchers size a trade by their balance on every visible pending swap, but the head state,
    and so the balance, only changes when a block is sealed: one ``balanceOf`` call per token
    and block is enough.
    """

    def __init__(self) -> None:
        self._head: bytes | None = None
        self._balances: dict[str, int] = {}

    def get(self, view: AgentView, token: str, owner: str) -> int:
        """``owner``'s balance of ``token`` at ``view``'s head."""
        if view.head.hash != self._head:
            self._head = view.head.hash
            self._balances = {}
        if token not in self._balances:
            self._balances[token] = token_balance(view.reader, token, owner)
        return self._balances[token]


def hash_hex(tx_hash: bytes) -> str:
    """A tx hash as ``0x``-hex, the form searchers put in ``meta["victim"]``."""
    return "0x" + tx_hash.hex()


def reference_price(market: Market, pool: Pool, token_in: str) -> Fraction:
    """Units of the pool's other token one unit of ``token_in`` is worth at the reference."""
    ref = Fraction(market.reference[pool.address])  # exact value of the float
    return ref if token_in == pool.token0 else 1 / ref


def fraction_of(amount: int, fraction: float) -> int:
    """``floor(amount * fraction)`` for a fraction in [0, 1], never above ``amount``.

    The float product can round above a large integer (above 2**53), which would plan a trade
    bigger than the balance; the exact rational of the float does not.
    """
    return min(amount, int(Fraction(fraction) * amount))


def check_slippage_bps(slippage_bps: int) -> None:
    """Raise ValueError unless ``slippage_bps`` is in [0, ``BPS``)."""
    if not 0 <= slippage_bps < BPS:
        raise ValueError(f"slippage_bps must be in [0, {BPS}), got {slippage_bps}")


def random_trade(
    rng: random.Random, market: Any, mean_size: float, size_sigma: float, relative: bool
) -> tuple[Pool, str, int]:
    """A random pool, side and log-normal size, as the order-flow agents draw them.

    Returns:
        ``(pool, token_in, amount_in)``; the amount is a fraction of the pool's reserve of
        ``token_in`` when ``relative``, else absolute (it may round to 0).
    """
    pool: Pool = market.pools[rng.randrange(len(market.pools))]
    token_in = pool.token0 if rng.random() < 0.5 else pool.token1
    reserve_in, _ = market.reserves_for(pool, token_in)
    size = math.exp(rng.gauss(math.log(mean_size), size_sigma))
    return pool, token_in, int(size * reserve_in) if relative else int(size)


def check_mode(mode: str) -> None:
    """Raise ValueError unless ``mode`` is ``"fee"`` or ``"bundle"``."""
    if mode not in ("fee", "bundle"):
        raise ValueError(f"mode must be 'fee' or 'bundle', got {mode!r}")


class WeiPricer:
    """Values token amounts in wei of ETH from the market's current reference prices.

    Args:
        numeraire: Symbol of the token the pool graph is walked from.
        eth_price: Numeraire per ETH; None means the numeraire is worth one wei per unit
            (right for ``WETH``).
        prices_wei: Fixed wei per smallest unit by symbol, overriding the walk.
    """

    def __init__(
        self,
        numeraire: str = "WETH",
        eth_price: float | None = None,
        prices_wei: Mapping[str, float] | None = None,
    ) -> None:
        if eth_price is not None and not eth_price > 0:
            raise ValueError(f"eth_price must be > 0, got {eth_price}")
        for symbol, price in (prices_wei or {}).items():
            if not price > 0:
                raise ValueError(f"prices_wei[{symbol!r}] must be > 0, got {price}")
        self.numeraire = numeraire
        self.eth_price = eth_price
        self.prices_wei = dict(prices_wei or {})

    def wei_per_unit(self, market: Market, token: str) -> float:
        """Wei one smallest unit of ``token`` is worth now.

        Raises:
            ValueError: no fixed price, and no chain of pools joins the token to the numeraire.
        """
        symbol = market.symbols.get(token, token)
        if symbol in self.prices_wei:
            return self.prices_wei[symbol]
        numeraire = market.tokens.get(self.numeraire)
        price = market.reference_prices(numeraire).get(token) if numeraire is not None else None
        if price is None:
            raise ValueError(
                f"cannot value {symbol} in wei: no pool path to numeraire {self.numeraire!r};"
                " set the strategy's numeraire, eth_price or prices_wei"
            )
        return price / (self.eth_price if self.eth_price is not None else 1.0)

    def wei(self, market: Market, token: str, amount: int | Fraction) -> int:
        """``amount`` of ``token`` in wei (rounded down; negative amounts give negative wei)."""
        return int(float(amount) * self.wei_per_unit(market, token))


def best_arbitrage(r_in: int, r_out: int, fee_bps: int, price: Fraction) -> tuple[int, Fraction]:
    """The sale of token-in that earns most against the reference, and what it earns.

    ``price`` is the reference value of one unit of token-in in token-out. The profit of selling
    ``a`` is ``amount_out(a) - a * price`` (in token-out), concave in ``a``; the sale that
    brings the pool exactly to the reference (``swap_to_price``) bounds it from above, since
    past that point every further unit sells below the reference. Within ``[0, bound]`` a
    ternary search over the integers finds the optimum (up to the pool's one-unit rounding).

    Returns:
        ``(amount_in, profit)``; ``(0, 0)`` when no sale of this token beats the reference.
    """
    bound = swap_to_price(r_in, r_out, fee_bps, price.numerator, price.denominator)

    def profit(a: int) -> Fraction:
        return amount_out(a, r_in, r_out, fee_bps) - a * price

    lo, hi = 0, bound
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if profit(m1) < profit(m2):
            lo = m1 + 1
        else:
            hi = m2
    best = max(range(lo, hi + 1), key=lambda a: (profit(a), -a))
    gain = profit(best)
    return (best, gain) if gain > 0 else (0, Fraction(0))


def apply_swap(
    reserves: tuple[int, int], pool: Pool, token_in: str, amount_in: int, min_out: int
) -> tuple[int, int] | None:
    """Pool reserves ``(reserve0, reserve1)`` after a swap, or None if the swap would revert."""
    r0, r1 = reserves
    if amount_in <= 0 or r0 <= 0 or r1 <= 0:
        return None
    if token_in == pool.token0:
        out = amount_out(amount_in, r0, r1, pool.fee_bps)
        return (r0 + amount_in, r1 - out) if out >= max(min_out, 1) else None
    out = amount_out(amount_in, r1, r0, pool.fee_bps)
    return (r0 - out, r1 + amount_in) if out >= max(min_out, 1) else None


def oriented(reserves: tuple[int, int], pool: Pool, token_in: str) -> tuple[int, int]:
    """``(reserve of token_in, reserve of the other token)``."""
    r0, r1 = reserves
    return (r0, r1) if token_in == pool.token0 else (r1, r0)


def effective_tip(ptx: PoolTx, base_fee: int) -> int:
    """The tip ``ptx`` pays per gas at ``base_fee`` (0 if it cannot pay the base fee)."""
    return max(0, ptx.tx.effective_tip(base_fee))


def pool_of(market: Any, address: str | None) -> Pool | None:
    """The market's pool at ``address``, if any."""
    if address is None:
        return None
    pool: Pool | None = market.by_address.get(address)
    return pool
