"""Gas per operation, collected from every block a chain seals (a gas reporter).

``GasReport`` listens to a :class:`agentbed.chain.node.Chain` and aggregates, per contract and
operation (function name, or ``(deploy)``), the gas used, the number of calls and how many
reverted.

Used by the pytest plugin's ``--gas-report`` option and by ``testbed gas``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_utils import function_abi_to_4byte_selector

from agentbed.chain.abi import AbiRegistry
from agentbed.chain.types import Block, Receipt, Transaction

DEPLOYMENT = "(deploy)"


@dataclass(frozen=True, slots=True)
class GasRow:
    contract: str
    operation: str
    calls: int
    min: int
    mean: int
    max: int
    reverted: int


class GasReport:
    """Collects gas used per (contract, operation) from the blocks a chain seals.

    Names are resolved when each tx is recorded, from the chain's ABI registry at that moment:
    snapshots and reverts reuse addresses, so resolving at the end would credit a call to
    whichever contract last lived there. A deployment's ABI is registered only after the block
    that created it, so deployments are resolved when the next block arrives (or at the end).

    Args:
        registry: The ABI registry of the chain being listened to (``chain.abi``).
    """

    def __init__(self, registry: AbiRegistry) -> None:
        self._registry = registry
        self._gas: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._reverted: dict[tuple[str, str], int] = defaultdict(int)
        self._pending_deploys: list[tuple[str, int, int]] = []
        self._selectors: dict[str, dict[bytes, str]] = {}
        self._count = 0

    def __call__(
        self, block: Block, receipts: tuple[Receipt, ...], txs: tuple[Transaction, ...]
    ) -> None:
        self._resolve_deploys()
        for receipt, tx in zip(receipts, txs, strict=True):
            self._count += 1
            if tx.to is None:
                created = receipt.contract_address or ""
                self._pending_deploys.append((created, receipt.gas_used, receipt.status))
                continue
            name = self._registry.contract_at(tx.to)
            if name is None:
                if tx.data:
                    continue  # a call into a contract the chain has no ABI for
                key = ("(plain transfer)", "transfer")
            else:
                key = (name, self._operation(name, bytes(tx.data[:4])))
            self._add(key, receipt.gas_used, receipt.status)

    def _operation(self, name: str, selector: bytes) -> str:
        if name not in self._selectors:
            self._selectors[name] = _function_selectors(self._registry.abi(name))
        return self._selectors[name].get(selector, f"0x{selector.hex()}")

    def _resolve_deploys(self) -> None:
        for created, gas_used, status in self._pending_deploys:
            name = self._registry.contract_at(created) if created else None
            self._add((name or "(unknown contract)", DEPLOYMENT), gas_used, status)
        self._pending_deploys.clear()

    def _add(self, key: tuple[str, str], gas_used: int, status: int) -> None:
        self._gas[key].append(gas_used)
        if status == 0:
            self._reverted[key] += 1

    def __len__(self) -> int:
        return self._count

    def rows(self) -> tuple[GasRow, ...]:
        """Aggregate what was recorded into rows, sorted by contract then operation."""
        self._resolve_deploys()
        return tuple(
            GasRow(
                contract=contract,
                operation=op,
                calls=len(gas),
                min=min(gas),
                mean=round(statistics.fmean(gas)),
                max=max(gas),
                reverted=self._reverted[(contract, op)],
            )
            for (contract, op), gas in sorted(self._gas.items())
        )


def _function_selectors(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, str]:
    return {
        function_abi_to_4byte_selector(cast(Any, dict(item))): str(item["name"])
        for item in abi
        if item.get("type") == "function"
    }


def render(rows: Sequence[GasRow]) -> str:
    """A fixed-width table: contract, operation, calls, min / mean / max gas, reverted calls."""
    if not rows:
        return "no transactions recorded"
    head = ("contract", "operation", "calls", "min", "mean", "max", "reverted")
    body = [
        (
            r.contract,
            r.operation,
            str(r.calls),
            f"{r.min:,}",
            f"{r.mean:,}",
            f"{r.max:,}",
            str(r.reverted),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    lines = []
    for row in (head, *body):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(w) for cell, w in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells))
    return "\n".join(lines)
