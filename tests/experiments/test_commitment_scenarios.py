"""The shipped commitment-economy scenarios, run small: each mechanism moves its headline metric.

Each test loads ``scenarios/escrow.toml`` or ``scenarios/congestion.toml`` as shipped, shortens
it, and compares the file (``base``) with one of its variants on the same seed, through the same
``runner.simulate`` that ``testbed compare`` uses. Where the shipped mix of sellers would give
too few cases in a short run to see a mechanism, the test overrides the mix with key paths (the
same overrides ``testbed sweep`` applies), so the file's variant is still what is compared.
The margins are set below what each mechanism gives on these seeds and far above what a broken
one (a variant that changes nothing) could give.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from agentbed.experiments.runner import BASE, simulate
from agentbed.experiments.sweep import load_with_overrides

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ESCROW = SCENARIOS / "escrow.toml"
CONGESTION = SCENARIOS / "congestion.toml"

# Sellers' groups in escrow.toml: 1 honest, 2 opportunistic, 3 deceptive, 4 adversarial,
# 5 adaptive (0 is the buyers).
OPPORTUNISTIC_MARKET = (
    ("run.blocks", 30),
    ("agents[0].params.ignore_reputation", True),  # every seller keeps getting deals
    ("agents[0].params.dispute_prob", 0.0),  # every default runs into the timeout
    ("agents[2].count", 6),
    ("agents[3].count", 0),
    ("agents[4].count", 0),
    ("agents[5].count", 0),
)
BRIBING_MARKET = (
    ("run.blocks", 30),
    ("agents[0].params.ignore_reputation", True),
    ("agents[0].params.dispute_prob", 1.0),  # every default is disputed
    ("agents[2].count", 0),
    ("agents[3].count", 0),
    ("agents[4].count", 4),  # adversarial sellers, who bribe the arbitrator of a dispute
)


@cache
def summary(
    path: Path, overrides: tuple[tuple[str, Any], ...], variant: str, seed: int
) -> dict[str, Any]:
    """The ``summary.json`` of one run of ``variant`` (``base``: the file) of ``path``."""
    scenario = load_with_overrides(path, overrides)
    if variant != BASE:
        scenario = scenario.variant_named(variant)
    return simulate(scenario, policy=scenario.run.policy, seed=seed).summary


def pooled_rate(summaries: Sequence[dict[str, Any]], behaviour: str, metric: str) -> float:
    """``metric`` (a rate) of ``behaviour``'s sellers over several runs, weighted by deals."""
    rows = [s["by_behaviour"][behaviour] for s in summaries]
    closed = sum(r["closed"] for r in rows)
    assert closed >= 20, f"too few closed agreements ({closed}) to measure a rate"
    return sum(r[metric] * r["closed"] for r in rows) / closed


SEEDS = (11, 12)


def test_slashing_bonds_at_timeout_lowers_opportunistic_sellers_timeouts() -> None:
    # An opportunistic seller defaults when its outside gain beats the bond it expects to lose:
    # under refund only the disputed share of defaults costs the bond, under slash every one.
    slash = [summary(ESCROW, OPPORTUNISTIC_MARKET, BASE, seed) for seed in SEEDS]
    refund = [summary(ESCROW, OPPORTUNISTIC_MARKET, "refund", seed) for seed in SEEDS]
    assert all(s["timeout_policy"] == "slash" for s in slash)
    assert all(s["timeout_policy"] == "refund" for s in refund)
    slashed_rate = pooled_rate(slash, "opportunistic", "timeout_rate")
    refunded_rate = pooled_rate(refund, "opportunistic", "timeout_rate")
    assert refunded_rate >= slashed_rate + 0.2, (slashed_rate, refunded_rate)
    assert sum(s["slashing"]["bonds"] for s in slash) > 0
    assert sum(s["slashing"]["bonds"] for s in refund) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_stake_requirement_and_community_currency_keep_rulings_unbought(seed: int) -> None:
    staked = summary(ESCROW, BRIBING_MARKET, BASE, seed)
    open_door = summary(ESCROW, BRIBING_MARKET, "no_stake", seed)
    community = summary(ESCROW, BRIBING_MARKET, "no_stake_community", seed)
    # With a stake required, the unstaked corruptible arbitrators are never named.
    assert staked["bribes"]["ruled_by_corruptible"] == 0
    assert staked["bribes"]["bribed_rulings"] == 0
    # Without one they are, and adversarial sellers buy their rulings.
    assert open_door["bribes"]["ruled_by_corruptible"] >= 4
    assert open_door["bribes"]["bribed_rulings"] >= 4
    # The community currency cannot be sent from agent to agent: no side payment lands, so
    # the same corruptible arbitrators rule as honest ones do.
    assert community["bribes"]["ruled_by_corruptible"] >= 4
    assert community["bribes"]["side_payments"] == 0
    assert community["bribes"]["bribed_rulings"] == 0


@pytest.mark.parametrize("dispute_prob", [0.0, 1.0])
def test_deadline_grace_keeps_congestion_from_breaking_commitments(dispute_prob: float) -> None:
    # Unwatched deals run into the timeout; watched ones into a dispute, which under a grace
    # the buyer only opens once the grace has run out too.
    short = (("run.blocks", 30), ("agents[0].params.dispute_prob", dispute_prob))
    strict = summary(CONGESTION, short, BASE, 5)
    grace = summary(CONGESTION, short, "grace", 5)
    # The shock is real in both: full blocks and a rising base fee.
    for run in (strict, grace):
        assert run["base_fee"]["max"] > run["base_fee"]["first"]
        assert run["fullness_mean"] > 0.3
    # Every seller is honest, so every broken commitment is the congestion's doing.
    assert strict["broken_commitments"] >= 4
    assert strict["slashing"]["bonds"] > 0
    assert grace["broken_commitments"] == 0
    assert grace["settlement_rate"] > strict["settlement_rate"] + 0.1
    assert grace["welfare"]["total"] > strict["welfare"]["total"]
