"""Prague gas and EIP-1559 base-fee arithmetic.

The base-fee table is worked out by hand from the EIP-1559 formula (comments show the sums);
intrinsic gas and the EIP-7623 floor are cross-checked against py-evm's own ``PragueVM``.
"""

from __future__ import annotations

import pytest
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueTransactionExecutor
from hypothesis import given, settings
from hypothesis import strategies as st
from rawtxkit import CHAIN_ID, make_tx, sign

from agentbed.chain.fees import (
    INITIAL_BASE_FEE,
    calldata_floor_gas,
    calldata_tokens,
    intrinsic_gas,
    next_base_fee,
    required_gas,
)
from agentbed.chain.txcodec import decode_transaction

LIMIT = 30_000_000  # target 15,000,000

BASE_FEE_TABLE = [
    # (parent base fee, gas used, gas limit, expected)
    # empty block: 1e9 * 15e6 // 15e6 // 8 = 125e6 down
    (10**9, 0, LIMIT, 875_000_000),
    # below target: 1e9 * 5e6 // 15e6 = 333_333_333; // 8 = 41_666_666 down
    (10**9, 10_000_000, LIMIT, 958_333_334),
    # exactly target: unchanged
    (10**9, 15_000_000, LIMIT, 10**9),
    # above target: +41_666_666
    (10**9, 20_000_000, LIMIT, 1_041_666_666),
    # full block: +125e6 (the 12.5% maximum)
    (10**9, 30_000_000, LIMIT, 1_125_000_000),
    # one gas above target: 1e9 * 1 // 15e6 = 66; // 8 = 8 up
    (10**9, 15_000_001, LIMIT, 10**9 + 8),
    # one gas below target: 66 // 8 = 8 down
    (10**9, 14_999_999, LIMIT, 10**9 - 8),
    # small base fees: the increase is at least 1 even when the formula rounds to 0 ...
    (7, 30_000_000, LIMIT, 8),  # 7 * 15e6 // 15e6 // 8 = 0 -> 1
    (7, 15_000_001, LIMIT, 8),
    (0, 30_000_000, LIMIT, 1),
    # ... while a decrease may round to nothing
    (7, 0, LIMIT, 7),  # 7 // 8 = 0
    (8, 0, LIMIT, 7),  # 8 // 8 = 1
    (15, 0, LIMIT, 14),  # 15 // 8 = 1
    (16, 0, LIMIT, 14),  # 16 // 8 = 2
    (0, 0, LIMIT, 0),
    # odd gas limit: target 30_000_001 // 2 = 15_000_000
    (10**9, 15_000_000, 30_000_001, 10**9),
    # 100 * 3 // 6 // 8 = 6 up; 100 * 3 // 6 // 8 = 6 down
    (100, 9, 12, 106),
    (100, 3, 12, 94),
]


@pytest.mark.parametrize(("base_fee", "used", "limit", "expected"), BASE_FEE_TABLE)
def test_next_base_fee_table(base_fee: int, used: int, limit: int, expected: int) -> None:
    assert next_base_fee(base_fee, used, limit) == expected


def test_initial_base_fee_is_one_gwei() -> None:
    assert INITIAL_BASE_FEE == 1_000_000_000


class _Header:
    """Just the fields py-evm's base-fee function reads."""

    def __init__(self, base_fee: int, used: int, limit: int) -> None:
        self.base_fee_per_gas = base_fee
        self.gas_used = used
        self.gas_limit = limit


@settings(max_examples=300, deadline=None)
@given(
    base_fee=st.integers(0, 10**12),
    limit=st.integers(5_000, 60_000_000),
    used_fraction=st.floats(0, 1),
)
def test_fuzz_next_base_fee_matches_py_evm(base_fee: int, limit: int, used_fraction: float) -> None:
    used = int(limit * used_fraction)
    header = _Header(base_fee, used, limit)
    assert next_base_fee(base_fee, used, limit) == calculate_expected_base_fee_per_gas(header)  # type: ignore[arg-type]


def test_intrinsic_gas_hand_computed() -> None:
    assert intrinsic_gas(make_tx(1, 0)) == 21_000
    # 3 zero bytes * 4 + 2 non-zero * 16
    assert intrinsic_gas(make_tx(1, 0, gas=100_000, data=b"\x00\x01\x00\x02\x00")) == 21_044
    # create: 53_000 + 33 bytes non-zero (528) + 2 words of initcode (4)
    assert intrinsic_gas(make_tx(1, 0, gas=100_000, to=None, data=b"\x01" * 33)) == 53_532
    access_list = [
        {"address": "0x" + "11" * 20, "storageKeys": ["0x" + "00" * 32, "0x" + "01" * 32]},
        {"address": "0x" + "22" * 20, "storageKeys": []},
    ]
    tx = make_tx(1, 0, gas=100_000, access_list=access_list)
    assert intrinsic_gas(tx) == 21_000 + 2 * 2_400 + 2 * 1_900


def test_calldata_floor_hand_computed() -> None:
    assert calldata_tokens(b"\x00\x01\x00\x02\x00") == 3 + 4 * 2
    tx = make_tx(1, 0, gas=100_000, data=b"\x00\x01\x00\x02\x00")
    assert calldata_floor_gas(tx) == 21_000 + 10 * 11
    # Non-zero heavy calldata: the floor (40/byte) beats the intrinsic cost (16/byte).
    tx = make_tx(1, 0, gas=200_000, data=b"\xff" * 1000)
    assert intrinsic_gas(tx) == 21_000 + 16_000
    assert calldata_floor_gas(tx) == 21_000 + 40_000
    assert required_gas(tx) == 61_000
    # A create with little calldata: intrinsic (53k) dominates.
    tx = make_tx(1, 0, gas=200_000, to=None, data=b"\xff" * 10)
    assert required_gas(tx) == intrinsic_gas(tx) == 53_000 + 160 + 2


_DATA = st.binary(max_size=300) | st.lists(st.sampled_from([0, 1, 255]), max_size=300).map(bytes)


@settings(max_examples=60, deadline=None)
@given(
    data=_DATA,
    tx_type=st.sampled_from([0, 1, 2]),
    create=st.booleans(),
    n_keys=st.lists(st.integers(0, 3), max_size=3),
)
def test_fuzz_intrinsic_and_floor_match_py_evm_prague(
    data: bytes, tx_type: int, create: bool, n_keys: list[int]
) -> None:
    access_list = [
        {"address": "0x" + f"{i + 1:040x}", "storageKeys": ["0x" + f"{k:064x}" for k in range(n)]}
        for i, n in enumerate(n_keys)
    ]
    raw = sign(
        2,
        0,
        tx_type=tx_type,
        gas=1_000_000,
        to=None if create else "0x" + "42" * 20,
        data=data,
        access_list=access_list if tx_type else None,
    )
    ours = decode_transaction(raw, chain_id=CHAIN_ID)
    theirs = PragueVM.get_transaction_builder().decode(raw)
    # py-evm charges the EIP-3860 initcode words when the create message runs, not as part of
    # intrinsic gas; geth (and we) count them intrinsic. The total charged is the same.
    initcode_words = (len(data) + 31) // 32 if create else 0
    assert intrinsic_gas(ours) == theirs.intrinsic_gas + 2 * initcode_words
    # py-evm exposes the floor only as "extra gas to reach it" given gas used so far.
    floor_from_py_evm = PragueTransactionExecutor.calc_data_floor_gas(theirs, 0, 0)
    assert calldata_floor_gas(ours) == floor_from_py_evm
