"""eth_newPendingTransactionFilter: each pool entry once, as the named observer learns of it."""

from __future__ import annotations

import pytest

from agentbed.chain.latency import PerObserverLatency
from agentbed.chain.node import Chain
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import RpcError

INTERVAL_MS = 12_000  # the chain's default block interval


def _send(chain: Chain, index: int, origin: str | None = None) -> str:
    raw = chain.sign(chain.accounts[index], {"to": chain.accounts[0].address, "value": 1})
    return "0x" + chain.submit(raw, origin=origin).hex()


def _chain(automine: bool) -> Chain:
    latency = PerObserverLatency({"near": 1_000, "far": 30_000})
    return Chain(seed=2, accounts=4, automine=automine, latency=latency)


def test_an_unnamed_filter_reports_each_entry_once_even_when_mined_at_once() -> None:
    chain = _chain(automine=True)
    provider = TestbedProvider(chain)
    _send(chain, 1)  # before the filter: never reported by it
    flt = provider.handle("eth_newPendingTransactionFilter", [])
    first, second = _send(chain, 2), _send(chain, 3)
    assert chain.block_number == 3  # each tx was mined as it arrived
    assert provider.handle("eth_getFilterChanges", [flt]) == [first, second]
    assert provider.handle("eth_getFilterChanges", [flt]) == []


def test_a_named_observer_hears_of_a_tx_once_its_latency_has_passed() -> None:
    chain = _chain(automine=False)
    provider = TestbedProvider(chain)
    near = provider.handle("eth_newPendingTransactionFilter", [{"observer": "near"}])
    far = provider.handle("eth_newPendingTransactionFilter", [{"observer": "far"}])
    tx = _send(chain, 1)
    assert provider.handle("eth_getFilterChanges", [near]) == []
    chain.advance_clock_to(chain.now_ms + 999)
    assert provider.handle("eth_getFilterChanges", [near]) == []
    chain.advance_clock_to(chain.now_ms + 1)
    assert provider.handle("eth_getFilterChanges", [near]) == [tx]
    # "far" would see it 30 s after arrival, but the block 12 s after takes it out of the
    # pool first: it never reaches "far".
    chain.mine()
    chain.advance_clock_to(chain.now_ms + 60_000)
    assert provider.handle("eth_getFilterChanges", [far]) == []
    assert [ptx.hash for ptx in chain.mempool_view("far")] == []


def test_a_tx_mined_after_it_reached_the_observer_is_still_reported() -> None:
    chain = _chain(automine=False)
    provider = TestbedProvider(chain)
    near = provider.handle("eth_newPendingTransactionFilter", [{"observer": "near"}])
    tx = _send(chain, 1)
    (block,) = chain.mine()  # sealed 12 s on: "near" saw the tx after 1 s
    assert block.timestamp_ms - chain.block(0).timestamp_ms == INTERVAL_MS
    assert provider.handle("eth_getFilterChanges", [near]) == [tx]


def test_the_sender_sees_its_own_tx_at_once() -> None:
    chain = _chain(automine=False)
    provider = TestbedProvider(chain)
    far = provider.handle("eth_newPendingTransactionFilter", [{"observer": "far"}])
    own = _send(chain, 1, origin="far")
    _send(chain, 2)
    assert provider.handle("eth_getFilterChanges", [far]) == [own]


def test_pending_filters_survive_a_snapshot_revert() -> None:
    chain = _chain(automine=False)
    provider = TestbedProvider(chain)
    flt = provider.handle("eth_newPendingTransactionFilter", [])
    snapshot = chain.snapshot()
    _send(chain, 1)
    chain.revert(snapshot)
    again = _send(chain, 2)
    changes = provider.handle("eth_getFilterChanges", [flt])
    assert changes[-1] == again  # the reverted pool still feeds the filter


def test_a_replaced_tx_is_not_reported_to_a_late_observer() -> None:
    chain = _chain(automine=False)
    provider = TestbedProvider(chain)
    near = provider.handle("eth_newPendingTransactionFilter", [{"observer": "near"}])
    sender, to = chain.accounts[1], chain.accounts[0].address
    low = chain.sign(sender, {"to": to, "value": 1, "nonce": 0, "maxPriorityFeePerGas": 10**9})
    high = chain.sign(sender, {"to": to, "value": 1, "nonce": 0, "maxPriorityFeePerGas": 3 * 10**9})
    chain.submit(low)
    replacement = "0x" + chain.submit(high).hex()
    chain.advance_clock_to(chain.now_ms + 5_000)
    assert provider.handle("eth_getFilterChanges", [near]) == [replacement]


def test_pending_filter_options_and_other_filter_methods() -> None:
    provider = TestbedProvider(_chain(automine=False))
    flt = provider.handle("eth_newPendingTransactionFilter", [{"observer": "near"}])
    with pytest.raises(RpcError, match="filter not found"):
        provider.handle("eth_getFilterLogs", [flt])
    assert provider.handle("eth_uninstallFilter", [flt]) is True
    with pytest.raises(RpcError, match="filter not found"):
        provider.handle("eth_getFilterChanges", [flt])
    for options in ([{"observer": ""}], [{"observer": 5}], ["near"], [{}, {}]):
        with pytest.raises(RpcError) as excinfo:
            provider.handle("eth_newPendingTransactionFilter", options)
        assert excinfo.value.code == -32602


def test_web3_pending_filter_over_http() -> None:
    from web3 import HTTPProvider, Web3

    from agentbed.chain.server import serve_in_thread

    chain = _chain(automine=True)
    with serve_in_thread(chain) as url:
        w3 = Web3(HTTPProvider(url))
        pending = w3.eth.filter("pending")
        sender = w3.eth.accounts[1]
        sent = [w3.eth.send_transaction({"from": sender, "to": sender, "value": i}) for i in (1, 2)]
        assert pending.get_new_entries() == sent
        assert pending.get_new_entries() == []
        assert w3.eth.get_transaction_receipt(sent[1])["status"] == 1
