"""The venues' codecs without a chain: what a venue encodes it decodes back, the same swap on
both venues quotes the same at 30 bps, and v2's Swap log gives the sold side."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.venues.constant_product import ConstantProductVenue
from agentbed.agents.market.venues.protocol import SwapCall
from agentbed.agents.market.venues.uniswap_v2 import SWAP_TOPIC, UniswapV2Venue, get_amount_out
from agentbed.chain.types import Log

T0, T1, T2 = (to_checksum_address("0x" + c * 40) for c in "123")
PAIR, PAIR2, ROUTER, FACTORY, TRADER = (to_checksum_address("0x" + c * 40) for c in "abcde")
V2 = UniswapV2Venue(ROUTER, FACTORY, {PAIR: (T0, T1), PAIR2: (T1, T2)})
OURS = ConstantProductVenue({PAIR: 30})
UINT = st.integers(min_value=0, max_value=2**256 - 1)
RESERVE = st.integers(min_value=1, max_value=2**112 - 1)


@given(amount=UINT, min_out=UINT, deadline=UINT, zero_for_one=st.booleans())
def test_fuzz_what_a_venue_encodes_it_decodes(
    amount: int, min_out: int, deadline: int, zero_for_one: bool
) -> None:
    token_in = T0 if zero_for_one else T1
    expected = (SwapCall(PAIR, token_in, amount, min_out, TRADER, deadline),)
    for venue in (V2, OURS):
        call = venue.encode_swap(PAIR, token_in, amount, min_out, TRADER, deadline)
        assert venue.decode_call(call.to, call.data) == expected
        assert venue.knows_call(call.to, call.data)


@given(amount=st.integers(min_value=0, max_value=2**100), r_in=RESERVE, r_out=RESERVE)
def test_fuzz_v2_math_is_our_pool_math_at_30_bps(amount: int, r_in: int, r_out: int) -> None:
    assert get_amount_out(amount, r_in, r_out) == amount_out(amount, r_in, r_out, 30)
    assert V2.amount_out(amount, r_in, r_out, PAIR) == OURS.amount_out(amount, r_in, r_out, PAIR)


def test_router_route_is_one_swap_per_hop_with_the_limit_on_the_last() -> None:
    data = V2.encode_swap(PAIR, T0, 10, 7, TRADER, 99).data
    # Rewrite the path to a two-hop route T0 -> T1 -> T2.
    route = data[:4] + encode(
        ("uint256", "uint256", "address[]", "address", "uint256"), (10, 7, [T0, T1, T2], TRADER, 99)
    )
    assert V2.decode_call(ROUTER, route) == (
        SwapCall(PAIR, T0, 10, 0, PAIR2, 99),
        SwapCall(PAIR2, T1, 0, 7, TRADER, 99),
    )
    unknown_pair = data[:4] + encode(
        ("uint256", "uint256", "address[]", "address", "uint256"), (10, 7, [T0, T2], TRADER, 99)
    )
    assert V2.decode_call(ROUTER, unknown_pair) is None
    assert not V2.knows_call(ROUTER, unknown_pair)
    assert V2.decode_call(PAIR, data) is None  # only the router's calls are swaps


def _v2_swap_log(amounts: tuple[int, int, int, int], pair: str = PAIR) -> Log:
    word = bytes(12) + bytes.fromhex(TRADER[2:])
    data = b"".join(a.to_bytes(32, "big") for a in amounts)
    return Log(pair, (SWAP_TOPIC, word, word), data, 3, 0, bytes(32), 1, bytes(32))


def test_v2_swap_log_gives_the_sold_token_and_amounts() -> None:
    one_for_zero = V2.decode_swap_log(_v2_swap_log((0, 500, 90, 0)))
    assert one_for_zero is not None
    assert (one_for_zero.token_in, one_for_zero.amount_in, one_for_zero.amount_out) == (T1, 500, 90)
    zero_for_one = V2.decode_swap_log(_v2_swap_log((40, 0, 0, 77)))
    assert zero_for_one is not None and zero_for_one.token_in == T0
    assert V2.decode_swap_log(_v2_swap_log((40, 0, 0, 77), ROUTER)) is None  # not a known pair
    assert OURS.decode_swap_log(_v2_swap_log((40, 0, 0, 77))) is None
