"""Merkle proofs of accounts and storage, and the access list a call needs.

Two reads of py-evm's state that no transaction makes, served to JSON-RPC clients:

* :func:`account_proof` answers ``eth_getProof`` (EIP-1186): the account's fields and the
  state-trie nodes from the block's state root to the account's leaf (or to where its path
  ends, a proof of absence), and per storage key the value and the storage-trie nodes. Node
  lists hold only nodes stored by hash, as geth's do: a node shorter than 32 bytes is embedded
  in its parent and not listed again.
* :func:`create_access_list` answers ``eth_createAccessList`` (EIP-2930), as geth's
  access-list tracer does: run the call, collect every address and storage slot it touched,
  leave out the sender, the recipient and the precompiles unless the call touched their
  storage (they are warm anyway; their slots are not), and report the gas
  the call uses *with* that list, rerunning until the list no longer changes. The touched set
  is read from py-evm's warm-marking (an account or slot is marked warm the first time the
  EVM touches it); the block's coinbase, which EIP-3651 warms before execution, is never
  listed (geth lists it when the call reads it: a difference of at most one entry).

Both read a block's post-state (the head's, with cheat-code writes, by default) and change
nothing: calls run inside a journal snapshot that is reverted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import rlp
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.rlp.accounts import Account
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError, keccak, to_checksum_address
from rlp.sedes import big_endian_int
from trie import HexaryTrie

from agentbed.chain.addresses import canonical
from agentbed.chain.backend import check_callable
from agentbed.chain.errors import InvalidCall
from agentbed.chain.types import Address

if TYPE_CHECKING:
    from eth.abc import SignedTransactionAPI

    from agentbed.chain.backend import PyEVMBackend

__all__ = [
    "AccessListResult",
    "AccountProof",
    "StorageProof",
    "account_proof",
    "create_access_list",
]

PRECOMPILES = frozenset(i.to_bytes(20, "big") for i in range(1, 0x12))
"""Prague's precompiles (0x01-0x0a, and the BLS12-381 ones 0x0b-0x11), warm in every tx."""

MAX_ROUNDS = 8
"""Reruns of a call with its own access list before giving up on a list that keeps changing."""


@dataclass(frozen=True, slots=True)
class StorageProof:
    """One storage key's value and its proof (EIP-1186)."""

    key: int
    value: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class AccountProof:
    """An account's fields at a block and the proofs of it and of some of its slots."""

    address: Address
    nonce: int
    balance: int
    storage_hash: bytes
    code_hash: bytes
    account_proof: tuple[bytes, ...]
    storage_proof: tuple[StorageProof, ...]


@dataclass(frozen=True, slots=True)
class AccessListResult:
    """A call's access list (address and sorted slots, in first-touch order) and its gas."""

    access_list: tuple[tuple[Address, tuple[int, ...]], ...]
    gas_used: int
    failed: bool


def _proof(trie: HexaryTrie, key: bytes) -> tuple[bytes, ...]:
    """The trie's proof of ``key``, as geth lists it: the root, then the hashed nodes."""
    encoded = [rlp.encode(node) for node in trie.get_proof(key)]
    return tuple(node for i, node in enumerate(encoded) if i == 0 or len(node) >= 32)


def account_proof(
    backend: PyEVMBackend, address: Address, slots: Sequence[int], block_number: int | None = None
) -> AccountProof:
    """``eth_getProof(address, slots, block)``: fields and proofs at block ``block_number``
    (the head when None).

    Raises:
        UnknownBlock: no such block.
    """
    header = backend.header_at(block_number)
    db = backend._chain.chaindb.db
    state_trie = HexaryTrie(db, header.state_root)
    key = keccak(canonical(address))
    raw = state_trie.get(key)
    account = rlp.decode(raw, sedes=Account) if raw else Account(0, 0, BLANK_ROOT_HASH, EMPTY_SHA3)
    storage_trie = HexaryTrie(db, account.storage_root)
    storage = []
    for slot in slots:
        slot_key = keccak(slot.to_bytes(32, "big"))
        value = storage_trie.get(slot_key)
        storage.append(
            StorageProof(
                key=slot,
                value=rlp.decode(value, sedes=big_endian_int) if value else 0,
                proof=_proof(storage_trie, slot_key)
                if account.storage_root != BLANK_ROOT_HASH
                else (),
            )
        )
    return AccountProof(
        address=to_checksum_address(address),
        nonce=account.nonce,
        balance=account.balance,
        storage_hash=bytes(account.storage_root),
        code_hash=bytes(account.code_hash),
        account_proof=_proof(state_trie, key),
        storage_proof=tuple(storage),
    )


def create_access_list(
    backend: PyEVMBackend,
    *,
    sender: Address,
    to: Address | None,
    data: bytes,
    value: int = 0,
    gas: int = 0,
    block_number: int | None = None,
) -> AccessListResult:
    """``eth_createAccessList``: the call's access list and its gas with that list applied.

    Raises:
        UnknownBlock: no such block.
        InvalidCall: the call cannot run (intrinsic gas, funds, a malformed call).
    """
    header = backend.header_at(block_number)
    listed: tuple[tuple[bytes, tuple[int, ...]], ...] = ()
    for _ in range(MAX_ROUNDS):
        touched, used, failed = _traced_call(
            backend, header, sender, to, data, value, gas or header.gas_limit, listed
        )
        excluded = PRECOMPILES | {canonical(sender), bytes(header.coinbase)}
        if to is not None:
            excluded |= {canonical(to)}
        found = tuple(
            (addr, tuple(sorted(slots)))
            for addr, slots in touched.items()
            if slots or addr not in excluded
        )
        if found == listed:
            break
        listed = found
    return AccessListResult(
        access_list=tuple((to_checksum_address(a), s) for a, s in listed),
        gas_used=used,
        failed=failed,
    )


def _traced_call(
    backend: PyEVMBackend,
    header: Any,
    sender: Address,
    to: Address | None,
    data: bytes,
    value: int,
    gas: int,
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...],
) -> tuple[dict[bytes, set[int]], int, bool]:
    """Run the call as a fee-less type-1 tx carrying ``access_list``; return what it touched
    (address -> slots, in first-touch order), its gas used as a receipt would count it, and
    whether it failed."""
    state = backend._call_state(header)
    accounts = state._account_db  # type: ignore[attr-defined]
    touched: dict[bytes, set[int]] = {}
    mark_address, mark_slot = accounts.mark_address_warm, accounts.mark_storage_warm

    def on_address(address: bytes) -> None:
        touched.setdefault(address, set())
        mark_address(address)

    def on_slot(address: bytes, slot: int) -> None:
        touched.setdefault(address, set()).add(slot)
        mark_slot(address, slot)

    sender_b = canonical(sender)
    unsigned = backend._tx_builder.new_unsigned_access_list_transaction(
        backend.chain_id,
        state.get_nonce(sender_b),
        0,
        gas,
        canonical(to) if to else b"",
        value,
        data,
        access_list,
    )
    spoof = cast("SignedTransactionAPI", SpoofTransaction(unsigned, from_=sender_b, type_id=1))
    check_callable(spoof, state, value)
    snapshot = state.snapshot()
    accounts.mark_address_warm, accounts.mark_storage_warm = on_address, on_slot
    try:
        computation = state.apply_transaction(spoof)
    except ValidationError as err:
        raise InvalidCall(str(err)) from err
    finally:
        del accounts.mark_address_warm, accounts.mark_storage_warm
        state.revert(snapshot)
    used = backend._chain.get_vm(header).finalize_gas_used(spoof, computation)
    return touched, used, bool(computation.is_error)
