"""Mempool admission (geth's rules and wording), queueing, replacement, eviction, blocks."""

from __future__ import annotations

import pytest
from rawtxkit import (
    CHAIN_ID,
    GWEI,
    FakeState,
    address,
    assert_rejected_unchanged,
    make_tx,
    pool_snapshot,
    sign,
)

from agentbed.chain.errors import (
    AccountLimitExceeded,
    AlreadyKnown,
    FloorDataGasTooLow,
    GasLimitExceeded,
    InsufficientFunds,
    IntrinsicGasTooLow,
    MaxInitCodeSizeExceeded,
    NonceMax,
    NonceTooLow,
    OversizedData,
    ReplacementUnderpriced,
    TipAboveFeeCap,
    TxPoolFull,
    Underpriced,
)
from agentbed.chain.interfaces import HeadInfo, PoolConfig
from agentbed.chain.mempool import Mempool, replacement_thresholds
from agentbed.chain.txcodec import decode_transaction
from agentbed.chain.types import Transaction, TxFate, TxStatus

HEAD = HeadInfo(block_gas_limit=30_000_000, base_fee=GWEI)
RICH = 10**24


def rich_state(*senders: int) -> FakeState:
    return FakeState(balances={address(i): RICH for i in senders or range(1, 10)})


def add(pool: Mempool, state: FakeState, tx: Transaction, head: HeadInfo = HEAD, at: int = 0):
    return pool.add(tx, state=state, head=head, arrival_ms=at)


def reject(
    pool: Mempool,
    state: FakeState,
    tx: Transaction,
    error: type,
    head: HeadInfo = HEAD,
    known: list[bytes] | None = None,
):
    return assert_rejected_unchanged(pool, state, tx, error, known or [], head=head, arrival_ms=99)


def statuses(pool: Mempool, txs: list[Transaction]) -> list[TxStatus | None]:
    return [f.status if (f := pool.fate(tx.hash)) else None for tx in txs]


# ---------------------------------------------------------------------------------------------
# Basics
# ---------------------------------------------------------------------------------------------


def test_admitted_tx_is_pending_with_its_arrival_record() -> None:
    pool, state = Mempool(PoolConfig()), rich_state()
    tx = make_tx(1, 0)
    ptx = pool.add(tx, state=state, head=HEAD, arrival_ms=1234, origin="alice")
    assert (ptx.tx, ptx.arrival_ms, ptx.origin, ptx.seq) == (tx, 1234, "alice", 1)
    assert pool.get(tx.hash) == ptx
    assert tx.hash in pool
    assert len(pool) == 1
    assert pool.status() == (1, 0)
    assert pool.fate(tx.hash) == TxFate(TxStatus.PENDING)
    assert pool.pending() == [ptx]
    assert pool.queued() == []
    assert pool.pending_by_sender() == {tx.sender: [ptx]}
    assert pool.content() == {"pending": {tx.sender: {0: ptx}}, "queued": {}}
    assert pool.fate(b"\x00" * 32) is None


def test_pending_sorted_by_sender_then_nonce() -> None:
    pool, state = Mempool(), rich_state()
    for i, nonce in [(3, 1), (1, 0), (3, 0), (2, 0), (1, 1)]:
        add(pool, state, make_tx(i, nonce))
    got = [(p.sender, p.nonce) for p in pool.pending()]
    assert got == sorted(got)
    assert len(got) == 5


# ---------------------------------------------------------------------------------------------
# Stateless admission rules, with boundaries
# ---------------------------------------------------------------------------------------------


def _tx_of_size(size: int) -> Transaction:
    """A type-2 tx whose encoded size is exactly ``size`` bytes (zero calldata)."""
    length = size - 120
    for _ in range(10):
        raw = sign(1, 0, gas=2_000_000, data=b"\x00" * length)
        if len(raw) == size:
            return decode_transaction(raw, chain_id=CHAIN_ID)
        length += size - len(raw)
    raise AssertionError("could not hit the size")


def test_oversized_data_boundary() -> None:
    limit = PoolConfig().max_tx_size
    assert limit == 128 * 1024
    pool, state = Mempool(), rich_state()
    too_big = _tx_of_size(limit + 1)
    err = reject(pool, state, too_big, OversizedData)
    assert str(err) == f"oversized data: transaction size {limit + 1}, limit {limit}"
    exact = _tx_of_size(limit)
    assert exact.size == limit
    add(pool, state, exact)
    assert exact.hash in pool


