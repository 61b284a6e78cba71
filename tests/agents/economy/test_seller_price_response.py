"""Sellers that respond to the escrow's tax (``ServiceSeller``'s ``min_margin``): the margin
rule by hand, and a seller that declines a proposal at a high tax and accepts it untaxed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.agent import TxIntent
from agentbed.agents.economy.governance import Governance, seller_margin
from agentbed.agents.economy.strategies.escrow import ServiceSeller
from agentbed.agents.economy.world import TOKEN, Deal

SELLER = Account.from_key(b"\x01" * 32)


def test_seller_margin_by_hand() -> None:
    # Price 10 and bond 10 paid out in one payout, taxed; the bond was the seller's own.
    assert seller_margin(10 * TOKEN, 10 * TOKEN, 4 * TOKEN, 0) == 6 * TOKEN
    assert seller_margin(10 * TOKEN, 10 * TOKEN, 4 * TOKEN, 500) == 5 * TOKEN
    assert seller_margin(10 * TOKEN, 10 * TOKEN, 4 * TOKEN, 2000) == 2 * TOKEN
    assert seller_margin(10 * TOKEN, 10 * TOKEN, 0, 2000) == 6 * TOKEN
    # The escrow's floor: a payout of 199 wei at 1 bps is taxed 0 wei, one of 10 000 wei 1 wei.
    assert seller_margin(99, 100, 0, 1) == 99
    assert seller_margin(9_900, 100, 0, 1) == 9_899


@given(
    price=st.integers(0, 10**21),
    bond=st.integers(0, 10**21),
    cost=st.integers(0, 10**21),
    low=st.integers(0, 9_999),
    high=st.integers(0, 9_999),
)
def test_fuzz_margin_never_rises_with_the_tax(
    price: int, bond: int, cost: int, low: int, high: int
) -> None:
    low, high = min(low, high), max(low, high)
    assert seller_margin(price, bond, cost, 0) == price - cost
    assert seller_margin(price, bond, cost, high) <= seller_margin(price, bond, cost, low)


@dataclass
class OneProposalEconomy:
    """What a seller reads on a wake: one proposal addressed to it, under a tax."""

    tax_bps: int
    deals: list[Deal]
    sellers: list[str] = field(default_factory=lambda: [SELLER.address])
    block_interval_s: int = 12
    grace_period: int = 0
    slash_on_timeout: bool = True

    @property
    def governor(self) -> Any:
        return SimpleNamespace(rules=Governance(tax_bps=self.tax_bps), frozen=frozenset())

    def escrows_of(self, address: str) -> list[Deal]:
        return self.deals

    def accept(self, deal: int) -> TxIntent:
        return TxIntent("0xescrow", label="accept", meta={"deal": deal})


def proposal(deal_id: int, price: int = 10 * TOKEN) -> Deal:
    return Deal(
        id=deal_id,
        proposer="buyer",
        counterparty=SELLER.address,
        arbitrator="arb",
        price=price,
        proposer_bond=2 * TOKEN,
        counterparty_bond=10 * TOKEN,
        fee=TOKEN,
        accept_by=120,
        deliver_by=180,
        state="Proposed",
    )


def wake(seller: ServiceSeller, economy: OneProposalEconomy, block: int = 1) -> list[str]:
    """The labels of what ``seller`` sends on a wake at ``block`` (12 s blocks)."""
    head = SimpleNamespace(number=block, timestamp=12 * block)
    view: Any = SimpleNamespace(head=head, market=economy)
    return [intent.label for intent in seller.observe(view)]


def responsive(behaviour: str = "honest", **kwargs: Any) -> ServiceSeller:
    return ServiceSeller(
        "seller0",
        SELLER,
        random.Random(7),
        behaviour=behaviour,  # type: ignore[arg-type]  # a Behaviour name
        min_margin=int(5.5 * TOKEN),
        **kwargs,
    )


def test_responsive_seller_accepts_untaxed_and_declines_and_leaves_at_a_high_tax() -> None:
    untaxed = OneProposalEconomy(0, [proposal(1)])
    seller = responsive()
    assert wake(seller, untaxed) == ["accept"]  # margin 6 AGC >= 5.5
    assert seller.priced_out == [] and untaxed.sellers == [SELLER.address]

    taxed = OneProposalEconomy(2000, [proposal(1)])
    seller = responsive()
    assert wake(seller, taxed) == []  # margin 2 AGC < 5.5: left to expire
    assert seller.priced_out == [1]
    assert taxed.sellers == []  # off the directory buyers choose from
    # Gone for good: a later proposal, even a well-paid one, is declined too.
    taxed.deals.append(proposal(2, price=100 * TOKEN))
    assert wake(seller, taxed, block=2) == []
    assert seller.priced_out == [1, 2]


@pytest.mark.parametrize(("tax_bps", "labels"), [(0, ["accept"]), (500, [])])
def test_the_tax_at_which_an_honest_seller_leaves(tax_bps: int, labels: list[str]) -> None:
    # 6 - 20 t AGC: 5.5 is reached at t = 2.5 %; at 5 % the margin is 5 AGC.
    assert wake(responsive(), OneProposalEconomy(tax_bps, [proposal(1)])) == labels


def test_a_seller_that_means_to_default_counts_no_cost_and_stays() -> None:
    # An adversarial seller does not deliver: its margin at 20 % is 6 AGC, not 2.
    seller = responsive("adversarial")
    assert wake(seller, OneProposalEconomy(2000, [proposal(1)])) == ["accept"]
    assert seller.plans == {1: True} and seller.priced_out == []


def test_without_min_margin_every_proposal_is_accepted() -> None:
    seller = ServiceSeller("seller0", SELLER, random.Random(7))
    assert wake(seller, OneProposalEconomy(9_999, [proposal(1, price=0)])) == ["accept"]
