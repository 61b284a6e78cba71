"""How a bundle searcher bids in the builder's sealed-bid, first-price auction.

The builder (``agentbed.chain.builder``) includes, among bundles that compete for the same
opportunity, the one paying it most, and the winner pays its own bid: a sealed-bid, first-price
auction. A searcher that wants to win must bid more when it has more rivals; what it keeps is
its value minus its bid.

The rule used here is the symmetric equilibrium of the first-price auction with independent
private values drawn uniformly: with ``n`` bidders, each bids ``(n - 1) / n`` of its value
(Vickrey, "Counterspeculation, Auctions, and Competitive Sealed Tenders", Journal of Finance
16(1), 1961; Krishna, "Auction Theory", 2nd ed., Academic Press 2010, ch. 2). A lone bidder
bids nothing, and the share of the value it hands over rises toward 1 as rivals are added. Our
searchers compute the same value for one victim (a common value, not a private one), so this
is the textbook rule applied as a behavioural heuristic, not an equilibrium of our game: with
identical values, ties go to the earlier bundle and the seller's revenue is exactly
``(n - 1) / n`` of the value.

A searcher cannot see its rivals' sealed bundles; it sees who won. :func:`sandwich_senders`
finds the addresses that sandwiched a trade in a block's swap logs, so a searcher counts the
rivals it has watched win.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


def first_price_fraction(bidders: int) -> float:
    """Share of its value a bidder bids among ``bidders`` symmetric bidders: ``(n - 1) / n``.

    Args:
        bidders: Number of bidders, itself included (>= 1).

    Raises:
        ValueError: ``bidders`` is below 1.
    """
    if bidders < 1:
        raise ValueError(f"bidders must be >= 1, got {bidders}")
    return (bidders - 1) / bidders


@dataclass(frozen=True, slots=True)
class SwapSeen:
    """One executed swap, as a searcher reads it from a pool's ``Swap`` log."""

    block: int
    position: tuple[int, int]
    """``(tx_index, log_index)``: its place in the block."""
    pool: str
    sender: str
    token_in: str
    amount_in: int
    amount_out: int


def sandwich_senders(swaps: Iterable[SwapSeen]) -> set[str]:
    """Senders that sandwiched someone, by the shape mev-inspect-py looks for.

    In one block and pool: a front swap of the sender; then, before the sender's next swap, at
    least one other sender's swap in the same direction (a victim); then that next swap of the
    sender going back the other way and selling exactly what the front bought (``amount_in`` of
    the back equals ``amount_out`` of the front). The last condition keeps out a trader who
    happens to swap both ways in one block.

    Args:
        swaps: Swaps in any order.

    Returns:
        The senders of sandwiches (as given).
    """
    groups: dict[tuple[int, str], list[SwapSeen]] = defaultdict(list)
    for swap in swaps:
        groups[(swap.block, swap.pool)].append(swap)
    found: set[str] = set()
    for group in groups.values():
        group.sort(key=lambda s: s.position)
        for i, front in enumerate(group):
            victims = 0
            for later in group[i + 1 :]:
                if later.sender != front.sender:
                    victims += later.token_in == front.token_in
                    continue
                if (
                    victims
                    and later.token_in != front.token_in
                    and later.amount_in == front.amount_out
                ):
                    found.add(front.sender)
                break
    return found
