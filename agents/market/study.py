"""The market study as a plug-in: pools, a reference-price walk, traders and MEV searchers.

A market scenario holds ``[[pools]]`` (and optionally ``[market]`` and ``[intents]``); its agents
are the strategies in :data:`STRATEGIES`. The study deploys the tokens and pools (and an
``IntentBook`` for ``[intents]``) as :class:`~agentbed.agents.market.world.Market` does, mints the
agents' tokens, and reports a run with the MEV accounting of
:mod:`agentbed.agents.market.accounting` and the files of :mod:`agentbed.agents.market.report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from agentbed.agents.agent import Agent
from agentbed.agents.blockprod.loopmetrics import block_production_summary
from agentbed.agents.config import Table, token_amount
from agentbed.agents.llm.agent import LLMTrader
from agentbed.agents.market.accounting import account_run
from agentbed.agents.market.closure import market_closure
from agentbed.agents.market.concentration import searcher_concentration
from agentbed.agents.market.flash_lending import FlashConfig, deploy_lender, parse_flash
from agentbed.agents.market.intents import OnUnmetCondition, Pricing
from agentbed.agents.market.lending import (
    LendingConfig,
    deploy_vault,
    lending_summary,
    parse_lending,
)
from agentbed.agents.market.lvr import RecordingMarket, lvr_summary
from agentbed.agents.market.report import (
    RunReport,
    summarize,
    summary_line,
    write_comparison,
    write_run,
)
from agentbed.agents.market.routing_calls import attach_router
from agentbed.agents.market.routing_metrics import routing_summary
from agentbed.agents.market.strategies.arbitrage import Arbitrageur
from agentbed.agents.market.strategies.batch_griefer import BatchGriefer
from agentbed.agents.market.strategies.borrowing import Borrower
from agentbed.agents.market.strategies.flash import FlashArbitrageur
from agentbed.agents.market.strategies.flash_liquidator import FlashLiquidator, Liquidator
from agentbed.agents.market.strategies.frontrun import Frontrunner
from agentbed.agents.market.strategies.intents import IntentMaker, Solver
from agentbed.agents.market.strategies.liquidity import LiquidityProvider
from agentbed.agents.market.strategies.retail import PanicSeller, RetailTrader
from agentbed.agents.market.strategies.routing import RouteBackrunner, RoutingTrader
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.strategies.surplus import (
    SharingBoard,
    SharingTrader,
    SurplusCoordinator,
)
from agentbed.agents.market.surplus_share import deploy_surplus_share, sharing_summary
from agentbed.agents.market.venues import DEFAULT_VENUE, VENUE_NAMES
from agentbed.agents.market.venues.uniswap_v2 import FEE_BPS as UNISWAP_V2_FEE_BPS
from agentbed.agents.market.venues.uniswap_v2 import NAME as UNISWAP_V2
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.agents.spam import Spammer
from agentbed.agents.study import Study, StudyReport, World, expect

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.experiments.schema import AgentGroup, Scenario

STRATEGIES: Mapping[str, type[Agent]] = MappingProxyType(
    {
        "retail": RetailTrader,
        "lp": LiquidityProvider,
        "arbitrageur": Arbitrageur,
        "flash_arbitrageur": FlashArbitrageur,
        "frontrunner": Frontrunner,
        "sandwicher": Sandwicher,
        "spammer": Spammer,
        "intent_maker": IntentMaker,
        "solver": Solver,
        "batch_griefer": BatchGriefer,
        "router_trader": RoutingTrader,
        "route_backrunner": RouteBackrunner,
        "sharing_trader": SharingTrader,
        "surplus_coordinator": SurplusCoordinator,
        "llm_trader": LLMTrader,
        "borrower": Borrower,
        "liquidator": Liquidator,
        "flash_liquidator": FlashLiquidator,
        "panic_seller": PanicSeller,
    }
)
"""The market's strategies by the ``kind`` scenario files use."""
INTENT_KINDS = frozenset({"intent_maker", "solver", "batch_griefer"})
"""Strategy kinds that need an intent book (and so an ``[intents]`` table)."""
METRICS: tuple[str, ...] = (
    "victim_loss",
    "searcher_profit",
    "txs",
    "reverted",
    "inclusion_delay_ms.mean",
    "fullness_mean",
)
"""The metrics of a market sweep unless others are named: key paths into ``summary.json``."""


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """The ``[market]`` table.

    Attributes:
        volatility: Per-block standard deviation of the reference price's log-return.
        numeraire: Token symbol that profits and losses are valued in.
        eth_price: Numeraire per ETH, for valuing gas; None values ETH like the ``WETH`` token.
    """

    volatility: float = 0.0
    numeraire: str = ""
    eth_price: float | None = None