def test_max_initcode_size_boundary() -> None:
    pool, state = Mempool(), rich_state()
    too_big = make_tx(1, 0, to=None, gas=700_000, data=b"\x00" * 49_153)
    reject(pool, state, too_big, MaxInitCodeSizeExceeded)
    # Calldata of that size to an existing address is no initcode: no limit.
    call = make_tx(2, 0, gas=700_000, data=b"\x00" * 49_153)
    add(pool, state, call)
    exact = make_tx(1, 0, to=None, gas=700_000, data=b"\x00" * 49_152)
    add(pool, state, exact)
    assert exact.hash in pool


def test_block_gas_limit_boundary() -> None:
    pool, state = Mempool(), rich_state()
    head = HeadInfo(block_gas_limit=50_000, base_fee=GWEI)
    err = reject(pool, state, make_tx(1, 0, gas=50_001), GasLimitExceeded, head=head)
    assert str(err).startswith("exceeds block gas limit")
    add(pool, state, make_tx(1, 0, gas=50_000), head=head)


def test_tip_above_fee_cap_boundary() -> None:
    pool, state = Mempool(), rich_state()
    err = reject(pool, state, make_tx(1, 0, fee_cap=GWEI, tip=GWEI + 1), TipAboveFeeCap)
    assert "max priority fee per gas higher than max fee per gas" in str(err)
    add(pool, state, make_tx(1, 0, fee_cap=GWEI, tip=GWEI))


def test_nonce_max_boundary() -> None:
    pool = Mempool()
    state = FakeState({address(1): 2**64 - 2}, {address(1): RICH})
    reject(pool, state, make_tx(1, 2**64 - 1), NonceMax)
    add(pool, state, make_tx(1, 2**64 - 2))


def test_intrinsic_gas_boundary_plain_transfer() -> None:
    pool, state = Mempool(), rich_state()
    err = reject(pool, state, make_tx(1, 0, gas=20_999), IntrinsicGasTooLow)
    assert str(err) == "intrinsic gas too low: gas 20999, minimum needed 21000"
    add(pool, state, make_tx(1, 0, gas=21_000))


def test_intrinsic_gas_boundary_create_where_intrinsic_beats_floor() -> None:
    pool, state = Mempool(), rich_state()
    data = b"\x01" * 10  # intrinsic 53_000 + 160 + 2 = 53_162; floor 21_000 + 400
    reject(pool, state, make_tx(1, 0, to=None, gas=53_161, data=data), IntrinsicGasTooLow)
    add(pool, state, make_tx(1, 0, to=None, gas=53_162, data=data))


def test_intrinsic_gas_boundary_access_list() -> None:
    pool, state = Mempool(), rich_state()
    al = [{"address": "0x" + "11" * 20, "storageKeys": ["0x" + "00" * 32]}]
    reject(pool, state, make_tx(1, 0, gas=25_299, access_list=al), IntrinsicGasTooLow)
    add(pool, state, make_tx(1, 0, gas=25_300, access_list=al))


@pytest.mark.parametrize(
    ("data", "floor"),
    [
        (b"\x01" * 100, 21_000 + 10 * 400),  # intrinsic 22_600
        (b"\x00" * 100, 21_000 + 10 * 100),  # intrinsic 21_400
    ],
)
def test_calldata_floor_boundary(data: bytes, floor: int) -> None:
    pool, state = Mempool(), rich_state()
    err = reject(pool, state, make_tx(1, 0, gas=floor - 1, data=data), FloorDataGasTooLow)
    # Still an IntrinsicGasTooLow for callers that catch the broader class.
    assert isinstance(err, IntrinsicGasTooLow)
    assert str(err).startswith("insufficient gas for floor data gas cost")
    add(pool, state, make_tx(1, 0, gas=floor, data=data))


# ---------------------------------------------------------------------------------------------
# Stateful admission rules
# ---------------------------------------------------------------------------------------------


def test_nonce_too_low_boundary() -> None:
    pool = Mempool()
    state = FakeState({address(1): 5}, {address(1): RICH})
    err = reject(pool, state, make_tx(1, 4), NonceTooLow)
    assert str(err) == "nonce too low: next nonce 5, tx nonce 4"
    add(pool, state, make_tx(1, 5))
    assert pool.status() == (1, 0)


