"""Benchmark: steps per second of the learning environment (one step = one block).

A benchmark, not a test: it prints figures and never fails on them. It resets the PettingZoo
environment over ``scenarios/learning_pga.toml`` (a learner's seat among scripted retail
traders, an arbitrageur and two PGA frontrunners) and steps it to the end of the episode with
seeded random actions from the action space, several episodes in a row, then prints the reset
time, the steps per second of stepping alone, and the same with resets counted.

    python scripts/bench_env.py                   # 3 episodes of the scenario's 20 blocks
    python scripts/bench_env.py --episodes 5 --blocks 50
    python scripts/bench_env.py --idle            # every learner does nothing (the loop's floor)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentbed.agents.agent import derive_seed  # noqa: E402
from agentbed.agents.learning import MarketParallelEnv  # noqa: E402
from agentbed.experiments.sweep import load_with_overrides  # noqa: E402

SCENARIO = ROOT / "scenarios" / "learning_pga.toml"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3, help="episodes (default 3)")
    parser.add_argument("--blocks", type=int, default=None, help="blocks per episode")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first episode")
    parser.add_argument("--idle", action="store_true", help="learners do nothing")
    args = parser.parse_args(argv)
    overrides = [] if args.blocks is None else [("run.blocks", args.blocks)]
    env = MarketParallelEnv(load_with_overrides(SCENARIO, overrides))
    resets: list[float] = []
    stepping: list[float] = []
    steps = 0
    for episode in range(args.episodes):
        seed = args.seed + episode
        for agent in env.possible_agents:
            env.action_space(agent).seed(derive_seed(seed, "bench-actions", agent))
        start = time.perf_counter()
        env.reset(seed=seed)
        resets.append(time.perf_counter() - start)
        start = time.perf_counter()
        while env.agents:
            actions = {} if args.idle else {a: env.action_space(a).sample() for a in env.agents}
            env.step(actions)
            steps += 1
        stepping.append(time.perf_counter() - start)
    total = sum(resets) + sum(stepping)
    print(f"scenario: {SCENARIO.name}, {args.episodes} episodes, {steps} steps (blocks)")
    print(f"actions: {'none (idle)' if args.idle else 'seeded uniform samples of the space'}")
    print(f"reset: median {statistics.median(resets):.2f} s")
    print(f"steps/s, stepping only: {steps / sum(stepping):.2f}")
    print(f"steps/s, resets included: {steps / total:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