_PRICINGS: Final = {
    "pay_as_filled": Pricing.PAY_AS_FILLED,
    "fair_pay_as_filled": Pricing.FAIR_PAY_AS_FILLED,
    "uniform": Pricing.UNIFORM_PRICE,
}
"""``[intents] pricing`` names and the book variants they deploy."""


@dataclass(frozen=True, slots=True)
class IntentsConfig:
    """The ``[intents]`` table: the ``IntentBook`` variant deployed for intent makers and solvers.

    Attributes:
        pricing: ``"pay_as_filled"`` (the plan names each intent's buy amount: the
            vulnerable variant, a solver can steer surplus between makers of a pair),
            ``"fair_pay_as_filled"`` (the plan's amounts are split pro rata to sell amount per
            pair and direction) or ``"uniform"`` (one clearing price per pair and batch).
        on_unmet: ``"skip"`` (an intent whose condition does not hold, whose nonce is used or
            whose transfer fails is left out) or
            ``"revert"`` (the whole settlement reverts).
        solver_share_bps: The solver's share of makers' surplus over their limits.
    """

    pricing: Literal["pay_as_filled", "fair_pay_as_filled", "uniform"] = "pay_as_filled"
    on_unmet: Literal["skip", "revert"] = "skip"
    solver_share_bps: int = 0


def parse_pools(top: Table) -> tuple[PoolSpec, ...]:
    """The ``[[pools]]`` (at least one; reserves in wei; one pool per pair, fee and venue).

    ``venue`` is a key of :data:`agentbed.agents.market.venues.DEPLOYERS` (default our
    ``ConstantProductPool``); a ``"uniswap-v2"`` pair's fee is fixed at 30 bps.
    """
    entries = top.tables("pools")
    if not entries:
        raise top.error("pools", "required: at least one [[pools]] entry")
    specs: list[PoolSpec] = []
    for table in entries:
        table.expect(("token0", "token1", "reserve0", "reserve1", "fee_bps", "venue"))
        token0, token1 = table.string("token0"), table.string("token1")
        if token0 == token1:
            raise table.error("token1", f"expected a token other than token0 ({token0!r})")
        fee = table.integer("fee_bps", 30, minimum=0)
        if fee >= 10_000:
            raise table.error("fee_bps", f"expected an integer in [0, 10000), got {fee}")
        venue = table.choice("venue", VENUE_NAMES, DEFAULT_VENUE)
        if venue == UNISWAP_V2 and fee != UNISWAP_V2_FEE_BPS:
            raise table.error(
                "fee_bps",
                f"a {UNISWAP_V2} pair's fee is fixed at {UNISWAP_V2_FEE_BPS}; got {fee}",
            )
        spec = PoolSpec(
            token0,
            token1,
            token_amount(table, "reserve0", positive=True),
            token_amount(table, "reserve1", positive=True),
            fee,
            venue,
        )
        for i, other in enumerate(specs):
            if (
                {other.token0, other.token1} == {token0, token1}
                and other.fee_bps == fee
                and other.venue == venue
            ):
                raise table.error(
                    "",
                    f"duplicate of pools[{i}] (same tokens, fee_bps and venue); a pair has one "
                    "pool per venue",
                )
        specs.append(spec)
    return tuple(specs)


def pool_symbols(pools: Sequence[PoolSpec]) -> tuple[str, ...]:
    """The token symbols of ``pools``, sorted."""
    return tuple(sorted({s for p in pools for s in (p.token0, p.token1)}))


