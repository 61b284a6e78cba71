"""``Chain``: the one front object users and agents talk to.

It owns the backend, mempool, ordering policy, builder, simulated clock and latency model::

    chain = Chain(seed=7)
    token = chain.deploy("MockERC20", "Agent", "AGT")
    h = chain.transact(chain.accounts[0], token.functions.mint(chain.accounts[1].address, 10))
    chain.receipt(h).status  # 1

Everything is deterministic given the seed and the inputs: account keys, genesis time, block
timestamps, prevrandao and the ordering policy's random choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from agentbed.chain.abi import AbiRegistry
from agentbed.chain.addresses import checksum
from agentbed.chain.backend import PyEVMBackend
from agentbed.chain.builder import BuildResult
from agentbed.chain.bundles import check_bundle
from agentbed.chain.cheats import ChainCheats, InvalidCheatValue
from agentbed.chain.clock import SimClock
from agentbed.chain.deployer import Deployer
from agentbed.chain.errors import UnknownTransaction
from agentbed.chain.fees import INITIAL_BASE_FEE
from agentbed.chain.forks import ChainForks
from agentbed.chain.history import ChainHistory
from agentbed.chain.interfaces import HeadInfo, LatencyModel, OrderingPolicy, PoolConfig
from agentbed.chain.latency import ConstantLatency, visible_txs
from agentbed.chain.mempool import Mempool
from agentbed.chain.ordering import PriorityFeePolicy
from agentbed.chain.production import BUILDER, BlockListener, BlockProducer
from agentbed.chain.reads import ChainReads
from agentbed.chain.records import block_record
from agentbed.chain.seeds import derive_accounts, prev_randao
from agentbed.chain.signing import GWEI, LocalSigner, as_bytes, transaction_fields
from agentbed.chain.snapshots import ChainSnapshot, SnapshotStore
from agentbed.chain.txcodec import TxDecoder
from agentbed.chain.types import Address, Block, Bundle, Log, PoolTx, Receipt, Transaction, TxFate

if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract

    from agentbed.chain.compiler import Artifact, Project

__all__ = ["BUILDER", "DEFAULT_BALANCE", "GWEI", "BlockListener", "Chain", "InvalidCheatValue"]

DEFAULT_BALANCE = 10_000 * 10**18


class Chain(ChainCheats, ChainReads, ChainForks):
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
        pool_config: Mempool limits and minimum tip (geth's defaults).
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
        self.accounts: tuple[LocalAccount, ...] = derive_accounts(seed, accounts, mnemonic)
        genesis: dict[str, int] = {a.address: balance for a in self.accounts}
        genesis.update({to_checksum_address(k): v for k, v in (alloc or {}).items()})
        self.clock = SimClock(genesis_ms=genesis_ms, block_interval_ms=block_interval_ms)
        self.backend = PyEVMBackend(
            chain_id=chain_id,
            alloc=genesis,
            genesis_timestamp=genesis_ms // 1000,
            gas_limit=gas_limit,
            base_fee=base_fee,
            genesis_mix_hash=prev_randao(seed, 0),
        )
        config = pool_config or PoolConfig(chain_id=chain_id)
        self.pool_config = replace(config, chain_id=chain_id)  # the chain's id wins
        self.mempool = Mempool(self.pool_config)
        self.policy: OrderingPolicy = policy or PriorityFeePolicy()
        self.latency: LatencyModel = latency or ConstantLatency(0)
        self.automine = automine
        self.coinbase: Address = to_checksum_address(coinbase)
        self.abi = AbiRegistry()
        self._deployer = Deployer(project_root)
        self._signer = LocalSigner(self.accounts)
        self._decoder = TxDecoder(chain_id)
        self._seq = 0
        self._snapshots = SnapshotStore()
        self._w3: Web3 | None = None
        self._history = ChainHistory(block_record(self.backend.head(), genesis_ms, (), "genesis"))
        self._producer = BlockProducer(
            backend=self.backend, history=self._history, abi=self.abi, seed=seed
        )

    # -- time, head, fees ----------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return self.clock.now_ms

    @property
    def block_number(self) -> int:
        return self._history.head_number

    @property
    def head(self) -> Block:
        return self._history.head

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
        """Move the simulated clock forward to ``timestamp_ms`` (the next block is sealed no
        earlier); return the new time.

        Raises:
            ValueError: ``timestamp_ms`` is before the clock's now (time never goes backwards).
        """
        return self.clock.advance_to(timestamp_ms)

    # -- accounts and state --------------------------------------------------------------------

    def balance(self, address: Address, block_number: int | None = None) -> int:
        """Wei held at the head, or after block ``block_number`` (else ``UnknownBlock``)."""
        return self.backend.balance(checksum(address), block_number)

    def nonce(self, address: Address) -> int:
        """Confirmed nonce (transactions mined so far)."""
        return self.backend.nonce(checksum(address))

    def pending_nonce(self, address: Address) -> int:
        """Next nonce counting the sender's executable pool transactions."""
        address = checksum(address)
        return self.mempool.pending_nonce(address, self.backend.nonce(address))

    def code(self, address: Address) -> bytes:
        return self.backend.code(checksum(address))

    def storage_at(self, address: Address, slot: int) -> int:
        return self.backend.storage_at(checksum(address), slot)

    def account(self, address: Address) -> LocalAccount:
        return self._signer.account(address)

    # -- submitting ----------------------------------------------------------------------------

    def _arrival(self, at_ms: int | None) -> int:
        return self.clock.now_ms if at_ms is None else self.clock.copy().advance_to(at_ms)

    def decode(self, raw: bytes) -> Transaction:
        """Decode and signature-check a raw transaction (raises a :class:`TxRejected`)."""
        tx = self._decoder.decode(raw, allow_unprotected=self.pool_config.allow_unprotected)
        return self._signer.resolve(tx)  # an impersonated sender for a proxy-key signature

    def submit(self, raw: bytes, *, origin: str | None = None, at_ms: int | None = None) -> bytes:
        """Put a signed transaction into the mempool and return its hash at once.

        Args:
            raw: The signed transaction bytes.
            origin: Observer id of the submitter; it sees its own tx without latency.
            at_ms: Arrival time on the simulated clock (advances it on admission; not backwards).

        Raises:
            TxRejected: a subclass named for geth's rejection reason; nothing changed.
        """
        tx = self.decode(raw)
        arrival = self._arrival(at_ms)
        self.mempool.add(
            tx, state=self.backend, head=self.head_info(), arrival_ms=arrival, origin=origin
        )
        self.clock.advance_to(arrival)
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
        self.clock.advance_to(bundle.arrival_ms)
        self._seq = bundle.seq
        self._producer.bundles.append(bundle)
        return bundle.id

    def _make_bundle(
        self,
        raw_txs: Sequence[bytes],
        target_block: int | None,
        allowed_to_revert: Iterable[bytes],
        origin: str | None,
        at_ms: int | None,
    ) -> Bundle:
        """A checked bundle numbered as the next arrival; only a submit advances the counter."""
        txs, target, allowed = check_bundle(
            raw_txs,
            target_block,
            allowed_to_revert,
            head_number=self.block_number,
            gas_limit=self.gas_limit,
            decode=self.decode,
        )
        arrival = self._arrival(at_ms)
        return Bundle(txs, target, allowed, arrival, self._seq + 1, origin)

    def simulate_bundle(
        self, raw_txs: Sequence[bytes], *, allowed_to_revert: Iterable[bytes] = ()
    ) -> tuple[tuple[Receipt, ...], str | None]:
        """Receipts the bundle would produce at the top of the next block; changes nothing.

        Returns:
            ``(receipts, failure)``; ``failure`` says why the bundle would be dropped, or None.
        """
        bundle = self._make_bundle(raw_txs, None, allowed_to_revert, None, self.now_ms)
        return self._producer.simulate_bundle(bundle, clock=self.clock, coinbase=self.coinbase)

    def sign(self, account: LocalAccount | Address, tx: Mapping[str, Any]) -> bytes:
        """Sign ``tx`` with a local key, filling chainId, nonce, fees and gas when missing."""
        return self._signer.sign(self, account, tx)

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
        tx = transaction_fields(call, to=to, data=data, value=value, fields=fields)
        return self.submit(self.sign(account, tx), origin=origin)

    # -- mining --------------------------------------------------------------------------------

    def set_next_block_time(self, timestamp_ms: int) -> None:
        """Seal the next block at exactly ``timestamp_ms`` (for deadline tests at T-1, T, T+1).

        The header timestamp is ``timestamp_ms // 1000``. Later blocks follow the block interval
        from there.

        Raises:
            ValueError: the time is before the clock's now or its second is not after the head
                block's timestamp (header timestamps must increase).
        """
        self._producer.pin_next_block(timestamp_ms, self.clock)

    def next_block_timestamp(self) -> int:
        """Header timestamp (seconds) the next mined block will get, if mined now.

        Follows the clock, the block interval and :meth:`set_next_block_time`; reading it
        changes nothing.
        """
        return self._producer.next_timestamp(self._producer.next_block_ms(self.clock))

    def mine(self, n: int = 1) -> tuple[Block, ...]:
        """Build and seal ``n`` blocks, each one block interval after the previous."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return tuple(
            self._producer.seal_next(
                clock=self.clock,
                mempool=self.mempool,
                policy=self.policy,
                latency=self.latency,
                coinbase=self.coinbase,
            )
            for _ in range(n)
        )

    def add_block_listener(self, listener: BlockListener) -> None:
        """Call ``listener(block, receipts, transactions)`` after every block this chain seals.

        Listeners observe; they are not part of snapshots and survive ``revert``.
        """
        self._producer.listeners.append(listener)

    @property
    def last_build(self) -> BuildResult | None:
        """What the builder did for the last block: skipped txs and dropped bundles, with why."""
        return self._producer.last_build

    # -- reading records -----------------------------------------------------------------------

    def receipt(self, tx_hash: bytes | str) -> Receipt:
        """Receipt of a mined tx. Raises :class:`UnknownTransaction` if it is not mined."""
        return self._history.receipt(as_bytes(tx_hash))

    def transaction(self, tx_hash: bytes | str) -> Transaction:
        """A mined or pooled transaction."""
        key = as_bytes(tx_hash)
        position = self._history.position(key)
        if position is not None:
            # Mined txs are not kept as records (memory over long runs); py-evm has the bytes.
            return self.decode(self.backend.raw_transaction(*position))
        pooled = self.mempool.get(key)
        if pooled is not None:
            return pooled.tx
        raise UnknownTransaction(f"unknown transaction 0x{key.hex()}")

    def fate(self, tx_hash: bytes | str) -> TxFate | None:
        """Where a tx the pool admitted stands (pending, queued, included, replaced, evicted)."""
        return self.mempool.fate(as_bytes(tx_hash))

    def block(self, number: int | str = "latest") -> Block:
        return self._history.block(number)

    def block_by_hash(self, block_hash: bytes | str) -> Block:
        return self._history.block_by_hash(as_bytes(block_hash))

    def receipts(self, number: int) -> tuple[Receipt, ...]:
        return self._history.receipts(number)

    def logs(
        self,
        *,
        address: Address | Sequence[Address] | None = None,
        topics: Sequence[bytes | Iterable[bytes] | None] | None = None,
        from_block: int = 0,
        to_block: int | None = None,
    ) -> tuple[Log, ...]:
        """Logs matching ``address`` (one or several) and positional ``topics`` filters."""
        return self._history.logs(
            address=address, topics=topics, from_block=from_block, to_block=to_block
        )

    # -- mempool views -------------------------------------------------------------------------

    def mempool_view(self, observer: str, now_ms: int | None = None) -> tuple[PoolTx, ...]:
        """Pending and queued txs that have reached ``observer`` by ``now_ms`` (default: now).

        Bundles are private and never appear here.
        """
        now = self.clock.now_ms if now_ms is None else now_ms
        return tuple(visible_txs(self.mempool.listing(), observer, now, self.latency))

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

    # -- contracts -----------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        """The project ``deploy("Name")`` compiles (its ``[tool.agentbed]`` table, read once).

        Raises:
            ProjectNotFound: ``project_root`` was given and no project is configured above it.
            ProjectConfigError: The project's table is malformed.
        """
        return self._deployer.project

    @property
    def artifacts(self) -> Any:
        """Compiled project contracts (compiled once, then served from the on-disk cache)."""
        return self._deployer.artifacts

    def use_artifacts(self, artifacts: Any) -> None:
        """Deploy from these compiled artifacts instead of compiling the project's sources."""
        self._deployer.use_artifacts(artifacts)

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
        return self._deployer.deploy(
            self, artifact, args, sender=sender, value=value, gas=gas, libraries=libraries
        )

    def contract(self, address: Address, artifact: str | Artifact) -> Contract:
        """A web3 contract object for ``address`` bound to this chain's provider."""
        art = self._deployer.artifact(artifact)
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

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Capture state, mempool, bundles, clock, policy, latency and records; return an id.

        ABI registrations (used to decode logs) are additive and are not rolled back.
        """
        return self._snapshots.add(
            ChainSnapshot(
                backend=self.backend.snapshot(),
                mempool=self.mempool.copy(),
                clock=self.clock.copy(),
                n_blocks=self._history.mark(),
                bundles=tuple(self._producer.bundles),
                seq=self._seq,
                automine=self.automine,
                policy=self.policy,
                latency=self.latency,
                coinbase=self.coinbase,
                next_block_time_ms=self._producer.pinned_ms,
                deployments=tuple(self._deployer.deployments),
            )
        )

    def revert(self, snapshot_id: int) -> None:
        """Return to snapshot ``snapshot_id``; it and every later snapshot are consumed."""
        snap = self._snapshots.consume(snapshot_id)
        self.backend.revert(snap.backend)
        self._history.restore(snap.n_blocks)
        self.mempool = snap.mempool.copy()
        self.clock = snap.clock.copy()
        self._producer.bundles = list(snap.bundles)
        self._seq = snap.seq
        self.automine = snap.automine
        self.policy = snap.policy
        self.latency = snap.latency
        self.coinbase = snap.coinbase
        self._producer.pinned_ms = snap.next_block_time_ms
        self._deployer.deployments = list(snap.deployments)
