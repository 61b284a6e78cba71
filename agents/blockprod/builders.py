"""The builder-market experiment: who gets the MEV when builders compete for the slot, with and
without a vertically integrated builder-searcher, as the number of builders grows.

Set-up (``scenarios/blockprod/builders.toml``): every slot a user sends one public transfer
(1-3 gwei tip) that opens an opportunity worth ``V`` (drawn uniformly from ``mev_eth``). Each of
``searchers`` searchers captures it with a bundle ``[user tx, payment]`` whose payment to the
coinbase is a share of ``V`` drawn uniformly from ``searcher_share`` (the bundles conflict on
the user tx, so each builder includes only the best one it has). Bundles go to every builder.
With ``integrated = true`` searcher 0 belongs to builder 0: its bundles go to builder 0 only and
pay all of ``V`` (a transfer inside one firm). Builders bid a share of their block
value (first price, :class:`~agentbed.chain.auction.SlotAuction`), the share drawn each slot
per builder from ``builder_bid_bps`` (:class:`DrawnShadeBid`); proposers take turns
(round-robin) and take the best bid if it beats their own block.

Measured per run: the **proposer share** = sum of proposer revenue / sum of ``V``; the **builder
share** = sum of (winning block value - price) / sum of ``V`` (value includes the user tips, a
small term); the **HHI** of builders' slot wins (sum of squared win shares; 1 = one builder
wins every slot); the integrated builder's win share. Over seeds: mean and 95% t-interval;
integration on vs off paired by seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from agentbed.agents.blockprod.tables import load_table
from agentbed.agents.reporting.intervals import (
    Interval,
    confidence_interval,
    paired_difference,
)
from agentbed.chain.auction import (
    BuilderSpec,
    Proposer,
    RoundRobinSchedule,
    SlotAuction,
    builder_shares,
)
from agentbed.chain.node import GWEI, Chain

ETH = 10**18
TRANSFER_GAS = 21_000


class BuildersConfigError(ValueError):
    """``scenarios/blockprod/builders.toml`` names an unknown key or holds a bad value."""


@dataclass(frozen=True)
class BuildersConfig:
    """The experiment's grid and flow (see the module docstring)."""

    slots: int = 30
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    builder_counts: tuple[int, ...] = (1, 2, 4)
    integrated: tuple[bool, ...] = (False, True)
    searchers: int = 3
    proposers: int = 4
    mev_eth: tuple[float, float] = (0.01, 0.05)
    searcher_share: tuple[float, float] = (0.5, 0.9)
    builder_bid_bps: tuple[int, int] = (8_000, 9_800)

    def __post_init__(self) -> None:
        if self.slots < 1 or not self.seeds or self.searchers < 1 or self.proposers < 1:
            raise BuildersConfigError("need slots >= 1, seeds, searchers >= 1, proposers >= 1")
        if not self.builder_counts or min(self.builder_counts) < 1:
            raise BuildersConfigError("builder_counts must be >= 1")
        if not 0 <= self.searcher_share[0] <= self.searcher_share[1] <= 1:
            raise BuildersConfigError("searcher_share must be 0 <= low <= high <= 1")
        if not 0 <= self.builder_bid_bps[0] <= self.builder_bid_bps[1] <= 10_000:
            raise BuildersConfigError("builder_bid_bps must be 0 <= low <= high <= 10000")


class DrawnShadeBid:
    """Bid a share of the block value drawn each slot uniformly from ``[low_bps, high_bps]``
    (builders differ in costs and strategy from slot to slot); its own seeded RNG."""

    def __init__(self, low_bps: int, high_bps: int, rng: random.Random) -> None:
        self.low_bps, self.high_bps, self._rng = low_bps, high_bps, rng

    def bid(self, value: int) -> int:
        return value * self._rng.randint(self.low_bps, self.high_bps) // 10_000


def load_builders_config(path: str | Path) -> BuildersConfig:
    """The ``[builders]`` table of a TOML file.

    Raises:
        BuildersConfigError: No ``[builders]`` table, an unknown key, or a bad value.
    """
    return load_table(path, "builders", BuildersConfig, BuildersConfigError)


@dataclass(frozen=True, slots=True)
class MarketStats:
    """One run's totals (wei) and win shares."""

    mev: int
    proposer: int
    builder_margin: int
    shares: tuple[tuple[str, float], ...]

    @property
    def proposer_share(self) -> float:
        return self.proposer / self.mev

    @property
    def builder_share(self) -> float:
        return self.builder_margin / self.mev

    @property
    def hhi(self) -> float:
        return sum(share**2 for _, share in self.shares)

    def win_share(self, name: str) -> float:
        return dict(self.shares).get(name, 0.0)


