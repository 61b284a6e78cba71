"""The escrow attack metrics (``agentbed.agents.economy.attack_metrics``) on hand-built deals."""

from __future__ import annotations

from agentbed.agents.economy.attack_metrics import displaced, no_shows, stake_lost
from agentbed.agents.economy.world import TOKEN, Deal

ATTACKER, SYBIL, VICTIM, BUYER, SELLER = "0xA", "0xS", "0xV", "0xB", "0xH"


def deal(n: int, proposer: str, counterparty: str, arbitrator: str, **state: object) -> Deal:
    return Deal(n, proposer, counterparty, arbitrator, 0, 0, 0, 0, 100, 200, **state)  # type: ignore[arg-type]


def test_stake_lost_counts_slashes_of_honest_arbitrators_at_attackers_deals_only() -> None:
    deals = [
        deal(1, ATTACKER, SYBIL, VICTIM, state="ArbitratorTimedOut", slashed=50 * TOKEN),
        deal(2, ATTACKER, SYBIL, VICTIM, state="ArbitratorTimedOut", slashed=50 * TOKEN),
        # an honest buyer's deal whose arbitrator missed the window: not the attack's doing
        deal(3, BUYER, SELLER, VICTIM, state="ArbitratorTimedOut", slashed=50 * TOKEN),
        # the attacker's own account as arbitrator: not a victim
        deal(4, SYBIL, ATTACKER, SYBIL, state="ArbitratorTimedOut", slashed=50 * TOKEN),
        # a dispute the victim ruled on: nothing slashed
        deal(5, ATTACKER, SYBIL, VICTIM, state="Ruled"),
        # bonds slashed at a delivery timeout are no arbitrator's stake
        deal(6, ATTACKER, SYBIL, VICTIM, state="TimedOut", slashed=7 * TOKEN),
    ]
    attackers = {ATTACKER, SYBIL}
    assert stake_lost(deals, attackers) == 100 * TOKEN
    assert no_shows(deals, attackers) == 2
    assert stake_lost(deals, set()) == 0


def test_displaced_counts_honest_buyers_deals_with_an_attacking_seller() -> None:
    deals = [
        deal(1, BUYER, ATTACKER, VICTIM, state="TimedOut"),
        deal(2, BUYER, ATTACKER, VICTIM),  # still open: proposed all the same
        deal(3, BUYER, SELLER, VICTIM, state="Released"),
        deal(4, SYBIL, ATTACKER, VICTIM, state="Released"),  # farming, not an honest buyer
    ]
    assert displaced(deals, {BUYER}, {ATTACKER, SYBIL}) == 2
    assert displaced(deals, {BUYER}, set()) == 0
