"""What a validated scenario file is: its records, and the error a broken file gives.

The generic tables (``[run]``, ``[latency]``, ``[policies.NAME]``, ``[[agents]]``,
``[variants.NAME]``) are records here. The tables of the scenario's study (``Study.sections``,
e.g. ``[[pools]]``) are the study's own values, kept in :attr:`Scenario.sections` and read as
attributes (``scenario.pools``). :class:`ScenarioError`, the error a broken file gives, is
defined with the table reader in :mod:`agentbed.agents.config` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agentbed.agents.agent import NoSchedule, PeriodicSchedule, PoissonSchedule, Schedule
from agentbed.agents.blockprod.loopconfig import BlockProductionConfig
from agentbed.agents.config import ScenarioError as ScenarioError
from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.ordering import PolicySpec

MIN_GAS_LIMIT = 2_500_000
"""Smallest block gas limit: deploying the pool factory (~1.9M gas) must fit in a block."""
LatencyKind = Literal["constant", "per-agent", "random"]
ScheduleKind = Literal["poisson", "periodic", "none"]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The ``[run]`` table.

    Attributes:
        name: Title for reports (default: the file's stem).
        description: Free text for reports.
        seed: Root seed of every random stream.
        blocks: Blocks to build after the set-up block.
        block_time_ms: Simulated time between blocks.
        gas_limit: Block gas limit.
        base_fee: Base fee of the first block, in wei (EIP-1559 moves it after).
        policy: Ordering policy, its canonical name (one of
            :data:`agentbed.chain.ordering.POLICY_NAMES`).
        compare: What ``testbed compare`` compares when given neither ``--policies`` nor
            ``--variants``: ``"policies"`` (every policy) or ``"variants"`` (the file as
            written and its variants); empty means variants when the file has any.
    """

    name: str
    description: str = ""
    seed: int = 0
    blocks: int = 100
    block_time_ms: int = 12_000
    gas_limit: int = 30_000_000
    base_fee: int = 10**9
    policy: str = "priority"
    compare: str = ""


@dataclass(frozen=True, slots=True)
class LatencyConfig:
    """The ``[latency]`` table: when each observer sees a pending transaction.

    Attributes:
        model: ``"constant"`` (everyone ``ms`` late), ``"per-agent"`` (each group's
            ``latency_ms``, else ``default_ms``) or ``"random"`` (per tx and observer, uniform
            in ``[low_ms, high_ms]``, seeded).
        ms: Delay of the constant model.
        default_ms: Delay of agents without ``latency_ms`` in the per-agent model.
        builder_ms: The block builder's delay in the per-agent model.
        low_ms: Smallest delay of the random model.
        high_ms: Largest delay of the random model.
    """

    model: LatencyKind = "constant"
    ms: int = 0
    default_ms: int = 0
    builder_ms: int = 0
    low_ms: int = 0
    high_ms: int = 0


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """When the agents of a group wake on their own.

    Attributes:
        kind: ``"poisson"`` (``rate_per_s`` wakes per simulated second on average),
            ``"periodic"`` (every ``period_ms``, first ``offset_ms`` after the start) or
            ``"none"`` (only events wake the agent).
    """

    kind: ScheduleKind = "none"
    rate_per_s: float = 0.0
    period_ms: int = 0
    offset_ms: int = 0

    def make(self) -> Schedule:
        """The agent-side schedule object."""
        if self.kind == "poisson":
            return PoissonSchedule(self.rate_per_s)
        if self.kind == "periodic":
            return PeriodicSchedule(self.period_ms, self.offset_ms)
        return NoSchedule()


