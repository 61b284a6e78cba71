"""Interval mining for the node server: a block every ``Chain.mining_interval_ms`` of wall time.

``evm_setIntervalMining`` / ``anvil_setIntervalMining`` only record the interval on the chain
(:meth:`agentbed.chain.cheats.ChainCheats.set_interval_mining`); a running
:class:`agentbed.chain.server.NodeServer` runs :func:`mine_on_interval` next to its handlers.
The wall clock decides only *when* a block is sealed, never what it holds: each block's
timestamp and contents come from the simulated clock and the pool, as for ``evm_mine``. The
task runs on the server's event loop, like the request handlers, so a block is never sealed
in the middle of a request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

IDLE_POLL_S = 0.1
"""How often the task looks for a newly set interval while none is set."""

Sleep = Callable[[float], Awaitable[None]]

_log = logging.getLogger(__name__)


async def mine_on_interval(
    chain: Chain, *, sleep: Sleep = asyncio.sleep, ticks: int | None = None
) -> None:
    """Seal one block per interval while ``chain.mining_interval_ms`` is set; until cancelled.

    A block is sealed only if the interval did not change during the wait (a new interval
    starts a fresh wait). A failing block is logged, never raised: the server keeps serving.

    Args:
        chain: The served chain.
        sleep: Waits the given seconds (tests pass one that does not wait).
        ticks: Stop after this many waits (tests); None runs until cancelled.
    """
    while ticks is None or ticks > 0:
        if ticks is not None:
            ticks -= 1
        interval = chain.mining_interval_ms
        await sleep(IDLE_POLL_S if interval is None else interval / 1000)
        if interval is None or chain.mining_interval_ms != interval:
            continue
        try:
            chain.mine()
        except Exception:  # a bug in one block must not stop the node's mining for good
            _log.exception("interval mining: sealing a block failed")
