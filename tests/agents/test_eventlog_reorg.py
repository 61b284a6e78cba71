"""The event log records a reorg with its depth, both heads and the txs the pool took back."""

from __future__ import annotations

from pathlib import Path

from agentbed.agents.eventlog import EventLog, read_events
from agentbed.chain.node import Chain


def test_reorg_is_logged_with_its_depth(tmp_path: Path) -> None:
    chain = Chain(seed=2, accounts=2, automine=False)
    log = EventLog(tmp_path / "events.jsonl")
    chain.add_reorg_listener(log.reorg)
    tx = chain.submit(chain.sign(chain.accounts[0], {"to": chain.accounts[1].address, "value": 1}))
    chain.mine(2)
    b1 = chain.mine_on(0)
    chain.mine_on(chain.mine_on(b1.hash).hash)
    log.close()
    (event,) = read_events(log.path)
    assert event["event"] == "reorg" and event["depth"] == 2 and event["ancestor"] == 0
    assert event["returned"] == ["0x" + tx.hex()]
    assert event["new_head"] == "0x" + chain.head.hash.hex()
