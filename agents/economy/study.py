"""The commitment-economy study as a plug-in: currency, staking, reputation and escrow.

An economy scenario holds an ``[economy]`` table (the contracts' variant); its agents are the
strategies in :data:`STRATEGIES` (buyers, sellers, arbitrators, a reputation issuer, and
spammers for congestion), and their amounts of currency are whole tokens in the file. The study
deploys the contracts as :meth:`~agentbed.agents.economy.world.Economy.deploy` does, with
slashed bonds and stake going to a treasury account that is not an agent, mints the agents'
currency, and reports a run with :mod:`agentbed.agents.economy.report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from agentbed.agents.agent import Agent
from agentbed.agents.config import Table, token_amount
from agentbed.agents.economy.closure import economy_closure
from agentbed.agents.economy.governance import GOVERNANCE_KEYS, Governance
from agentbed.agents.economy.report import (
    EconomyReport,
    economy_summary_line,
    summarize_economy,
    write_economy_comparison,
    write_economy_run,
)
from agentbed.agents.economy.strategies.attacks import ArbitratorGriefer, ReputationFarmer, Sybil
from agentbed.agents.economy.strategies.auditor import Auditor
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.strategies.issuer import ReputationIssuer
from agentbed.agents.economy.world import Economy
from agentbed.agents.llm.escrow_agent import LLMBuyer
from agentbed.agents.llm.seller_agent import LLMSeller
from agentbed.agents.reporting.intro import intro_lines
from agentbed.agents.spam import Spammer
from agentbed.agents.study import Study, StudyReport, World, expect

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.experiments.schema import AgentGroup, Scenario

CURRENCY = "AGC"
"""Funding symbol of the economy's currency (whole tokens, 18 decimals)."""
STRATEGIES: Mapping[str, type[Agent]] = MappingProxyType(
    {
        "buyer": ServiceBuyer,
        "seller": ServiceSeller,
        "arbitrator": Arbitrator,
        "issuer": ReputationIssuer,
        "spammer": Spammer,
        "griefer": ArbitratorGriefer,
        "farmer": ReputationFarmer,
        "sybil": Sybil,
        "auditor": Auditor,
        "llm_buyer": LLMBuyer,
        "llm_seller": LLMSeller,
    }
)
"""The economy's strategies by the ``kind`` scenario files use."""
CURRENCY_PARAMS = frozenset(
    {
        "price",
        "value",
        "bond",
        "seller_bond",
        "fee",
        "min_fee",
        "temptation",
        "bribe",
        "cost",
        "stake",
        "min_bribe",
        "farm_price",
        "min_margin",
    }
)
"""Strategy parameters that are amounts of currency: whole tokens in scenario files."""
METRICS: tuple[str, ...] = (
    "settlement_rate",
    "timeout_rate",
    "default_rate",
    "welfare.total",
    "broken_commitments",
    "auc.last",
)
"""The metrics of an economy sweep unless others are named: key paths into ``summary.json``."""


@dataclass(frozen=True, slots=True)
class EconomyConfig:
    """The ``[economy]`` table: the commitment economy's contract variant (``Economy.deploy``).

    Attributes:
        timeout_policy: ``"slash"`` (both bonds slashed when a delivery times out) or
            ``"refund"`` (both refunded).
        min_arbitrator_stake: Bonded stake an arbitrator needs to be named, in wei (0: none).
        community: Deploy the community currency (transferable only through the escrow and
            staking, so side payments are impossible) instead of the transferable one.
        ruling_window_s: Seconds an arbitrator has to rule after a dispute.
        arbitrator_slash: Stake taken from an arbitrator who misses the window, in wei.
        grace_s: Deadline grace: seconds after ``deliverBy`` during which a confirmation or
            dispute still counts and no timeout is allowed.
        arbitrator_consent: Deploy ``ConsentEscrow`` (an arbitrator is named only with its
            signed consent) instead of the plain ``Escrow`` (anyone may name any staked one).
        governance: The tax, circuit breaker and collusion detection (keys
            ``GOVERNANCE_KEYS``; ``agentbed.agents.economy.governance``), off by default; any
            of them deploys ``GovernedEscrow``, which needs ``arbitrator_consent``.
    """

    timeout_policy: Literal["refund", "slash"] = "slash"
    min_arbitrator_stake: int = 100 * 10**18
    community: bool = False
    ruling_window_s: int = 36
    arbitrator_slash: int = 50 * 10**18
    grace_s: int = 0
    arbitrator_consent: bool = True
    governance: Governance = field(default_factory=Governance)


