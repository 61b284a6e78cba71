"""Searcher outcomes checked against theory.

1. A sandwich's realised profit equals the optimum of the constant-product formula with fee,
   to the wei: the optimum is found here by exhaustive search over every front-run size,
   with the pool's integer formula written out below (not ``agentbed.agents.market.amm_math``).
2. Under FIFO ordering, fees buy no place: two equally fast frontrunners each win the race
   for a victim about half the time (a binomial interval), whatever they bid; one with lower
   latency wins nearly always; and no front-run ever lands ahead of its victim.
3. Under priority ordering, two frontrunners bid each other up (a priority gas auction) until
   the winner pays most of the value it extracts; alone, a frontrunner pays next to nothing.

Every run is seeded; the random part of each trial (reaction-time jitter) comes from
``derive_seed``, so the counts below are the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from marketkit import OneShot, World, block_receipts, build_world, once_at, swap_amounts

from agentbed.agents.agent import GWEI, AgentView
from agentbed.agents.market.strategies.frontrun import Frontrunner
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.world import PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.latency import ConstantLatency, PerObserverLatency
from agentbed.chain.ordering import BundlesFirstPolicy, FifoPolicy, PriorityFeePolicy

SEED = 20260101
BPS = 10_000


# ---------------------------------------------------------------------------------------------
# 1. the sandwich optimum, to the wei
# ---------------------------------------------------------------------------------------------

SMALL_RESERVES = (10**7, 3 * 10**7)
FEE_BPS = 30


def cp_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Uniswap v2's ``getAmountOut`` with the fee in basis points (the pool's formula)."""
    with_fee = amount_in * (BPS - fee_bps)
    return with_fee * reserve_out // (reserve_in * BPS + with_fee)


def brute_force_sandwich(
    reserve_in: int, reserve_out: int, fee_bps: int, victim_in: int, victim_min: int, cap: int
) -> tuple[int, set[int]]:
    """The best sandwich profit over every front-run size in ``[1, cap]``, and its sizes.

    A size is allowed when the victim still receives at least its minimum (and something);
    the profit is the back-run's output less the front-run's input. Rounding makes ties
    common, so every size reaching the best profit is returned.
    """
    best, sizes = 0, set()
    for front in range(1, cap + 1):
        front_out = cp_out(front, reserve_in, reserve_out, fee_bps)
        r_in, r_out = reserve_in + front, reserve_out - front_out
        victim_out = cp_out(victim_in, r_in, r_out, fee_bps)
        if victim_out < max(victim_min, 1):
            break  # a larger front-run only lowers the victim's output further
        profit = cp_out(front_out, r_out - victim_out, r_in + victim_in, fee_bps) - front
        if profit > best:
            best, sizes = profit, {front}
        elif profit == best:
            sizes.add(front)
    return best, sizes


@pytest.fixture(scope="module")
def small_world() -> World:
    return build_world(
        SEED,
        [PoolSpec("AAA", "BBB", *SMALL_RESERVES, fee_bps=FEE_BPS)],
        {"AAA": 10**9, "BBB": 10**9},
        accounts=4,
    )


CASES = {
    # victim sells, slippage (None: accepts any output), the sandwicher's cap on the front-run
    "slippage-binds": ("AAA", 10**5, 200, None),
    "other-direction": ("BBB", 2 * 10**5, 150, None),
    "budget-binds": ("AAA", 10**5, 200, 2_000),
    "no-slippage-limit": ("AAA", 10**5, None, 10**6),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["fee", "bundle"])
def test_sandwich_profit_is_the_optimum_to_the_wei(
    small_world: World, mode: str, case: str
) -> None:
    sold, victim_in, slippage, cap = CASES[case]
    world = small_world
    with world.fresh() as market:
        pool = market.pools[0]
        token_in = world.tokens[sold]
        token_out = pool.other(token_in)
        reserve_in, reserve_out = market.reserves_for(pool, token_in)
        quote = cp_out(victim_in, reserve_in, reserve_out, FEE_BPS)
        victim_min = 1 if slippage is None else quote * (BPS - slippage) // BPS
        victim = world.account(1)

        def victim_swap(view: AgentView) -> Any:
            return (
                view.market.swap(pool, token_in, victim_in, victim_min, victim.address, tip=GWEI),
            )

        sandwicher = Sandwicher(
            "sandwicher",
            world.account(2),
            world.rng("sandwicher"),
            mode=mode,
            max_front_in=cap,
            prices_wei={"AAA": 10**14, "BBB": 10**14},
        )
        before = (
            world.balance(sold, sandwicher.address),
            world.balance(market.symbols[token_out], sandwicher.address),
        )
        policy = PriorityFeePolicy() if mode == "fee" else BundlesFirstPolicy()
        trader = OneShot("victim", victim, world.rng("victim"), once_at(1_000), make=victim_swap)
        sim = world.run(market, [trader, sandwicher], blocks=1, policy=policy)
        after = (
            world.balance(sold, sandwicher.address),
            world.balance(market.symbols[token_out], sandwicher.address),
        )
        receipts = [r for r in block_receipts(sim) if sim.sent[r.tx_hash].label != "approve"]

    expected, optimal_fronts = brute_force_sandwich(
        reserve_in, reserve_out, FEE_BPS, victim_in, victim_min, cap or 10**9
    )
    assert expected > 0
    labels = [(sim.sent[r.tx_hash].agent, sim.sent[r.tx_hash].label, r.status) for r in receipts]
    assert labels == [
        ("sandwicher", "front", 1),
        ("victim", "trade", 1),
        ("sandwicher", "back", 1),
    ]
    assert swap_amounts(receipts[0])[1] in optimal_fronts
    assert after[0] - before[0] == expected  # the realised profit, in the victim's input token
    assert after[1] == before[1]  # everything bought was sold back


