"""The append-only JSONL event log of a simulation run.

One JSON object per line: ``submitted`` and ``rejected`` as agents act, one ``block`` record per
sealed block with its transactions and their ground-truth labels, a ``reorg`` record (with its
depth) whenever the canonical head switches branches, and a final ``interrupted``
record if the run stops early. Lines are buffered and written out at every block, so an
interrupted run keeps everything up to its last block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentbed.agents.sim import SentTx
    from agentbed.chain.blocktree import Reorg
    from agentbed.chain.types import Block, Receipt


class EventLog:
    """Appends simulation events to a JSONL file.

    Args:
        path: The log file; created (with its directory) or appended to.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self._buffer: list[str] = []

    def _add(self, record: Mapping[str, Any]) -> None:
        self._buffer.append(json.dumps(record, separators=(",", ":"), sort_keys=True))

    def submitted(
        self, t_ms: int, agent: str, tx_hash: bytes, label: str, bundle: bytes | None
    ) -> None:
        """An agent's tx entered the mempool (or a private bundle)."""
        record: dict[str, Any] = {
            "event": "submitted",
            "t_ms": t_ms,
            "agent": agent,
            "tx": "0x" + tx_hash.hex(),
            "label": label,
        }
        if bundle is not None:
            record["bundle"] = "0x" + bundle.hex()
        self._add(record)

    def rejected(self, t_ms: int, agent: str, label: str, reason: str) -> None:
        """The mempool (or bundle check) refused an agent's tx."""
        self._add(
            {"event": "rejected", "t_ms": t_ms, "agent": agent, "label": label, "reason": reason}
        )

    def block(
        self, block: Block, receipts: Sequence[Receipt], sent: Mapping[bytes, SentTx]
    ) -> None:
        """A block was sealed; its txs with sender agent, label, status, gas and wait."""
        txs = []
        for receipt in receipts:
            truth = sent.get(receipt.tx_hash)
            txs.append(
                {
                    "tx": "0x" + receipt.tx_hash.hex(),
                    "agent": truth.agent if truth else None,
                    "label": truth.label if truth else None,
                    "status": receipt.status,
                    "gas_used": receipt.gas_used,
                    "gas_price": receipt.effective_gas_price,
                    "waited_ms": receipt.waited_ms,
                    "bundle": "0x" + receipt.bundle.hex() if receipt.bundle else None,
                }
            )
        self._add(
            {
                "event": "block",
                "number": block.number,
                "hash": "0x" + block.hash.hex(),
                "t_ms": block.timestamp_ms,
                "base_fee": block.base_fee,
                "gas_used": block.gas_used,
                "policy": block.policy,
                "txs": txs,
            }
        )

    def reorg(self, reorg: Reorg) -> None:
        """The canonical head switched branches: depth, common ancestor, both heads and the
        orphaned txs the pool took back."""
        self._add(
            {
                "event": "reorg",
                "depth": reorg.depth,
                "ancestor": reorg.ancestor,
                "old_head": "0x" + reorg.old_head.hex(),
                "new_head": "0x" + reorg.new_head.hex(),
                "t_ms": reorg.at_ms,
                "orphaned": ["0x" + b.hash.hex() for b in reorg.orphaned],
                "returned": ["0x" + h.hex() for h in reorg.returned],
            }
        )

    def interrupted(self, last_block: int, reason: str) -> None:
        """The run stopped early; everything up to ``last_block`` is in the log."""
        self._buffer.clear()
        self._add({"event": "interrupted", "last_block": last_block, "reason": reason})
        self.flush()

    def flush(self) -> None:
        """Write buffered lines out."""
        if self._buffer:
            self._file.write("\n".join(self._buffer) + "\n")
            self._buffer.clear()
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        self._file.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSONL event log, in order."""
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
