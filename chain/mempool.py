"""The transaction pool: geth-style admission and pending/queued bookkeeping per sender.

Follows geth's ``core/txpool/legacypool`` (validation in ``core/txpool/validation.go``): every
rejection raises a named :class:`agentbed.chain.errors.TxRejected` subclass with geth's wording
and leaves the pool exactly as it was. Signature, type and chain-id checks happen earlier, in
:func:`agentbed.chain.txcodec.decode_transaction`.

Per sender the pool keeps a ``nonce -> PoolTx`` map plus the account nonce it last saw
(``base``). The transactions at ``base, base + 1, ...`` without a gap are *pending*
(executable by nonce); everything after the first gap is *queued* and is promoted as soon as
the gap fills. Whether a pending tx can pay the current base fee is deliberately *not* the
pool's concern: a tx whose fee cap is below the base fee is admitted, stays pending and waits;
the block builder skips it until the base fee falls (geth keeps such txs too).

The pool never reads the wall clock or a random source, and every iteration order is
deterministic (senders sorted, nonces ascending), so identical inputs give identical pools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from agentbed.chain.admission import MAX_NONCE, validate_stateless
from agentbed.chain.errors import (
    AccountLimitExceeded,
    AlreadyKnown,
    InsufficientFunds,
    NonceTooLow,
    ReplacementUnderpriced,
    TxPoolFull,
    Underpriced,
)
from agentbed.chain.interfaces import HeadInfo, PoolConfig, StateView
from agentbed.chain.priceheap import PriceHeap, price_key
from agentbed.chain.setcode import SetCodeRules, authorities
from agentbed.chain.types import Address, PoolTx, Transaction, TxFate, TxStatus

__all__ = ["MAX_NONCE", "Mempool", "replacement_thresholds"]


@dataclass(slots=True)
class _Account:
    """One sender's pooled txs. ``txs[base + i]`` for ``i < run`` are the pending ones."""

    txs: dict[int, PoolTx] = field(default_factory=dict)
    base: int = 0
    """The account nonce the pool last read from state for this sender."""
    run: int = 0
    """Length of the gap-free nonce run starting at ``base`` (the pending txs)."""
    cost: int = 0
    """Sum of ``max_cost()`` over ``txs`` (admission's funds check leaves out the queued)."""

    def copy(self) -> _Account:
        return _Account(dict(self.txs), self.base, self.run, self.cost)

    def count_run(self, base: int) -> int:
        run = 0
        while base + run in self.txs:
            run += 1
        return run


@dataclass(frozen=True, slots=True)
class _Admission:
    """What admission's state checks learned about a newcomer, for the steps after them."""

    account_nonce: int
    old: PoolTx | None
    """The pooled tx of the same sender and nonce, which the newcomer would replace."""
    run: int
    """The sender's pending run counted from ``account_nonce``."""
    n_live: int
    """The sender's pooled txs at or above ``account_nonce``."""


def replacement_thresholds(old: Transaction, price_bump_percent: int) -> tuple[int, int]:
    """Least fee cap and tip a same-nonce replacement of ``old`` must offer.

    geth's integer math (``legacypool/list.go``): ``old * (100 + bump) // 100`` for each.
    geth additionally requires both to be strictly above the old values, which matters only
    for wei-level prices where the percentage rounds to nothing; see :meth:`Mempool.add`.

    Returns:
        ``(fee_cap_threshold, tip_threshold)``.
    """
    factor = 100 + price_bump_percent
    return (
        old.max_fee_per_gas * factor // 100,
        old.max_priority_fee_per_gas * factor // 100,
    )


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


