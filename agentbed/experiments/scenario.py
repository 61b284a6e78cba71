"""Scenario files: one TOML file describes a whole experiment, and ``build`` sets it up.

A scenario names the run (seed, blocks, block time, gas limit, base fee, ordering policy), the
latency model, the pools and their liquidity, the reference-price walk, and the agents: for each
group a strategy ``kind`` from :data:`agentbed.experiments.strategies.STRATEGIES`, a count, the
parameters
passed to the strategy's class, token funding, a wake schedule and an optional per-agent
latency. ``docs/scenarios.md`` documents every key.

Validation is strict because a typo must not silently change an experiment: every key is
checked, unknown keys are errors, and a broken file gets one line naming the file, the key path
(``agents[2].params.slippage_bps``) and what was expected. TOML syntax errors give
``file:line:column``.

A file's ``[variants.NAME]`` tables, like ``testbed sweep``, set values by key path
(:func:`apply_overrides`) in the parsed TOML before validation, so an overridden value is checked
exactly like one typed into the file.

``build`` fans the one root seed out with :func:`agentbed.agents.agent.derive_seed` to every
component:
the chain (account keys, prevrandao, the policy's per-block RNG), the latency model, each
agent's random stream and schedule, and the reference-price walk.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from agentbed.agents.agent import (
    Agent,
    NoSchedule,
    PeriodicSchedule,
    PoissonSchedule,
    Schedule,
    derive_seed,
)
from agentbed.agents.market.world import Market, PoolSpec

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Economy
    from agentbed.agents.eventlog import EventLog
    from agentbed.agents.sim import Simulation
    from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
    from agentbed.chain.node import Chain

POLICIES: tuple[str, ...] = ("fifo", "priority", "random", "batch", "bundles")
"""The ordering policies a scenario (and ``testbed compare``) can name."""
_POLICY_ALIASES = {
    "priority_fee": "priority",
    "frequent_batch": "batch",
    "bundles_first": "bundles",
}
MIN_GAS_LIMIT = 2_500_000
"""Smallest block gas limit: deploying the pool factory (~1.9M gas) must fit in a block."""
TOKEN_UNIT = 10**18
"""Amounts in scenario files are whole tokens; the mock tokens have 18 decimals."""
_MAX_FUNDING_BLOCKS = 100
LatencyKind = Literal["constant", "per-agent", "random"]
ScheduleKind = Literal["poisson", "periodic", "none"]
# Parameters of Agent.__init__ that ``build`` supplies itself; a scenario may not set them.
_RESERVED_PARAMS = frozenset({"self", "name", "account", "rng", "schedule"})


class ScenarioError(ValueError):
    """A scenario file is unreadable or breaks the schema.

    The message is one line: ``FILE: KEY: what was expected`` (or ``FILE:LINE:COL: message``
    for TOML syntax errors).

    Attributes:
        path: The scenario file.
        line: Line of a TOML syntax error (None for schema errors).
        key: Key path of the offending value, e.g. ``agents[2].params.slippage_bps`` (empty for
            syntax errors and unreadable files).
        expected: What was wrong or expected.
    """

    def __init__(
        self,
        path: str | Path,
        key: str,
        expected: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}:{column}"
        super().__init__(f"{where}: {key}: {expected}" if key else f"{where}: {expected}")


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


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
        policy: Ordering policy, one of :data:`POLICIES`.
    """

    name: str
    description: str = ""
    seed: int = 0
    blocks: int = 100
    block_time_ms: int = 12_000
    gas_limit: int = 30_000_000
    base_fee: int = 10**9
    policy: str = "priority"


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


@dataclass(frozen=True, slots=True)
class IntentsConfig:
    """The ``[intents]`` table: the ``IntentBook`` variant deployed for intent makers and solvers.

    Attributes:
        pricing: ``"pay_as_filled"`` (each intent at its own pool execution) or ``"uniform"``
            (one clearing price per pair and batch).
        on_unmet: ``"skip"`` (an intent whose condition does not hold is left out) or
            ``"revert"`` (the whole settlement reverts).
        solver_share_bps: The solver's share of makers' surplus over their limits.
    """

    pricing: Literal["pay_as_filled", "uniform"] = "pay_as_filled"
    on_unmet: Literal["skip", "revert"] = "skip"
    solver_share_bps: int = 0


