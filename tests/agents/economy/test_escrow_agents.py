"""The escrow market (issue 7, scenario 1): buyers, sellers of each kind, arbitrators.

Each test runs a small market (a few buyers, sellers and two arbitrators, a few dozen blocks)
on a fresh chain through ``Economy`` and checks that the mechanism moves the outcome the way it
predicts, with margins a broken mechanism would miss.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from agentbed.agents.agent import Agent, derive_seed
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.world import TOKEN, Economy, TimeoutPolicy
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain

BLOCKS = 40


@dataclass
class EscrowRun:
    """A finished run: the economy, its agents by role, and the chain."""

    chain: Chain
    economy: Economy
    buyers: list[ServiceBuyer]
    sellers: list[ServiceSeller]
    arbitrators: list[Arbitrator]

    def sellers_of(self, behaviour: str) -> list[ServiceSeller]:
        return [s for s in self.sellers if s.behaviour == behaviour]

    def timeout_rate(self, sellers: Sequence[ServiceSeller]) -> float:
        outcomes = self.economy.outcomes(s.address for s in sellers)
        return outcomes["TimedOut"] / sum(outcomes.values())

    def honest_share(self) -> float:
        """Fraction of the buyers' proposals that went to honest sellers."""
        honest = {s.address for s in self.sellers_of("honest")}
        chosen = [seller for buyer in self.buyers for seller in buyer.chosen]
        return sum(seller in honest for seller in chosen) / len(chosen)


def run_market(
    seed: int,
    sellers: Sequence[dict[str, Any]],
    *,
    buyers: int = 6,
    arbitrators: Sequence[dict[str, Any]] = ({}, {}),
    timeout_policy: TimeoutPolicy = "slash",
    community: bool = False,
    min_arbitrator_stake: int = 100 * TOKEN,
    blocks: int = BLOCKS,
    **buyer_kwargs: Any,
) -> EscrowRun:
    """Run buyers against sellers (one kwargs dict each) with the given arbitrators."""
    chain = Chain(seed=seed, accounts=2 + buyers + len(sellers) + len(arbitrators))
    economy = Economy.deploy(
        chain,
        timeout_policy=timeout_policy,
        community=community,
        min_arbitrator_stake=min_arbitrator_stake,
    )
    accounts = iter(chain.accounts[2:])

    def rng(*labels: object) -> random.Random:
        return random.Random(derive_seed(seed, *labels))

    the_buyers = [
        ServiceBuyer(f"buyer{i}", next(accounts), rng("buyer", i), **buyer_kwargs)
        for i in range(buyers)
    ]
    the_sellers = [
        ServiceSeller(f"seller{i}", next(accounts), rng("seller", i), **kwargs)
        for i, kwargs in enumerate(sellers)
    ]
    the_arbitrators = [
        Arbitrator(f"arbitrator{i}", next(accounts), rng("arbitrator", i), **kwargs)
        for i, kwargs in enumerate(arbitrators)
    ]
    agents: list[Agent] = [*the_buyers, *the_sellers, *the_arbitrators]
    economy.fund({a.address: 1_000 * TOKEN for a in agents})
    chain.automine = False
    Simulation(chain, agents, blocks=blocks, seed=seed, market=economy).run()
    return EscrowRun(chain, economy, the_buyers, the_sellers, the_arbitrators)


def kinds(*behaviours: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"behaviour": b, **extra} for b in behaviours]


def test_honest_sellers_settle_and_adversarial_ones_lose_the_dispute() -> None:
    market = run_market(
        1, kinds("honest", "honest", "adversarial", "adversarial"), ignore_reputation=True
    )
    economy = market.economy
    honest, adversarial = market.sellers_of("honest"), market.sellers_of("adversarial")
    settled = economy.outcomes(s.address for s in honest)
    assert settled["Released"] >= 5
    assert set(settled) == {"Released"}
    lost = economy.outcomes(s.address for s in adversarial)
    assert lost["Ruled"] >= 5
    assert set(lost) == {"Ruled"}
    for deal in economy.deals.values():
        if deal.state == "Ruled":  # an honest arbitrator gives the buyer the whole pot
            assert deal.to_proposer == deal.pot
    reader = market.chain
    for seller in honest:
        record = economy.record(reader, seller.address)
        assert record.bad == 0
        assert record.completed == economy.outcomes([seller.address])["Released"]
    for seller in adversarial:
        record = economy.record(reader, seller.address)
        assert record.completed == 0
        assert record.dispute_lost == economy.outcomes([seller.address])["Ruled"] > 0


