"""The governance levers' rules (agentbed.agents.economy.governance) on hand-built agreements."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.economy.governance import (
    Governance,
    Governor,
    adjusted_residuals,
    breaker_frozen,
    collusive_pairs,
    decay_weight,
    decayed_counts,
)
from agentbed.agents.economy.world import Deal

_ids = iter(range(10**6))


def deal(
    buyer: str, seller: str, state: str = "Released", closed: int | None = 1, **kw: Any
) -> Deal:
    """An agreement (price 10, bonds 2 and 10) in ``state``, closed at block ``closed``."""
    fields: dict[str, Any] = {
        "counterparty_confirmed": state == "Released",
        "price": 10,
        "proposer_bond": 2,
        "counterparty_bond": 10,
        **kw,
    }
    return Deal(
        id=next(_ids),
        proposer=buyer,
        counterparty=seller,
        arbitrator="arb",
        fee=1,
        accept_by=0,
        deliver_by=0,
        state=state,  # type: ignore[arg-type]  # a DealState name
        closed_block=closed,
        **fields,
    )


def test_breaker_freezes_at_threshold_inside_the_window() -> None:
    deals = [
        deal("b1", "bad", "TimedOut", closed=8),
        deal("b2", "bad", "Ruled", closed=9, to_proposer=22),  # buyer got the pot: lost
        deal("b1", "once", "TimedOut", closed=9),
        deal("b1", "won", "Ruled", closed=9, to_proposer=2),  # seller won: not bad
        deal("b2", "won", "Ruled", closed=9, to_proposer=2),
        deal("b1", "old", "TimedOut", closed=1),
        deal("b2", "old", "TimedOut", closed=2),
    ]
    # window of 5 blocks up to head 10: blocks 6..10
    assert breaker_frozen(deals, head=10, window_blocks=5, threshold=2) == {"bad"}
    assert breaker_frozen(deals, head=10, window_blocks=10, threshold=2) == {"bad", "old"}


def test_breaker_ignores_a_delivered_timeout() -> None:
    late = deal("b", "s", "TimedOut", closed=5, counterparty_confirmed=True)
    assert breaker_frozen([late, late], head=5, window_blocks=5, threshold=1) == frozenset()


def test_adjusted_residual_by_hand() -> None:
    # Table: a->x 3, a->y 1, b->y 4 (N = 8; rows a 4, b 4; columns x 3, y 5).
    pairs = [("a", "x")] * 3 + [("a", "y")] + [("b", "y")] * 4
    residuals = adjusted_residuals(pairs)
    expected = 4 * 3 / 8  # 1.5
    variance = expected * (1 - 4 / 8) * (1 - 3 / 8)  # 1.5 * 0.5 * 0.625
    assert residuals[("a", "x")] == pytest.approx((3 - expected) / math.sqrt(variance))
    assert residuals[("a", "x")] == pytest.approx(2.19089, abs=1e-4)


def test_collusion_flags_the_sybil_pair_only() -> None:
    # Four buyers spread over three sellers; a sybil trades only with its farmer.
    deals = [deal(f"b{i}", f"s{(i + j) % 3}") for i in range(4) for j in range(6)]
    deals += [deal("sybil", "farmer") for _ in range(8)]
    assert collusive_pairs(deals, z=4.0, min_deals=5) == [("sybil", "farmer")]
    assert collusive_pairs(deals, z=4.0, min_deals=9) == []


def test_governor_freezes_both_accounts_of_a_flagged_pair() -> None:
    governor = Governor(Governance(collusion_z=4.0, collusion_min_deals=5))
    deals = [deal(f"b{i}", f"s{(i + j) % 3}") for i in range(4) for j in range(6)]
    deals += [deal("sybil", "farmer") for _ in range(8)]
    governor.update(deals, head=3)
    assert not governor.admits("b0", "farmer")
    assert not governor.admits("sybil", "s0")
    assert governor.admits("b0", "s1")
    assert governor.summary({"sybil": "sybil0"})["collusion_flagged"] == [["sybil0", "farmer"]]


def test_governor_off_freezes_nobody() -> None:
    governor = Governor()
    governor.update([deal("b", "s", "TimedOut", closed=1)] * 5, head=2)
    assert governor.frozen == frozenset() and governor.admits("b", "s")


def test_breaker_thaws_once_outcomes_leave_the_window() -> None:
    governor = Governor(Governance(freeze_defaults=1, freeze_window_s=24), block_interval_s=12)
    bad = [deal("b", "s", "TimedOut", closed=5)]
    governor.update(bad, head=6)
    assert not governor.admits("b", "s")
    governor.update(bad, head=7)  # window of 2 blocks: 6..7
    assert governor.admits("b", "s")
    assert governor.ever_frozen == {"s"}


@given(st.integers(1, 2_000), st.integers(1, 30), st.integers(0, 100), st.integers(0, 200))
def test_fuzz_governor_mirrors_the_escrow_breaker(
    window_s: int, interval_s: int, closed: int, wait: int
) -> None:
    """GovernedEscrow blocks a proposal landing at block h + 1 while the bad outcome (closed at
    block c) is at most W seconds old: (h + 1 - c) * dt <= W. The governor must agree."""
    rules = Governance(freeze_defaults=1, freeze_window_s=window_s)
    governor = Governor(rules, block_interval_s=interval_s)
    head = closed + wait
    governor.update([deal("b", "s", "TimedOut", closed=closed)], head=head)
    assert (not governor.admits("b", "s")) == ((head + 1 - closed) * interval_s <= window_s)


def test_tax_lever_settings() -> None:
    assert not Governance().on_chain
    tax = Governance(tax_bps=250)
    assert tax.on_chain and not tax.active
    assert tax.levers("0xgov", "0xfund") == ("0xgov", "0xfund", 250, 0, 240)
    breaker = Governance(freeze_defaults=2, freeze_window_s=120)
    assert breaker.levers("g") == ("g", "0x" + "00" * 20, 0, 2, 120)
    with pytest.raises(ValueError, match="tax_bps"):
        Governance(tax_bps=10_000)


def test_decayed_counts_by_hand() -> None:
    deals = [
        deal("b1", "s", closed=10),  # completed, age 0
        deal("b1", "s", closed=4),  # same buyer and outcome: only the latest counts
        deal("b2", "s", closed=5),  # completed, age 5 blocks = 60 s = one half-life
        deal("b3", "s", "TimedOut", closed=0),  # defaulted, age 120 s = two half-lives
        deal("b4", "s", price=0, proposer_bond=0, counterparty_bond=0),  # nothing at stake
    ]
    good, bad = decayed_counts(
        deals, "s", head=10, block_interval_s=12, half_life_s=60, min_stake=10
    )
    assert (good, bad) == (pytest.approx(1 + 0.5), pytest.approx(0.25))


def test_without_decay_counts_are_distinct_counterparties() -> None:
    deals = [deal("b1", "s"), deal("b1", "s"), deal("b2", "s"), deal("b3", "s", "TimedOut")]
    counts = decayed_counts(deals, "s", head=50, block_interval_s=12, half_life_s=0, min_stake=1)
    assert counts == (2.0, 1.0)


def test_revert_when_lever_settings_are_invalid() -> None:
    with pytest.raises(ValueError, match="freeze"):
        Governance(freeze_defaults=-1)
    with pytest.raises(ValueError, match="collusion"):
        Governance(collusion_z=-1.0)


@given(st.floats(0, 1e6), st.floats(1, 1e5), st.floats(0, 1e5))
def test_fuzz_decay_halves_every_half_life(age: float, half_life: float, extra: float) -> None:
    assert 0.0 <= decay_weight(age, half_life) <= 1.0
    assert decay_weight(age + half_life, half_life) == pytest.approx(
        decay_weight(age, half_life) / 2, rel=1e-9, abs=1e-300
    )
    assert decay_weight(age + extra, half_life) <= decay_weight(age, half_life)
