"""The JSON-RPC server: real clients over HTTP and WebSocket, the envelope's error codes, fuzz.

Each test serves its own fresh chain from a background thread on a port the OS picks.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import HTTPProvider, Web3

from agentbed.chain.node import Chain
from agentbed.chain.provider import METHODS, TestbedProvider
from agentbed.chain.server import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    answer_body,
    serve_in_thread,
)

# Every code a reply may carry: the envelope's, the provider's (-32601, -32602, -32000) and
# geth's 3 for a revert with data.
RPC_CODES = {PARSE_ERROR, INVALID_REQUEST, -32601, -32602, INTERNAL_ERROR, -32000, 3}


@pytest.fixture
def url() -> Iterator[str]:
    """The HTTP address of a server over a fresh chain (seed 7, automine on)."""
    with serve_in_thread(Chain(seed=7, accounts=3)) as address:
        print(f"serving on {address}")
        yield address


def post(url: str, body: bytes) -> tuple[int, Any]:
    """POST ``body``; the HTTP status and the decoded JSON reply (``None`` when empty)."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def call(url: str, method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
    """One request, its decoded reply."""
    body = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    status, reply = post(url, json.dumps(body).encode())
    assert status == 200
    return dict(reply)


def test_web3_deploys_transacts_and_reads_logs_over_http(url: str, contracts: Any) -> None:
    w3 = Web3(HTTPProvider(url))
    assert w3.is_connected()
    assert w3.eth.chain_id == 1337
    sender = w3.eth.accounts[0]
    art = contracts.get("MockERC20")
    factory = w3.eth.contract(abi=list(art.abi), bytecode=art.creation_bytecode)
    deployed = w3.eth.wait_for_transaction_receipt(
        factory.constructor("Agent", "AGT").transact({"from": sender})
    )
    assert deployed["status"] == 1
    token = w3.eth.contract(address=deployed["contractAddress"], abi=list(art.abi))
    minted = w3.eth.wait_for_transaction_receipt(
        token.functions.mint(w3.eth.accounts[1], 500).transact({"from": sender})
    )
    assert minted["status"] == 1
    assert token.functions.balanceOf(w3.eth.accounts[1]).call() == 500
    (event,) = token.events.Transfer().process_receipt(minted)
    assert event["args"]["value"] == 500
    logs = w3.eth.get_logs({"fromBlock": 0, "address": token.address})
    assert [log["transactionHash"] for log in logs] == [minted["transactionHash"]]
    assert w3.eth.block_number == minted["blockNumber"]


def test_batch_answers_each_request_in_order(url: str) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "no_suchMethod"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},  # a notification: no reply
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12", "latest"]},
        17,
    ]
    status, replies = post(url, json.dumps(batch).encode())
    assert status == 200
    assert [r["id"] for r in replies] == ["a", 2, 3, None]
    assert replies[0]["result"] == hex(1337)
    assert [r.get("error", {}).get("code") for r in replies] == [None, -32601, -32602, -32600]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", PARSE_ERROR),
        (b"\xff\xfe", PARSE_ERROR),
        (b"[" * 100_000, PARSE_ERROR),
        (b"[]", INVALID_REQUEST),
        (b"[" + b",".join([b'{"jsonrpc": "2.0", "method": "eth_chainId"}'] * 1001) + b"]", -32600),
        (b'"eth_blockNumber"', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1}', INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "eth_blockNumber"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": [1], "method": "eth_blockNumber"}', INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_nope"}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": {}}', -32602),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getCode", "params": ["0x1"]}', -32602),
    ],
)
def test_bad_requests_get_their_code_and_the_server_keeps_serving(
    url: str, body: bytes, code: int
) -> None:
    status, reply = post(url, body)
    assert status == 200
    assert reply["error"]["code"] == code
    assert call(url, "eth_blockNumber")["result"] == "0x0"


