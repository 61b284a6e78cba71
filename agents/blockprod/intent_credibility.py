"""Commitment credibility for intent settlements: how often a fill of a maker's intent that the
maker counted as settled at depth ``d`` is undone by a paid reorg, as a function of the finality
depth and the surplus at stake.

Set-up (the same ``[credibility]`` table as the escrow case, :mod:`.credibility`): one
:file:`contracts/IntentBook.sol` (pay-as-filled pricing, revert on a used nonce, no solver
share), a maker ``M`` and a solver ``S``. Every ``commit_every`` slots ``M`` signs an intent
(:mod:`agentbed.agents.market.intents`): sell 1 token X for at least ``LIMIT`` (1) token Y, a
fresh book nonce each time. In the same slot ``S`` fills it from its own inventory: it signs
the counter-intent (sell Y for 1 X) and sends ``settle`` with both, paying ``M`` its limit plus
the **surplus at stake** ``s`` (``price_eth`` in the table; tokens valued 1 Y = 1 ETH), say
because ``S`` won the order with that quote. The fill is mined in block ``N``. ``M`` counts it
**settled at depth d** once ``N`` is ``d`` blocks deep (``head - N + 1 >= d``) and only then acts
on what it received, irrevocably (pays it on, hedges, delivers off chain).

The reversal mechanism is the escrow case's (Daian et al. 2020, "Flash Boys 2.0", time-bandit
attacks and bribing miners to rewrite history), with the sides swapped: the loser of the fill
is ``S``, who would rather have paid only the limit. Once ``M`` has acted, ``S`` posts a
:file:`contracts/ReorgBounty.sol` bounty of ``bounty_share * s`` for block ``N`` and hands the
seller its substitute: a ``settle`` of the same intent at exactly ``M``'s limit, signed with
the nonce of its first ``settle`` (same sender, same nonce: nothing after it breaks). The
intent's signature and book nonce are still valid on the branch that orphans ``N``, so the
re-mined block fills it again, at the worse price. The seller and its decision are those of
:mod:`.reorg_market` (stake share ``bandit_share``, ``cost_per_block_eth`` per orphaned block,
at most ``max_depth`` blocks, never at or past the finality depth).

Definitions. A fill is identified by its intent's EIP-712 digest (``IntentFilled``'s
``intentHash``). It is **reversed** when ``M`` counted it settled at depth ``d`` with amount
``B`` paid to it, and at the end of the run the canonical chain's ``IntentFilled`` logs for that
intent pay ``M`` less than ``B`` in all: none (the intent unfilled, or its nonce cancelled) or a
fill at a smaller amount (re-filled at a worse price). The **honest side's cost** of a run is the
sum over reversed fills of ``B`` minus what the canonical chain paid ``M`` for the intent: the
buy tokens ``M`` acted on and does not hold (here always ``s`` per reversal, since the
substitute re-fills at the limit; an intent left unfilled would also leave ``M`` its X, which
this measure does not credit). With every fill counted, it equals the counted amounts minus the
Y ``M`` holds at the end (a test checks the identity). The per-run and over-seed measures are
the escrow case's (:class:`~agentbed.agents.blockprod.credibility.RunStats`, 95% Student
t-intervals over seeds, differences paired by seed).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_utils import keccak

from agentbed.agents.blockprod.credibility import (
    CredibilityConfig,
    GridPoint,
    ReportLabels,
    RunStats,
    configured,
    grid_over,
    submit_grid,
)
from agentbed.agents.blockprod.credibility import report as credibility_report
from agentbed.agents.blockprod.reorg_market import (
    ETH,
    ReorgMarket,
    SeedDeployment,
    Settlement,
    open_market,
    signed_call,
)
from agentbed.agents.market.intents import (
    ZERO_ADDRESS,
    Intent,
    OnUnmetCondition,
    Plan,
    Pricing,
    intent_digest,
    sign_intent,
)
from agentbed.chain.node import Chain
from agentbed.chain.types import Transaction

SIZE = ETH
"""X sold per intent."""
LIMIT = ETH
"""The maker's limit: at least this much Y for its X."""
SETTLE_GAS = 1_000_000
DEADLINE = 2**40
"""Intent deadline (a timestamp far beyond any run)."""
FILLED_TOPIC = keccak(
    text="IntentFilled(bytes32,address,address,address,address,uint256,uint256,uint256)"
)
FILLED_DATA = ("address", "address", "uint256", "uint256", "uint256")
"""``IntentFilled``'s unindexed fields: sell token, buy token, sell, buy amount, solver reward."""
INTENT_LABELS = ReportLabels(
    "Commitment credibility: intent fills reversed by paid time-bandit reorgs",
    "an intent filled every {every} slots at the maker's limit plus the surplus",
    "surplus",
)


