"""Means and t-intervals over seeds, for the experiments (sweeps, comparisons).

The one implementation lives in :mod:`agentbed.agents.reporting.intervals`, beside the other
statistics every study's reports use, so that a study's report can state intervals without
importing the experiments layer above it; this module is its name for the experiments.
"""

from __future__ import annotations

from agentbed.agents.reporting.intervals import (
    CONFIDENCE,
    Interval,
    confidence_interval,
    paired_difference,
    t_critical,
)

__all__ = ["CONFIDENCE", "Interval", "confidence_interval", "paired_difference", "t_critical"]
