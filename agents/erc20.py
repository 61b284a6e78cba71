"""ERC-20 pieces the studies share: approving a spender, and reading ``Transfer`` logs.

Both studies trade mock ERC-20 tokens (the market's pool tokens, the economy's currency), so
the approve an agent sends before a pool or the escrow may pull its tokens, and the one parser
of ``Transfer`` logs that accounting, victim loss and the closure ledger read, live in the
core, where neither study has to import the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.agent import TxIntent

if TYPE_CHECKING:
    from agentbed.chain.types import Log

MAX_UINT = 2**256 - 1
"""The largest ``uint256``: an unlimited allowance, or a deadline that never passes."""
APPROVE_GAS = 60_000
"""Gas limit of an ``approve`` (an allowance write, with room to spare)."""
_APPROVE = function_signature_to_4byte_selector("approve(address,uint256)")
TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
"""Topic 0 of the ERC-20 ``Transfer(address,address,uint256)`` event."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """One ERC-20 ``Transfer`` event: ``amount`` of ``token`` from ``source`` to ``target``."""

    block: int
    token: str
    source: str
    target: str
    amount: int


def transfers(logs: Iterable[Log]) -> Iterator[Transfer]:
    """The ERC-20 ``Transfer`` events among ``logs``, in order.

    A log with the ``Transfer`` topic but not three topics (an ERC-721's has four) or without
    a 32-byte amount is not an ERC-20 transfer and is skipped.
    """
    for log in logs:
        if len(log.topics) != 3 or log.topics[0] != TRANSFER_TOPIC or len(log.data) < 32:
            continue
        yield Transfer(
            block=log.block_number,
            token=log.address,
            source=to_checksum_address(log.topics[1][-20:]),
            target=to_checksum_address(log.topics[2][-20:]),
            amount=int.from_bytes(log.data[:32], "big"),
        )


def approve_calldata(spender: str, amount: int) -> bytes:
    """The calldata of ``approve(spender, amount)``."""
    return _APPROVE + encode(("address", "uint256"), (spender, amount))


def approve_intent(token: str, spender: str) -> TxIntent:
    """An unlimited ERC-20 ``approve`` of ``spender`` on ``token``."""
    return TxIntent(
        to=token, data=approve_calldata(spender, MAX_UINT), gas=APPROVE_GAS, label="approve"
    )
