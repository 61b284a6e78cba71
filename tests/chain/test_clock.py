"""The simulated clock: forward only, millisecond resolution, snapshot and restore."""

from __future__ import annotations

import pytest

from agentbed.chain.clock import ClockState, SimClock


def test_starts_at_genesis() -> None:
    clock = SimClock()
    assert clock.now_ms == clock.genesis_ms == 1_700_000_000_000
    assert clock.block_interval_ms == 12_000
    assert clock.now_s == 1_700_000_000


def test_advance_moves_forward() -> None:
    clock = SimClock(genesis_ms=1_000)
    assert clock.advance(250) == 1_250
    assert clock.advance(0) == 1_250
    assert clock.now_ms == 1_250


def test_advance_rejects_negative() -> None:
    clock = SimClock(genesis_ms=1_000)
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance(-1)
    assert clock.now_ms == 1_000


def test_advance_to() -> None:
    clock = SimClock(genesis_ms=1_000)
    assert clock.advance_to(5_000) == 5_000
    assert clock.advance_to(5_000) == 5_000


def test_advance_to_rejects_the_past() -> None:
    clock = SimClock(genesis_ms=1_000)
    clock.advance_to(5_000)
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance_to(4_999)
    assert clock.now_ms == 5_000


def test_rejects_non_integer_milliseconds() -> None:
    clock = SimClock(genesis_ms=0)
    with pytest.raises(TypeError):
        clock.advance(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        clock.advance_to(True)


def test_rejects_bad_construction() -> None:
    with pytest.raises(ValueError, match="block_interval_ms"):
        SimClock(block_interval_ms=0)
    with pytest.raises(ValueError, match="genesis_ms"):
        SimClock(genesis_ms=-1)


def test_now_s_truncates() -> None:
    clock = SimClock(genesis_ms=1_999)
    assert clock.now_s == 1


def test_next_block_time_is_the_next_slot_boundary() -> None:
    clock = SimClock(genesis_ms=10_000, block_interval_ms=12_000)
    assert clock.next_block_time_ms() == 22_000
    clock.advance(5_000)
    assert clock.next_block_time_ms() == 22_000
    clock.advance_to(22_000)
    # Exactly on a boundary: the next block is one slot later.
    assert clock.next_block_time_ms() == 34_000


def test_state_and_restore_round_trip() -> None:
    clock = SimClock(genesis_ms=0, block_interval_ms=1_000)
    clock.advance(700)
    saved = clock.state()
    assert saved == ClockState(genesis_ms=0, block_interval_ms=1_000, now_ms=700)
    clock.advance(5_000)
    clock.restore(saved)
    assert clock.now_ms == 700
    assert SimClock.from_state(saved).now_ms == 700


def test_copy_is_independent() -> None:
    clock = SimClock(genesis_ms=0)
    clock.advance(10)
    twin = clock.copy()
    twin.advance(90)
    assert clock.now_ms == 10
    assert twin.now_ms == 100
    assert twin.block_interval_ms == clock.block_interval_ms
