"""Issue 15's intent-book attackers as agents, and the metrics that measure them.

* The batch griefer front-runs a pending settlement holding its intent with a cancel (or an
  approval revoked): on a Revert book every such settlement reverts; on a Skip book with a
  solver that routes what the book holds (``commit="held"``) none does, and the other makers
  are filled.
* The metric definitions of ``agentbed.agents.market.attack_metrics`` on hand-built fills.
"""

from __future__ import annotations

import random

import pytest

from agentbed.agents.agent import Agent, PeriodicSchedule, derive_seed
from agentbed.agents.market.attack_metrics import (
    attacker_addresses,
    diverted,
    honest_surplus,
    intent_attack_metrics,
)
from agentbed.agents.market.intents import OnUnmetCondition, Pricing
from agentbed.agents.market.strategies.batch_griefer import BatchGriefer
from agentbed.agents.market.strategies.intents import IntentMaker, Solver
from agentbed.agents.market.world import IntentFill, Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain

SEED = 4
WETH_RESERVE, USDC_RESERVE = 10**21, 3 * 10**24


def griefed_run(on_unmet: OnUnmetCondition, method: str = "cancel") -> tuple[Simulation, Market]:
    """Four makers, a griefer and a ``held`` solver, 10 blocks of 2 s."""
    chain = Chain(
        seed=SEED, accounts=8, automine=True, gas_limit=3_000_000, block_interval_ms=2_000
    )
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", WETH_RESERVE, USDC_RESERVE)], seed=SEED)
    market.fund({a.address: {"WETH": 10**20, "USDC": 3 * 10**23} for a in chain.accounts[1:]})
    chain.automine = False
    market.deploy_intent_book(Pricing.PAY_AS_FILLED, on_unmet, 0)

    def rng(*labels: object) -> random.Random:
        return random.Random(derive_seed(SEED, *labels))

    agents: list[Agent] = [
        IntentMaker(
            f"maker{i}",
            chain.accounts[1 + i],
            rng("maker", i),
            PeriodicSchedule(2_000, offset_ms=500 + 137 * i),
            mean_size=0.002,
        )
        for i in range(4)
    ]
    agents.append(
        BatchGriefer(
            "griefer",
            chain.accounts[5],
            rng("griefer"),
            PeriodicSchedule(2_000, offset_ms=900),
            mean_size=0.002,
            method=method,
        )
    )
    agents.append(Solver("solver", chain.accounts[6], rng("solver"), commit="held"))
    sim = Simulation(chain, agents, blocks=10, seed=SEED, market=market)
    sim.run()
    return sim, market


@pytest.mark.parametrize("method", ["cancel", "revoke"])
def test_batch_griefer_reverts_batches_on_a_revert_book(method: str) -> None:
    sim, market = griefed_run(OnUnmetCondition.REVERT, method)
    griefer = next(a for a in sim.agents if isinstance(a, BatchGriefer))
    metrics = intent_attack_metrics(sim, market)
    assert griefer.griefed
    assert metrics["reverted"] >= 1
    assert metrics["reverted_gas_eth"] > 0


@pytest.mark.parametrize("method", ["cancel", "revoke"])
def test_batch_griefer_reverts_nothing_on_a_skip_book_with_held_routing(method: str) -> None:
    sim, market = griefed_run(OnUnmetCondition.SKIP, method)
    griefer = next(a for a in sim.agents if isinstance(a, BatchGriefer))
    metrics = intent_attack_metrics(sim, market)
    assert griefer.griefed
    assert metrics["reverted"] == 0
    assert metrics["honest_fills"] > 0
    # Every settlement it front-ran was mined and filled other makers' intents.
    board = market.intent_board
    assert board is not None
    for tx_hash in griefer.griefed:
        assert any(
            f.tx_hash == tx_hash and f.maker != griefer.address for f in board.fills.values()
        )


def test_solver_steers_to_an_agent_named_in_the_scenario() -> None:
    chain = Chain(seed=1, accounts=4)
    solver = Solver("s", chain.accounts[2], random.Random(1), steer_to="maker0")
    solver.meet({"maker0": chain.accounts[3].address, "s": solver.address})
    assert solver.steer_to == chain.accounts[3].address
    with pytest.raises(ValueError, match="steer_to 'nobody' is no address or agent"):
        Solver("t", chain.accounts[2], random.Random(1), steer_to="nobody").meet({})


def _fill(maker: str, sell: int, buy: int, *, tx: bytes = b"t", digest: bytes = b"") -> IntentFill:
    return IntentFill(digest or maker.encode(), maker, "solver", "X", "Y", sell, buy, 0, 1, tx)


def test_diverted_is_the_honest_shortfall_against_a_pro_rata_split() -> None:
    # Both sold 1 X; 3.988 Y in all; the honest maker got its limit 1.9, the attacker 2.088.
    fills = [_fill("honest", 10**18, 19 * 10**17), _fill("attacker", 10**18, 2088 * 10**15)]
    value = lambda token, amount: amount / 10**18  # noqa: E731 - one Y is worth 1
    assert diverted(fills, {"attacker"}, value) == pytest.approx(0.094)
    # An even split diverts nothing; groups without an attacker do not count.
    even = [_fill("honest", 10**18, 2 * 10**18), _fill("attacker", 10**18, 2 * 10**18)]
    assert diverted(even, {"attacker"}, value) == 0
    assert diverted(fills, {"someone else"}, value) == 0
    # Fills of different settlements are different groups.
    apart = [_fill("honest", 10**18, 19 * 10**17, tx=b"a"), _fill("attacker", 10**18, 3 * 10**18)]
    assert diverted(apart, {"attacker"}, value) == 0


def test_honest_surplus_counts_only_honest_fills_above_their_limits() -> None:
    fills = [
        _fill("honest", 10**18, 2 * 10**18, digest=b"h"),
        _fill("attacker", 10**18, 5 * 10**18, digest=b"a"),
    ]
    limits = {b"h": 19 * 10**17, b"a": 10**18}
    value = lambda token, amount: 3 * amount / 10**18  # noqa: E731 - one Y is worth 3
    assert honest_surplus(fills, limits, {"attacker"}, value) == pytest.approx(0.3)


def test_attackers_are_griefers_steering_solvers_and_their_makers() -> None:
    chain = Chain(seed=1, accounts=6)
    own = chain.accounts[5].address
    agents: list[Agent] = [
        IntentMaker("m", chain.accounts[2], random.Random(1)),
        BatchGriefer("g", chain.accounts[3], random.Random(1)),
        Solver("s", chain.accounts[4], random.Random(1), steer_to=own),
        Solver("honest", chain.accounts[1], random.Random(1)),
    ]
    expected = {chain.accounts[3].address, chain.accounts[4].address, own}
    assert attacker_addresses(agents) == expected
