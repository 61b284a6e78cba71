"""eth_sendBundle / eth_callBundle in Flashbots' shapes: in process, over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_utils import keccak
from web3 import AsyncWeb3, HTTPProvider, Web3, WebSocketProvider

from agentbed.chain.node import Chain
from agentbed.chain.ordering import policy_from_name
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import RpcError
from agentbed.chain.server import serve_in_thread

GWEI = 10**9
BRIBE = 10**15
# Init code that reverts with the 4 bytes 0xdeadbeef: PUSH4 deadbeef, PUSH1 0, MSTORE,
# PUSH1 4, PUSH1 28, REVERT.
REVERTING_INIT = bytes.fromhex("63deadbeef6000526004601cfd")


def _raw(chain: Chain, index: int, **fields: Any) -> str:
    """A signed tx of account ``index`` (next nonce, 2 gwei tip), as hex."""
    fields.setdefault("maxPriorityFeePerGas", 2 * GWEI)
    fields.setdefault("maxFeePerGas", 10 * GWEI)
    fields.setdefault("gas", 21_000)
    return "0x" + chain.sign(chain.accounts[index], fields).hex()


@pytest.fixture
def chain() -> Chain:
    """A chain that builds bundles first and mines only when told."""
    return Chain(seed=5, accounts=3, automine=False, policy=policy_from_name("bundles"))


@pytest.fixture
def provider(chain: Chain) -> TestbedProvider:
    return TestbedProvider(chain)


def test_call_bundle_reports_flashbots_fields_and_changes_nothing(
    chain: Chain, provider: TestbedProvider
) -> None:
    bribe = _raw(chain, 1, to=chain.coinbase, value=BRIBE)
    failing = _raw(chain, 2, data=REVERTING_INIT, gas=100_000)
    before = (chain.block_number, chain.nonce(chain.accounts[1].address), chain.now_ms)
    sim = provider.handle("eth_callBundle", [{"txs": [bribe, failing], "blockNumber": "0x1"}])
    assert before == (chain.block_number, chain.nonce(chain.accounts[1].address), chain.now_ms)
    paid, reverted = sim["results"]
    hashes = [keccak(bytes.fromhex(raw[2:])) for raw in (bribe, failing)]
    assert [paid["txHash"], reverted["txHash"]] == ["0x" + h.hex() for h in hashes]
    assert sim["bundleHash"] == "0x" + keccak(b"".join(hashes)).hex()
    # The bribe: its tip on 21,000 gas plus the direct payment.
    assert (paid["gasUsed"], paid["gasPrice"]) == (21_000, str(2 * GWEI))
    assert paid["gasFees"] == str(21_000 * 2 * GWEI)
    assert paid["ethSentToCoinbase"] == str(BRIBE)
    assert paid["coinbaseDiff"] == str(BRIBE + 21_000 * 2 * GWEI)
    assert (paid["value"], paid["fromAddress"], paid["toAddress"]) == (
        "0x",
        chain.accounts[1].address,
        chain.coinbase,
    )
    # The reverting create is reported, not dropped: its revert data, no value.
    assert (reverted["error"], reverted["revert"]) == ("execution reverted", "0xdeadbeef")
    assert "value" not in reverted and reverted["toAddress"] is None
    assert reverted["ethSentToCoinbase"] == "0"
    total_gas = paid["gasUsed"] + reverted["gasUsed"]
    diff = int(paid["coinbaseDiff"]) + int(reverted["coinbaseDiff"])
    assert (sim["totalGasUsed"], sim["coinbaseDiff"]) == (total_gas, str(diff))
    assert sim["bundleGasPrice"] == str(diff // total_gas)
    assert sim["ethSentToCoinbase"] == str(BRIBE)
    assert sim["stateBlockNumber"] == 0


def test_call_bundle_refuses_what_it_cannot_simulate(
    chain: Chain, provider: TestbedProvider
) -> None:
    bribe = _raw(chain, 1, to=chain.coinbase, value=BRIBE)
    chain.mine()
    cases = [
        ({"txs": [bribe], "blockNumber": "0x1"}, -32000, "block 1 is already mined"),
        ({"txs": [bribe], "stateBlockNumber": "0x0"}, -32000, "historical state"),
        ({"txs": [bribe], "timestamp": 5}, -32602, "timestamp 5 is not supported"),
        ({"txs": []}, -32602, "non-empty array"),
        ({"txs": ["0x1234"]}, -32000, "bundle tx 0"),
    ]
    for bundle, code, words in cases:
        with pytest.raises(RpcError) as excinfo:
            provider.handle("eth_callBundle", [bundle])
        assert excinfo.value.code == code and words in excinfo.value.message, bundle
    stale = _raw(chain, 1, to=chain.coinbase, value=BRIBE, nonce=0)
    chain.submit(bytes.fromhex(bribe[2:]))
    chain.mine()
    with pytest.raises(RpcError, match=r"bundle cannot apply: tx 0x.* not applicable"):
        provider.handle("eth_callBundle", [{"txs": [stale]}])


def test_send_bundle_lands_in_its_target_block_only(
    chain: Chain, provider: TestbedProvider
) -> None:
    bribe = _raw(chain, 1, to=chain.coinbase, value=BRIBE)
    answer = provider.handle("eth_sendBundle", [{"txs": [bribe], "blockNumber": "0x2"}])
    tx_hash = keccak(bytes.fromhex(bribe[2:]))
    assert answer == {"bundleHash": "0x" + keccak(tx_hash).hex()}
    assert chain.mempool_view("anyone") == ()  # private: never in the public pool
    first, second = chain.mine(2)
    assert first.tx_hashes == () and second.tx_hashes == (tx_hash,)
    assert second.bundles == (bytes.fromhex(answer["bundleHash"][2:]),)


def test_send_bundle_allows_only_the_named_reverts(chain: Chain, provider: TestbedProvider) -> None:
    failing = _raw(chain, 2, data=REVERTING_INIT, gas=100_000)
    failing_hash = "0x" + keccak(bytes.fromhex(failing[2:])).hex()
    provider.handle("eth_sendBundle", [{"txs": [failing]}])
    (dropped,) = chain.mine()
    assert dropped.tx_hashes == ()
    again = _raw(chain, 2, data=REVERTING_INIT, gas=100_000)
    again_hash = "0x" + keccak(bytes.fromhex(again[2:])).hex()
    provider.handle("eth_sendBundle", [{"txs": [again], "revertingTxHashes": [again_hash]}])
    (landed,) = chain.mine()
    assert ["0x" + h.hex() for h in landed.tx_hashes] == [again_hash]
    assert chain.receipt(again_hash).status == 0
    with pytest.raises(RpcError, match="not in the bundle"):
        provider.handle(
            "eth_sendBundle",
            [{"txs": [_raw(chain, 1, to=chain.coinbase)], "revertingTxHashes": [failing_hash]}],
        )


def test_send_bundle_checks_its_timestamp_window_against_the_target_time(
    chain: Chain, provider: TestbedProvider
) -> None:
    bribe = _raw(chain, 1, to=chain.coinbase, value=BRIBE)
    at = chain.next_block_timestamp() + 12  # block 2: one 12 s interval after block 1
    window = {"txs": [bribe], "blockNumber": "0x2"}
    for bounds in ({"minTimestamp": at + 1}, {"maxTimestamp": at - 1}):
        with pytest.raises(RpcError, match=f"misses the target block's time {at}"):
            provider.handle("eth_sendBundle", [{**window, **bounds}])
    provider.handle("eth_sendBundle", [{**window, "minTimestamp": at, "maxTimestamp": at}])
    assert chain.mine(2)[1].timestamp == at


@pytest.mark.parametrize(
    "params",
    [
        [],
        [[]],
        [{"txs": "0x00"}],
        [{"txs": ["0xzz"]}],
        [{"txs": ["0x00"] * 101}],
        [{"txs": ["0x00"], "blockNumber": "0x" + "f" * 17}],
        [{"txs": ["0x00"], "revertingTxHashes": "0x00"}],
        [{"txs": ["0x00"], "minTimestamp": -1}],
    ],
)
def test_malformed_bundles_are_invalid_params(provider: TestbedProvider, params: Any) -> None:
    with pytest.raises(RpcError) as excinfo:
        provider.handle("eth_sendBundle", params)
    assert excinfo.value.code == -32602


def test_web3_sends_and_simulates_bundles_over_http_and_websocket() -> None:
    chain = Chain(seed=5, accounts=3, automine=False, policy=policy_from_name("bundles"))
    first = _raw(chain, 1, to=chain.coinbase, value=BRIBE)
    second = _raw(chain, 2, to=chain.coinbase, value=BRIBE)
    with serve_in_thread(chain) as url:
        w3 = Web3(HTTPProvider(url))
        sim = w3.provider.make_request("eth_callBundle", [{"txs": [first]}])  # type: ignore[arg-type]
        sent = w3.provider.make_request("eth_sendBundle", [{"txs": [first]}])  # type: ignore[arg-type]
        assert sim["result"]["bundleHash"] == sent["result"]["bundleHash"]

        async def over_websocket() -> Any:
            async with AsyncWeb3(WebSocketProvider("ws" + url[4:])) as aw3:
                answer = await aw3.provider.make_request(
                    "eth_sendBundle",  # type: ignore[arg-type]
                    [{"txs": [second], "blockNumber": "0x1"}],
                )
                await aw3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
                return answer["result"], await aw3.eth.get_block(1)

        answer, block = asyncio.run(over_websocket())
        hashes = [keccak(bytes.fromhex(raw[2:])) for raw in (first, second)]
        assert answer == {"bundleHash": "0x" + keccak(hashes[1]).hex()}
        assert sorted(bytes(h) for h in block["transactions"]) == sorted(hashes)
        assert w3.eth.get_transaction_receipt(hashes[1])["status"] == 1
