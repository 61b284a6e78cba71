"""Learning example: a bandit learns when to front-run and what tip to bid in a gas auction.

The seat ``learner0`` of ``scenarios/learning_pga.toml`` is a frontrunner among scripted retail
traders, an arbitrageur and two scripted PGA frontrunners (who copy profitable swaps at once and
outbid rivals by replacement). Two ways to fill the seat are compared on the same seeds:

* **scripted**: the seat's own ``Frontrunner`` strategy (what a plain ``testbed run`` plays);
* **last-look rule**: a fixed rule in the learner's own seat and timing: at
  ``--decide-before-ms`` before each block, front-run the visible swap with the largest edge
  when that edge is positive, one tip step (``--rule-step``) above the highest bid on its side;
  it tells what deciding last is worth without any learning;
* **learned**: a contextual epsilon-greedy bandit (``agentbed.agents.learning.bandit``) in the
  same seat and timing, choosing "nothing" or "front-run that swap at tip step k" by the edge's
  context. It is trained on seeds 1000, 1001, ... (``--train`` episodes) and evaluated greedily
  on seeds 1..``--seeds``.

Each run's figure is the seat's profit over the measured blocks in USDC: the sum of the
environment's per-block rewards (holdings change at the block's reference prices, net of gas;
docs/learning.md). Both are measured by the same stepped loop; the scripted one with the seat
left to its strategy, which is the plain run (a test pins that). The table gives means with
95% Student t-intervals over the evaluation seeds and the seed-paired difference
(``agentbed.agents.reporting.intervals``); a difference is claimed only when its interval
excludes zero.

    python scripts/learn_tip.py                      # 20 training episodes, 8 seeds (~4 min)
    python scripts/learn_tip.py --train 4 --seeds 3 --blocks 6   # a quick look
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agentbed.agents.agent import derive_seed  # noqa: E402
from agentbed.agents.learning import LearningConfig, MarketParallelEnv  # noqa: E402
from agentbed.agents.learning.bandit import (  # noqa: E402
    EDGE_BUCKETS_BPS,
    TipBandit,
    front_action,
    target_and_context,
)
from agentbed.agents.learning.episode import MarketEpisode  # noqa: E402
from agentbed.agents.reporting.intervals import confidence_interval, paired_difference  # noqa: E402
from agentbed.agents.reporting.seeds import difference_text, interval_text  # noqa: E402
from agentbed.agents.reporting.tables import markdown_table  # noqa: E402
from agentbed.experiments.sweep import load_with_overrides  # noqa: E402

SCENARIO = ROOT / "scenarios" / "learning_pga.toml"
LEARNER = "learner0"
TRAIN_SEED_BASE = 1000
"""Training seeds start here, apart from the evaluation seeds 1..n."""


def play(
    env: MarketParallelEnv, seed: int, choose: Callable[[int], int], bandit: TipBandit | None
) -> dict[str, float]:
    """One episode with arms from ``choose(context)``; ``bandit`` (if given) learns from it.

    Returns:
        The seat's profit and its transactions included and reverted in the measured blocks.
    """
    names, top_n = env.feature_names, env.config.top_n
    size = env.config.copy_multiples.index(1.0)
    observations, _ = env.reset(seed=seed)
    profit = 0.0
    while env.agents:
        target, context = target_and_context(observations[LEARNER], names, top_n)
        arm = 0 if target is None else choose(context)
        action = front_action(arm, 0 if target is None else target, size)
        observations, rewards, _, _, _ = env.step({LEARNER: action})
        profit += rewards[LEARNER]
        if bandit is not None and target is not None:
            bandit.update(context, arm, rewards[LEARNER])
    assert env.episode is not None
    return _figures(env.episode, profit)


def scripted(scenario: Any, seed: int, config: LearningConfig) -> dict[str, float]:
    """The seat played by its scripted strategy, rewarded the same way."""
    episode = MarketEpisode(scenario, seed, config, seated=False)
    profit = 0.0
    while not episode.done:
        profit += episode.step({}).rewards[LEARNER]
    return _figures(episode, profit)


def _figures(episode: MarketEpisode, profit: float) -> dict[str, float]:
    agent = episode.learners[LEARNER]
    return {"profit": profit, "included": agent.included, "reverted": agent.failed}


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate and print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20, help="training episodes (default 20)")
    parser.add_argument("--seeds", type=int, default=8, help="evaluation seeds 1..N (default 8)")
    parser.add_argument("--blocks", type=int, default=None, help="blocks per episode")
    parser.add_argument("--epsilon", type=float, default=0.2, help="exploration (default 0.2)")
    parser.add_argument(
        "--decide-before-ms", type=int, default=10, help="decision time before each block"
    )
    parser.add_argument("--seed", type=int, default=0, help="root seed of the bandit's stream")
    parser.add_argument(
        "--rule-step", type=int, default=1, help="tip bucket of the last-look rule (default 1)"
    )
    args = parser.parse_args(argv)
    if args.train < 1 or args.seeds < 2:
        parser.error("--train must be >= 1 and --seeds >= 2 (an interval needs two seeds)")
    steps = len(LearningConfig().tip_steps_gwei)
    if not 0 <= args.rule_step < steps:
        parser.error(f"--rule-step must be a tip bucket, 0..{steps - 1}")
    overrides = [] if args.blocks is None else [("run.blocks", args.blocks)]
    scenario = load_with_overrides(SCENARIO, overrides)
    config = LearningConfig(decide_before_ms=args.decide_before_ms)
    env = MarketParallelEnv(scenario, config)
    bandit = TipBandit(
        1 + len(config.tip_steps_gwei),
        args.epsilon,
        random.Random(derive_seed(args.seed, "bandit")),
    )
    started = time.perf_counter()
    for episode in range(args.train):
        play(env, TRAIN_SEED_BASE + episode, bandit.choose, bandit)
    trained = time.perf_counter() - started
    seeds = range(1, args.seeds + 1)
    learned = [play(env, s, lambda c: bandit.choose(c, explore=False), None) for s in seeds]
    rule_arm = 1 + args.rule_step
    rule = [play(env, s, lambda c: rule_arm if c > 0 else 0, None) for s in seeds]
    baseline = [scripted(scenario, s, config) for s in seeds]
    evaluated = time.perf_counter() - started - trained
    runs = {"scripted Frontrunner": baseline, "last-look rule": rule, "learned bandit": learned}
    _print(args, config, bandit, runs, seeds)
    print(f"\ntime: training {trained:.0f} s, evaluation {evaluated:.0f} s (one process)")
    return 0


def _print(
    args: argparse.Namespace,
    config: LearningConfig,
    bandit: TipBandit,
    runs: dict[str, list[dict[str, float]]],
    seeds: range,
) -> None:
    blocks = args.blocks or "the scenario's 20"
    print(
        f"Seat learner0 of {SCENARIO.name}, {blocks} blocks, evaluation seeds "
        f"{seeds.start}..{seeds.stop - 1} (paired); learner trained on {args.train} episodes "
        f"(seeds {TRAIN_SEED_BASE}..), epsilon {args.epsilon}; rule and learner decide "
        f"{config.decide_before_ms} ms before each block. Means with 95% t-intervals.\n"
    )
    figures = ("profit", "included", "reverted")
    rows = [
        [label, *(interval_text(confidence_interval([r[k] for r in played])) for k in figures)]
        for label, played in runs.items()
    ]
    learned = runs["learned bandit"]
    for short, other in (("scripted", "scripted Frontrunner"), ("rule", "last-look rule")):
        rows.append(
            [
                f"learned - {short} (paired)",
                *(
                    difference_text(
                        paired_difference([r[k] for r in learned], [r[k] for r in runs[other]])
                    )
                    for k in figures
                ),
            ]
        )
    header = ["seat played by", "profit (USDC)", "txs included", "txs reverted"]
    print("\n".join(markdown_table(header, rows, "lrrr")))
    bounds = ["<= 0", *(f"> {b:g}" for b in EDGE_BUCKETS_BPS)]
    arms = ["nothing", *(f"front, tip +{t:g} gwei" for t in config.tip_steps_gwei)]
    print("\nLearned policy (greedy arm per context of the best visible edge):\n")
    policy = [
        [
            f"edge {bounds[row['context']]} bps",
            arms[row["greedy"]],
            interval_text(row["mean"]),
            row["counts"][row["greedy"]],
            sum(row["counts"]),
        ]
        for row in bandit.table()
    ]
    header = ["context", "greedy arm", "its mean reward (USDC)", "its plays", "all plays"]
    print("\n".join(markdown_table(header, policy, "llrrr")))


if __name__ == "__main__":
    raise SystemExit(main())