def test_already_known() -> None:
    pool, state = Mempool(), rich_state()
    tx = make_tx(1, 0)
    add(pool, state, tx)
    reject(pool, state, tx, AlreadyKnown, known=[tx.hash])


def test_already_known_is_checked_before_validation_as_in_geth() -> None:
    pool, state = Mempool(), rich_state()
    tx = make_tx(1, 0, gas=50_000)
    add(pool, state, tx)
    lower_limit = HeadInfo(block_gas_limit=30_000, base_fee=GWEI)
    reject(pool, state, tx, AlreadyKnown, head=lower_limit, known=[tx.hash])


def test_stateless_checks_come_before_stateful_ones() -> None:
    pool = Mempool()
    state = FakeState({address(1): 5}, {})  # nonce too low and no funds as well
    reject(pool, state, make_tx(1, 0, gas=20_000), IntrinsicGasTooLow)
    reject(pool, state, make_tx(1, 0), NonceTooLow)  # before insufficient funds


def test_insufficient_funds_boundary_single_tx() -> None:
    tx = make_tx(1, 0, fee_cap=2 * GWEI, tip=GWEI, value=7)
    cost = 21_000 * 2 * GWEI + 7
    assert tx.max_cost() == cost
    pool = Mempool()
    state = FakeState(balances={address(1): cost - 1})
    err = reject(pool, state, tx, InsufficientFunds)
    assert str(err).startswith("insufficient funds for gas * price + value")
    state.balances[address(1)] = cost
    add(pool, state, tx)


def test_insufficient_funds_counts_already_pooled_txs() -> None:
    txs = [make_tx(1, n, value=1) for n in range(3)]
    cost = txs[0].max_cost()
    pool = Mempool()
    state = FakeState(balances={address(1): 3 * cost - 1})
    add(pool, state, txs[0])
    add(pool, state, txs[1])
    known = [t.hash for t in txs[:2]]
    # Alone the third tx is affordable; with the two pooled ones it is not.
    assert txs[2].max_cost() <= state.balance(address(1))
    err = reject(pool, state, txs[2], InsufficientFunds, known=known)
    assert "queued cost" in str(err)
    state.balances[address(1)] = 3 * cost
    add(pool, state, txs[2])


def test_insufficient_funds_leaves_queued_txs_out() -> None:
    """geth adds up the pending txs only: a gapped tx does not block the one filling its gap."""
    filler = make_tx(1, 0, value=1)
    gapped = make_tx(1, 1, value=10**18)
    pool = Mempool()
    state = FakeState(balances={address(1): gapped.max_cost() + filler.max_cost() - 1})
    add(pool, state, gapped)
    assert pool.status() == (0, 1)
    add(pool, state, filler)  # the queued tx's cost is not counted
    assert pool.status() == (2, 0)
    # Now both are pending and counted: a third tx is refused.
    reject(pool, state, make_tx(1, 2), InsufficientFunds, known=[gapped.hash, filler.hash])


def test_replacing_a_queued_tx_counts_the_pending_ones_only() -> None:
    pending = make_tx(1, 0, value=10**18)
    queued = make_tx(1, 2, value=10**18)
    new = make_tx(1, 2, fee_cap=3 * GWEI, tip=2 * GWEI, value=10**18)
    pool = Mempool()
    state = FakeState(balances={address(1): pending.max_cost() + new.max_cost() - 1})
    add(pool, state, pending)
    add(pool, state, queued)
    # The queued tx's cost was never counted, so it is not subtracted either.
    reject(pool, state, new, InsufficientFunds, known=[pending.hash, queued.hash])
    state.balances[address(1)] += 1
    add(pool, state, new)


def test_tip_below_the_price_limit_is_underpriced() -> None:
    pool, state = Mempool(), rich_state()
    err = reject(pool, state, make_tx(1, 0, fee_cap=GWEI, tip=0), Underpriced)
    assert str(err) == "transaction underpriced: tip needed 1, tip permitted 0"
    add(pool, state, make_tx(1, 0, fee_cap=GWEI, tip=1))
    strict = Mempool(PoolConfig(price_limit=GWEI))
    reject(strict, state, make_tx(2, 0, fee_cap=2 * GWEI, tip=GWEI - 1), Underpriced)
    add(strict, state, make_tx(2, 0, fee_cap=2 * GWEI, tip=GWEI))
    lax = Mempool(PoolConfig(price_limit=0))
    add(lax, state, make_tx(3, 0, fee_cap=GWEI, tip=0))


