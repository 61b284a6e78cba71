"""Reorg-as-a-service agents: the seller is the time-bandit when no bounty is on offer, takes a
bounty into its reorg decision, seals the buyer's substitute, and claims what it earned."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.blockprod.bandit import BanditPlan, TimeBanditProposer
from agentbed.agents.blockprod.bounty import (
    BountyBuyer,
    BountyOrder,
    BountyOrderError,
    BountySeller,
)
from agentbed.chain.node import GWEI, Chain

BANDIT = "0x00000000000000000000000000000000000000B0"
HONEST = "0x00000000000000000000000000000000000000a0"
ETH = 10**18


def _transfer(chain: Chain, sender: Any, tip_gwei: int, nonce: int | None = None) -> bytes:
    fields = {
        "to": chain.accounts[4].address,
        "value": 1,
        "gas": 21_000,
        "maxPriorityFeePerGas": tip_gwei * GWEI,
        "maxFeePerGas": 2 * chain.base_fee + tip_gwei * GWEI,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(sender, fields)


def _world(seed: int = 5) -> tuple[Chain, str]:
    """A chain with the bounty contract and two honest blocks holding a 1-gwei transfer each."""
    chain = Chain(seed=seed, accounts=5, automine=False)
    contract = chain.deploy("ReorgBounty").address
    chain.coinbase = HONEST
    for _ in range(2):
        chain.submit(_transfer(chain, chain.accounts[0], 1))
        chain.mine()
    return chain, contract


def _seller(chain: Chain, contract: str, cost: int) -> BountySeller:
    return BountySeller(
        TimeBanditProposer("b", BANDIT, cost, max_depth=3), chain.accounts[3], contract
    )


def test_without_orders_the_seller_is_the_bandit() -> None:
    blocks = []
    for sell in (False, True):
        chain, contract = _world()
        seller = _seller(chain, contract, cost=10**12)  # below the blocks' tips: it reorgs
        if sell:
            assert seller.bonus(chain, [])(3) == 0
            blocks.append(seller.propose(chain, []))
        else:
            blocks.append(seller.bandit.propose(chain))
        assert len(chain.reorgs) == 1
    assert blocks[0] == blocks[1]


def test_bounty_tips_the_decision_and_the_substitute_is_sealed() -> None:
    chain, contract = _world()
    payer = chain.accounts[1]
    original = chain.submit(_transfer(chain, payer, 1))
    chain.mine()
    target = chain.block_number
    substitute = chain.decode(_transfer(chain, payer, 1, nonce=chain.transaction(original).nonce))
    buyer = BountyBuyer(payer, contract)
    raw, order = buyer.offer(chain, target, ETH // 10, target + 3, [(original, substitute)])
    chain.submit(raw)
    seller = _seller(chain, contract, cost=ETH // 50)
    assert seller.bandit.plan(chain) == BanditPlan(0, 0)  # the tips alone do not pay
    plan = seller.bandit.plan(chain, seller.bonus(chain, [order]))
    assert plan.depth == 1 and plan.gain > ETH // 10 - ETH // 50
    block = seller.propose(chain, [order])
    assert chain.reorgs[-1].depth == 1 and chain.head == block
    replaced = chain.block(target)
    assert replaced.coinbase == BANDIT and replaced.tx_hashes == (substitute.hash,)
    assert seller.claims(chain) == []  # the deadline has not passed
    chain.coinbase = HONEST
    chain.mine(3)
    (claim,) = seller.claims(chain)
    assert seller.claims(chain) == []  # claimed once
    before = chain.balance(BANDIT)
    chain.submit(claim)
    chain.mine()
    assert chain.balance(BANDIT) - before == ETH // 10
    assert chain.balance(contract) == 0


def test_buyer_refuses_offers_the_contract_would_revert() -> None:
    chain, contract = _world()
    buyer = BountyBuyer(chain.accounts[1], contract)
    head = chain.block_number
    with pytest.raises(BountyOrderError, match="need amount > 0 and a past block"):
        buyer.offer(chain, head + 1, 1, head + 3)
    with pytest.raises(BountyOrderError, match="need amount > 0"):
        buyer.offer(chain, head, 0, head + 3)
    with pytest.raises(BountyOrderError, match="must be after the head"):
        buyer.offer(chain, head, 1, head)
    with pytest.raises(BountyOrderError, match="before block"):
        buyer.offer(chain, head, 1, head + 256)


@settings(max_examples=25, deadline=None)
@given(
    amounts=st.lists(st.integers(1, ETH), min_size=0, max_size=4),
    numbers=st.lists(st.integers(1, 2), min_size=4, max_size=4),
)
def test_fuzz_bonus_counts_live_orders_within_depth(amounts: list[int], numbers: list[int]) -> None:
    chain = Chain(seed=2, accounts=1, automine=False)
    chain.mine(2)
    seller = BountySeller(TimeBanditProposer("b", BANDIT, 1), chain.accounts[0], HONEST)
    orders = [
        BountyOrder(HONEST, n, chain.block(n).hash, 5, amount)
        for amount, n in zip(amounts, numbers, strict=False)
    ]
    stale = BountyOrder(HONEST, 2, b"\x01" * 32, 5, ETH)  # names a hash that is not canonical
    bonus = seller.bonus(chain, [*orders, stale])
    assert bonus(1) == sum(o.amount for o in orders if o.block_number == 2)
    assert bonus(2) == bonus(3) == sum(amounts[: len(orders)])
