"""What the learning environment is configured with, and the errors it raises.

A :class:`LearningConfig` fixes the shape of every learner's observation and action space (how
many pending swaps it sees, the size and tip buckets it may choose from) and when in each block
interval the learners decide. It is plain data, checked when it is made, so a bad value is one
:class:`LearningConfigError` naming the field; the environment checks the scenario against it
(:class:`LearningConfigError` too) and each action against the space (:class:`InvalidAction`).
"""

from __future__ import annotations

from dataclasses import dataclass

GWEI = 10**9


class LearningConfigError(ValueError):
    """The environment cannot be built: a bad configuration value, or a scenario without
    learners, with an unknown learner name, or of a study the environment cannot encode."""


class InvalidAction(ValueError):
    """An action is not an element of the learner's action space (wrong agent, shape, type or
    a component out of range)."""


@dataclass(frozen=True, slots=True)
class LearningConfig:
    """The spaces and the decision time of a learning environment.

    Attributes:
        top_n: Pending swaps each learner sees (the largest by size relative to the pool's
            reserve of the sold token; fewer are padded with zeros).
        trade_sizes: A plain swap's size buckets, as fractions of the pool's reserve of the
            sold token (capped by the learner's balance).
        copy_multiples: A front-run's or sandwich's size buckets, as multiples of the target
            swap's input (capped by the learner's balance). As many as ``trade_sizes``: both
            are read from the one size component of the action.
        tip_steps_gwei: Tip buckets, in gwei: a plain swap tips the step itself; a front-run
            or sandwich front leg tips the step above the highest tip already bid on the same
            pool and direction (the target's own included).
        slippage_bps: Minimum output below the planned output, for swaps and front legs
            (0: a copy that lands behind a rival reverts instead of trading at a loss).
        decide_before_ms: How long before each block the learners decide (their view is the
            mempool as it has reached them by then).
        max_pending: A learner with this many own transactions still pending does nothing
            (the action is skipped, and ``info["skipped"]`` says so).
    """

    top_n: int = 4
    trade_sizes: tuple[float, ...] = (0.001, 0.003, 0.01)
    copy_multiples: tuple[float, ...] = (0.5, 1.0, 2.0)
    tip_steps_gwei: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 30.0)
    slippage_bps: int = 0
    decide_before_ms: int = 200
    max_pending: int = 4

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise LearningConfigError(f"top_n must be >= 1, got {self.top_n}")
        if not self.trade_sizes:
            raise LearningConfigError("trade_sizes must name at least one size bucket")
        if len(self.copy_multiples) != len(self.trade_sizes):
            raise LearningConfigError(
                f"copy_multiples has {len(self.copy_multiples)} buckets and trade_sizes "
                f"{len(self.trade_sizes)}: one action component chooses both, so they must match"
            )
        for name, values in (("trade_sizes", self.trade_sizes), ("copy", self.copy_multiples)):
            if any(not v > 0 for v in values):
                raise LearningConfigError(f"{name} must all be > 0, got {values}")
        if any(v > 1 for v in self.trade_sizes):
            raise LearningConfigError(f"trade_sizes are fractions <= 1, got {self.trade_sizes}")
        if not self.tip_steps_gwei or any(v < 0 for v in self.tip_steps_gwei):
            raise LearningConfigError(
                f"tip_steps_gwei must be one or more values >= 0, got {self.tip_steps_gwei}"
            )
        if not 0 <= self.slippage_bps < 10_000:
            raise LearningConfigError(
                f"slippage_bps must be in [0, 10000), got {self.slippage_bps}"
            )
        if self.decide_before_ms < 0:
            raise LearningConfigError(f"decide_before_ms must be >= 0, got {self.decide_before_ms}")
        if self.max_pending < 1:
            raise LearningConfigError(f"max_pending must be >= 1, got {self.max_pending}")

    @property
    def sizes(self) -> int:
        """Number of size buckets."""
        return len(self.trade_sizes)

    def tip_wei(self, bucket: int) -> int:
        """The tip step of ``bucket`` in wei."""
        return round(self.tip_steps_gwei[bucket] * GWEI)
