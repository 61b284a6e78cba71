"""Plots of a report: figures written as PNG without metadata, the chain plots every study
draws, the faceted plots of a comparison over seeds (one facet per policy or variant, the mean
with its 95% t-interval shaded, the scenario and seeds in every title), and the report's
``Plots`` section.

matplotlib is imported only when a figure is made, so the rest of a report needs no plotting
library: without matplotlib :func:`new_figure` raises :class:`MatplotlibMissing`,
:func:`draw_plots` turns that into "no plots", and :func:`plot_section` says so in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from agentbed.agents.reporting.files import write_atomic
from agentbed.agents.reporting.intervals import confidence_interval

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


# -- comparisons over seeds -----------------------------------------------------------------------


def comparison_subtitle(scenario_name: str, seeds: Sequence[int]) -> str:
    """The line every comparison plot carries: the scenario and its seeds."""
    span = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    many = "seed" if len(seeds) == 1 else "seeds"
    return f"{scenario_name}: {len(seeds)} {many} ({span})"


def _band(series: Sequence[Sequence[float]]) -> tuple[list[float], list[float], list[float]]:
    """Per point, the mean over the seeds' series and its 95% t-interval (the mean itself as
    both ends with one seed); series of different lengths are cut to the shortest."""
    length = min(len(s) for s in series)
    means, lows, highs = [], [], []
    for i in range(length):
        interval = confidence_interval([s[i] for s in series])
        means.append(interval.mean)
        lows.append(interval.mean if interval.low is None else interval.low)
        highs.append(interval.mean if interval.high is None else interval.high)
    return means, lows, highs


def facet_figure(labels: Sequence[str], columns: int = 1) -> Any:
    """A figure with a row of ``columns`` plots per label, sharing the x axis; its axes as a
    list of rows.

    Raises:
        MatplotlibMissing: matplotlib is not installed.
    """
    plt = _import_pyplot()
    fig, axes = plt.subplots(
        len(labels),
        columns,
        figsize=(8 if columns == 1 else 11, 1.9 * len(labels) + 1.2),
        squeeze=False,
        sharex="col",
        sharey="col",
    )
    return fig, [list(row) for row in axes]


def write_seed_series(
    path: Path,
    series: Mapping[str, Sequence[Sequence[float]]],
    *,
    title: str,
    subtitle: str,
    ylabel: str,
    xlabel: str = "measured block",
) -> None:
    """One facet per label: the mean over seeds of a per-block series, with its 95% t-interval
    shaded, so no label's line can hide another's.

    Args:
        path: The PNG to write.
        series: Each label's series, one per seed.
        title: The figure's title; ``subtitle`` goes under it (scenario and seeds).
        ylabel: The y axis's label; ``xlabel`` the x axis's.

    Raises:
        MatplotlibMissing: matplotlib is not installed.
    """
    fig, rows = facet_figure(list(series))
    for (label, runs), (ax,) in zip(series.items(), rows, strict=True):
        if runs and min(len(s) for s in runs):
            means, lows, highs = _band(runs)
            xs = list(range(1, len(means) + 1))
            ax.fill_between(xs, lows, highs, alpha=0.25, linewidth=0)
            ax.plot(xs, means, linewidth=1.5)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_ylabel(ylabel)
        ax.set_title(label, loc="left", fontsize="medium")
    rows[-1][0].set_xlabel(xlabel)
    fig.suptitle(f"{title}\n{subtitle}; mean over seeds, 95% t-interval shaded", fontsize="medium")
    save_figure(fig, path)


def write_seed_chain_plots(
    out: Path, runs: Mapping[str, Sequence[ChainRun]], subtitle: str
) -> list[str]:
    """The chain plots of a comparison over seeds, one facet row per label: base fee and block
    fullness (mean over seeds per measured block, 95% t-interval shaded), and the inclusion
    delay's distribution over every seed's mined transactions. Returns the files' names.

    Raises:
        MatplotlibMissing: matplotlib is not installed.
    """
    fig, rows = facet_figure(list(runs), columns=2)
    for (label, group), (fee_ax, full_ax) in zip(runs.items(), rows, strict=True):
        fees = [[row["base_fee"] / 1e9 for row in run.blocks] for run in group]
        fullness = [[float(row["fullness"]) for row in run.blocks] for run in group]
        for ax, data in ((fee_ax, fees), (full_ax, fullness)):
            if data and min(len(s) for s in data):
                means, lows, highs = _band(data)
                xs = list(range(1, len(means) + 1))
                ax.fill_between(xs, lows, highs, alpha=0.25, linewidth=0)
                ax.plot(xs, means, linewidth=1.5)
        fee_ax.set(ylabel="base fee (gwei)")
        full_ax.set(ylabel="gas used / limit", ylim=(0, 1.05))
        fee_ax.set_title(label, loc="left", fontsize="medium")
    rows[-1][0].set_xlabel("measured block")
    rows[-1][1].set_xlabel("measured block")
    fig.suptitle(
        f"Base fee and block fullness\n{subtitle}; mean over seeds, 95% t-interval shaded",
        fontsize="medium",
    )
    save_figure(fig, out / "base_fee_fullness.png")

    fig, rows = facet_figure(list(runs))
    for (label, group), (ax,) in zip(runs.items(), rows, strict=True):
        waits = sorted(w / 1000 for run in group for w in run.waits_ms)
        if waits:
            ys = [(i + 1) / len(waits) for i in range(len(waits))]
            ax.step(waits, ys, where="post")
        ax.set(ylabel="share mined", ylim=(0, 1.02))
        ax.set_title(label, loc="left", fontsize="medium")
    rows[-1][0].set_xlabel("seconds from arrival to inclusion")
    fig.suptitle(
        f"Inclusion delay (cumulative distribution over every seed's mined txs)\n{subtitle}",
        fontsize="medium",
    )
    save_figure(fig, out / "inclusion_delay.png")
    return ["base_fee_fullness.png", "inclusion_delay.png"]
