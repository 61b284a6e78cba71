"""Venues: the kinds of pool a market can hold, each behind the ``Venue`` protocol.

:data:`DEPLOYERS` is the registry a scenario's ``[[pools]]`` ``venue`` key is checked
against: our ``ConstantProductPool`` (``"constant-product"``, the default, deployed by
``Market.deploy`` itself with its ``PoolFactory``) and Uniswap v2 (``"uniswap-v2"``). A third
venue is one module with a class implementing :class:`Venue` and a ``deploy_pools`` function,
and one line here (see docs/scenarios.md, "Writing a venue").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from agentbed.agents.market.venues import uniswap_v2_build
from agentbed.agents.market.venues.constant_product import ConstantProductVenue
from agentbed.agents.market.venues.protocol import (
    DEFAULT_VENUE,
    EncodedCall,
    LogDecoder,
    PendingDecoder,
    Pool,
    PoolSpec,
    SwapCall,
    SwapLog,
    Venue,
)
from agentbed.agents.market.venues.uniswap_v2 import UniswapV2Venue

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.node import Chain

PoolDeployer = Callable[
    ["Chain", "LocalAccount", Mapping[str, str], Sequence[PoolSpec]], tuple[Venue, list[Pool]]
]
"""``deploy_pools(chain, owner, tokens by symbol, specs) -> (venue, pools in spec order)``."""

DEPLOYERS: Mapping[str, PoolDeployer | None] = MappingProxyType(
    {
        DEFAULT_VENUE: None,  # Market.deploy's own PoolFactory path
        "uniswap-v2": uniswap_v2_build.deploy_pools,
    }
)
"""Pool deployers by venue key (None: deployed by ``Market.deploy`` itself)."""
VENUE_NAMES: tuple[str, ...] = tuple(DEPLOYERS)
"""The venue keys a scenario may name."""

__all__ = [
    "DEFAULT_VENUE",
    "DEPLOYERS",
    "VENUE_NAMES",
    "ConstantProductVenue",
    "EncodedCall",
    "LogDecoder",
    "PendingDecoder",
    "Pool",
    "PoolSpec",
    "SwapCall",
    "SwapLog",
    "UniswapV2Venue",
    "Venue",
]