INTENT_KINDS = frozenset({"intent_maker", "solver"})
"""Strategy kinds that need an intent book (and so an ``[intents]`` table)."""


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
    """

    timeout_policy: Literal["refund", "slash"] = "slash"
    min_arbitrator_stake: int = 100 * 10**18
    community: bool = False
    ruling_window_s: int = 36
    arbitrator_slash: int = 50 * 10**18
    grace_s: int = 0


ECONOMY_KINDS = frozenset({"buyer", "seller", "arbitrator", "issuer"})
"""Strategy kinds that live in the commitment economy (and so need an ``[economy]`` table)."""
POOL_FREE_KINDS = ECONOMY_KINDS | {"spammer"}
"""Strategy kinds that need no pools: the only kinds an ``[economy]`` scenario may hold."""
CURRENCY = "AGC"
"""Funding symbol of the economy's currency (whole tokens, 18 decimals)."""
_CURRENCY_PARAMS = frozenset(
    {
        "price",
        "value",
        "bond",
        "seller_bond",
        "fee",
        "temptation",
        "bribe",
        "cost",
        "stake",
        "min_bribe",
    }
)
"""Economy agents' parameters that are amounts of currency: whole tokens in scenario files."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""An agent group's or a variant's name."""


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
        kind: Strategy name in :data:`agentbed.experiments.strategies.STRATEGIES`.
        name: Group name; the agents are ``name0``, ``name1``, ... (default: the kind).
        count: Number of agents.
        params: Keyword arguments for the strategy's class.
        funding: Tokens minted to each agent before the run, in wei per symbol.
        schedule: Own wake schedule.
        latency_ms: Per-agent latency (only with the ``per-agent`` latency model).
    """

    kind: str
    name: str
    count: int
    params: Mapping[str, Any] = field(default_factory=dict)
    funding: Mapping[str, int] = field(default_factory=dict)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    latency_ms: int | None = None

    def agent_names(self) -> tuple[str, ...]:
        """The names of this group's agents."""
        return tuple(f"{self.name}{i}" for i in range(self.count))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file.

    Attributes:
        path: The file it was loaded from.
        run: The ``[run]`` table.
        latency: The ``[latency]`` table.
        pools: The ``[[pools]]`` (reserves in wei).
        market: The ``[market]`` table.
        agents: The ``[[agents]]`` groups.
        policy_params: ``[policies.NAME]`` tables: constructor arguments per policy name.
        intents: The ``[intents]`` table, or None when the scenario has no intent book.
        economy: The ``[economy]`` table, or None for a market scenario (with pools).
        variants: ``[variants.NAME]`` tables: each variant's overrides as ``(key path,
            value)`` pairs, in file order.
        variant_scenarios: Each variant validated as a whole scenario (without variants).
        variant: The name of the variant this scenario is, or "" for the file as written.
        variant_overrides: The overrides that made this variant (empty for the file).
    """

    path: str
    run: RunConfig
    latency: LatencyConfig
    pools: tuple[PoolSpec, ...]
    market: MarketConfig
    agents: tuple[AgentGroup, ...]
    policy_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    intents: IntentsConfig | None = None
    economy: EconomyConfig | None = None
    variants: Mapping[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    variant_scenarios: Mapping[str, Scenario] = field(default_factory=dict)
    variant: str = ""
    variant_overrides: tuple[tuple[str, Any], ...] = ()

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

    def make_policy(self, name: str | None = None) -> OrderingPolicy:
        """The ordering policy ``name`` (default: the scenario's) with the scenario's params.

        Raises:
            ValueError: an unknown policy name (the message lists the valid ones).
        """
        from agentbed.chain.ordering import policy_from_name

        canonical = canonical_policy(name if name is not None else self.run.policy)
        return policy_from_name(canonical, **dict(self.policy_params.get(canonical, {})))


def canonical_policy(name: str) -> str:
    """The short name of a policy (``"priority_fee"`` -> ``"priority"``).

    Raises:
        ValueError: ``name`` is not a known policy; the message lists the valid names.
    """
    key = name.strip().lower()
    key = _POLICY_ALIASES.get(key, key)
    if key not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; valid policies: {', '.join(POLICIES)}")
    return key


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Table:
    """Typed access to one TOML table that knows its key path; ``expect`` rejects unknown keys."""

    def __init__(self, file: str, key: str, data: object) -> None:
        self.file = file
        self.key = key
        if not isinstance(data, dict):
            raise self.error("", f"expected a table, got {_type_name(data)}")
        self.data: dict[str, Any] = data

    def path(self, name: str) -> str:
        if not name:
            return self.key
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, expected: str) -> ScenarioError:
        return ScenarioError(self.file, self.path(name), expected)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def integer(self, name: str, default: int | None = None, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            if default is None:
                raise self.error(name, "required: expected an integer")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {_type_name(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(name, f"expected an integer >= {minimum}, got {value}")
        return value

    def number(self, name: str, default: float | None, *, positive: bool = False) -> float | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_type_name(value)} {value!r}")
        if value < 0 or (positive and value == 0):
            bound = "> 0" if positive else ">= 0"
            raise self.error(name, f"expected a number {bound}, got {value}")
        return float(value)

    def string(self, name: str, default: str | None = None) -> str:
        value = self.raw(name)
        if value is None:
            if default is None:
                raise self.error(name, "required: expected a string")
            return default
        if not isinstance(value, str) or not value:
            raise self.error(name, f"expected a non-empty string, got {_type_name(value)}")
        return value

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        value = self.string(name, default)
        if value not in options:
            raise self.error(name, f"expected one of {', '.join(options)}; got {value!r}")
        return value

    def table(self, name: str) -> _Table:
        value = self.raw(name)
        return _Table(self.file, self.path(name), {} if value is None else value)

    def tables(self, name: str) -> list[_Table]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"expected an array of tables ([[{name}]]), got a table")
        return [_Table(self.file, f"{self.path(name)}[{i}]", v) for i, v in enumerate(value)]

    def expect(self, known: Sequence[str]) -> None:
        """Reject any key outside ``known``, suggesting the closest known one."""
        for name in self.data:
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                allowed = ", ".join(known) or "none"
                raise self.error(name, f"unknown key (allowed: {allowed}){suggestion}")


def _token_amount(
    table: _Table, name: str, *, positive: bool = False, default: int | None = None
) -> int:
    """Whole tokens (integer or float) as wei, exactly; ``default`` (wei) when absent."""
    value = table.raw(name)
    if value is None:
        if default is not None:
            return default
        raise table.error(name, "required: expected an amount of whole tokens")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise table.error(
            name, f"expected an amount of whole tokens (a number), got {_type_name(value)}"
        )
    try:
        wei = Decimal(str(value)) * TOKEN_UNIT
    except InvalidOperation:
        raise table.error(name, f"expected a finite number, got {value!r}") from None
    if not wei.is_finite() or wei != wei.to_integral_value():
        raise table.error(name, f"expected at most 18 decimals, got {value!r}")
    if wei < 0 or (positive and wei == 0):
        raise table.error(name, f"expected an amount {'> 0' if positive else '>= 0'}, got {value}")
    return int(wei)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: the file is missing, is not valid TOML, or breaks the schema.
    """
    return parse_scenario(read_scenario_toml(path), str(path))


def read_scenario_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML of a scenario file, not yet validated (see :func:`parse_scenario`).

    Raises:
        ScenarioError: the file is missing or is not valid TOML.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(file, "", f"cannot read: {err.strerror or err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        where = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if where:
            text_only = message[: where.start()].rstrip()
            raise ScenarioError(
                file,
                "",
                f"invalid TOML: {text_only}",
                line=int(where.group(1)),
                column=int(where.group(2)),
            ) from None
        raise ScenarioError(file, "", f"invalid TOML: {message}") from None
    return data


def parse_scenario(data: Mapping[str, Any], file: str = "<scenario>") -> Scenario:
    """Validate already-parsed TOML data (see :func:`load_scenario`).

    Each ``[variants.NAME]`` table is applied to the rest of the data and validated as a whole
    scenario too, so a broken variant is reported when the file is loaded, not halfway through
    a comparison.
    """
    top = _Table(file, "", dict(data))
    top.expect(
        (
            "run",
            "latency",
            "pools",
            "market",
            "agents",
            "policies",
            "intents",
            "economy",
            "variants",
        )
    )
    economy = _parse_economy(top)
    pools = _parse_pools(top, required=economy is None)
    if economy is not None and pools:
        raise top.error(
            "pools",
            "a scenario has either [[pools]] (a market) or an [economy] table, not both",
        )
    symbols = sorted({s for p in pools for s in (p.token0, p.token1)}) if pools else [CURRENCY]
    run = _parse_run(top.table("run"), Path(file).stem)
    policy_params = _parse_policies(top.table("policies"))
    latency = _parse_latency(top.table("latency"))
    if pools:
        market = _parse_market(top.table("market"), pools, symbols)
    elif top.has("market"):
        raise top.error("market", "only allowed with [[pools]]: an economy scenario has no market")
    else:
        market = MarketConfig(numeraire=CURRENCY)
    agents = _parse_agents(top, symbols, latency, economy=economy is not None)
    intents = _parse_intents(top, agents)
    scenario = Scenario(file, run, latency, pools, market, agents, policy_params, intents, economy)
    try:
        scenario.make_policy()
    except (TypeError, ValueError) as err:
        name = canonical_policy(run.policy)
        raise ScenarioError(file, f"policies.{name}", str(err)) from None
    if top.has("variants"):
        base = {k: v for k, v in data.items() if k != "variants"}
        variants = _parse_variants(top.table("variants"), base, file)
        scenario = replace(
            scenario,
            variants={name: overrides for name, (overrides, _) in variants.items()},
            variant_scenarios={name: variant for name, (_, variant) in variants.items()},
        )
    return scenario


# ---------------------------------------------------------------------------------------------
# Key paths and overrides (a file's variants here; ``testbed sweep`` in agents.sweep)
# ---------------------------------------------------------------------------------------------

_KEY_SEGMENT = re.compile(r"([A-Za-z0-9_-]+)((?:\[\d+\])*)")
_KEY_INDEX = re.compile(r"\[(\d+)\]")


def split_key_path(key: str) -> list[str | int]:
    """``agents[1].params.x`` -> ``["agents", 1, "params", "x"]``.

    Raises:
        ValueError: the text is not a dotted key path with optional ``[index]`` parts.
    """
    parts: list[str | int] = []
    for segment in key.split("."):
        match = _KEY_SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(
                f"bad key path {key!r}: expected names joined by '.', each optionally followed "
                "by [index], e.g. agents[1].params.slippage_bps"
            )
        parts.append(match.group(1))
        parts.extend(int(i) for i in _KEY_INDEX.findall(match.group(2)))
    return parts


def _describe_path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def apply_overrides(
    data: Mapping[str, Any], overrides: Sequence[tuple[str, Any]], file: str
) -> dict[str, Any]:
    """A copy of parsed scenario data with each key path set to its value.

    Missing tables on the way are created (``policies.batch.window_ms`` in a file without
    ``[policies]``); whether the key is allowed there is left to validation, which reports it
    like a typo in the file.

    Raises:
        ScenarioError: the path indexes past the end of an array, indexes a table, or goes
            through a value that is not a table.
    """
    result = copy.deepcopy(dict(data))
    for key, value in overrides:
        parts = split_key_path(key)
        node: Any = result
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            here = _describe_path(parts[: depth + 1])
            if isinstance(part, int):
                if not isinstance(node, list):
                    raise ScenarioError(file, here, "not an array of tables; cannot index it")
                if part >= len(node):
                    raise ScenarioError(
                        file,
                        here,
                        f"no such entry: {_describe_path(parts[:depth])} has {len(node)} "
                        f"entr{'y' if len(node) == 1 else 'ies'}",
                    )
            elif not isinstance(node, dict):
                raise ScenarioError(
                    file,
                    _describe_path(parts[:depth]),
                    f"not a table; cannot set {part!r} in it",
                )
            elif (
                isinstance(node.get(part), list) and not last and isinstance(parts[depth + 1], str)
            ):
                raise ScenarioError(
                    file, here, f"an array of tables; index it, e.g. {here}[0].{parts[depth + 1]}"
                )
            if last:
                node[part] = value
            elif isinstance(part, str) and part not in node:
                node[part] = {}
                node = node[part]
            else:
                node = node[part]
    return result


def _flatten_overrides(table: _Table) -> list[tuple[str, Any]]:
    """``(key path, value)`` pairs of a variant table.

    Bare TOML keys nest (``intents.pricing = "uniform"`` is ``{"intents": {"pricing": ...}}``)
    and are flattened back into paths; a quoted key path (``"agents[1].params" = {...}``)
    keeps its value whole, so a table can be replaced rather than merged.
    """
    pairs: list[tuple[str, Any]] = []

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and re.fullmatch(r"[A-Za-z0-9_-]+", key):
                if not value:
                    raise table.error(path, "an empty table overrides nothing")
                walk(path, value)
            else:
                pairs.append((path, value))

    walk("", table.data)
    return pairs


def _parse_variants(
    table: _Table, base: Mapping[str, Any], file: str
) -> dict[str, tuple[tuple[tuple[str, Any], ...], Scenario]]:
    out: dict[str, tuple[tuple[tuple[str, Any], ...], Scenario]] = {}
    for name in table.data:
        if not _NAME.fullmatch(name):
            raise table.error(name, f"a variant name is letters, digits, '_' or '-', got {name!r}")
        if name == "base":
            raise table.error(name, "'base' names the file as written; pick another name")
        body = table.table(name)
        overrides = _flatten_overrides(body)
        if not overrides:
            raise body.error("", "a variant needs at least one key path = value")
        for key, _ in overrides:
            try:
                split_key_path(key)
            except ValueError as err:
                raise body.error(key, str(err)) from None
            if key == "run.seed" or key.split(".")[0].split("[")[0] == "variants":
                raise body.error(key, "variants share the seed and cannot nest; not overridable")
        try:
            variant = parse_scenario(apply_overrides(base, overrides, file), file)
        except ScenarioError as err:
            raise ScenarioError(file, body.path(err.key), err.expected, line=err.line) from None
        pairs = tuple(overrides)
        out[name] = (pairs, replace(variant, variant=name, variant_overrides=pairs))
    return out


def _parse_economy(top: _Table) -> EconomyConfig | None:
    if not top.has("economy"):
        return None
    table = top.table("economy")
    table.expect(
        (
            "timeout_policy",
            "min_arbitrator_stake",
            "community",
            "ruling_window_s",
            "arbitrator_slash",
            "grace_s",
        )
    )
    community = table.raw("community")
    if community is not None and not isinstance(community, bool):
        raise table.error("community", f"expected a boolean, got {_type_name(community)}")
    defaults = EconomyConfig()
    return EconomyConfig(
        timeout_policy=table.choice(  # type: ignore[arg-type]  # checked by choice()
            "timeout_policy", ("slash", "refund"), defaults.timeout_policy
        ),
        min_arbitrator_stake=_token_amount(
            table, "min_arbitrator_stake", default=defaults.min_arbitrator_stake
        ),
        community=bool(community),
        ruling_window_s=table.integer("ruling_window_s", defaults.ruling_window_s, minimum=1),
        arbitrator_slash=_token_amount(
            table, "arbitrator_slash", default=defaults.arbitrator_slash
        ),
        grace_s=table.integer("grace_s", defaults.grace_s, minimum=0),
    )


def _parse_run(table: _Table, stem: str) -> RunConfig:
    table.expect(
        (
            "name",
            "description",
            "seed",
            "blocks",
            "block_time_ms",
            "gas_limit",
            "base_fee",
            "policy",
        ),
    )
    policy = table.string("policy", "priority")
    try:
        policy = canonical_policy(policy)
    except ValueError:
        raise table.error(
            "policy", f"expected one of {', '.join(POLICIES)}; got {policy!r}"
        ) from None
    description = table.raw("description")
    if description is not None and not isinstance(description, str):
        raise table.error("description", f"expected a string, got {_type_name(description)}")
    return RunConfig(
        name=table.string("name", stem),
        description=description or "",
        seed=table.integer("seed", 0, minimum=0),
        blocks=table.integer("blocks", 100, minimum=1),
        block_time_ms=table.integer("block_time_ms", 12_000, minimum=1),
        gas_limit=table.integer("gas_limit", 30_000_000, minimum=MIN_GAS_LIMIT),
        base_fee=table.integer("base_fee", 10**9, minimum=1),
        policy=policy,
    )


def _parse_policies(table: _Table) -> dict[str, dict[str, Any]]:
    from agentbed.chain.ordering import policy_from_name

    out: dict[str, dict[str, Any]] = {}
    for name in table.data:
        try:
            canonical = canonical_policy(name)
        except ValueError:
            raise table.error(
                name, f"unknown policy; expected one of {', '.join(POLICIES)}"
            ) from None
        params = table.table(name)
        try:
            policy_from_name(canonical, **params.data)
        except TypeError as err:
            bad = re.search(r"unexpected keyword argument '(\w+)'", str(err))
            key = bad.group(1) if bad else ""
            raise params.error(key, f"not a parameter of the {canonical} policy") from None
        except ValueError as err:
            key = next((k for k in params.data if k in str(err)), "")
            raise params.error(key, str(err)) from None
        out[canonical] = dict(params.data)
    return out


def _parse_latency(table: _Table) -> LatencyConfig:
    model = table.choice("model", ("constant", "per-agent", "random"), "constant")
    allowed = {
        "constant": ("model", "ms"),
        "per-agent": ("model", "default_ms", "builder_ms"),
        "random": ("model", "low_ms", "high_ms"),
    }[model]
    table.expect(allowed)
    config = LatencyConfig(
        model=model,  # type: ignore[arg-type]  # checked by choice()
        ms=table.integer("ms", 0, minimum=0),
        default_ms=table.integer("default_ms", 0, minimum=0),
        builder_ms=table.integer("builder_ms", 0, minimum=0),
        low_ms=table.integer("low_ms", 0, minimum=0),
        high_ms=table.integer("high_ms", 0, minimum=0),
    )
    if config.high_ms < config.low_ms:
        raise table.error(
            "high_ms", f"expected an integer >= low_ms ({config.low_ms}), got {config.high_ms}"
        )
    return config


def _parse_pools(top: _Table, *, required: bool) -> tuple[PoolSpec, ...]:
    entries = top.tables("pools")
    if not entries and required:
        raise top.error("pools", "required: at least one [[pools]] entry (or an [economy] table)")
    specs: list[PoolSpec] = []
    for table in entries:
        table.expect(("token0", "token1", "reserve0", "reserve1", "fee_bps"))
        token0, token1 = table.string("token0"), table.string("token1")
        if token0 == token1:
            raise table.error("token1", f"expected a token other than token0 ({token0!r})")
        fee = table.integer("fee_bps", 30, minimum=0)
        if fee >= 10_000:
            raise table.error("fee_bps", f"expected an integer in [0, 10000), got {fee}")
        spec = PoolSpec(
            token0,
            token1,
            _token_amount(table, "reserve0", positive=True),
            _token_amount(table, "reserve1", positive=True),
            fee,
        )
        for i, other in enumerate(specs):
            if {other.token0, other.token1} == {token0, token1} and other.fee_bps == fee:
                raise table.error(
                    "", f"duplicate of pools[{i}] (same tokens and fee_bps); a pair has one pool"
                )
        specs.append(spec)
    return tuple(specs)


def _parse_market(table: _Table, pools: Sequence[PoolSpec], symbols: Sequence[str]) -> MarketConfig:
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


def _parse_intents(top: _Table, agents: Sequence[AgentGroup]) -> IntentsConfig | None:
    if not top.has("intents"):
        needing = next((g for g in agents if g.kind in INTENT_KINDS), None)
        if needing is not None:
            raise top.error(
                "intents",
                f"required: agent group {needing.name!r} ({needing.kind}) needs an intent book; "
                "add an [intents] table",
            )
        return None
    table = top.table("intents")
    table.expect(("pricing", "on_unmet", "solver_share_bps"))
    share = table.integer("solver_share_bps", 0, minimum=0)
    if share > 10_000:
        raise table.error("solver_share_bps", f"expected an integer in [0, 10000], got {share}")
    pricing = table.choice("pricing", ("pay_as_filled", "uniform"), "pay_as_filled")
    on_unmet = table.choice("on_unmet", ("skip", "revert"), "skip")
    return IntentsConfig(
        pricing=pricing,  # type: ignore[arg-type]  # checked by choice()
        on_unmet=on_unmet,  # type: ignore[arg-type]  # checked by choice()
        solver_share_bps=share,
    )


def _parse_schedule(table: _Table) -> ScheduleConfig:
    kind = table.choice("kind", ("poisson", "periodic", "none"), "none")
    if kind == "poisson":
        table.expect(("kind", "rate_per_s"))
        if not table.has("rate_per_s"):
            raise table.error("rate_per_s", "required for a poisson schedule: wakes per second")
        rate = table.number("rate_per_s", None, positive=True)
        assert rate is not None
        return ScheduleConfig("poisson", rate_per_s=rate)
    if kind == "periodic":
        table.expect(("kind", "period_ms", "offset_ms"))
        return ScheduleConfig(
            "periodic",
            period_ms=table.integer("period_ms", None, minimum=1),
            offset_ms=table.integer("offset_ms", 0, minimum=0),
        )
    table.expect(("kind",))
    return ScheduleConfig("none")


def _accepted_params(cls: type) -> dict[str, inspect.Parameter]:
    """Keyword parameters the class's constructor chain accepts (following ``**kwargs`` up)."""
    accepted: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        for param in params:
            if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD):
                accepted.setdefault(param.name, param)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return {k: v for k, v in accepted.items() if k not in _RESERVED_PARAMS}


def _check_param(table: _Table, name: str, value: Any, param: inspect.Parameter) -> Any:
    default = param.default
    if default is inspect.Parameter.empty or default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise table.error(name, f"expected a boolean, got {_type_name(value)}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise table.error(name, f"expected an integer, got {_type_name(value)} {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise table.error(name, f"expected a number, got {_type_name(value)} {value!r}")
        return float(value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise table.error(name, f"expected a string, got {_type_name(value)}")
    return value


def _parse_params(table: _Table, kind: str, cls: type[Agent]) -> dict[str, Any]:
    accepted = _accepted_params(cls)
    params: dict[str, Any] = {}
    for name, value in table.data.items():
        if kind in ECONOMY_KINDS and name in _CURRENCY_PARAMS and name in accepted:
            params[name] = _token_amount(table, name)  # whole tokens in the file, wei here
            continue
        if name not in accepted:
            hint = difflib.get_close_matches(name, accepted, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise table.error(
                name,
                f"not a parameter of {kind} ({cls.__name__}); expected one of "
                f"{', '.join(sorted(accepted)) or 'none'}{suggestion}",
            )
        params[name] = _check_param(table, name, value, accepted[name])
    # Let the class check its own ranges now rather than halfway through building the run.
    from eth_account import Account

    probe = Account.from_key(b"\x01" * 32)
    try:
        cls("probe", probe, random.Random(0), None, **params)
    except (TypeError, ValueError) as err:
        key = next((k for k in params if re.search(rf"\b{re.escape(k)}\b", str(err))), "")
        raise table.error(key, str(err)) from None
    return params


def _parse_agents(
    top: _Table, symbols: Sequence[str], latency: LatencyConfig, *, economy: bool
) -> tuple[AgentGroup, ...]:
    from agentbed.experiments.strategies import STRATEGIES

    groups: list[AgentGroup] = []
    names: dict[str, int] = {}
    entries = top.tables("agents")
    if not entries:
        raise top.error("agents", "required: at least one [[agents]] entry")
    for index, table in enumerate(entries):
        table.expect(("kind", "name", "count", "params", "funding", "schedule", "latency_ms"))
        kind = table.string("kind")
        cls = STRATEGIES.get(kind)
        if cls is None:
            raise table.error(
                "kind",
                f"unknown strategy {kind!r}; expected one of {', '.join(sorted(STRATEGIES))}",
            )
        if economy and kind not in POOL_FREE_KINDS:
            raise table.error(
                "kind",
                f"{kind!r} trades on pools; an [economy] scenario holds only "
                f"{', '.join(sorted(POOL_FREE_KINDS))}",
            )
        if not economy and kind in ECONOMY_KINDS:
            raise table.error("kind", f"{kind!r} needs an [economy] table (and no pools)")
        name = table.string("name", kind)
        if not _NAME.fullmatch(name):
            raise table.error("name", f"expected letters, digits, '_' or '-', got {name!r}")
        if name in names:
            raise table.error(
                "name",
                f"{name!r} is already used by agents[{names[name]}]; give this group a "
                "distinct name",
            )
        names[name] = index
        funding_table = table.table("funding")
        funding_table.expect(symbols)
        funding = {sym: _token_amount(funding_table, sym) for sym in funding_table.data}
        latency_ms = None
        if table.has("latency_ms"):
            if latency.model != "per-agent":
                raise table.error("latency_ms", 'only allowed with [latency] model = "per-agent"')
            latency_ms = table.integer("latency_ms", 0, minimum=0)
        groups.append(
            AgentGroup(
                kind=kind,
                name=name,
                count=table.integer("count", 1, minimum=0),
                params=_parse_params(table.table("params"), kind, cls),
                funding=funding,
                schedule=_parse_schedule(table.table("schedule")),
                latency_ms=latency_ms,
            )
        )
    all_names = [n for g in groups for n in g.agent_names()]
    clash = sorted({n for n in all_names if all_names.count(n) > 1})
    if clash:
        raise top.error("agents", f"agent names collide: {', '.join(clash)}; rename a group")
    return tuple(groups)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def make_latency(scenario: Scenario, root: int) -> LatencyModel:
    """The scenario's latency model, seeded from the root seed."""
    from agentbed.chain.latency import ConstantLatency, PerObserverLatency, RandomLatency
    from agentbed.chain.node import BUILDER

    config = scenario.latency
    if config.model == "per-agent":
        delays = {BUILDER: config.builder_ms}
        for group in scenario.agents:
            if group.latency_ms is not None:
                delays.update(dict.fromkeys(group.agent_names(), group.latency_ms))
        return PerObserverLatency(delays, default_ms=config.default_ms)
    if config.model == "random":
        return RandomLatency(derive_seed(root, "latency"), config.low_ms, config.high_ms)
    return ConstantLatency(config.ms)


def build(
    scenario: Scenario,
    *,
    policy: str | OrderingPolicy | None = None,
    seed: int | None = None,
    log: EventLog | None = None,
    progress: IO[str] | None = None,
) -> tuple[Simulation, Market | Economy]:
    """Set up a scenario's chain, market (or economy) and agents, ready to ``run()``.

    A market scenario deploys the tokens and pools (and the intent book of an ``[intents]``
    table); an economy scenario deploys the currency, staking, reputation and escrow of its
    ``[economy]`` table. Then the agents are created with their parameters, schedules and
    random streams, and their funding is minted (set-up blocks before the simulation's own).

    Args:
        scenario: A loaded scenario.
        policy: Ordering policy (a name, with the scenario's params for it, or an instance);
            default: the scenario's.
        seed: Root seed; default: the scenario's.
        log: Event log for the simulation.
        progress: Stream for the progress bar.

    Returns:
        The simulation (not yet run) and the market or economy it runs against (also the
        simulation's ``market``).
    """
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.experiments.strategies import STRATEGIES

    root = scenario.run.seed if seed is None else seed
    ordering = scenario.make_policy(policy) if policy is None or isinstance(policy, str) else policy
    chain = Chain(
        seed=derive_seed(root, "chain"),
        # the deployer, the agents, and (last) an economy's treasury
        accounts=scenario.agent_count + (2 if scenario.economy is not None else 1),
        automine=True,
        policy=ordering,
        latency=make_latency(scenario, root),
        gas_limit=scenario.run.gas_limit,
        base_fee=scenario.run.base_fee,
        block_interval_ms=scenario.run.block_time_ms,
    )
    market: Market | Economy = (
        _deploy_economy(chain, scenario.economy)
        if scenario.economy is not None
        else _deploy_market(chain, scenario, root)
    )
    chain.automine = False
    agents: list[Agent] = []
    funding: dict[str, dict[str, int]] = {}
    for group in scenario.agents:
        cls = STRATEGIES[group.kind]
        for name in group.agent_names():
            account = chain.accounts[1 + len(agents)]
            rng = random.Random(derive_seed(root, "agent", name))
            agent = cls(name, account, rng, group.schedule.make(), **dict(group.params))
            agents.append(agent)
            funding[agent.address] = dict(group.funding)
    if isinstance(market, Market):
        market.fund(funding)
    else:
        market.fund({who: amounts.get(CURRENCY, 0) for who, amounts in funding.items()})
    # Many agents' mints can exceed one block: mine the rest before the run, or the run would
    # count them as the agents' gains.
    for _ in range(_MAX_FUNDING_BLOCKS):
        if not len(chain.mempool):
            break
        chain.mine()
    if len(chain.mempool):
        raise RuntimeError(f"funding did not fit in {_MAX_FUNDING_BLOCKS} blocks")
    sim = Simulation(
        chain,
        agents,
        blocks=scenario.run.blocks,
        seed=root,
        market=market,
        log=log,
        progress=progress,
    )
    return sim, market


def _deploy_market(chain: Chain, scenario: Scenario, root: int) -> Market:
    market = Market.deploy(chain, scenario.pools, seed=root, volatility=scenario.market.volatility)
    if scenario.intents is not None:
        from agentbed.agents.market.intents import OnUnmetCondition, Pricing

        config = scenario.intents
        market.deploy_intent_book(
            Pricing.UNIFORM_PRICE if config.pricing == "uniform" else Pricing.PAY_AS_FILLED,
            OnUnmetCondition.REVERT if config.on_unmet == "revert" else OnUnmetCondition.SKIP,
            config.solver_share_bps,
        )
    return market


def _deploy_economy(chain: Chain, config: EconomyConfig) -> Economy:
    from agentbed.agents.economy.world import Economy

    return Economy.deploy(
        chain,
        timeout_policy=config.timeout_policy,
        min_arbitrator_stake=config.min_arbitrator_stake,
        ruling_window=config.ruling_window_s,
        arbitrator_slash=config.arbitrator_slash,
        community=config.community,
        grace_period=config.grace_s,
        treasury=chain.accounts[-1].address,
    )
