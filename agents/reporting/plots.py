"""Plots of a report: figures written as PNG without metadata, the chain plots every study
draws, and the report's ``Plots`` section.

matplotlib is imported only when a figure is made, so the rest of a report needs no plotting
library: without matplotlib :func:`new_figure` raises :class:`MatplotlibMissing`,
:func:`draw_plots` turns that into "no plots", and :func:`plot_section` says so in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from agentbed.agents.reporting.files import write_atomic

INSTALL_HINT = 'matplotlib is not installed (pip install "agentbed[plots]")'
PLOTS_NOT_DRAWN = f"plots not drawn: {INSTALL_HINT}"
"""The line a report holds in place of its plots when matplotlib is missing."""


class MatplotlibMissing(ImportError):
    """A plot was asked for, but matplotlib cannot be imported."""


def _import_pyplot() -> Any:
    """matplotlib's ``pyplot`` on the headless backend.

    Raises:
        MatplotlibMissing: matplotlib itself is not importable (a failure inside an installed
            matplotlib is raised as it is).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError as err:
        if (err.name or "").partition(".")[0] != "matplotlib":
            raise
        raise MatplotlibMissing(INSTALL_HINT) from err
    return plt


def new_figure(rows: int = 1) -> Any:
    """A figure of ``rows`` stacked plots and the list of their axes (headless backend).

    Raises:
        MatplotlibMissing: matplotlib is not installed.
    """
    plt = _import_pyplot()
    fig, axes = plt.subplots(rows, 1, figsize=(8, 3.2 * rows), squeeze=False)
    return fig, [ax for (ax,) in axes]


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically and without metadata, and close it."""
    from matplotlib import pyplot as plt

    fig.tight_layout()
    # No Software/date metadata: the same data gives the same bytes.
    write_atomic(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    )
    plt.close(fig)


def draw_plots(draw: Callable[[], list[str]]) -> list[str] | None:
    """Call ``draw``, which writes plots and returns their file names; None when matplotlib is
    not installed (the report is then written without plots)."""
    try:
        return draw()
    except MatplotlibMissing:
        return None


def plot_section(plots: Sequence[str] | None, captions: Mapping[str, str]) -> list[str]:
    """The report's ``Plots`` section as Markdown lines: each plot with its caption, or the
    :data:`PLOTS_NOT_DRAWN` line when ``plots`` is None."""
    lines = ["## Plots", ""]
    if plots is None:
        return [*lines, PLOTS_NOT_DRAWN, ""]
    for name in plots:
        lines += [f"![{captions.get(name, name)}]({name})", ""]
    return lines


def cumulative(values: Iterable[float]) -> list[float]:
    """Running totals of ``values``."""
    out, total = [], 0.0
    for value in values:
        total += value
        out.append(total)
    return out


class ChainRun(Protocol):
    """What the chain plots need of a run's report (a study's ``RunReport``, ``EconomyReport``)."""

    @property
    def label(self) -> str: ...

    @property
    def blocks(self) -> list[dict[str, Any]]: ...

    @property
    def waits_ms(self) -> list[int]: ...


def write_chain_plots(out: Path, runs: Sequence[ChainRun]) -> None:
    """Write ``base_fee_fullness.png`` and ``inclusion_delay.png``, one line per run.

    Each run's ``blocks`` rows need ``block``, ``base_fee`` and ``fullness``.
    """
    fig, (fee_ax, full_ax) = new_figure(2)
    for run in runs:
        xs = [row["block"] for row in run.blocks]
        fee_ax.plot(xs, [row["base_fee"] / 1e9 for row in run.blocks], label=run.label)
        full_ax.plot(xs, [row["fullness"] for row in run.blocks], label=run.label)
    fee_ax.set(xlabel="block", ylabel="gwei", title="Base fee")
    full_ax.set(xlabel="block", ylabel="gas used / limit", title="Block fullness", ylim=(0, 1.05))
    fee_ax.legend()
    save_figure(fig, out / "base_fee_fullness.png")

    fig, (ax,) = new_figure()
    for run in runs:
        waits = sorted(w / 1000 for w in run.waits_ms)
        if waits:
            ys = [(i + 1) / len(waits) for i in range(len(waits))]
            ax.step(waits, ys, where="post", label=run.label)
    ax.set(
        xlabel="seconds from arrival to inclusion",
        ylabel="share of mined txs",
        title="Inclusion delay (cumulative distribution)",
        ylim=(0, 1.02),
    )
    if ax.get_legend_handles_labels()[0]:  # no run mined anything: nothing to label
        ax.legend()
    save_figure(fig, out / "inclusion_delay.png")
