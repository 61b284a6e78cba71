"""Cheat codes under the names anvil and Hardhat use, mapped onto :class:`Chain` methods.

Only those the chain already has a method for: mining ``n`` blocks. Setting balances, code,
storage or nonces, and impersonation, need state writes the chain does not offer yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

MAX_MINE = 10_000
"""Most blocks one ``anvil_mine`` call seals: each is a full block build, so a typo of a large
count would otherwise hold the server for minutes."""


def mine_blocks(chain: Chain, params: list[Any]) -> None:
    """``anvil_mine`` / ``hardhat_mine([blocks], [interval])``: seal ``blocks`` (default 1).

    Blocks are one simulated block interval apart; an ``interval`` other than that is refused
    rather than ignored.
    """
    raw_blocks, raw_interval = prm.args(params, 0, 2)
    blocks = 1 if raw_blocks is None else prm.quantity(raw_blocks, "blocks")
    if not 0 <= blocks <= MAX_MINE:
        raise InvalidParams(f"blocks must be in 0..{MAX_MINE}, got {blocks}")
    if raw_interval is not None:
        interval = prm.quantity(raw_interval, "interval")
        if interval * 1000 != chain.clock.block_interval_ms:
            raise InvalidParams(
                f"interval {interval} s is not supported: blocks are "
                f"{chain.clock.block_interval_ms / 1000:g} s apart on this chain"
            )
    chain.mine(blocks)


CHEAT_METHODS = {"anvil_mine": mine_blocks, "hardhat_mine": mine_blocks}
"""The cheat codes, for the provider's method table."""
