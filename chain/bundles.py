"""Admission checks for private bundles (``Chain.submit_bundle`` / ``simulate_bundle``).

A bundle never enters the mempool, so the pool's admission does not see it. What can be
checked without state is checked here, when the bundle arrives; whether its transactions
apply (nonces, funds, reverts) is decided when the builder simulates it at the top of its
target block. :func:`conflicting_bundle` says which bundles compete for the same opportunity,
so that the builder's sealed-bid auction keeps only the best bid of each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from agentbed.chain.errors import (
    BundleRejected,
    GasLimitExceeded,
    IntrinsicGasTooLow,
    TipAboveFeeCap,
    TxRejected,
)
from agentbed.chain.fees import required_gas
from agentbed.chain.types import Bundle, Transaction


def check_bundle(
    raw_txs: Sequence[bytes],
    target_block: int | None,
    allowed_to_revert: Iterable[bytes],
    *,
    head_number: int,
    gas_limit: int,
    decode: Callable[[bytes], Transaction],
) -> tuple[tuple[Transaction, ...], int, frozenset[bytes]]:
    """Decode and check a bundle's transactions.

    Args:
        raw_txs: The signed transactions, in bundle order.
        target_block: The block to include it in; None for the next block.
        allowed_to_revert: Hashes of members that may revert without dropping the bundle.
        head_number: The head block's number.
        gas_limit: The block gas limit.
        decode: Decodes and signature-checks one raw tx (raises a :class:`TxRejected`).

    Returns:
        ``(transactions, target block, allowed_to_revert)``.

    Raises:
        BundleRejected: Empty, targeting a mined block, a member failing decoding or a static
            check (the message names its index), or ``allowed_to_revert`` naming an outsider.
    """
    if not raw_txs:
        raise BundleRejected("a bundle needs at least one transaction")
    target = head_number + 1 if target_block is None else target_block
    if target <= head_number:
        raise BundleRejected(f"target block {target} is already mined (head is {head_number})")
    txs = []
    for i, raw in enumerate(raw_txs):
        try:
            tx = decode(raw)
            _check_static(tx, gas_limit)
        except TxRejected as err:
            raise BundleRejected(f"bundle tx {i}: {err}") from err
        txs.append(tx)
    hashes = {tx.hash for tx in txs}
    allowed = frozenset(bytes(h) for h in allowed_to_revert)
    if not allowed <= hashes:
        raise BundleRejected("allowed_to_revert names a tx that is not in the bundle")
    return tuple(txs), target, allowed


def _check_static(tx: Transaction, gas_limit: int) -> None:
    """Static checks for bundle members (the pool's checks that do not depend on state)."""
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TipAboveFeeCap()
    required = required_gas(tx)
    if tx.gas < required:
        raise IntrinsicGasTooLow(f"gas {tx.gas}, minimum needed {required}")
    if tx.gas > gas_limit:
        raise GasLimitExceeded(f"gas {tx.gas} > block gas limit {gas_limit}")


def conflicting_bundle(bundle: Bundle, included: Sequence[Bundle]) -> Bundle | None:
    """The first of ``included`` that ``bundle`` competes with for the same opportunity.

    Two bundles conflict when they carry the same transaction (two searchers wrapping the same
    victim) or the same sender's nonce (one searcher's alternatives for one block): at most one
    of them can land, and the builder's auction (see :func:`agentbed.chain.ordering.
    rank_bundles`) has already decided which, by payment. Conflicts through state alone (two
    sandwiches of different victims on one pool) are left to the re-simulation, which drops a
    bundle whose guard now reverts.

    Args:
        bundle: A bundle the builder is about to apply.
        included: The bundles already in the block.

    Returns:
        The included bundle it conflicts with, or None.
    """
    hashes = {tx.hash for tx in bundle.txs}
    nonces = {(tx.sender, tx.nonce) for tx in bundle.txs}
    for other in included:
        if any(tx.hash in hashes or (tx.sender, tx.nonce) in nonces for tx in other.txs):
            return other
    return None