def test_insufficient_funds_excludes_the_replaced_tx() -> None:
    old = [make_tx(1, 0), make_tx(1, 1)]
    new = make_tx(1, 1, fee_cap=3 * GWEI, tip=2 * GWEI)
    pool = Mempool()
    state = FakeState(balances={address(1): old[0].max_cost() + new.max_cost() - 1})
    add(pool, state, old[0])
    add(pool, state, old[1])
    reject(pool, state, new, InsufficientFunds, known=[t.hash for t in old])
    # Enough for the pooled nonce 0 plus the replacement, not for all three together.
    state.balances[address(1)] += 1
    assert state.balance(address(1)) < sum(t.max_cost() for t in [*old, new])
    add(pool, state, new)
    assert pool.fate(old[1].hash) == TxFate(TxStatus.REPLACED, "0x" + new.hash.hex())


# ---------------------------------------------------------------------------------------------
# Replacement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("queued", [False, True])
def test_replacement_bump_thresholds(queued: bool) -> None:
    nonce = 3 if queued else 0
    old = make_tx(1, nonce, fee_cap=20 * GWEI, tip=10 * GWEI)
    fee_min, tip_min = replacement_thresholds(old, 10)
    assert (fee_min, tip_min) == (22 * GWEI, 11 * GWEI)
    pool, state = Mempool(), rich_state()
    add(pool, state, old)
    known = [old.hash]
    for fee_cap, tip in [(fee_min - 1, tip_min), (fee_min, tip_min - 1)]:
        err = reject(
            pool,
            state,
            make_tx(1, nonce, fee_cap=fee_cap, tip=tip),
            ReplacementUnderpriced,
            known=known,
        )
        assert str(err).startswith("replacement transaction underpriced")
    new = make_tx(1, nonce, fee_cap=fee_min, tip=tip_min)
    ptx = add(pool, state, new, at=50)
    assert pool.fate(old.hash) == TxFate(TxStatus.REPLACED, "0x" + new.hash.hex())
    assert old.hash not in pool
    assert pool.get(new.hash) == ptx
    assert pool.status() == ((0, 1) if queued else (1, 0))
    assert pool.fate(new.hash) == TxFate(TxStatus.QUEUED if queued else TxStatus.PENDING)


def test_replacement_at_wei_prices_needs_a_strict_increase() -> None:
    # 10% of 5 wei rounds to nothing; geth still demands more than the old price.
    pool, state = Mempool(), rich_state()
    old = make_tx(1, 0, fee_cap=5, tip=5)
    add(pool, state, old)
    same_price = make_tx(1, 0, fee_cap=5, tip=5, value=1)
    reject(pool, state, same_price, ReplacementUnderpriced, known=[old.hash])
    add(pool, state, make_tx(1, 0, fee_cap=6, tip=6))


def test_replacement_bump_respects_configured_percent() -> None:
    pool, state = Mempool(PoolConfig(price_bump_percent=50)), rich_state()
    old = make_tx(1, 0, fee_cap=10 * GWEI, tip=2 * GWEI)
    add(pool, state, old)
    reject(
        pool,
        state,
        make_tx(1, 0, fee_cap=15 * GWEI - 1, tip=3 * GWEI),
        ReplacementUnderpriced,
        known=[old.hash],
    )
    add(pool, state, make_tx(1, 0, fee_cap=15 * GWEI, tip=3 * GWEI))


# ---------------------------------------------------------------------------------------------
# Queue and promotion; fee cap below base fee
# ---------------------------------------------------------------------------------------------


def test_gapped_nonces_queue_and_promote_when_the_gap_fills() -> None:
    pool, state = Mempool(), rich_state()
    txs = [make_tx(1, n) for n in range(4)]
    add(pool, state, txs[3])
    add(pool, state, txs[1])
    assert pool.status() == (0, 2)
    assert statuses(pool, txs) == [None, TxStatus.QUEUED, None, TxStatus.QUEUED]
    assert [p.nonce for p in pool.queued()] == [1, 3]
    add(pool, state, txs[0])
    assert statuses(pool, txs) == [TxStatus.PENDING, TxStatus.PENDING, None, TxStatus.QUEUED]
    assert pool.content()["queued"] == {address(1): {3: pool.get(txs[3].hash)}}
    add(pool, state, txs[2])
    assert pool.status() == (4, 0)
    assert [p.nonce for p in pool.pending()] == [0, 1, 2, 3]


