"""``Chain.submit``: an admission moves the clock to the arrival; a rejection changes nothing."""

from __future__ import annotations

import pytest

from agentbed.chain.errors import BundleRejected, InsufficientFunds, Underpriced
from agentbed.chain.interfaces import PoolConfig
from agentbed.chain.node import Chain
from agentbed.chain.types import TxStatus

GWEI = 10**9
DEAD = "0x000000000000000000000000000000000000dEaD"


def _transfer(chain: Chain, *, tip: int = GWEI, value: int = 1, nonce: int = 0) -> bytes:
    fields = {
        "to": DEAD,
        "value": value,
        "gas": 21_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 10 * GWEI + tip,
        "nonce": nonce,
    }
    return chain.sign(chain.accounts[0], fields)


def _observable(chain: Chain) -> tuple[object, ...]:
    sender = chain.accounts[0].address
    return (
        chain.now_ms,
        chain.pool_content(),
        chain.pool_status(),
        chain.nonce(sender),
        chain.pending_nonce(sender),
        chain.block_number,
    )


def test_rejected_submit_leaves_clock_pool_and_nonces_alone():
    chain = Chain(accounts=1, automine=False)
    chain.submit(_transfer(chain), at_ms=chain.now_ms + 10)
    before = _observable(chain)
    later = chain.now_ms + 5_000
    too_costly = _transfer(chain, value=chain.balance(chain.accounts[0].address), nonce=1)
    with pytest.raises(InsufficientFunds):
        chain.submit(too_costly, at_ms=later)
    assert _observable(chain) == before
    with pytest.raises(BundleRejected):
        chain.submit_bundle([b"\x02junk"], at_ms=later)
    assert _observable(chain) == before
    with pytest.raises(ValueError, match="never goes backwards"):
        chain.submit(_transfer(chain, nonce=1), at_ms=chain.now_ms - 1)
    assert _observable(chain) == before
    # An admitted submit at the same time does move the clock there.
    chain.submit(_transfer(chain, nonce=1), at_ms=later)
    assert chain.now_ms == later


def test_zero_tip_is_underpriced_unless_the_pool_allows_it():
    chain = Chain(accounts=1, automine=False)
    with pytest.raises(Underpriced, match="tip needed 1, tip permitted 0"):
        chain.submit(_transfer(chain, tip=0))
    assert chain.pool_status() == (0, 0)
    lax = Chain(accounts=1, automine=False, pool_config=PoolConfig(price_limit=0))
    tx_hash = lax.submit(_transfer(lax, tip=0))
    assert lax.fate(tx_hash).status is TxStatus.PENDING
