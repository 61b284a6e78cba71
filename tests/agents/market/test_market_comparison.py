"""The market comparison over seeds: the opening answer, stated differences and closure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentbed.agents.market.comparison import comparison_text, market_stats, who_pays_paragraph
from agentbed.agents.reporting.intervals import paired_difference
from agentbed.agents.reporting.seeds import interval_text, signed


@dataclass
class Run:
    """What the comparison reads of a run: its label and summary."""

    label: str
    summary: dict[str, Any]


def summary(seed: int, victims: float, searchers: float, *, closes: bool = True) -> dict[str, Any]:
    retail = -victims - 100.0
    return {
        "seed": seed,
        "numeraire": "USDC",
        "victim_loss": victims,
        "bot_victim_loss": 0.0,
        "searcher_profit": searchers,
        "builder": {"revenue": 10.0 + seed},
        "burned": 2.0,
        "reverted": 3,
        "inclusion_delay_ms": {"mean": 12_000.0},
        "sandwiches": {"true": 0, "detected": 0, "precision": 1.0, "recall": 1.0},
        "by_kind": {
            "retail": {"agents": 2, "profit": retail, "searcher": False},
            "sandwicher": {"agents": 1, "profit": searchers, "searcher": True},
        },
        "closure": {
            "closes": closes,
            "holders": [{"kind": "deployer / passive LP", "value_change": 50.0 + seed}],
            "valued": {"agents": retail + searchers, "burned": 2.0, "residual": 0.0},
        },
    }


SEEDS = [1, 2, 3]
RUNS: dict[str, list[Any]] = {
    "fifo": [Run("fifo", summary(s, 0.0, 10.0 * s)) for s in SEEDS],
    # Victims lose about 100 more on every seed; searcher profit moves up on one seed and down
    # on another, so its paired interval straddles zero.
    "bundles": [
        Run("bundles", summary(1, 101.0, 50.0)),
        Run("bundles", summary(2, 99.0, 0.0)),
        Run("bundles", summary(3, 100.0, 35.0, closes=False)),
    ],
}


def test_the_answer_states_only_differences_whose_interval_excludes_zero() -> None:
    metrics, stats = market_stats(RUNS, "fifo")
    lines = who_pays_paragraph(stats, metrics, SEEDS, "policy", "fifo")
    text = "\n".join(lines)
    assert lines[0].startswith("**Who pays for ordering**, over 3 seeds (1-3) per policy")
    loss = paired_difference([101.0, 99.0, 100.0], [0.0, 0.0, 0.0])
    expected = interval_text(loss, signed(lambda v: f"{v:,.2f}"))
    bundles = next(line for line in lines if line.startswith("- **bundles** against fifo"))
    assert f"victim loss (USDC) {expected}" in bundles
    assert "not distinguishable at 3 seeds: " in bundles
    assert "searcher profit (USDC)" in bundles.split("not distinguishable at 3 seeds: ")[1]
    assert "the block producer" in text and "gain under every policy" in text
    assert "non-searchers lose under every policy" in text


def test_the_report_opens_with_the_answer_and_lists_runs_that_do_not_close() -> None:
    text = comparison_text(
        "T", ["intro"], RUNS, SEEDS, ["## Plots"], column="policy", baseline="fifo"
    )
    assert text.startswith("# T\n\n**Who pays for ordering**")
    assert text.index("**Who pays") < text.index("intro") < text.index("## Headline numbers")
    assert "Closure fails on 1 of the 3 x 2 runs: bundles seed 3." in text
    # Precision and recall: nothing detected, nothing true on any seed, so undefined.
    row = "| fifo | 2.00 [2.00, 2.00] | 52.00 [49.52, 54.48] | -100.00 [-100.00, -100.00] |"
    assert row + " 12.00 [12.00, 12.00] | 3.0 [3.0, 3.0] | - | - |" in text
    # No producer_share or lvr block in these summaries: undefined, not zero.
    assert "| fifo | 0.00 [0.00, 0.00] | 0.00 [0.00, 0.00] | 20.00 [-4.84, 44.84] |" in text
    assert "12.00 [9.52, 14.48] | - | - | - |" in text
