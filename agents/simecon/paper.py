"""The sim-economy paper's reported figures: what a reproduction is compared with.

From the paper's ``summary.json`` (24 runs x 60 turns, 8 agents of 1,000 tokens): each metric's
mean and the half-width of its 95% interval, which the paper computes as ``1.96 * sd / sqrt(n)``
(a normal interval; ours are t-intervals, about 4% wider at n = 24). Two figures come from its
per-run CSV because the paper states them without an interval: the fees-to-endowment ratio
(fees / 8,000 per run) and the share of ``mine`` + ``job`` among the 480 actions of a run.

Where the paper's prose and tables disagree, the machine-written ``summary.json`` is taken:
final supply is -872.29 (the prose and Table 3 print "872", dropping the sign), and the raw
Gini's mean is -0.434 (negative because wealth is; the paper reports it "for completeness").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PAPER_RUNS: Final = 24
PAPER_TURNS: Final = 60

PAPER: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "turns_with_block": (54.75, 0.3588),
        "fees_total": (24314.04, 277.55),
        "fees_to_endowment": (3.0393, 0.0347),
        "token_supply_final": (-872.29, 87.37),
        "negative_balance_agents": (7.958, 0.0817),
        "mean_balance_final": (-190.29, 9.60),
        "min_balance_final": (-302.5, 15.53),
        "max_balance_final": (-76.88, 16.01),
        "gini_wealth_final": (-0.4337, 0.0660),
        "top1_wealth_share_final": (0.0, 0.0),
        "wealth_shift_used": (232.96, 18.23),
        "gini_wealth_shifted": (0.3731, 0.0346),
        "top1_wealth_shifted_share_final": (0.2567, 0.0225),
        "mine_job_share": (0.9405, 0.0031),
        "actions.mine": (263.58, 3.06),
        "actions.job": (187.83, 3.13),
        "actions.unstake": (16.0, 1.33),
        "actions.stake": (8.125, 0.36),
        "actions.study": (2.583, 0.332),
        "actions.burn": (1.875, 0.379),
        "actions.transfer": (0.0, 0.0),
    }
)
"""Metric key path (as in our ``summary.json``) -> (the paper's mean, its 95% half-width)."""


def paper_interval(key: str) -> tuple[float, float] | None:
    """The paper's (low, high) 95% interval of a metric, or None when it reports none."""
    if key not in PAPER:
        return None
    mean, half = PAPER[key]
    return mean - half, mean + half
