"""The one-pass ordered trie equals py-evm's trie built by insertion: root and stored nodes."""

from __future__ import annotations

import pytest
from eth.db.trie import _make_trie_root_and_nodes
from hypothesis import given
from hypothesis import strategies as st

from agentbed.chain.ordered_trie import BLANK_ROOT, ordered_trie

ITEM = st.binary(min_size=1, max_size=120)


@given(st.lists(ITEM, max_size=40))
def test_fuzz_root_and_nodes_equal_py_evm(items: list[bytes]) -> None:
    assert ordered_trie(items) == _make_trie_root_and_nodes(tuple(items))


@pytest.mark.parametrize("count", [1, 2, 16, 17, 127, 128, 129, 300])
def test_root_and_nodes_equal_py_evm_across_key_lengths(count: int) -> None:
    # rlp(index) is 1 byte up to 127, 2 bytes up to 255, then 3: the trie's shape changes there.
    items = [bytes([i % 251 + 1]) * (1 + i % 40) for i in range(count)]
    assert ordered_trie(items) == _make_trie_root_and_nodes(tuple(items))


def test_empty_list_is_the_blank_root() -> None:
    assert ordered_trie([]) == (BLANK_ROOT, {})
    assert _make_trie_root_and_nodes(())[0] == BLANK_ROOT


def test_revert_when_an_item_is_empty() -> None:
    with pytest.raises(ValueError, match="item 1 is empty"):
        ordered_trie([b"\x01", b""])
