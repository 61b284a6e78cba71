"""Remembered trie decoding changes no trie: same roots and values, and nodes py-trie edits
in place never leak into later reads."""

from __future__ import annotations

import pytest
import rlp
import trie.hexary
import trie.utils.nodes
from hypothesis import given
from hypothesis import strategies as st
from trie import HexaryTrie
from trie.utils.nibbles import decode_nibbles
from trie.utils.nodes import decode_node

import agentbed.chain.backend  # noqa: F401  (installs the remembering decoders)
from agentbed.chain.trie_memo import _NodeDecoder, _PathDecoder, remember_trie_decoding

KEY = st.binary(min_size=1, max_size=4)
OPS = st.lists(st.tuples(KEY, st.binary(max_size=40)), max_size=60)


def _final_root(ops: list[tuple[bytes, bytes]]) -> tuple[bytes, dict[bytes, bytes]]:
    """Apply ``ops`` (an empty value deletes) to a fresh trie; its root and its contents."""
    t = HexaryTrie({})
    for key, value in ops:
        t[key] = value
    return t.root_hash, {key: t[key] for key, _ in ops}


def test_backend_installs_the_remembering_decoders() -> None:
    assert isinstance(trie.hexary.decode_node, _NodeDecoder)
    assert isinstance(trie.hexary.decode_nibbles, _PathDecoder)
    assert trie.utils.nodes.decode_nibbles is trie.hexary.decode_nibbles
    assert remember_trie_decoding() is False  # a second call changes nothing


@given(OPS)
def test_fuzz_trie_updates_match_plain_py_trie(ops: list[tuple[bytes, bytes]]) -> None:
    remembered = _final_root(ops)
    with pytest.MonkeyPatch.context() as plain:
        plain.setattr(trie.hexary, "decode_node", decode_node)
        plain.setattr(trie.hexary, "decode_nibbles", decode_nibbles)
        plain.setattr(trie.utils.nodes, "decode_nibbles", decode_nibbles)
        assert _final_root(ops) == remembered


def test_a_node_edited_by_its_reader_is_decoded_afresh() -> None:
    embedded = [b"\x20", b"v"]
    branch = [b"\x01" * 32, embedded, *([b""] * 14), b"value"]
    encoded = rlp.encode(branch)
    decoder = _NodeDecoder(8)
    first = decoder(encoded)
    first[0] = b"edited"
    first[1][1] = b"edited too"
    assert decoder(encoded) == branch


def test_path_decoding_equals_py_trie() -> None:
    decoder = _PathDecoder(2)
    for encoded in (b"\x20\x0f\x1c", b"\x11\x23", b"\x00\x01", b"\x3f"):
        assert decoder(encoded) == decode_nibbles(encoded)
        assert decoder(encoded) == decode_nibbles(encoded)  # from the memo
