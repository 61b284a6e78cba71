"""The sim-economy paper's measures of a finished run, as small named functions.

Definitions follow the paper's harness (``run_sim_experiments.py``) so the numbers compare:

- **wealth** of an agent = balance + stake (stake whose unstake was requested still counts);
- **Gini** = ``2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n`` over wealth sorted ascending
  (i from 1), 0 when the sum is 0. On signed wealth it can be negative (the paper's "raw Gini");
- **shift rule**: when the smallest wealth ``m`` is <= 0, every wealth gets ``1 - m`` added
  (so the poorest holds exactly 1); the "shifted" Gini and top-1 share are taken after it;
- **top-1 share** = largest wealth / total wealth when the total is positive, else 0 (the
  harness's rule: the raw share is 0 in every run whose total is negative);
- **fees-to-endowment** = inference fees billed over the run / the agents' genesis tokens.
"""

from __future__ import annotations

from collections.abc import Sequence


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of ``values`` by the harness's formula (module docstring)."""
    xs = sorted(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum(i * x for i, x in enumerate(xs, start=1))
    return 2.0 * weighted / (n * total) - (n + 1) / n


def shift_of(values: Sequence[float]) -> float:
    """The constant the shift rule adds: ``1 - min`` when the minimum is <= 0, else 0."""
    low = min(values)
    return 1 - low if low <= 0 else 0


def shifted(values: Sequence[float]) -> list[float]:
    """``values`` after the shift rule."""
    shift = shift_of(values)
    return [v + shift for v in values]


def top1_share(values: Sequence[float]) -> float:
    """Largest value over the total when the total is positive, else 0 (the harness's rule)."""
    total = sum(values)
    return max(values) / total if total > 0 else 0.0


def fees_to_endowment(fees: int, endowment: int) -> float:
    """Fees billed over the agents' genesis tokens."""
    if endowment <= 0:
        raise ValueError(f"endowment must be > 0, got {endowment}")
    return fees / endowment


def negative_count(balances: Sequence[int]) -> int:
    """Agents whose balance (not wealth: the paper counts cash) is below zero."""
    return sum(1 for b in balances if b < 0)
