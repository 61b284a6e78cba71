"""Plots are optional: matplotlib is imported only to draw, and without it a run's report is
still written, without PNGs and with one line saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentbed.agents.economy.report import PLOTS as ECONOMY_PLOTS
from agentbed.agents.economy.report import EconomyReport, write_economy_run
from agentbed.agents.market.report import PLOTS as MARKET_PLOTS
from agentbed.agents.market.report import RunReport, write_run
from agentbed.agents.reporting.plots import (
    PLOTS_NOT_DRAWN,
    MatplotlibMissing,
    draw_plots,
    new_figure,
    plot_section,
)
from agentbed.experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
SMALL = ROOT / "scenarios" / "small.toml"
BLOCKS = [
    {
        "block": n,
        "base_fee": 10**9,
        "fullness": 0.5,
        "released": n,
        "timed_out": 0,
        "disputed": 0,
        "gini": 0.1,
        "auc": 0.5,
        "victim_loss": 1.0,
        "searcher_profit": 2.0,
    }
    for n in (1, 2)
]


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import matplotlib`` fail as it does where it is not installed."""
    # None in sys.modules makes every import of the package (and of its submodules) fail.
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def economy_report() -> EconomyReport:
    """A hand-made one-run economy report with every figure its Markdown reads."""
    summary: dict[str, Any] = {
        "settlement_rate": 0.5,
        "timeout_rate": 0.25,
        "dispute_rate": 0.25,
        "by_behaviour": {
            "honest": {
                "sellers": 1,
                "deals": 2,
                "delivered": 2,
                "timeout_rate": 0.0,
                "default_rate": 0.0,
                "dispute_lost": 0,
                "trust_mean": 0.75,
            },
        },
        "welfare": {"total": 10.0, "slashed": 1.0},
        "gini": {"last": 0.1},
        "auc": {"last": 0.5},
        "choice": {"honest_share": 0.5},
        "bribes": {"bribed_rulings": 0},
        "inclusion_delay_ms": {"mean": 1500.0},
        "credentials": {"issued": 0, "revoked": 0, "forged": 0, "rejected": {}},
        "base_fee": {"max": 10**9},
        "fullness_mean": 0.5,
        "priced_out": 0,
        "broken_commitments": 0,
        "missed_acceptances": 0,
        "late_deliveries": 0,
        "by_kind": {
            "buyer": {
                "agents": 1,
                "sent": 2,
                "included": 2,
                "priced_out": 0,
                "inclusion_delay_ms_mean": 1000.0,
                "net": 1.0,
            }
        },
    }
    return EconomyReport("base", summary, BLOCKS, [], [], [1000, 2000])


def market_report() -> RunReport:
    """A hand-made one-run market report with every figure its Markdown reads."""
    score = {
        "true": 1,
        "detected": 1,
        "true_positives": 1,
        "false_positives": 0,
        "false_negatives": 0,
        "precision": 1.0,
        "recall": 1.0,
    }
    summary: dict[str, Any] = {
        "numeraire": "USDC",
        "victim_loss": 1.0,
        "searcher_profit": 2.0,
        "builder": {"revenue": 0.5},
        "burned": 0.25,
        "sandwiches": score,
        "backruns": score,
        "inclusion_delay_ms": {"mean": 1500.0},
        "reverted": 0,
        "by_kind": {"retail": {"agents": 2, "searcher": False, "profit": -1.0}},
    }
    return RunReport("priority", summary, BLOCKS, waits_ms=[1000, 2000])


def test_reports_import_no_plotting_library() -> None:
    code = (
        "import sys\n"
        "import agentbed.agents.economy.report, agentbed.agents.market.report\n"
        "import agentbed.agents.reporting.plots\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.usefixtures("no_matplotlib")
def test_new_figure_without_matplotlib_names_the_extra_to_install() -> None:
    with pytest.raises(MatplotlibMissing, match=r'pip install "agentbed\[plots\]"'):
        new_figure()
    assert draw_plots(lambda: [*new_figure(), "never.png"]) is None


def test_plot_section_lists_plots_or_says_why_there_are_none() -> None:
    assert plot_section(["a.png"], {"a.png": "A"}) == ["## Plots", "", "![A](a.png)", ""]
    assert plot_section(None, {"a.png": "A"}) == ["## Plots", "", PLOTS_NOT_DRAWN, ""]
    assert PLOTS_NOT_DRAWN == (
        'plots not drawn: matplotlib is not installed (pip install "agentbed[plots]")'
    )


@pytest.mark.usefixtures("no_matplotlib")
def test_economy_run_without_matplotlib_writes_its_report_without_plots(tmp_path: Path) -> None:
    report = write_economy_run(tmp_path, economy_report(), title="T", intro=["intro"])
    assert {p.name for p in tmp_path.iterdir()} == {
        "blocks.csv",
        "agents.csv",
        "deals.csv",
        "summary.json",
        "report.md",
    }
    text = report.read_text()
    assert text.endswith(f"## Plots\n\n{PLOTS_NOT_DRAWN}\n")
    assert text.count(PLOTS_NOT_DRAWN) == 1
    assert "| run | settlement |" in text


@pytest.mark.usefixtures("no_matplotlib")
def test_market_run_without_matplotlib_writes_its_report_without_plots(tmp_path: Path) -> None:
    scenario = load_scenario(SMALL)
    report = write_run(tmp_path, market_report(), scenario, scenario.run.seed)
    assert {p.name for p in tmp_path.iterdir()} == {
        "blocks.csv",
        "agents.csv",
        "victims.csv",
        "summary.json",
        "report.md",
    }
    text = report.read_text()
    assert text.endswith(f"## Plots\n\n{PLOTS_NOT_DRAWN}\n")
    assert "| priority | 1.00 | 2.00 |" in text


def test_with_matplotlib_the_same_reports_draw_and_show_every_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    economy, market = tmp_path / "economy", tmp_path / "market"
    economy_text = write_economy_run(economy, economy_report(), title="T", intro=[]).read_text()
    scenario = load_scenario(SMALL)
    market_text = write_run(market, market_report(), scenario, 1).read_text()
    for out, text, plots in (
        (economy, economy_text, ECONOMY_PLOTS),
        (market, market_text, MARKET_PLOTS),
    ):
        assert PLOTS_NOT_DRAWN not in text
        for name, caption in plots.items():
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"![{caption}]({name})" in text
