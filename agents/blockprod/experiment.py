"""The first reorg experiment: how often a time-bandit proposer rewrites history, as a function
of the MEV at stake and the finality depth.

Set-up (``scenarios/blockprod/reorgs.toml``): a chain whose proposers are drawn per slot with
probability proportional to stake (:class:`~agentbed.chain.auction.StakeWeightedSchedule`), one
of them a :class:`~agentbed.agents.blockprod.bandit.TimeBanditProposer` holding ``bandit_share``
of the stake. Every slot ``users`` accounts each send a transfer with a tip drawn uniformly from
``user_tip_gwei``; with probability ``mev_probability`` a searcher also sends one transaction
that pays the block's coinbase ``mev_at_stake_eth`` (as priority fee): the MEV at stake in that
block. Honest proposers seal on the head (priority-fee order); the bandit re-mines the last
blocks when their coinbase payments exceed ``cost_per_block_eth`` per block orphaned.

Measured per run (one seed, one grid point): **reorg frequency** = reorgs / slots; **mean reorg
depth** (orphaned blocks per reorg, runs with reorgs only); **bandit revenue share** = coinbase
payments of canonical blocks sealed by the bandit / all coinbase payments of canonical blocks.
Over seeds: mean and two-sided 95% Student t-interval; differences between grid points paired
by seed (:mod:`agentbed.agents.reporting.intervals`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agentbed.agents.blockprod.bandit import TimeBanditProposer
from agentbed.agents.blockprod.schedule import one_against_honest
from agentbed.agents.blockprod.tables import load_table
from agentbed.agents.reporting.intervals import (
    Interval,
    confidence_interval,
    paired_difference,
)
from agentbed.chain.auction import StakeWeightedSchedule
from agentbed.chain.node import GWEI, Chain

ETH = 10**18
TRANSFER_GAS = 21_000


class ReorgConfigError(ValueError):
    """``scenarios/blockprod/reorgs.toml`` names an unknown key or holds a bad value."""


@dataclass(frozen=True)
class ReorgConfig:
    """The experiment's grid and flow (see the module docstring)."""

    slots: int = 40
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    proposers: int = 4
    bandit_share: float = 0.25
    cost_per_block_eth: float = 0.02
    max_depth: int = 3
    users: int = 4
    user_tip_gwei: tuple[int, int] = (1, 3)
    mev_probability: float = 0.3
    mev_at_stake_eth: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1)
    finality_depths: tuple[int, ...] = (0, 4, 2, 1)
    """0: no finality (longest chain only)."""

    def __post_init__(self) -> None:
        if self.slots < 1 or not self.seeds or self.proposers < 2 or self.users < 1:
            raise ReorgConfigError("need slots >= 1, some seeds, proposers >= 2 and users >= 1")
        if not 0 < self.bandit_share < 1 or not 0 <= self.mev_probability <= 1:
            raise ReorgConfigError("bandit_share must be in (0, 1), mev_probability in [0, 1]")
        if any(d < 0 for d in self.finality_depths) or self.max_depth < 1:
            raise ReorgConfigError("finality depths must be >= 0 and max_depth >= 1")


def load_config(path: str | Path) -> ReorgConfig:
    """The ``[reorgs]`` table of a TOML file as a :class:`ReorgConfig`.

    Raises:
        ReorgConfigError: No ``[reorgs]`` table, an unknown key, or a bad value.
    """
    return load_table(path, "reorgs", ReorgConfig, ReorgConfigError)


@dataclass(frozen=True, slots=True)
class RunStats:
    """One run's counts."""

    slots: int
    reorgs: int
    depth_sum: int
    bandit_revenue: int
    total_revenue: int

    @property
    def frequency(self) -> float:
        return self.reorgs / self.slots

    @property
    def bandit_share(self) -> float:
        return self.bandit_revenue / self.total_revenue if self.total_revenue else 0.0


def _schedule(cfg: ReorgConfig, seed: int) -> tuple[StakeWeightedSchedule, TimeBanditProposer]:
    schedule = one_against_honest("bandit", f"0x{0xB0:040x}", cfg.bandit_share, cfg.proposers, seed)
    bandit = TimeBanditProposer(
        "bandit",
        schedule.proposers[0].fee_recipient,
        cost_per_block=int(cfg.cost_per_block_eth * ETH),
        max_depth=cfg.max_depth,
    )
    return schedule, bandit


def _send_flow(chain: Chain, cfg: ReorgConfig, rng: random.Random, mev_wei: int) -> None:
    """One slot's transactions: the users' transfers and perhaps the searcher's MEV payment."""
    sink = chain.accounts[-1].address
    for user in chain.accounts[: cfg.users]:
        tip = rng.randint(*cfg.user_tip_gwei) * GWEI
        tx = {"to": sink, "value": 1, "gas": TRANSFER_GAS, "maxPriorityFeePerGas": tip}
        chain.submit(chain.sign(user, {**tx, "maxFeePerGas": 2 * chain.base_fee + tip}))
    if mev_wei and rng.random() < cfg.mev_probability:
        tip = mev_wei // TRANSFER_GAS
        tx = {"to": sink, "value": 1, "gas": TRANSFER_GAS, "maxPriorityFeePerGas": tip}
        searcher = chain.accounts[cfg.users]
        chain.submit(chain.sign(searcher, {**tx, "maxFeePerGas": 2 * chain.base_fee + tip}))