class Mempool:
    """A geth-legacypool-like transaction pool with deterministic iteration.

    Args:
        config: Limits and rules (geth's defaults unless overridden).

    Limits (counted in transactions, not geth's 32 KiB slots):

    - ``global_slots + global_queue`` transactions in total; beyond that a newcomer must pay
      more than the cheapest transaction of another sender, whose highest-nonce transaction
      is then evicted (``"pool full"``).
    - ``account_queue`` queued (gapped) transactions per sender and ``global_queue`` queued in
      total: beyond that a gapped newcomer is rejected.
    - ``account_slots`` pending transactions per sender are guaranteed: a sender already
      holding that many may add more pending ones only while the pool holds fewer than
      ``global_slots`` pending in total.
    """

    def __init__(self, config: PoolConfig | None = None) -> None:
        self._config = config if config is not None else PoolConfig()
        self._by_hash: dict[bytes, PoolTx] = {}
        self._accounts: dict[Address, _Account] = {}
        self._fates: dict[bytes, TxFate] = {}
        """Final fates (INCLUDED, REPLACED, EVICTED) of txs no longer pooled."""
        self._n_pending = 0
        self._seq = 0
        # For the pool-full path only; built the first time the pool is full.
        self._prices = PriceHeap()
        self._listing: tuple[PoolTx, ...] | None = None
        """``pending() + queued()`` until the pool changes (add, on_block, resync)."""
        self.entry_listeners: list[Callable[[PoolTx], None]] = []
        """Called with each newly pooled tx (pending-tx filters and subscriptions); shared
        by copies, so a chain's listeners survive its snapshot reverts."""
        self._setcode = SetCodeRules()

    # -----------------------------------------------------------------------------------------
    # Queries
    # -----------------------------------------------------------------------------------------

    @property
    def config(self) -> PoolConfig:
        return self._config

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> PoolTx | None:
        """The pooled transaction with this hash, if it is in the pool now."""
        return self._by_hash.get(tx_hash)

    def status(self) -> tuple[int, int]:
        """``(n_pending, n_queued)``, as geth's ``txpool_status``."""
        return self._n_pending, len(self._by_hash) - self._n_pending

    def fate(self, tx_hash: bytes) -> TxFate | None:
        """Where a transaction the pool once admitted stands now; ``None`` if never admitted."""
        ptx = self._by_hash.get(tx_hash)
        if ptx is None:
            return self._fates.get(tx_hash)
        acct = self._accounts[ptx.sender]
        if ptx.nonce < acct.base + acct.run:
            return TxFate(TxStatus.PENDING)
        return TxFate(TxStatus.QUEUED)

    def pending(self) -> list[PoolTx]:
        """Executable transactions: per sender contiguous from the account nonce.

        Sorted by ``(sender, nonce)``. Includes txs whose fee cap is below the current base fee
        (they wait in the pool; the builder skips them while they cannot pay).
        """
        out: list[PoolTx] = []
        for sender in sorted(self._accounts):
            acct = self._accounts[sender]
            out.extend(acct.txs[acct.base + i] for i in range(acct.run))
        return out

    def pending_by_sender(self) -> dict[Address, list[PoolTx]]:
        """Pending transactions grouped by sender (senders sorted, nonces ascending)."""
        out: dict[Address, list[PoolTx]] = {}
        for sender in sorted(self._accounts):
            acct = self._accounts[sender]
            if acct.run:
                out[sender] = [acct.txs[acct.base + i] for i in range(acct.run)]
        return out

    def listing(self) -> tuple[PoolTx, ...]:
        """``pending() + queued()``: every agent's view asks for it on every wake, and it
        changes only when a tx is admitted or a block lands, so it is kept until then."""
        if self._listing is None:
            self._listing = (*self.pending(), *self.queued())
        return self._listing

    def queued(self) -> list[PoolTx]:
        """Transactions waiting for a nonce gap to fill, sorted by ``(sender, nonce)``."""
        out: list[PoolTx] = []
        for sender in sorted(self._accounts):
            out.extend(self._queued_of(self._accounts[sender]))
        return out

    def pending_nonce(self, sender: Address, state_nonce: int) -> int:
        """Next nonce for ``sender`` counting its executable txs from ``state_nonce`` on."""
        acct = self._accounts.get(sender)
        if acct is not None and acct.base <= state_nonce < acct.base + acct.run:
            return acct.base + acct.run
        return state_nonce

    def content(self) -> dict[str, dict[Address, dict[int, PoolTx]]]:
        """``{"pending": {sender: {nonce: PoolTx}}, "queued": {...}}`` (``txpool_content``)."""
        pending: dict[Address, dict[int, PoolTx]] = {}
        queued: dict[Address, dict[int, PoolTx]] = {}
        for sender in sorted(self._accounts):
            acct = self._accounts[sender]
            if acct.run:
                pending[sender] = {acct.base + i: acct.txs[acct.base + i] for i in range(acct.run)}
            waiting = self._queued_of(acct)
            if waiting:
                queued[sender] = {ptx.nonce: ptx for ptx in waiting}
        return {"pending": pending, "queued": queued}

    @staticmethod
    def _queued_of(acct: _Account) -> list[PoolTx]:
        if len(acct.txs) == acct.run:
            return []
        first_gap = acct.base + acct.run
        return [acct.txs[n] for n in sorted(acct.txs) if n >= first_gap]

    # -----------------------------------------------------------------------------------------
    # Admission
    # -----------------------------------------------------------------------------------------

    def add(
        self,
        tx: Transaction,
        *,
        state: StateView,
        head: HeadInfo,
        arrival_ms: int,
        origin: str | None = None,
    ) -> PoolTx:
        """Admit ``tx`` or raise; on rejection nothing about the pool changes.

        Checks run in geth's order (``legacypool.add``: already known first, then
        ``ValidateTransaction``, ``ValidateTransactionWithState``, the pool-full check and
        the same-nonce replacement rule).

        Args:
            tx: A decoded, signature-checked transaction (see :mod:`agentbed.chain.txcodec`).
            state: Account state at the head.
            head: Block gas limit and the next block's base fee.
            arrival_ms: Simulated time of arrival.
            origin: Observer id of the submitter, if any.

        Returns:
            The pooled record (pending if its nonce is next, else queued).

        Raises:
            AlreadyKnown: A tx with this hash is pooled.
            TxTypeNotSupported: Not a type 0/1/2/4 tx.
            OversizedData: ``tx.size > max_tx_size``.
            MaxInitCodeSizeExceeded: A create with more than ``max_initcode_size`` bytes.
            GasLimitExceeded: ``tx.gas`` above the block gas limit.
            TipAboveFeeCap: Priority fee above fee cap.
            NonceMax: Nonce ``2**64 - 1``.
            IntrinsicGasTooLow: Gas below intrinsic gas (:class:`FloorDataGasTooLow`, a
                subclass, when only the EIP-7623 calldata floor is not covered).
            NonceTooLow: Nonce below the account nonce.
            InsufficientFunds: Balance below this tx's cost plus the sender's pending txs'
                costs (a pending tx this one replaces excluded; queued txs not counted).
            ReplacementUnderpriced: Same sender and nonce pooled, bump too small.
            AccountLimitExceeded: The sender is at its queued (or pending) limit.
            Underpriced: Tip below the config's ``price_limit``; or pool full and ``tx``
                does not pay more than the cheapest tx of another sender.
            TxPoolFull: Pool (or its queued area) full and nothing can be evicted for ``tx``.
            (And geth's set-code rules' rejections: see :mod:`agentbed.chain.setcode`.)
        """
        self._listing = None
        if tx.hash in self._by_hash:
            raise AlreadyKnown(_hex(tx.hash))
        validate_stateless(tx, head, self._config)
        admission = self._validate_with_state(tx, state)
        run = range(admission.account_nonce, admission.account_nonce + admission.run)
        self._setcode.check_with_state(tx, state, run, self._accounts, self._by_hash)
        evict = self._make_room(tx, admission, head)
        # Only now, with every check passed, does the pool change.
        ptx = self._insert(tx, admission, evict, arrival_ms, origin)
        for listener in self.entry_listeners:
            listener(ptx)
        return ptx

    def _validate_with_state(self, tx: Transaction, state: StateView) -> _Admission:
        """geth ``ValidateTransactionWithState``: nonce, then funds (pending txs counted).

        As in geth, the funds check adds up the sender's *pending* txs only: a queued tx is
        not yet executable, and counting it would refuse the very tx that fills its gap.
        """
        sender = tx.sender
        account_nonce = state.nonce(sender)
        if tx.nonce < account_nonce:
            raise NonceTooLow(f"next nonce {account_nonce}, tx nonce {tx.nonce}")

        acct = self._accounts.get(sender)
        old = acct.txs.get(tx.nonce) if acct is not None else None
        if acct is None:
            spent, run, n_live = 0, 0, 0
        elif acct.base == account_nonce:
            run, n_live = acct.run, len(acct.txs)
            # acct.cost covers every pooled tx; the queued ones (few) are taken back out.
            spent = acct.cost - sum(p.tx.max_cost() for p in self._queued_of(acct))
        else:
            # The state moved on without on_block telling us; ignore txs it made stale.
            run = acct.count_run(account_nonce)
            n_live = sum(1 for n in acct.txs if n >= account_nonce)
            spent = sum(acct.txs[account_nonce + i].tx.max_cost() for i in range(run))
        if old is not None and old.nonce < account_nonce + run:
            spent -= old.tx.max_cost()

        balance = state.balance(sender)
        cost = tx.max_cost()
        if balance < cost:
            raise InsufficientFunds(
                f"address {sender} have {balance} want {cost}, overshot {cost - balance}"
            )
        if balance < spent + cost:
            raise InsufficientFunds(
                f"balance {balance}, queued cost {spent}, tx cost {cost}, "
                f"overshot {spent + cost - balance}"
            )
        return _Admission(account_nonce, old, run, n_live)

    def _make_room(self, tx: Transaction, adm: _Admission, head: HeadInfo) -> PoolTx | None:
        """The replacement rule, else the sender's limits and the pool-full check.

        Returns:
            The pooled tx to evict so that ``tx`` fits, if the pool is full.
        """
        if adm.old is not None:
            self._check_replacement(adm.old.tx, tx)
            return None
        is_pending = tx.nonce == adm.account_nonce + adm.run
        self._check_account_limits(is_pending, adm.run, adm.n_live - adm.run)
        cfg = self._config
        if len(self._by_hash) >= cfg.global_slots + cfg.global_queue:
            return self._choose_eviction(tx, head.base_fee)
        return None

    def _insert(
        self,
        tx: Transaction,
        adm: _Admission,
        evict: PoolTx | None,
        arrival_ms: int,
        origin: str | None,
    ) -> PoolTx:
        """Apply a checked admission: evict, rebase on the account nonce, pool ``tx``, promote."""
        acct = self._accounts.get(tx.sender)
        if evict is not None:
            self._drop(evict, TxFate(TxStatus.EVICTED, "pool full"))
        if acct is None:
            acct = self._accounts[tx.sender] = _Account(base=adm.account_nonce)
        self._n_pending -= acct.run
        rebased = acct.base != adm.account_nonce
        if rebased:
            for nonce in sorted(n for n in acct.txs if n < adm.account_nonce):
                self._forget(acct, acct.txs[nonce], TxFate(TxStatus.EVICTED, "nonce too low"))
            acct.base = adm.account_nonce
        self._seq += 1
        ptx = PoolTx(tx=tx, arrival_ms=arrival_ms, seq=self._seq, origin=origin)
        if adm.old is not None:
            self._forget(acct, adm.old, TxFate(TxStatus.REPLACED, _hex(tx.hash)))
        acct.txs[tx.nonce] = ptx
        acct.cost += tx.max_cost()
        self._by_hash[tx.hash] = ptx
        self._setcode.note_admitted(tx)
        self._promote(acct, tx.nonce, rebased)
        self._n_pending += acct.run
        self._prices.push(ptx, self._by_hash)
        return ptx

    @staticmethod
    def _promote(acct: _Account, nonce: int, rebased: bool) -> None:
        """Recount ``acct``'s pending run now that ``nonce`` is pooled (else it stays queued)."""
        if rebased:
            acct.run = acct.count_run(acct.base)
        elif nonce == acct.base + acct.run:
            # The next nonce arrived: it and any queued txs right behind it become pending.
            acct.run += 1
            while acct.base + acct.run in acct.txs:
                acct.run += 1

    def _check_replacement(self, old: Transaction, new: Transaction) -> None:
        fee_cap_min, tip_min = replacement_thresholds(old, self._config.price_bump_percent)
        # geth (list.go) also demands a strict increase of both, for wei-level prices where
        # the percentage bump rounds down to nothing.
        if (
            new.max_fee_per_gas < fee_cap_min
            or new.max_priority_fee_per_gas < tip_min
            or new.max_fee_per_gas <= old.max_fee_per_gas
            or new.max_priority_fee_per_gas <= old.max_priority_fee_per_gas
        ):
            raise ReplacementUnderpriced(
                f"need fee cap >= {max(fee_cap_min, old.max_fee_per_gas + 1)} and "
                f"tip >= {max(tip_min, old.max_priority_fee_per_gas + 1)}, have "
                f"{new.max_fee_per_gas} and {new.max_priority_fee_per_gas}"
            )

    def _check_account_limits(self, is_pending: bool, run: int, n_queued_of_sender: int) -> None:
        cfg = self._config
        if is_pending:
            if self._n_pending >= cfg.global_slots and run >= cfg.account_slots:
                raise AccountLimitExceeded(
                    f"{run} pending txs, {cfg.account_slots} guaranteed, pending area full"
                )
            return
        if n_queued_of_sender >= cfg.account_queue:
            raise AccountLimitExceeded(
                f"{n_queued_of_sender} queued txs, limit {cfg.account_queue}"
            )
        n_queued = len(self._by_hash) - self._n_pending
        if n_queued >= cfg.global_queue:
            raise TxPoolFull(f"{n_queued} queued txs, limit {cfg.global_queue}")

    def _choose_eviction(self, tx: Transaction, base_fee: int) -> PoolTx:
        """Pick the tx to evict so ``tx`` fits into a full pool, or raise."""
        cheapest = self._prices.cheapest_of_other_sender(tx.sender, base_fee, self._by_hash)
        if cheapest is None:
            raise TxPoolFull(f"{len(self._by_hash)} txs, all from {tx.sender}")
        mine, theirs = price_key(tx, base_fee), price_key(cheapest.tx, base_fee)
        if mine <= theirs:
            raise Underpriced(
                f"effective tip {mine[0]}, fee cap {mine[1]} not above cheapest pooled "
                f"(effective tip {theirs[0]}, fee cap {theirs[1]})"
            )
        # Evict the victim sender's highest nonce, so no gap opens in its pending run.
        victim = self._accounts[cheapest.sender]
        return victim.txs[max(victim.txs)]

    # -----------------------------------------------------------------------------------------
    # Blocks
    # -----------------------------------------------------------------------------------------

    def on_block(
        self,
        included: Sequence[bytes],
        *,
        state: StateView,
        head: HeadInfo,
        block_number: int,
        touched: Iterable[Address] = (),
    ) -> None:
        """Bring the pool up to date after the builder sealed a block.

        Marks pooled txs in ``included`` INCLUDED and removes them; then, for every sender of
        an included pooled tx and every address in ``touched``, re-reads nonce and balance and
        evicts txs whose nonce is now too low (``"nonce too low"``), that exceed the block gas
        limit (``"exceeds block gas limit"``) or that the sender can no longer pay for, counting
        its pooled txs in nonce order (``"insufficient funds"``); queued txs whose gap filled
        become pending. Cost is proportional to the affected senders' txs, not the pool.

        Args:
            included: Hashes of the block's txs, in block order (unknown hashes are ignored).
            state: Account state after the block.
            head: Gas limit and base fee of the next block.
            block_number: Number of the sealed block.
            touched: Further senders whose nonce or balance may have changed without one of
                their pooled txs being included (e.g. a bundle tx the pool never saw).
        """
        self._listing = None
        dirty: dict[Address, None] = {}
        for tx_hash in included:
            ptx = self._by_hash.get(tx_hash)
            if ptx is None:
                continue
            # acct.run goes stale here on purpose: _revalidate below subtracts the old run
            # from the pending count and recounts once per sender, not once per tx.
            self._forget(
                self._accounts[ptx.sender],
                ptx,
                TxFate(TxStatus.INCLUDED, block_number=block_number),
            )
            dirty[ptx.sender] = None
            dirty.update(dict.fromkeys(authorities(ptx.tx)))  # EIP-7702 bumped their nonces
        for address in touched:
            dirty[address] = None
        for sender in dirty:
            self._revalidate(sender, state, head)

    def resync(self, *, state: StateView, head: HeadInfo) -> None:
        """Revalidate every sender against ``state`` (after an out-of-band state change)."""
        self._listing = None
        for sender in list(self._accounts):
            self._revalidate(sender, state, head)

    def _revalidate(self, sender: Address, state: StateView, head: HeadInfo) -> None:
        acct = self._accounts.get(sender)
        if acct is None:
            return
        account_nonce = state.nonce(sender)
        balance = state.balance(sender)
        self._n_pending -= acct.run
        spent = 0
        broke = False
        for nonce in sorted(acct.txs):
            ptx = acct.txs[nonce]
            if nonce < account_nonce:
                self._forget(acct, ptx, TxFate(TxStatus.EVICTED, "nonce too low"))
            elif ptx.tx.gas > head.block_gas_limit:
                # Later nonces stay and become queued behind the gap, as in geth.
                self._forget(acct, ptx, TxFate(TxStatus.EVICTED, "exceeds block gas limit"))
            else:
                spent += ptx.tx.max_cost()
                # Costs only add up, so once one tx is unaffordable all later ones are too.
                broke = broke or spent > balance
                if broke:
                    self._forget(acct, ptx, TxFate(TxStatus.EVICTED, "insufficient funds"))
        acct.base = account_nonce
        acct.run = acct.count_run(account_nonce)
        self._n_pending += acct.run
        if not acct.txs:
            del self._accounts[sender]

    def drop(self, tx_hash: bytes) -> PoolTx | None:
        """Remove a pooled tx (a cheat code); the sender's later txs queue behind the gap."""
        ptx = self._by_hash.get(tx_hash)
        if ptx is not None:
            self._listing = None
            self._drop(ptx, TxFate(TxStatus.EVICTED, "dropped"))
        return ptx

    # -----------------------------------------------------------------------------------------
    # Copies
    # -----------------------------------------------------------------------------------------

    def copy(self) -> Mempool:
        """An independent copy (for chain snapshots); PoolTx and TxFate records are shared."""
        other = Mempool.__new__(Mempool)
        other._config = self._config
        other._by_hash = dict(self._by_hash)
        other._accounts = {sender: acct.copy() for sender, acct in self._accounts.items()}
        other._fates = dict(self._fates)
        other._n_pending = self._n_pending
        other._seq = self._seq
        other._prices = self._prices.copy()
        other._listing = self._listing
        other.entry_listeners = self.entry_listeners
        other._setcode = self._setcode.copy()
        return other

    # -----------------------------------------------------------------------------------------
    # Internals
    # -----------------------------------------------------------------------------------------

    def _forget(self, acct: _Account, ptx: PoolTx, fate: TxFate) -> None:
        """Remove ``ptx`` from its account and the index; the caller fixes ``acct.run``."""
        del acct.txs[ptx.nonce]
        acct.cost -= ptx.tx.max_cost()
        del self._by_hash[ptx.hash]
        self._fates[ptx.hash] = fate

    def _drop(self, ptx: PoolTx, fate: TxFate) -> None:
        """Remove ``ptx`` and fix its account's pending run (and the account, if empty)."""
        acct = self._accounts[ptx.sender]
        self._n_pending -= acct.run
        self._forget(acct, ptx, fate)
        acct.run = acct.count_run(acct.base)
        self._n_pending += acct.run
        if not acct.txs:
            del self._accounts[ptx.sender]
