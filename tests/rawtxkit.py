"""Raw signed transactions, a fake state and pool snapshots for the transaction-layer unit tests.

The txcodec, fees and mempool tests work below the chain: transactions are signed with
``eth_account`` (the reference implementation) from deterministic keys ``0x00..0i`` and decoded
with :func:`agentbed.chain.txcodec.decode_transaction`, so the mempool tests run on exactly the
records the chain would give them, against a dict-backed state instead of a backend.

Tests that drive contracts on a running chain (send, ``ok``, ``reverts``, events) use ``txkit``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from agentbed.chain.errors import TxRejected
from agentbed.chain.mempool import Mempool
from agentbed.chain.txcodec import decode_transaction
from agentbed.chain.types import Address, Transaction, TxFate

CHAIN_ID = 1337
GWEI = 10**9
TO = "0x000000000000000000000000000000000000dEaD"


@cache
def account(i: int) -> LocalAccount:
    """Deterministic test account number ``i`` (``i >= 1``)."""
    return Account.from_key("0x" + f"{i:064x}")


def address(i: int) -> Address:
    """Address of :func:`account` ``i``."""
    return account(i).address


def sign(
    i: int,
    nonce: int,
    *,
    tx_type: int = 2,
    fee_cap: int = 2 * GWEI,
    tip: int = GWEI,
    gas: int = 21_000,
    to: str | None = TO,
    value: int = 0,
    data: bytes = b"",
    access_list: list[dict[str, Any]] | None = None,
    chain_id: int | None = CHAIN_ID,
) -> bytes:
    """Raw signed tx from account ``i``; legacy/type-1 use ``fee_cap`` as the gas price."""
    fields: dict[str, Any] = {"nonce": nonce, "gas": gas, "value": value, "data": data}
    if to is not None:
        fields["to"] = to
    if chain_id is not None:
        fields["chainId"] = chain_id
    if tx_type == 2:
        fields.update(type=2, maxFeePerGas=fee_cap, maxPriorityFeePerGas=tip)
    else:
        fields["gasPrice"] = fee_cap
        if tx_type == 1:
            fields["type"] = 1
    if access_list is not None:
        fields["accessList"] = access_list
    return bytes(account(i).sign_transaction(fields).raw_transaction)


def make_tx(i: int, nonce: int, **kwargs: Any) -> Transaction:
    """Sign with :func:`sign` and decode (unprotected legacy allowed when ``chain_id=None``)."""
    return decode_transaction(sign(i, nonce, **kwargs), chain_id=CHAIN_ID, allow_unprotected=True)


class FakeState:
    """A dict-backed :class:`agentbed.chain.interfaces.StateView`."""

    def __init__(
        self, nonces: dict[Address, int] | None = None, balances: dict[Address, int] | None = None
    ) -> None:
        self.nonces: dict[Address, int] = dict(nonces or {})
        self.balances: dict[Address, int] = dict(balances or {})
        self.codes: dict[Address, bytes] = {}

    def nonce(self, address: Address) -> int:
        return self.nonces.get(address, 0)

    def balance(self, address: Address) -> int:
        return self.balances.get(address, 0)

    def code(self, address: Address) -> bytes:
        return self.codes.get(address, b"")

    def snapshot(self) -> tuple[dict[Address, int], dict[Address, int]]:
        return dict(self.nonces), dict(self.balances)


def pool_snapshot(
    pool: Mempool, hashes: list[bytes]
) -> tuple[Any, tuple[int, int], int, dict[bytes, TxFate | None]]:
    """Everything observable about ``pool`` (fates of ``hashes`` included), for equality."""
    return pool.content(), pool.status(), len(pool), {h: pool.fate(h) for h in hashes}


def assert_rejected_unchanged(
    pool: Mempool,
    state: FakeState,
    tx: Transaction,
    error: type[TxRejected],
    known: list[bytes],
    **add_kwargs: Any,
) -> TxRejected:
    """``pool.add(tx)`` raises exactly ``error`` and changes neither pool nor state."""
    before = pool_snapshot(pool, [*known, tx.hash])
    state_before = state.snapshot()
    try:
        pool.add(tx, state=state, **add_kwargs)
    except TxRejected as err:
        assert type(err) is error, f"expected {error.__name__}, got {type(err).__name__}: {err}"
        assert str(err).startswith(error.message)
        assert pool_snapshot(pool, [*known, tx.hash]) == before
        assert state.snapshot() == state_before
        return err
    raise AssertionError(f"expected {error.__name__}, tx was admitted")
