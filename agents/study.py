"""Studies as plug-ins: what a study (the market, the escrow economy, ...) gives the experiments.

A scenario file describes a run of one study. The generic parts of the file (``[run]``,
``[latency]``, ``[policies]``, ``[[agents]]``, ``[variants]``) are read by
:mod:`agentbed.experiments`; the study's own tables go to its :class:`Study`, which also deploys
its :class:`World` on the chain, funds the agents, summarizes a finished run and writes its
reports. The experiments know studies only through this protocol and the registry
:data:`agentbed.experiments.studies.STUDIES`, so a new study is one new package and one registry
line (or, outside this repository, a ``study = "package.module:ATTR"`` line in its scenario
files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from agentbed.agents.agent import Agent
    from agentbed.agents.config import Table
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt
    from agentbed.experiments.schema import AgentGroup, Scenario


class World(Protocol):
    """A study's deployed contracts and the off-chain state that follows them.

    The simulation hands it to every agent as ``AgentView.market`` (and to ``Agent.setup``),
    and tells it about each block, set-up blocks included, before any agent wakes on that block.
    """

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Follow one sealed block (e.g. pool reserves from ``Sync`` logs)."""
        ...


class StudyReport(Protocol):
    """A study's data about one finished run."""

    @property
    def label(self) -> str:
        """The run's name in comparisons (the variant, else the policy)."""
        ...

    @property
    def summary(self) -> dict[str, Any]:
        """The numbers ``summary.json`` holds, which sweeps tabulate by key path."""
        ...


@runtime_checkable
class Study(Protocol):
    """One kind of experiment: its scenario tables, its world, its reports.

    Attributes:
        name: The study's name in messages (``"market"``); the registry's key for a built-in.
        sections: The top-level tables it reads, written as TOML headers (``"[[pools]]"``,
            ``"[market]"``); a file holding one of them is a scenario of this study.
        strategies: Agent classes by the ``kind`` scenario files use.
        token_params: Strategy parameters a scenario file gives in whole tokens (18 decimals),
            converted to wei when the file is read.
        extra_accounts: Chain accounts it needs besides the deployer (account 0) and the
            agents (1..n); they are the chain's last accounts.
        metrics: Key paths into ``summary.json`` a sweep tabulates unless told otherwise.
    """

    @property
    def name(self) -> str: ...

    @property
    def sections(self) -> tuple[str, ...]: ...

    @property
    def strategies(self) -> Mapping[str, type[Agent]]: ...

    @property
    def token_params(self) -> frozenset[str]: ...

    @property
    def extra_accounts(self) -> int: ...

    @property
    def metrics(self) -> tuple[str, ...]: ...

    # -- the scenario file ----------------------------------------------------------------------

    def parse(self, top: Table) -> dict[str, Any]:
        """Validate the study's tables of the file; return their values by table key.

        The values become the scenario's attributes (``scenario.pools``).

        Raises:
            ScenarioError: a table breaks the study's schema (``top.error(...)`` names the key).
        """
        ...

    def funding_symbols(self, sections: Mapping[str, Any]) -> tuple[str, ...]:
        """The token symbols an ``[[agents]]`` group's ``funding`` table may name."""
        ...

    def check_agents(
        self, sections: Mapping[str, Any], agents: Sequence[AgentGroup], top: Table
    ) -> None:
        """Check what the study's tables and the agent groups require of each other.

        Raises:
            ScenarioError: e.g. an agent kind that needs a table the file lacks.
        """
        ...

    # -- building a run -------------------------------------------------------------------------

    def deploy(self, chain: Chain, scenario: Scenario, seed: int) -> World:
        """Deploy the study's contracts on ``chain`` (automine on) and return its world."""
        ...

    def fund(self, world: World, funding: Mapping[str, Mapping[str, int]]) -> None:
        """Mint each agent's funding before the run: ``{address: {symbol: wei}}``."""
        ...

    # -- reporting ------------------------------------------------------------------------------

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
        """The report data of a finished run (``kinds``: the scenario kind of each agent)."""
        ...

    def write_run(self, out: Path, report: StudyReport, scenario: Scenario, seed: int) -> Path:
        """Write one run's report files into ``out``; return its ``report.md``."""
        ...

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
        """Write the comparison over seeds of runs (their own files are in
        ``out/<label>/seed<N>/``); return its ``report.md``.

        ``runs`` holds each label's reports, one per seed in the order of ``seeds``;
        ``column`` names what the labels differ in (``policy`` or ``variant``); differences
        are paired by seed against ``baseline``, one of the labels
        (:mod:`agentbed.agents.reporting.seeds` holds the statistics and their wording)."""
        ...

    def summary_line(self, summary: Mapping[str, Any]) -> str:
        """One line about a run's summary, for progress output."""
        ...


_T = TypeVar("_T")


def expect(value: object, cls: type[_T], what: str) -> _T:
    """``value`` as a ``cls``, for a study handed the world or report of the base protocol.

    Raises:
        TypeError: ``value`` is not a ``cls`` (``what`` says whose it should have been).
    """
    if not isinstance(value, cls):
        raise TypeError(f"{what}, got {type(value).__name__}")
    return value