@dataclass
class IntentDeployment(SeedDeployment):
    """The intent case's deployment: the book and the tokens sold (X) and bought (Y)."""

    book: Any
    sell_token: Any
    buy_token: Any


def deploy(seed: int) -> IntentDeployment:
    """Deploy the book and the bounty contract; fund the maker with X and the solver with Y."""
    chain = Chain(seed=seed, accounts=4, automine=False)
    deployer, maker, solver = chain.accounts[:3]
    x = chain.deploy("MockERC20", "Sold", "SOLD")
    y = chain.deploy("MockERC20", "Bought", "BGHT")
    # No conditions and no swaps in any batch: the book never reads its factory.
    book = chain.deploy(
        "IntentBook", ZERO_ADDRESS, int(Pricing.PAY_AS_FILLED), int(OnUnmetCondition.REVERT), 0
    )
    bounty = chain.deploy("ReorgBounty")
    for account, token in ((maker, x), (solver, y)):
        chain.transact(deployer, token.functions.mint(account.address, 10**6 * ETH), gas=100_000)
        chain.transact(account, token.functions.approve(book.address, 2**256 - 1), gas=100_000)
    chain.mine()
    return IntentDeployment(
        chain=chain, seed=seed, bounty=bounty, snapshot=chain.snapshot(), book=book,
        sell_token=x, buy_token=y,
    )  # fmt: skip


@dataclass
class _Fill:
    """One intent as the maker and the solver track it off chain."""

    intent: Intent
    signature: bytes
    settlement: Settlement = field(default_factory=Settlement)


@dataclass
class _World:
    """One run's market, contracts, surplus at stake and intents."""

    market: ReorgMarket
    deployment: IntentDeployment
    surplus: int
    fills: list[_Fill] = field(default_factory=list)

    @property
    def chain(self) -> Chain:
        return self.market.chain

    @property
    def maker(self) -> Any:
        return self.chain.accounts[1]

    @property
    def solver(self) -> Any:
        return self.chain.accounts[2]

    def sign(self, account: Any, intent: Intent) -> bytes:
        book = self.deployment.book.address
        return sign_intent(account, intent, chain_id=self.chain.chain_id, verifying_contract=book)

    def intent_id(self, intent: Intent) -> bytes:
        book = self.deployment.book.address
        return intent_digest(intent, chain_id=self.chain.chain_id, verifying_contract=book)


def _settle(world: _World, fill: _Fill, pay: int, **extra: Any) -> bytes:
    """``S``'s signed ``settle`` of ``fill`` against its own counter-intent, paying ``pay`` Y."""
    d = world.deployment
    counter = Intent(
        world.solver.address, d.buy_token.address, d.sell_token.address, pay, SIZE, DEADLINE,
        fill.intent.nonce,
    )  # fmt: skip
    call = d.book.functions.settle(
        [fill.intent.as_tuple(), counter.as_tuple()],
        [fill.signature, world.sign(world.solver, counter)],
        Plan.pay_as_filled([pay, SIZE]).as_tuple(),
    )
    return signed_call(world.market, world.solver, d.book.address, call, SETTLE_GAS, **extra)


