"""A hypothesis state machine driving the mempool against a fake state and a model miner.

The miner takes pending txs sender by sender in nonce order while they fit the block gas
limit and can pay the base fee, charges ``gas * effective price + value``, bumps nonces and
calls ``on_block``, as the real builder does. Small pool limits make the pool-full, queue and
account-limit paths happen often.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from rawtxkit import GWEI, FakeState, address, make_tx, pool_snapshot

from agentbed.chain.errors import (
    AlreadyKnown,
    InsufficientFunds,
    NonceTooLow,
    ReplacementUnderpriced,
    TxRejected,
    Underpriced,
)
from agentbed.chain.fees import INITIAL_BASE_FEE, next_base_fee
from agentbed.chain.interfaces import HeadInfo, PoolConfig
from agentbed.chain.mempool import Mempool
from agentbed.chain.types import Transaction, TxStatus

SENDERS = (1, 2, 3, 4)
BLOCK_GAS_LIMIT = 100_000
CONFIG = PoolConfig(account_slots=3, global_slots=6, account_queue=3, global_queue=4)
START_BALANCE = 10**16
OTHER_TO = "0x000000000000000000000000000000000000bEEF"

senders = st.sampled_from(SENDERS)
fee_caps = st.sampled_from([GWEI // 2, GWEI, 2 * GWEI, 5 * GWEI])
tips = st.sampled_from([0, GWEI // 10, GWEI, 3 * GWEI])
values = st.sampled_from([0, 1, 10**15, 3 * 10**15])
gases = st.sampled_from([21_000, 30_000, 60_000])


class MempoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = FakeState(balances={address(i): START_BALANCE for i in SENDERS})
        self.pool = Mempool(CONFIG)
        self.head = HeadInfo(block_gas_limit=BLOCK_GAS_LIMIT, base_fee=INITIAL_BASE_FEE)
        self.block_number = 0
        self.clock = 0
        self.admitted: dict[bytes, Transaction] = {}
        self.tried: list[Transaction] = []
        self.mined: set[tuple[str, int]] = set()

    # ---- helpers ------------------------------------------------------------------------------

    def _observable(self) -> Any:
        return pool_snapshot(self.pool, [t.hash for t in self.tried]), self.state.snapshot()

    def _submit(self, tx: Transaction) -> TxRejected | None:
        """Add ``tx``; on rejection check that nothing observable changed."""
        self.clock += 1
        self.tried.append(tx)
        before = self._observable()  # includes the fate of ``tx`` itself
        try:
            self.pool.add(tx, state=self.state, head=self.head, arrival_ms=self.clock)
        except TxRejected as err:
            assert self._observable() == before
            return err
        self.admitted[tx.hash] = tx
        return None

    def _next_nonce(self, sender: str) -> int:
        pending = self.pool.pending_by_sender().get(sender, [])
        return self.state.nonce(sender) + len(pending)

    # ---- rules --------------------------------------------------------------------------------

    @rule(
        i=senders,
        offset=st.sampled_from([-1, 0, 0, 0, 1, 2]),
        fee_cap=fee_caps,
        tip=tips,
        value=values,
        gas=gases,
    )
    def submit(self, i: int, offset: int, fee_cap: int, tip: int, value: int, gas: int) -> None:
        sender = address(i)
        account_nonce = self.state.nonce(sender)
        nonce = account_nonce - 1 if offset < 0 else self._next_nonce(sender) + offset
        if nonce < 0:
            return
        tx = make_tx(i, nonce, fee_cap=fee_cap, tip=min(tip, fee_cap), value=value, gas=gas)
        known = tx.hash in self.pool
        err = self._submit(tx)
        if known:
            assert isinstance(err, AlreadyKnown), err
        elif tx.max_priority_fee_per_gas < CONFIG.price_limit:
            assert isinstance(err, Underpriced), err  # a stateless check: before the nonce
        elif nonce < account_nonce:
            assert isinstance(err, NonceTooLow), err

    @rule(
        batch=st.lists(
            st.tuples(senders, st.sampled_from([0, 0, 1]), fee_caps, tips, values, gases),
            min_size=2,
            max_size=5,
        )
    )
    def submit_many(self, batch: list[tuple[int, int, int, int, int, int]]) -> None:
        """A burst of submissions (most steps should add txs, not mine)."""
        for args in batch:
            self.submit(*args)

    @precondition(lambda self: self.tried)
    @rule(pick=st.integers(0, 10**6))
    def resubmit(self, pick: int) -> None:
        tx = self.tried[pick % len(self.tried)]
        in_pool = tx.hash in self.pool
        err = self._submit(tx)
        if in_pool:
            assert isinstance(err, AlreadyKnown)

    @precondition(lambda self: len(self.pool) > 0)
    @rule(pick=st.integers(0, 10**6), bump=st.sampled_from([0, 5, 9, 10, 11, 50]))
    def replace(self, pick: int, bump: int) -> None:
        pooled = self.pool.pending() + self.pool.queued()
        old = pooled[pick % len(pooled)].tx
        i = next(i for i in SENDERS if address(i) == old.sender)
        # Percent bump applied with rounding up, so bump >= 10 always meets the threshold.
        fee_cap = -(-old.max_fee_per_gas * (100 + bump) // 100)
        tip = -(-old.max_priority_fee_per_gas * (100 + bump) // 100)
        if bump:
            fee_cap, tip = (
                max(fee_cap, old.max_fee_per_gas + 1),
                max(tip, old.max_priority_fee_per_gas + 1),
            )
        # Another recipient, so that even a zero bump is a different tx (not "already known").
        tx = make_tx(
            i, old.nonce, fee_cap=fee_cap, tip=tip, value=old.value, gas=old.gas, to=OTHER_TO
        )
        known = tx.hash in self.pool  # a zero bump of an earlier replacement is the same tx
        err = self._submit(tx)
        if known:
            assert isinstance(err, AlreadyKnown), err
        elif bump < 10:
            assert isinstance(err, ReplacementUnderpriced | InsufficientFunds), err
        else:
            assert not isinstance(err, ReplacementUnderpriced), err
        if err is None:
            assert self.pool.fate(old.hash).status is TxStatus.REPLACED  # type: ignore[union-attr]
            assert self.pool.fate(old.hash).reason == "0x" + tx.hash.hex()  # type: ignore[union-attr]

    @rule()
    def mine(self) -> None:
        self._mine()

    @rule(i=senders, amount=st.sampled_from([10**15, 5 * 10**15]), up=st.booleans())
    def move_funds(self, i: int, amount: int, up: bool) -> None:
        """Balance changes outside the pool's txs (a transfer in, or a bundle tx out)."""
        sender = address(i)
        balance = self.state.balance(sender)
        self.state.balances[sender] = balance + amount if up else max(balance - amount, 0)
        self.block_number += 1
        self.pool.on_block(
            [], state=self.state, head=self.head, block_number=self.block_number, touched=[sender]
        )

    @rule(i=senders)
    def outside_tx(self, i: int) -> None:
        """A private (bundle) tx the pool never saw uses the sender's next nonce."""
        sender = address(i)
        fee = 21_000 * self.head.base_fee
        if self.state.balance(sender) < fee:
            return
        assert (sender, self.state.nonce(sender)) not in self.mined
        self.mined.add((sender, self.state.nonce(sender)))
        self.state.nonces[sender] = self.state.nonce(sender) + 1
        self.state.balances[sender] -= fee
        self.block_number += 1
        self.pool.on_block(
            [b"\x00" * 32],  # its hash: unknown to the pool
            state=self.state,
            head=self.head,
            block_number=self.block_number,
            touched=[sender],
        )

    @rule()
    def mine_and_revert(self) -> None:
        """Snapshot pool and state, mine, restore: the pool is exactly as before."""
        saved_pool, saved_state = self.pool.copy(), self.state.snapshot()
        saved = (
            self._observable(),
            self.head,
            self.block_number,
            set(self.mined),
        )
        self._mine()
        self.pool = saved_pool
        self.state.nonces, self.state.balances = saved_state
        self.head, self.block_number, self.mined = saved[1], saved[2], saved[3]
        assert self._observable() == saved[0]

    def _mine(self) -> None:
        base_fee = self.head.base_fee
        gas_left = self.head.block_gas_limit
        included: list[bytes] = []
        for sender, txs in self.pool.pending_by_sender().items():
            for ptx in txs:
                tx = ptx.tx
                assert tx.nonce == self.state.nonce(sender)
                price = tx.effective_gas_price(base_fee)
                charge = tx.gas * price + tx.value
                # A tx that filled a gap may have promoted queued txs whose costs admission
                # did not add up (geth's rule); like the real builder, skip what cannot pay.
                if (
                    tx.max_fee_per_gas < base_fee
                    or tx.gas > gas_left
                    or charge > self.state.balance(sender)
                ):
                    break  # this sender's later nonces must wait too
                assert (sender, tx.nonce) not in self.mined
                self.mined.add((sender, tx.nonce))
                self.state.nonces[sender] = tx.nonce + 1
                self.state.balances[sender] -= charge
                gas_left -= tx.gas
                included.append(tx.hash)
        gas_used = self.head.block_gas_limit - gas_left
        assert 0 <= gas_used <= self.head.block_gas_limit
        self.block_number += 1
        self.head = HeadInfo(
            block_gas_limit=BLOCK_GAS_LIMIT,
            base_fee=next_base_fee(base_fee, gas_used, BLOCK_GAS_LIMIT),
        )
        self.pool.on_block(
            included, state=self.state, head=self.head, block_number=self.block_number
        )
        for tx_hash in included:
            fate = self.pool.fate(tx_hash)
            assert fate is not None
            assert (fate.status, fate.block_number) == (TxStatus.INCLUDED, self.block_number)

    # ---- invariants ---------------------------------------------------------------------------

    @invariant()
    def pending_contiguous_from_account_nonce(self) -> None:
        pending = self.pool.pending()
        assert [(p.sender, p.nonce) for p in pending] == sorted(
            (p.sender, p.nonce) for p in pending
        )
        for sender, txs in self.pool.pending_by_sender().items():
            start = self.state.nonce(sender)
            assert [p.nonce for p in txs] == list(range(start, start + len(txs)))

    @invariant()
    def queued_are_gapped(self) -> None:
        by_sender = self.pool.pending_by_sender()
        for ptx in self.pool.queued():
            first_gap = self.state.nonce(ptx.sender) + len(by_sender.get(ptx.sender, []))
            assert ptx.nonce > first_gap
            assert self.pool.fate(ptx.hash).status is TxStatus.QUEUED  # type: ignore[union-attr]

    @invariant()
    def counts_and_limits(self) -> None:
        n_pending, n_queued = self.pool.status()
        assert n_pending == len(self.pool.pending())
        assert n_queued == len(self.pool.queued())
        assert len(self.pool) == n_pending + n_queued
        assert len(self.pool) <= CONFIG.global_slots + CONFIG.global_queue
        assert n_queued <= CONFIG.global_queue
        content = self.pool.content()
        for txs in content["queued"].values():
            assert len(txs) <= CONFIG.account_queue

    @invariant()
    def listing_is_pending_then_queued_as_they_are_now(self) -> None:
        # The listing is kept between changes: every rule that changes the pool must renew it.
        assert self.pool.listing() == (*self.pool.pending(), *self.pool.queued())
        assert self.pool.copy().listing() == self.pool.listing()

    @invariant()
    def pooled_txs_are_affordable(self) -> None:
        # Admission adds up pending costs only, so together pooled txs may overshoot the
        # balance until the next block; each one alone never does.
        for ptx in self.pool.pending() + self.pool.queued():
            assert ptx.tx.max_cost() <= self.state.balance(ptx.sender)

    @invariant()
    def every_admitted_tx_has_a_fate(self) -> None:
        for tx_hash in self.admitted:
            fate = self.pool.fate(tx_hash)
            assert fate is not None
            if tx_hash in self.pool:
                assert fate.status in (TxStatus.PENDING, TxStatus.QUEUED)
            elif fate.status is TxStatus.INCLUDED:
                assert fate.block_number is not None
            else:
                assert fate.status in (TxStatus.REPLACED, TxStatus.EVICTED)
                assert fate.reason
        for tx in self.tried:
            if tx.hash not in self.admitted:
                assert self.pool.fate(tx.hash) is None


MempoolMachine.TestCase.settings = settings(
    max_examples=60,  # about 3,000 steps in all
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMempoolMachine = MempoolMachine.TestCase
