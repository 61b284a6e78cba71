"""ERC-20 calls the studies' worlds share: approving a spender, and the amount "unlimited".

Both studies trade mock ERC-20 tokens (the market's pool tokens, the economy's currency), so
the approve an agent sends before a pool or the escrow may pull its tokens lives in the core,
where neither study has to import the other to build it.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import TxIntent

MAX_UINT = 2**256 - 1
"""The largest ``uint256``: an unlimited allowance, or a deadline that never passes."""
APPROVE_GAS = 60_000
"""Gas limit of an ``approve`` (an allowance write, with room to spare)."""
_APPROVE = function_signature_to_4byte_selector("approve(address,uint256)")


def approve_calldata(spender: str, amount: int) -> bytes:
    """The calldata of ``approve(spender, amount)``."""
    return _APPROVE + encode(("address", "uint256"), (spender, amount))


def approve_intent(token: str, spender: str) -> TxIntent:
    """An unlimited ERC-20 ``approve`` of ``spender`` on ``token``."""
    return TxIntent(
        to=token, data=approve_calldata(spender, MAX_UINT), gas=APPROVE_GAS, label="approve"
    )
