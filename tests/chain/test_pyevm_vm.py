"""The shared code analysis answers every jump-target question as py-evm's code stream does,
and a chain built on the VM class seals the same blocks."""

from __future__ import annotations

from eth.vm.code_stream import CodeStream
from hypothesis import given
from hypothesis import strategies as st

from agentbed.chain.pyevm_vm import AnalysedCodeStream, instruction_starts, make_vm_class

# Bytes biased towards PUSH opcodes (0x60-0x7f), so push data covers many positions.
CODE = st.lists(st.one_of(st.integers(0x60, 0x7F), st.integers(0, 255)), max_size=200).map(bytes)


@given(CODE, st.lists(st.integers(0, 260), max_size=30))
def test_fuzz_valid_positions_equal_py_evm(code: bytes, probes: list[int]) -> None:
    theirs = CodeStream(code)
    ours = AnalysedCodeStream(code, instruction_starts(code))
    for position in [*probes, *range(len(code) + 2)]:
        assert ours.is_valid_opcode(position) == theirs.is_valid_opcode(position), position


def test_push_data_is_not_an_instruction() -> None:
    # PUSH2 0x5b 0x5b, JUMPDEST: the two 0x5b bytes are data, the last one is an instruction.
    assert instruction_starts(bytes([0x61, 0x5B, 0x5B, 0x5B])) == bytes([1, 0, 0, 1])
    # PUSH32 running past the end of the code.
    assert instruction_starts(bytes([0x7F, 0x5B])) == bytes([1, 0])


def test_each_vm_class_has_its_own_memo() -> None:
    first, second = make_vm_class(), make_vm_class()
    assert first is not second
    assert first.get_state_class().computation_class is not (
        second.get_state_class().computation_class
    )


def test_sealed_block_commits_to_its_txs_and_receipts_as_py_evm_would() -> None:
    from eth.db.trie import _make_trie_root_and_nodes

    from agentbed.chain.node import Chain

    chain = Chain(seed=3, accounts=3, automine=False)
    sender = chain.accounts[0]
    for nonce in range(20):  # more than 16 txs: the tries get an extension and branches
        fields = {
            "to": chain.accounts[1].address,
            "value": nonce + 1,
            "gas": 21_000,
            "maxPriorityFeePerGas": 10**9,
            "maxFeePerGas": 50 * 10**9,
            "type": 2,
            "nonce": nonce,
        }
        chain.submit(chain.sign(sender, fields))
    (block,) = chain.mine()
    evm_chain = chain.backend._chain  # the py-evm chain, read back from its database
    stored = evm_chain.get_canonical_block_by_number(block.number)
    receipts = evm_chain.chaindb.get_receipts(stored.header, stored.get_receipt_builder())
    assert len(stored.transactions) == len(receipts) == 20
    assert (
        stored.header.transaction_root
        == (_make_trie_root_and_nodes(tuple(tx.encode() for tx in stored.transactions))[0])
    )
    assert (
        stored.header.receipt_root
        == (_make_trie_root_and_nodes(tuple(r.encode() for r in receipts))[0])
    )
    assert [bytes(tx.hash) for tx in stored.transactions] == list(block.tx_hashes)