@pytest.mark.parametrize("policy", ["slash", "refund"])
def test_unwatched_defaults_time_out_under_the_timeout_policy(policy: TimeoutPolicy) -> None:
    market = run_market(
        2,
        kinds("adversarial", "adversarial"),
        buyers=4,
        timeout_policy=policy,
        dispute_prob=0.0,
        blocks=30,
    )
    economy = market.economy
    timed_out = [d for d in economy.deals.values() if d.state == "TimedOut"]
    assert len(timed_out) >= 3
    assert set(economy.outcomes()) == {"TimedOut"}
    expected = sum(d.proposer_bond + d.counterparty_bond for d in timed_out)
    assert economy.slashed_bonds == (expected if policy == "slash" else 0)
    assert economy.balance_of(market.chain, economy.treasury) == economy.slashed_bonds
    for seller in market.sellers:
        assert economy.record(market.chain, seller.address).defaulted == sum(
            d.counterparty == seller.address for d in timed_out
        )


def test_slash_on_timeout_lowers_the_opportunistic_timeout_rate() -> None:
    gaps = []
    for seed in (1, 2):
        rates = {}
        policies: tuple[TimeoutPolicy, ...] = ("refund", "slash")
        for policy in policies:
            market = run_market(
                seed,
                kinds("opportunistic", "opportunistic", "opportunistic", "opportunistic"),
                timeout_policy=policy,
                ignore_reputation=True,
                dispute_prob=0.5,
            )
            rates[policy] = market.timeout_rate(market.sellers)
        gaps.append(rates["refund"] - rates["slash"])
    # Measured: refund 0.48 / 0.24, slash 0.08 / 0.05 on seeds 1 / 2.
    assert min(gaps) >= 0.1, gaps


def test_reputation_using_buyers_pick_honest_sellers_more_often() -> None:
    sellers = kinds("honest", "honest", "adversarial", "adversarial", "deceptive", "adaptive")
    gaps = []
    for seed in (1, 2):
        using = run_market(seed, sellers).honest_share()
        ignoring = run_market(seed, sellers, ignore_reputation=True).honest_share()
        gaps.append(using - ignoring)
    # Measured: using 0.66 / 0.80, ignoring 0.28 / 0.29 (a third of the sellers are honest).
    assert min(gaps) >= 0.2, gaps


def test_deceptive_sellers_exploit_after_k_deals_and_adaptive_ones_reform_once_caught() -> None:
    market = run_market(
        3, kinds("deceptive", "adaptive", honest_deals=2), buyers=4, ignore_reputation=True
    )
    deceptive, adaptive = market.sellers
    plans = [deceptive.plans[i] for i in sorted(deceptive.plans)]
    assert len(plans) >= 4
    assert plans == [False, False] + [True] * (len(plans) - 2)
    reformed = [adaptive.plans[i] for i in sorted(adaptive.plans)]
    assert reformed[0] is True and reformed[-1] is False
    assert reformed == sorted(reformed, reverse=True)  # never relapses
    assert adaptive.caught


@pytest.mark.parametrize(("community", "bribed"), [(False, True), (True, False)])
def test_a_corruptible_arbitrator_rules_for_a_bribing_seller(community: bool, bribed: bool) -> None:
    """Bribes need a transferable currency: a community currency blocks the side payment."""
    market = run_market(
        4,
        kinds("adversarial", bribe=2 * TOKEN),
        buyers=4,
        arbitrators=({"corruptible": True},),
        community=community,
    )
    ruled = [d for d in market.economy.deals.values() if d.state == "Ruled"]
    assert len(ruled) >= 3
    (arbitrator,) = market.arbitrators
    if bribed:
        assert arbitrator.bribed_rulings == len(ruled)
        assert all(d.to_proposer == d.proposer_bond for d in ruled)
    else:
        assert market.sellers[0].failed >= len(ruled)  # each bribe reverted
        assert sum(market.economy.side_payments.values()) == 0
        assert arbitrator.bribed_rulings == 0
        assert all(d.to_proposer == d.pot for d in ruled)


def test_unstaked_arbitrators_are_never_named_when_stake_is_required() -> None:
    market = run_market(
        5,
        kinds("honest"),
        buyers=3,
        arbitrators=({}, {"stake": 0}),
        blocks=20,
    )
    staked, unstaked = market.arbitrators
    named = {d.arbitrator for d in market.economy.deals.values()}
    assert named == {staked.address}
    assert unstaked.address not in named


def test_same_seed_same_blocks() -> None:
    first = run_market(6, kinds("opportunistic", "honest"), buyers=3, blocks=15)
    second = run_market(6, kinds("opportunistic", "honest"), buyers=3, blocks=15)
    assert first.chain.head.hash == second.chain.head.hash
    assert first.economy.deals == second.economy.deals
