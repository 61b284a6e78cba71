"""What each kind of action sends, and the observation's view of the pending swaps."""

from __future__ import annotations

import dataclasses

import pytest
from learnkit import short_pga

from agentbed.agents.agent import BundleIntent, TxIntent
from agentbed.agents.learning import LearningConfig
from agentbed.agents.learning.actions import plan
from agentbed.agents.learning.episode import MarketEpisode
from agentbed.agents.learning.observation import SLOT_FEATURES, visible_swaps
from agentbed.agents.market.strategies.common import effective_tip, hash_hex

CONFIG = LearningConfig()


@pytest.fixture(scope="module")
def busy() -> tuple[MarketEpisode, object, tuple]:
    """An episode at the first decision time with a pending swap in view (seed 1)."""
    episode = MarketEpisode(short_pga(10), 1, CONFIG)
    while not episode.done:
        agent = episode.learners["learner0"]
        view = episode.sim.view_of(agent)
        swaps = visible_swaps(view, episode.market, agent.address)
        if swaps:
            return episode, view, swaps
        episode.step({})
    raise AssertionError("no pending swap was ever in view")


def test_front_run_outbids_every_tip_on_its_side(busy) -> None:
    episode, view, swaps = busy
    own = episode.learners["learner0"].address
    (front,), skipped = plan((2, 0, 0, 1, 2, 0, 0), view, episode.market, own, swaps, CONFIG)
    assert skipped == ""
    assert isinstance(front, TxIntent)
    assert front.label == "front"
    assert front.meta == {"victim": hash_hex(swaps[0].ptx.hash)}
    side = [
        effective_tip(p, view.base_fee)
        for p in view.pending
        if (s := episode.market.pending_swap(p.tx)) is not None
        and (s.pool, s.token_in) == (swaps[0].swap.pool, swaps[0].swap.token_in)
    ]
    assert front.tip == max(side) + CONFIG.tip_wei(2)
    (copy,) = episode.market.pending_swaps(front.to, front.data)
    assert copy.token_in == swaps[0].swap.token_in


def test_bundled_sandwich_wraps_the_victims_raw_tx(busy) -> None:
    episode, view, swaps = busy
    own = episode.learners["learner0"].address
    (bundle,), _ = plan((3, 0, 0, 1, 0, 1, 0), view, episode.market, own, swaps, CONFIG)
    assert isinstance(bundle, BundleIntent)
    front, victim, back = bundle.items
    assert victim == swaps[0].ptx.tx.raw
    assert isinstance(front, TxIntent) and isinstance(back, TxIntent)
    assert (front.label, back.label) == ("front", "back")
    (sold,) = episode.market.pending_swaps(back.to, back.data)
    assert sold.token_in != swaps[0].swap.token_in  # the back leg sells what the front bought


def test_plain_swap_sells_the_chosen_side_and_size(busy) -> None:
    episode, view, swaps = busy
    market = episode.market
    own = episode.learners["learner0"].address
    pool = market.pools[0]
    (intent,), _ = plan((1, 0, 1, 1, 3, 0, 0), view, market, own, swaps, CONFIG)
    (swap,) = market.pending_swaps(intent.to, intent.data)
    reserve_in, _ = market.reserves_for(pool, pool.token1)
    assert swap.token_in == pool.token1
    assert swap.amount_in == int(CONFIG.trade_sizes[1] * reserve_in)
    assert intent.tip == CONFIG.tip_wei(3)
    (bundled,), _ = plan((1, 0, 1, 1, 3, 1, 0), view, market, own, swaps, CONFIG)
    assert bundled == BundleIntent((intent,), label="trade")


def test_inapplicable_actions_send_nothing_and_say_why(busy) -> None:
    episode, view, swaps = busy
    market, own = episode.market, episode.learners["learner0"].address
    assert plan((0, 0, 0, 0, 0, 0, 0), view, market, own, swaps, CONFIG) == ((), "")
    empty = (2, 0, 0, 0, 0, 0, CONFIG.top_n - 1)
    assert plan(empty, view, market, own, swaps[: CONFIG.top_n - 1], CONFIG) == (
        (),
        f"no pending swap in slot {CONFIG.top_n - 1}",
    )
    clogged = dataclasses.replace(view, nonce=view.confirmed_nonce + CONFIG.max_pending)
    assert plan((1, 0, 0, 0, 0, 0, 0), clogged, market, own, swaps, CONFIG) == (
        (),
        "too many own transactions pending",
    )


def test_slots_hold_the_largest_swaps_first(busy) -> None:
    episode, _, swaps = busy
    sizes = [s.size_bps for s in swaps]
    assert sizes == sorted(sizes, reverse=True)
    assert all(s.ptx.sender != episode.learners["learner0"].address for s in swaps)
    obs = episode.observe("learner0")
    width = len(SLOT_FEATURES)
    slots = obs[-CONFIG.top_n * width :].reshape(CONFIG.top_n, width)
    present = [bool(row[0]) for row in slots]
    assert present == [i < len(swaps) for i in range(CONFIG.top_n)]
    assert slots[0][3] == pytest.approx(swaps[0].size_bps, rel=1e-6)