def parse_governance(table: Table) -> Governance:
    """The levers' keys of the ``[economy]`` table."""
    off = Governance()
    z = table.number("collusion_z", off.collusion_z)
    tax_bps = table.integer("tax_bps", off.tax_bps, minimum=0)
    if tax_bps >= 10_000:
        raise table.error("tax_bps", f"a share in basis points below 10000, got {tax_bps}")
    return Governance(
        tax_bps=tax_bps,
        freeze_defaults=table.integer("freeze_defaults", off.freeze_defaults, minimum=0),
        freeze_window_s=table.integer("freeze_window_s", off.freeze_window_s, minimum=1),
        collusion_z=off.collusion_z if z is None else z,
        collusion_min_deals=table.integer(
            "collusion_min_deals", off.collusion_min_deals, minimum=1
        ),
    )


def parse_economy(table: Table) -> EconomyConfig:
    """The ``[economy]`` table (amounts of currency in whole tokens)."""
    table.expect(
        (
            "timeout_policy",
            "min_arbitrator_stake",
            "community",
            "ruling_window_s",
            "arbitrator_slash",
            "grace_s",
            "arbitrator_consent",
            *GOVERNANCE_KEYS,
        )
    )
    community = table.boolean("community", False)
    defaults = EconomyConfig()
    governance = parse_governance(table)
    consent = table.boolean("arbitrator_consent", defaults.arbitrator_consent)
    if governance.on_chain and not consent:
        raise table.error(
            "arbitrator_consent",
            "tax_bps, freeze_defaults and collusion_z deploy GovernedEscrow, a consent escrow: "
            "expected true",
        )
    return EconomyConfig(
        timeout_policy=table.choice(  # type: ignore[arg-type]  # checked by choice()
            "timeout_policy", ("slash", "refund"), defaults.timeout_policy
        ),
        min_arbitrator_stake=token_amount(
            table, "min_arbitrator_stake", default=defaults.min_arbitrator_stake
        ),
        community=community,
        ruling_window_s=table.integer("ruling_window_s", defaults.ruling_window_s, minimum=1),
        arbitrator_slash=token_amount(table, "arbitrator_slash", default=defaults.arbitrator_slash),
        grace_s=table.integer("grace_s", defaults.grace_s, minimum=0),
        arbitrator_consent=consent,
        governance=governance,
    )


def _economy(world: World) -> Economy:
    return expect(world, Economy, "the economy study runs on an Economy")


def _economy_report(report: StudyReport) -> EconomyReport:
    return expect(report, EconomyReport, "the economy study reports an EconomyReport")


def _setting(scenario: Scenario) -> str:
    """The economy's rules in a report's first line."""
    economy = scenario.economy
    stake = economy.min_arbitrator_stake / 10**18
    rules: Governance = economy.governance
    levers = ""
    if rules.tax_bps:
        levers += f"; escrow payouts taxed {rules.tax_bps} bps into an arbitration fund"
    if rules.freeze_defaults:
        levers += (
            f"; circuit breaker at {rules.freeze_defaults} bad outcomes in "
            f"{rules.freeze_window_s} s"
        )
    if rules.collusion_z:
        levers += (
            f"; collusion flagged at adjusted residual {rules.collusion_z:g} "
            f"(at least {rules.collusion_min_deals} deals)"
        )
    return (
        f"{'community' if economy.community else 'transferable'} currency, timeouts "
        f"{economy.timeout_policy} the bonds, arbitrator stake {stake:g} required, deadline "
        f"grace {economy.grace_s} s, arbitrators "
        + ("consent to each appointment" if economy.arbitrator_consent else "named without consent")
        + levers
    )


