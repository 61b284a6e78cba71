"""A contextual epsilon-greedy bandit that learns when to front-run and what tip to bid.

The example learner of ``scripts/learn_tip.py`` (docs/learning.md). Each step it reads, from the
observation alone, the visible pending swap with the largest *edge* (what selling its token at
the pool's marginal price earns over the reference price, less the pool fee;
:mod:`agentbed.agents.learning.observation`) and buckets that edge into a context. Its arms
are "do nothing" and "front-run that swap at 1x its size with tip step k" for every tip
bucket of the action space. It keeps the mean reward of each (context, arm) and plays, per
context, every arm once (lowest first), then the best mean, exploring a uniformly drawn arm
with probability ``epsilon`` (Sutton & Barto 2018, section 2.2-2.4: the sample-average
epsilon-greedy action-value method). Its random stream is its own ``random.Random``, seeded by
the caller from the root seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from agentbed.agents.reporting.intervals import Interval, t_critical

EDGE_BUCKETS_BPS = (0.0, 25.0, 100.0)
"""Context boundaries: context 0 is an edge <= 0 bps, 1 is (0, 25], 2 is (25, 100], 3 above."""
CONTEXTS = len(EDGE_BUCKETS_BPS) + 1
FRONT, NOTHING = 2, 0


def target_and_context(
    observation: Sequence[float], names: Sequence[str], top_n: int
) -> tuple[int | None, int]:
    """The slot of the visible swap with the largest edge, and its edge's context.

    Returns:
        ``(slot, context)``; ``(None, 0)`` when no swap is in view.
    """
    index = {name: i for i, name in enumerate(names)}
    best: tuple[float, int] | None = None
    for slot in range(top_n):
        if observation[index[f"slot{slot}_present"]] < 0.5:
            continue
        edge = float(observation[index[f"slot{slot}_edge_bps"]])
        if best is None or edge > best[0]:
            best = (edge, slot)
    if best is None:
        return None, 0
    edge, slot = best
    return slot, sum(1 for bound in EDGE_BUCKETS_BPS if edge > bound)


def front_action(arm: int, target: int, size_bucket: int) -> list[int]:
    """Arm 0: nothing; arm k > 0: front-run slot ``target`` with tip bucket ``k - 1``."""
    if arm == 0:
        return [NOTHING, 0, 0, 0, 0, 0, 0]
    return [FRONT, 0, 0, size_bucket, arm - 1, 0, target]


class TipBandit:
    """Sample-average epsilon-greedy action values per context.

    Args:
        arms: Number of arms (arm 0 is "do nothing").
        epsilon: Probability of exploring a uniformly drawn arm once all are tried.
        rng: Its own random stream.

    Raises:
        ValueError: fewer than two arms, or ``epsilon`` outside [0, 1].
    """

    def __init__(self, arms: int, epsilon: float, rng: random.Random) -> None:
        if arms < 2:
            raise ValueError(f"a bandit needs at least 2 arms, got {arms}")
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.arms = arms
        self.epsilon = epsilon
        self.rng = rng
        self.counts = [[0] * arms for _ in range(CONTEXTS)]
        self.means = [[0.0] * arms for _ in range(CONTEXTS)]
        # Sums of squared deviations (Welford), for the intervals of the reported means.
        self._squares = [[0.0] * arms for _ in range(CONTEXTS)]

    def choose(self, context: int, *, explore: bool = True) -> int:
        """The arm to play in ``context`` (greedy only, without ``explore``)."""
        if explore:
            untried = [a for a in range(self.arms) if self.counts[context][a] == 0]
            if untried:
                return untried[0]
            if self.rng.random() < self.epsilon:
                return self.rng.randrange(self.arms)
        return self.greedy(context)

    def greedy(self, context: int) -> int:
        """The arm of the best mean in ``context`` (the lowest on ties; 0 when none is tried)."""
        means = self.means[context]
        tried = [a for a in range(self.arms) if self.counts[context][a]]
        return max(tried, key=lambda a: (means[a], -a)) if tried else 0

    def update(self, context: int, arm: int, reward: float) -> None:
        """Add one reward of ``arm`` in ``context`` to its sample average."""
        self.counts[context][arm] += 1
        before = self.means[context][arm]
        self.means[context][arm] += (reward - before) / self.counts[context][arm]
        self._squares[context][arm] += (reward - before) * (reward - self.means[context][arm])

    def interval(self, context: int, arm: int) -> Interval:
        """The mean reward of ``arm`` in ``context`` with its 95% t-interval (as
        ``agentbed.agents.reporting.intervals.confidence_interval`` computes it)."""
        n, mean = self.counts[context][arm], self.means[context][arm]
        if n < 2:
            return Interval(n, mean, None, None)
        half = t_critical(n - 1) * math.sqrt(self._squares[context][arm] / (n - 1) / n)
        return Interval(n, mean, mean - half, mean + half)

    def table(self) -> list[dict[str, Any]]:
        """Per context: the greedy arm, its mean reward with interval, and the plays per arm."""
        return [
            {
                "context": c,
                "greedy": self.greedy(c),
                "mean": self.interval(c, self.greedy(c)),
                "counts": list(self.counts[c]),
            }
            for c in range(CONTEXTS)
        ]
