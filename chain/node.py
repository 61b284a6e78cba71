"""``Chain``: the one front object users and agents talk to.

It owns the backend (py-evm), the mempool, the ordering policy, the builder, the simulated clock
and the latency model, and keeps the records (blocks, receipts, logs) an experiment needs::

    chain = Chain(seed=7)
    token = chain.deploy("MockERC20", "Agent", "AGT")
    h = chain.transact(chain.accounts[0], token.functions.mint(chain.accounts[1].address, 10))
    chain.receipt(h).status  # 1

Everything is deterministic given the seed and the inputs: account keys, genesis time, block
timestamps, prevrandao and the ordering policy's random choices.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from agentbed.chain.abi import AbiRegistry
from agentbed.chain.backend import PyEVMBackend
from agentbed.chain.builder import BlockBuilder, BuildResult
from agentbed.chain.clock import SimClock
from agentbed.chain.errors import (
    BundleRejected,
    ExecutionReverted,
    GasEstimationFailed,
    GasLimitExceeded,
    IntrinsicGasTooLow,
    TipAboveFeeCap,
    TxRejected,
    UnknownBlock,
    UnknownContract,
    UnknownSnapshot,
    UnknownTransaction,
)
from agentbed.chain.fees import INITIAL_BASE_FEE, required_gas
from agentbed.chain.interfaces import HeadInfo, LatencyModel, OrderingPolicy, PoolConfig
from agentbed.chain.latency import ConstantLatency, visible_txs
from agentbed.chain.mempool import Mempool
from agentbed.chain.ordering import PriorityFeePolicy
from agentbed.chain.records import block_receipts, block_record
from agentbed.chain.txcodec import decode_transaction
from agentbed.chain.types import Address, Block, Bundle, Log, PoolTx, Receipt, Transaction, TxFate

if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract

    from agentbed.chain.compiler import Artifact, Project

BlockListener = Callable[[Block, tuple[Receipt, ...], tuple[Transaction, ...]], None]

DEFAULT_BALANCE = 10_000 * 10**18
BUILDER = "builder"
"""Observer id of the block builder in latency models."""
GWEI = 10**9


@dataclass(frozen=True, slots=True)
class _Snapshot:
    backend: bytes
    mempool: Mempool
    clock: SimClock
    n_blocks: int
    bundles: tuple[Bundle, ...]
    seq: int
    automine: bool
    policy: OrderingPolicy
    latency: LatencyModel
    coinbase: Address
    next_block_time_ms: int | None
    deployments: tuple[tuple[Address, str], ...]


class Chain:
    """A local chain whose mempool ordering is an experimental variable.

    Args:
        seed: Root seed. Account keys, prevrandao and the policy's per-block RNG derive from it.
        accounts: How many funded accounts to create.
        balance: Genesis balance of each account in wei.
        mnemonic: Derive accounts from this BIP-39 mnemonic instead of the seed.
        chain_id: EIP-155 chain id; txs signed for another id are rejected.
        gas_limit: Block gas limit (constant; the congestion knob).
        base_fee: Genesis base fee in wei; later blocks follow EIP-1559.
        block_interval_ms: Simulated time between blocks.
        genesis_ms: Simulated time of genesis (ms since the epoch).
        policy: Ordering policy for the public mempool (default: priority fee).
        latency: When a pending tx becomes visible to each observer (default: instantly).
        automine: Mine a block after every accepted submit (unit-test convenience).
        pool_config: Mempool limits (geth's defaults).
        coinbase: Fee recipient of built blocks.
        alloc: Extra genesis balances ``{address: wei}``.
        project_root: A directory in the project whose contracts ``deploy("Name")`` finds (the
            nearest ``pyproject.toml`` with a ``[tool.agentbed]`` table above it; none there is
            an error). Default: the project above the current directory, or, outside any
            project, agentbed's own contracts.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        accounts: int = 10,
        balance: int = DEFAULT_BALANCE,
        mnemonic: str | None = None,
        chain_id: int = 1337,
        gas_limit: int = 30_000_000,
        base_fee: int = INITIAL_BASE_FEE,
        block_interval_ms: int = 12_000,
        genesis_ms: int = 1_700_000_000_000,
        policy: OrderingPolicy | None = None,
        latency: LatencyModel | None = None,
        automine: bool = True,
        pool_config: PoolConfig | None = None,
        coinbase: Address = "0x000000000000000000000000000000000000C0FE",
        alloc: Mapping[Address, int] | None = None,
        project_root: str | None = None,
    ) -> None:
        if accounts < 0:
            raise ValueError(f"accounts must be >= 0, got {accounts}")
        self.seed = seed
        self.chain_id = chain_id
        self.accounts: tuple[LocalAccount, ...] = _derive_accounts(seed, accounts, mnemonic)
        genesis: dict[str, int] = {a.address: balance for a in self.accounts}
        genesis.update({to_checksum_address(k): v for k, v in (alloc or {}).items()})
        self.clock = SimClock(genesis_ms=genesis_ms, block_interval_ms=block_interval_ms)
        self.backend = PyEVMBackend(
            chain_id=chain_id,
            alloc=genesis,
            genesis_timestamp=genesis_ms // 1000,
            gas_limit=gas_limit,
            base_fee=base_fee,
            genesis_mix_hash=self._prev_randao(0),
        )
        self.pool_config = pool_config or PoolConfig(chain_id=chain_id)
        if self.pool_config.chain_id != chain_id:
            self.pool_config = replace(self.pool_config, chain_id=chain_id)
        self.mempool = Mempool(self.pool_config)
        self.policy: OrderingPolicy = policy or PriorityFeePolicy()
        self.latency: LatencyModel = latency or ConstantLatency(0)
        self.automine = automine
        self.coinbase: Address = to_checksum_address(coinbase)
        self.abi = AbiRegistry()
        self._project_root = project_root
        self._project: Project | None = None
        self._artifacts: Any = None
        # "deploy" libraries already on chain: path:Name -> (address, keccak of its code), so a
        # revert that removed one (or put other code there) is noticed and it is deployed again.
        self._libraries: dict[str, tuple[Address, bytes]] = {}
        self._keys = {a.address: a for a in self.accounts}
        self._builder = BlockBuilder()
        self._bundles: list[Bundle] = []
        self._seq = 0
        self._deployments: list[tuple[Address, str]] = []
        self._snapshots: dict[int, _Snapshot] = {}
        self._next_snapshot = 1
        self._w3: Web3 | None = None
        genesis_block = block_record(self.backend.head(), genesis_ms, (), "genesis")
        self._blocks: list[Block] = [genesis_block]
        self._block_receipts: list[tuple[Receipt, ...]] = [()]
        self._tx_index: dict[bytes, tuple[int, int]] = {}
        self._last_build: BuildResult | None = None
        self._next_block_time_ms: int | None = None
        self._block_listeners: list[BlockListener] = []

    # -----------------------------------------------------------------------------------------
    # Time, head, fees
    # -----------------------------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return self.clock.now_ms

    @property
    def block_number(self) -> int:
        return len(self._blocks) - 1

    @property
    def head(self) -> Block:
        return self._blocks[-1]

    @property
    def base_fee(self) -> int:
        """Base fee of the next block (EIP-1559)."""
        return self.backend.next_base_fee()

    @property
    def gas_limit(self) -> int:
        return self.head.gas_limit

    def head_info(self) -> HeadInfo:
        return HeadInfo(block_gas_limit=self.gas_limit, base_fee=self.base_fee)

    @property
    def backend_name(self) -> str:
        """Name of the execution backend (e.g. ``"py-evm"``), for client version strings."""
        return self.backend.name

    def advance_clock_to(self, timestamp_ms: int) -> int:
        """Move the simulated clock forward to ``timestamp_ms``; return the new time.

        Pending transactions become visible to observers as the clock passes their latency;
        the next block is sealed no earlier than the new time.

        Raises:
            ValueError: ``timestamp_ms`` is before the clock's now (time never goes backwards).
        """
        return self.clock.advance_to(timestamp_ms)

    def _prev_randao(self, number: int) -> bytes:
        return keccak(
            b"agent-testbed/prevrandao"
            + self.seed.to_bytes(32, "big", signed=True)
            + number.to_bytes(8, "big")
        )

    def _policy_rng(self, number: int) -> random.Random:
        return random.Random(f"agent-testbed/order/{self.seed}/{number}")

    # -----------------------------------------------------------------------------------------
    # Accounts and state
    # -----------------------------------------------------------------------------------------

    def balance(self, address: Address) -> int:
        return self.backend.balance(to_checksum_address(address))

    def nonce(self, address: Address) -> int:
        """Confirmed nonce (transactions mined so far)."""
        return self.backend.nonce(to_checksum_address(address))

    def pending_nonce(self, address: Address) -> int:
        """Next nonce counting the sender's executable pool transactions."""
        address = to_checksum_address(address)
        return self.mempool.pending_nonce(address, self.backend.nonce(address))

    def code(self, address: Address) -> bytes:
        return self.backend.code(to_checksum_address(address))

    def storage_at(self, address: Address, slot: int) -> int:
        return self.backend.storage_at(to_checksum_address(address), slot)

    def account(self, address: Address) -> LocalAccount:
        try:
            return self._keys[to_checksum_address(address)]
        except KeyError:
            raise UnknownContract(f"no local key for {address}") from None

    # -----------------------------------------------------------------------------------------
    # Submitting
    # -----------------------------------------------------------------------------------------

    def _arrival(self, at_ms: int | None) -> int:
        if at_ms is not None:
            self.clock.advance_to(at_ms)
        return self.clock.now_ms

    def decode(self, raw: bytes) -> Transaction:
        """Decode and signature-check a raw transaction (raises a :class:`TxRejected`)."""
        return decode_transaction(
            bytes(raw),
            chain_id=self.chain_id,
            allow_unprotected=self.pool_config.allow_unprotected,
        )

    def submit(self, raw: bytes, *, origin: str | None = None, at_ms: int | None = None) -> bytes:
        """Put a signed transaction into the mempool and return its hash at once.

        Args:
            raw: The signed transaction bytes.
            origin: Observer id of the submitter; it sees its own tx without latency.
            at_ms: Arrival time on the simulated clock (advances the clock; never backwards).

        Raises:
            TxRejected: a subclass named for geth's rejection reason; nothing changed.
        """
        tx = self.decode(raw)
        arrival = self._arrival(at_ms)
        self.mempool.add(
            tx, state=self.backend, head=self.head_info(), arrival_ms=arrival, origin=origin
        )
        self._seq += 1
        if self.automine:
            self.mine()
        return tx.hash

    def submit_bundle(
        self,
        raw_txs: Sequence[bytes],
        target_block: int | None = None,
        *,
        allowed_to_revert: Iterable[bytes] = (),
        origin: str | None = None,
        at_ms: int | None = None,
    ) -> bytes:
        """Send a private, atomic bundle for ``target_block`` (default: the next block).

        Bundle txs never enter the public mempool, so no observer's view shows them. They are
        included only by a bundles-first policy, all or none, ranked by coinbase payment per gas.

        Returns:
            The bundle id (keccak of the concatenated tx hashes).
        """
        bundle = self._make_bundle(raw_txs, target_block, allowed_to_revert, origin, at_ms)
        self._bundles.append(bundle)
        return bundle.id

    def _make_bundle(
        self,
        raw_txs: Sequence[bytes],
        target_block: int | None,
        allowed_to_revert: Iterable[bytes],
        origin: str | None,
        at_ms: int | None,
    ) -> Bundle:
        if not raw_txs:
            raise BundleRejected("a bundle needs at least one transaction")
        target = self.block_number + 1 if target_block is None else target_block
        if target <= self.block_number:
            raise BundleRejected(
                f"target block {target} is already mined (head is {self.block_number})"
            )
        txs = []
        for i, raw in enumerate(raw_txs):
            try:
                tx = self.decode(raw)
                _check_static(tx, self.gas_limit)
            except TxRejected as err:
                raise BundleRejected(f"bundle tx {i}: {err}") from err
            txs.append(tx)
        hashes = {tx.hash for tx in txs}
        allowed = frozenset(bytes(h) for h in allowed_to_revert)
        if not allowed <= hashes:
            raise BundleRejected("allowed_to_revert names a tx that is not in the bundle")
        arrival = self._arrival(at_ms)
        self._seq += 1
        return Bundle(tuple(txs), target, allowed, arrival, self._seq, origin)

    def simulate_bundle(
        self, raw_txs: Sequence[bytes], *, allowed_to_revert: Iterable[bytes] = ()
    ) -> tuple[tuple[Receipt, ...], str | None]:
        """Receipts the bundle would produce at the top of the next block; changes nothing.

        Returns:
            ``(receipts, failure)``; ``failure`` says why the bundle would be dropped, or None.
        """
        bundle = self._make_bundle(raw_txs, None, allowed_to_revert, None, self.now_ms)
        self._seq -= 1  # simulation must not perturb the arrival counter
        session = self.backend.open_block(
            timestamp=self._next_timestamp(self._next_block_ms()), coinbase=self.coinbase
        )
        results, failure = self._builder.simulate_bundle(session, bundle)
        receipts = block_receipts(
            results,
            number=session.number,
            block_hash=b"\x00" * 32,
            block_ms=self._next_block_ms(),
            base_fee=session.base_fee,
            abi=self.abi,
        )
        return receipts, failure

    def sign(self, account: LocalAccount | Address, tx: Mapping[str, Any]) -> bytes:
        """Sign ``tx`` with a local key, filling chainId, nonce, fees and gas when missing."""
        acct = account if isinstance(account, LocalAccount) else self.account(account)
        fields = dict(tx)
        fields.setdefault("chainId", self.chain_id)
        # Nonce and base fee are state reads: only when the caller did not give the field.
        if "nonce" not in fields:
            fields["nonce"] = self.pending_nonce(acct.address)
        fields.setdefault("value", 0)
        if "gasPrice" not in fields:
            fields.setdefault("maxPriorityFeePerGas", GWEI)
            if "maxFeePerGas" not in fields:
                fields["maxFeePerGas"] = 2 * self.base_fee + fields["maxPriorityFeePerGas"]
            fields.setdefault("type", 2)
        if "gas" not in fields:
            fields["gas"] = self.estimate_gas(
                sender=acct.address,
                to=fields.get("to"),
                data=_as_bytes(fields.get("data", b"")),
                value=fields["value"],
            )
        return bytes(acct.sign_transaction(fields).raw_transaction)

    def transact(
        self,
        account: LocalAccount | Address,
        call: Any = None,
        *,
        to: Address | None = None,
        data: bytes = b"",
        value: int = 0,
        origin: str | None = None,
        **fields: Any,
    ) -> bytes:
        """Sign and submit a transaction from a local account; return its hash.

        ``call`` may be a web3 contract function call (``token.functions.transfer(a, 1)``),
        whose target and calldata are used.
        """
        if call is not None:
            to = call.address
            data = bytes.fromhex(call._encode_transaction_data()[2:])
        tx = {"to": to, "data": data, "value": value, **fields}
        if to is None:
            tx.pop("to")
        return self.submit(self.sign(account, tx), origin=origin)

    # -----------------------------------------------------------------------------------------
    # Mining
    # -----------------------------------------------------------------------------------------

    def _next_block_ms(self) -> int:
        if self._next_block_time_ms is not None:
            return self._next_block_time_ms
        return max(self.clock.now_ms, self.head.timestamp_ms + self.clock.block_interval_ms)

    def set_next_block_time(self, timestamp_ms: int) -> None:
        """Seal the next block at exactly ``timestamp_ms`` (for deadline tests at T-1, T, T+1).

        The header timestamp is ``timestamp_ms // 1000``. Later blocks follow the block interval
        from there.

        Raises:
            ValueError: the time is before the clock's now or its second is not after the head
                block's timestamp (header timestamps must increase).
        """
        if timestamp_ms < self.clock.now_ms:
            raise ValueError(
                f"next block time {timestamp_ms} ms is before the clock ({self.clock.now_ms} ms)"
            )
        if timestamp_ms // 1000 <= self.head.timestamp:
            raise ValueError(
                f"next block timestamp {timestamp_ms // 1000} s must be after the head block's"
                f" {self.head.timestamp} s"
            )
        self._next_block_time_ms = timestamp_ms

    def _next_timestamp(self, block_ms: int) -> int:
        # Header timestamps are whole seconds and must increase; with sub-second block
        # intervals consecutive blocks get consecutive seconds.
        return max(block_ms // 1000, self.head.timestamp + 1)

    def next_block_timestamp(self) -> int:
        """Header timestamp (seconds) the next mined block will get, if mined now.

        Follows the clock, the block interval and :meth:`set_next_block_time`; reading it
        changes nothing.
        """
        return self._next_timestamp(self._next_block_ms())

    def mine(self, n: int = 1) -> tuple[Block, ...]:
        """Build and seal ``n`` blocks, each one block interval after the previous."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return tuple(self._mine_one() for _ in range(n))

    def _mine_one(self) -> Block:
        block_ms = self._next_block_ms()
        self._next_block_time_ms = None
        self.clock.advance_to(block_ms)
        session = self.backend.open_block(
            timestamp=self._next_timestamp(block_ms), coinbase=self.coinbase
        )
        number = session.number
        visible = visible_txs(self.mempool.pending(), BUILDER, block_ms, self.latency)
        bundles = [b for b in self._bundles if b.target_block == number]
        policy = self.policy
        build = self._builder.build(
            session,
            pending=visible,
            bundles=bundles,
            policy=policy,
            rng=self._policy_rng(number),
        )
        sealed = session.seal(mix_hash=self._prev_randao(number))
        receipts = block_receipts(
            build.included,
            number=number,
            block_hash=sealed.hash,
            block_ms=block_ms,
            base_fee=sealed.base_fee,
            abi=self.abi,
        )
        block = block_record(sealed, block_ms, build.included, policy.name, build.bundles)
        self._blocks.append(block)
        self._block_receipts.append(receipts)
        for i, inc in enumerate(build.included):
            self._tx_index[inc.tx.hash] = (number, i)
        self._bundles = [b for b in self._bundles if b.target_block > number]
        # Bundle txs never passed through the pool; naming every sender the block touched lets
        # the pool evict pooled txs whose nonces a bundle consumed.
        self.mempool.on_block(
            block.tx_hashes,
            state=self.backend,
            head=self.head_info(),
            block_number=number,
            touched={inc.tx.sender for inc in build.included},
        )
        self._last_build = build
        if self._block_listeners:
            txs = tuple(inc.tx for inc in build.included)
            for listener in self._block_listeners:
                listener(block, receipts, txs)
        return block

    def add_block_listener(self, listener: BlockListener) -> None:
        """Call ``listener(block, receipts, transactions)`` after every block this chain seals.

        Listeners observe; they are not part of snapshots and survive ``revert``.
        """
        self._block_listeners.append(listener)

    @property
    def last_build(self) -> BuildResult | None:
        """What the builder did for the last block: skipped txs and dropped bundles, with why."""
        return self._last_build

    # -----------------------------------------------------------------------------------------
    # Reading records
    # -----------------------------------------------------------------------------------------

    def receipt(self, tx_hash: bytes | str) -> Receipt:
        """Receipt of a mined tx. Raises :class:`UnknownTransaction` if it is not mined."""
        key = _as_bytes(tx_hash)
        try:
            number, index = self._tx_index[key]
        except KeyError:
            raise UnknownTransaction(f"no mined transaction 0x{key.hex()}") from None
        return self._block_receipts[number][index]

    def transaction(self, tx_hash: bytes | str) -> Transaction:
        """A mined or pooled transaction."""
        key = _as_bytes(tx_hash)
        if key in self._tx_index:
            # Mined txs are not kept as records (memory over long runs); py-evm has the bytes.
            return self.decode(self.backend.raw_transaction(*self._tx_index[key]))
        pooled = self.mempool.get(key)
        if pooled is not None:
            return pooled.tx
        raise UnknownTransaction(f"unknown transaction 0x{key.hex()}")

    def fate(self, tx_hash: bytes | str) -> TxFate | None:
        """Where a tx the pool admitted stands (pending, queued, included, replaced, evicted)."""
        return self.mempool.fate(_as_bytes(tx_hash))

    def block(self, number: int | str = "latest") -> Block:
        if number == "latest":
            return self.head
        if number == "earliest":
            return self._blocks[0]
        if not isinstance(number, int) or not 0 <= number < len(self._blocks):
            raise UnknownBlock(f"no block {number!r} (head is {self.block_number})")
        return self._blocks[number]

    def block_by_hash(self, block_hash: bytes | str) -> Block:
        key = _as_bytes(block_hash)
        for block in reversed(self._blocks):
            if block.hash == key:
                return block
        raise UnknownBlock(f"no block with hash 0x{key.hex()}")

    def receipts(self, number: int) -> tuple[Receipt, ...]:
        self.block(number)
        return self._block_receipts[number]

    def logs(
        self,
        *,
        address: Address | Sequence[Address] | None = None,
        topics: Sequence[bytes | Iterable[bytes] | None] | None = None,
        from_block: int = 0,
        to_block: int | None = None,
    ) -> tuple[Log, ...]:
        """Logs matching ``address`` (one or several) and positional ``topics`` filters."""
        last = self.block_number if to_block is None else min(to_block, self.block_number)
        addresses = None
        if address is not None:
            addrs = [address] if isinstance(address, str) else list(address)
            addresses = {to_checksum_address(a) for a in addrs}
        wanted = [_topic_set(want) for want in topics or ()]
        out = []
        for number in range(max(from_block, 0), last + 1):
            for rec in self._block_receipts[number]:
                for log in rec.logs:
                    if addresses is not None and log.address not in addresses:
                        continue
                    if wanted and not _topics_match(log.topics, wanted):
                        continue
                    out.append(log)
        return tuple(out)

    # -----------------------------------------------------------------------------------------
    # Calls
    # -----------------------------------------------------------------------------------------

    def call(
        self,
        to: Address | None,
        data: bytes = b"",
        *,
        sender: Address | None = None,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
    ) -> bytes:
        """Execute against the head state; return the output or raise ExecutionReverted.

        ``block_number`` runs the call on that block's post-state instead (geth's eth_call at a
        block number), e.g. the state just before block N for a counterfactual: ``N - 1``.

        Raises:
            ExecutionReverted: the call reverted (reason decoded when the ABI is known).
            UnknownBlock: no block ``block_number``.
        """
        result = self.backend.call(
            sender=self._default_sender(sender),
            to=to,
            data=bytes(data),
            value=value,
            gas=gas,
            block_number=block_number,
        )
        if not result.success:
            raise ExecutionReverted(self.abi.decode_revert(result.output), result.output)
        return result.output

    def estimate_gas(
        self,
        *,
        sender: Address | None = None,
        to: Address | None = None,
        data: bytes = b"",
        value: int = 0,
    ) -> int:
        result = self.backend.estimate_gas(
            sender=self._default_sender(sender), to=to, data=bytes(data), value=value
        )
        if not result.success and not result.reverted:
            # geth's wording when even the block gas limit is not enough
            raise GasEstimationFailed(f"gas required exceeds allowance ({self.gas_limit})")
        if not result.success:
            raise ExecutionReverted(self.abi.decode_revert(result.output), result.output)
        return result.gas_used

    def _default_sender(self, sender: Address | None) -> Address:
        if sender is not None:
            return to_checksum_address(sender)
        if self.accounts:
            return self.accounts[0].address
        return "0x" + "00" * 20

    # -----------------------------------------------------------------------------------------
    # Mempool views
    # -----------------------------------------------------------------------------------------

    def mempool_view(self, observer: str, now_ms: int | None = None) -> tuple[PoolTx, ...]:
        """Pending and queued txs that have reached ``observer`` by ``now_ms`` (default: now).

        Bundles are private and never appear here.
        """
        now = self.clock.now_ms if now_ms is None else now_ms
        pool = list(self.mempool.pending()) + list(self.mempool.queued())
        return tuple(visible_txs(pool, observer, now, self.latency))

    def pending_transactions(self) -> tuple[PoolTx, ...]:
        """The pool's executable transactions, sorted by ``(sender, nonce)``.

        What the next block draws from (before latency and the ordering policy apply);
        includes txs whose fee cap is below the base fee. Bundles are not here.
        """
        return tuple(self.mempool.pending())

    def pool_content(self) -> dict[str, dict[Address, dict[int, PoolTx]]]:
        """``{"pending": {sender: {nonce: PoolTx}}, "queued": {...}}``, as geth's txpool."""
        return self.mempool.content()

    def pool_status(self) -> tuple[int, int]:
        """``(n_pending, n_queued)``: how many pool txs are executable and how many wait."""
        return self.mempool.status()

    def set_policy(self, policy: OrderingPolicy) -> None:
        """Change the ordering policy; it applies from the next block built."""
        if not isinstance(policy, OrderingPolicy):
            raise TypeError(f"{policy!r} is not an OrderingPolicy (needs .name and .order())")
        self.policy = policy

    # -----------------------------------------------------------------------------------------
    # Contracts
    # -----------------------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        """The project ``deploy("Name")`` compiles (its ``[tool.agentbed]`` table, read once).

        Raises:
            ProjectNotFound: ``project_root`` was given and no project is configured above it.
            ProjectConfigError: The project's table is malformed.
        """
        if self._project is None:
            from agentbed.chain.compiler import default_project, load_project

            if self._project_root is not None:
                self._project = load_project(self._project_root)
            else:
                self._project = default_project()
        return self._project

    @property
    def artifacts(self) -> Any:
        """Compiled project contracts (compiled once, then served from the on-disk cache)."""
        if self._artifacts is None:
            self._artifacts = self.project.compile()
        return self._artifacts

    def use_artifacts(self, artifacts: Any) -> None:
        """Deploy from these compiled artifacts instead of the project's ``contracts/``."""
        self._artifacts = artifacts

    def _artifact(self, name_or_artifact: str | Artifact) -> Artifact:
        if not isinstance(name_or_artifact, str):
            return name_or_artifact
        art: Artifact = self.artifacts.get(name_or_artifact)  # raises UnknownContract
        return art

    def deploy(
        self,
        artifact: str | Artifact,
        *args: Any,
        sender: LocalAccount | Address | None = None,
        value: int = 0,
        gas: int | None = None,
        libraries: Mapping[str, str] | None = None,
    ) -> Contract:
        """Deploy a compiled contract with constructor ``args``; return a web3 contract.

        The creation tx goes through the mempool like any other. With automine off, a block is
        mined to include it (other pending txs may be included in that block too).

        A contract calling external libraries is linked first: ``libraries`` maps ``Name`` (or
        ``path:Name``) to an address, or to ``"deploy"`` to deploy the library from the same
        sender (once; again only if a revert removed it). Entries of the project's
        ``[tool.agentbed.libraries]`` apply too; ``libraries`` wins on a name.

        Raises:
            UnknownContract: no artifact with that name.
            UnlinkedLibraries: a library the contract calls has no address.
            ExecutionReverted: the constructor reverted.
        """
        art = self._artifact(artifact)
        acct = self.accounts[0] if sender is None else sender
        if art.link_references:
            art = self._link(art, libraries, acct)
        data = art.bytecode + _encode_constructor(art.abi, args)
        self.abi.register(art.name, art.abi)  # so a reverting constructor's error is decoded
        fields: dict[str, Any] = {"data": data, "value": value}
        if gas is not None:
            fields["gas"] = gas
        tx_hash = self.submit(self.sign(acct, fields))
        if tx_hash not in self._tx_index:
            self.mine()
        rec = self.receipt(tx_hash)
        if rec.status != 1 or rec.contract_address is None:
            raise ExecutionReverted(rec.revert_reason or f"constructor of {art.name} reverted")
        self.abi.register(art.name, art.abi, rec.contract_address)
        self._deployments.append((rec.contract_address, art.name))
        return self.contract(rec.contract_address, art)

    def _link(
        self,
        art: Artifact,
        libraries: Mapping[str, str] | None,
        sender: LocalAccount | Address,
    ) -> Artifact:
        """Link ``art`` with addresses from ``libraries`` and the project's table."""
        from agentbed.chain.compiler.linking import (
            DEPLOY,
            library_refs,
            link_artifact,
            lookup_library,
        )

        # The table belongs to the project's artifacts: it applies once the project was loaded.
        wanted = self._project.libraries if self._project is not None else {}
        wanted.update(libraries or {})
        addresses = dict(wanted)
        for ref in library_refs(art):
            if lookup_library(ref, wanted) == DEPLOY:
                addresses[ref] = self._deployed_library(ref, wanted, sender)
        return link_artifact(art, addresses)

    def _deployed_library(
        self, ref: str, libraries: Mapping[str, str], sender: LocalAccount | Address
    ) -> Address:
        """Address of library ``ref`` (``path:Name``) on this chain, deploying it if needed."""
        known = self._libraries.get(ref)
        if known is not None and keccak(self.code(known[0])) == known[1]:
            return known[0]
        library = self.deploy(self.artifacts.get(ref), sender=sender, libraries=libraries)
        address: Address = library.address
        self._libraries[ref] = (address, keccak(self.code(address)))
        return address

    def contract(self, address: Address, artifact: str | Artifact) -> Contract:
        """A web3 contract object for ``address`` bound to this chain's provider."""
        art = self._artifact(artifact)
        self.abi.register(art.name, art.abi, to_checksum_address(address))
        return self.w3.eth.contract(address=to_checksum_address(address), abi=list(art.abi))

    @property
    def w3(self) -> Web3:
        """A ``Web3`` instance over this chain's provider."""
        if self._w3 is None:
            from web3 import Web3

            self._w3 = Web3(self.provider)
        return self._w3

    @property
    def provider(self) -> Any:
        from agentbed.chain.provider import TestbedProvider

        return TestbedProvider(self)

    # -----------------------------------------------------------------------------------------
    # Snapshots
    # -----------------------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Capture state, mempool, bundles, clock, policy, latency and records; return an id.

        ABI registrations (used to decode logs) are additive and are not rolled back.
        """
        sid = self._next_snapshot
        self._next_snapshot += 1
        self._snapshots[sid] = _Snapshot(
            backend=self.backend.snapshot(),
            mempool=self.mempool.copy(),
            clock=self.clock.copy(),
            n_blocks=len(self._blocks),
            bundles=tuple(self._bundles),
            seq=self._seq,
            automine=self.automine,
            policy=self.policy,
            latency=self.latency,
            coinbase=self.coinbase,
            next_block_time_ms=self._next_block_time_ms,
            deployments=tuple(self._deployments),
        )
        return sid

    def revert(self, snapshot_id: int) -> None:
        """Return to snapshot ``snapshot_id``; it and every later snapshot are consumed."""
        snap = self._snapshots.get(snapshot_id)
        if snap is None:
            raise UnknownSnapshot(f"no snapshot {snapshot_id}")
        for sid in [s for s in self._snapshots if s >= snapshot_id]:
            del self._snapshots[sid]
        self.backend.revert(snap.backend)
        for number in range(snap.n_blocks, len(self._blocks)):
            for rec in self._block_receipts[number]:
                self._tx_index.pop(rec.tx_hash, None)
        del self._blocks[snap.n_blocks :]
        del self._block_receipts[snap.n_blocks :]
        self.mempool = snap.mempool.copy()
        self.clock = snap.clock.copy()
        self._bundles = list(snap.bundles)
        self._seq = snap.seq
        self.automine = snap.automine
        self.policy = snap.policy
        self.latency = snap.latency
        self.coinbase = snap.coinbase
        self._next_block_time_ms = snap.next_block_time_ms
        self._deployments = list(snap.deployments)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _derive_accounts(seed: int, n: int, mnemonic: str | None) -> tuple[LocalAccount, ...]:
    if mnemonic is not None:
        Account.enable_unaudited_hdwallet_features()
        return tuple(
            Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)
        )
    return tuple(
        Account.from_key(
            keccak(
                b"agent-testbed/account"
                + seed.to_bytes(32, "big", signed=True)
                + i.to_bytes(8, "big")
            )
        )
        for i in range(n)
    )


def _check_static(tx: Transaction, gas_limit: int) -> None:
    """Static checks for bundle members (the pool's checks that do not depend on state)."""
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TipAboveFeeCap()
    required = required_gas(tx)
    if tx.gas < required:
        raise IntrinsicGasTooLow(f"gas {tx.gas}, minimum needed {required}")
    if tx.gas > gas_limit:
        raise GasLimitExceeded(f"gas {tx.gas} > block gas limit {gas_limit}")


def _encode_constructor(abi: Sequence[Mapping[str, Any]], args: Sequence[Any]) -> bytes:
    ctor = next((item for item in abi if item.get("type") == "constructor"), None)
    inputs = ctor.get("inputs", []) if ctor else []
    if len(args) != len(inputs):
        raise TypeError(f"constructor takes {len(inputs)} arguments, got {len(args)}")
    if not inputs:
        return b""
    return abi_encode([collapse_if_tuple(dict(i)) for i in inputs], list(args))


def _topic_set(want: bytes | Iterable[bytes] | None) -> frozenset[bytes] | None:
    """One positional topic filter as a set (built once per query); None matches any topic."""
    if want is None:
        return None
    if isinstance(want, bytes | bytearray):
        return frozenset({bytes(want)})
    return frozenset(bytes(w) for w in want)


def _topics_match(log_topics: Sequence[bytes], wanted: Sequence[frozenset[bytes] | None]) -> bool:
    if len(wanted) > len(log_topics):
        return False
    return all(
        want is None or topic in want for topic, want in zip(log_topics, wanted, strict=False)
    )


def _as_bytes(value: bytes | str) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)
