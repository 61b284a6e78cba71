"""A censoring proposer leaves its target's txs out; the next honest proposer includes them."""

from __future__ import annotations

from agentbed.agents.blockprod.censor import CensoringPolicy
from agentbed.chain.auction import Proposer, RoundRobinSchedule, SlotAuction
from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.node import Chain
from agentbed.chain.ordering import PriorityFeePolicy


def test_censored_tx_waits_for_an_honest_proposer() -> None:
    chain = Chain(seed=3, accounts=3, automine=False)
    target, other = chain.accounts[0], chain.accounts[1]
    censor = CensoringPolicy(PriorityFeePolicy(), [target.address.lower()])
    assert isinstance(censor, OrderingPolicy) and censor.name == "censor:priority_fee"
    proposers = [
        Proposer("censor", f"0x{0xC1:040x}", policy=censor, mev_boost=False),
        Proposer("honest", f"0x{0xC2:040x}", mev_boost=False),
    ]
    # Block 1 is proposed by proposers[1 % 2]: start so the censor proposes first.
    auction = SlotAuction(chain, [], RoundRobinSchedule(proposers[::-1]))
    censored = chain.submit(chain.sign(target, {"to": other.address, "value": 1}))
    fine = chain.submit(chain.sign(other, {"to": target.address, "value": 1}))
    first = auction.run_slot()
    assert first.proposer == "censor" and first.block.tx_hashes == (fine,)
    assert [p.tx.hash for p in chain.pending_transactions()] == [censored]
    second = auction.run_slot()
    assert second.proposer == "honest" and second.block.tx_hashes == (censored,)