def _title(scenario: Scenario, label: str) -> str:
    what = "variant" if scenario.variant else "ordering"
    return f"{scenario.run.name} ({label} {what})"


@dataclass(frozen=True, slots=True)
class EconomyStudy:
    """The economy study (see the module docstring); the fields are the ``Study`` attributes."""

    name: str = "economy"
    sections: tuple[str, ...] = ("[economy]",)
    strategies: Mapping[str, type[Agent]] = field(default_factory=lambda: STRATEGIES)
    token_params: frozenset[str] = CURRENCY_PARAMS
    extra_accounts: int = 1  # the treasury, the chain's last account
    metrics: tuple[str, ...] = METRICS

    def parse(self, top: Table) -> dict[str, Any]:
        """``economy``: the contracts' variant."""
        return {"economy": parse_economy(top.table("economy"))}

    def funding_symbols(self, sections: Mapping[str, Any]) -> tuple[str, ...]:
        """The currency alone."""
        return (CURRENCY,)

    def check_agents(
        self, sections: Mapping[str, Any], agents: Sequence[AgentGroup], top: Table
    ) -> None:
        """Collusion detection needs an ``auditor``: it sends the on-chain freezes."""
        economy: EconomyConfig = sections["economy"]
        if economy.governance.collusion_z > 0 and not any(g.kind == "auditor" for g in agents):
            raise top.error(
                "economy.collusion_z",
                "collusion detection needs an agent of kind 'auditor' (the escrow's governor, "
                "which puts flagged accounts on its freeze list); add one (audit_prob = 0 "
                "audits nothing)",
            )

    def deploy(self, chain: Chain, scenario: Scenario, seed: int) -> World:
        """Currency, staking, reputation and escrow; the treasury is the chain's last account."""
        config: EconomyConfig = scenario.economy
        economy = Economy.deploy(
            chain,
            timeout_policy=config.timeout_policy,
            min_arbitrator_stake=config.min_arbitrator_stake,
            ruling_window=config.ruling_window_s,
            arbitrator_slash=config.arbitrator_slash,
            community=config.community,
            grace_period=config.grace_s,
            arbitrator_consent=config.arbitrator_consent,
            treasury=chain.accounts[-1].address,
            governance=config.governance,
        )
        return economy

    def fund(self, world: World, funding: Mapping[str, Mapping[str, int]]) -> None:
        """Mint each agent's currency."""
        _economy(world).fund({who: amounts.get(CURRENCY, 0) for who, amounts in funding.items()})

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
        """Agreements, welfare, reputation and congestion of the run."""
        report = summarize_economy(
            sim,
            _economy(world),
            label=label,
            seed=seed,
            scenario_name=scenario.run.name,
            kinds=dict(kinds),
        )
        report.summary.update(policy=policy, variant=scenario.variant)
        report.summary["closure"] = economy_closure(sim, _economy(world), dict(kinds))
        return report

    def write_run(self, out: Path, report: StudyReport, scenario: Scenario, seed: int) -> Path:
        """The run's CSV tables, ``summary.json``, plots and ``report.md``."""
        run = _economy_report(report)
        title = _title(scenario, run.label)
        intro = intro_lines(scenario, seed, _setting(scenario))
        return write_economy_run(out, run, title=title, intro=intro)

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
        intro = [
            *intro_lines(scenario, seeds, _setting(scenario)),
            "",
            f"The same seeds under each {column}; each run's own tables, event log and plots "
            f"are in `<{column}>/seed<N>/`.",
        ]
        title = f"{scenario.run.name} ({column}s compared over {len(seeds)} seed(s))"
        grouped = {label: [_economy_report(r) for r in group] for label, group in runs.items()}
        return write_economy_comparison(
            out, grouped, title=title, intro=intro, seeds=seeds, column=column, baseline=baseline
        )

    def summary_line(self, summary: Mapping[str, Any]) -> str:
        """Agreements' outcomes, welfare, Gini and AUC of a run."""
        return economy_summary_line(summary)


STUDY: Study = EconomyStudy()
"""The economy study, as the registry names it (``agentbed.experiments.studies``)."""
