"""Our venue reads a pool's ``FlashSwap`` log as the swap it amounts to (net flows)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from agentbed.agents.market.venues.constant_product import FLASH_SWAP_TOPIC, ConstantProductVenue
from agentbed.chain.types import Log

T0, T1 = (to_checksum_address("0x" + c * 40) for c in "12")
POOL, OTHER, SENDER, TO = (to_checksum_address("0x" + c * 40) for c in "abcd")
VENUE = ConstantProductVenue({POOL: 30, OTHER: 30}, {POOL: (T0, T1)})


def _log(in0: int, in1: int, out0: int, out1: int, pool: str = POOL) -> Log:
    words = (bytes(12) + bytes.fromhex(a[2:]) for a in (SENDER, TO))
    data = b"".join(a.to_bytes(32, "big") for a in (in0, in1, out0, out1))
    return Log(pool, (FLASH_SWAP_TOPIC, *words), data, 3, 0, bytes(32), 1, bytes(32))


def test_flash_swap_paid_in_the_other_token_is_a_swap_of_it() -> None:
    swap = VENUE.decode_swap_log(_log(0, 1_000, 90, 0))
    assert swap is not None
    assert (swap.token_in, swap.amount_in, swap.amount_out, swap.recipient) == (T1, 1_000, 90, TO)
    swap = VENUE.decode_swap_log(_log(77, 0, 0, 500))
    assert swap is not None
    assert (swap.token_in, swap.amount_in, swap.amount_out) == (T0, 77, 500)


def test_loan_repaid_in_the_borrowed_token_sells_its_fee_for_nothing() -> None:
    swap = VENUE.decode_swap_log(_log(1_003, 0, 1_000, 0))
    assert swap is not None
    assert (swap.token_in, swap.amount_in, swap.amount_out) == (T0, 3, 0)


def test_mixed_repayment_nets_each_token() -> None:
    # Took 1,000 of token0, repaid 400 of it and 2,000 of token1: a sale of token1 for 600.
    swap = VENUE.decode_swap_log(_log(400, 2_000, 1_000, 0))
    assert swap is not None
    assert (swap.token_in, swap.amount_in, swap.amount_out) == (T1, 2_000, 600)


def test_flash_swap_of_a_pool_without_known_tokens_is_not_read() -> None:
    assert VENUE.decode_swap_log(_log(0, 1_000, 90, 0, OTHER)) is None
    assert ConstantProductVenue({}).decode_swap_log(_log(0, 1_000, 90, 0)) is None
    assert VENUE.decode_swap_log(_log(0, 0, 90, 0)) is None  # nothing paid in
