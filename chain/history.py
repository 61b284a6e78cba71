"""The chain's sealed history: blocks, their receipts, and the read-only lookups over them.

The block producer appends a block and its receipts when it seals one, and ``Chain`` cuts the
history back on ``revert``; everything else here only reads. Transactions are found through an
index from hash to ``(block number, position)``, so a receipt lookup does not scan the blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_utils import to_checksum_address

from agentbed.chain.errors import UnknownBlock, UnknownTransaction
from agentbed.chain.types import Address, Block, Log, Receipt


class ChainHistory:
    """Blocks from genesis to the head with their receipts, indexed by tx hash.

    Args:
        genesis: The genesis block record (it has no receipts).
    """

    def __init__(self, genesis: Block) -> None:
        self._blocks: list[Block] = [genesis]
        self._receipts: list[tuple[Receipt, ...]] = [()]
        self._tx_index: dict[bytes, tuple[int, int]] = {}

    def __len__(self) -> int:
        """Number of blocks, genesis included."""
        return len(self._blocks)

    @property
    def head_number(self) -> int:
        return len(self._blocks) - 1

    @property
    def head(self) -> Block:
        return self._blocks[-1]

    def append(self, block: Block, receipts: tuple[Receipt, ...]) -> None:
        """Record a newly sealed block; ``receipts`` are in the order of ``block.tx_hashes``."""
        self._blocks.append(block)
        self._receipts.append(receipts)
        for i, tx_hash in enumerate(block.tx_hashes):
            self._tx_index[tx_hash] = (block.number, i)

    def truncate(self, n_blocks: int) -> None:
        """Forget every block from number ``n_blocks`` on, with its receipts (for ``revert``)."""
        for number in range(n_blocks, len(self._blocks)):
            for rec in self._receipts[number]:
                self._tx_index.pop(rec.tx_hash, None)
        del self._blocks[n_blocks:]
        del self._receipts[n_blocks:]

    def position(self, tx_hash: bytes) -> tuple[int, int] | None:
        """``(block number, index in block)`` of a mined tx; None if it is not mined."""
        return self._tx_index.get(tx_hash)

    def receipt(self, tx_hash: bytes) -> Receipt:
        """Receipt of a mined tx. Raises :class:`UnknownTransaction` if it is not mined."""
        try:
            number, index = self._tx_index[tx_hash]
        except KeyError:
            raise UnknownTransaction(f"no mined transaction 0x{tx_hash.hex()}") from None
        return self._receipts[number][index]

    def block(self, number: int | str) -> Block:
        """Block ``number``, ``"latest"`` or ``"earliest"``; raises :class:`UnknownBlock`."""
        if number == "latest":
            return self.head
        if number == "earliest":
            return self._blocks[0]
        if not isinstance(number, int) or not 0 <= number < len(self._blocks):
            raise UnknownBlock(f"no block {number!r} (head is {self.head_number})")
        return self._blocks[number]

    def block_by_hash(self, block_hash: bytes) -> Block:
        """The block with this hash (newest first); raises :class:`UnknownBlock`."""
        for block in reversed(self._blocks):
            if block.hash == block_hash:
                return block
        raise UnknownBlock(f"no block with hash 0x{block_hash.hex()}")

    def receipts(self, number: int) -> tuple[Receipt, ...]:
        """Receipts of block ``number`` in block order; raises :class:`UnknownBlock`."""
        self.block(number)
        return self._receipts[number]

    def logs(
        self,
        *,
        address: Address | Sequence[Address] | None,
        topics: Sequence[bytes | Iterable[bytes] | None] | None,
        from_block: int,
        to_block: int | None,
    ) -> tuple[Log, ...]:
        """Logs matching ``address`` (one or several) and positional ``topics`` filters."""
        last = self.head_number if to_block is None else min(to_block, self.head_number)
        addresses = None
        if address is not None:
            addrs = [address] if isinstance(address, str) else list(address)
            addresses = {to_checksum_address(a) for a in addrs}
        wanted = [_topic_set(want) for want in topics or ()]
        out = []
        for number in range(max(from_block, 0), last + 1):
            for rec in self._receipts[number]:
                for log in rec.logs:
                    if addresses is not None and log.address not in addresses:
                        continue
                    if wanted and not _topics_match(log.topics, wanted):
                        continue
                    out.append(log)
        return tuple(out)


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