def test_a_lone_notification_gets_no_body(url: str) -> None:
    status, reply = post(url, b'{"jsonrpc": "2.0", "method": "evm_mine"}')
    assert (status, reply) == (204, None)
    assert call(url, "eth_blockNumber")["result"] == "0x1"  # it still ran


def test_a_handler_that_raises_answers_internal_error(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: TestbedProvider, method: str, params: Any = None) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(TestbedProvider, "handle", broken)
    error = call(url, "eth_blockNumber")["error"]
    assert error == {"code": INTERNAL_ERROR, "message": "internal error: ZeroDivisionError: boom"}
    monkeypatch.undo()
    assert call(url, "eth_blockNumber")["result"] == "0x0"


def test_websocket_serves_requests_and_batches(url: str) -> None:
    from aiohttp import ClientSession

    async def talk() -> list[Any]:
        async with ClientSession() as session, session.ws_connect("ws" + url[4:]) as ws:
            await ws.send_str('{"jsonrpc": "2.0", "id": 1, "method": "evm_mine"}')
            first = json.loads(await ws.receive_str())
            await ws.send_str("not json")
            second = json.loads(await ws.receive_str())
            await ws.send_str('[{"jsonrpc": "2.0", "id": 9, "method": "eth_blockNumber"}]')
            third = json.loads(await ws.receive_str())
            return [first, second, third]

    first, second, third = asyncio.run(talk())
    assert first["result"] is not None
    assert second["error"]["code"] == PARSE_ERROR
    assert third == [{"jsonrpc": "2.0", "id": 9, "result": "0x1"}]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
# Params shaped like the real ones (and just past their limits) often enough to get past the
# first check of a handler.
ADDRESS, HASH = "0x" + "11" * 20, "0x" + "ab" * 32
HEXISH = st.sampled_from(
    [
        *("0x", "0x0", "0x1", "-0x1", "0xzz", "latest", "pending", "earliest", "safe"),
        *(ADDRESS, HASH, "0x" + "f" * 64, "0x" + "f" * 65, "0x" + "00" * 600, 2**300),
        {"blockHash": HASH},
        {"from": ADDRESS, "to": ADDRESS, "data": "0x12", "gas": "0x" + "f" * 40},
        {"to": None, "data": "0x6000", "value": "0x" + "f" * 70},
        {"fromBlock": "0x0", "toBlock": "latest", "address": [ADDRESS], "topics": [[HASH], None]},
    ]
)
PARAMS = st.lists(HEXISH | JSON, max_size=4) | JSON


@pytest.fixture(scope="module")
def fuzz_provider() -> TestbedProvider:
    """One chain the fuzz examples share (methods that mine or revert move it, on purpose)."""
    return TestbedProvider(Chain(seed=3, accounts=2))


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(sorted(METHODS)), params=PARAMS)
def test_fuzz_every_method_answers_json_rpc(
    fuzz_provider: TestbedProvider, method: str, params: Any
) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    reply = json.loads(answer_body(fuzz_provider, body) or "null")
    assert reply["id"] == 1
    assert ("result" in reply) != ("error" in reply)
    if "error" in reply:
        assert reply["error"]["code"] in RPC_CODES
        assert reply["error"]["code"] != INTERNAL_ERROR, reply["error"]["message"]


