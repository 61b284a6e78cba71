"""Trie nodes and node paths decoded once, not once per py-evm state object.

A collaborator of :mod:`agentbed.chain.backend`. py-evm reads accounts and storage slots
through py-trie's ``HexaryTrie``, which decodes every node on the way from the root (RLP, then
the hex-prefix path of leaves and extensions) on every read. py-evm's own caches belong to one
state object and are emptied whenever the state is persisted, so each block, each call state
and each counterfactual replay decodes the same upper nodes again: decoding was about 8% of
a flagship run. A node is stored under the keccak of its encoding, so its decoding is a pure
function of those bytes and can be remembered across tries, states and blocks.

:func:`remember_trie_decoding` points py-trie at remembering versions of its two decoders,
as :func:`agentbed.chain.hashing.prefer_pysha3` points eth-hash at a faster keccak: results
are the same, only the time changes. Two things keep it safe. py-trie edits decoded nodes in
place while it updates a trie, so every hit hands out a fresh copy of the node's lists (the
byte strings inside are immutable and shared). And the memos are bounded, oldest entry out
first, so memory stays flat on long runs.
"""

from __future__ import annotations

from typing import Any

import trie.hexary
import trie.utils.nodes
from trie.utils.nibbles import decode_nibbles as _decode_nibbles
from trie.utils.nodes import decode_node as _decode_node

from agentbed.chain.memo import BoundedMemo

__all__ = ["NODES", "PATHS", "remember_trie_decoding"]

NODES = 1024
"""Decoded nodes remembered: the upper levels every read passes (a flagship run decodes 26k
nodes, 6.5k distinct; 1,024 remembered leave 8.2k decodes, 4,096 would leave 7k)."""
PATHS = 1024
"""Decoded hex-prefix paths remembered."""

_SHORT = 32
"""Encodings shorter than a hash are embedded in their parent, not looked up: not remembered."""


def _copy(node: list[Any]) -> list[Any]:
    """``node`` with fresh lists at every level (embedded child nodes are lists too)."""
    return [_copy(item) if type(item) is list else item for item in node]


class _NodeDecoder:
    """py-trie's ``decode_node`` with a bounded memo of the nodes stored by hash."""

    def __init__(self, size: int) -> None:
        self._memo: BoundedMemo[bytes, list[Any]] = BoundedMemo(size)

    def __call__(self, encoded_node_or_hash: bytes | list[Any]) -> bytes | list[Any]:
        # The parameter's name is py-trie's: callers may pass it by keyword.
        encoded = encoded_node_or_hash
        if type(encoded) is not bytes or len(encoded) < _SHORT:
            return _decode_node(encoded)
        node = self._memo.get(encoded)
        if node is None:
            decoded = _decode_node(encoded)
            if type(decoded) is not list:
                return decoded
            node = self._memo.put(encoded, decoded)
        return _copy(node)


class _PathDecoder:
    """py-trie's ``decode_nibbles`` (whose result is an immutable tuple) with a bounded memo."""

    def __init__(self, size: int) -> None:
        self._memo: BoundedMemo[bytes, tuple[int, ...]] = BoundedMemo(size)

    def __call__(self, value: bytes) -> tuple[int, ...]:
        found = self._memo.get(value)
        if found is None:
            found = self._memo.put(value, _decode_nibbles(value))
        return found


def remember_trie_decoding() -> bool:
    """Point py-trie's node and path decoders at remembering versions; return whether this
    call did (False when they already were, e.g. a second backend in the process)."""
    if isinstance(trie.hexary.decode_node, _NodeDecoder):
        return False
    paths = _PathDecoder(PATHS)
    trie.hexary.decode_node = _NodeDecoder(NODES)
    trie.hexary.decode_nibbles = paths
    trie.utils.nodes.decode_nibbles = paths
    return True
