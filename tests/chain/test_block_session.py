"""A rolled-back branch of a block session can be resumed: the block sealed is the one applying
the same txs again would give, and a session that moved since cannot resume it."""

from __future__ import annotations

import pytest

from agentbed.chain.backend import BlockSession
from agentbed.chain.node import Chain
from agentbed.chain.types import Transaction

GWEI = 10**9


def _chain_and_txs() -> tuple[Chain, list[Transaction]]:
    chain = Chain(seed=5, accounts=2, automine=False)
    sender, to = chain.accounts
    txs = []
    for nonce in range(3):
        fields = {
            "to": to.address,
            "value": 1 + nonce,
            "gas": 21_000,
            "maxPriorityFeePerGas": GWEI,
            "maxFeePerGas": 50 * GWEI,
            "type": 2,
            "nonce": nonce,
        }
        txs.append(chain.decode(chain.sign(sender, fields)))
    return chain, txs


def _open(chain: Chain) -> BlockSession:
    return chain.backend.open_block(
        timestamp=chain.head.timestamp + 12,
        coinbase=chain.accounts[1].address,
        mix_hash=b"\x07" * 32,
    )


def test_resumed_branch_seals_the_block_applying_again_would() -> None:
    chain, txs = _chain_and_txs()
    session = _open(chain)
    top = session.checkpoint()
    first = [session.apply(tx) for tx in txs[:2]]
    branch = session.rollback(top)
    assert session.tx_count == 0 and session.gas_used == 0
    session.resume(branch)
    assert session.tx_count == 2 and session.gas_used == first[-1].cumulative_gas_used
    session.apply(txs[2])
    resumed = session.seal()

    again, txs_again = _chain_and_txs()
    plain = _open(again)
    for tx in txs_again:
        plain.apply(tx)
    assert resumed == plain.seal()


def test_revert_when_resuming_after_the_session_moved() -> None:
    chain, txs = _chain_and_txs()
    session = _open(chain)
    top = session.checkpoint()
    session.apply(txs[0])
    branch = session.rollback(top)
    session.apply(txs[0])  # the session moved on from the checkpoint
    with pytest.raises(ValueError, match="cannot resume"):
        session.resume(branch)
