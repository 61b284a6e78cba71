"""Bundle searchers' bidding: the first-price rule, counting rivals from swap logs, and two
first-price sandwichers meeting in the builder's auction."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st
from marketkit import OneShot, World, block_receipts, build_world, once_at

from agentbed.agents.agent import GWEI, AgentView
from agentbed.agents.market.strategies.bidding import (
    SwapSeen,
    first_price_fraction,
    sandwich_senders,
)
from agentbed.agents.market.strategies.frontrun import Frontrunner
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.chain.ordering import BundlesFirstPolicy

ACCOUNT = Account.from_key(b"\x01" * 32)


# ---------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------


def test_first_price_fraction_is_n_minus_one_over_n() -> None:
    assert first_price_fraction(1) == 0.0
    assert first_price_fraction(2) == 0.5
    assert first_price_fraction(4) == 0.75


def test_first_price_fraction_rejects_no_bidders() -> None:
    with pytest.raises(ValueError, match="bidders must be >= 1, got 0"):
        first_price_fraction(0)


@given(st.integers(min_value=1, max_value=10_000))
def test_fuzz_first_price_fraction_rises_toward_one(n: int) -> None:
    fraction = first_price_fraction(n)
    assert 0.0 <= fraction < 1.0
    assert first_price_fraction(n + 1) > fraction
    assert fraction == pytest.approx(1 - 1 / n)


def _sandwicher(**params: Any) -> Sandwicher:
    return Sandwicher("s", ACCOUNT, random.Random(0), mode="bundle", **params)


def test_sandwicher_bids_by_the_rule_unless_a_bribe_fraction_overrides() -> None:
    assert _sandwicher().bid_fraction() == 0.01  # alone as far as it knows: the floor
    assert _sandwicher(min_bid_fraction=0.0).bid_fraction() == 0.0
    assert _sandwicher(rivals=3).bid_fraction() == 0.75
    assert _sandwicher(bribe_fraction=0.3, rivals=3).bid_fraction() == 0.3
    seen = _sandwicher()
    seen.rivals_seen |= {"0xa", "0xb"}
    assert seen.bid_fraction() == pytest.approx(2 / 3)


def test_sandwicher_rejects_negative_rivals() -> None:
    with pytest.raises(ValueError, match="rivals"):
        _sandwicher(rivals=-1)


def test_frontrunner_reprices_by_default() -> None:
    assert Frontrunner("f", ACCOUNT, random.Random(0)).reprice is True


# ---------------------------------------------------------------------------------------------
# rivals from swap logs
# ---------------------------------------------------------------------------------------------


def _swap(
    tx: int, sender: str, token_in: str, amount_in: int, amount_out: int, *, block: int = 1
) -> SwapSeen:
    return SwapSeen(block, (tx, 0), "pool", sender, token_in, amount_in, amount_out)


def test_sandwich_senders_finds_front_victim_back() -> None:
    swaps = [
        _swap(2, "bot", "usdc", 100, 7),  # back first in the list: order comes from position
        _swap(0, "bot", "weth", 5, 100),
        _swap(1, "user", "weth", 3, 55),
    ]
    assert sandwich_senders(swaps) == {"bot"}


@pytest.mark.parametrize(
    ("swaps", "why"),
    [
        (
            [
                _swap(0, "t", "weth", 5, 100),
                _swap(1, "u", "weth", 3, 55),
                _swap(2, "t", "usdc", 99, 5),
            ],
            "the back does not sell what the front bought",
        ),
        (
            [
                _swap(0, "t", "weth", 5, 100),
                _swap(1, "u", "usdc", 3, 1),
                _swap(2, "t", "usdc", 100, 5),
            ],
            "the trade between goes the other way",
        ),
        (
            [_swap(0, "t", "weth", 5, 100), _swap(1, "t", "usdc", 100, 5)],
            "nobody in between",
        ),
        (
            [
                _swap(0, "t", "weth", 5, 100),
                _swap(1, "u", "weth", 3, 55, block=2),
                _swap(2, "t", "usdc", 100, 5, block=3),
            ],
            "not in one block",
        ),
    ],
)
def test_sandwich_senders_ignores_other_shapes(swaps: list[SwapSeen], why: str) -> None:
    assert sandwich_senders(swaps) == set(), why


# ---------------------------------------------------------------------------------------------
# two first-price bidders in the builder's auction
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(
        7,
        [PoolSpec("WETH", "USDC", 10**21, 3 * 10**24)],
        {"WETH": 10**21, "USDC": 3 * 10**24},
        accounts=6,
        gas_limit=3_000_000,
        block_interval_ms=2_000,
    )


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        yield fresh


@pytest.mark.parametrize("crowded_first", [True, False])
def test_the_bidder_expecting_more_rivals_outbids_and_wins(
    world: World, market: Market, crowded_first: bool
) -> None:
    pool = market.pools[0]
    weth = world.tokens["WETH"]
    trader = world.account(1)

    def swap(view: AgentView) -> Any:
        amount = 5 * 10**18
        min_out = view.market.quote(pool, weth, amount) * 9_900 // 10_000
        return (view.market.swap(pool, weth, amount, min_out, trader.address, tip=GWEI),)

    victim = OneShot("victim", trader, world.rng("victim"), once_at(1_000), make=swap)
    # With equal bids the builder's tie-break (less gas, then arrival) picks "alone" in both
    # orders on this chain; only the higher bid wins the auction for "crowded".
    alone = Sandwicher("alone", world.account(3), world.rng("a"), mode="bundle", rivals=0)
    crowded = Sandwicher("crowded", world.account(2), world.rng("c"), mode="bundle", rivals=2)
    bidders = [crowded, alone] if crowded_first else [alone, crowded]
    sim = world.run(market, [victim, *bidders], blocks=1, policy=BundlesFirstPolicy())
    landed = [sim.sent[r.tx_hash] for r in block_receipts(sim) if r.tx_hash in sim.sent]
    assert [(s.agent, s.label) for s in landed if s.label != "approve"] == [
        ("crowded", "front"),
        ("victim", "trade"),
        ("crowded", "back"),
    ]
    build = world.chain.last_build
    assert build is not None and build.dropped_bundles
    assert all(reason.startswith("outbid") for _, reason in build.dropped_bundles)
    front = next(s for s in landed if s.label == "front")
    assert world.chain.transaction(front.hash).max_priority_fee_per_gas > 0
