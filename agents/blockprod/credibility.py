"""The commitment-credibility experiment: how often an escrow settlement that its counterparty
counted as settled at depth ``d`` is undone by a paid reorg, as a function of the finality
depth and the value at stake.

Set-up (``[credibility]`` in ``scenarios/blockprod/credibility.toml``): one
:file:`contracts/Escrow.sol` (with mock staking and reputation, no bonds, no fee) between a
payer ``P`` (the escrow's proposer) and a counterparty ``C`` who delivers a good off chain.
Every ``commit_every`` slots ``P`` proposes an agreement of ``price`` tokens (valued 1 token =
1 ETH); the next slot ``C`` accepts and confirms delivery; the slot after ``P`` confirms,
which releases the price to ``C``: the **settlement**, mined in block ``N``. ``C`` counts it
**settled at depth d** once ``N`` is ``d`` blocks deep (``head - N + 1 >= d``) and only then
delivers, irrevocably.

The reversal mechanism (a time-bandit attack bought by the losing side; Daian et al. 2020,
"Flash Boys 2.0", sections on time-bandit attacks and on bribing miners to rewrite history):
once ``C`` has delivered, ``P`` would rather not have paid. It posts a
:file:`contracts/ReorgBounty.sol` bounty of ``bounty_share * price`` ETH for block ``N`` not to
be canonical ``deadline_blocks`` after the head, and hands the seller its substitute: a
``dispute`` of the same agreement signed with the nonce of its ``confirm``. Proposers are
drawn per slot by stake; one of them, holding ``bandit_share`` of the stake, is a
:class:`~agentbed.agents.blockprod.bounty.BountySeller`: in its slot it re-mines the last
``k`` blocks when their coinbase payments plus the bounties on them exceed ``k`` times
``cost_per_block_eth`` (never ``k`` at or past the finality depth), sealing ``P``'s dispute in
place of the confirm. On that branch the agreement is Disputed, not Released: the price stays
in the escrow pending an arbitrator who, in this model, does not rule within the run.

Definitions. A commitment is **reversed** when ``C`` counted it settled at depth ``d`` and at
the end of the run the agreement is not in state Released on the canonical chain. The **honest
side's cost** of a run is the price of its reversed commitments: value ``C`` delivered against
and does not hold (equal to the counted prices minus the tokens ``C`` received; a test checks
the identity). Measured per run (one seed, one grid point): commitments counted, reversal
rate = reversed / counted, honest cost per counted commitment (ETH), reorgs per slot,
bounties paid to the seller (ETH). Over seeds: mean and 95% Student t-interval, differences
paired by seed (:mod:`agentbed.agents.reporting.intervals`).

The proposers, the bounty seller and buyer and the counting rule are the reorg market of
:mod:`.reorg_market`; the config, the per-run record, the grid and the report here serve the
intent case too (:mod:`.intent_credibility`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from eth_abi import decode

from agentbed.agents.blockprod.reorg_market import (
    ETH,
    ReorgMarket,
    SeedDeployment,
    Settlement,
    calldata,
    open_market,
    signed_call,
)
from agentbed.agents.blockprod.tables import load_table
from agentbed.agents.reporting.intervals import Interval, confidence_interval, paired_difference
from agentbed.chain.node import Chain

ESCROW_GAS = 1_500_000
RELEASED = 4
"""``IEscrow.State.Released``."""
FAR = 10**7
"""Seconds to the escrow deadlines: far beyond any run (no deadline interferes)."""
AGREEMENT_TYPES = [
    "address", "uint64", "uint8", "bool", "bool", "address", "uint64", "address", "uint64",
    "uint256", "uint256", "uint256", "uint256",
]  # fmt: skip
PROPOSED, ACCEPTED = 1, 2
D = TypeVar("D", bound=SeedDeployment)


class CredibilityConfigError(ValueError):
    """The ``[credibility]`` table names an unknown key or holds a bad value."""


@dataclass(frozen=True)
class CredibilityConfig:
    """The experiment's grid and flow (see the module docstring)."""

    slots: int = 36
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    proposers: int = 4
    bandit_share: float = 0.25
    cost_per_block_eth: float = 0.02
    max_depth: int = 3
    commit_every: int = 3
    tail: int = 8
    """Slots at the end in which no new agreement starts (so every release can be counted)."""
    tip_gwei: int = 2
    bounty_share: float = 0.5
    deadline_blocks: int = 6
    price_eth: tuple[float, ...] = (0.02, 0.1, 0.4)
    counting_depths: tuple[int, ...] = (1, 2)
    finality_depths: tuple[int, ...] = (0, 2, 1)
    """0: no finality (longest chain only)."""

    def __post_init__(self) -> None:
        if self.slots <= self.tail or not self.seeds or self.proposers < 2:
            raise CredibilityConfigError("need slots > tail, some seeds and proposers >= 2")
        if not 0 < self.bandit_share < 1 or not 0 <= self.bounty_share <= 1:
            raise CredibilityConfigError("bandit_share must be in (0, 1), bounty_share in [0, 1]")
        if self.commit_every < 3 or self.deadline_blocks < 1 or self.max_depth < 1:
            raise CredibilityConfigError(
                "commit_every must be >= 3 (an agreement takes 3 slots), deadline_blocks and"
                " max_depth >= 1"
            )
        if any(d < 1 for d in self.counting_depths) or any(f < 0 for f in self.finality_depths):
            raise CredibilityConfigError("counting depths must be >= 1, finality depths >= 0")
        if not self.price_eth or any(p <= 0 for p in self.price_eth):
            raise CredibilityConfigError("price_eth must list positive prices")


