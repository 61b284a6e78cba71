"""The slot auction: proposers take the best bid (first or second price), bundles reach only
the builders they were sent to, vertical integration, and the proposer's own block."""

from __future__ import annotations

import pytest

from agentbed.chain.auction import (
    AuctionConfigError,
    BuilderSpec,
    Proposer,
    RoundRobinSchedule,
    ShadedBid,
    SlotAuction,
    StakeWeightedSchedule,
    builder_shares,
)
from agentbed.chain.node import GWEI, Chain

FEE_RECIPIENT = "0x00000000000000000000000000000000000000f1"
TRANSFER_GAS = 21_000


def _chain() -> Chain:
    return Chain(seed=5, accounts=8, automine=False)


def _tipped(chain: Chain, index: int, tip_gwei: int, nonce: int | None = None) -> bytes:
    """A plain transfer paying the coinbase ``21000 * tip`` (its fee cap leaves room)."""
    fields = {
        "to": chain.accounts[4].address,
        "value": 1,
        "gas": TRANSFER_GAS,
        "maxPriorityFeePerGas": tip_gwei * GWEI,
        "maxFeePerGas": chain.base_fee + tip_gwei * GWEI,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(chain.accounts[index], fields)


def _builders(chain: Chain, *names: str, **overrides: object) -> list[BuilderSpec]:
    return [
        BuilderSpec(name, chain.accounts[5 + i], **overrides)  # type: ignore[arg-type]
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize(("pricing", "expected_gwei"), [("first", 9), ("second", 7)])
def test_proposer_revenue_is_the_highest_or_second_highest_value(
    pricing: str, expected_gwei: int
) -> None:
    """Theory check (hand-computed): three builders each hold one exclusive bundle paying
    21000 * {3, 9, 7} gwei; all bid their full block value. First price: the proposer gets
    the highest value (9); second price (Vickrey): the second highest (7)."""
    chain = _chain()
    auction = SlotAuction(
        chain,
        _builders(chain, "b0", "b1", "b2"),
        RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)]),
        pricing=pricing,  # type: ignore[arg-type]
    )
    for i, tip in enumerate((3, 9, 7)):
        auction.send_bundle([_tipped(chain, i + 1, tip)], builders=[f"b{i}"])
    result = auction.run_slot()
    assert [b.value for b in result.bids] == [TRANSFER_GAS * t * GWEI for t in (3, 9, 7)]
    assert result.winner == "b1" and result.local_value == 0
    assert result.price == TRANSFER_GAS * expected_gwei * GWEI
    assert chain.balance(FEE_RECIPIENT) == result.price == result.proposer_revenue
    # The winner's block is the one sealed: its bundle, then its payment to the proposer.
    assert result.block.coinbase == chain.accounts[6].address
    assert result.block.tx_hashes[0] == result.bids[1].txs[0].hash
    assert len(result.block.tx_hashes) == 2 and chain.head == result.block


def test_proposer_picks_the_highest_bid_not_the_highest_value() -> None:
    chain = _chain()
    builders = [
        BuilderSpec("greedy", chain.accounts[5], bidding=ShadedBid(5_000)),
        BuilderSpec("generous", chain.accounts[6]),
    ]
    auction = SlotAuction(chain, builders, RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)]))
    auction.send_bundle([_tipped(chain, 1, 10)], builders=["greedy"])
    auction.send_bundle([_tipped(chain, 2, 6)], builders=["generous"])
    result = auction.run_slot()
    greedy, generous = result.bids
    assert greedy.value > generous.value and greedy.amount < generous.amount
    assert result.winner == "generous" and result.price == generous.amount


def test_bundle_sent_to_one_builder_is_not_seen_by_another() -> None:
    chain = _chain()
    auction = SlotAuction(
        chain, _builders(chain, "a", "b"), RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)])
    )
    only_a = auction.send_bundle([_tipped(chain, 1, 4)], builders=["a"])
    to_all = auction.send_bundle([_tipped(chain, 2, 2)])
    bid_a, bid_b = auction.run_slot().bids
    assert set(bid_a.bundles) == {only_a, to_all}
    assert bid_b.bundles == (to_all,)
    with pytest.raises(AuctionConfigError, match="no builders named"):
        auction.send_bundle([_tipped(chain, 3, 1)], builders=["c"])