def _post_and_fill(world: _World) -> None:
    """``M`` signs the next intent and ``S`` fills it at the limit plus the surplus."""
    d = world.deployment
    intent = Intent(
        world.maker.address, d.sell_token.address, d.buy_token.address, SIZE, LIMIT, DEADLINE,
        len(world.fills) + 1,
    )  # fmt: skip
    fill = _Fill(intent, world.sign(world.maker, intent))
    fill.settlement.tx = world.chain.submit(_settle(world, fill, LIMIT + world.surplus))
    world.fills.append(fill)


def _refill(world: _World, fill: _Fill) -> Callable[[Transaction], bytes]:
    """``S``'s substitute for its fill: the same intent settled at the limit, same nonce."""
    return lambda first: _settle(world, fill, LIMIT, nonce=first.nonce)


def _paid_to_maker(world: _World) -> dict[bytes, int]:
    """Y paid to each intent's maker on the canonical chain, by intent id."""
    paid: dict[bytes, int] = {}
    for log in world.chain.logs(address=world.deployment.book.address, topics=[FILLED_TOPIC]):
        *_, buy_amount, reward = decode(FILLED_DATA, log.data)
        paid[log.topics[1]] = paid.get(log.topics[1], 0) + buy_amount - reward
    return paid


def run_once(
    cfg: CredibilityConfig,
    seed: int,
    surplus_eth: float,
    depth: int,
    finality: int,
    deployment: IntentDeployment | None = None,
) -> RunStats:
    """One run at one grid point, deterministic in ``seed``.

    Args:
        cfg: The experiment's settings (``price_eth`` read as the surplus at stake).
        seed: The root seed (schedule, accounts, block hashes).
        surplus_eth: What each fill pays the maker above its limit.
        depth: The depth at which the maker counts a fill settled.
        finality: The finality depth (0: none).
        deployment: ``deploy(seed)`` to reuse (the result is the same as without it).
    """
    deployment = deployment or deploy(seed)
    market = open_market(cfg, deployment, depth, finality, deployment.chain.accounts[2])
    world = _World(market, deployment, int(surplus_eth * ETH))
    for slot in range(cfg.slots):
        if slot % cfg.commit_every == 0 and slot < cfg.slots - cfg.tail:
            _post_and_fill(world)
        for fill in world.fills:
            market.follow(fill.settlement, world.surplus, _refill(world, fill))
        market.seal()
    promised = LIMIT + world.surplus
    paid = _paid_to_maker(world)
    counted = [f for f in world.fills if f.settlement.counted]
    shortfalls = [promised - paid.get(world.intent_id(f.intent), 0) for f in counted]
    buy_token = deployment.buy_token
    return RunStats(
        slots=cfg.slots,
        counted=len(counted),
        reversed=sum(1 for s in shortfalls if s > 0),
        honest_cost=sum(s for s in shortfalls if s > 0),
        counterparty_received=int(buy_token.functions.balanceOf(world.maker.address).call()),
        counted_value=len(counted) * promised,
        reorgs=len(market.chain.reorgs),
        bounties_paid=market.bounties_paid(),
    )


def run_grid(cfg: CredibilityConfig, jobs: int = 1) -> list[GridPoint]:
    """Every (surplus, counting depth, finality depth) point over every seed (``jobs``
    processes, as :func:`~agentbed.agents.blockprod.credibility.grid_over`)."""
    return grid_over(cfg, deploy, run_once, jobs)


def submit(cfg: CredibilityConfig, pool: Executor) -> Callable[[], list[GridPoint]]:
    """The intent grid's seeds queued on ``pool``; call the result for the grid."""
    return submit_grid(cfg, deploy, run_once, pool)


def report(cfg: CredibilityConfig, grid: list[GridPoint]) -> str:
    """The intent case's Markdown report (the escrow report's layout)."""
    return credibility_report(cfg, grid, INTENT_LABELS)


def run_from_file(path: str | Path, **overrides: Any) -> tuple[CredibilityConfig, list[GridPoint]]:
    """Load the ``[credibility]`` config (``overrides`` replace its fields) and run the grid."""
    cfg = configured(path, **overrides)
    return cfg, run_grid(cfg)
