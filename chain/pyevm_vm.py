"""The py-evm VM class the backend runs, and how a built block is assembled for sealing.

A collaborator of :mod:`agentbed.chain.backend` (the two are the only modules that import
``eth.*``), for the two places where driving py-evm as it comes cost the most.

**Code analysis once per code.** py-evm checks a jump target by looking back up to 32 bytes
for a PUSH whose data would cover it, and keeps what it learnt in the code stream of one
message call only: every call into a pool or token redoes the work for every jump (about 4% of
a flagship run). Whether a position starts an instruction is a property of the code alone, so
it is computed once per code, in one forward pass, and shared by every call that runs that
code. The answer is the same as py-evm's: a position is valid unless it lies inside the data of
a PUSH that is itself an instruction.

**Plain opcodes run by the code stream** (:meth:`AnalysedCodeStream.__iter__`). py-evm's
interpreter loop (``BaseComputation.apply_computation``) iterates the code stream and, for
every instruction, calls the opcode object, which calls the computation's ``consume_gas``,
which calls the gas meter's, then the logic function, which for a stack operation calls the
computation, then its stack (and for a PUSH the code stream): five to eight Python calls per
instruction, over 800,000 instructions a flagship run. Most opcodes are py-evm's
``_FastOpcode`` (a fixed gas cost, then a logic function); the stream here runs those itself
as it is iterated -- the same gas check with the same ``OutOfGas`` message, the same gas
taken, then the same logic function, or for PUSH, DUP, SWAP, POP, JUMPDEST, JUMP and JUMPI
(three quarters of the instructions) the same list operations, checks and errors as py-evm's
logic functions and ``Stack``; a
``Halt`` ends the iteration as py-evm's loop ``break`` does -- and yields to py-evm's loop
only the others (calls, creates, self-destruct, invalid bytes), which py-evm runs as before.
The preamble and error handling of ``apply_computation`` stay py-evm's. Nothing changes when
py-evm's debug2 logging is on, or its gas meter or stack are not the classes this knows (the
stream then yields every opcode). About 12% of a flagship run's CPU time. Exactness: the
differential test against anvil (``tests/chain/test_anvil_diff.py``: receipts, gas, logs,
tries, state) and ``tests/chain/test_pyevm_vm.py`` (the same status, error, gas, refund,
output, logs, stack and storage as py-evm's own loop and stream, on random code and at the
stack's limits).

**Memory that does not grow** (``TestbedComputation.extend_memory``): py-evm validates the
range, rounds both sizes up to words, prices both and asks the memory to grow before finding
that nothing changes, which is the case for most memory accesses; that case returns after the
same validation.

**A stack that pops integers in fewer calls** (:class:`TestbedStack`). py-evm's
``Stack.pop_ints`` goes through ``pop_any``, a generator and ``to_int`` per item; arithmetic,
comparisons, jumps and memory and storage opcodes pop integers (about 200,000 pops a flagship
run). The subclass does the same list operations, checks and conversions in one function.
Tested against py-evm's ``Stack`` on random operation sequences, errors included.

**Assembling a block** (:func:`assemble_block`). py-evm's ``set_block_transactions_and_
withdrawals`` + ``mine_block`` deep-copy every transaction twice while copying the block,
persist the state a second time and validate the block they have just made. The block here is
assembled once from the same parts (the same tries); the header's checks against its parent
stay with ``Chain.validate_block`` in the backend's ``seal``. (A one-pass builder of the
ordered tries was tried: same roots and nodes, ~3% faster, but a run's memory grew ~1 MB more
per 1,000 txs in ``scripts/bench_chain.py`` for a reason not found, so py-evm builds them.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import rlp
from eth.db.trie import _make_trie_root_and_nodes, make_trie_root_and_nodes
from eth.exceptions import (
    FullStack,
    Halt,
    InsufficientStack,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
)
from eth.validation import validate_stack_int
from eth.vm.code_stream import CodeStream
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.gas_meter import GasMeter
from eth.vm.logic import duplication, flow, swap
from eth.vm.logic import stack as stack_logic
from eth.vm.opcode import _FastOpcode
from eth.vm.stack import Stack, to_int
from trie import HexaryTrie

from agentbed.chain.memo import BoundedMemo

ANALYSED_CODES = 256
"""Distinct contract codes whose instruction starts are remembered (a run has a few dozen)."""

_PUSH1 = 0x60
_PUSH32 = 0x7F
_STOP = 0x00
_JUMPDEST = 0x5B

# What a plain opcode's logic is, when the stream does it itself (see ``__iter__``).
_LOGIC, _PUSH, _DUP, _SWAP, _POP, _NOTHING, _JUMP, _JUMPI = range(8)
_STACK_LOGIC: dict[Any, tuple[int, int]] = {
    **{getattr(stack_logic, f"push{n}"): (_PUSH, n) for n in range(33)},
    **{getattr(duplication, f"dup{n}"): (_DUP, n) for n in range(1, 17)},
    **{getattr(swap, f"swap{n}"): (_SWAP, n) for n in range(1, 17)},
    stack_logic.pop: (_POP, 0),
    flow.jumpdest: (_NOTHING, 0),
    flow.jump: (_JUMP, 0),
    flow.jumpi: (_JUMPI, 0),
}
"""py-evm's logic functions of the stack and jump opcodes (three quarters of the instructions
a flagship run executes): PUSH0-32, DUP1-16, SWAP1-16, POP, JUMPDEST (nothing), JUMP and JUMPI,
with their kind and size. Recognised by identity, so an opcode whose logic py-evm changes is
no longer inlined."""

PlainOpcodes = Mapping[int, tuple[int, Any, str, int, int]]
"""opcode -> (gas cost, logic function, mnemonic, kind, size) of the opcodes a code stream runs
itself; kind is ``_LOGIC`` (call the logic function) or a stack operation of ``size``."""


def plain_opcodes(opcodes: Mapping[int, Any]) -> dict[int, tuple[int, Any, str, int, int]]:
    """The entries of a computation class's opcode table that are a fixed gas cost followed by
    a logic function (py-evm's ``_FastOpcode``), as (gas cost, logic function, mnemonic, kind,
    size); kind and size say which stack operation the logic is, if it is one."""
    return {
        op: (fn.gas_cost, fn.logic_fn, fn.mnemonic, *_STACK_LOGIC.get(fn.logic_fn, (_LOGIC, 0)))
        for op, fn in opcodes.items()
        if type(fn) is _FastOpcode
    }


def instruction_starts(code: bytes) -> bytes:
    """One byte per position of ``code``: 1 where an instruction starts, 0 inside PUSH data.

    Args:
        code: EVM bytecode.

    Returns:
        A mask as long as ``code``.
    """
    mask = bytearray(len(code))
    pc, end = 0, len(code)
    while pc < end:
        mask[pc] = 1
        op = code[pc]
        pc += 1 + (op - _PUSH1 + 1 if _PUSH1 <= op <= _PUSH32 else 0)
    return bytes(mask)


class AnalysedCodeStream(CodeStream):
    """py-evm's code stream with jump-target validity read from a precomputed mask, which runs
    the plain opcodes of its computation itself when iterated (see the module docstring).

    Args:
        code_bytes: The code.
        starts: Its :func:`instruction_starts`.
        computation: The computation running the code, or None to iterate as py-evm's stream
            (every opcode yielded).
        plain: That computation class's :func:`plain_opcodes`.
    """

    __slots__ = ["_computation", "_plain", "_starts"]

    def __init__(
        self,
        code_bytes: bytes,
        starts: bytes,
        computation: Any = None,
        plain: PlainOpcodes | None = None,
    ) -> None:
        super().__init__(code_bytes)
        self._starts = starts
        self._computation = computation
        self._plain = plain

    def is_valid_opcode(self, position: int) -> bool:
        return position < self._length_cache and self._starts[position] == 1

    def __iter__(self) -> Iterator[int]:
        # Dropped at once: the computation holds this stream, and a cycle would outlive it.
        computation, self._computation = self._computation, None
        plain = self._plain
        meter = computation._gas_meter if computation is not None else None
        if (
            plain is None
            or _STOP not in plain  # the end of the code is a STOP run here
            or type(meter) is not GasMeter
            or type(computation._stack) not in (Stack, TestbedStack)
            or computation.logger.show_debug2
            or GasMeter.logger.show_debug2
        ):
            yield from super().__iter__()
            return
        code, length, starts = self._raw_code_bytes, self._length_cache, self._starts
        stack = computation._stack
        values = stack.values
        while True:
            pc = self.program_counter
            if pc < self._length_cache:
                opcode = code[pc]
                self.program_counter = pc + 1
            else:
                opcode = _STOP  # past the end: py-evm's stream yields STOP, pc unchanged
            entry = plain.get(opcode)
            if entry is None:
                yield opcode  # py-evm's loop runs it, and may move the pc
                continue
            cost, logic, mnemonic, kind, size = entry
            # GasMeter.consume_gas, inline (costs here are constants >= 0).
            if cost > meter.gas_remaining:
                raise OutOfGas(
                    f"Out of gas: Needed {cost} "
                    f"- Remaining {meter.gas_remaining} "
                    f"- Reason: {mnemonic}"
                )
            meter.gas_remaining -= cost
            # The stack operations as py-evm's logic and Stack methods do them (same order of
            # reads, checks and errors), without their three or four calls.
            if kind == _PUSH:
                start = pc + 1
                value = code[start : start + size]
                self.program_counter = start + size
                if len(value) != size:
                    value = value.ljust(size, b"\x00")
                if len(values) > 1023:
                    raise FullStack("Stack limit reached")
                values.append(value)
            elif kind == _DUP:
                if len(values) > 1023:
                    raise FullStack("Stack limit reached")
                try:
                    values.append(values[-size])
                except IndexError:
                    raise InsufficientStack(f"Insufficient stack items for DUP{size}") from None
            elif kind == _SWAP:
                try:
                    values[-1], values[-size - 1] = values[-size - 1], values[-1]
                except IndexError:
                    raise InsufficientStack(f"Insufficient stack items for SWAP{size}") from None
            elif kind in (_JUMP, _JUMPI):
                if kind == _JUMP:
                    dest = stack.pop1_int()
                else:
                    dest, condition = stack.pop_ints(2)
                    if not condition:
                        continue
                # flow.jump / flow.jumpi: move, then check the target (peek, is_valid_opcode).
                self.program_counter = dest
                if (code[dest] if dest < length else _STOP) != _JUMPDEST:
                    raise InvalidJumpDestination("Invalid Jump Destination")
                if not (dest < length and starts[dest] == 1):
                    raise InvalidInstruction("Jump resulted in invalid instruction")
            elif kind == _POP:
                if not values:
                    raise InsufficientStack("Wanted 1 stack item, had none")
                values.pop()
            elif kind == _LOGIC:
                try:
                    logic(computation)
                except Halt:
                    return


_UINT256_MAX = 2**256 - 1


def _ceil32(x: int) -> int:
    return (x + 31) & ~31


class TestbedStack(Stack):
    """py-evm's stack with its integer pops and push in fewer calls (arithmetic, comparisons
    and memory and storage opcodes pop integers: about 200,000 pops a flagship run).

    Same items, checks, errors and order of effects as py-evm's ``Stack``: items are ints or
    bytes (read big-endian); ``to_int`` is still called for anything else, so an item py-evm
    would refuse is refused with its error.
    """

    __slots__ = ()

    def pop_ints(self, num_items: int) -> tuple[int, ...]:
        values = self.values
        if num_items > len(values):
            raise InsufficientStack(f"Wanted {num_items} stack items, only had {len(values)}")
        popped = values[-num_items:]
        del values[-num_items:]
        popped.reverse()
        return tuple(
            [
                item
                if type(item) is int
                else int.from_bytes(item, "big")
                if type(item) is bytes
                else to_int(item)
                for item in popped
            ]
        )

    def pop1_int(self) -> int:
        try:
            item = self.values.pop()
        except IndexError:
            raise InsufficientStack("Wanted 1 stack item, had none") from None
        return item if type(item) is int else to_int(item)

    def push_int(self, value: int) -> None:
        values = self.values
        if len(values) > 1023:
            raise FullStack("Stack limit reached")
        if not 0 <= value <= _UINT256_MAX:
            validate_stack_int(value)  # raises py-evm's error
        values.append(value)


def make_vm_class() -> type[PragueVM]:
    """A Prague VM class whose calls share one memo of analysed codes.

    The memo lives in the returned class (one per backend), not in this module: two chains in
    one process never share state through it, and it is bounded.
    """
    analysed: BoundedMemo[bytes, bytes] = BoundedMemo(ANALYSED_CODES)
    plain = plain_opcodes(PragueComputation.opcodes)

    class TestbedComputation(PragueComputation):
        def __init__(self, state: Any, message: Any, transaction_context: Any) -> None:
            super().__init__(state, message, transaction_context)
            code = message.code
            starts = analysed.get(code)
            if starts is None:
                starts = analysed.put(code, instruction_starts(code))
            self.code = AnalysedCodeStream(code, starts, self, plain)
            self._stack = TestbedStack()

        def extend_memory(self, start_position: int, size: int) -> None:
            # py-evm's, which validates both numbers, then charges and grows nothing when the
            # memory already covers the range (most MSTOREs and MLOADs): that case here in
            # one test, any other (growth, bad input, debug logging) py-evm's as it is.
            if (
                type(start_position) is int
                and type(size) is int
                and 0 <= start_position <= _UINT256_MAX
                and 0 <= size <= _UINT256_MAX
                and (size == 0 or _ceil32(start_position + size) <= _ceil32(len(self._memory)))
                and not self.logger.show_debug2
            ):
                return
            super().extend_memory(start_position, size)

    state_class = PragueState.configure(
        __name__="TestbedPragueState", computation_class=TestbedComputation
    )
    return PragueVM.configure(__name__="TestbedPragueVM", _state_class=state_class)


def block_tx_bytes(db: Any, transaction_root: bytes) -> tuple[bytes, ...]:
    """The encoded transactions of a block, in order, as its transaction trie holds them (the
    bytes py-evm's ``tx.encode()`` wrote there), without decoding them into py-evm objects
    and encoding them again.

    Args:
        db: The chain's database.
        transaction_root: The block header's transaction root.
    """
    trie = HexaryTrie(db, root_hash=transaction_root)
    out: list[bytes] = []
    while encoded := trie[rlp.encode(len(out))]:  # keys 0, 1, ... up to the first missing
        out.append(bytes(encoded))
    return tuple(out)


def assemble_block(vm: Any, header: Any, txs: Sequence[Any], receipts: Sequence[Any]) -> Any:
    """The block of ``vm`` with ``txs`` and their ``receipts``, its state persisted.

    What py-evm's ``set_block_transactions_and_withdrawals`` then ``mine_block`` would return
    for a post-merge block without withdrawals: the state root, transaction root and receipt
    root in the header, the trie nodes of both lists in the database.

    Args:
        vm: The VM the txs were applied in.
        header: The block's header so far (gas used, bloom, timestamp...).
        txs: The applied transactions, in order.
        receipts: Their receipts, in order.
    """
    vm.state.persist()
    tx_root, tx_nodes = make_trie_root_and_nodes(txs)
    receipt_root, receipt_nodes = make_trie_root_and_nodes(receipts)
    vm.chaindb.persist_trie_data_dict(tx_nodes)
    vm.chaindb.persist_trie_data_dict(receipt_nodes)
    # py-evm memoises the trie root of the last 128 blocks' tx and receipt tuples, which
    # keeps every encoded tx of those blocks alive; nothing asks for them again.
    _make_trie_root_and_nodes.cache_clear()
    header = header.copy(
        state_root=vm.state.state_root, transaction_root=tx_root, receipt_root=receipt_root
    )
    return vm.get_block().copy(header=header, transactions=list(txs))
