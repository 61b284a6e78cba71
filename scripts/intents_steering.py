"""Surplus steering (issue 15, flaw 3) over seeds: the vulnerable and the fair pay-as-filled book.

Five intent makers on one WETH/USDC pool (3,000 USDC per WETH, no drift) and one solver
steering surplus to maker 0 (``Solver(steer_to=...)``), 8 blocks of 2 s, per seed and book.
*Diverted* is, summed over every settled (batch, side) holding one of maker 0's intents, what
the honest makers of that side got less than a split of the side's total pro rata to sell
amount (their fair share): sum(fair_k - bought_k), valued in USDC at the pool's starting price.
Seeds are paired: the difference vulnerable - fair per seed, its mean and a 95 % t interval.

    PYTHONPATH=. python scripts/intents_steering.py --seeds 5   # from the repo root

Measured (5 seeds): vulnerable 360.7, 2396.1, 1560.0, 665.9, 746.6 USDC diverted; fair 0.0 on
every seed; paired difference 1145.9 USDC (95 % CI 118.2 .. 2173.5).
"""

from __future__ import annotations

import argparse
import random
import statistics

from agentbed.agents.agent import PeriodicSchedule, derive_seed
from agentbed.agents.market.attack_metrics import diverted
from agentbed.agents.market.intents import OnUnmetCondition, Pricing
from agentbed.agents.market.strategies.intents import IntentMaker, Solver
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain

WETH_RESERVE, USDC_RESERVE = 10**21, 3 * 10**24
T_975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}


def diverted_usdc(seed: int, pricing: Pricing) -> float:
    """USDC value of the honest makers' surplus steered away in one run."""
    chain = Chain(
        seed=seed, accounts=10, automine=True, gas_limit=3_000_000, block_interval_ms=2_000
    )
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", WETH_RESERVE, USDC_RESERVE)], seed=seed)
    market.fund({a.address: {"WETH": 10**20, "USDC": 3 * 10**23} for a in chain.accounts[1:]})
    chain.automine = False
    market.deploy_intent_book(pricing, OnUnmetCondition.SKIP, 0)
    makers = [
        IntentMaker(
            f"maker{i}",
            chain.accounts[1 + i],
            random.Random(derive_seed(seed, "maker", i)),
            PeriodicSchedule(2_000, offset_ms=500 + 137 * i),
            mean_size=0.002,
        )
        for i in range(5)
    ]
    own = makers[0].address
    solver = Solver(
        "steerer", chain.accounts[8], random.Random(derive_seed(seed, "steerer")), steer_to=own
    )
    Simulation(chain, [*makers, solver], blocks=8, seed=seed, market=market).run()
    assert market.intent_board is not None
    weth = market.tokens["WETH"]

    def value(token: str, amount: float) -> float:
        return amount * (3_000 if token == weth else 1) / 10**18

    return diverted(market.intent_board.fills.values(), {own}, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for seed in range(1, args.seeds + 1):
        vulnerable = diverted_usdc(seed, Pricing.PAY_AS_FILLED)
        fair = diverted_usdc(seed, Pricing.FAIR_PAY_AS_FILLED)
        rows.append((seed, vulnerable, fair))
        print(f"seed {seed}: diverted vulnerable {vulnerable:.4f} USDC, fair {fair:.6f} USDC")
    diffs = [v - f for _, v, f in rows]
    mean = statistics.fmean(diffs)
    half = T_975[len(diffs)] * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0
    print(
        f"vulnerable - fair, paired over {len(diffs)} seeds: {mean:.4f} USDC "
        f"(95% CI {mean - half:.4f} .. {mean + half:.4f})"
    )


if __name__ == "__main__":
    main()