def load_config(path: str | Path) -> CredibilityConfig:
    """The ``[credibility]`` table of a TOML file as a :class:`CredibilityConfig`.

    Raises:
        CredibilityConfigError: No such table, an unknown key, or a bad value.
    """
    return load_table(path, "credibility", CredibilityConfig, CredibilityConfigError)


@dataclass(frozen=True, slots=True)
class RunStats:
    """One run's counts (amounts in wei)."""

    slots: int
    counted: int
    reversed: int
    honest_cost: int
    counterparty_received: int
    counted_value: int
    reorgs: int
    bounties_paid: int

    @property
    def reversal_rate(self) -> float:
        return self.reversed / self.counted if self.counted else 0.0

    @property
    def cost_per_commitment_eth(self) -> float:
        return self.honest_cost / self.counted / ETH if self.counted else 0.0


@dataclass
class Deployment(SeedDeployment):
    """The escrow experiment's deployment: the escrow and its token."""

    escrow: Any
    token: Any


@dataclass
class _Commitment:
    """One agreement's progress as its parties track it off chain."""

    agreement_id: int
    accepted: bool = False
    release: Settlement = field(default_factory=Settlement)


@dataclass
class _World:
    """One escrow run's market, contracts, price and off-chain records."""

    market: ReorgMarket
    deployment: Deployment
    price: int
    commitments: list[_Commitment] = field(default_factory=list)

    @property
    def chain(self) -> Chain:
        return self.market.chain

    @property
    def escrow(self) -> Any:
        return self.deployment.escrow

    @property
    def payer(self) -> Any:
        return self.chain.accounts[1]

    @property
    def counterparty(self) -> Any:
        return self.chain.accounts[2]


def _tx(world: _World, account: Any, call: Any, **extra: Any) -> bytes:
    return signed_call(world.market, account, world.escrow.address, call, ESCROW_GAS, **extra)


