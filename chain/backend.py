"""The EVM backend: the only module that imports py-evm (``eth.*``).

Everything above this module speaks in the project's own records. The interface is small so a
second, faster EVM (e.g. revm) can be added behind it later:

- account reads at the head (``nonce``, ``balance``, ``code``, ``storage_at``);
- ``open_block(...)`` returns a :class:`BlockSession` that applies transactions one at a time
  (the builder decides which and in what order), can checkpoint and roll back (bundles are
  atomic) and finally seals the block;
- ``call`` / ``estimate_gas`` against the head state without changing anything;
- ``replay`` of signed transactions on a past block's parent state, in that block's context,
  without changing anything (counterfactual blocks);
- ``snapshot`` / ``revert`` of the canonical head.

Determinism: the genesis timestamp, every block timestamp and every ``mix_hash`` (prevrandao)
are supplied by the caller (the simulated clock and the root seed). Nothing here reads the wall
clock or ``os.urandom``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import rlp
from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import MiningChain
from eth.consensus import ConsensusApplier, NoProofConsensus
from eth.constants import BLANK_ROOT_HASH, GENESIS_PARENT_HASH, ZERO_ADDRESS
from eth.db.atomic import AtomicDB
from eth.exceptions import BlockNotFound, HeaderNotFound, Revert
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError, to_checksum_address

from agentbed.chain.addresses import canonical, checksum, contract_address_for
from agentbed.chain.errors import InvalidCall, UnknownBlock
from agentbed.chain.evm_records import CallResult, SealedBlock
from agentbed.chain.execution import ExecutionResult
from agentbed.chain.execution import execution_result as _execution_result
from agentbed.chain.fees import INITIAL_BASE_FEE, data_floor_gas
from agentbed.chain.genesis import genesis_state as genesis_alloc
from agentbed.chain.hashing import prefer_pysha3
from agentbed.chain.memo import BoundedMemo
from agentbed.chain.pyevm_vm import assemble_block, block_tx_bytes, make_vm_class
from agentbed.chain.statewrites import latest_header
from agentbed.chain.trie_memo import remember_trie_decoding
from agentbed.chain.types import Address, Authorization, HeaderDetails, Transaction

DEFAULT_GAS_LIMIT = 30_000_000

prefer_pysha3()
remember_trie_decoding()

CALL_STATES = 4
"""Block post-states kept for calls (the head's and a few past blocks')."""
CALL_RESULTS = 1024
"""Call results kept, by block hash and call: agents read the same balances many times a block."""
EVM_TXS = 1024
"""py-evm transaction objects kept by hash (many blocks' worth; bounded, for memory)."""


def check_callable(spoof: Any, state: StateAPI, value: int) -> None:
    """Refuse a read-only call py-evm could not start: gas below its intrinsic gas, or a
    sender that cannot pay the value it sends (geth's wording)."""
    if spoof.gas < spoof.intrinsic_gas:
        raise InvalidCall(f"intrinsic gas too low: gas {spoof.gas}, need {spoof.intrinsic_gas}")
    if state.get_balance(spoof.sender) < value:
        raise InvalidCall("insufficient funds for transfer")


class TxNotApplicable(Exception):
    """The backend refused a tx at block-building time (nonce, funds, gas); state unchanged."""


def _make_chain_class(chain_id: int) -> type[MiningChain]:
    vm_config = ConsensusApplier(NoProofConsensus).amend_vm_configuration(((0, make_vm_class()),))

    class TestbedChain(MiningChain):
        vm_configuration = vm_config

        def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
            # A constant gas limit keeps congestion experiments controlled: the limit is a
            # scenario parameter, not something the block producer votes on.
            header_params["gas_limit"] = parent_header.gas_limit
            return super().create_header_from_parent(parent_header, **header_params)

    TestbedChain.chain_id = chain_id
    return TestbedChain


class PyEVMBackend:
    """py-evm (Prague) chain driven block by block by the project's own builder."""

    name = "py-evm"

    def __init__(
        self,
        *,
        chain_id: int,
        alloc: Mapping[Address, int],
        genesis_timestamp: int,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        base_fee: int = INITIAL_BASE_FEE,
        genesis_mix_hash: bytes = b"\x00" * 32,
    ) -> None:
        self.chain_id = chain_id
        genesis_params = {
            "coinbase": ZERO_ADDRESS,
            "difficulty": 0,
            "extra_data": b"agent-testbed",
            "gas_limit": gas_limit,
            "mix_hash": genesis_mix_hash,
            "nonce": b"\x00" * 8,
            "receipt_root": BLANK_ROOT_HASH,
            "timestamp": genesis_timestamp,
            "transaction_root": BLANK_ROOT_HASH,
            "base_fee_per_gas": base_fee,
        }
        genesis_state = genesis_alloc(alloc)  # the funded accounts and the system contracts
        # py-evm's abstract API types do not cover the MiningChain/VM internals this module
        # drives (header, persist_block, the VM's state slot), so the handles are Any here.
        self._chain: Any = _make_chain_class(chain_id).from_genesis(
            AtomicDB(), cast(Any, genesis_params), cast(Any, genesis_state)
        )
        self._head_vm: Any = None
        # One fork (Prague) for the chain's whole life: one transaction builder serves all.
        self._tx_builder: Any = self._chain.get_vm().get_transaction_builder()
        # Read-only states for calls, and call results, by block hash: a block's post-state
        # never changes, so one state serves every call at that block, its caches warm (each
        # call runs inside a journal snapshot it reverts), and the same call gives the same
        # result. Keyed by block hash, a revert or a new head needs no care.
        self._call_states: BoundedMemo[bytes, StateAPI] = BoundedMemo(CALL_STATES)
        self._call_results: BoundedMemo[tuple[Any, ...], CallResult] = BoundedMemo(CALL_RESULTS)
        self._evm_txs: BoundedMemo[bytes, SignedTransactionAPI] = BoundedMemo(EVM_TXS)
        self._block_raws: BoundedMemo[bytes, tuple[bytes, ...]] = BoundedMemo(CALL_STATES)

    # -- head reads ------------------------------------------------------------------------

    @property
    def _head_state(self) -> StateAPI:
        if self._head_vm is None:
            self._head_vm = self._chain.get_vm(latest_header(self._chain))
        return self._head_vm.state

    def nonce(self, address: Address) -> int:
        return self._head_state.get_nonce(canonical(address))

    def balance(self, address: Address, block_number: int | None = None) -> int:
        """Wei held at the head, or after canonical block ``block_number`` (geth's
        ``eth_getBalance`` at a block number).

        Raises:
            UnknownBlock: no block ``block_number``.
        """
        if block_number is None:
            return self._head_state.get_balance(canonical(address))
        return self._call_state(self.header_at(block_number)).get_balance(canonical(address))

    def header_at(self, block_number: int | None) -> Any:
        """py-evm's header of canonical block ``block_number``; None: the head's, with the
        state root cheat codes wrote since it sealed.

        Raises:
            UnknownBlock: no block ``block_number``.
        """
        if block_number is None:
            return latest_header(self._chain)
        if not 0 <= block_number <= self.head_number:
            raise UnknownBlock(f"no block {block_number}")
        return self._chain.get_canonical_block_header_by_number(block_number)

    def code(self, address: Address) -> bytes:
        return bytes(self._head_state.get_code(canonical(address)))

    def storage_at(self, address: Address, slot: int) -> int:
        return self._head_state.get_storage(canonical(address), slot)

    @property
    def head_number(self) -> int:
        return self._chain.get_canonical_head().block_number

    def head(self) -> SealedBlock:
        return self.block_by_number(self.head_number)

    def block_by_number(self, number: int) -> SealedBlock:
        try:
            return self._sealed(self._chain.get_canonical_block_by_number(number))
        except (BlockNotFound, HeaderNotFound) as err:
            raise UnknownBlock(f"no block {number}") from err

    def raw_transaction(self, number: int, index: int) -> bytes:
        """Encoded bytes of the ``index``-th transaction of canonical block ``number``.

        A block's txs are decoded together and asked for one by one, so they are remembered.
        """
        header = self._chain.get_canonical_block_header_by_number(number)
        chaindb = self._chain.chaindb
        raws = self._block_raws.get_or_make(
            bytes(header.hash), lambda: block_tx_bytes(chaindb.db, header.transaction_root)
        )
        return raws[index]

    def next_base_fee(self) -> int:
        """Base fee of the block that would be built on the current head."""
        return self._chain.header.base_fee_per_gas

    @staticmethod
    def _sealed(block: Any) -> SealedBlock:
        header = block.header
        details = HeaderDetails(
            state_root=bytes(header.state_root),
            transactions_root=bytes(header.transaction_root),
            receipts_root=bytes(header.receipt_root),
            withdrawals_root=bytes(header.withdrawals_root),
            extra_data=bytes(header.extra_data),
            blob_gas_used=header.blob_gas_used,
            excess_blob_gas=header.excess_blob_gas,
            parent_beacon_block_root=bytes(header.parent_beacon_block_root),
            requests_hash=bytes(header.requests_hash),
            size=len(rlp.encode(block)),
        )
        return SealedBlock(
            number=header.block_number,
            hash=bytes(header.hash),
            parent_hash=bytes(header.parent_hash),
            timestamp=header.timestamp,
            base_fee=header.base_fee_per_gas,
            gas_limit=header.gas_limit,
            gas_used=header.gas_used,
            coinbase=to_checksum_address(header.coinbase),
            prev_randao=bytes(header.mix_hash),
            details=details,
        )

    # -- block building --------------------------------------------------------------------

    def open_block(self, *, timestamp: int, coinbase: Address, mix_hash: bytes) -> BlockSession:
        """Start building the next block on the canonical head.

        ``mix_hash`` is the block's prevrandao: it goes into the header before any tx runs, so
        ``PREVRANDAO`` inside the block's txs reads what the sealed header shows.
        """
        return BlockSession(self, timestamp=timestamp, coinbase=coinbase, mix_hash=mix_hash)

    def _evm_tx(self, tx: Transaction) -> SignedTransactionAPI:
        """py-evm's object for ``tx``, given the sender admission already recovered.

        py-evm would recover the sender from the signature once more; its ``sender`` is a
        cached property, so the recovered address is put in its place.
        """
        evm_tx = self._evm_txs.get(tx.hash)
        if evm_tx is None:
            evm_tx = self._tx_builder.decode(tx.raw)
            evm_tx.__dict__["sender"] = canonical(tx.sender)
            self._evm_txs.put(tx.hash, evm_tx)
        return evm_tx

    # -- calls -----------------------------------------------------------------------------

    def _spoof(
        self,
        sender: Address,
        to: Address | None,
        data: bytes,
        value: int,
        gas: int,
        state: StateAPI | None = None,
        auths: Sequence[Authorization] = (),
    ) -> SpoofTransaction:
        """A fee-less tx from ``sender``; a set-code one (py-evm applies ``auths``) if given."""
        state = state or self._head_state
        sender_b, to_b = canonical(sender), canonical(to) if to else b""
        nonce = state.get_nonce(sender_b)
        if not auths:
            unsigned = self._tx_builder.create_unsigned_transaction(
                nonce=nonce, gas_price=0, gas=gas, to=to_b, value=value, data=data
            )
            return SpoofTransaction(unsigned, from_=sender_b)
        evm_auths = [
            {"chain_id": a.chain_id, "address": canonical(a.address), "nonce": a.nonce}
            | {"y_parity": a.y_parity, "r": a.r, "s": a.s}
            for a in auths
        ]
        unsigned = self._tx_builder.new_unsigned_set_code_transaction(
            self.chain_id, nonce, 0, 0, gas, to_b, value, data, [], evm_auths
        )
        return SpoofTransaction(unsigned, from_=sender_b, type_id=4)

    def call(
        self,
        *,
        sender: Address,
        to: Address | None,
        data: bytes,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
        auths: Sequence[Authorization] = (),
    ) -> CallResult:
        """Execute against the head state (or canonical block ``block_number``'s post-state)
        and throw the changes away; with ``auths``, as a set-code tx carrying them."""
        head = self.header_at(block_number)
        key = (bytes(head.hash), sender, to, data, value, gas, tuple(auths))
        known = self._call_results.get(key)
        if known is not None:
            return known
        state = self._call_state(head)
        spoof = self._spoof(sender, to, data, value, gas or head.gas_limit, state, auths)
        check_callable(spoof, state, value)
        snapshot = state.snapshot()
        try:
            # SpoofTransaction stands in for a signed tx; py-evm types do not say so. A set-code
            # spoof is fee-less already (and cannot be copied with a gas price).
            run = state.apply_transaction if auths else state.costless_execute_transaction
            computation = run(cast(SignedTransactionAPI, spoof))
        except ValidationError as err:
            raise InvalidCall(str(err)) from err
        finally:
            state.revert(snapshot)
        return self._call_results.put(
            key,
            CallResult(
                success=not computation.is_error,
                output=bytes(computation.output),
                gas_used=computation.get_gas_used(),
                reverted=computation.is_error and isinstance(computation.error, Revert),
            ),
        )

    def _call_state(self, head: Any) -> StateAPI:
        """Head post-state in the head block's own context, base fee zeroed (geth's "latest").

        py-evm's ``in_costless_state`` builds a child header stamped with the wall clock, which
        would make views of ``block.timestamp`` depend on when the code runs. The state is
        built once per block and reused (callers leave it as they found it: snapshot, revert).
        """
        return self._call_states.get_or_make(bytes(head.hash), lambda: self._build_call_state(head))

    def _build_call_state(self, head: Any) -> StateAPI:
        vm = self._chain.get_vm(head)
        return vm.build_state(
            self._chain.chaindb.db,
            head.copy(base_fee_per_gas=0),
            vm.chain_context,
            vm.previous_hashes,
        )

    def estimate_gas(
        self,
        *,
        sender: Address,
        to: Address | None,
        data: bytes,
        value: int = 0,
        auths: Sequence[Authorization] = (),
    ) -> CallResult:
        """Smallest gas limit at which the call succeeds (binary search), or the failing call.

        The limit is at least the EIP-7623 calldata floor, so a tx signed with it is admitted.
        """
        head = self._chain.get_canonical_head()
        cap = head.gas_limit
        attempt = functools.partial(
            self.call, sender=sender, to=to, data=data, value=value, auths=auths
        )
        first = attempt(gas=cap)
        if not first.success:
            return first
        # Gas used (which excludes intrinsic gas) is not a safe lower bound: refunds and the
        # 63/64 rule can make the needed limit larger. Search from the intrinsic gas up.
        intrinsic = self._spoof(sender, to, data, value, cap, None, auths).intrinsic_gas
        low, high = intrinsic - 1, cap
        while high - low > 1:
            mid = (low + high) // 2
            if attempt(gas=mid).success:
                high = mid
            else:
                low = mid
        # py-evm charges the EIP-7623 floor after execution but does not make the gas limit
        # cover it; the pool (as geth's) refuses a limit below the floor.
        needed = max(high, data_floor_gas(data))
        if needed > cap:
            return CallResult(success=False, output=b"", gas_used=needed)
        return CallResult(success=True, output=first.output, gas_used=needed)

    def replay(self, number: int, txs: Sequence[Transaction]) -> tuple[ExecutionResult | None, ...]:
        """Apply ``txs`` in order on block ``number``'s parent state, in block ``number``'s
        own context (timestamp, coinbase, base fee, prevrandao, gas limit), as its builder did,
        and throw the changes away; None for a tx the block could not have included (nonce,
        funds, fee cap below the base fee, or not enough gas left in the block).
        """
        if not 1 <= number <= self.head_number:
            raise UnknownBlock(f"no block {number} with a parent to replay on")
        block = self._chain.get_canonical_block_header_by_number(number)
        parent = self._chain.get_canonical_block_header_by_number(number - 1)
        # The block's header with the parent's post-state and nothing used yet: what the
        # builder's session started from. The VM's in-memory state is never persisted.
        header = block.copy(state_root=parent.state_root, gas_used=0, bloom=0)
        vm: Any = self._chain.get_vm(header)
        # The system calls, as the builder's session (they read the header only: the block's
        # txs are not decoded).
        vm.block_preprocessing(vm.get_block_class()(header))
        results: list[ExecutionResult | None] = []
        for tx in map(self._evm_tx, txs):
            coinbase_before = vm.state.get_balance(header.coinbase)
            try:
                receipt, computation = vm.apply_transaction(header, tx)
            except ValidationError:
                results.append(None)
                continue
            created = None
            if not tx.to and not computation.is_error:
                created = contract_address_for(checksum(tx.sender), tx.nonce)
            delta = vm.state.get_balance(header.coinbase) - coinbase_before
            results.append(_execution_result(receipt, computation, header.gas_used, created, delta))
            header = vm.add_receipt_to_header(header, receipt)
        return tuple(results)

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The head's hash and the state root the next block builds on (see statewrites)."""
        return bytes(self._chain.get_canonical_head().hash) + bytes(self._chain.header.state_root)

    def revert(self, snapshot: bytes) -> None:
        header = self._chain.get_block_header_by_hash(snapshot[:32])
        chaindb = self._chain.chaindb
        # Same move eth-tester makes: point the canonical head back at the snapshot's block.
        chaindb._set_as_canonical_chain_head(chaindb.db, header, GENESIS_PARENT_HASH)
        pending = self._chain.create_header_from_parent(header)
        self._chain.header = pending.copy(state_root=snapshot[32:])
        self._head_vm = None


@dataclass(frozen=True, slots=True)
class Branch:
    """What :meth:`BlockSession.rollback` undid: the state and txs after its checkpoint."""

    checkpoint: tuple[bytes, Any, int, int]
    state: Any
    header: Any
    txs: list[Any]
    receipts: list[Any]


class BlockSession:
    """One block under construction: apply, checkpoint/rollback (and resume), seal."""

    def __init__(
        self, backend: PyEVMBackend, *, timestamp: int, coinbase: Address, mix_hash: bytes
    ) -> None:
        chain = backend._chain
        self._backend = backend
        self._coinbase_b = canonical(coinbase)
        self.coinbase = to_checksum_address(coinbase)
        # The execution context is built from this header: the txs see its mix_hash.
        self._header = chain.header.copy(
            timestamp=timestamp, coinbase=self._coinbase_b, mix_hash=mix_hash
        )
        self._vm: Any = chain.get_vm(self._header)
        # EIP-4788 / EIP-2935 system calls, before any tx (py-evm's block pre-processing).
        self._vm.block_preprocessing(self._vm.get_block())
        self._txs: list[SignedTransactionAPI] = []
        self._receipts: list[Any] = []
        self.number: int = self._header.block_number
        self.base_fee: int = self._header.base_fee_per_gas
        self.gas_limit: int = self._header.gas_limit

    @property
    def gas_used(self) -> int:
        return self._header.gas_used

    @property
    def gas_remaining(self) -> int:
        return self.gas_limit - self._header.gas_used

    @property
    def tx_count(self) -> int:
        return len(self._txs)

    def nonce(self, address: Address) -> int:
        return self._vm.state.get_nonce(canonical(address))

    def balance(self, address: Address) -> int:
        return self._vm.state.get_balance(canonical(address))

    def apply(self, tx: Transaction) -> ExecutionResult:
        """Apply ``tx`` on top of the block so far.

        Raises:
            TxNotApplicable: wrong nonce, too little balance, gas beyond the block's remaining
                gas or a fee cap below the base fee. Nothing changed.
        """
        state = self._vm.state
        sender_b = canonical(tx.sender)
        if tx.gas > self.gas_remaining:
            raise TxNotApplicable("gas limit reached")
        if tx.max_fee_per_gas < self.base_fee:
            raise TxNotApplicable("max fee per gas less than block base fee")
        if state.get_nonce(sender_b) != tx.nonce:
            raise TxNotApplicable("nonce mismatch")
        if state.get_balance(sender_b) < tx.max_cost():
            raise TxNotApplicable("insufficient funds for gas * price + value")
        evm_tx = self._backend._evm_tx(tx)
        coinbase_before = state.get_balance(self._coinbase_b)
        receipt, computation = self._vm.apply_transaction(self._header, evm_tx)
        prev_cumulative = self._header.gas_used
        self._header = self._vm.add_receipt_to_header(self._header, receipt)
        self._txs.append(evm_tx)
        self._receipts.append(receipt)
        return self._result(tx, receipt, computation, prev_cumulative, coinbase_before)

    def _result(
        self,
        tx: Transaction,
        receipt: Any,
        computation: ComputationAPI,
        prev_cumulative: int,
        coinbase_before: int,
    ) -> ExecutionResult:
        created = None
        if tx.to is None and not computation.is_error:
            created = contract_address_for(tx.sender, tx.nonce)
        delta = self._vm.state.get_balance(self._coinbase_b) - coinbase_before
        return _execution_result(receipt, computation, prev_cumulative, created, delta)

    # Checkpoints: py-evm's journal cannot roll back across transactions (each tx locks the
    # storage journal), so a checkpoint persists the state trie and a rollback rebuilds the
    # state from that root. Trie nodes are content-addressed: persisting is harmless.
    def checkpoint(self) -> tuple[bytes, Any, int, int]:
        self._vm.state.persist()
        return (self._vm.state.state_root, self._header, len(self._txs), len(self._receipts))

    def rollback(self, checkpoint: tuple[bytes, Any, int, int]) -> Branch:
        """Undo everything since ``checkpoint``; return what was undone (see :meth:`resume`)."""
        root, header, n_txs, n_receipts = checkpoint
        undone = Branch(
            checkpoint,
            self._vm._state,
            self._header,
            self._txs[n_txs:],
            self._receipts[n_receipts:],
        )
        del self._txs[n_txs:]
        del self._receipts[n_receipts:]
        self._header = header
        vm = self._vm
        vm._state = vm.build_state(
            vm.chaindb.db,
            self._header.copy(state_root=root),
            vm.chain_context,
            vm.previous_hashes,
        )
        return undone

    def resume(self, branch: Branch) -> None:
        """Redo what a rollback undid, without executing it again: the builder simulates each
        bundle at the top of the block and keeps the first bundle it includes as simulated.

        Raises:
            ValueError: Something was applied since that rollback (the undone state no longer
                follows from the session's).
        """
        _root, header, n_txs, _ = branch.checkpoint
        if self._header is not header or len(self._txs) != n_txs:
            raise ValueError("the session moved since the rollback: cannot resume that branch")
        self._vm._state = branch.state
        self._header = branch.header
        self._txs.extend(branch.txs)
        self._receipts.extend(branch.receipts)

    def seal(self) -> SealedBlock:
        """Finish the block: persist it as the new canonical head (mix_hash set at opening)."""
        vm = self._vm
        mined = assemble_block(vm, self._header, self._txs, self._receipts)
        chain = self._backend._chain
        chain.validate_block(mined)  # Chain.persist_block, without reading every new
        chain.chaindb.persist_block(mined)  # canonical block back from the db (unused)
        chain.header = chain.create_header_from_parent(mined.header)
        # This block's state is the new head's post-state, its read caches warm with every
        # account the block touched: head reads (nonces, balances) go to it, not a cold copy.
        warm = vm.state.state_root == mined.header.state_root
        self._backend._head_vm = vm if warm else None
        return self._backend._sealed(mined)