def test_vertically_integrated_builder_outbids_a_pure_builder_on_the_same_flow() -> None:
    """Same public flow and the same bid shading; the integrated builder's searcher sends its
    bundle to every builder, but integration keeps it exclusive."""
    chain = _chain()
    shade = ShadedBid(9_000)
    builders = [
        BuilderSpec("pure", chain.accounts[5], bidding=shade),
        BuilderSpec("integrated", chain.accounts[6], bidding=shade, searcher="searcher"),
    ]
    auction = SlotAuction(chain, builders, RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)]))
    for i in (1, 2):
        chain.submit(_tipped(chain, i, 2))
    bundle = auction.send_bundle([_tipped(chain, 3, 5)], origin="searcher")
    result = auction.run_slot()
    pure, integrated = result.bids
    assert pure.bundles == () and integrated.bundles == (bundle,)
    assert integrated.value == pure.value + TRANSFER_GAS * 5 * GWEI
    assert result.winner == "integrated" and integrated.amount > pure.amount
    # Both saw the same public flow, and the pool's txs are in the sealed block.
    assert len(pure.txs) == 2 and chain.pending_transactions() == ()


def test_proposer_builds_itself_when_no_bid_beats_its_block() -> None:
    chain = _chain()
    auction = SlotAuction(
        chain,
        _builders(chain, "a", bidding=ShadedBid(5_000)),
        RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)]),
    )
    h = chain.submit(_tipped(chain, 1, 3))
    result = auction.run_slot()
    assert result.winner is None and result.price == 0
    assert result.local_value == TRANSFER_GAS * 3 * GWEI == result.proposer_revenue
    assert result.block.coinbase == FEE_RECIPIENT and result.block.tx_hashes == (h,)
    assert chain.balance(FEE_RECIPIENT) == result.local_value
    assert builder_shares(auction.results) == {"local": 1.0}


def test_round_robin_and_stake_weighted_schedules() -> None:
    proposers = [Proposer(f"p{i}", FEE_RECIPIENT) for i in range(3)]
    robin = RoundRobinSchedule(proposers)
    assert [robin.proposer_for(n).name for n in range(1, 5)] == ["p1", "p2", "p0", "p1"]
    weighted = StakeWeightedSchedule(proposers, [5, 0, 1], seed=3)
    draws = [weighted.proposer_for(n).name for n in range(200)]
    assert draws == [
        StakeWeightedSchedule(proposers, [5, 0, 1], 3).proposer_for(n).name for n in range(200)
    ]
    assert "p1" not in draws  # zero stake never proposes
    with pytest.raises(AuctionConfigError, match="one stake per proposer"):
        StakeWeightedSchedule(proposers, [1, 2], seed=3)
    with pytest.raises(AuctionConfigError, match="positive sum"):
        StakeWeightedSchedule(proposers, [0, 0, 0], seed=3)


def test_auction_slots_are_deterministic_and_snapshots_restore_them() -> None:
    def run(chain: Chain) -> list[bytes]:
        auction = SlotAuction(
            chain,
            _builders(chain, "a", "b", bidding=ShadedBid(8_000)),
            RoundRobinSchedule([Proposer("p", FEE_RECIPIENT)]),
            pricing="second",
        )
        for slot in range(3):
            chain.submit(_tipped(chain, 1, 1 + slot))
            auction.send_bundle([_tipped(chain, 2, 3 + slot)], builders=["b"])
            auction.run_slot()
        return [chain.block(n).hash for n in range(chain.block_number + 1)]

    first = run(_chain())
    chain = _chain()
    snap = chain.snapshot()
    assert run(chain) == first
    chain.revert(snap)
    assert chain.block_number == 0 and run(chain) == first
