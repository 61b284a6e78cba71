"""The ``[block_production]`` table of a scenario: proposers and builders as simulation agents.

Absent, a run keeps today's single passive builder (``Chain.mine``). Present, every block of the
run is produced by a proposer chosen per slot and, when the proposer uses MEV-Boost, won by one
of the configured builders in a slot auction (:mod:`agentbed.agents.blockprod.loop`)::

    [block_production]
    mode = "auction"
    pricing = "first"                  # or "second"
    finality_depth = 2                 # optional: refuse reorgs of >= 2 blocks

    [block_production.proposers]
    count = 4
    schedule = "round_robin"           # or "stake_weighted" (with stakes = [...])
    mev_boost = true
    policy = "priority"                # ordering of the proposers' own blocks

    [[block_production.builders]]
    name = "vi"
    policy = "bundles"                 # any ordering policy
    bid = "full"                       # or basis points of the block value (9000), or a
                                       # range [8000, 9800] drawn each slot
    integrated_with = "sandwich_bundle0"   # a searcher agent (vertical integration; "" none)

    [block_production.routes]          # searcher agent or group -> builders it sends to
    sandwich_bundle = ["vi", "b1"]     # (default: every builder)

    [block_production.bandit]          # time-bandit proposers
    share = 0.25                       # share of proposer slots
    cost_per_block = 0.002             # ETH forgone per orphaned block
    max_depth = 2

    [block_production.censor]          # censoring proposers
    share = 0.1
    target = "retail0"

Every value is checked here, once, where it enters; a bad one is a one-line
:class:`~agentbed.agents.config.ScenarioError` naming the key path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentbed.agents.config import NAME, Table, token_amount
from agentbed.chain.ordering import POLICY_NAMES, PolicySpec, parse_policy

FULL_BID = 10_000
"""A builder's ``bid = "full"``: all of its block value, in basis points."""


@dataclass(frozen=True, slots=True)
class BuilderConfig:
    """One ``[[block_production.builders]]`` entry.

    Attributes:
        name: Its id (observer id in the latency model, winner name in reports).
        policy: How it orders the pool and its bundles.
        bid_bps: The range ``(low, high)`` of basis points of its block value it bids, drawn
            uniformly each slot from its own seeded stream (``(10000, 10000)``: the full value).
        integrated_with: The searcher agent it is integrated with, or None.
    """

    name: str
    policy: PolicySpec
    bid_bps: tuple[int, int] = (FULL_BID, FULL_BID)
    integrated_with: str | None = None


@dataclass(frozen=True, slots=True)
class ProposersConfig:
    """``[block_production.proposers]``: the honest validators and their schedule."""

    count: int = 4
    schedule: str = "round_robin"
    stakes: tuple[int, ...] = ()
    mev_boost: bool = True
    policy: PolicySpec = field(default_factory=lambda: PolicySpec("priority"))


@dataclass(frozen=True, slots=True)
class BanditConfig:
    """``[block_production.bandit]``: time-bandit proposers' share of slots and their cost."""

    share: float
    cost_per_block: int
    max_depth: int = 2


@dataclass(frozen=True, slots=True)
class CensorConfig:
    """``[block_production.censor]``: censoring proposers' share of slots and their target."""

    share: float
    target: str


@dataclass(frozen=True, slots=True)
class BlockProductionConfig:
    """The whole ``[block_production]`` table (see the module docstring)."""

    builders: tuple[BuilderConfig, ...]
    proposers: ProposersConfig = ProposersConfig()
    pricing: str = "first"
    finality_depth: int | None = None
    routes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    bandit: BanditConfig | None = None
    censor: CensorConfig | None = None

    def route_for(self, agent: str, group: str) -> tuple[str, ...] | None:
        """The builders ``agent`` (of ``group``) sends bundles to; None: every builder."""
        routes = dict(self.routes)
        return routes.get(agent, routes.get(group))


_KEYS = ("mode", "pricing", "finality_depth", "proposers", "builders", "routes", "bandit", "censor")


def parse_block_production(table: Table) -> BlockProductionConfig:
    """Read ``[block_production]``.

    Raises:
        ScenarioError: an unknown key or a bad value (the message names its key path).
    """
    table.expect(_KEYS)
    table.choice("mode", ("auction",), "auction")
    builders = tuple(_builder(t) for t in table.tables("builders"))
    if not builders:
        raise table.error("builders", "required: at least one [[block_production.builders]]")
    names = [b.name for b in builders]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise table.error(f"builders[{i}].name", f"builder {name!r} is listed twice")
    integrated = [b.integrated_with for b in builders if b.integrated_with is not None]
    for name in integrated:
        if integrated.count(name) > 1:
            raise table.error("builders", f"searcher {name!r} is integrated with two builders")
    bandit = _bandit(table.table("bandit")) if table.has("bandit") else None
    censor = _censor(table.table("censor")) if table.has("censor") else None
    if bandit is not None and censor is not None and bandit.share + censor.share > 1:
        raise table.error("censor.share", "bandit.share + censor.share must be <= 1")
    return BlockProductionConfig(
        builders=builders,
        proposers=_proposers(table.table("proposers")),
        pricing=table.choice("pricing", ("first", "second"), "first"),
        finality_depth=table.integer("finality_depth", 0, minimum=1)
        if table.has("finality_depth")
        else None,
        routes=_routes(table.table("routes"), set(names)),
        bandit=bandit,
        censor=censor,
    )


