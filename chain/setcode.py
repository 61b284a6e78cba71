"""Pool admission rules for EIP-7702 set-code transactions, as geth's txpool applies them.

A set-code (type 4) tx lets its authorities' accounts run a delegate's code, and a delegated
account can then spend its balance from inside any call, not only through its own signed
txs. A pool that accepted many txs from such an account could no longer trust its funds and
nonce bookkeeping, so geth limits what it admits (``core/txpool/validation.go``
``ValidateTransaction`` and ``core/txpool/legacypool/legacypool.go`` ``validateAuth`` with
``checkDelegationLimit``); :class:`SetCodeRules` follows them, in geth's order:

1. stateless, after the tip check: a set-code tx must carry at least one authorization
   ("set code tx must have at least one authorization tuple"). A set-code tx without ``to``
   never gets here: geth's ``SetCodeTx.To`` is not nullable, so it fails to decode (see
   :mod:`agentbed.chain.txcodec`);
2. after the nonce and funds checks, for a sender whose account has code (a delegation) or
   that is the authority of a tuple in a pooled set-code tx: at most one in-flight tx. With
   nothing pending, the tx's nonce must be the next one ("gapped-nonce tx from delegated
   accounts"); with a pending tx, only a same-nonce replacement is admitted ("in-flight
   transaction limit reached for delegated accounts");
3. for each distinct authority the tx's tuples recover to (geth's ``SetCodeAuthorities``:
   tuples whose signature recovers nothing are left out): that account must not hold more
   than one tx in the pool, pending and queued together ("authority already reserved").

Which pooled txs carry which authorities is remembered here (geth's ``lookup.auths``); the
record of a tx that left the pool is dropped the next time it is looked at.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from typing import Any, Protocol

from agentbed.chain.errors import (
    AuthorityReserved,
    EmptyAuthorizationList,
    GappedNonceFromDelegated,
    InflightTxLimit,
    TxRejected,
)
from agentbed.chain.interfaces import StateView
from agentbed.chain.txcodec import SET_CODE_TX_TYPE
from agentbed.chain.types import Address, Transaction

__all__ = ["SetCodeRules", "authorities"]


class _PooledAccount(Protocol):
    @property
    def txs(self) -> Mapping[int, Any]: ...


def authorities(tx: Transaction) -> tuple[Address, ...]:
    """The distinct addresses ``tx``'s tuples recover to, in order (geth's
    ``Transaction.SetCodeAuthorities``)."""
    seen: dict[Address, None] = {}
    for auth in tx.authorization_list:
        if auth.authority is not None:
            seen.setdefault(auth.authority)
    return tuple(seen)


class SetCodeRules:
    """geth's set-code admission rules for one pool (see the module docstring)."""

    def __init__(self) -> None:
        self._carriers: dict[bytes, tuple[Address, ...]] = {}
        """Pooled (or formerly pooled) set-code txs by hash -> their authorities."""

    def copy(self) -> SetCodeRules:
        other = SetCodeRules()
        other._carriers = dict(self._carriers)
        return other

    @staticmethod
    def check_stateless(tx: Transaction) -> None:
        """Rule 1. Raises :class:`EmptyAuthorizationList`."""
        if tx.type == SET_CODE_TX_TYPE and not tx.authorization_list:
            raise EmptyAuthorizationList()

    def check_with_state(
        self,
        tx: Transaction,
        state: StateView,
        pending_nonces: range,
        accounts: Mapping[Address, _PooledAccount],
        live: Container[bytes],
    ) -> None:
        """Rules 2 and 3.

        Args:
            tx: The newcomer, past the nonce and funds checks.
            state: Account state at the head (the sender's code is read).
            pending_nonces: Nonces of the sender's pending txs; its ``stop`` is the sender's
                next nonce counting them (geth's ``pendingNonces.get``).
            accounts: The pool's txs by sender (pending and queued).
            live: Hashes of the pooled txs.

        Raises:
            GappedNonceFromDelegated: Rule 2, nothing pending and a nonce gap.
            InflightTxLimit: Rule 2, a pending tx already and ``tx`` does not replace one.
            AuthorityReserved: Rule 3.
        """
        # What rule 2 would refuse, decided first: the common tx (the next nonce, or a
        # replacement) passes whatever the sender's code, and then the code is not read.
        refusal: type[TxRejected] | None = None
        if not pending_nonces:
            if tx.nonce != pending_nonces.stop:
                refusal = GappedNonceFromDelegated
        elif tx.nonce not in pending_nonces:
            refusal = InflightTxLimit
        if refusal is not None and (
            self._is_pending_authority(tx.sender, live) or state.code(tx.sender)
        ):
            raise refusal(f"address {tx.sender}, nonce {tx.nonce}")
        for authority in authorities(tx):
            pooled = accounts.get(authority)
            if pooled is not None and len(pooled.txs) > 1:
                raise AuthorityReserved(f"authority {authority}")

    def note_admitted(self, tx: Transaction) -> None:
        """Remember ``tx``'s authorities once the pool holds it."""
        if tx.type == SET_CODE_TX_TYPE:
            self._carriers[tx.hash] = authorities(tx)

    def _is_pending_authority(self, address: Address, live: Container[bytes]) -> bool:
        """Whether a pooled set-code tx names ``address`` as an authority (geth's
        ``lookup.hasAuth``); forgets txs that have left the pool on the way."""
        for tx_hash in list(self._live_carriers(live)):
            if address in self._carriers[tx_hash]:
                return True
        return False

    def _live_carriers(self, live: Container[bytes]) -> Iterator[bytes]:
        gone = [h for h in self._carriers if h not in live]
        for tx_hash in gone:
            del self._carriers[tx_hash]
        return iter(tuple(self._carriers))