def test_block_and_log_filters_report_each_change_once(url: str, contracts: Any) -> None:
    w3 = Web3(HTTPProvider(url))
    sender = w3.eth.accounts[0]
    art = contracts.get("MockERC20")
    factory = w3.eth.contract(abi=list(art.abi), bytecode=art.creation_bytecode)
    created = w3.eth.wait_for_transaction_receipt(
        factory.constructor("Agent", "AGT").transact({"from": sender})
    )
    token = w3.eth.contract(address=created["contractAddress"], abi=list(art.abi))
    blocks = w3.eth.filter("latest")
    logs = w3.eth.filter({"address": token.address})
    assert blocks.get_new_entries() == []
    hashes = [token.functions.mint(sender, k).transact({"from": sender}) for k in (1, 2)]
    w3.provider.make_request("anvil_mine", ["0x2"])  # type: ignore[arg-type]
    mined = [w3.eth.get_transaction_receipt(th)["blockNumber"] for th in hashes]
    new_blocks = blocks.get_new_entries()
    assert [w3.eth.get_block(bh)["number"] for bh in new_blocks] == [
        *mined,
        mined[-1] + 1,
        mined[-1] + 2,
    ]
    assert blocks.get_new_entries() == []  # reported once
    changes = logs.get_new_entries()
    assert [log["transactionHash"] for log in changes] == hashes
    assert logs.get_new_entries() == []
    assert logs.get_all_entries() == []  # fromBlock "latest": the head only, as in geth
    everything = w3.eth.filter({"address": token.address, "fromBlock": 0})
    assert [log["transactionHash"] for log in everything.get_all_entries()] == hashes
    assert w3.eth.uninstall_filter(blocks.filter_id) is True
    assert w3.eth.uninstall_filter(blocks.filter_id) is False
    error = call(url, "eth_getFilterChanges", [blocks.filter_id])["error"]
    assert error == {"code": -32000, "message": "filter not found"}


def test_a_revert_below_a_block_filters_mark_reports_only_new_blocks(url: str) -> None:
    snapshot = call(url, "evm_snapshot")["result"]
    filter_id = call(url, "eth_newBlockFilter")["result"]
    call(url, "anvil_mine", ["0x3"])
    assert call(url, "evm_revert", [snapshot])["result"] is True
    assert call(url, "eth_getFilterChanges", [filter_id])["result"] == []
    call(url, "hardhat_mine")
    (new_hash,) = call(url, "eth_getFilterChanges", [filter_id])["result"]
    assert new_hash == call(url, "eth_getBlockByNumber", ["0x1", False])["result"]["hash"]


def test_log_filter_criteria_are_checked_at_install(url: str) -> None:
    error = call(url, "eth_newFilter", [{"address": "0x12"}])["error"]
    assert error["code"] == -32602
    error = call(url, "eth_newFilter", [{"fromBlock": "0x5", "toBlock": "0x1"}])["error"]
    assert error == {"code": -32000, "message": "invalid block range params"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["0x2710", "0x5"], "interval 5 s is not supported: blocks are 12 s apart on this chain"),
        (["0x2711"], "blocks must be in 0..10000, got 10001"),
    ],
)
def test_anvil_mine_refuses_what_it_cannot_do(url: str, params: list[str], message: str) -> None:
    assert call(url, "anvil_mine", params)["error"] == {"code": -32602, "message": message}
    assert call(url, "eth_blockNumber")["result"] == "0x0"


def test_anvil_mine_with_the_chains_interval_mines_that_many(url: str) -> None:
    assert call(url, "anvil_mine", ["0x3", "0xc"]) == {"jsonrpc": "2.0", "id": 1, "result": None}
    assert call(url, "eth_blockNumber")["result"] == "0x3"