def parse_market(table: Table, pools: Sequence[PoolSpec]) -> MarketConfig:
    """The ``[market]`` table (the numeraire defaults to the first pool's ``token1``)."""
    symbols = pool_symbols(pools)
    table.expect(("volatility", "numeraire", "eth_price"))
    numeraire = table.string("numeraire", pools[0].token1)
    if numeraire not in symbols:
        raise table.error("numeraire", f"expected a pool token ({', '.join(symbols)})")
    eth_price = table.number("eth_price", None, positive=True)
    if eth_price is None and "WETH" not in symbols:
        raise table.error("eth_price", "required when no pool holds WETH (numeraire per ETH)")
    volatility = table.number("volatility", 0.0)
    assert volatility is not None
    return MarketConfig(volatility=volatility, numeraire=numeraire, eth_price=eth_price)


def parse_intents(table: Table) -> IntentsConfig:
    """The ``[intents]`` table."""
    table.expect(("pricing", "on_unmet", "solver_share_bps"))
    share = table.integer("solver_share_bps", 0, minimum=0)
    if share > 10_000:
        raise table.error("solver_share_bps", f"expected an integer in [0, 10000], got {share}")
    pricing = table.choice("pricing", tuple(_PRICINGS), "pay_as_filled")
    on_unmet = table.choice("on_unmet", ("skip", "revert"), "skip")
    return IntentsConfig(
        pricing=pricing,  # type: ignore[arg-type]  # checked by choice()
        on_unmet=on_unmet,  # type: ignore[arg-type]  # checked by choice()
        solver_share_bps=share,
    )


def _market(world: World) -> Market:
    return expect(world, Market, "the market study runs on a Market")


def _run_report(report: StudyReport) -> RunReport:
    return expect(report, RunReport, "the market study reports a RunReport")


