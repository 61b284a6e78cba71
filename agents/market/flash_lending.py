"""Flash liquidity in a market scenario: the ``[flash]`` table and the lender it deploys.

``[flash]`` puts an ERC-3156 lender (``contracts/FlashLender.sol``) next to the pools: its fee in
basis points (``fee_bps``) and the tokens it holds to lend (``liquidity``, whole tokens by
symbol, minted straight to the lender before the run). An empty ``liquidity`` deploys a lender
with nothing to lend, the "no flash liquidity" side of ``scenarios/flash.toml``. The lender's
address is the market's ``flash_lender``; the capital-free searchers
(:mod:`agentbed.agents.market.strategies.flash`) borrow from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentbed.agents.config import Table, token_amount

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.market.world import Market

MAX_FEE_BPS = 1_000
"""``FlashLender.MAX_FEE_BPS``: the contract refuses a higher fee."""


@dataclass(frozen=True, slots=True)
class FlashConfig:
    """The ``[flash]`` table.

    Attributes:
        fee_bps: The lender's fee per loan, in basis points of the amount.
        liquidity: Wei of each token (by symbol) the lender holds to lend.
    """

    fee_bps: int = 9
    liquidity: Mapping[str, int] = field(default_factory=dict)


def parse_flash(table: Table, symbols: Sequence[str]) -> FlashConfig:
    """The ``[flash]`` table; ``symbols`` are the pools' tokens (the only ones it can lend)."""
    table.expect(("fee_bps", "liquidity"))
    fee = table.integer("fee_bps", 9, minimum=0)
    if fee > MAX_FEE_BPS:
        raise table.error("fee_bps", f"expected an integer in [0, {MAX_FEE_BPS}], got {fee}")
    amounts = table.table("liquidity")
    liquidity: dict[str, int] = {}
    for symbol in sorted(amounts.data):
        if symbol not in symbols:
            raise amounts.error(symbol, f"expected a pool token ({', '.join(symbols)})")
        liquidity[symbol] = token_amount(amounts, symbol)
    return FlashConfig(fee, liquidity)


def deploy_lender(
    market: Market, config: FlashConfig, *, deployer: LocalAccount | None = None
) -> str:
    """Deploy the lender, mint its liquidity to it, and set ``market.flash_lender``."""
    owner = deployer or market.chain.accounts[0]
    lender = market.chain.deploy("FlashLender", config.fee_bps, owner.address, sender=owner)
    address = str(lender.address)
    market.fund({address: dict(config.liquidity)}, minter=owner)
    market.flash_lender = address
    return address
