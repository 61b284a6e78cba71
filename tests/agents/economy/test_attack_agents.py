"""Issue 15's escrow attackers as agents, in short deterministic runs on both contract variants.

* The arbitrator griefer and its sybil slash a victim that attends only what it agreed to
  (``attends="agreed"``) on the plain ``Escrow``, round after round until it is ineligible;
  under ``ConsentEscrow`` the victim refuses a fee below its minimum and nothing happens.
* The reputation farmer's sybil raises the farmer's raw completed count with worthless deals;
  the weighted record stays at zero, so a buyer reading raw counts sends it more deals than one
  reading the weighted record, on the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from agentbed.agents.agent import Agent, derive_seed
from agentbed.agents.economy.attack_metrics import escrow_attack_metrics
from agentbed.agents.economy.strategies.attacks import ArbitratorGriefer, ReputationFarmer, Sybil
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.world import TOKEN, Economy
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain


@dataclass
class Run:
    chain: Chain
    economy: Economy
    sim: Simulation
    agents: dict[str, Agent]


def simulate(seed: int, consent: bool, blocks: int, *agents: tuple[type[Agent], str, dict]) -> Run:
    """``agents`` (class, name, parameters) on a fresh economy, each funded with 1,000 AGC."""
    chain = Chain(seed=seed, accounts=2 + len(agents))
    economy = Economy.deploy(chain, arbitrator_consent=consent, ruling_window=24)
    made = {
        name: cls(name, chain.accounts[2 + i], random.Random(derive_seed(seed, name)), **params)
        for i, (cls, name, params) in enumerate(agents)
    }
    economy.fund({a.address: 1_000 * TOKEN for a in made.values()})
    chain.automine = False
    sim = Simulation(chain, list(made.values()), blocks=blocks, seed=seed, market=economy)
    sim.run()
    return Run(chain, economy, sim, made)


def griefing(consent: bool) -> Run:
    return simulate(
        3,
        consent,
        22,
        (Arbitrator, "victim", {"min_fee": TOKEN, "attends": "agreed"}),
        (
            ArbitratorGriefer,
            "griefer",
            {"sybil": "sybil", "victim": "victim", "rounds": 4, "max_open": 1},
        ),
        (Sybil, "sybil", {"principal": "griefer"}),
    )


def test_griefer_slashes_a_victim_named_without_consent_on_the_plain_escrow() -> None:
    run = griefing(consent=False)
    victim = run.agents["victim"].address
    # 200 staked, 50 slashed a round, ineligible below 100: three rounds, then it stops.
    assert run.economy.stake_of(run.chain, victim) == 50 * TOKEN
    assert run.economy.no_shows(run.chain, victim) == 3
    assert not run.economy.eligible(run.chain, victim)
    metrics = escrow_attack_metrics(run.sim, run.economy)
    assert metrics["stake_lost"] == 150
    assert metrics["no_shows"] == 3
    assert metrics["attacker_net"] == 0  # nothing but gas
    assert metrics["attacker_gas_eth"] > 0


def test_griefer_does_no_damage_under_consent() -> None:
    run = griefing(consent=True)
    victim = run.agents["victim"].address
    assert run.economy.stake_of(run.chain, victim) == 200 * TOKEN
    assert run.economy.deals == {}  # the victim refused every zero-fee appointment
    metrics = escrow_attack_metrics(run.sim, run.economy)
    assert metrics["stake_lost"] == metrics["no_shows"] == 0


def test_a_victim_attending_every_dispute_rules_and_is_not_slashed() -> None:
    run = simulate(
        3,
        False,
        22,
        (Arbitrator, "victim", {"attends": "all"}),
        (ArbitratorGriefer, "griefer", {"sybil": "sybil", "victim": "victim", "rounds": 2}),
        (Sybil, "sybil", {"principal": "griefer"}),
    )
    assert run.economy.outcomes()["Ruled"] == 2
    assert run.economy.stake_of(run.chain, run.agents["victim"].address) == 200 * TOKEN


def farming(reputation: str) -> Run:
    buyer = {"reputation": reputation, "explore": 0.0, "demand": 1.0, "dispute_prob": 1.0}
    return simulate(
        5,
        True,
        30,
        (Arbitrator, "arbitrator", {}),
        (ServiceSeller, "honest", {"behaviour": "honest"}),
        (ReputationFarmer, "farmer", {"sybil": "sybil", "cost": 0}),
        (Sybil, "sybil", {"principal": "farmer", "farm_deals": 6, "max_open": 3}),
        (ServiceBuyer, "buyer", buyer),
    )


def test_sybil_farms_a_raw_record_that_the_weighted_one_ignores() -> None:
    run = farming("weighted")
    farmer, sybil = run.agents["farmer"], run.agents["sybil"]
    farmed = [d for d in run.economy.deals.values() if d.proposer == sybil.address and d.price == 0]
    assert sum(d.state == "Released" for d in farmed) == 6
    assert run.economy.record(run.chain, farmer.address).completed == 6
    assert run.economy.record(run.chain, farmer.address, min_stake=TOKEN).completed == 0


def test_raw_counts_send_honest_buyers_to_the_farmer() -> None:
    raw = escrow_attack_metrics(*_sim_economy(farming("raw")))
    weighted = escrow_attack_metrics(*_sim_economy(farming("weighted")))
    assert raw["displaced"] > weighted["displaced"]
    assert raw["honest_welfare"] < weighted["honest_welfare"]


def _sim_economy(run: Run) -> tuple[Simulation, Economy]:
    return run.sim, run.economy


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (ArbitratorGriefer, {"sybil": "s", "max_open": 0}, "max_open"),
        (ArbitratorGriefer, {"rounds": -1}, "rounds"),
        (Sybil, {"farm_deals": -1}, "farm_deals"),
    ],
)
def test_attackers_reject_bad_parameters(cls: type[Agent], params: dict, message: str) -> None:
    chain = Chain(seed=1, accounts=3)
    with pytest.raises(ValueError, match=message):
        cls("a", chain.accounts[2], random.Random(1), **params)


def test_an_unknown_accomplice_name_is_reported_with_the_agents() -> None:
    chain = Chain(seed=1, accounts=3)
    griefer = ArbitratorGriefer("g", chain.accounts[2], random.Random(1), sybil="nobody")
    with pytest.raises(ValueError, match="sybil 'nobody' is not an agent of the run"):
        griefer.meet({"g": griefer.address})


@pytest.mark.parametrize(
    ("cls", "role"),
    [(ArbitratorGriefer, "sybil"), (Sybil, "principal"), (ReputationFarmer, "sybil")],
)
def test_an_accomplice_left_unnamed_is_reported(cls: type[Agent], role: str) -> None:
    chain = Chain(seed=1, accounts=3)
    agent = cls("a", chain.accounts[2], random.Random(1))
    with pytest.raises(ValueError, match=f"a: {role} must name an agent of the run"):
        agent.meet({"a": agent.address})
