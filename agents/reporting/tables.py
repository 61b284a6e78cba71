"""Tables of a report: CSV files, Markdown tables, the number formats cells use, and the
per-block columns every study's ``blocks.csv`` starts with."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentbed.agents.reporting.files import write_text

if TYPE_CHECKING:
    from agentbed.agents.sim import BlockMetrics

Table = tuple[str, Sequence[str], str]
"""A run's CSV file: (file name, columns, the report attribute holding the rows)."""


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV table of ``rows`` under ``columns`` (a row's missing columns left empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in columns})
    return buffer.getvalue()


def write_tables(
    out: Path,
    tables: Iterable[Table],
    runs: Sequence[Any],
    column: str | None = None,
    *,
    seeds: Sequence[int] | None = None,
) -> None:
    """Write each ``(file name, columns, attribute)`` table of ``runs`` into ``out``.

    Without ``column``, ``runs`` is one run and each file holds its rows; with it, each file
    holds every run's rows under a first column ``column`` naming the run (its ``label``), and
    with ``seeds`` (one per run) a second column ``seed``.
    """
    for name, columns, attr in tables:
        if column is None:
            (run,) = runs
            text = csv_text(columns, getattr(run, attr))
        elif seeds is None:
            rows = ({column: r.label, **row} for r in runs for row in getattr(r, attr))
            text = csv_text((column, *columns), rows)
        else:
            rows = (
                {column: r.label, "seed": seed, **row}
                for r, seed in zip(runs, seeds, strict=True)
                for row in getattr(r, attr)
            )
            text = csv_text((column, "seed", *columns), rows)
        write_text(out / name, text)


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], align: str
) -> list[str]:
    """A Markdown table as lines; ``align`` holds a letter per column, ``l`` (left) or ``r``."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(str(c) for c in cells) + " |" for cells in (header, rule, *rows)]


def number_text(value: float) -> str:
    """``value`` as a report shows an amount: thousands separators, two decimals.

    A value that rounds to zero reads ``0.00``, never ``-0.00``: a tiny float residual has no
    sign worth showing.
    """
    text = f"{value:,.2f}"
    return text[1:] if text == "-0.00" else text


def percent_text(value: float) -> str:
    """A share (0..1) as a whole percentage."""
    return f"{100 * value:.0f}%"


def metrics_row(m: BlockMetrics) -> dict[str, Any]:
    """The columns of a ``blocks.csv`` row that come from the block's own metrics."""
    return {
        "block": m.number,
        "timestamp_ms": m.timestamp_ms,
        "base_fee": m.base_fee,
        "gas_used": m.gas_used,
        "gas_limit": m.gas_limit,
        "fullness": round(m.fullness, 6),
        "txs": m.txs,
        "reverted": m.reverted,
        "pending_after": m.pending_after,
        "mean_wait_ms": round(m.mean_wait_ms, 3),
    }