def deploy(seed: int) -> Deployment:
    """Deploy the escrow and the bounty contract, fund and approve the payer."""
    chain = Chain(seed=seed, accounts=5, automine=False)
    deployer, payer, arbitrator = (chain.accounts[i] for i in (0, 1, 4))
    token = chain.deploy("MockERC20", "Escrowed", "ESC")
    staking = chain.deploy("MockStaking")
    reputation = chain.deploy("MockReputation")
    escrow = chain.deploy(
        "Escrow", token.address, staking.address, reputation.address, 0, FAR, 0, 0,
        arbitrator.address, 0,
    )  # fmt: skip
    bounty = chain.deploy("ReorgBounty")
    chain.transact(deployer, reputation.functions.registerIssuer(escrow.address), gas=100_000)
    chain.transact(deployer, token.functions.mint(payer.address, 10**6 * ETH), gas=100_000)
    chain.transact(payer, token.functions.approve(escrow.address, 2**256 - 1), gas=100_000)
    chain.mine()
    return Deployment(
        chain=chain, seed=seed, bounty=bounty, snapshot=chain.snapshot(), escrow=escrow,
        token=token,
    )  # fmt: skip


def _agreement(world: _World, agreement_id: int) -> tuple[Any, ...]:
    """The agreement's fields at the head (``IEscrow.Agreement``)."""
    call = world.escrow.functions.agreement(agreement_id)
    out = world.chain.call(world.escrow.address, calldata(call))
    return tuple(decode(["(" + ",".join(AGREEMENT_TYPES) + ")"], out)[0])


def _propose(world: _World) -> None:
    """``P`` proposes the next agreement (ids are sequential: only ``P`` proposes)."""
    now = world.chain.head.timestamp
    call = world.escrow.functions.propose(
        world.counterparty.address, world.chain.accounts[4].address, world.price, 0, 0, 0,
        now + FAR, now + 2 * FAR,
    )  # fmt: skip
    world.chain.submit(_tx(world, world.payer, call))
    world.commitments.append(_Commitment(len(world.commitments) + 1))


def _advance(world: _World, c: _Commitment) -> None:
    """The parties' next step on one agreement, from what the head shows."""
    chain, functions = world.chain, world.escrow.functions
    if not c.accepted:
        if _agreement(world, c.agreement_id)[2] == PROPOSED:
            chain.submit(_tx(world, world.counterparty, functions.accept(c.agreement_id)))
            chain.submit(_tx(world, world.counterparty, functions.confirm(c.agreement_id)))
            c.accepted = True
        return
    if c.release.tx is None:
        state = _agreement(world, c.agreement_id)
        if state[2] == ACCEPTED and state[4]:  # C has confirmed delivery terms
            c.release.tx = chain.submit(_tx(world, world.payer, functions.confirm(c.agreement_id)))
        return
    # C delivers once the release is counted; P then buys a reorg of it, its dispute (signed
    # with the confirm's nonce) to be sealed in place of the confirm.
    dispute = functions.dispute(c.agreement_id)
    world.market.follow(
        c.release,
        world.price,
        lambda confirm: _tx(world, world.payer, dispute, nonce=confirm.nonce),
    )


def run_once(
    cfg: CredibilityConfig,
    seed: int,
    price_eth: float,
    depth: int,
    finality: int,
    deployment: Deployment | None = None,
) -> RunStats:
    """One run at one grid point, deterministic in ``seed``.

    Args:
        cfg: The experiment's settings.
        seed: The root seed (schedule, accounts, block hashes).
        price_eth: The value at stake per settlement.
        depth: The depth at which the counterparty counts a release settled.
        finality: The finality depth (0: none).
        deployment: ``deploy(seed)`` to reuse (the result is the same as without it).
    """
    price = int(price_eth * ETH)
    deployment = deployment or deploy(seed)
    market = open_market(cfg, deployment, depth, finality, deployment.chain.accounts[1])
    world = _World(market, deployment, price)
    for slot in range(cfg.slots):
        if slot % cfg.commit_every == 0 and slot < cfg.slots - cfg.tail:
            _propose(world)
        for commitment in world.commitments:
            _advance(world, commitment)
        market.seal()
    counted = [c for c in world.commitments if c.release.counted]
    reversed_ = [c for c in counted if _agreement(world, c.agreement_id)[2] != RELEASED]
    token = deployment.token
    received = int(token.functions.balanceOf(world.counterparty.address).call())
    return RunStats(
        slots=cfg.slots,
        counted=len(counted),
        reversed=len(reversed_),
        honest_cost=len(reversed_) * price,
        counterparty_received=received,
        counted_value=len(counted) * price,
        reorgs=len(market.chain.reorgs),
        bounties_paid=market.bounties_paid(),
    )


