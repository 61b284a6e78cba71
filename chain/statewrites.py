"""Writes to the head state outside any block: what the cheat codes change.

A backend-layer collaborator of :class:`agentbed.chain.backend.PyEVMBackend` (which is at its
size limit): it drives the same py-evm handles the backend holds, through their methods only,
so it imports nothing from ``eth``.

How a write works. py-evm's mining chain keeps a *pending header* (``chain.header``), the
template of the next block; its state root is where the next block starts executing. A write
opens the state at that root, changes one account, persists the trie nodes (content-addressed,
so nothing else is disturbed) and moves the pending header to the new root. The sealed head
block keeps its own header and hash, as on anvil: a cheat is not a block. Reads at "latest"
(balances, ``eth_call``) use :func:`latest_header`, the head header carrying the pending root,
whose hash differs from the head's, so the backend's call caches (keyed by header hash) never
serve a result from before the write. The next block builds on the written state. Snapshots
carry the pending root too (``PyEVMBackend.snapshot``), so a revert undoes a write exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentbed.chain.backend import PyEVMBackend

StateEdit = Callable[[Any], None]
"""Changes a py-evm ``StateAPI`` in place (``set_balance``, ``set_code``, ...)."""


def latest_header(evm_chain: Any) -> Any:
    """The canonical head's header with the state root the next block builds on.

    The head itself when no write happened since it was sealed (the common case: no copy).
    """
    head = evm_chain.get_canonical_head()
    root = evm_chain.header.state_root
    return head if head.state_root == root else head.copy(state_root=root)


def write_state(backend: PyEVMBackend, edit: StateEdit) -> bytes:
    """Apply ``edit`` to the head state and make the result the state the next block builds
    on; return the new state root."""
    evm_chain = backend._chain
    state = evm_chain.get_vm(evm_chain.header).state
    edit(state)
    state.persist()
    root = bytes(state.state_root)
    evm_chain.header = evm_chain.header.copy(state_root=root)
    backend._head_vm = None  # head reads now go to the written state
    return root


def dump_db(backend: PyEVMBackend) -> dict[bytes, bytes]:
    """Every key and value of the backend's database: headers, blocks, receipts, state tries."""
    return dict(backend._chain.chaindb.db.wrapped_db.kv_store)


def load_db(backend: PyEVMBackend, items: dict[bytes, bytes], snapshot: bytes) -> None:
    """Replace the backend's database by ``items`` and move the head to ``snapshot`` (a token
    of ``PyEVMBackend.snapshot`` taken on the chain ``items`` came from)."""
    store = backend._chain.chaindb.db.wrapped_db.kv_store
    store.clear()
    store.update(items)
    backend.revert(snapshot)