def test_fee_cap_below_base_fee_is_admitted_and_waits_in_pending() -> None:
    # Executability by fee is the builder's business: the pool keeps the tx pending.
    pool, state = Mempool(), rich_state()
    head = HeadInfo(block_gas_limit=30_000_000, base_fee=50 * GWEI)
    tx = make_tx(1, 0, fee_cap=10 * GWEI, tip=GWEI)
    assert tx.effective_tip(head.base_fee) < 0
    add(pool, state, tx, head=head)
    assert [p.tx for p in pool.pending()] == [tx]
    pool.on_block([], state=state, head=head, block_number=1, touched=[tx.sender])
    assert pool.fate(tx.hash) == TxFate(TxStatus.PENDING)


# ---------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------


def test_on_block_marks_included_and_keeps_the_rest_pending() -> None:
    pool, state = Mempool(), rich_state()
    txs = [make_tx(1, n) for n in range(3)]
    for tx in txs:
        add(pool, state, tx)
    state.nonces[address(1)] = 2
    pool.on_block([txs[0].hash, txs[1].hash], state=state, head=HEAD, block_number=7)
    assert pool.fate(txs[0].hash) == TxFate(TxStatus.INCLUDED, block_number=7)
    assert pool.fate(txs[1].hash) == TxFate(TxStatus.INCLUDED, block_number=7)
    assert [p.tx for p in pool.pending()] == [txs[2]]
    assert pool.status() == (1, 0)


def test_on_block_promotes_queued_when_an_outside_tx_fills_the_gap() -> None:
    pool, state = Mempool(), rich_state()
    txs = [make_tx(1, n) for n in (1, 2)]
    for tx in txs:
        add(pool, state, tx)
    assert pool.status() == (0, 2)
    outside = make_tx(1, 0)  # e.g. a private bundle tx the pool never saw
    state.nonces[address(1)] = 1
    pool.on_block([outside.hash], state=state, head=HEAD, block_number=1, touched=[address(1)])
    assert pool.status() == (2, 0)
    assert pool.fate(outside.hash) is None


def test_on_block_evicts_nonce_too_low() -> None:
    pool, state = Mempool(), rich_state()
    pooled = make_tx(1, 0)
    add(pool, state, pooled)
    state.nonces[address(1)] = 1  # nonce 0 was used by another tx
    pool.on_block([], state=state, head=HEAD, block_number=1, touched=[address(1)])
    assert pool.fate(pooled.hash) == TxFate(TxStatus.EVICTED, "nonce too low")
    assert len(pool) == 0
    assert pool.status() == (0, 0)


def test_on_block_evicts_what_the_sender_can_no_longer_pay() -> None:
    txs = [make_tx(1, n) for n in range(4)]
    cost = txs[0].max_cost()
    pool = Mempool()
    state = FakeState(balances={address(1): 4 * cost})
    for tx in txs:
        add(pool, state, tx)
    included = txs[0]
    state.nonces[address(1)] = 1
    state.balances[address(1)] = 2 * cost  # enough for nonces 1 and 2 only
    pool.on_block([included.hash], state=state, head=HEAD, block_number=3)
    assert statuses(pool, txs) == [
        TxStatus.INCLUDED,
        TxStatus.PENDING,
        TxStatus.PENDING,
        TxStatus.EVICTED,
    ]
    assert pool.fate(txs[3].hash) == TxFate(TxStatus.EVICTED, "insufficient funds")
    assert pool.status() == (2, 0)


def test_on_block_evicts_above_new_gas_limit_and_demotes_later_nonces() -> None:
    pool, state = Mempool(), rich_state()
    txs = [make_tx(1, 0), make_tx(1, 1, gas=100_000), make_tx(1, 2)]
    for tx in txs:
        add(pool, state, tx)
    head = HeadInfo(block_gas_limit=50_000, base_fee=GWEI)
    pool.resync(state=state, head=head)
    assert pool.fate(txs[1].hash) == TxFate(TxStatus.EVICTED, "exceeds block gas limit")
    assert statuses(pool, txs) == [TxStatus.PENDING, TxStatus.EVICTED, TxStatus.QUEUED]


