"""WebSocket ``logs`` and ``newPendingTransactions`` subscriptions, observers named by URL or
header, over raw frames and web3.py's WebSocketProvider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import rlp
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.chain.latency import PerObserverLatency
from agentbed.chain.node import Chain
from agentbed.chain.server import serve_in_thread

TOPIC_A, TOPIC_B = keccak(b"A"), keccak(b"B")


def _log_init(topic: bytes) -> bytes:
    """Init code that emits one LOG1 with ``topic`` and deploys nothing."""
    return b"\x7f" + topic + bytes.fromhex("60006000a100")


def _created(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def request(request_id: int, method: str, *params: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


@pytest.fixture
def served() -> Iterator[tuple[str, Chain]]:
    """A node over a chain that mines only when told; "slow" sees others' txs 5 s late,
    "late" 60 s (after the next block has taken them)."""
    latency = PerObserverLatency({"slow": 5_000, "late": 60_000})
    chain = Chain(seed=6, accounts=3, automine=False, latency=latency)
    with serve_in_thread(chain) as url:
        yield "ws" + url[4:], chain


async def _subscribe(ws: Any, request_id: int, *params: Any) -> str:
    await ws.send_str(request(request_id, "eth_subscribe", *params))
    reply = json.loads(await ws.receive_str())
    assert "result" in reply, reply
    return str(reply["result"])


async def _notes(ws: Any, until_id: int) -> tuple[list[Any], dict[int, Any]]:
    """Send a barrier request with id ``until_id``; the notifications and replies received
    before its reply. Notifications queued by earlier requests go out before a later reply."""
    await ws.send_str(request(until_id, "eth_blockNumber"))
    notes, replies = [], {}
    while True:
        frame = json.loads(await ws.receive_str())
        if "id" not in frame:
            notes.append(frame["params"])
        elif frame["id"] == until_id:
            return notes, replies
        else:
            replies[frame["id"]] = frame


def test_logs_subscriptions_filter_by_address_and_topics(served: tuple[str, Chain]) -> None:
    from aiohttp import ClientSession

    ws_url, chain = served
    alice, bob = (a.address for a in chain.accounts[1:3])
    second = _created(bob, 0)

    async def talk() -> tuple[dict[str, str], list[Any]]:
        async with ClientSession() as session, session.ws_connect(ws_url) as ws:
            subs = {
                "topic": await _subscribe(ws, 1, "logs", {"topics": [["0x" + TOPIC_A.hex()]]}),
                "address": await _subscribe(ws, 2, "logs", {"address": second}),
                "all": await _subscribe(ws, 3, "logs"),
            }
            for i, (sender, topic) in enumerate(((alice, TOPIC_A), (bob, TOPIC_B))):
                tx = {"from": sender, "data": "0x" + _log_init(topic).hex(), "gas": "0x186a0"}
                await ws.send_str(request(10 + i, "eth_sendTransaction", tx))
            await ws.send_str(request(20, "evm_mine"))
            notes, _ = await _notes(ws, 21)
            return subs, notes

    subs, notes = asyncio.run(talk())
    by_sub: dict[str, list[Any]] = {}
    for note in notes:
        if isinstance(note["result"], dict) and "topics" in note["result"]:
            by_sub.setdefault(note["subscription"], []).append(note["result"])
    first = _created(alice, 0)
    assert [log["address"] for log in by_sub[subs["topic"]]] == [first]
    assert [log["address"] for log in by_sub[subs["address"]]] == [second]
    assert [log["topics"] for log in by_sub[subs["all"]]] == [
        ["0x" + TOPIC_A.hex()],
        ["0x" + TOPIC_B.hex()],
    ]
    assert by_sub[subs["all"]][0]["blockNumber"] == "0x1"


def test_new_pending_transactions_honour_the_named_observers_latency(
    served: tuple[str, Chain],
) -> None:
    from aiohttp import ClientSession

    ws_url, chain = served
    sender = chain.accounts[1].address

    async def talk() -> dict[str, list[Any]]:
        async with ClientSession() as session:
            anyone = await session.ws_connect(ws_url)
            slow = await session.ws_connect(ws_url + "/?observer=slow")
            late = await session.ws_connect(ws_url, headers={"X-Testbed-Observer": "late"})
            await _subscribe(anyone, 1, "newPendingTransactions", True)
            for ws in (slow, late):
                await _subscribe(ws, 1, "newPendingTransactions")
                await _subscribe(ws, 2, "newHeads")
            tx = {"from": sender, "to": sender, "value": "0x1"}
            await anyone.send_str(request(5, "eth_sendTransaction", tx))
            # The unnamed client hears of it at once (before the block), as a whole tx.
            heard, replies = await _notes(anyone, 6)
            seen = {"anyone": [replies[5]["result"], *heard]}
            await anyone.send_str(request(7, "evm_mine"))
            await _notes(anyone, 8)  # the block is sealed
            for name, ws in (("slow", slow), ("late", late)):
                seen[name], _ = await _notes(ws, 9)
                await ws.close()
            await anyone.close()
            return seen

    seen = asyncio.run(talk())
    tx_hash, (full,) = seen["anyone"][0], seen["anyone"][1:]
    assert full["result"]["hash"] == tx_hash and full["result"]["from"] == sender
    # "slow" saw it 5 s after arrival, before the block 12 s on: its hash, then the head.
    assert seen["slow"][0]["result"] == tx_hash
    assert [n["result"]["number"] for n in seen["slow"][1:]] == ["0x1"]
    # "late" would have seen it after 60 s; the block took it out of the pool first.
    assert [n["result"]["number"] for n in seen["late"]] == ["0x1"]


def test_subscribe_refuses_malformed_options(served: tuple[str, Chain]) -> None:
    from aiohttp import ClientSession

    ws_url, _ = served
    cases = [
        ("logs", {"fromBlock": "0x0"}),
        ("logs", {"address": "0x12"}),
        ("logs", {"topics": ["nope"]}),
        ("newPendingTransactions", {"observer": ""}),
        ("newPendingTransactions", {"fullTx": "yes"}),
        ("newPendingTransactions", "slow"),
        ("newHeads", {}),
    ]

    async def talk() -> list[Any]:
        async with ClientSession() as session, session.ws_connect(ws_url) as ws:
            replies = []
            for i, (kind, options) in enumerate(cases):
                await ws.send_str(request(i, "eth_subscribe", kind, options))
                replies.append(json.loads(await ws.receive_str()))
            return replies

    for case, reply in zip(cases, asyncio.run(talk()), strict=True):
        assert reply["error"]["code"] == -32602, case


def test_web3_websocket_provider_receives_logs_and_pending_hashes(
    served: tuple[str, Chain],
) -> None:
    from web3 import AsyncWeb3, WebSocketProvider

    ws_url, chain = served
    sender = chain.accounts[1].address

    async def talk() -> tuple[list[Any], Any]:
        async with AsyncWeb3(WebSocketProvider(ws_url)) as w3:
            await w3.eth.subscribe("newPendingTransactions")
            await w3.eth.subscribe("logs", {"topics": ["0x" + TOPIC_B.hex()]})
            data = "0x" + _log_init(TOPIC_B).hex()
            sent = await w3.eth.send_transaction({"from": sender, "data": data, "gas": 100_000})
            await w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            got = []
            async for message in w3.socket.process_subscriptions():
                got.append(message["result"])
                if len(got) == 2:
                    break
            return got, sent

    (pending, log), sent = asyncio.run(talk())
    assert bytes(pending) == bytes(sent)
    assert bytes(log["transactionHash"]) == bytes(sent)
    assert [bytes(t) for t in log["topics"]] == [TOPIC_B]


class _Socket:
    """A stand-in WebSocket that records what the hub sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(data)


