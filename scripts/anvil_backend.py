"""Prototype: anvil (over loopback JSON-RPC) behind the backend interface ``Chain`` drives.

An evaluation artifact for ``scripts/eval_native_evm.py`` and ``docs/native-evm.md``, not a
shipped backend: it did not meet the bar (identical results, flagship 2x faster). It implements
what block building, reads and snapshots need, the way anvil's API allows:

- **Per-transaction results while building.** anvil executes a tx only by mining it, so
  ``apply`` mines each tx into a provisional one-tx block (base fee pinned to the block's with
  ``anvil_setNextBlockBaseFeePerGas``, same timestamp) and reads its receipt; ``seal`` reverts
  to the block's start (``evm_revert``) and mines the kept txs again as the one real block.
  Every tx therefore runs twice, and inside a provisional block ``NUMBER`` reads the block
  number plus the tx's index. anvil runs a JSON-RPC batch's calls concurrently, so the
  ordered steps (pin fee, send, mine) are separate round trips.
- **Bundle atomicity**: ``checkpoint``/``rollback`` are ``evm_snapshot``/``evm_revert``.
- **Calls at past blocks**: ``eth_call`` with the block number; head reads are RPC reads.
- **Snapshots of the chain**: ``evm_snapshot``/``evm_revert`` (both consume, as ``Chain``'s).
- **Seeded determinism: only in part.** Runs repeat exactly (anvil derives each block's
  ``mixHash`` deterministically), but the prevrandao is anvil's, not ``prev_randao(seed, n)``,
  and no method sets it: ``PREVRANDAO`` reads and every block hash differ from the py-evm
  backend's, and the seed does not vary them.

- **Replays** (counterfactual blocks for the reports' victim-loss measure): ``eth_simulateV1``
  on the parent block with the block's context as overrides. It does not report balances, so
  a replayed tx's coinbase payment counts its tip only (receipts do not carry it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests"))  # anvilkit: finding and starting the npm-installed binary

from anvilkit import AnvilRpcError, genesis, running_anvil  # noqa: E402

from agentbed.chain import node  # noqa: E402
from agentbed.chain.addresses import checksum  # noqa: E402
from agentbed.chain.backend import (  # noqa: E402
    DEFAULT_GAS_LIMIT,
    CallResult,
    ExecutionResult,
    RawLog,
    SealedBlock,
    TxNotApplicable,
    contract_address_for,
)
from agentbed.chain.errors import UnknownBlock, UnknownSnapshot  # noqa: E402
from agentbed.chain.fees import INITIAL_BASE_FEE, data_floor_gas, next_base_fee  # noqa: E402
from agentbed.chain.types import Address, HeaderDetails, Transaction  # noqa: E402


def _int(value: str) -> int:
    return int(value, 16)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _raw_log(lg: Mapping[str, Any]) -> RawLog:
    return RawLog(
        address=checksum(lg["address"]),
        topics=tuple(bytes.fromhex(t[2:]) for t in lg["topics"]),
        data=bytes.fromhex(lg["data"][2:]),
    )


def _call_object(tx: Transaction) -> dict[str, Any]:
    """``tx`` as an ``eth_simulateV1`` call: the signed fields, sender as ``from``."""
    call: dict[str, Any] = {
        "from": tx.sender,
        "nonce": hex(tx.nonce),
        "gas": hex(tx.gas),
        "value": hex(tx.value),
        "input": _hex(tx.data),
    }
    if tx.to is not None:
        call["to"] = tx.to
    if tx.type == 2:
        call["maxFeePerGas"] = hex(tx.max_fee_per_gas)
        call["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
    else:
        call["gasPrice"] = hex(tx.max_fee_per_gas)
    if tx.access_list:
        call["accessList"] = [
            {"address": e.address, "storageKeys": [_hex(k) for k in e.storage_keys]}
            for e in tx.access_list
        ]
    return call


def _sealed(b: Mapping[str, Any]) -> SealedBlock:
    raw = {k: bytes.fromhex(str(b[k])[2:]) for k in ("hash", "parentHash", "mixHash", "extraData")}
    details = HeaderDetails(
        state_root=bytes.fromhex(b["stateRoot"][2:]),
        transactions_root=bytes.fromhex(b["transactionsRoot"][2:]),
        receipts_root=bytes.fromhex(b["receiptsRoot"][2:]),
        withdrawals_root=bytes.fromhex(b["withdrawalsRoot"][2:]),
        extra_data=raw["extraData"],
        blob_gas_used=_int(b["blobGasUsed"]),
        excess_blob_gas=_int(b["excessBlobGas"]),
        parent_beacon_block_root=bytes.fromhex(b["parentBeaconBlockRoot"][2:]),
        requests_hash=bytes.fromhex(b["requestsHash"][2:]),
        size=_int(b["size"]),
    )
    return SealedBlock(
        number=_int(b["number"]),
        hash=raw["hash"],
        parent_hash=raw["parentHash"],
        timestamp=_int(b["timestamp"]),
        base_fee=_int(b["baseFeePerGas"]),
        gas_limit=_int(b["gasLimit"]),
        gas_used=_int(b["gasUsed"]),
        coinbase=checksum(b["miner"]),
        prev_randao=raw["mixHash"],
        details=details,
    )


class AnvilBackend:
    """The backend interface of ``PyEVMBackend``, served by an anvil process."""

    name = "anvil"

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
        del genesis_mix_hash  # anvil takes no mixHash from us: see the module docstring
        self.chain_id = chain_id
        # anvil's block 1 keeps its genesis base fee; ours applies EIP-1559 to genesis.
        self._first_base_fee = next_base_fee(base_fee, 0, gas_limit)
        spec = genesis(
            chain_id=chain_id,
            timestamp=genesis_timestamp,
            gas_limit=gas_limit,
            base_fee=self._first_base_fee,
            coinbase="0x" + "00" * 20,
            alloc=dict(alloc),
        )
        self._stack = ExitStack()
        self.rpc = self._stack.enter_context(running_anvil(spec))
        self._coinbase: str | None = None
        self._head_number = 0
        self._blocks: dict[int, SealedBlock] = {}
        self._snapshots: dict[bytes, str] = {}
        self._reads: dict[tuple[Any, ...], str] = {}

    def close(self) -> None:
        """Stop the anvil process."""
        self._stack.close()

    # -- head reads ----------------------------------------------------------------------------

    # Head reads are remembered until the head changes (seal, revert): admission reads the
    # same senders' nonces and balances many times a block, and each read is a round trip.
    def _read(self, method: str, *params: Any) -> str:
        key = (method, *params)
        if key not in self._reads:
            self._reads[key] = self.rpc.call(method, *params, "latest")
        return self._reads[key]

    def nonce(self, address: Address) -> int:
        return _int(self._read("eth_getTransactionCount", address))

    def balance(self, address: Address, block_number: int | None = None) -> int:
        if block_number is None:
            return _int(self._read("eth_getBalance", address))
        return _int(self.rpc.call("eth_getBalance", address, self._tag(block_number)))

    def code(self, address: Address) -> bytes:
        return bytes.fromhex(self._read("eth_getCode", address)[2:])

    def storage_at(self, address: Address, slot: int) -> int:
        return _int(self._read("eth_getStorageAt", address, hex(slot)))

    @property
    def head_number(self) -> int:
        return self._head_number

    def head(self) -> SealedBlock:
        return self.block_by_number(self._head_number)

    def block_by_number(self, number: int) -> SealedBlock:
        if not 0 <= number <= self._head_number:
            raise UnknownBlock(f"no block {number}")
        if number not in self._blocks:
            self._blocks[number] = _sealed(
                self.rpc.call("eth_getBlockByNumber", hex(number), False)
            )
        return self._blocks[number]

    def raw_transaction(self, number: int, index: int) -> bytes:
        raw = self.rpc.call("eth_getRawTransactionByBlockNumberAndIndex", hex(number), hex(index))
        return bytes.fromhex(raw[2:])

    def next_base_fee(self) -> int:
        if self._head_number == 0:
            return self._first_base_fee
        head = self.head()
        return next_base_fee(head.base_fee, head.gas_used, head.gas_limit)

    def _tag(self, block_number: int) -> str:
        if not 0 <= block_number <= self._head_number:
            raise UnknownBlock(f"no block {block_number}")
        return hex(block_number)

    # -- building ------------------------------------------------------------------------------

    def open_block(self, *, timestamp: int, coinbase: Address, mix_hash: bytes) -> AnvilSession:
        if coinbase != self._coinbase:
            self.rpc.call("anvil_setCoinbase", coinbase)
            self._coinbase = coinbase
        return AnvilSession(self, timestamp=timestamp, coinbase=coinbase)

    def _sealed_head(self, number: int) -> SealedBlock:
        self._head_number = number
        self._reads.clear()
        self._blocks.pop(number, None)
        return self.head()

    # -- calls ---------------------------------------------------------------------------------

    def call(
        self,
        *,
        sender: Address,
        to: Address | None,
        data: bytes,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
    ) -> CallResult:
        tag = "latest" if block_number is None else self._tag(block_number)
        params: dict[str, Any] = {"from": sender, "data": _hex(data), "value": hex(value)}
        if to is not None:
            params["to"] = to
        if gas:
            params["gas"] = hex(gas)
        try:
            out = self.rpc.call("eth_call", params, tag)
        except AnvilRpcError as err:
            # anvil puts a revert's data in the error; other failures (out of gas) have none
            revert_hex = err.error.get("data")
            revert = bytes.fromhex(revert_hex[2:]) if isinstance(revert_hex, str) else b""
            return CallResult(False, revert, 0, reverted="revert" in str(err.error.get("message")))
        return CallResult(True, bytes.fromhex(out[2:]), 0)

    def estimate_gas(
        self, *, sender: Address, to: Address | None, data: bytes, value: int = 0
    ) -> CallResult:
        params: dict[str, Any] = {"from": sender, "data": _hex(data), "value": hex(value)}
        if to is not None:
            params["to"] = to
        try:
            gas = _int(self.rpc.call("eth_estimateGas", params, "latest"))
        except AnvilRpcError:
            return self.call(sender=sender, to=to, data=data, value=value)
        return CallResult(True, b"", max(gas, data_floor_gas(data)))

    def replay(self, number: int, txs: Sequence[Transaction]) -> tuple[ExecutionResult | None, ...]:
        """``PyEVMBackend.replay`` through ``eth_simulateV1`` on the parent block, with block
        ``number``'s context as overrides. A tx the block could not have included is left out
        (None): a nonce out of turn or a fee cap below the base fee (checked here: anvil's
        simulateV1 does not check nonces), or what anvil's validation refuses (funds) or more
        gas than is left. One request when every tx fits, else one per tx to find the misfits
        (simulateV1 refuses a whole request for one bad call)."""
        if not 1 <= number <= self._head_number:
            raise UnknownBlock(f"no block {number} with a parent to replay on")
        block = self.block_by_number(number)
        senders = sorted({tx.sender for tx in txs})
        counts = self.rpc.batch(
            [("eth_getTransactionCount", (s, hex(number - 1))) for s in senders]
        )
        start = {s: _int(c) for s, c in zip(senders, counts, strict=True)}

        def in_turn(kept: list[int]) -> list[int]:
            nonces, out = dict(start), []
            for i in kept:
                tx = txs[i]
                if tx.nonce == nonces[tx.sender] and tx.max_fee_per_gas >= block.base_fee:
                    nonces[tx.sender] += 1
                    out.append(i)
            return out

        kept = in_turn(list(range(len(txs))))
        if self._simulate(block, [txs[k] for k in kept]) is None:
            kept = []
            for i in range(len(txs)):
                trial = in_turn([*kept, i])
                if len(trial) > len(kept) and self._simulate(block, [txs[k] for k in trial]):
                    kept = trial
        results: list[ExecutionResult | None] = [None] * len(txs)
        for k, result in zip(
            kept, self._simulate(block, [txs[k] for k in kept]) or [], strict=True
        ):
            results[k] = result
        return tuple(results)

    def _simulate(
        self, block: SealedBlock, txs: Sequence[Transaction]
    ) -> list[ExecutionResult] | None:
        """Results of ``txs`` in one simulated block like ``block``; None if any is refused."""
        if not txs:
            return []
        overrides = {
            "number": hex(block.number),
            "time": hex(block.timestamp),
            "gasLimit": hex(block.gas_limit),
            "feeRecipient": block.coinbase,
            "prevRandao": _hex(block.prev_randao),
            "baseFeePerGas": hex(block.base_fee),
        }
        calls = [_call_object(tx) for tx in txs]
        request = {"blockStateCalls": [{"blockOverrides": overrides, "calls": calls}]}
        try:
            (simulated,) = self.rpc.call(
                "eth_simulateV1", {**request, "validation": True}, hex(block.number - 1)
            )
        except AnvilRpcError:
            return None
        out, used = [], 0
        for tx, res in zip(txs, simulated["calls"], strict=True):
            gas = _int(res["gasUsed"])
            if used + tx.gas > block.gas_limit:
                return None
            used += gas
            ok = _int(res["status"]) == 1
            created = None
            if ok and tx.to is None:
                created = contract_address_for(tx.sender, tx.nonce)
            out.append(
                ExecutionResult(
                    status=int(ok),
                    gas_used=gas,
                    cumulative_gas_used=used,
                    logs=tuple(_raw_log(lg) for lg in res["logs"]),
                    output=bytes.fromhex(res["returnData"][2:]),
                    contract_address=created,
                    # direct payments to the coinbase are not in simulateV1's answer
                    coinbase_balance_delta=gas * tx.effective_tip(block.base_fee),
                )
            )
        return out

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        key = len(self._snapshots).to_bytes(8, "big")
        self._snapshots[key] = self.rpc.call("evm_snapshot")
        return key

    def revert(self, key: bytes) -> None:
        if key not in self._snapshots or not self.rpc.call("evm_revert", self._snapshots.pop(key)):
            raise UnknownSnapshot(f"no anvil snapshot {key.hex()}")
        self._head_number = _int(self.rpc.call("eth_blockNumber"))
        self._reads.clear()
        self._blocks = {n: b for n, b in self._blocks.items() if n <= self._head_number}


class AnvilSession:
    """One block under construction on anvil: provisional one-tx blocks, then the real one."""

    def __init__(self, backend: AnvilBackend, *, timestamp: int, coinbase: Address) -> None:
        self._backend = backend
        self._rpc = backend.rpc
        self._timestamp = timestamp
        self.coinbase = coinbase
        self.number = backend.head_number + 1
        self.base_fee = backend.next_base_fee()
        self.gas_limit = backend.head().gas_limit
        self._start = self._rpc.call("evm_snapshot")
        self._raws: list[bytes] = []
        self._gas_used = 0
        self._coinbase_balance = backend.balance(coinbase)

    @property
    def gas_used(self) -> int:
        return self._gas_used

    @property
    def gas_remaining(self) -> int:
        return self.gas_limit - self._gas_used

    @property
    def tx_count(self) -> int:
        return len(self._raws)

    def nonce(self, address: Address) -> int:
        """Nonce in the block so far (anvil's latest state is the provisional one)."""
        return _int(self._rpc.call("eth_getTransactionCount", address, "latest"))

    def balance(self, address: Address) -> int:
        """Balance in the block so far."""
        return _int(self._rpc.call("eth_getBalance", address, "latest"))

    def apply(self, tx: Transaction) -> ExecutionResult:
        """Mine ``tx`` alone into a provisional block and read its receipt.

        Raises:
            TxNotApplicable: as ``BlockSession.apply``; nothing sent.
        """
        if tx.gas > self.gas_remaining:
            raise TxNotApplicable("gas limit reached")
        if tx.max_fee_per_gas < self.base_fee:
            raise TxNotApplicable("max fee per gas less than block base fee")
        nonce, balance = self._rpc.batch(
            [
                ("eth_getTransactionCount", (tx.sender, "latest")),
                ("eth_getBalance", (tx.sender, "latest")),
            ]
        )
        if _int(nonce) != tx.nonce:
            raise TxNotApplicable("nonce mismatch")
        if _int(balance) < tx.max_cost():
            raise TxNotApplicable("insufficient funds for gas * price + value")
        self._rpc.call("anvil_setNextBlockBaseFeePerGas", hex(self.base_fee))
        tx_hash = self._rpc.call("eth_sendRawTransaction", _hex(tx.raw))
        self._rpc.call("evm_mine", self._timestamp)
        receipt, coinbase_balance = self._rpc.batch(
            [
                ("eth_getTransactionReceipt", (tx_hash,)),
                ("eth_getBalance", (self.coinbase, "latest")),
            ]
        )
        return self._result(tx, receipt, _int(coinbase_balance))

    def _result(
        self, tx: Transaction, receipt: Mapping[str, Any], coinbase: int
    ) -> ExecutionResult:
        gas = _int(receipt["gasUsed"])
        status = _int(receipt["status"])
        output = b""
        if status == 0:  # the revert data is only in a trace
            trace = self._rpc.call(
                "debug_traceTransaction", receipt["transactionHash"], {"tracer": "callTracer"}
            )
            output = bytes.fromhex(str(trace.get("output", "0x"))[2:])
        self._raws.append(tx.raw)
        self._gas_used += gas
        delta, self._coinbase_balance = coinbase - self._coinbase_balance, coinbase
        created = receipt["contractAddress"]
        logs = tuple(_raw_log(lg) for lg in receipt["logs"])
        return ExecutionResult(
            status=status,
            gas_used=gas,
            cumulative_gas_used=self._gas_used,
            logs=logs,
            output=output,
            contract_address=checksum(created) if created else None,
            coinbase_balance_delta=delta,
        )

    def checkpoint(self) -> tuple[str, int, int, int]:
        snap = self._rpc.call("evm_snapshot")
        return (snap, len(self._raws), self._gas_used, self._coinbase_balance)

    def rollback(self, checkpoint: tuple[str, int, int, int]) -> None:
        snap, n_raws, self._gas_used, self._coinbase_balance = checkpoint
        self._rpc.call("evm_revert", snap)
        del self._raws[n_raws:]

    def seal(self) -> SealedBlock:
        """Drop the provisional blocks and mine the kept txs, in order, as the real block."""
        self._rpc.call("evm_revert", self._start)
        for raw in self._raws:  # anvil's --order fifo keeps this order in the block
            self._rpc.call("eth_sendRawTransaction", _hex(raw))
        self._rpc.call("anvil_setNextBlockBaseFeePerGas", hex(self.base_fee))
        self._rpc.call("evm_mine", self._timestamp)
        sealed = self._backend._sealed_head(self.number)
        if sealed.gas_used != self._gas_used:
            raise RuntimeError(f"block {self.number}: sealed gas {sealed.gas_used} != built")
        return sealed


@contextmanager
def anvil_backend() -> Iterator[list[AnvilBackend]]:
    """While open, every new ``Chain`` runs on an anvil backend (listed, and stopped on exit)."""
    started: list[AnvilBackend] = []
    original = node.PyEVMBackend

    def make(**kwargs: Any) -> AnvilBackend:
        backend = AnvilBackend(**kwargs)
        started.append(backend)
        return backend

    node.PyEVMBackend = make  # type: ignore[assignment,misc]
    try:
        yield started
    finally:
        node.PyEVMBackend = original  # type: ignore[misc]
        for backend in started:
            backend.close()
