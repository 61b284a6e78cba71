"""The surplus-sharing solver (``agents/market/surplus_share.coordinate``) on small networks,
and the coordinator's scenario on a few blocks with and without deals.

Network: A/B, B/D (1000 each side), A/C, C/D (800), 30 bps. A maker selling A for D on A>B>D
congests an order behind it on the same route; moving to A>C>D costs the maker a little and
gains the order behind it more.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.routing import Leg, Route, RoutingError, Split, best_route, execute
from agentbed.agents.market.surplus_share import BPS, coordinate
from agentbed.agents.market.venues.protocol import Pool
from agentbed.experiments.build import build
from agentbed.experiments.studies import resolve_study
from agentbed.experiments.sweep import load_with_overrides

E = 10**18
ROOT = Path(__file__).resolve().parents[3]
AB = Pool(f"0x{1:040x}", "A", "B", "A", "B", 30)
BD = Pool(f"0x{2:040x}", "B", "D", "B", "D", 30)
AC = Pool(f"0x{3:040x}", "A", "C", "A", "C", 30)
CD = Pool(f"0x{4:040x}", "C", "D", "C", "D", 30)
VIA_B = Route((Leg(AB, "A"), Leg(BD, "B")))
VIA_C = Route((Leg(AC, "A"), Leg(CD, "C")))
RESERVES = {
    AB.address: (1000 * E, 1000 * E),
    BD.address: (1000 * E, 1000 * E),
    AC.address: (800 * E, 800 * E),
    CD.address: (800 * E, 800 * E),
}


def quote(pool: Pool, amount: int, r_in: int, r_out: int) -> int:
    return amount_out(amount, r_in, r_out, pool.fee_bps)


def par(token: str, amount: int) -> float:
    return float(amount)


def on(route: Route, amount: int) -> Split:
    return best_route([route], amount, RESERVES, quote)


def test_deal_share_covers_the_makers_loss_out_of_the_surplus() -> None:
    deal = coordinate(
        on(VIA_B, 100 * E), on(VIA_C, 100 * E), [on(VIA_B, 100 * E)], RESERVES, quote, par
    )
    assert deal is not None
    maker_default = execute([VIA_B], [100 * E], RESERVES, quote)[0][0]
    maker_alt = execute([VIA_C], [100 * E], RESERVES, quote)[0][0]
    assert deal.maker_loss == maker_default - maker_alt > 0
    (gain,) = (o - r for o, r in zip(deal.outputs, deal.references, strict=True))
    assert gain > deal.maker_loss  # the change of route gains the network something
    assert deal.expected_payments == (gain * deal.share_bps // BPS,)
    assert gain * deal.share_bps >= deal.maker_loss * BPS  # the share covers the loss
    assert gain * (deal.share_bps - 1) < deal.maker_loss * BPS  # and is the smallest that does


def test_no_deal_when_the_orders_behind_do_not_share_the_pool() -> None:
    behind = on(VIA_C, 100 * E)  # the alternative route is theirs: the change hurts them
    assert (
        coordinate(on(VIA_B, 100 * E), on(VIA_C, 100 * E), [behind], RESERVES, quote, par) is None
    )


def test_an_order_that_may_not_pay_is_left_out() -> None:
    others = [on(VIA_B, 100 * E), on(VIA_B, 100 * E)]
    deal = coordinate(
        on(VIA_B, 100 * E), on(VIA_C, 100 * E), others, RESERVES, quote, par, [False, True]
    )
    assert deal is not None and deal.payers == (1,)
    with pytest.raises(RoutingError, match="can_pay"):
        coordinate(on(VIA_B, 100 * E), on(VIA_C, 100 * E), others, RESERVES, quote, par, [True])


def test_revert_when_the_two_routings_are_different_orders() -> None:
    with pytest.raises(RoutingError, match="same order"):
        coordinate(on(VIA_B, 100 * E), on(VIA_C, 90 * E), [], RESERVES, quote, par)


@settings(max_examples=30, deadline=None)
@given(
    maker=st.integers(1, 300),
    behind=st.lists(st.integers(1, 300), min_size=1, max_size=4),
)
def test_fuzz_a_deal_gains_more_than_it_pays_the_maker(maker: int, behind: list[int]) -> None:
    """Whenever a deal is offered, the payers' surplus exceeds the maker's loss, every payer
    pays at most its gain, and the payments cover the loss."""
    others = [on(VIA_B, x * E) for x in behind]
    deal = coordinate(on(VIA_B, maker * E), on(VIA_C, maker * E), others, RESERVES, quote, par)
    if deal is None:
        return
    gains = [deal.outputs[i] - deal.references[i] for i in deal.payers]
    assert sum(gains) > deal.maker_loss
    assert all(g >= p for g, p in zip(gains, deal.expected_payments, strict=True))
    assert sum(g * deal.share_bps for g in gains) >= deal.maker_loss * BPS


def _run(variant: str | None) -> dict:
    path = ROOT / "scenarios" / "routing_sharing.toml"
    overrides = [("run.blocks", 4)]
    if variant is not None:
        overrides = [*load_with_overrides(path, []).variants[variant], *overrides]
    scenario = load_with_overrides(path, overrides)
    sim, world = build(scenario)
    sim.run()
    report = resolve_study(scenario.study).summarize(
        sim, world, scenario, policy="priority", seed=scenario.run.seed, label="x", kinds={}
    )
    return report.summary


def test_coordinated_and_uncoordinated_runs_settle_the_same_orders() -> None:
    """Seed 1, 4 blocks: the same orders settle in both variants (paired by seed); only the
    coordinated one makes deals, and its payments are shares of measured surplus."""
    shared = _run(None)
    plain = _run("uncoordinated")
    assert shared["sharing"]["orders"] == plain["sharing"]["orders"] > 0
    assert shared["routing"]["orders"] == plain["routing"]["orders"]
    assert plain["sharing"]["paying_orders"] == plain["sharing"]["makers"] == 0
    assert shared["sharing"]["paying_orders"] > 0
    assert 0 < shared["sharing"]["paid"] < shared["sharing"]["surplus"]
    assert shared["sharing"]["failed"] == plain["sharing"]["failed"] == 0
