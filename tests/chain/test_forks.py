"""Forks and reorgs: blocks on a non-head parent, longest-chain fork choice with a finality
depth, the pool and state after a reorg, removed logs through the provider, snapshots."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from agentbed.chain.forks import FORK_POLICY, ForkError, ReorgBeyondFinality
from agentbed.chain.node import Chain
from agentbed.chain.types import TxStatus

TOPIC = keccak(b"Reorged")
LOG_INIT = b"\x7f" + TOPIC + bytes.fromhex("60006000a100")
"""Init code that emits one LOG1 with ``TOPIC`` and deploys nothing."""


def _chain() -> Chain:
    return Chain(seed=11, accounts=4, automine=False)


def _log_tx(chain: Chain, index: int = 0, nonce: int | None = None) -> bytes:
    fields = {"data": LOG_INIT, "gas": 100_000}
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(chain.accounts[index], fields)


def _transfer(chain: Chain, index: int, value: int, nonce: int | None = None) -> bytes:
    fields = {"to": chain.accounts[3].address, "value": value, "gas": 21_000}
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(chain.accounts[index], fields)


def _canonical_two(chain: Chain) -> tuple[bytes, bytes]:
    """Blocks 1 and 2, each with a log tx of account 0; returns their tx hashes."""
    h1 = chain.submit(_log_tx(chain))
    chain.mine()
    h2 = chain.submit(_log_tx(chain))
    chain.mine()
    return h1, h2


def test_side_block_keeps_head_until_its_branch_is_longer() -> None:
    chain = _chain()
    genesis = chain.block(0)
    _canonical_two(chain)
    head = chain.head
    b1 = chain.mine_on(genesis.hash)
    b2 = chain.mine_on(b1.hash)
    assert chain.head == head  # a tie keeps the head
    assert {b.hash for b in chain.side_blocks()} == {b1.hash, b2.hash}
    assert b1.policy == FORK_POLICY and b1.parent_hash == genesis.hash
    b3 = chain.mine_on(b2.hash)
    assert chain.head.hash == b3.hash and chain.block_number == 3
    assert [chain.block(n).hash for n in (1, 2, 3)] == [b1.hash, b2.hash, b3.hash]


def test_depth_two_reorg_moves_head_returns_txs_and_follows_new_state() -> None:
    chain = _chain()
    h1, h2 = _canonical_two(chain)
    sender = chain.accounts[0].address
    assert chain.nonce(sender) == 2
    b1 = chain.mine_on(0)
    b2 = chain.mine_on(b1.hash)
    b3 = chain.mine_on(b2.hash, [_transfer(chain, 1, 5)])
    (reorg,) = chain.reorgs
    assert reorg.depth == 2 and reorg.ancestor == 0 and reorg.new_head == b3.hash
    assert [b.number for b in reorg.orphaned] == [1, 2]
    assert {log.tx_hash for log in reorg.removed_logs} == {h1, h2}
    assert set(reorg.returned) == {h1, h2}
    # Nonces and balances follow the new head; the orphaned txs are pending again.
    assert chain.nonce(sender) == 0
    assert chain.balance(chain.accounts[3].address) == chain.balance(chain.accounts[2].address) + 5
    assert {p.tx.hash for p in chain.pending_transactions()} == {h1, h2}
    assert chain.fate(h1).status is TxStatus.PENDING
    assert chain.logs(topics=[TOPIC]) == ()
    # They can be re-included on the new head.
    (block,) = chain.mine()
    assert block.parent_hash == b3.hash and set(block.tx_hashes) == {h1, h2}
    assert chain.receipt(h2).block_number == 4 and chain.nonce(sender) == 2


def test_orphaned_tx_included_on_new_branch_does_not_return() -> None:
    chain = _chain()
    raw1 = _log_tx(chain)
    h1 = chain.submit(raw1)
    chain.mine()
    h2 = chain.submit(_log_tx(chain))
    chain.mine()
    b1 = chain.mine_on(0, [raw1])
    b2 = chain.mine_on(b1.hash)
    chain.mine_on(b2.hash)
    (reorg,) = chain.reorgs
    assert reorg.returned == (h2,)
    assert chain.receipt(h1).block_number == 1 and chain.receipt(h1).block_hash == b1.hash
    assert [p.tx.hash for p in chain.pending_transactions()] == [h2]


def test_logs_come_back_removed_through_filters() -> None:
    chain = _chain()
    w3 = chain.w3
    log_filter = w3.eth.filter({"fromBlock": "latest", "topics": ["0x" + TOPIC.hex()]})
    block_filter = w3.eth.filter("latest")
    h1, h2 = _canonical_two(chain)
    first = log_filter.get_new_entries()
    assert [e["removed"] for e in first] == [False, False]
    block_filter.get_new_entries()
    b1 = chain.mine_on(0)
    b2 = chain.mine_on(b1.hash, [_log_tx(chain, 1)])
    b3 = chain.mine_on(b2.hash)
    changes = log_filter.get_new_entries()
    assert [(e["removed"], bytes(e["transactionHash"])) for e in changes] == [
        (True, h1),
        (True, h2),
        (False, b2.tx_hashes[0]),
    ]
    assert [bytes(h) for h in block_filter.get_new_entries()] == [b1.hash, b2.hash, b3.hash]
    assert log_filter.get_new_entries() == []
    # eth_getLogs answers the canonical chain only.
    logs = w3.eth.get_logs({"fromBlock": 0, "topics": ["0x" + TOPIC.hex()]})
    assert [bytes(log["transactionHash"]) for log in logs] == [b2.tx_hashes[0]]


def test_snapshot_before_reorg_restores_everything() -> None:
    chain = _chain()
    _canonical_two(chain)
    chain.submit(_transfer(chain, 2, 7))
    before = (
        [chain.block(n) for n in range(3)],
        chain.nonce(chain.accounts[0].address),
        chain.balance(chain.accounts[3].address),
        [p.tx.hash for p in chain.pending_transactions()],
        chain.logs(),
        chain.now_ms,
    )
    snap = chain.snapshot()
    b1 = chain.mine_on(0)
    chain.mine_on(chain.mine_on(b1.hash).hash)
    chain.mine()
    assert chain.reorgs and chain.block_number == 4
    chain.revert(snap)
    after = (
        [chain.block(n) for n in range(3)],
        chain.nonce(chain.accounts[0].address),
        chain.balance(chain.accounts[3].address),
        [p.tx.hash for p in chain.pending_transactions()],
        chain.logs(),
        chain.now_ms,
    )
    assert after == before and chain.block_number == 2
    assert chain.reorgs == () and chain.side_blocks() == ()


def test_reorg_is_deterministic() -> None:
    def run() -> list[bytes]:
        chain = _chain()
        _canonical_two(chain)
        b1 = chain.mine_on(0, [_transfer(chain, 1, 3)])
        chain.mine_on(chain.mine_on(b1.hash).hash)
        chain.mine()
        return [chain.block(n).hash for n in range(chain.block_number + 1)]

    assert run() == run()


def test_switching_back_to_an_orphaned_branch_reuses_its_blocks() -> None:
    chain = _chain()
    _canonical_two(chain)
    old = [chain.block(1), chain.block(2)]
    b1 = chain.mine_on(0)
    b3 = chain.mine_on(chain.mine_on(b1.hash).hash)
    with pytest.raises(ForkError, match="shorter branch"):
        chain.switch_head(old[1].hash)
    a3 = chain.mine_on(old[1].hash)  # a tie: the head stays
    assert chain.head.hash == b3.hash
    reorg = chain.switch_head(a3.hash)
    assert reorg is not None and reorg.depth == 3 and reorg.returned == ()
    assert [chain.block(1), chain.block(2), chain.block(3)] == [*old, a3]
    assert chain.nonce(chain.accounts[0].address) == 2
    assert chain.pending_transactions() == ()
    assert chain.balance(chain.accounts[0].address, 2) == chain.balance(chain.accounts[0].address)


@pytest.mark.parametrize("depth", [1, 2])
def test_finality_depth_refuses_deep_reorgs(depth: int) -> None:
    chain = _chain()
    chain.set_fork_choice(finality_depth=depth)
    _canonical_two(chain)
    head = chain.head
    b1 = chain.mine_on(0)
    b3 = chain.mine_on(chain.mine_on(b1.hash).hash)
    assert chain.head == head and chain.reorgs == ()
    with pytest.raises(ReorgBeyondFinality):
        chain.switch_head(b3.hash)
    # A reorg shallower than the finality depth still happens.
    if depth == 2:
        c2 = chain.mine_on(1)
        chain.mine_on(c2.hash)
        assert chain.reorgs[-1].depth == 1


def test_bad_fork_arguments_are_named() -> None:
    chain = _chain()
    with pytest.raises(ForkError, match="no block 0x"):
        chain.mine_on(b"\x01" * 32)
    with pytest.raises(ValueError, match="finality_depth"):
        chain.set_fork_choice(finality_depth=0)


def test_logs_subscription_hears_removed_logs_then_the_new_branch() -> None:
    import asyncio
    import json

    from agentbed.chain.subscriptions import Hub

    class Collect:
        def __init__(self) -> None:
            self.notes: list[dict[str, object]] = []

        async def send_str(self, data: str) -> None:
            self.notes.append(json.loads(data)["params"]["result"])

    chain = _chain()
    hub = Hub(chain)
    logs, heads = Collect(), Collect()
    hub.subscribe(logs, ["logs", {"topics": ["0x" + TOPIC.hex()]}])
    hub.subscribe(heads, ["newHeads"])

    async def run() -> list[bytes]:
        h1, h2 = _canonical_two(chain)
        b1 = chain.mine_on(0, [_log_tx(chain, 1)])
        b2 = chain.mine_on(b1.hash)
        b3 = chain.mine_on(b2.hash)
        for _ in range(20):  # let the queued sends run
            await asyncio.sleep(0)
        return [h1, h2, b1.hash, b2.hash, b3.hash, b1.tx_hashes[0]]

    h1, h2, b1, b2, b3, fork_tx = asyncio.run(run())
    seen = [(n["removed"], bytes.fromhex(str(n["transactionHash"])[2:])) for n in logs.notes]
    assert seen == [(False, h1), (False, h2), (True, h1), (True, h2), (False, fork_tx)]
    assert [str(n["hash"]) for n in heads.notes][2:] == ["0x" + h.hex() for h in (b1, b2, b3)]


def test_orphaned_blocks_are_still_served_by_hash() -> None:
    """geth keeps side blocks and answers for them by hash; numbers give the new branch."""
    chain = _chain()
    h1, h2 = _canonical_two(chain)
    old1, old2 = chain.block(1), chain.block(2)
    b1 = chain.mine_on(0)
    b2 = chain.mine_on(b1.hash)
    chain.mine_on(b2.hash)
    assert chain.side_block(old1.hash) is not None and chain.side_block(b1.hash) is None
    w3 = chain.w3
    block = w3.eth.get_block(old2.hash, full_transactions=True)
    assert bytes(block["hash"]) == old2.hash and block["number"] == 2
    assert bytes(block["parentHash"]) == old1.hash
    (tx,) = block["transactions"]
    assert bytes(tx["hash"]) == h2 and bytes(tx["blockHash"]) == old2.hash
    assert [bytes(h) for h in w3.eth.get_block(old1.hash)["transactions"]] == [h1]
    assert w3.eth.get_block_transaction_count(old1.hash) == 1
    by_index = w3.eth.get_transaction_by_block(old2.hash, 0)
    assert bytes(by_index["hash"]) == h2 and by_index["blockNumber"] == 2
    assert w3.eth.get_block(2)["hash"] == b2.hash  # by number: the canonical branch
    unknown = "0x" + "ab" * 32
    assert chain.side_block(unknown) is None
    assert w3.provider.make_request("eth_getBlockByHash", [unknown, False])["result"] is None
    # Logs by an orphaned block's hash: that block's own logs, filtered as usual.
    logs = w3.eth.get_logs({"blockHash": old2.hash, "topics": ["0x" + TOPIC.hex()]})
    assert [(bytes(log["transactionHash"]), log["removed"]) for log in logs] == [(h2, False)]
    assert w3.eth.get_logs({"blockHash": old2.hash, "topics": ["0x" + "00" * 32]}) == []
    unknown_logs = w3.provider.make_request("eth_getLogs", [{"blockHash": unknown}])
    assert unknown_logs["error"]["message"] == "unknown block"
