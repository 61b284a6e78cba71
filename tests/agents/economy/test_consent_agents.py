"""The economy's agents on the fixed contracts of issue 15 (flaws 1-2).

Under ``ConsentEscrow`` a buyer's proposal carries the chosen arbitrator's signed consent, which
the arbitrator refuses below its ``min_fee``; buyers read sellers' weighted records (distinct
counterparties of deals with their price at stake), which never exceed the raw counts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from agentbed.agents.agent import Agent, derive_seed
from agentbed.agents.economy.consent import Terms
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.world import TOKEN, Economy
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain

BLOCKS = 24


@dataclass
class Market:
    chain: Chain
    economy: Economy
    buyers: list[ServiceBuyer]
    sellers: list[ServiceSeller]
    arbitrators: list[Arbitrator]


def run(seed: int, *, consent: bool, min_fee: int = 0, **buyer_kwargs: Any) -> Market:
    """Three buyers, two honest sellers and two staked arbitrators for ``BLOCKS`` blocks."""
    chain = Chain(seed=seed, accounts=2 + 3 + 2 + 2)
    economy = Economy.deploy(chain, arbitrator_consent=consent)
    accounts = iter(chain.accounts[2:])

    def rng(*labels: object) -> random.Random:
        return random.Random(derive_seed(seed, *labels))

    buyers = [
        ServiceBuyer(f"buyer{i}", next(accounts), rng("buyer", i), demand=1.0, **buyer_kwargs)
        for i in range(3)
    ]
    sellers = [
        ServiceSeller(f"seller{i}", next(accounts), rng("seller", i), behaviour="honest")
        for i in range(2)
    ]
    arbitrators = [
        Arbitrator(f"arbitrator{i}", next(accounts), rng("arbitrator", i), min_fee=min_fee)
        for i in range(2)
    ]
    agents: list[Agent] = [*buyers, *sellers, *arbitrators]
    economy.fund({a.address: 1_000 * TOKEN for a in agents})
    chain.automine = False
    Simulation(chain, agents, blocks=BLOCKS, seed=seed, market=economy).run()
    return Market(chain, economy, buyers, sellers, arbitrators)


@pytest.mark.parametrize("consent", [True, False])
def test_deals_settle_on_both_escrow_variants(consent: bool) -> None:
    market = run(3, consent=consent)
    released = market.economy.outcomes()["Released"]
    assert released >= 3
    # Buyers ask the arbitrator under either escrow (only ConsentEscrow checks the answer), so
    # every deal was agreed to (some agreements end in rejected proposals).
    consents = sum(a.consents_given for a in market.arbitrators)
    assert consents >= len(market.economy.deals) > 0


def test_arbitrators_refuse_fees_below_their_minimum() -> None:
    market = run(3, consent=True, min_fee=2 * TOKEN, fee=TOKEN)
    assert market.economy.deals == {}
    assert sum(a.consents_given for a in market.arbitrators) == 0
    assert all(buyer.chosen == [] for buyer in market.buyers)


def test_arbitrator_consents_only_for_itself() -> None:
    market = run(3, consent=True)
    first, second = market.arbitrators
    seller = market.sellers[0].address
    terms = Terms(seller, second.address, TOKEN, 0, 0, TOKEN, 10**9, 10**9 + 60)
    assert first.consent(market.buyers[0].address, terms) is None
    salt, signature = second.consent(market.buyers[0].address, terms) or (b"", b"")
    assert len(salt) == 32
    assert len(signature) == 65


def test_weighted_record_counts_distinct_buyers_not_deals() -> None:
    market = run(5, consent=True)
    reader, economy = market.chain, market.economy
    for seller in market.sellers:
        raw = economy.record(reader, seller.address)
        weighted = economy.record(reader, seller.address, min_stake=TOKEN)
        assert weighted.completed <= min(raw.completed, len(market.buyers))
        buyers = {d.proposer for d in economy.escrows_of(seller.address) if d.state == "Released"}
        assert weighted.completed == len(buyers)
    # A threshold above any deal's stake (price plus both bonds: 22 tokens) counts nothing.
    seller = market.sellers[0].address
    assert economy.record(reader, seller, min_stake=23 * TOKEN).completed == 0


def test_buyer_rejects_an_unknown_reputation_mode() -> None:
    chain = Chain(seed=1, accounts=3)
    with pytest.raises(ValueError, match="reputation must be weighted or raw"):
        ServiceBuyer("b", chain.accounts[2], random.Random(1), reputation="count")