def test_add_drops_txs_made_stale_by_a_state_the_pool_was_not_told_about() -> None:
    pool, state = Mempool(), rich_state()
    stale = make_tx(1, 0)
    add(pool, state, stale)
    state.nonces[address(1)] = 1
    fresh = make_tx(1, 1)
    add(pool, state, fresh)
    assert pool.fate(stale.hash) == TxFate(TxStatus.EVICTED, "nonce too low")
    assert [p.tx for p in pool.pending()] == [fresh]


# ---------------------------------------------------------------------------------------------
# Limits and a full pool
# ---------------------------------------------------------------------------------------------


def test_account_queue_limit() -> None:
    pool, state = Mempool(PoolConfig(account_queue=2)), rich_state()
    queued = [make_tx(1, n) for n in (2, 3)]
    for tx in queued:
        add(pool, state, tx)
    reject(pool, state, make_tx(1, 4), AccountLimitExceeded, known=[t.hash for t in queued])
    add(pool, state, make_tx(1, 0))  # pending ones are not limited by the queue
    add(pool, state, make_tx(2, 5))  # another sender has its own queue


def test_global_queue_limit() -> None:
    pool, state = Mempool(PoolConfig(global_queue=2)), rich_state()
    queued = [make_tx(1, 1), make_tx(2, 1)]
    for tx in queued:
        add(pool, state, tx)
    reject(pool, state, make_tx(3, 1), TxPoolFull, known=[t.hash for t in queued])
    add(pool, state, make_tx(3, 0))


def test_account_slots_are_guaranteed_when_pending_is_full() -> None:
    config = PoolConfig(account_slots=1, global_slots=2, global_queue=4)
    pool, state = Mempool(config), rich_state()
    add(pool, state, make_tx(1, 0))
    add(pool, state, make_tx(1, 1))  # beyond its guarantee, but pending has room
    known = [make_tx(1, n).hash for n in (0, 1)]
    reject(pool, state, make_tx(1, 2), AccountLimitExceeded, known=known)
    add(pool, state, make_tx(2, 0))  # sender 2 still has its guaranteed slot


def _full_pool() -> tuple[Mempool, FakeState, list[Transaction]]:
    pool, state = Mempool(PoolConfig(global_slots=2, global_queue=1)), rich_state()
    txs = [make_tx(i, 0, fee_cap=10 * GWEI, tip=i * GWEI) for i in (1, 2, 3)]
    for tx in txs:
        add(pool, state, tx)
    return pool, state, txs


def test_pool_full_rejects_newcomer_not_paying_more_than_cheapest() -> None:
    pool, state, txs = _full_pool()
    known = [t.hash for t in txs]
    err = reject(pool, state, make_tx(4, 0, fee_cap=10 * GWEI, tip=GWEI), Underpriced, known=known)
    assert str(err).startswith("transaction underpriced")
    # Same tip but lower fee cap is cheaper still.
    reject(pool, state, make_tx(4, 0, fee_cap=5 * GWEI, tip=GWEI), Underpriced, known=known)


def test_pool_full_evicts_the_cheapest_other_sender() -> None:
    pool, state, txs = _full_pool()
    newcomer = make_tx(4, 0, fee_cap=10 * GWEI, tip=GWEI + 1)
    add(pool, state, newcomer)
    assert pool.fate(txs[0].hash) == TxFate(TxStatus.EVICTED, "pool full")
    assert len(pool) == 3
    assert newcomer.hash in pool