@dataclass(frozen=True, slots=True)
class GridPoint:
    """Every seed's run at one (price, counting depth, finality depth)."""

    price_eth: float
    depth: int
    finality: int
    runs: tuple[RunStats, ...]

    def reversal_rate(self) -> Interval:
        return confidence_interval([r.reversal_rate for r in self.runs])

    def cost(self) -> Interval:
        return confidence_interval([r.cost_per_commitment_eth for r in self.runs])

    def reorg_frequency(self) -> Interval:
        return confidence_interval([r.reorgs / r.slots for r in self.runs])


def _seed_runs(
    cfg: CredibilityConfig,
    keys: list[tuple[float, int, int]],
    deploy_seed: Callable[[int], D],
    run: Callable[[CredibilityConfig, int, float, int, int, D], RunStats],
    seed: int,
) -> list[RunStats]:
    """One seed's runs at every point, from one deployment."""
    deployment = deploy_seed(seed)
    return [run(cfg, seed, *key, deployment) for key in keys]


def _grid_keys(cfg: CredibilityConfig) -> list[tuple[float, int, int]]:
    return [
        (price, depth, fin)
        for price in cfg.price_eth
        for depth in cfg.counting_depths
        for fin in cfg.finality_depths
    ]


def submit_grid(
    cfg: CredibilityConfig,
    deploy_seed: Callable[[int], D],
    run: Callable[[CredibilityConfig, int, float, int, int, D], RunStats],
    pool: Executor,
) -> Callable[[], list[GridPoint]]:
    """Queue one task per seed on ``pool`` (as :func:`grid_over` runs them); return the
    function that waits for them and gives the grid. Seeds are independent, so the grid is
    the same in any number of processes."""
    keys = _grid_keys(cfg)
    work = partial(_seed_runs, cfg, keys, deploy_seed, run)
    futures = [pool.submit(work, seed) for seed in cfg.seeds]

    def collect() -> list[GridPoint]:
        per_seed = [f.result() for f in futures]
        return [GridPoint(*key, tuple(r[i] for r in per_seed)) for i, key in enumerate(keys)]

    return collect


def grid_over(
    cfg: CredibilityConfig,
    deploy_seed: Callable[[int], D],
    run: Callable[[CredibilityConfig, int, float, int, int, D], RunStats],
    jobs: int = 1,
) -> list[GridPoint]:
    """Every (value at stake, counting depth, finality depth) point over every seed, each run
    from one deployment per seed (``deploy_seed``, then ``run(cfg, seed, *point, it)``);
    ``jobs > 1`` runs the seeds in that many processes (same result)."""
    if jobs > 1 and len(cfg.seeds) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(cfg.seeds))) as pool:
            return submit_grid(cfg, deploy_seed, run, pool)()
    keys = _grid_keys(cfg)
    per_seed = [_seed_runs(cfg, keys, deploy_seed, run, seed) for seed in cfg.seeds]
    return [GridPoint(*key, tuple(r[i] for r in per_seed)) for i, key in enumerate(keys)]


def run_grid(cfg: CredibilityConfig, jobs: int = 1) -> list[GridPoint]:
    """Every (price, counting depth, finality depth) point of the escrow case over every seed
    (``jobs`` processes, as :func:`grid_over`)."""
    return grid_over(cfg, deploy, run_once, jobs)


