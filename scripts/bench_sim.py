"""Benchmark: a simulation of 200 agents over 1,000 blocks, and where its time goes.

A benchmark, not a test: it prints figures and never fails on them. The run is the issue's
scale target: 200 agents (retail traders plus whatever searchers are registered) trading on
two pools for 1,000 blocks under priority-fee ordering. It prints agent-steps/s, tx/s, the
peak RSS, and the split of wall time between EVM work (building and sealing blocks, which
executes every tx), tx admission, signing, agents' decisions, and the simulation loop itself.

    python scripts/bench_sim.py                    # 200 agents, 1,000 blocks
    python scripts/bench_sim.py --blocks 100       # quicker look
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.agent import Agent, PoissonSchedule, derive_seed  # noqa: E402
from agents.market import Market, PoolSpec  # noqa: E402
from agents.sim import Simulation  # noqa: E402
from agents.strategies import STRATEGIES  # noqa: E402
from chain.compiler import compile_project  # noqa: E402
from chain.node import Chain  # noqa: E402

SEARCHERS = {"arbitrageur": 4, "frontrunner": 2, "sandwicher": 2, "lp": 2}


def timed(totals: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def build(seed: int, n_agents: int, blocks: int, rate: float) -> tuple[Simulation, Chain]:
    chain = Chain(seed=seed, accounts=n_agents + 1, automine=True)
    chain.use_artifacts(compile_project())
    specs = [
        PoolSpec("WETH", "USDC", 10**22, 3 * 10**25),
        PoolSpec("WETH", "DAI", 10**22, 3 * 10**25),
    ]
    market = Market.deploy(chain, specs, seed=seed, volatility=0.002)
    chain.automine = False
    agents: list[Agent] = []
    index = 1
    for kind, count in SEARCHERS.items():
        cls = STRATEGIES.get(kind)
        for i in range(count if cls else 0):
            assert cls is not None
            name = f"{kind}{i}"
            agents.append(cls(name, chain.accounts[index], random.Random(derive_seed(seed, name))))
            index += 1
    while len(agents) < n_agents:
        name = f"retail{index}"
        rng = random.Random(derive_seed(seed, name))
        agents.append(STRATEGIES["retail"](name, chain.accounts[index], rng, PoissonSchedule(rate)))
        index += 1
    market.fund(
        {a.address: {"WETH": 10**21, "USDC": 3 * 10**24, "DAI": 3 * 10**24} for a in agents}
    )
    return Simulation(chain, agents, blocks=blocks, seed=seed, market=market), chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.01, help="retail wakes per second each")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sim, chain = build(args.seed, args.agents, args.blocks, args.rate)
    totals: dict[str, float] = defaultdict(float)
    chain.mine = timed(totals, "evm: build + seal blocks", chain.mine)  # type: ignore[method-assign]
    chain.submit = timed(totals, "admission (mempool)", chain.submit)  # type: ignore[method-assign]
    chain.submit_bundle = timed(totals, "admission (bundles)", chain.submit_bundle)  # type: ignore[method-assign]
    chain.sign = timed(totals, "signing", chain.sign)  # type: ignore[method-assign]
    for agent in sim.agents:
        agent.observe = timed(totals, "agents' decisions", agent.observe)  # type: ignore[method-assign]
    kinds = sorted({a.kind for a in sim.agents})
    print(f"{len(sim.agents)} agents ({', '.join(kinds)}), {args.blocks} blocks, seed {args.seed}")

    start = time.perf_counter()
    metrics = sim.run()
    wall = time.perf_counter() - start
    txs = sum(m.txs for m in metrics)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps_rate, tx_rate = sim.steps / wall, txs / wall
    fullness = sum(m.fullness for m in metrics) / len(metrics)
    print(f"wall {wall:.1f} s; {sim.steps} agent-steps ({steps_rate:,.0f}/s)")
    print(f"{txs} txs mined ({tx_rate:,.0f}/s); reverted {sum(m.reverted for m in metrics)}")
    print(f"mean block fullness {fullness:.1%}")
    print(f"peak RSS {peak_mb:,.0f} MB")
    # signing happens inside agents' apply step, admission inside submit: report them apart
    accounted = sum(totals.values())
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {key:<28} {seconds:7.1f} s  {seconds / wall:6.1%}")
    rest = wall - accounted
    print(f"  {'simulation loop (the rest)':<28} {rest:7.1f} s  {rest / wall:6.1%}")


if __name__ == "__main__":
    main()
