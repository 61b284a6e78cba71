"""Censorship delay: how many slots a target's transactions wait for inclusion when a
censoring proposer holds a share ``c`` of the slots.

Set-up (``[censorship]`` in ``scenarios/blockprod/credibility.toml``): proposers are drawn per
slot with probability proportional to stake
(:class:`~agentbed.chain.auction.StakeWeightedSchedule`); one of them, holding ``c`` of the
stake, builds its blocks with :class:`~agentbed.agents.blockprod.censor.CensoringPolicy` (the
target's txs are never offered), the others with the priority-fee order. In each of the first
``submit_slots`` slots the target and three other users each send one transfer; the last
``slots - submit_slots`` slots only drain the pool.

Definitions. A tx's **inclusion delay** is the number of the canonical block that includes it
minus the number of the head when it was submitted, in slots (1: the next block). With slots
drawn independently and a block never full, the delay is geometric: the target waits for the
first slot not drawn for the censor, so its expectation is ``1 / (1 - c)`` (the theory column
of the report). A tx still pending at the end is **right-censored**: counted apart, not in the
mean. Over seeds: the mean delay per run, with 95% Student t-intervals, and the difference to
``c = 0`` paired by seed (:mod:`agentbed.agents.reporting.intervals`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agentbed.agents.blockprod.censor import CensoringPolicy
from agentbed.agents.blockprod.schedule import one_against_honest
from agentbed.agents.blockprod.tables import load_table
from agentbed.agents.reporting.intervals import Interval, confidence_interval, paired_difference
from agentbed.chain.auction import StakeWeightedSchedule
from agentbed.chain.errors import UnknownTransaction
from agentbed.chain.node import GWEI, Chain
from agentbed.chain.ordering import PriorityFeePolicy

OTHER_USERS = 3
TIP_GWEI = 2


class CensorshipConfigError(ValueError):
    """The ``[censorship]`` table names an unknown key or holds a bad value."""


@dataclass(frozen=True)
class CensorshipConfig:
    """The experiment's grid (censor's slot share) and flow (see the module docstring)."""

    slots: int = 60
    submit_slots: int = 40
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    proposers: int = 4
    censor_shares: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)

    def __post_init__(self) -> None:
        if not 1 <= self.submit_slots <= self.slots or not self.seeds or self.proposers < 2:
            raise CensorshipConfigError("need 1 <= submit_slots <= slots, seeds, proposers >= 2")
        if not self.censor_shares or any(not 0 <= c < 1 for c in self.censor_shares):
            raise CensorshipConfigError("censor_shares must list shares in [0, 1)")


def load_config(path: str | Path) -> CensorshipConfig:
    """The ``[censorship]`` table of a TOML file as a :class:`CensorshipConfig`.

    Raises:
        CensorshipConfigError: No such table, an unknown key, or a bad value.
    """
    return load_table(path, "censorship", CensorshipConfig, CensorshipConfigError)


@dataclass(frozen=True, slots=True)
class RunStats:
    """One run: the included target txs' delays (slots) and how many stayed pending."""

    delays: tuple[int, ...]
    pending: int

    @property
    def mean_delay(self) -> float:
        return sum(self.delays) / len(self.delays) if self.delays else 0.0


def _schedule(cfg: CensorshipConfig, share: float, seed: int) -> StakeWeightedSchedule:
    return one_against_honest("censor", f"0x{0xC0:040x}", share, cfg.proposers, seed)


def run_once(cfg: CensorshipConfig, seed: int, share: float) -> RunStats:
    """One run at censor share ``share``, deterministic in ``seed``."""
    chain = Chain(seed=seed, accounts=OTHER_USERS + 2, automine=False)
    target, sink = chain.accounts[0], chain.accounts[-1].address
    schedule = _schedule(cfg, share, seed)
    honest, censor = PriorityFeePolicy(), CensoringPolicy(PriorityFeePolicy(), [target.address])
    submitted: list[tuple[bytes, int]] = []
    tip = TIP_GWEI * GWEI
    for slot in range(cfg.slots):
        if slot < cfg.submit_slots:
            for user in chain.accounts[: OTHER_USERS + 1]:
                tx = {"to": sink, "value": 1, "gas": 21_000, "maxPriorityFeePerGas": tip}
                raw = chain.sign(user, {**tx, "maxFeePerGas": 2 * chain.base_fee + tip})
                tx_hash = chain.submit(raw)
                if user is target:
                    submitted.append((tx_hash, chain.block_number))
        proposer = schedule.proposer_for(chain.block_number + 1)
        chain.set_policy(censor if proposer.name == "censor" else honest)
        chain.coinbase = proposer.fee_recipient
        chain.mine()
    delays, pending = [], 0
    for tx_hash, head in submitted:
        try:
            delays.append(chain.receipt(tx_hash).block_number - head)
        except UnknownTransaction:
            pending += 1
    return RunStats(tuple(delays), pending)


@dataclass(frozen=True, slots=True)
class GridPoint:
    """Every seed's run at one censor share."""

    share: float
    runs: tuple[RunStats, ...]

    def mean_delay(self) -> Interval:
        return confidence_interval([r.mean_delay for r in self.runs])


def run_grid(cfg: CensorshipConfig) -> list[GridPoint]:
    """Every censor share over every seed."""
    return [
        GridPoint(share, tuple(run_once(cfg, seed, share) for seed in cfg.seeds))
        for share in cfg.censor_shares
    ]


def _ci(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return f"{interval.mean:.2f}"
    return f"{interval.mean:.2f} [{interval.low:.2f}, {interval.high:.2f}]"


def report(cfg: CensorshipConfig, grid: list[GridPoint]) -> str:
    """A Markdown report: delay per censor share, the geometric expectation, paired diffs."""
    lines = [
        "# Censorship delay: slots from submission to inclusion vs the censor's slot share",
        "",
        f"{len(cfg.seeds)} seeds x {cfg.slots} slots per point; the target sends one tx in "
        f"each of the first {cfg.submit_slots} slots; {cfg.proposers} proposers, one censoring. "
        "Mean delay per run; means with 95% t-intervals over seeds.",
        "",
        "| censor share | mean delay (slots) | theory 1/(1-c) | max delay | pending at end |",
        "|---|---|---|---|---|",
    ]
    for p in grid:
        longest = max((max(r.delays, default=0) for r in p.runs), default=0)
        pending = sum(r.pending for r in p.runs)
        lines.append(
            f"| {p.share} | {_ci(p.mean_delay())} | {1 / (1 - p.share):.2f} | {longest} "
            f"| {pending} |"
        )
    base = grid[0]
    lines += ["", f"Paired differences to censor share {base.share} (by seed, 95% t-interval):", ""]
    for p in grid[1:]:
        diff = paired_difference([r.mean_delay for r in p.runs], [r.mean_delay for r in base.runs])
        lines.append(f"- share {p.share} minus share {base.share}: {_ci(diff)}")
    return "\n".join(lines) + "\n"


def run_from_file(path: str | Path, **overrides: Any) -> tuple[CensorshipConfig, list[GridPoint]]:
    """Load the config (``overrides`` replace its fields) and run the grid."""
    cfg = load_config(path)
    if overrides:
        values = {f.name: getattr(cfg, f.name) for f in fields(CensorshipConfig)}
        cfg = CensorshipConfig(**{**values, **overrides})
    return cfg, run_grid(cfg)