def test_websocket_newheads_subscription_announces_each_block_until_unsubscribed(url: str) -> None:
    from aiohttp import ClientSession

    def request(request_id: int, method: str, *params: Any) -> str:
        return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})

    async def talk() -> list[Any]:
        async with ClientSession() as session, session.ws_connect("ws" + url[4:]) as ws:
            await ws.send_str(request(1, "eth_subscribe", "syncing"))
            refused = json.loads(await ws.receive_str())
            await ws.send_str(request(2, "eth_subscribe", "newHeads"))
            sub_id = json.loads(await ws.receive_str())["result"]
            await ws.send_str(request(3, "anvil_mine", "0x2"))
            frames = [json.loads(await ws.receive_str()) for _ in range(3)]
            await ws.send_str(request(4, "eth_unsubscribe", sub_id))
            await ws.send_str(request(5, "eth_unsubscribe", sub_id))
            await ws.send_str(request(6, "evm_mine"))
            await ws.send_str(request(7, "eth_blockNumber"))  # a notification would come first
            after = [json.loads(await ws.receive_str()) for _ in range(4)]
            return [refused, sub_id, frames, after]

    refused, sub_id, frames, after = asyncio.run(talk())
    assert refused["error"] == {
        "code": -32602,
        "message": "unsupported subscription type 'syncing'; "
        "served: newHeads, logs, newPendingTransactions",
    }
    assert sub_id == "0x1"
    notes = [f["params"] for f in frames if f.get("method") == "eth_subscription"]
    assert [n["subscription"] for n in notes] == [sub_id, sub_id]
    assert [n["result"]["number"] for n in notes] == ["0x1", "0x2"]
    assert notes[1]["result"] == call(url, "eth_getBlockByNumber", ["0x2", False])["result"]
    assert [f.get("id") for f in frames if "id" in f] == [3]
    # after unsubscribing: true, then false, then the replies and no notification
    assert [f.get("result") for f in after] == [True, False, "0x0", "0x3"]


def test_web3_websocket_provider_calls_and_receives_new_heads(url: str) -> None:
    from web3 import AsyncWeb3, WebSocketProvider

    async def talk() -> tuple[int, list[int], int]:
        async with AsyncWeb3(WebSocketProvider("ws" + url[4:])) as w3:
            chain_id = await w3.eth.chain_id
            await w3.eth.subscribe("newHeads")
            await w3.provider.make_request("anvil_mine", ["0x2"])  # type: ignore[arg-type]
            numbers: list[int] = []
            async for message in w3.socket.process_subscriptions():
                numbers.append(message["result"]["number"])
                if len(numbers) == 2:
                    break
            return chain_id, numbers, await w3.eth.block_number

    chain_id, numbers, head = asyncio.run(talk())
    assert (chain_id, numbers, head) == (1337, [1, 2], 2)


class _Socket:
    """A stand-in WebSocket that records what the hub sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(data)


@pytest.fixture(scope="module")
def fuzz_connection() -> Any:
    """A WebSocket connection's view of one chain, shared by the fuzz examples."""
    from agentbed.chain.subscriptions import Connection, Hub

    chain = Chain(seed=4, accounts=1)
    return Connection(TestbedProvider(chain), Hub(chain), _Socket())


@settings(max_examples=200)
@given(
    method=st.sampled_from(["eth_subscribe", "eth_unsubscribe", "eth_blockNumber"]),
    params=PARAMS,
)
def test_fuzz_subscription_methods_answer_json_rpc(
    fuzz_connection: Any, method: str, params: Any
) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    reply = json.loads(answer_body(fuzz_connection, body) or "null")
    assert ("result" in reply) != ("error" in reply)
    if "error" in reply:
        assert reply["error"]["code"] in RPC_CODES - {INTERNAL_ERROR}, reply["error"]


def _depth(value: Any) -> int:
    """Array/object nesting of a decoded JSON value."""
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


# Strings full of brackets, quotes and backslashes: what the nesting scan must skip.
TRICKY = st.text(alphabet='[]{}"\\\\ab', max_size=6)
DEEP_JSON = st.recursive(
    st.none() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=12,
)


@given(DEEP_JSON)
def test_nesting_scan_counts_the_real_depth(value: Any) -> None:
    from agentbed.chain.server import _nesting

    assert _nesting(json.dumps(value).encode()) == _depth(value)


def test_a_batch_at_the_limit_is_answered_in_full(url: str) -> None:
    from agentbed.chain.server import MAX_BATCH

    batch = [{"jsonrpc": "2.0", "id": k, "method": "eth_chainId"} for k in range(MAX_BATCH)]
    status, replies = post(url, json.dumps(batch).encode())
    assert status == 200
    assert [r["id"] for r in replies] == list(range(MAX_BATCH))
    assert {r["result"] for r in replies} == {"0x539"}