@dataclass(frozen=True, slots=True)
class AgentGroup:
    """One ``[[agents]]`` entry: ``count`` agents of one strategy.

    Attributes:
        kind: A strategy name of the scenario's study (``Study.strategies``).
        name: Group name; the agents are ``name0``, ``name1``, ... (default: the kind).
        count: Number of agents.
        params: Keyword arguments for the strategy's class.
        funding: Tokens minted to each agent before the run, in wei per symbol.
        schedule: Own wake schedule.
        latency_ms: Per-agent latency (only with the ``per-agent`` latency model).
        learner: Whether the learning environment (``agentbed.agents.learning``) takes these
            agents' decisions; a plain run ignores it (they follow their strategy).
    """

    kind: str
    name: str
    count: int
    params: Mapping[str, Any] = field(default_factory=dict)
    funding: Mapping[str, int] = field(default_factory=dict)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    latency_ms: int | None = None
    learner: bool = False

    def agent_names(self) -> tuple[str, ...]:
        """The names of this group's agents."""
        return tuple(f"{self.name}{i}" for i in range(self.count))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file.

    The study's tables are attributes too, by table key (``scenario.pools``). A table that
    another registered study reads is None, as it was when every study's tables were fields
    here (tests ask ``scenario.pools is None``); nothing in the package relies on it: the
    study a scenario is a run of is :attr:`study`.

    Attributes:
        path: The file it was loaded from.
        run: The ``[run]`` table.
        latency: The ``[latency]`` table.
        agents: The ``[[agents]]`` groups.
        study: The study the scenario is a run of: a name in the registry or an import path
            (``"package.module:ATTR"``); see :mod:`agentbed.experiments.studies`.
        sections: The study's tables as its ``Study.parse`` returned them, by table key.
        policy_params: ``[policies.NAME]`` tables: constructor arguments per canonical policy.
        variants: ``[variants.NAME]`` tables: each variant's overrides as ``(key path,
            value)`` pairs, in file order.
        variant_scenarios: Each variant validated as a whole scenario (without variants).
        variant: The name of the variant this scenario is, or "" for the file as written.
        variant_overrides: The overrides that made this variant (empty for the file).
        block_production: The ``[block_production]`` table (proposers and competing builders
            as agents of the loop), or None for the single passive builder.
    """

    path: str
    run: RunConfig
    latency: LatencyConfig
    agents: tuple[AgentGroup, ...]
    study: str
    sections: Mapping[str, Any] = field(default_factory=dict)
    policy_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    variants: Mapping[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    variant_scenarios: Mapping[str, Scenario] = field(default_factory=dict)
    variant: str = ""
    variant_overrides: tuple[tuple[str, Any], ...] = ()
    block_production: BlockProductionConfig | None = None

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields. Guard the fields themselves: while an
        # instance is being unpickled (worker processes) they are not set yet.
        if name.startswith("_") or name in Scenario.__dataclass_fields__:
            raise AttributeError(name)
        sections = self.sections
        if name in sections:
            return sections[name]
        from agentbed.experiments.studies import section_keys

        if name in section_keys():
            return None
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def variant_named(self, name: str) -> Scenario:
        """The scenario of variant ``name``.

        Raises:
            ValueError: no such variant; the message lists the scenario's variants.
        """
        found = self.variant_scenarios.get(name)
        if found is None:
            known = ", ".join(self.variants) or "none"
            raise ValueError(f"no variant {name!r} in {self.path}; its variants: {known}")
        return found

    @property
    def agent_count(self) -> int:
        """Total number of agents."""
        return sum(g.count for g in self.agents)

    def policy_spec(self, name: str | None = None) -> PolicySpec:
        """The ordering policy ``name`` (default: the scenario's) with the scenario's params.

        Args:
            name: A canonical policy name (read user input with
                :func:`agentbed.chain.ordering.parse_policy`).

        Raises:
            ValueError: ``name`` is not a canonical policy name.
        """
        canonical = name if name is not None else self.run.policy
        return PolicySpec(canonical, tuple(self.policy_params.get(canonical, {}).items()))

    def make_policy(self, name: str | None = None) -> OrderingPolicy:
        """The ordering policy ``name`` (default: the scenario's) built with the scenario's
        params (see :meth:`policy_spec`)."""
        return self.policy_spec(name).build()
