"""The compute-metered agent economy (the sim-economy paper) as a study plug-in.

A scenario holds a ``[sim_economy]`` table (:class:`~agentbed.agents.simecon.world.WorldParams`:
the paper's Table 1 and the calibrated job wage) and two agent kinds: ``rule`` (the paper's rule
policy, funded with ``CRD``, the ledger's credit, in whole tokens) and exactly one ``meter`` (the
compute provider: it closes every turn, holds the core shares unless ``core_holder = "agents"``).
The study deploys ``SimEconomy`` with the rule agents in group order, seeds its lottery with
the run's root seed, grants each agent ``genesis_tokens`` (the ledger's credit is not an ERC-20,
so ``[[agents]]`` take no ``funding``), and reports the paper's
measures (:mod:`agentbed.agents.simecon.report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import Agent, derive_seed
from agentbed.agents.config import ScenarioError, Table
from agentbed.agents.reporting.intro import intro_lines
from agentbed.agents.simecon.closure import run_closure
from agentbed.agents.simecon.policy import ComputeMeter, RulePolicy
from agentbed.agents.simecon.report import (
    METRICS,
    SimReport,
    summarize_run,
    summary_line,
    write_comparison,
    write_run,
)
from agentbed.agents.simecon.world import GRANT_GAS, SimWorld, WorldParams
from agentbed.agents.study import Study, StudyReport, World, expect

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.experiments.schema import AgentGroup, Scenario

STRATEGIES: Mapping[str, type[Agent]] = MappingProxyType(
    {"rule": RulePolicy, "meter": ComputeMeter}
)
_INTEGER_FIELDS = frozenset(
    f.name for f in fields(WorldParams) if f.type in ("int", int) and f.name != "turns"
)
_FLOAT_FIELDS = frozenset(f.name for f in fields(WorldParams) if f.type in ("float", float))


def parse_world(table: Table) -> WorldParams:
    """The ``[sim_economy]`` table; absent keys take the paper's values."""
    names = [f.name for f in fields(WorldParams)]
    table.expect(names)
    defaults = WorldParams()
    values: dict[str, Any] = {"turns": table.integer("turns", defaults.turns, minimum=1)}
    for name in _INTEGER_FIELDS:
        values[name] = table.integer(name, getattr(defaults, name), minimum=0)
    for name in _FLOAT_FIELDS:
        values[name] = table.number(name, getattr(defaults, name))
    values["core_holder"] = table.choice("core_holder", ("meter", "agents"), defaults.core_holder)
    for name in ("thinking_discount", "burn_decay"):
        if values[name] > 1:
            raise table.error(name, f"expected a fraction in [0, 1], got {values[name]}")
    if values["job_wage_spread"] > values["job_wage"]:
        raise table.error("job_wage_spread", "expected at most job_wage (a wage is never negative)")
    if values["block_threshold"] <= 0:
        raise table.error("block_threshold", "expected a weight > 0")
    return WorldParams(**values)


def _accounts(scenario: Scenario, chain: Chain) -> tuple[list[str], str]:
    """The rule agents' addresses in group order and the meter's (accounts 1.. by group)."""
    rules: list[str] = []
    meter = ""
    index = 1
    for group in scenario.agents:
        for _ in range(group.count):
            address = str(chain.accounts[index].address)
            if group.kind == "meter":
                meter = address
            else:
                rules.append(address)
            index += 1
    return rules, meter


def _world(world: World) -> SimWorld:
    return expect(world, SimWorld, "the sim-economy study runs on a SimWorld")


def _report(report: StudyReport) -> SimReport:
    return expect(report, SimReport, "the sim-economy study reports a SimReport")


def _setting(scenario: Scenario) -> str:
    p: WorldParams = scenario.sim_economy
    return (
        f"{p.turns} turns; commons {p.commons_threshold} units, rate {p.inference_rate}, "
        f"interest {p.interest_rate:.0%} per turn on debt, block threshold {p.block_threshold:g}, "
        f"signing bonus {p.signing_bonus}, job wage {p.job_wage}"
        + (f" ± {p.job_wage_spread}" if p.job_wage_spread else "")
        + f"; core shares held by the "
        f"{p.core_holder}"
    )