def test_brute_force_agrees_with_the_pool_formula_on_a_hand_case() -> None:
    # 1000 in at 1000:1000, fee 0.3 %: 997000 * 1000 // (1000 * 10000 + 997000) = 90
    assert cp_out(100, 1_000, 1_000, 30) == 90
    # Tiny front-runs buy too little to sell back: no profit, no sizes.
    assert brute_force_sandwich(10**6, 10**6, 30, 10**4, 1, 3) == (0, set())
    # The victim's limit stops the search: nothing beyond the largest feasible front-run.
    quote = cp_out(10**4, 10**6, 10**6, 30)
    _, sizes = brute_force_sandwich(10**6, 10**6, 30, 10**4, quote, 10**6)
    assert sizes == set()


# ---------------------------------------------------------------------------------------------
# 2 and 3. frontrunners racing for an informed victim
# ---------------------------------------------------------------------------------------------

MISPRICING = 1.02
"""The reference values WETH 2 % above the pool: selling USDC for WETH pays."""
VICTIM_USDC = 10**21
"""The victim's swap: small (a 0.03 % price impact), but in the direction that pays."""
TRIALS = 100
JITTER_MS = 500


@pytest.fixture(scope="module")
def pool_world() -> World:
    return build_world(
        SEED,
        [PoolSpec("WETH", "USDC", 10**21, 3 * 10**24)],
        {"WETH": 10**21, "USDC": 10**24},
        accounts=5,
    )


@pytest.fixture
def race(pool_world: World) -> Iterator[Any]:
    """Runs one victim and some frontrunners for one block; returns the block's outcome."""
    world = pool_world
    usdc, weth = world.tokens["USDC"], world.tokens["WETH"]

    def run(
        frontrunners: list[dict[str, Any]], policy: Any, latency: Any
    ) -> tuple[Simulation, dict[str, Any]]:
        with world.fresh() as market:
            pool = market.pools[0]
            price = market.price(pool)
            market.reference[pool.address] = (
                price * MISPRICING if pool.token0 == weth else price / MISPRICING
            )
            victim = world.account(1)

            def victim_swap(view: AgentView) -> Any:
                quote = view.market.quote(pool, usdc, VICTIM_USDC)
                return (
                    view.market.swap(
                        pool, usdc, VICTIM_USDC, quote * 99 // 100, victim.address, tip=GWEI
                    ),
                )

            agents: list[Any] = [
                OneShot("victim", victim, world.rng("victim"), once_at(1_000), make=victim_swap)
            ]
            for i, params in enumerate(frontrunners):
                params = dict(params)
                name = params.pop("name")
                agents.append(
                    Frontrunner(
                        name, world.account(2 + i), world.rng(name), size_multiple=1e6, **params
                    )
                )
            sim = world.run(market, agents, blocks=1, policy=policy, latency=latency)
            outcome = _outcome(sim, market, pool, weth)
        return sim, outcome

    yield run


def _outcome(sim: Simulation, market: Any, pool: Any, weth: str) -> dict[str, Any]:
    """Who landed where, who won, what the winner paid and what it extracted (in wei)."""
    chain = sim.chain
    receipts = block_receipts(sim)
    order = [(sim.sent[r.tx_hash].agent, sim.sent[r.tx_hash].label, r.status) for r in receipts]
    winners = [r for r in receipts if sim.sent[r.tx_hash].label == "front" and r.status == 1]
    out: dict[str, Any] = {"order": order, "winner": None}
    fronts = [i for i, (_, label, _) in enumerate(order) if label == "front"]
    out["first_front"] = order[fronts[0]][0] if fronts else None
    out["ahead_of_victim"] = any(
        i < next(j for j, (a, _, _) in enumerate(order) if a == "victim") for i in fronts
    )
    out["bids"] = sum(1 for s in sim.sent.values() if s.label == "front")
    if winners:
        (win,) = winners  # the slower copy must revert: its minimum output is not met
        _, amount_in, amount_out = swap_amounts(win)
        ref = market.reference[pool.address]
        usdc_per_weth = ref if pool.token0 == weth else 1 / ref
        # WETH is worth one wei per unit; the value is the copy's output at the reference.
        out["winner"] = sim.sent[win.tx_hash].agent
        out["value"] = amount_out - amount_in / usdc_per_weth
        out["tip_paid"] = (
            win.effective_gas_price - chain.block(win.block_number).base_fee
        ) * win.gas_used
        out["expected"] = sim.sent[win.tx_hash].meta["expected_profit"]
    return out


