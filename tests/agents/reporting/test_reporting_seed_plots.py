"""Plots of a comparison over seeds: a facet per label, so no label's line hides another's,
and the scenario and seeds in every title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.reporting import plots
from agentbed.agents.reporting.plots import (
    comparison_subtitle,
    write_seed_chain_plots,
    write_seed_series,
)

pytest.importorskip("matplotlib")


class Run:
    def __init__(self, label: str, fee: int, waits: list[int]) -> None:
        self.label = label
        self.blocks = [{"block": n, "base_fee": fee, "fullness": 0.5} for n in range(10, 14)]
        self.waits_ms = waits


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Path]]:
    saved: list[tuple[Any, Path]] = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: saved.append((fig, path)))
    return saved


def test_subtitle_names_the_scenario_and_its_seeds() -> None:
    assert comparison_subtitle("Who pays?", [7, 8, 9, 10, 11]) == "Who pays?: 5 seeds (7-11)"
    assert comparison_subtitle("small", [3]) == "small: 1 seed (3)"


def test_seed_series_draws_one_facet_per_label_with_the_mean(
    tmp_path: Path, figures: list[tuple[Any, Path]]
) -> None:
    series = {
        "fifo": [[0.0, 0.0, 0.0]] * 3,  # identical across labels: overlaid, they would hide
        "priority": [[0.0, 0.0, 0.0]] * 3,
        "bundles": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [2.0, 3.0, 4.0]],
    }
    subtitle = comparison_subtitle("mev", [1, 2, 3])
    write_seed_series(
        tmp_path / "x.png", series, title="Cumulative victim loss", subtitle=subtitle, ylabel="U"
    )
    ((fig, path),) = figures
    assert path == tmp_path / "x.png"
    axes = fig.get_axes()
    assert [ax.get_title(loc="left") for ax in axes] == ["fifo", "priority", "bundles"]
    means = [line.get_ydata().tolist() for ax in axes for line in ax.get_lines()[:1]]
    assert means == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 3.0, 4.0]]
    title = fig._suptitle.get_text()
    assert "Cumulative victim loss" in title and "mev: 3 seeds (1-3)" in title


def test_chain_plots_facet_every_label_and_name_the_seeds(
    tmp_path: Path, figures: list[tuple[Any, Path]]
) -> None:
    runs = {
        "fifo": [Run("fifo", 10**9, [1000, 2000]), Run("fifo", 3 * 10**9, [3000])],
        "random": [Run("random", 2 * 10**9, []), Run("random", 2 * 10**9, [500])],
    }
    names = write_seed_chain_plots(tmp_path, runs, comparison_subtitle("small", [1, 2]))
    assert names == ["base_fee_fullness.png", "inclusion_delay.png"]
    (fees, _), (delays, _) = figures
    assert len(fees.get_axes()) == 4 and len(delays.get_axes()) == 2
    assert fees.get_axes()[0].get_lines()[0].get_ydata().tolist() == [2.0] * 4  # gwei, mean
    assert delays.get_axes()[0].get_lines()[0].get_xdata().tolist()[-1] == 3.0  # both seeds
    for fig in (fees, delays):
        assert "small: 2 seeds (1-2)" in fig._suptitle.get_text()