def check_agent_names(
    config: BlockProductionConfig, table: Table, agents: Sequence[str], groups: Sequence[str]
) -> None:
    """The names the table uses must be agents (or groups) of the scenario, and builders'
    names must not be agents' (both are observers of the latency model).

    Raises:
        ScenarioError: an unknown agent or group, or a builder named like an agent.
    """
    known = set(agents)
    for i, builder in enumerate(config.builders):
        if builder.name in known:
            raise table.error(f"builders[{i}].name", f"{builder.name!r} is an agent's name")
        if builder.integrated_with is not None and builder.integrated_with not in known:
            raise table.error(
                f"builders[{i}].integrated_with", f"no agent named {builder.integrated_with!r}"
            )
    for name, _ in config.routes:
        if name not in known and name not in groups:
            raise table.error(f"routes.{name}", "not an agent or agent group of the scenario")
    if config.censor is not None and config.censor.target not in known:
        raise table.error("censor.target", f"no agent named {config.censor.target!r}")


def _policy(table: Table, name: str, default: str) -> PolicySpec:
    text = table.string(name, default)
    try:
        spec = parse_policy(text)
    except ValueError:
        raise table.error(
            name, f"expected one of {', '.join(POLICY_NAMES)}; got {text!r}"
        ) from None
    return spec


def _bps(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= FULL_BID


def _builder(table: Table) -> BuilderConfig:
    table.expect(("name", "policy", "bid", "integrated_with"))
    name = table.string("name")
    if not NAME.fullmatch(name):
        raise table.error("name", f"letters, digits, '_' or '-', got {name!r}")
    bid = table.raw("bid")
    if bid is None or bid == "full":
        bid_bps: tuple[int, int] = (FULL_BID, FULL_BID)
    elif _bps(bid):
        bid_bps = (bid, bid)
    elif isinstance(bid, list) and len(bid) == 2 and all(map(_bps, bid)) and bid[0] <= bid[1]:
        bid_bps = (bid[0], bid[1])
    else:
        raise table.error(
            "bid",
            'expected "full", basis points in [0, 10000] or a range [low, high] of them, '
            f"got {bid!r}",
        )
    integrated = table.raw("integrated_with") or ""  # "" turns it off (a variant's override)
    if not isinstance(integrated, str):
        raise table.error("integrated_with", f"expected an agent's name, got {integrated!r}")
    return BuilderConfig(name, _policy(table, "policy", "bundles"), bid_bps, integrated or None)


def _proposers(table: Table) -> ProposersConfig:
    table.expect(("count", "schedule", "stakes", "mev_boost", "policy"))
    count = table.integer("count", 4, minimum=1)
    schedule = table.choice("schedule", ("round_robin", "stake_weighted"), "round_robin")
    stakes: tuple[int, ...] = ()
    raw = table.raw("stakes")
    if raw is not None:
        if schedule != "stake_weighted":
            raise table.error("stakes", 'only with schedule = "stake_weighted"')
        ok = isinstance(raw, list) and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw
        )
        if not ok or len(raw) != count or sum(raw) <= 0:
            raise table.error(
                "stakes", f"expected {count} integers >= 0 (one per proposer) with a positive sum"
            )
        stakes = tuple(raw)
    return ProposersConfig(
        count=count,
        schedule=schedule,
        stakes=stakes,
        mev_boost=table.boolean("mev_boost", True),
        policy=_policy(table, "policy", "priority"),
    )


def _share(table: Table) -> float:
    share = table.number("share", None)
    if share is None or share > 1:
        raise table.error("share", f"required: a share of proposer slots in [0, 1], got {share}")
    return share


def _bandit(table: Table) -> BanditConfig:
    table.expect(("share", "cost_per_block", "max_depth"))
    return BanditConfig(
        share=_share(table),
        cost_per_block=token_amount(table, "cost_per_block", default=0),
        max_depth=table.integer("max_depth", 2, minimum=1),
    )


def _censor(table: Table) -> CensorConfig:
    table.expect(("share", "target"))
    return CensorConfig(share=_share(table), target=table.string("target"))


def _routes(table: Table, builders: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for name, value in table.data.items():
        ok = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        if not ok:
            raise table.error(name, "expected a non-empty array of builder names")
        unknown = sorted(set(value) - builders)
        if unknown:
            raise table.error(name, f"no builders named {unknown}; builders: {sorted(builders)}")
        out.append((name, tuple(value)))
    return tuple(out)
