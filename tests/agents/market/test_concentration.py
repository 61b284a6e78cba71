"""Concentration of searcher profit: the HHI's range and its fixed points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.market.concentration import hhi


def test_hhi_fixed_cases() -> None:
    assert hhi([]) is None
    assert hhi([-3.0, 0.0]) is None  # nobody earned
    assert hhi([5.0]) == 1.0
    assert hhi([1.0, 1.0, 1.0, 1.0]) == pytest.approx(0.25)
    assert hhi([3.0, 1.0, -7.0]) == pytest.approx(0.75**2 + 0.25**2)  # losses are no share


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=12))
def test_fuzz_hhi_lies_between_one_over_n_and_one(values: list[float]) -> None:
    positive = [v for v in values if v > 0]
    index = hhi(values)
    if not positive:
        assert index is None
        return
    assert index is not None
    assert 1 / len(positive) - 1e-9 <= index <= 1 + 1e-9
