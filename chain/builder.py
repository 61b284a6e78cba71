"""The block builder: turns an ordering of pool transactions (and bundles) into a block.

The ordering policy says in which order transactions are *offered*; the builder enforces what
any block producer must: a tx whose nonce is not its sender's next, whose fee cap is below the
base fee, that its sender can no longer pay for, or whose gas does not fit the block is skipped,
and so are that sender's later transactions in this block (as geth's miner pops the account).

Bundles (policies with ``bundles_first``) go first: each bundle for this block is simulated at
the top of the block, ranked by payment to the coinbase (a sealed-bid, first-price auction), then
applied atomically — a bundle that conflicts with one already included (same tx or same sender
nonce) lost the auction and is dropped; if a member is not applicable or reverts without being
listed in ``allowed_to_revert``, the whole bundle is rolled back and dropped. The first bundle
included starts from the state it was simulated on, so its simulation is kept as its inclusion
instead of being executed a second time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from agentbed.chain.backend import BlockSession, Branch, ExecutionResult, TxNotApplicable
from agentbed.chain.bundles import conflicting_bundle
from agentbed.chain.fees import TX_GAS
from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.ordering import rank_bundles
from agentbed.chain.types import Address, Bundle, PoolTx, Transaction


@dataclass(frozen=True, slots=True)
class IncludedTx:
    tx: Transaction
    result: ExecutionResult
    arrival_ms: int | None
    bundle: bytes | None


@dataclass(frozen=True, slots=True)
class BuildResult:
    included: tuple[IncludedTx, ...]
    bundles: tuple[bytes, ...]
    """Ids of bundles included, in block order."""
    dropped_bundles: tuple[tuple[bytes, str], ...]
    """(bundle id, reason) for bundles of this block that were not included."""
    skipped: tuple[tuple[bytes, str], ...]
    """(tx hash, reason) for offered pool txs that did not make it into this block."""


class BlockBuilder:
    """Fills a :class:`BlockSession` from bundles and an ordered list of pool transactions."""

    def build(
        self,
        session: BlockSession,
        *,
        pending: Sequence[PoolTx],
        bundles: Sequence[Bundle],
        policy: OrderingPolicy,
        rng: random.Random,
    ) -> BuildResult:
        included: list[IncludedTx] = []
        bundle_ids: list[bytes] = []
        dropped: list[tuple[bytes, str]] = []
        # The one place a user's policy without ``bundles_first`` counts as False (see
        # OrderingPolicy); every built-in policy sets it.
        if getattr(policy, "bundles_first", False) and bundles:
            # A bundle may carry someone's public tx (a sandwich victim); its arrival is when
            # it reached the pool, not when the bundle did.
            public = {ptx.tx.hash: ptx.arrival_ms for ptx in pending}
            self._apply_bundles(session, bundles, included, bundle_ids, dropped, public)
        elif bundles:
            dropped.extend((b.id, "policy does not include bundles") for b in bundles)

        skipped: list[tuple[bytes, str]] = []
        blocked: set[Address] = set()
        for ptx in policy.order(pending, session.base_fee, rng):
            tx = ptx.tx
            if tx.sender in blocked:
                skipped.append((tx.hash, "earlier nonce of sender not included"))
                continue
            if session.gas_remaining < TX_GAS:
                skipped.append((tx.hash, "block full"))
                continue
            try:
                result = session.apply(tx)
            except TxNotApplicable as err:
                blocked.add(tx.sender)
                skipped.append((tx.hash, str(err)))
                continue
            included.append(IncludedTx(tx, result, ptx.arrival_ms, None))
        return BuildResult(tuple(included), tuple(bundle_ids), tuple(dropped), tuple(skipped))

    def simulate_bundle(
        self, session: BlockSession, bundle: Bundle
    ) -> tuple[list[IncludedTx], str | None]:
        """Apply ``bundle`` and roll it back; return its results and why it would fail, if so."""
        checkpoint = session.checkpoint()
        try:
            return self._apply_one(session, bundle)
        finally:
            session.rollback(checkpoint)

    def _apply_one(
        self, session: BlockSession, bundle: Bundle, public: Mapping[bytes, int] | None = None
    ) -> tuple[list[IncludedTx], str | None]:
        results: list[IncludedTx] = []
        for tx in bundle.txs:
            try:
                result = session.apply(tx)
            except TxNotApplicable as err:
                return results, f"tx 0x{tx.hash.hex()} not applicable: {err}"
            arrival = public.get(tx.hash, bundle.arrival_ms) if public else bundle.arrival_ms
            results.append(IncludedTx(tx, result, arrival, bundle.id))
            if result.status == 0 and tx.hash not in bundle.allowed_to_revert:
                return results, f"tx 0x{tx.hash.hex()} reverted"
        return results, None

    def _apply_bundles(
        self,
        session: BlockSession,
        bundles: Sequence[Bundle],
        included: list[IncludedTx],
        bundle_ids: list[bytes],
        dropped: list[tuple[bytes, str]],
        public: Mapping[bytes, int],
    ) -> None:
        scored: list[tuple[Bundle, int, int]] = []
        simulated: dict[bytes, tuple[list[IncludedTx], Branch]] = {}
        for bundle in bundles:
            checkpoint = session.checkpoint()
            results, failure = self._apply_one(session, bundle)
            branch = session.rollback(checkpoint)
            if failure is not None:
                dropped.append((bundle.id, failure))
                continue
            simulated[bundle.id] = (results, branch)
            payment = sum(r.result.coinbase_balance_delta for r in results)
            gas = sum(r.result.gas_used for r in results)
            scored.append((bundle, payment, gas))
        won: list[Bundle] = []
        for bundle, payment, _gas in rank_bundles(scored):
            rival = conflicting_bundle(bundle, won)
            if rival is not None:
                dropped.append((bundle.id, f"outbid by bundle 0x{rival.id.hex()} ({payment} wei)"))
                continue
            if not won:
                # The first bundle included starts from the top of the block, the state it was
                # simulated on: its simulation is its inclusion (same state, same results).
                results, branch = simulated[bundle.id]
                session.resume(branch)
                included.extend(
                    replace(r, arrival_ms=public.get(r.tx.hash, bundle.arrival_ms)) for r in results
                )
                bundle_ids.append(bundle.id)
                won.append(bundle)
                continue
            # Re-check on the state left by higher-ranked bundles: they may conflict.
            checkpoint = session.checkpoint()
            results, failure = self._apply_one(session, bundle, public)
            if failure is not None:
                session.rollback(checkpoint)
                dropped.append((bundle.id, failure))
                continue
            included.extend(results)
            bundle_ids.append(bundle.id)
            won.append(bundle)
