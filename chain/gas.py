"""Gas per operation, collected from every block a chain seals (a gas reporter).

``GasReport`` listens to a :class:`chain.node.Chain` and keeps, for each transaction, the
target, the 4-byte selector and the gas used. Names are resolved when the report is rendered,
from the ABIs the chain has registered by then (a deployment's ABI is registered only after the
block that created it), so deployments and calls are both attributed to their contract.

Used by the pytest plugin's ``--gas-report`` option and by ``testbed gas``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_utils import function_abi_to_4byte_selector

from chain.abi import AbiRegistry
from chain.types import Block, Receipt, Transaction

DEPLOYMENT = "(deploy)"


@dataclass(frozen=True, slots=True)
class _Sample:
    to: str | None
    created: str | None
    selector: bytes
    gas_used: int
    status: int


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
    """Collects gas used per (contract, operation) from the blocks a chain seals."""

    def __init__(self) -> None:
        self._samples: list[_Sample] = []

    def __call__(
        self, block: Block, receipts: tuple[Receipt, ...], txs: tuple[Transaction, ...]
    ) -> None:
        for receipt, tx in zip(receipts, txs, strict=True):
            self._samples.append(
                _Sample(
                    to=tx.to,
                    created=receipt.contract_address,
                    selector=bytes(tx.data[:4]),
                    gas_used=receipt.gas_used,
                    status=receipt.status,
                )
            )

    def __len__(self) -> int:
        return len(self._samples)

    def rows(self, registry: AbiRegistry) -> tuple[GasRow, ...]:
        """Aggregate the samples into rows, sorted by contract then operation."""
        selectors: dict[str, dict[bytes, str]] = {}
        groups: dict[tuple[str, str], list[_Sample]] = defaultdict(list)
        for sample in self._samples:
            if sample.to is None:
                name = registry.contract_at(sample.created) if sample.created else None
                key = (name or "(unknown contract)", DEPLOYMENT)
            else:
                name = registry.contract_at(sample.to)
                if name is None:
                    if sample.selector:
                        continue  # calls to contracts the chain has no ABI for
                    key = ("(plain transfer)", "transfer")
                else:
                    if name not in selectors:
                        selectors[name] = _function_selectors(registry.abi(name))
                    op = selectors[name].get(sample.selector, f"0x{sample.selector.hex()}")
                    key = (name, op)
            groups[key].append(sample)
        rows = []
        for (contract, op), samples in sorted(groups.items()):
            gas = [s.gas_used for s in samples]
            rows.append(
                GasRow(
                    contract=contract,
                    operation=op,
                    calls=len(gas),
                    min=min(gas),
                    mean=round(statistics.fmean(gas)),
                    max=max(gas),
                    reverted=sum(1 for s in samples if s.status == 0),
                )
            )
        return tuple(rows)


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
