"""eth_getBlockReceipts, eth_getTransactionByBlock{Number,Hash}AndIndex, eth_blobBaseFee."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.chain.node import Chain
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import RpcError
from agentbed.chain.provider.lookups import (
    BLOB_BASE_FEE_UPDATE_FRACTION,
    fake_exponential,
)


@pytest.fixture(scope="module")
def mined() -> tuple[TestbedProvider, list[str]]:
    """A chain whose block 1 holds three transfers; their hashes."""
    chain = Chain(seed=11, accounts=4, automine=False)
    hashes = []
    for i in (1, 2, 3):
        raw = chain.sign(chain.accounts[i], {"to": chain.accounts[0].address, "value": i})
        hashes.append("0x" + chain.submit(raw).hex())
    chain.mine()
    return TestbedProvider(chain), hashes


def test_block_receipts_are_each_receipt_in_block_order(
    mined: tuple[TestbedProvider, list[str]],
) -> None:
    provider, _ = mined
    block = provider.handle("eth_getBlockByNumber", ["0x1", False])
    receipts = provider.handle("eth_getBlockReceipts", ["0x1"])
    assert [r["transactionHash"] for r in receipts] == block["transactions"]
    assert receipts == [
        provider.handle("eth_getTransactionReceipt", [h]) for h in block["transactions"]
    ]
    assert provider.handle("eth_getBlockReceipts", [{"blockHash": block["hash"]}]) == receipts
    assert provider.handle("eth_getBlockReceipts", ["latest"]) == receipts
    assert provider.handle("eth_getBlockReceipts", ["earliest"]) == []
    assert provider.handle("eth_getBlockReceipts", ["0x2"]) is None
    assert provider.handle("eth_getBlockReceipts", ["pending"]) is None


def test_transactions_by_block_and_index(mined: tuple[TestbedProvider, list[str]]) -> None:
    provider, _ = mined
    block = provider.handle("eth_getBlockByNumber", ["0x1", True])
    for index, tx in enumerate(block["transactions"]):
        by_number = provider.handle("eth_getTransactionByBlockNumberAndIndex", ["0x1", hex(index)])
        by_hash = provider.handle(
            "eth_getTransactionByBlockHashAndIndex", [block["hash"], hex(index)]
        )
        assert by_number == by_hash == tx
    assert provider.handle("eth_getTransactionByBlockNumberAndIndex", ["0x1", "0x3"]) is None
    assert provider.handle("eth_getTransactionByBlockNumberAndIndex", ["0x9", "0x0"]) is None
    unknown = "0x" + "ab" * 32
    assert provider.handle("eth_getTransactionByBlockHashAndIndex", [unknown, "0x0"]) is None
    with pytest.raises(RpcError) as excinfo:
        provider.handle("eth_getTransactionByBlockNumberAndIndex", ["0x1", "one"])
    assert excinfo.value.code == -32602


def test_blob_base_fee_is_the_minimum_without_blobs(
    mined: tuple[TestbedProvider, list[str]],
) -> None:
    provider, _ = mined
    assert provider.handle("eth_blobBaseFee", []) == "0x1"


@pytest.mark.parametrize(
    ("excess", "fee"),
    # The fee first reaches 2 wei just past ln(2) * fraction of excess; at one fraction it is
    # e wei, truncated.
    [(0, 1), (3_471_086, 1), (3_471_087, 2), (BLOB_BASE_FEE_UPDATE_FRACTION, 2)],
)
def test_fake_exponential_fixed_points(excess: int, fee: int) -> None:
    assert fake_exponential(1, excess, BLOB_BASE_FEE_UPDATE_FRACTION) == fee


@given(st.integers(1, 10**6), st.integers(0, 4 * BLOB_BASE_FEE_UPDATE_FRACTION))
def test_fuzz_fake_exponential_tracks_the_exponential(factor: int, numerator: int) -> None:
    exact = factor * math.exp(numerator / BLOB_BASE_FEE_UPDATE_FRACTION)
    approx = fake_exponential(factor, numerator, BLOB_BASE_FEE_UPDATE_FRACTION)
    assert approx <= exact * (1 + 1e-9) and approx >= exact * (1 - 1e-6) - 1