def binomial_interval(n: int, p: float, z: float = 3.29) -> tuple[float, float]:
    """A normal-approximation interval for a binomial count (z = 3.29: two-sided 99.9 %)."""
    half = z * math.sqrt(n * p * (1 - p))
    return n * p - half, n * p + half


def jitter(world: World, trial: int) -> tuple[int, int]:
    """Two distinct reaction times in [1, JITTER_MS) for one trial (distinct: no ties)."""
    first, second = world.rng("jitter", trial).sample(range(1, JITTER_MS), 2)
    return first, second


def race_wins(
    world: World, race: Any, policy_factory: Any, latency: Any, **rival: Any
) -> list[tuple[str, str]]:
    """``(winner, first to arrive)`` of each of ``TRIALS`` jittered races, without repricing."""
    results = []
    for trial in range(TRIALS):
        ra, rb = jitter(world, trial)
        sim, outcome = race(
            [
                {"name": "fast", "reaction_ms": ra, "reprice": False, "slippage_bps": 10},
                {"name": "rival", "reaction_ms": rb, "reprice": False, "slippage_bps": 10, **rival},
            ],
            policy_factory(),
            latency,
        )
        fronts = [s for s in sim.sent.values() if s.label == "front"]
        assert len(fronts) == 2, outcome  # both saw the victim and went for it
        first = min(fronts, key=lambda s: s.submitted_ms).agent
        assert outcome["winner"] == outcome["first_front"], outcome  # the second copy reverts
        results.append((outcome["winner"], first))
        if policy_factory is FifoPolicy:
            assert not outcome["ahead_of_victim"], outcome
    return results


def test_fifo_race_between_equally_fast_frontrunners_is_a_coin_flip(
    pool_world: World, race: Any
) -> None:
    # The rival bids ten times the increment; under FIFO that buys nothing.
    results = race_wins(pool_world, race, FifoPolicy, ConstantLatency(10), tip_increment=10 * GWEI)
    assert all(winner == first for winner, first in results)  # first come, first served
    wins = sum(winner == "fast" for winner, _ in results)
    low, high = binomial_interval(TRIALS, 0.5)
    assert low <= wins <= high, wins


def test_fifo_race_goes_to_the_frontrunner_with_lower_latency(pool_world: World, race: Any) -> None:
    # "fast" sees pending txs at once, "rival" 400 ms later; reaction jitter is up to 500 ms.
    latency = PerObserverLatency({"fast": 0}, default_ms=400)
    results = race_wins(pool_world, race, FifoPolicy, latency)
    wins = sum(winner == "fast" for winner, _ in results)
    assert wins >= 0.9 * TRIALS, wins
    assert wins > binomial_interval(TRIALS, 0.5)[1]


def test_priority_race_goes_to_the_higher_bid_not_the_first_arrival(
    pool_world: World, race: Any
) -> None:
    # The contrast: the same jittered trials under priority ordering. Whoever opens second
    # sees the first copy and bids above it, so arriving first is a handicap, not an edge.
    results = race_wins(
        pool_world, race, PriorityFeePolicy, ConstantLatency(10), tip_increment=10 * GWEI
    )
    first_wins = sum(winner == first for winner, first in results)
    assert first_wins <= 0.1 * TRIALS, first_wins


@pytest.mark.parametrize("trial", range(3))
def test_priority_gas_auction_bids_tips_up_to_most_of_the_value(
    pool_world: World, race: Any, trial: int
) -> None:
    rng = pool_world.rng("auction", trial)
    _, outcome = race(
        [
            {"name": "fast", "reaction_ms": rng.randrange(1, 20), "max_tip_fraction": 0.9},
            {"name": "rival", "reaction_ms": rng.randrange(1, 20), "max_tip_fraction": 0.9},
        ],
        PriorityFeePolicy(),
        ConstantLatency(10),
    )
    assert outcome["winner"] is not None
    assert outcome["ahead_of_victim"]
    ratio = outcome["tip_paid"] / outcome["value"]
    # Bidding stops when the next 10 % raise passes the loser's cap (90 % of the value per
    # estimated gas): the winner pays at least ~cap / 1.1 and at most the cap.
    assert 0.7 < ratio <= 0.9, ratio
    assert outcome["bids"] > 20  # many rounds of replacement, not one lucky bid
    assert outcome["expected"] == pytest.approx(outcome["value"], rel=1e-9)


def test_a_lone_frontrunner_pays_next_to_nothing(pool_world: World, race: Any) -> None:
    _, outcome = race(
        [{"name": "fast", "reaction_ms": 5, "max_tip_fraction": 0.9}],
        PriorityFeePolicy(),
        ConstantLatency(10),
    )
    assert outcome["winner"] == "fast" and outcome["ahead_of_victim"]
    assert outcome["bids"] == 1
    assert outcome["tip_paid"] / outcome["value"] < 0.01
