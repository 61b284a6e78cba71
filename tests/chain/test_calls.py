"""Gas estimation: the estimate is a gas limit the chain's own pool admits."""

from __future__ import annotations

import pytest

from agentbed.chain.errors import GasEstimationFailed
from agentbed.chain.node import Chain

DEAD = "0x000000000000000000000000000000000000dEaD"
CALLDATA = b"\x01" * 1_000
"""1,000 non-zero bytes: intrinsic gas 37,000, EIP-7623 floor 21,000 + 10 * 4,000 = 61,000."""


def test_estimate_covers_the_calldata_floor():
    chain = Chain(accounts=1)
    assert chain.estimate_gas(to=DEAD, data=CALLDATA) == 61_000
    tx_hash = chain.transact(chain.accounts[0], to=DEAD, data=CALLDATA)
    receipt = chain.receipt(tx_hash)
    assert (receipt.status, receipt.gas_used) == (1, 61_000)


def test_estimate_fails_when_the_floor_exceeds_the_block_gas_limit():
    chain = Chain(accounts=1, gas_limit=50_000)
    with pytest.raises(GasEstimationFailed, match=r"exceeds allowance \(50000\)"):
        chain.estimate_gas(to=DEAD, data=CALLDATA)
