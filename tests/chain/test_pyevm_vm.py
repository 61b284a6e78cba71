"""The shared code analysis answers every jump-target question as py-evm's code stream does,
and a chain built on the VM class seals the same blocks."""

from __future__ import annotations

from typing import Any

import pytest
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


# -- the code stream that runs plain opcodes itself ---------------------------------------

# Instructions that exercise the interpreter, each after PUSH1s of random operands enough for
# its inputs (so most programs run far rather than stop at a stack underflow): arithmetic,
# memory, storage, transient storage, jumps (to random targets: some valid), logs,
# environment reads, halts, invalid bytes; opcode -> number of inputs.
_OPS = {
    0x00: 0, 0x01: 2, 0x02: 2, 0x03: 2, 0x04: 2, 0x0A: 2, 0x10: 2, 0x14: 2, 0x15: 1, 0x16: 2,
    0x19: 1, 0x1B: 2, 0x20: 2, 0x30: 0, 0x33: 0, 0x35: 1, 0x36: 0, 0x3D: 0, 0x43: 0, 0x50: 1,
    0x51: 1, 0x52: 2, 0x54: 1, 0x55: 2, 0x56: 1, 0x57: 2, 0x58: 0, 0x59: 0, 0x5A: 0, 0x5B: 0,
    0x5C: 1, 0x5D: 2, 0x5E: 3, 0x5F: 0, 0x80: 1, 0x81: 2, 0x90: 2, 0x91: 3, 0xA0: 2, 0xA1: 3,
    0xF3: 2, 0xFD: 2, 0xFE: 0, 0x0C: 0,
    # Deep stack operations with no operands of their own: often too few items.
    0x82: 0, 0x8F: 0, 0x92: 0, 0x9F: 0,
}  # fmt: skip
_INSTRUCTION = st.one_of(
    st.sampled_from(sorted(_OPS)).flatmap(
        lambda op: st.lists(st.integers(0, 255), min_size=_OPS[op], max_size=_OPS[op]).map(
            lambda args: b"".join(bytes([0x60, a]) for a in args) + bytes([op])
        )
    ),
    st.binary(min_size=1, max_size=4).map(lambda data: bytes([0x5F + len(data)]) + data),
    # STATICCALL(gas=0xffff, to=identity precompile 0x04, in 0..32, out 0..32): a non-plain
    # opcode in the middle of the code.
    st.just(bytes.fromhex("6020600060206000600461fffffa")),
)
_PROGRAM = st.lists(_INSTRUCTION, max_size=40).map(b"".join)


def _run(computation_class: Any, state: Any, code: bytes, gas: int) -> tuple[Any, ...]:
    from eth.vm.message import Message

    contract, sender = b"\x11" * 20, b"\x22" * 20
    message = Message(gas=gas, to=contract, sender=sender, value=0, data=b"\x01" * 36, code=code)
    context = state.get_transaction_context_class()(gas_price=1, origin=sender)
    snapshot = state.snapshot()
    try:
        computation = computation_class.apply_computation(state, message, context)
        stored = tuple(state.get_storage(contract, slot) for slot in range(4))
    finally:
        state.revert(snapshot)
    error = computation._error
    return (
        computation.is_error,
        type(error).__name__,
        str(error),
        computation.get_gas_remaining(),
        computation.get_gas_refund(),
        computation.output,
        computation.get_log_entries(),
        computation._stack.values if not computation.is_error else (),
        stored,
    )


@given(_PROGRAM, st.integers(0, 60_000))
def test_fuzz_plain_opcodes_run_as_py_evm_runs_them(code: bytes, gas: int) -> None:
    from agentbed.chain.node import Chain

    chain = Chain(seed=5, accounts=1, automine=False)
    vm = chain.backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    theirs = ours.__mro__[1]  # py-evm's PragueComputation, with its own loop and stream
    assert theirs.__name__ == "PragueComputation"
    assert _run(ours, vm.state, code, gas) == _run(theirs, vm.state, code, gas)


@pytest.mark.parametrize(
    "code",
    [
        bytes.fromhex("5b5f5f56"),  # JUMPDEST PUSH0 PUSH0 JUMP(0): one more item per loop
        bytes.fromhex("60015b80600256"),  # PUSH1 1, JUMPDEST DUP1 PUSH1 2 JUMP(2)
        bytes.fromhex("5b60ff61ffff5f56"),  # PUSH1 / PUSH2 then loop
    ],
)
def test_full_stack_is_py_evm_s_error(code: bytes) -> None:
    from agentbed.chain.node import Chain

    vm = Chain(seed=5, accounts=1, automine=False).backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    mine = _run(ours, vm.state, code, 1_000_000)
    assert mine[:3] == (True, "FullStack", "Stack limit reached")
    assert mine == _run(ours.__mro__[1], vm.state, code, 1_000_000)