def submit(cfg: CredibilityConfig, pool: Executor) -> Callable[[], list[GridPoint]]:
    """The escrow grid's seeds queued on ``pool``; call the result for the grid."""
    return submit_grid(cfg, deploy, run_once, pool)


def ci_text(interval: Interval) -> str:
    """``mean [low, high]`` to three decimals (the mean alone for a single seed)."""
    if interval.low is None or interval.high is None:
        return f"{interval.mean:.3f}"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


@dataclass(frozen=True, slots=True)
class ReportLabels:
    """What a credibility report calls its case: its title, its flow (``{every}`` is
    ``commit_every``) and the value at stake."""

    title: str
    flow: str
    stake: str


ESCROW_LABELS = ReportLabels(
    "Commitment credibility: escrow settlements reversed by paid time-bandit reorgs",
    "a new agreement every {every} slots",
    "price",
)


def report(
    cfg: CredibilityConfig, grid: list[GridPoint], labels: ReportLabels = ESCROW_LABELS
) -> str:
    """A Markdown report: the grid table and the paired comparisons the claims rest on."""
    stake = labels.stake
    lines = [
        f"# {labels.title}",
        "",
        f"{len(cfg.seeds)} seeds x {cfg.slots} slots per point; "
        f"{labels.flow.format(every=cfg.commit_every)}; bandit stake share {cfg.bandit_share};"
        f" cost {cfg.cost_per_block_eth} ETH per orphaned block; max depth {cfg.max_depth}; "
        f"bounty {cfg.bounty_share} x {stake}. Means with 95% t-intervals over seeds.",
        "",
        f"| {stake} (ETH) | counted at depth | finality depth | commitments counted "
        "| reversal rate | honest cost per commitment (ETH) | reorgs per slot |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in grid:
        counted = sum(r.counted for r in p.runs) / len(p.runs)
        lines.append(
            f"| {p.price_eth} | {p.depth} | {p.finality or 'none'} | {counted:.1f} "
            f"| {ci_text(p.reversal_rate())} | {ci_text(p.cost())} "
            f"| {ci_text(p.reorg_frequency())} |"
        )
    lines += ["", "Paired differences in reversal rate (by seed, 95% t-interval):", ""]
    by_key = {(p.price_eth, p.depth, p.finality): p for p in grid}
    low, high = min(cfg.price_eth), max(cfg.price_eth)
    longest, final = cfg.finality_depths[0], min(cfg.finality_depths, key=lambda f: f or 10**9)
    for depth in cfg.counting_depths:
        for finality in cfg.finality_depths:
            diff = paired_difference(
                [r.reversal_rate for r in by_key[(high, depth, finality)].runs],
                [r.reversal_rate for r in by_key[(low, depth, finality)].runs],
            )
            lines.append(
                f"- depth {depth}, finality {finality or 'none'}: {stake} {high} minus {stake} "
                f"{low}: {ci_text(diff)}"
            )
        diff = paired_difference(
            [r.reversal_rate for r in by_key[(high, depth, longest)].runs],
            [r.reversal_rate for r in by_key[(high, depth, final)].runs],
        )
        lines.append(
            f"- depth {depth}, {stake} {high}: finality {longest or 'none'} minus finality "
            f"{final or 'none'}: {ci_text(diff)}"
        )
    return "\n".join(lines) + "\n"


def configured(path: str | Path, **overrides: Any) -> CredibilityConfig:
    """The config at ``path`` with ``overrides`` replacing its fields."""
    cfg = load_config(path)
    if overrides:
        values = {f.name: getattr(cfg, f.name) for f in fields(CredibilityConfig)}
        cfg = CredibilityConfig(**{**values, **overrides})
    return cfg


def run_from_file(path: str | Path, **overrides: Any) -> tuple[CredibilityConfig, list[GridPoint]]:
    """Load the config (``overrides`` replace its fields) and run the escrow grid."""
    cfg = configured(path, **overrides)
    return cfg, run_grid(cfg)
