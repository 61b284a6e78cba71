"""Benchmark: a simulation of 200 agents over 1,000 blocks, and where its time goes.

A benchmark, not a test: it prints figures and never fails on them. The run is the issue's
scale target, ``scenarios/bench.toml``: the flagship's cast (retail traders, an LP,
arbitrageurs, frontrunners, a fee-bidding and a bundle sandwicher, a spammer) at 200 agents
for 1,000 blocks. It prints agent-steps/s, tx/s, the peak RSS, and the split of wall time
between EVM work (building and sealing blocks, which executes every tx), tx admission,
signing, agents' decisions, and the simulation loop itself (scheduling, views, records).

    python scripts/bench_sim.py                       # scenarios/bench.toml, priority ordering
    python scripts/bench_sim.py --blocks 100          # quicker look
    python scripts/bench_sim.py --agents 50           # fewer retail traders, same cast
    python scripts/bench_sim.py --policy bundles      # another ordering
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentbed.experiments.scenario import Scenario, build, load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "bench.toml"


def timed(totals: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped to add the wall time of each call, raised or not, to ``totals[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def with_agents(scenario: Scenario, total: int) -> Scenario:
    """``scenario`` with ``total`` agents: its largest group resized, the others as they are.

    Raises:
        ValueError: ``total`` leaves the largest group no agent.
    """
    groups = list(scenario.agents)
    largest = max(range(len(groups)), key=lambda i: groups[i].count)
    others = sum(g.count for g in groups) - groups[largest].count
    if total - others < 1:
        raise ValueError(
            f"--agents {total}: need at least {others + 1} "
            f"(the scenario's {others} other agents and one {groups[largest].name})"
        )
    groups[largest] = replace(groups[largest], count=total - others)
    return replace(scenario, agents=tuple(groups))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--blocks", type=int, default=None, help="override the scenario's")
    parser.add_argument("--policy", default=None, help="override the scenario's")
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's")
    parser.add_argument(
        "--agents",
        type=int,
        default=None,
        help="total agents: the largest group (the retail traders) grows or shrinks to fit",
    )
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    if args.blocks is not None:
        scenario = replace(scenario, run=replace(scenario.run, blocks=args.blocks))
    if args.agents is not None:
        try:
            scenario = with_agents(scenario, args.agents)
        except ValueError as err:
            parser.error(str(err))
    start = time.perf_counter()
    sim, _market = build(scenario, policy=args.policy, seed=args.seed)
    chain = sim.chain
    print(f"set-up (deploy, fund) {time.perf_counter() - start:.1f} s")
    totals: dict[str, float] = defaultdict(float)
    chain.mine = timed(totals, "evm: build + seal blocks", chain.mine)  # type: ignore[method-assign]
    chain.submit = timed(totals, "admission (mempool)", chain.submit)  # type: ignore[method-assign]
    chain.submit_bundle = timed(totals, "admission (bundles)", chain.submit_bundle)  # type: ignore[method-assign]
    chain.sign = timed(totals, "signing", chain.sign)  # type: ignore[method-assign]
    for agent in sim.agents:
        agent.observe = timed(totals, "agents' decisions", agent.observe)  # type: ignore[method-assign]
    kinds = sorted({a.kind for a in sim.agents})
    print(
        f"{len(sim.agents)} agents ({', '.join(kinds)}), {sim.blocks} blocks, {chain.policy.name}"
    )

    start = time.perf_counter()
    metrics = sim.run()
    wall = time.perf_counter() - start
    txs = sum(m.txs for m in metrics)
    # ru_maxrss is in KiB on Linux (bytes on macOS, where this figure reads 1024x too high)
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
