"""The bounded memo keeps at most its size, forgetting the oldest entry first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.chain.memo import BoundedMemo


@given(keys=st.lists(st.integers(0, 20), max_size=60), size=st.integers(1, 8))
def test_fuzz_memo_holds_the_most_recently_added_keys(keys: list[int], size: int) -> None:
    memo: BoundedMemo[int, int] = BoundedMemo(size)
    for key in keys:
        memo.get_or_make(key, lambda key=key: key * 10)
    assert len(memo) <= size
    model: list[int] = []  # the reference: a queue of remembered keys, oldest first
    for key in keys:
        if key not in model:
            if len(model) >= size:
                model.pop(0)
            model.append(key)
    kept = [k for k in range(21) if memo.get(k) is not None]
    assert kept == sorted(model)
    assert all(memo.get(k) == k * 10 for k in kept)


def test_get_or_make_makes_once() -> None:
    memo: BoundedMemo[str, list[int]] = BoundedMemo(2)
    made: list[str] = []

    def make(key: str) -> list[int]:
        made.append(key)
        return [len(made)]

    first = memo.get_or_make("a", lambda: make("a"))
    assert memo.get_or_make("a", lambda: make("a")) is first
    assert made == ["a"]


def test_revert_when_size_below_one() -> None:
    with pytest.raises(ValueError, match="memo size must be >= 1, got 0"):
        BoundedMemo(0)


@given(values=st.lists(st.binary(max_size=3), max_size=40))
def test_fuzz_share_returns_an_equal_value_and_one_object_per_remembered_value(
    values: list[bytes],
) -> None:
    memo: BoundedMemo[bytes, bytes] = BoundedMemo(64)  # larger than any run: nothing forgotten
    first: dict[bytes, bytes] = {}
    for value in values:
        # a fresh copy, so identity can only come from the memo
        shared = memo.share(bytes(bytearray(value)))
        assert shared == value
        assert shared is first.setdefault(value, shared)
