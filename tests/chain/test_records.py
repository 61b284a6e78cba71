"""Receipts built by the block producer share repeated values but keep every value intact."""

from __future__ import annotations

from agentbed.chain.abi import event_topic
from agentbed.chain.node import Chain


def test_receipts_of_repeated_transfers_share_addresses_and_topics() -> None:
    chain = Chain(seed=3, accounts=2)
    token = chain.deploy("MockERC20", "Tok", "TOK")
    alice, bob = chain.accounts
    chain.transact(alice, token.functions.mint(alice.address, 10**6))
    first = chain.receipt(chain.transact(alice, token.functions.transfer(bob.address, 5)))
    second = chain.receipt(chain.transact(alice, token.functions.transfer(bob.address, 7)))
    (log_a,), (log_b,) = first.logs, second.logs
    for log, amount in ((log_a, 5), (log_b, 7)):
        assert log.address == token.address
        assert log.topics[0] == event_topic("Transfer(address,address,uint256)")
        assert log.data == amount.to_bytes(32, "big")
        assert log.event is not None
        assert log.event.name == "Transfer"
        assert log.event.args == {"from": alice.address, "to": bob.address, "value": amount}
    # one copy of each repeated value across the two receipts
    assert log_a.address is log_b.address
    assert log_a.topics is log_b.topics
    assert log_a.event is not None and log_b.event is not None
    assert log_a.event.args["to"] is log_b.event.args["to"]
    assert first.sender is second.sender
    assert log_a.data is not log_b.data