@dataclass(frozen=True, slots=True)
class MarketStudy:
    """The market study (see the module docstring); the fields are the ``Study`` attributes."""

    name: str = "market"
    sections: tuple[str, ...] = ("[[pools]]", "[market]", "[intents]", "[flash]", "[lending]")
    strategies: Mapping[str, type[Agent]] = field(default_factory=lambda: STRATEGIES)
    token_params: frozenset[str] = frozenset()
    extra_accounts: int = 0
    metrics: tuple[str, ...] = METRICS

    def parse(self, top: Table) -> dict[str, Any]:
        """``pools``, ``market``, ``intents``, ``flash`` and ``lending`` (None without their
        table)."""
        pools = parse_pools(top)
        flash = top.table("flash")
        return {
            "pools": pools,
            "market": parse_market(top.table("market"), pools),
            "intents": parse_intents(top.table("intents")) if top.has("intents") else None,
            "flash": parse_flash(flash, pool_symbols(pools)) if top.has("flash") else None,
            "lending": parse_lending(top.table("lending"), pools) if top.has("lending") else None,
        }

    def funding_symbols(self, sections: Mapping[str, Any]) -> tuple[str, ...]:
        """The pools' tokens."""
        return pool_symbols(sections["pools"])

    def check_agents(
        self, sections: Mapping[str, Any], agents: Sequence[AgentGroup], top: Table
    ) -> None:
        """Intent makers and solvers need an ``[intents]`` table."""
        if sections["intents"] is not None:
            return
        needing = next((g for g in agents if g.kind in INTENT_KINDS), None)
        if needing is not None:
            raise top.error(
                "intents",
                f"required: agent group {needing.name!r} ({needing.kind}) needs an intent book; "
                "add an [intents] table",
            )

    def deploy(self, chain: Chain, scenario: Scenario, seed: int) -> World:
        """Tokens, factory and pools, the intent book of an ``[intents]`` table and the flash
        lender of a ``[flash]`` table and the vault of a ``[lending]`` table."""
        config: MarketConfig = scenario.market
        # Recording the reference path each block lets the report set LVR against arbitrage.
        market = RecordingMarket.deploy(
            chain, scenario.pools, seed=seed, volatility=config.volatility
        )
        intents: IntentsConfig | None = scenario.intents
        if intents is not None:
            market.deploy_intent_book(
                _PRICINGS[intents.pricing],
                OnUnmetCondition.REVERT if intents.on_unmet == "revert" else OnUnmetCondition.SKIP,
                intents.solver_share_bps,
            )
        kinds = {group.kind for group in scenario.agents}
        if kinds & {"router_trader", "sharing_trader", "surplus_coordinator"}:
            attach_router(market)
        flash: FlashConfig | None = scenario.sections.get("flash")
        if flash is not None:
            deploy_lender(market, flash)
        lending: LendingConfig | None = scenario.sections.get("lending")
        if lending is not None:
            deploy_vault(market, lending)
        if "surplus_coordinator" in kinds:
            # The board belongs to the sharing strategies, not to every market: attached here.
            setattr(market, "sharing_board", SharingBoard(deploy_surplus_share(market)))  # noqa: B010
        return market

    def fund(self, world: World, funding: Mapping[str, Mapping[str, int]]) -> None:
        """Mint each agent's tokens."""
        _market(world).fund(funding)

    def summarize(
        self,
        sim: Simulation,
        world: World,
        scenario: Scenario,
        *,
        policy: str,
        seed: int,
        label: str,
        kinds: Mapping[str, str],
    ) -> StudyReport:
        """The MEV accounting of the run and its report data."""
        config: MarketConfig = scenario.market
        account = account_run(
            sim,
            _market(world),
            numeraire=config.numeraire,
            eth_price=config.eth_price,
            kinds=dict(kinds),
        )
        report = summarize(sim, account, scenario, policy, seed)
        report.summary["variant"] = scenario.variant
        report.summary["unknown_swap_calls"] = account.unknown_swap_calls
        report.summary["searchers"] = searcher_concentration(account)
        report.summary["closure"] = market_closure(
            sim, _market(world), account.valuation, dict(kinds)
        )
        market = _market(world)
        if market.router is not None:
            report.summary["routing"] = routing_summary(
                sim, market, account.searcher_profit, numeraire=config.numeraire, kinds=kinds
            )
        board = getattr(market, "sharing_board", None)
        if board is not None:
            prices = market.reference_prices(market.tokens[config.numeraire])
            receipts = [r for m in sim.metrics for r in sim.chain.receipts(m.number)]
            report.summary["sharing"] = sharing_summary(
                receipts, board.contract, lambda token, amount: amount * prices[token] / 1e18
            )
        vault = getattr(market, "vault", None)
        if vault is not None:
            report.summary["lending"] = lending_summary(sim, market, vault)
        if isinstance(world, RecordingMarket):
            report.summary["lvr"] = lvr_summary(sim, world, account)
        if sim.production is not None:
            report.summary["block_production"] = block_production_summary(
                sim.production,
                sim.chain,
                [m.number for m in sim.metrics],
                account.valuation.value_eth,
                report.summary["producer_share"]["extracted"],
            )
        return replace(report, label=label)

    def write_run(self, out: Path, report: StudyReport, scenario: Scenario, seed: int) -> Path:
        """The run's CSV tables, ``summary.json``, plots and ``report.md``."""
        return write_run(out, _run_report(report), scenario, seed)

    def write_comparison(
        self,
        out: Path,
        runs: Mapping[str, Sequence[StudyReport]],
        scenario: Scenario,
        seeds: Sequence[int],
        *,
        column: str,
        baseline: str,
    ) -> Path:
        """The comparison over seeds: tables, ``summary.json``, plots and ``report.md``."""
        grouped = {label: [_run_report(r) for r in group] for label, group in runs.items()}
        return write_comparison(out, grouped, scenario, seeds, column=column, baseline=baseline)

    def summary_line(self, summary: Mapping[str, Any]) -> str:
        """Victim loss, searcher profit and transactions of a run."""
        return summary_line(summary)


STUDY: Study = MarketStudy()
"""The market study, as the registry names it (``agentbed.experiments.studies``)."""
