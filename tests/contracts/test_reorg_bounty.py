"""``contracts/ReorgBounty.sol``: reorg-as-a-service.

A buyer escrows ETH for "block N with hash H is not canonical after block D". The tests make
the block non-canonical with the chain's fork API (:meth:`Chain.mine_on` on N's parent, then a
longer branch), so ``blockhash`` follows the canonical chain exactly as a client sees it. The
property test (hypothesis, each example on a snapshot) checks over amounts, deadlines, reorg
depths and early settlement attempts: the bounty is paid (to the replacing block's coinbase)
only if the block was replaced, refunded otherwise, settled once, and the contract keeps nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from txkit import assert_ok, assert_reverted, events, tx_helpers

from agentbed.chain.node import Chain

GAS = 300_000
ATTACKER = to_checksum_address("0x000000000000000000000000000000000000bad1")
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

send, ok, reverts = tx_helpers(GAS)


def paying(chain: Chain, sender: LocalAccount, call: Any, value: int) -> Any:
    """Send ``call`` with ``value`` wei attached; return its receipt, whatever the status."""
    return chain.receipt(chain.transact(sender, call, gas=GAS, value=value))


@pytest.fixture
def bounty(chain: Chain, deploy: Any) -> Any:
    return deploy("ReorgBounty")


@pytest.fixture
def buyer(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def keeper(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    """Settles bounties (anyone may)."""
    return accounts[2]


def offered(chain: Chain, bounty: Any, buyer: LocalAccount, amount: int, k: int) -> int:
    """Seal a target block N, then offer ``amount`` for N not to be canonical after N + k."""
    chain.mine()
    target = chain.head
    call = bounty.functions.offer(target.number, target.hash, target.number + k)
    rec = assert_ok(paying(chain, buyer, call, amount))
    ((name, args),) = events(rec, bounty)
    assert name == "BountyOffered" and args["amount"] == amount
    return int(args["id"])


def replace_from(chain: Chain, number: int, coinbase: str = ATTACKER) -> None:
    """Re-mine every block from ``number`` to the head with the same txs and ``coinbase``,
    plus one more, so the new branch is longer and becomes canonical."""
    head = chain.block_number
    parent = chain.block(number - 1).hash
    for n in range(number, head + 1):
        txs = [chain.transaction(h) for h in chain.block(n).tx_hashes]
        parent = chain.mine_on(parent, txs, coinbase=coinbase).hash
    chain.mine_on(parent, [], coinbase=coinbase)
    assert chain.reorgs[-1].depth == head - number + 1


def past_deadline(chain: Chain, bounty: Any, bounty_id: int) -> None:
    deadline = bounty.functions.bounty(bounty_id).call()[2]
    chain.mine(max(0, deadline + 1 - chain.block_number))


def test_offer_escrows_the_amount(chain, bounty, buyer):
    bounty_id = offered(chain, bounty, buyer, 5 * 10**17, 4)
    target = chain.block(chain.block_number - 1)
    assert bounty.functions.bounty(bounty_id).call() == (
        buyer.address,
        target.number,
        target.number + 4,
        5 * 10**17,
        target.hash,
    )
    assert chain.balance(bounty.address) == 5 * 10**17


def test_revert_when_offer_is_malformed(chain, bounty, buyer):
    chain.mine()
    head = chain.head
    offer = bounty.functions.offer
    assert reverts(chain, buyer, offer(head.number, head.hash, head.number + 5)) == (
        "ReorgBountyZeroAmount()"
    )
    # Each offer is sealed in the block after the head it was made at (automine).
    cases = [
        lambda b: (b.number + 1, b.hash, b.number + 5),  # not a past block at inclusion
        lambda b: (b.number, b"\x00" * 32, b.number + 5),  # no hash
        lambda b: (b.number - 1, b.hash, b.number),  # deadline passed at inclusion
        lambda b: (b.number, b.hash, b.number + 256),  # blockhash unreadable after it
    ]
    for case in cases:
        number, block_hash, deadline = case(chain.head)
        reason = assert_reverted(paying(chain, buyer, offer(number, block_hash, deadline), 1))
        assert reason == f"ReorgBountyInvalidTarget({number}, 0x{block_hash.hex()}, {deadline})"
    assert chain.balance(bounty.address) == 0


def test_replaced_block_pays_the_replacing_coinbase(chain, bounty, buyer, keeper):
    bounty_id = offered(chain, bounty, buyer, 10**18, 3)
    number = bounty.functions.bounty(bounty_id).call()[1]
    replace_from(chain, number)
    assert bounty.functions.bountyCount().call() == 1  # the offer was re-included
    past_deadline(chain, bounty, bounty_id)
    assert reverts(chain, keeper, bounty.functions.refund(bounty_id)) == (
        f"ReorgBountyBlockReplaced({bounty_id})"
    )
    wrong = chain.header_rlp(number + 1)
    assert reverts(chain, keeper, bounty.functions.claim(bounty_id, wrong)) == (
        f"ReorgBountyBadHeader({bounty_id})"
    )
    rec = ok(chain, keeper, bounty.functions.claim(bounty_id, chain.header_rlp(number)))
    assert events(rec, bounty) == [
        ("BountyClaimed", {"id": bounty_id, "payee": ATTACKER, "amount": 10**18})
    ]
    assert chain.balance(ATTACKER) >= 10**18 and chain.balance(bounty.address) == 0


def test_refund_after_the_window_even_if_replaced(chain, bounty, buyer, keeper):
    bounty_id = offered(chain, bounty, buyer, 7, 2)
    number = bounty.functions.bounty(bounty_id).call()[1]
    replace_from(chain, number)
    chain.mine(number + 255 - chain.block_number)  # the next block is the last that can claim
    assert chain.block_number == number + 255, (chain.block_number, number)
    header = chain.header_rlp(number)
    snapshot = chain.snapshot()
    ok(chain, keeper, bounty.functions.claim(bounty_id, header))
    chain.revert(snapshot)
    chain.mine()
    assert reverts(chain, keeper, bounty.functions.claim(bounty_id, header)) == (
        f"ReorgBountyWindowClosed({bounty_id})"
    )
    before = chain.balance(buyer.address)
    ok(chain, keeper, bounty.functions.refund(bounty_id))
    assert chain.balance(buyer.address) == before + 7
    assert chain.balance(bounty.address) == 0


def test_fuzz_paid_only_if_replaced_refunded_otherwise_once(chain, bounty, buyer, keeper):
    @FUZZ
    @given(
        amount=st.integers(1, 10**20),
        k=st.integers(2, 6),
        replaced=st.booleans(),
        extra_depth=st.integers(0, 2),
        try_early=st.booleans(),
    )
    def run(amount: int, k: int, replaced: bool, extra_depth: int, try_early: bool) -> None:
        snapshot = chain.snapshot()
        try:
            bounty_id = offered(chain, bounty, buyer, amount, k)
            number = bounty.functions.bounty(bounty_id).call()[1]
            chain.mine(extra_depth)  # the reorg orphans 2 + extra_depth blocks
            if replaced:
                replace_from(chain, number)
            header = chain.header_rlp(number)
            f = bounty.functions
            if try_early and chain.block_number + 2 <= number + k:  # two blocks to try in
                early = f"ReorgBountyDeadlineNotPassed({bounty_id}, {number + k})"
                assert reverts(chain, keeper, f.claim(bounty_id, header)) == early
                assert reverts(chain, keeper, f.refund(bounty_id)) == early
            past_deadline(chain, bounty, bounty_id)
            buyer_before, attacker_before = chain.balance(buyer.address), chain.balance(ATTACKER)
            wrong, right = (f.refund, f.claim) if replaced else (f.claim, f.refund)
            wrong_args = (bounty_id,) if replaced else (bounty_id, header)
            right_args = (bounty_id, header) if replaced else (bounty_id,)
            expected = "BlockReplaced" if replaced else "BlockCanonical"
            assert reverts(chain, keeper, wrong(*wrong_args)) == (
                f"ReorgBounty{expected}({bounty_id})"
            )
            ok(chain, keeper, right(*right_args))
            for call in (f.claim(bounty_id, header), f.refund(bounty_id)):
                assert reverts(chain, keeper, call) == f"ReorgBountyNotOpen({bounty_id})"
            paid_to_attacker = chain.balance(ATTACKER) - attacker_before
            refunded = chain.balance(buyer.address) - buyer_before
            assert (paid_to_attacker, refunded) == ((amount, 0) if replaced else (0, amount))
            assert chain.balance(bounty.address) == 0
        finally:
            chain.revert(snapshot)

    run()


def test_contract_holds_exactly_the_open_bounties(chain, bounty, buyer, keeper):
    first = offered(chain, bounty, buyer, 3, 2)
    second = offered(chain, bounty, buyer, 11, 2)
    assert chain.balance(bounty.address) == 14
    past_deadline(chain, bounty, second)
    ok(chain, keeper, bounty.functions.refund(first))
    assert chain.balance(bounty.address) == 11
    ok(chain, keeper, bounty.functions.refund(second))
    assert chain.balance(bounty.address) == 0