def test_pool_full_compares_effective_tip_at_the_base_fee() -> None:
    pool, state, txs = _full_pool()
    # Its tip (1.5 gwei) beats the cheapest pooled tip (1 gwei), but with a 1.5 gwei fee cap
    # at a 1 gwei base fee only 0.5 gwei of it would be paid.
    cheap = make_tx(4, 0, fee_cap=GWEI + GWEI // 2, tip=GWEI + GWEI // 2)
    reject(pool, state, cheap, Underpriced, known=[t.hash for t in txs])


def test_pool_full_evicts_the_victims_highest_nonce() -> None:
    pool, state = Mempool(PoolConfig(global_slots=2, global_queue=1)), rich_state()
    low = make_tx(1, 0, fee_cap=10 * GWEI, tip=GWEI)
    high = make_tx(1, 1, fee_cap=10 * GWEI, tip=5 * GWEI)
    other = make_tx(2, 0, fee_cap=10 * GWEI, tip=3 * GWEI)
    for tx in (low, high, other):
        add(pool, state, tx)
    add(pool, state, make_tx(3, 0, fee_cap=10 * GWEI, tip=2 * GWEI))
    assert pool.fate(high.hash) == TxFate(TxStatus.EVICTED, "pool full")
    assert pool.fate(low.hash) == TxFate(TxStatus.PENDING)  # no gap opened


def test_pool_full_of_own_txs_is_txpool_full() -> None:
    pool, state = Mempool(PoolConfig(global_slots=2, global_queue=1)), rich_state()
    txs = [make_tx(1, n, tip=GWEI) for n in range(3)]
    for tx in txs:
        add(pool, state, tx)
    err = reject(
        pool,
        state,
        make_tx(1, 3, fee_cap=100 * GWEI, tip=50 * GWEI),
        TxPoolFull,
        known=[t.hash for t in txs],
    )
    assert str(err).startswith("txpool is full")


def test_pool_full_replacement_needs_no_room() -> None:
    pool, state, txs = _full_pool()
    add(pool, state, make_tx(1, 0, fee_cap=11 * GWEI, tip=11 * GWEI // 10))
    assert pool.fate(txs[0].hash).status is TxStatus.REPLACED  # type: ignore[union-attr]
    assert len(pool) == 3


def test_pool_full_eviction_follows_base_fee_changes_and_removals() -> None:
    pool, state = Mempool(PoolConfig(global_slots=2, global_queue=1)), rich_state()
    low_cap = make_tx(1, 0, fee_cap=10 * GWEI, tip=5 * GWEI)  # eff. tip 5 at 1, 1 at 9 gwei
    low_tip = make_tx(2, 0, fee_cap=30 * GWEI, tip=2 * GWEI)  # eff. tip 2 at either
    mid = make_tx(3, 0, fee_cap=30 * GWEI, tip=4 * GWEI)
    for tx in (low_cap, low_tip, mid):
        add(pool, state, tx)
    add(pool, state, make_tx(4, 0, fee_cap=30 * GWEI, tip=3 * GWEI))
    assert pool.fate(low_tip.hash) == TxFate(TxStatus.EVICTED, "pool full")
    # A block removes one tx; the freed place needs no eviction.
    state.nonces[address(3)] = 1
    pool.on_block([mid.hash], state=state, head=HEAD, block_number=1)
    add(pool, state, make_tx(5, 0, fee_cap=30 * GWEI, tip=4 * GWEI))
    assert len(pool) == 3
    # At a 9 gwei base fee the low fee cap makes sender 1's tx the cheapest.
    head = HeadInfo(block_gas_limit=30_000_000, base_fee=9 * GWEI)
    add(pool, state, make_tx(6, 0, fee_cap=30 * GWEI, tip=3 * GWEI), head=head)
    assert pool.fate(low_cap.hash) == TxFate(TxStatus.EVICTED, "pool full")
    assert len(pool) == 3


# ---------------------------------------------------------------------------------------------
# Copies and determinism
# ---------------------------------------------------------------------------------------------


def test_copy_is_independent_and_identical() -> None:
    pool, state = Mempool(), rich_state()
    txs = [make_tx(1, 0), make_tx(1, 2), make_tx(2, 0)]
    for tx in txs:
        add(pool, state, tx)
    hashes = [t.hash for t in txs]
    snapshot = pool.copy()
    assert pool_snapshot(snapshot, hashes) == pool_snapshot(pool, hashes)
    before = pool_snapshot(pool, hashes)

    add(pool, state, make_tx(1, 1))
    add(pool, state, make_tx(2, 0, fee_cap=3 * GWEI, tip=2 * GWEI))
    state.nonces[address(1)] = 1
    pool.on_block([txs[0].hash], state=state, head=HEAD, block_number=1)
    assert pool_snapshot(pool, hashes) != before
    assert pool_snapshot(snapshot, hashes) == before
    # The restored copy keeps working on its own.
    add(snapshot, rich_state(), make_tx(1, 1))
    assert snapshot.status() == (4, 0)


def test_same_inputs_give_identical_pools() -> None:
    def run() -> tuple:
        pool, state = Mempool(PoolConfig(global_slots=3, global_queue=2)), rich_state()
        for i, nonce, tip in [(1, 0, 1), (2, 1, 2), (3, 0, 3), (1, 1, 1), (4, 0, 5), (5, 0, 4)]:
            add(pool, state, make_tx(i, nonce, fee_cap=10 * GWEI, tip=tip * GWEI), at=nonce)
        return pool.content(), [(p.seq, p.hash) for p in pool.pending()]

    assert run() == run()
