"""Block production: what the transactions of a block see of that block's header."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbed.chain.compiler import compile_files
from agentbed.chain.node import Chain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"


@pytest.fixture(scope="module")
def randao_artifacts():
    return compile_files([FIXTURES / "RandaoProbe.sol"])


def test_mined_tx_reads_the_sealed_headers_prevrandao(randao_artifacts):
    chain = Chain(accounts=1)
    chain.use_artifacts(randao_artifacts)
    probe = chain.deploy("RandaoProbe")
    tx_hash = chain.transact(chain.accounts[0], probe.functions.record())
    block = chain.block(chain.receipt(tx_hash).block_number)
    seen = probe.functions.recorded().call()
    assert seen != 0
    assert seen.to_bytes(32, "big") == block.prev_randao
