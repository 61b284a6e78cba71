"""The simulated clock: the only source of time in the testbed.

Nothing reads the wall clock. The chain owns one :class:`SimClock`, advances it explicitly
(between agent steps, when mining) and tells agents the time; block timestamps are derived
from it, which is what makes runs with the same seed produce identical block hashes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClockState", "SimClock"]


@dataclass(frozen=True, slots=True)
class ClockState:
    """A snapshot of a :class:`SimClock` (for ``Chain.snapshot`` / ``revert``)."""

    genesis_ms: int
    block_interval_ms: int
    now_ms: int


def _check_int(name: str, value: int) -> None:
    # bool is an int subclass but never a meaningful time; floats would silently break
    # millisecond resolution.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int number of milliseconds, got {value!r}")


class SimClock:
    """Simulated time in integer milliseconds, moving forward only.

    Args:
        genesis_ms: Time of the genesis block (default: 2023-11-14T22:13:20Z).
        block_interval_ms: Slot length; block times fall on ``genesis_ms + k * interval``.
    """

    __slots__ = ("_block_interval_ms", "_genesis_ms", "_now_ms")

    def __init__(
        self, genesis_ms: int = 1_700_000_000_000, block_interval_ms: int = 12_000
    ) -> None:
        _check_int("genesis_ms", genesis_ms)
        _check_int("block_interval_ms", block_interval_ms)
        if genesis_ms < 0:
            raise ValueError(f"genesis_ms must be >= 0, got {genesis_ms}")
        if block_interval_ms <= 0:
            raise ValueError(f"block_interval_ms must be positive, got {block_interval_ms}")
        self._genesis_ms = genesis_ms
        self._block_interval_ms = block_interval_ms
        self._now_ms = genesis_ms

    @property
    def genesis_ms(self) -> int:
        """Time of the genesis block."""
        return self._genesis_ms

    @property
    def block_interval_ms(self) -> int:
        """Slot length in milliseconds."""
        return self._block_interval_ms

    @property
    def now_ms(self) -> int:
        """Current simulated time in milliseconds."""
        return self._now_ms

    @property
    def now_s(self) -> int:
        """Current simulated time in whole seconds (what a block header's timestamp holds)."""
        return self._now_ms // 1000

    def advance(self, ms: int) -> int:
        """Move the clock forward by ``ms`` milliseconds.

        Args:
            ms: How far to move (>= 0).

        Returns:
            The new time.

        Raises:
            ValueError: If ``ms`` is negative (time never goes backwards).
        """
        _check_int("ms", ms)
        if ms < 0:
            raise ValueError(f"cannot advance by {ms} ms: the clock never goes backwards")
        self._now_ms += ms
        return self._now_ms

    def advance_to(self, ms: int) -> int:
        """Move the clock forward to time ``ms`` (a no-op if it is the current time).

        Args:
            ms: Target time, not earlier than ``now_ms``.

        Returns:
            The new time.

        Raises:
            ValueError: If ``ms`` is earlier than ``now_ms`` (time never goes backwards).
        """
        _check_int("ms", ms)
        if ms < self._now_ms:
            raise ValueError(
                f"cannot move the clock back from {self._now_ms} to {ms}: "
                "the clock never goes backwards"
            )
        self._now_ms = ms
        return self._now_ms

    def next_block_time_ms(self) -> int:
        """The first slot boundary strictly after now: ``genesis_ms + k * block_interval_ms``.

        A builder mining on a fixed schedule advances to this time and seals a block there.
        """
        elapsed = self._now_ms - self._genesis_ms
        return self._genesis_ms + (elapsed // self._block_interval_ms + 1) * self._block_interval_ms

    def state(self) -> ClockState:
        """Capture the clock for a later :meth:`restore`."""
        return ClockState(self._genesis_ms, self._block_interval_ms, self._now_ms)

    def restore(self, state: ClockState) -> None:
        """Put the clock back to a captured state.

        The one way time moves backwards: reverting the whole chain to a snapshot.
        """
        self._genesis_ms = state.genesis_ms
        self._block_interval_ms = state.block_interval_ms
        self._now_ms = state.now_ms

    @classmethod
    def from_state(cls, state: ClockState) -> SimClock:
        """Build a clock at a captured state."""
        clock = cls(state.genesis_ms, state.block_interval_ms)
        clock.restore(state)
        return clock

    def copy(self) -> SimClock:
        """An independent clock at the same time."""
        return SimClock.from_state(self.state())

    def __repr__(self) -> str:
        return (
            f"SimClock(now_ms={self._now_ms}, genesis_ms={self._genesis_ms}, "
            f"block_interval_ms={self._block_interval_ms})"
        )
