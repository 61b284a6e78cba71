"""testbed_setPolicy, testbed_setLatency, testbed_mempoolView, testbed_registerAbi."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from agentbed.chain.latency import ConstantLatency, PerObserverLatency, RandomLatency
from agentbed.chain.node import Chain
from agentbed.chain.ordering import (
    POLICY_NAMES,
    FifoPolicy,
    FrequentBatchPolicy,
    PriorityFeePolicy,
)
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import HARDHAT_PREFIX, RpcError
from agentbed.chain.provider.testbed import latency_model


@pytest.fixture
def chain() -> Chain:
    return Chain(seed=9, accounts=3, automine=False)


@pytest.fixture
def provider(chain: Chain) -> TestbedProvider:
    return TestbedProvider(chain)


def _send(chain: Chain, index: int, origin: str | None = None) -> bytes:
    raw = chain.sign(chain.accounts[index], {"to": chain.accounts[0].address, "value": 1})
    return chain.submit(raw, origin=origin)


def test_set_policy_takes_names_aliases_and_params(chain: Chain, provider: TestbedProvider) -> None:
    assert provider.handle("testbed_setPolicy", [" FIFO "]) == "fifo"
    assert isinstance(chain.policy, FifoPolicy)
    assert provider.handle("testbed_setPolicy", ["frequent_batch", {"window_ms": 500}]) == "batch"
    assert isinstance(chain.policy, FrequentBatchPolicy)
    assert chain.mine()[0].policy == chain.policy.name


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (["fastest"], f"valid policies: {', '.join(POLICY_NAMES)}"),
        (["batch", {"no_such": 1}], "no_such"),
        (["batch", {"window_ms": {"nested": 1}}], "must be a number, string or boolean"),
        ([7], "policy name must be a string"),
    ],
)
def test_set_policy_refuses_bad_names_and_params(
    chain: Chain, provider: TestbedProvider, params: list[Any], words: str
) -> None:
    before = chain.policy
    with pytest.raises(RpcError) as excinfo:
        provider.handle("testbed_setPolicy", params)
    assert excinfo.value.code == -32602 and words in excinfo.value.message
    assert chain.policy is before


def test_latency_models_from_json() -> None:
    constant = latency_model(250)
    assert isinstance(constant, ConstantLatency) and constant.ms == 250
    per = latency_model({"delays": {"alice": 0, "bob": "0x190"}, "defaultMs": 100})
    assert isinstance(per, PerObserverLatency)
    assert (dict(per.delays), per.default_ms) == ({"alice": 0, "bob": 400}, 100)
    drawn = latency_model({"seed": 3, "lowMs": 10, "highMs": 30})
    assert isinstance(drawn, RandomLatency) and (drawn.low_ms, drawn.high_ms) == (10, 30)


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"ms": 1, "seed": 2},
        {"ms": -1},
        {"delays": []},
        {"seed": "x", "lowMs": 0, "highMs": 1},
        {"seed": 1, "lowMs": 5, "highMs": 1},
        {"seed": 1, "lowMs": 5},
        True,
    ],
)
def test_set_latency_refuses_malformed_models(provider: TestbedProvider, raw: Any) -> None:
    with pytest.raises(RpcError) as excinfo:
        provider.handle("testbed_setLatency", [raw])
    assert excinfo.value.code == -32602


def test_mempool_view_shows_what_each_observer_sees_and_when(
    chain: Chain, provider: TestbedProvider
) -> None:
    assert provider.handle("testbed_setLatency", [{"delays": {"fast": 0}, "defaultMs": 400}])
    mine = _send(chain, 1, origin="slow")
    other = _send(chain, 2)
    now = chain.now_ms

    def seen(observer: str, *at: int) -> list[tuple[str, int]]:
        view = provider.handle("testbed_mempoolView", [observer, *at])
        assert view["observer"] == observer
        return [(tx["hash"], tx["visibleAtMs"]) for tx in view["transactions"]]

    assert seen("fast") == [("0x" + mine.hex(), now), ("0x" + other.hex(), now)]
    assert seen("slow") == [("0x" + mine.hex(), now)]  # its own tx, at once
    assert seen("slow", now + 400) == [("0x" + mine.hex(), now), ("0x" + other.hex(), now + 400)]
    view = provider.handle("testbed_mempoolView", ["fast"])
    assert view["nowMs"] == now and view["transactions"][0]["arrivalMs"] == now
    # The view is Chain.mempool_view's, in its order.
    assert [tx["hash"] for tx in view["transactions"]] == [
        "0x" + ptx.hash.hex() for ptx in chain.mempool_view("fast")
    ]


def test_controls_are_part_of_a_snapshot(chain: Chain, provider: TestbedProvider) -> None:
    snapshot = provider.handle("evm_snapshot", [])
    provider.handle("testbed_setPolicy", ["random"])
    provider.handle("testbed_setLatency", [{"ms": 900}])
    assert provider.handle("evm_revert", [snapshot]) is True
    assert isinstance(chain.policy, PriorityFeePolicy)
    assert isinstance(chain.latency, ConstantLatency) and chain.latency.ms == 0


ERROR_ABI = [
    {
        "type": "error",
        "name": "ProbeFailed",
        "inputs": [{"name": "code", "type": "uint256"}, {"name": "who", "type": "address"}],
    }
]


def test_register_abi_makes_a_clients_custom_errors_decode(chain: Chain) -> None:
    # Init code reverting with ProbeFailed(3, 0x..01): selector, then two words, from memory.
    selector = Web3.keccak(text="ProbeFailed(uint256,address)")[:4]
    payload = selector + (3).to_bytes(32, "big") + (1).to_bytes(32, "big")
    code = b"".join(
        bytes([0x7F]) + payload[i : i + 32].ljust(32, b"\0") + bytes([0x60, i, 0x52])
        for i in range(0, len(payload), 32)
    ) + bytes([0x60, len(payload), 0x60, 0x00, 0xFD])
    provider = TestbedProvider(chain)
    call = {"from": chain.accounts[0].address, "data": "0x" + code.hex()}
    with pytest.raises(RpcError, match="unrecognized custom error"):
        provider.handle("eth_call", [call])
    assert provider.handle("testbed_registerAbi", ["Probe", ERROR_ABI]) is True
    with pytest.raises(RpcError) as excinfo:
        provider.handle("eth_call", [call])
    text = "reverted with custom error 'ProbeFailed(3, 0x0000000000000000000000000000000000000001)'"
    assert excinfo.value.message == HARDHAT_PREFIX + text
    assert excinfo.value.data == {"message": HARDHAT_PREFIX + text, "data": "0x" + payload.hex()}


@pytest.mark.parametrize(
    "params",
    [
        ["Probe"],
        ["", ERROR_ABI],
        ["Probe", {"type": "error"}],
        ["Probe", [{"type": "error", "inputs": []}]],
        ["Probe", [{"type": "error", "name": "E", "inputs": [{"type": "uint7"}]}]],
        ["Probe", ERROR_ABI, "0x12"],
    ],
)
def test_register_abi_refuses_malformed_abis(provider: TestbedProvider, params: Any) -> None:
    with pytest.raises(RpcError) as excinfo:
        provider.handle("testbed_registerAbi", params)
    assert excinfo.value.code == -32602