def _payment(chain: Chain, searcher: int, wei: int) -> bytes:
    tip = wei // TRANSFER_GAS
    fields_ = {
        "to": chain.accounts[-1].address,
        "value": 1,
        "gas": TRANSFER_GAS,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 2 * chain.base_fee + tip,
    }
    return chain.sign(chain.accounts[1 + searcher], fields_)


def run_market(cfg: BuildersConfig, seed: int, n_builders: int, integrated: bool) -> MarketStats:
    """One run of ``cfg.slots`` slots, deterministic in ``seed``."""
    chain = Chain(seed=seed, accounts=2 + cfg.searchers + n_builders, automine=False)
    first_builder = 1 + cfg.searchers
    builders = [
        BuilderSpec(
            f"builder{i}",
            chain.accounts[first_builder + i],
            bidding=DrawnShadeBid(
                *cfg.builder_bid_bps, random.Random(f"agent-testbed/builders/bid/{seed}/{i}")
            ),
            searcher="searcher0" if integrated and i == 0 else None,
        )
        for i in range(n_builders)
    ]
    proposers = [Proposer(f"p{i}", f"0x{0xE0 + i:040x}") for i in range(cfg.proposers)]
    auction = SlotAuction(chain, builders, RoundRobinSchedule(proposers))
    rng = random.Random(f"agent-testbed/builders/flow/{seed}")  # same flow at every grid point
    mev = proposer = margin = 0
    for _ in range(cfg.slots):
        value = int(rng.uniform(*cfg.mev_eth) * ETH)
        tip = rng.randint(1, 3) * GWEI
        user_tx = {"to": chain.accounts[-1].address, "value": 1, "gas": TRANSFER_GAS}
        user_tx |= {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * chain.base_fee + tip}
        victim = chain.sign(chain.accounts[0], user_tx)
        chain.submit(victim)
        for j in range(cfg.searchers):
            share = rng.uniform(*cfg.searcher_share)
            own = integrated and j == 0
            pay = value if own else int(value * share)
            auction.send_bundle([victim, _payment(chain, j, pay)], origin=f"searcher{j}")
        result = auction.run_slot()
        mev += value
        proposer += result.proposer_revenue
        if result.winner is not None:
            won = next(b for b in result.bids if b.builder == result.winner)
            margin += won.value - result.price
    shares = tuple(builder_shares(auction.results).items())
    return MarketStats(mev, proposer, margin, shares)


@dataclass(frozen=True, slots=True)
class MarketPoint:
    n_builders: int
    integrated: bool
    runs: tuple[MarketStats, ...]

    def interval(self, metric: str) -> Interval:
        return confidence_interval([_metric(run, metric) for run in self.runs])


def _metric(run: MarketStats, metric: str) -> float:
    if metric == "builder0":
        return run.win_share("builder0")
    return float(getattr(run, metric))


def run_market_grid(cfg: BuildersConfig) -> list[MarketPoint]:
    """Every (number of builders, integration) point over every seed."""
    return [
        MarketPoint(k, vi, tuple(run_market(cfg, seed, k, vi) for seed in cfg.seeds))
        for k in cfg.builder_counts
        for vi in cfg.integrated
    ]


def _ci(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return f"{interval.mean:.3f}"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def market_report(cfg: BuildersConfig, grid: list[MarketPoint]) -> str:
    """A Markdown report: shares of MEV, concentration, and integration's paired effect."""
    lines = [
        "# Builder market: who gets the MEV",
        "",
        f"{len(cfg.seeds)} seeds x {cfg.slots} slots per point; {cfg.searchers} searchers; "
        f"builders bid {cfg.builder_bid_bps[0] / 100:.0f}-{cfg.builder_bid_bps[1] / 100:.0f}% "
        "of block value (first price). "
        "Means with 95% t-intervals over seeds.",
        "",
        "| builders | integrated | proposer share of MEV | builder share of MEV | HHI of wins "
        "| builder0 win share |",
        "|---|---|---|---|---|---|",
    ]
    for p in grid:
        cells = [_ci(p.interval(m)) for m in ("proposer_share", "builder_share", "hhi")]
        lines.append(
            f"| {p.n_builders} | {'yes' if p.integrated else 'no'} | {' | '.join(cells)} "
            f"| {_ci(p.interval('builder0'))} |"
        )
    lines += ["", "Integration on minus off (paired by seed, 95% t-interval):", ""]
    by_key = {(p.n_builders, p.integrated): p for p in grid}
    for k in cfg.builder_counts:
        on, off = by_key.get((k, True)), by_key.get((k, False))
        if on is None or off is None:
            continue
        for metric in ("proposer_share", "hhi", "builder0"):
            diff = paired_difference(
                [_metric(r, metric) for r in on.runs], [_metric(r, metric) for r in off.runs]
            )
            lines.append(f"- {k} builders, {metric}: {_ci(diff)}")
    return "\n".join(lines) + "\n"
