"""Records every layer above the backend speaks in.

All records are frozen dataclasses; collections in them are tuples. Addresses are EIP-55
checksummed ``str``; hashes and byte strings are ``bytes``. Times are integer milliseconds of
the simulated clock (``*_ms``); block timestamps are whole seconds, as in Ethereum headers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

Address = str
"""EIP-55 checksummed hex address, e.g. ``0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed``."""


@dataclass(frozen=True, slots=True)
class AccessListEntry:
    address: Address
    storage_keys: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Authorization:
    """One signed EIP-7702 authorization tuple of a set-code (type 4) transaction.

    The authority (its signer) is recovered once, at decoding; ``None`` when the signature
    recovers no address (high ``s``, ``y_parity`` not 0/1): execution then skips the tuple,
    and the pool (like geth's ``SetCodeAuthorities``) does not count it.
    """

    chain_id: int
    address: Address
    """The delegate: whose code the authority's account runs."""
    nonce: int
    y_parity: int
    r: int
    s: int
    authority: Address | None


@dataclass(frozen=True, slots=True)
class Transaction:
    """A decoded, signature-checked transaction (legacy type 0, access-list type 1, 1559 type 2,
    EIP-7702 set-code type 4).

    For legacy and type-1 transactions ``max_fee_per_gas == max_priority_fee_per_gas ==
    gas_price``, which makes every fee rule below uniform across types.
    """

    hash: bytes
    raw: bytes
    type: int
    chain_id: int | None
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    to: Address | None
    value: int
    data: bytes
    access_list: tuple[AccessListEntry, ...]
    sender: Address
    v: int
    r: int
    s: int
    authorization_list: tuple[Authorization, ...] = ()
    """Type 4 only: the signed delegations, in order."""

    @property
    def is_create(self) -> bool:
        return self.to is None

    @property
    def size(self) -> int:
        """Encoded size in bytes (what geth's 128 KiB limit counts)."""
        return len(self.raw)

    def effective_tip(self, base_fee: int) -> int:
        """Priority fee per gas the block producer receives at ``base_fee``.

        Negative when the fee cap is below the base fee (the tx cannot be included then).
        """
        return min(self.max_priority_fee_per_gas, self.max_fee_per_gas - base_fee)

    def effective_gas_price(self, base_fee: int) -> int:
        return min(self.max_fee_per_gas, base_fee + self.max_priority_fee_per_gas)

    def max_cost(self) -> int:
        """Upper bound on what the sender may pay: ``gas * fee cap + value``."""
        return self.gas * self.max_fee_per_gas + self.value


@dataclass(frozen=True, slots=True)
class PoolTx:
    """A transaction as the mempool holds it: when it arrived and from whom."""

    tx: Transaction
    arrival_ms: int
    seq: int
    """Global arrival counter; breaks ties between equal arrival times deterministically."""
    origin: str | None = None
    """Observer id of the submitter (sees its own tx at once); ``None`` for anonymous submits."""

    @property
    def hash(self) -> bytes:
        return self.tx.hash

    @property
    def sender(self) -> Address:
        return self.tx.sender

    @property
    def nonce(self) -> int:
        return self.tx.nonce


@dataclass(frozen=True, slots=True)
class Bundle:
    """A private, atomic group of transactions for one target block (mev-geth style)."""

    txs: tuple[Transaction, ...]
    target_block: int
    allowed_to_revert: frozenset[bytes]
    arrival_ms: int
    seq: int
    origin: str | None = None

    @property
    def id(self) -> bytes:
        from eth_utils import keccak

        return keccak(b"".join(tx.hash for tx in self.txs))


class TxStatus(enum.Enum):
    """Where a transaction the pool once admitted stands now."""

    PENDING = "pending"
    """Executable: its nonce is next (or follows other pending txs of the same sender)."""
    QUEUED = "queued"
    """Waiting for a nonce gap to fill."""
    INCLUDED = "included"
    REPLACED = "replaced"
    EVICTED = "evicted"


@dataclass(frozen=True, slots=True)
class TxFate:
    status: TxStatus
    reason: str = ""
    """For REPLACED the replacing tx hash (hex); for EVICTED why (``"nonce too low"``,
    ``"pool full"``, ``"insufficient funds"``, ...)."""
    block_number: int | None = None


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    name: str
    args: dict[str, Any]
    contract: str | None = None
    """Name of the artifact whose ABI decoded it."""


@dataclass(frozen=True, slots=True)
class Log:
    address: Address
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int
    tx_index: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    event: DecodedEvent | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: bytes
    status: int
    """1 success, 0 reverted (mined). A rejected tx has no receipt: ``submit`` raised instead."""
    block_number: int
    block_hash: bytes
    tx_index: int
    sender: Address
    to: Address | None
    contract_address: Address | None
    gas_used: int
    cumulative_gas_used: int
    effective_gas_price: int
    logs: tuple[Log, ...]
    revert_reason: str | None
    arrival_ms: int | None
    included_ms: int
    waited_ms: int | None
    bundle: bytes | None = None
    """Id of the bundle this tx was included in, if any."""

    @property
    def succeeded(self) -> bool:
        return self.status == 1


@dataclass(frozen=True, slots=True)
class SimulatedReceipt(Receipt):
    """A receipt from a bundle simulation, with what a searcher's simulation reports beyond it."""

    output: bytes = b""
    """The return data (the revert data if the tx reverted)."""
    coinbase_delta: int = 0
    """How much the coinbase's balance rose: the tip times gas used plus direct payments."""


@dataclass(frozen=True, slots=True)
class HeaderDetails:
    """The rest of a sealed header, and the block's encoded size, as JSON-RPC clients read them.

    Copied from the backend's header, so a client can recompute the block hash from them.
    """

    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    withdrawals_root: bytes
    extra_data: bytes
    blob_gas_used: int
    excess_blob_gas: int
    parent_beacon_block_root: bytes
    requests_hash: bytes
    size: int
    """Bytes of the RLP-encoded block (header, transactions, uncles, withdrawals)."""


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    """Seconds, as in the header."""
    timestamp_ms: int
    """The simulated clock when the block was sealed."""
    base_fee: int
    gas_limit: int
    gas_used: int
    coinbase: Address
    prev_randao: bytes
    tx_hashes: tuple[bytes, ...]
    policy: str
    priority_fees: int
    """Sum of effective tip * gas used paid to the coinbase."""
    coinbase_transfers: int
    """Direct value paid to the coinbase by transactions (bundle payments), beyond tips."""
    burned: int
    """Base fee * gas used."""
    bundles: tuple[bytes, ...] = field(default=())
    header: HeaderDetails | None = None
    """Roots and other header fields; None only for records built outside a chain (tests)."""

    @property
    def coinbase_payment(self) -> int:
        return self.priority_fees + self.coinbase_transfers
