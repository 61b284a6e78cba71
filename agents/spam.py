"""A demand shock: bursts of gas-heavy transactions that fill blocks and push the base fee up.

The spammer only sends transfers to itself, so it needs no study's contracts: every study
offers it as its ``spammer`` kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent
from agentbed.chain.fees import (
    FLOOR_GAS_PER_TOKEN,
    NONZERO_BYTE_TOKENS,
    TX_DATA_NONZERO_GAS,
    TX_GAS,
)


def payload_gas(payload_bytes: int) -> int:
    """Gas of a plain transfer carrying ``payload_bytes`` non-zero calldata bytes (Prague).

    The larger of the standard calldata cost and EIP-7623's floor, which for non-zero bytes
    is the floor: 21,000 + 40 per byte.
    """
    per_byte = max(TX_DATA_NONZERO_GAS, FLOOR_GAS_PER_TOKEN * NONZERO_BYTE_TOKENS)
    return TX_GAS + per_byte * payload_bytes


class Spammer(Agent):
    """Sends bursts of junk transactions during a window of blocks: a demand shock.

    After each block whose number within the run (1 = the first block after set-up) is in
    ``[start_block, end_block)``, it sends ``txs_per_block`` zero-value transfers to itself,
    each carrying ``payload_bytes`` of non-zero calldata (gas-heavy but cheap to execute, like
    inscription spam), with priority fee ``tip`` and fee cap ``fee_cap_multiple`` times the
    next base fee plus the tip. Once the blocks are full, EIP-1559 raises the base fee 12.5 %
    per block; spam whose fee cap falls below it waits in the pool. It stops adding while
    ``max_pending`` of its transactions are unmined. Label ``"spam"``.

    Args:
        txs_per_block: Transactions per burst.
        start_block: First run block after which it bursts (>= 0; 0 also bursts at the start
            when it has a schedule).
        end_block: Run block from which it stops (None: never stops).
        payload_bytes: Calldata bytes per transaction.
        tip: Priority fee per gas in wei.
        fee_cap_multiple: Fee cap as a multiple of the next base fee (plus the tip), >= 1.
        max_pending: Most of its transactions in the pool at once.
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(
        self,
        *args: Any,
        txs_per_block: int = 100,
        start_block: int = 1,
        end_block: int | None = None,
        payload_bytes: int = 4_096,
        tip: int = GWEI,
        fee_cap_multiple: float = 2.0,
        max_pending: int = 1_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if txs_per_block <= 0:
            raise ValueError(f"txs_per_block must be > 0, got {txs_per_block}")
        if start_block < 0:
            raise ValueError(f"start_block must be >= 0, got {start_block}")
        if end_block is not None and end_block <= start_block:
            raise ValueError(f"end_block ({end_block}) must be > start_block ({start_block})")
        if payload_bytes < 0:
            raise ValueError(f"payload_bytes must be >= 0, got {payload_bytes}")
        if tip < 0:
            raise ValueError(f"tip must be >= 0, got {tip}")
        if not fee_cap_multiple >= 1:
            raise ValueError(f"fee_cap_multiple must be >= 1, got {fee_cap_multiple}")
        if max_pending <= 0:
            raise ValueError(f"max_pending must be > 0, got {max_pending}")
        self.txs_per_block = txs_per_block
        self.start_block = start_block
        self.end_block = end_block
        self.payload = b"\xff" * payload_bytes
        self.gas = payload_gas(payload_bytes)
        self.tip = tip
        self.fee_cap_multiple = fee_cap_multiple
        self.max_pending = max_pending
        self.first_block: int | None = None
        """Chain number of the block before the run's first (learnt on the first wake)."""

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.first_block is None:
            self.first_block = view.head.number - len(view.new_blocks)
        run_block = view.head.number - self.first_block
        if run_block < self.start_block or (
            self.end_block is not None and run_block >= self.end_block
        ):
            return ()
        room = self.max_pending - (view.nonce - view.confirmed_nonce)
        count = min(self.txs_per_block, room)
        max_fee = int(self.fee_cap_multiple * view.base_fee) + self.tip
        if count <= 0 or not self.can_afford(self.gas * count, max_fee):
            return ()
        spam = TxIntent(
            to=self.address,
            data=self.payload,
            gas=self.gas,
            tip=self.tip,
            max_fee=max_fee,
            label="spam",
        )
        return (spam,) * count