@dataclass(frozen=True, slots=True)
class SimEconomyStudy:
    """The sim-economy study (module docstring); the fields are the ``Study`` attributes."""

    name: str = "sim_economy"
    sections: tuple[str, ...] = ("[sim_economy]",)
    strategies: Mapping[str, type[Agent]] = field(default_factory=lambda: STRATEGIES)
    token_params: frozenset[str] = frozenset()
    extra_accounts: int = 0
    metrics: tuple[str, ...] = METRICS

    def parse(self, top: Table) -> dict[str, Any]:
        """``sim_economy``: the world's parameters."""
        return {"sim_economy": parse_world(top.table("sim_economy"))}

    def funding_symbols(self, sections: Mapping[str, Any]) -> tuple[str, ...]:
        """None: every agent starts with ``genesis_tokens`` of the ledger's credit."""
        return ()

    def check_agents(
        self, sections: Mapping[str, Any], agents: Sequence[AgentGroup], top: Table
    ) -> None:
        """Exactly one meter and at least one rule agent.

        A turn takes two blocks, so ``[run] blocks = 2 * turns + 1`` plays every turn; a
        shorter run closes fewer (its summary's ``turns`` says how many).

        Raises:
            ScenarioError: naming the agents table.
        """
        meters = sum(g.count for g in agents if g.kind == "meter")
        rules = sum(g.count for g in agents if g.kind == "rule")
        if meters != 1 or rules < 1:
            raise ScenarioError(
                top.file,
                "agents",
                f"expected one meter and >= 1 rule agent, got {meters} and {rules}",
            )

    def deploy(self, chain: Chain, scenario: Scenario, seed: int) -> World:
        """``SimEconomy`` for the rule agents, the meter as operator, the lottery seeded."""
        rules, meter = _accounts(scenario, chain)
        lottery_seed = derive_seed(seed, "sim_economy", "lottery")
        return SimWorld.deploy(chain, scenario.sim_economy, rules, meter, lottery_seed)

    def fund(self, world: World, funding: Mapping[str, Mapping[str, int]]) -> None:
        """The meter grants each rule agent ``genesis_tokens`` (``funding`` is empty)."""
        sim = _world(world)
        contract = sim.chain.contract(sim.address, "SimEconomy")
        meter = next(a for a in sim.chain.accounts if a.address == sim.meter)
        tokens = sim.params.genesis_tokens
        for who in sim.agents:
            if tokens > 0:
                sim.chain.transact(meter, contract.functions.grant(who, tokens), gas=GRANT_GAS)

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
        """The paper's measures of the run and its closure (ETH, and the credit ledger)."""
        report = summarize_run(_world(world), label=label, seed=seed)
        report.summary.update(policy=policy, variant=scenario.variant)
        report.summary["closure"] = run_closure(sim, _world(world))
        return report

    def write_run(self, out: Path, report: StudyReport, scenario: Scenario, seed: int) -> Path:
        """``turns.csv``, ``summary.json`` and ``report.md``."""
        run = _report(report)
        intro = intro_lines(scenario, seed, _setting(scenario))
        return write_run(out, run, title=f"{scenario.run.name} ({run.label})", intro=intro)

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
        """The reproduction table per label: ours over the seeds beside the paper's."""
        intro = intro_lines(scenario, seeds, _setting(scenario))
        grouped = {label: [_report(r) for r in group] for label, group in runs.items()}
        title = f"{scenario.run.name} over {len(seeds)} seed(s), beside the paper"
        return write_comparison(
            out, grouped, title=title, intro=intro, seeds=seeds, baseline=baseline
        )

    def summary_line(self, summary: Mapping[str, Any]) -> str:
        """Blocks, fees, supply, debtors and shifted Gini of a run."""
        return summary_line(summary)


STUDY: Study = SimEconomyStudy()
"""The sim-economy study, as the registry names it (``agentbed.experiments.studies``)."""