@pytest.mark.parametrize(
    ("code", "full"),
    [
        (b"\x5f" * 1024, False),  # PUSH0 x 1024: the limit
        (b"\x5f" * 1025, True),
        (b"\x5f" + b"\x80" * 1023, False),  # PUSH0, DUP1 x 1023
        (b"\x5f" + b"\x80" * 1024, True),
        (b"\x60\x07" * 1024 + b"\x50" * 1024 + b"\x50", True),  # one POP too many: underflow
    ],
)
def test_stack_limits_are_py_evm_s(code: bytes, full: bool) -> None:
    from agentbed.chain.node import Chain

    vm = Chain(seed=5, accounts=1, automine=False).backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    mine = _run(ours, vm.state, code, 1_000_000)
    assert mine[0] is full
    assert mine == _run(ours.__mro__[1], vm.state, code, 1_000_000)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("600060205700", "NoneType"),  # JUMPI(0x20, 0): not taken, the target is not checked
        ("600160075760005b00", "NoneType"),  # JUMPI(7, 1) to a JUMPDEST
        ("6001600557005b00", "InvalidJumpDestination"),  # JUMPI(5, 1): 5 is a STOP
        ("600456605b00", "InvalidInstruction"),  # JUMP(4): a 0x5b inside PUSH1's data
        ("61010056", "InvalidJumpDestination"),  # JUMP(256): past the end of the code
        ("56", "InsufficientStack"),  # JUMP on an empty stack
        ("600157", "InsufficientStack"),  # JUMPI with one item
    ],
)
def test_jumps_are_py_evm_s(code: str, error: str) -> None:
    from agentbed.chain.node import Chain

    vm = Chain(seed=5, accounts=1, automine=False).backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    mine = _run(ours, vm.state, bytes.fromhex(code), 1_000)
    assert mine[1] == error
    assert mine == _run(ours.__mro__[1], vm.state, bytes.fromhex(code), 1_000)


def test_push_past_the_end_of_the_code_is_zero_padded() -> None:
    from agentbed.chain.node import Chain

    vm = Chain(seed=5, accounts=1, automine=False).backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    code = bytes.fromhex("6101")  # PUSH2 with one byte of data
    mine = _run(ours, vm.state, code, 100)
    assert mine[7] == [b"\x01\x00"]
    assert mine == _run(ours.__mro__[1], vm.state, code, 100)


def test_out_of_gas_in_a_plain_opcode_is_py_evm_s_error() -> None:
    from agentbed.chain.node import Chain

    vm = Chain(seed=5, accounts=1, automine=False).backend._chain.get_vm()
    ours = vm.get_state_class().computation_class
    code = bytes.fromhex("600160020100")  # PUSH1 1 PUSH1 2 ADD STOP: 3 + 3 + 3 gas
    is_error, kind, message, remaining, *_ = _run(ours, vm.state, code, 8)
    assert (is_error, kind, remaining) == (True, "OutOfGas", 0)
    assert message == "Out of gas: Needed 3 - Remaining 2 - Reason: ADD"
    assert _run(ours, vm.state, code, 9)[:4] == (False, "NoneType", "None", 0)


# -- the stack ------------------------------------------------------------------------------

_STACK_ITEM = st.one_of(
    st.integers(0, 2**256 - 1), st.binary(max_size=32), st.integers(2**256, 2**257)
)
_STACK_OP = st.one_of(
    st.tuples(st.just("push_int"), _STACK_ITEM.filter(lambda x: isinstance(x, int))),
    st.tuples(st.just("push_bytes"), st.binary(max_size=32)),
    st.tuples(st.just("pop_ints"), st.integers(1, 4)),
    st.tuples(st.just("pop1_int"), st.none()),
)


def _stack_trace(stack: Any, ops: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    trace: list[tuple[str, Any]] = []
    for name, arg in ops:
        try:
            out = getattr(stack, name)() if arg is None else getattr(stack, name)(arg)
        except Exception as err:  # the error itself is what is compared
            out = (type(err).__name__, str(err))
        trace.append((name, out))
    return [*trace, ("left", list(stack.values))]


@given(st.lists(_STACK_OP, max_size=60))
def test_fuzz_testbed_stack_equals_py_evm_s(ops: list[tuple[str, Any]]) -> None:
    from eth.vm.stack import Stack

    from agentbed.chain.pyevm_vm import TestbedStack

    assert _stack_trace(TestbedStack(), ops) == _stack_trace(Stack(), ops)


def test_testbed_stack_limit_is_py_evm_s() -> None:
    from agentbed.chain.pyevm_vm import TestbedStack

    stack = TestbedStack()
    for i in range(1024):
        stack.push_int(i)
    with pytest.raises(Exception, match="Stack limit reached"):
        stack.push_int(1)
    assert stack.pop_ints(3) == (1023, 1022, 1021)
    stack.push_bytes(b"\x01\x00")
    assert stack.pop1_int() == 256


# -- a block's transactions as stored ------------------------------------------------------


def test_block_tx_bytes_are_the_txs_as_submitted() -> None:
    from agentbed.chain.node import Chain
    from agentbed.chain.pyevm_vm import block_tx_bytes

    chain = Chain(seed=3, accounts=2, automine=False)
    sender, to = chain.accounts[0], chain.accounts[1].address
    base = {"to": to, "value": 1, "gas": 30_000}
    kinds = [
        {"gasPrice": 60 * 10**9},  # legacy
        {"gasPrice": 60 * 10**9, "accessList": [{"address": to, "storageKeys": []}]},
        {"maxPriorityFeePerGas": 10**9, "maxFeePerGas": 60 * 10**9},
    ]
    raws = [
        chain.sign(sender, {**base, **fields, "nonce": nonce}) for nonce, fields in enumerate(kinds)
    ]
    for raw in raws:
        chain.submit(raw)
    (block,) = chain.mine()
    header = chain.backend._chain.get_canonical_block_header_by_number(block.number)
    stored = block_tx_bytes(chain.backend._chain.chaindb.db, header.transaction_root)
    assert stored == tuple(bytes(raw) for raw in raws)
    assert [chain.backend.raw_transaction(block.number, i) for i in range(3)] == list(stored)