@pytest.fixture(scope="module")
def connection() -> Any:
    """A WebSocket connection's view of one chain, shared by the fuzz examples."""
    from agentbed.chain.provider import TestbedProvider
    from agentbed.chain.subscriptions import Connection, Hub

    chain = Chain(seed=8, accounts=1)
    return Connection(TestbedProvider(chain), Hub(chain), _Socket(), observer="fuzz")


OPTION_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=6)
    | st.sampled_from(
        ["0x" + "11" * 20, "0x" + "ab" * 32, ["0x" + "ab" * 32, None], [["0x" + "ab" * 32]]]
    )
)
OPTIONS = (
    st.none()
    | OPTION_VALUES
    | st.dictionaries(
        st.sampled_from(["address", "topics", "observer", "fullTx", "fromBlock"]),
        OPTION_VALUES | st.lists(OPTION_VALUES, max_size=3),
        max_size=3,
    )
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["newHeads", "logs", "newPendingTransactions", "syncing"]), options=OPTIONS
)
def test_fuzz_subscribe_answers_json_rpc(connection: Any, kind: str, options: Any) -> None:
    from agentbed.chain.server import answer_body

    params = [kind] if options is None else [kind, options]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": params})
    reply = json.loads(answer_body(connection, body) or "null")
    assert ("result" in reply) != ("error" in reply)
    if "error" in reply:
        assert reply["error"]["code"] == -32602, reply["error"]
    else:
        assert reply["result"].startswith("0x")