def run_once(cfg: ReorgConfig, seed: int, mev_eth: float, finality: int) -> RunStats:
    """One run: ``cfg.slots`` slots at one grid point, deterministic in ``seed``."""
    chain = Chain(seed=seed, accounts=cfg.users + 2, automine=False)
    chain.set_fork_choice(finality_depth=finality or None)
    schedule, bandit = _schedule(cfg, seed)
    rng = random.Random(f"agent-testbed/reorgs/flow/{seed}")  # the same flow at every grid point
    mev_wei = int(mev_eth * ETH)
    for _ in range(cfg.slots):
        _send_flow(chain, cfg, rng, mev_wei)
        proposer = schedule.proposer_for(chain.block_number + 1)
        if proposer.name == bandit.name:
            bandit.propose(chain)
        else:
            chain.coinbase = proposer.fee_recipient
            chain.mine()
    blocks = [chain.block(n) for n in range(1, chain.block_number + 1)]
    return RunStats(
        slots=cfg.slots,
        reorgs=len(chain.reorgs),
        depth_sum=sum(r.depth for r in chain.reorgs),
        bandit_revenue=sum(b.coinbase_payment for b in blocks if b.coinbase == bandit.coinbase),
        total_revenue=sum(b.coinbase_payment for b in blocks),
    )


@dataclass(frozen=True, slots=True)
class GridPoint:
    """Every seed's run at one (MEV at stake, finality depth)."""

    mev_eth: float
    finality: int
    runs: tuple[RunStats, ...]

    def frequency(self) -> Interval:
        return confidence_interval([r.frequency for r in self.runs])

    def bandit_share(self) -> Interval:
        return confidence_interval([r.bandit_share for r in self.runs])

    def mean_depth(self) -> float | None:
        reorgs = sum(r.reorgs for r in self.runs)
        return sum(r.depth_sum for r in self.runs) / reorgs if reorgs else None


def run_grid(cfg: ReorgConfig) -> list[GridPoint]:
    """Every (MEV at stake, finality depth) point over every seed."""
    return [
        GridPoint(mev, finality, tuple(run_once(cfg, seed, mev, finality) for seed in cfg.seeds))
        for mev in cfg.mev_at_stake_eth
        for finality in cfg.finality_depths
    ]


def _ci(interval: Interval, scale: float = 1.0) -> str:
    if interval.low is None or interval.high is None:
        return f"{interval.mean * scale:.3f}"
    return f"{interval.mean * scale:.3f} [{interval.low * scale:.3f}, {interval.high * scale:.3f}]"


def report(cfg: ReorgConfig, grid: list[GridPoint]) -> str:
    """A Markdown report: the grid table and the paired comparisons the claims rest on."""
    lines = [
        "# Time-bandit reorgs: frequency vs MEV at stake and finality depth",
        "",
        f"{len(cfg.seeds)} seeds x {cfg.slots} slots per point; bandit stake share "
        f"{cfg.bandit_share}; cost {cfg.cost_per_block_eth} ETH per orphaned block; MEV tx "
        f"in a slot with probability {cfg.mev_probability}. Means with 95% t-intervals over seeds.",
        "",
        "| MEV at stake (ETH) | finality depth | reorgs per slot | mean depth "
        "| bandit share of producer revenue |",
        "|---|---|---|---|---|",
    ]
    for point in grid:
        depth = point.mean_depth()
        lines.append(
            f"| {point.mev_eth} | {point.finality or 'none'} | {_ci(point.frequency())} "
            f"| {'-' if depth is None else f'{depth:.2f}'} | {_ci(point.bandit_share())} |"
        )
    lines += ["", "Paired differences in reorgs per slot (by seed, 95% t-interval):", ""]
    by_key = {(p.mev_eth, p.finality): p for p in grid}
    low, high = min(cfg.mev_at_stake_eth), max(cfg.mev_at_stake_eth)
    for finality in cfg.finality_depths:
        diff = paired_difference(
            [r.frequency for r in by_key[(high, finality)].runs],
            [r.frequency for r in by_key[(low, finality)].runs],
        )
        lines.append(f"- finality {finality or 'none'}: MEV {high} minus MEV {low}: {_ci(diff)}")
    return "\n".join(lines) + "\n"


def run_from_file(path: str | Path, **overrides: Any) -> tuple[ReorgConfig, list[GridPoint]]:
    """Load the config (``overrides`` replace its fields) and run the grid."""
    cfg = load_config(path)
    if overrides:
        values = {f.name: getattr(cfg, f.name) for f in fields(ReorgConfig)}
        cfg = ReorgConfig(**{**values, **overrides})
    return cfg, run_grid(cfg)
