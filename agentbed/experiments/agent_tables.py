"""Validating a scenario's ``[[agents]]`` groups against the study's strategies.

Each group names a strategy ``kind`` of the scenario's study (``Study.strategies``), a count,
the keyword arguments of the strategy's class (checked against its constructor's signature,
names and types, and then by the class itself), token funding in the study's symbols, a wake
schedule and an optional per-agent latency.
"""

from __future__ import annotations

import difflib
import inspect
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agentbed.agents.agent import Agent
from agentbed.agents.config import NAME, Table, token_amount, type_name
from agentbed.agents.study import Study
from agentbed.experiments.schema import AgentGroup, LatencyConfig, ScheduleConfig

_RESERVED_PARAMS = frozenset({"self", "name", "account", "rng", "schedule"})
"""Parameters of ``Agent.__init__`` that ``build`` supplies itself; a scenario may not set them."""
_GROUP_KEYS = ("kind", "name", "count", "params", "funding", "schedule", "latency_ms", "learner")


def parse_agents(
    top: Table,
    study: Study,
    symbols: Sequence[str],
    latency: LatencyConfig,
    others: Mapping[str, Study],
) -> tuple[AgentGroup, ...]:
    """The file's ``[[agents]]`` groups (at least one), with distinct names.

    Args:
        top: The file's top-level table.
        study: The scenario's study: its strategies are the valid kinds.
        symbols: The token symbols a group's ``funding`` may name.
        latency: The ``[latency]`` table (``latency_ms`` needs the per-agent model).
        others: The other registered studies, to say whose a foreign kind is.

    Raises:
        ScenarioError: a group breaks the schema, or two groups' agent names collide.
    """
    entries = top.tables("agents")
    if not entries:
        raise top.error("agents", "required: at least one [[agents]] entry")
    groups: list[AgentGroup] = []
    names: dict[str, int] = {}
    for index, table in enumerate(entries):
        group = _parse_group(table, study, symbols, latency, others, names)
        names[group.name] = index
        groups.append(group)
    all_names = [n for g in groups for n in g.agent_names()]
    clash = sorted({n for n in all_names if all_names.count(n) > 1})
    if clash:
        raise top.error("agents", f"agent names collide: {', '.join(clash)}; rename a group")
    return tuple(groups)


def _parse_group(
    table: Table,
    study: Study,
    symbols: Sequence[str],
    latency: LatencyConfig,
    others: Mapping[str, Study],
    taken: Mapping[str, int],
) -> AgentGroup:
    """One group; ``taken`` maps the names of the groups before it to their index."""
    table.expect(_GROUP_KEYS)
    kind, cls = _strategy(table, study, others)
    name = table.string("name", kind)
    if not NAME.fullmatch(name):
        raise table.error("name", f"expected letters, digits, '_' or '-', got {name!r}")
    if name in taken:
        raise table.error(
            "name",
            f"{name!r} is already used by agents[{taken[name]}]; give this group a distinct name",
        )
    funding_table = table.table("funding")
    funding_table.expect(symbols)
    funding = {sym: token_amount(funding_table, sym) for sym in funding_table.data}
    latency_ms = None
    if table.has("latency_ms"):
        if latency.model != "per-agent":
            raise table.error("latency_ms", 'only allowed with [latency] model = "per-agent"')
        latency_ms = table.integer("latency_ms", 0, minimum=0)
    return AgentGroup(
        kind=kind,
        name=name,
        count=table.integer("count", 1, minimum=0),
        params=_parse_params(table.table("params"), kind, cls, study.token_params),
        funding=funding,
        schedule=_parse_schedule(table.table("schedule")),
        latency_ms=latency_ms,
        learner=table.boolean("learner", False),
    )


def _strategy(table: Table, study: Study, others: Mapping[str, Study]) -> tuple[str, type[Agent]]:
    """The group's ``kind`` and its class; an unknown kind's error lists the valid ones."""
    kind = table.string("kind")
    cls = study.strategies.get(kind)
    if cls is not None:
        return kind, cls
    valid = ", ".join(sorted(study.strategies))
    owner = next((name for name, other in others.items() if kind in other.strategies), None)
    if owner is not None:
        raise table.error(
            "kind",
            f"{kind!r} is a strategy of the {owner} study (a scenario with "
            f"{others[owner].sections[0]}); this {study.name} scenario's strategies: {valid}",
        )
    raise table.error("kind", f"unknown strategy {kind!r}; expected one of {valid}")


def _parse_schedule(table: Table) -> ScheduleConfig:
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


def _check_param(table: Table, name: str, value: Any, param: inspect.Parameter) -> Any:
    default = param.default
    if default is inspect.Parameter.empty or default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise table.error(name, f"expected a boolean, got {type_name(value)}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise table.error(name, f"expected an integer, got {type_name(value)} {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise table.error(name, f"expected a number, got {type_name(value)} {value!r}")
        return float(value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise table.error(name, f"expected a string, got {type_name(value)}")
    return value


def _parse_params(
    table: Table, kind: str, cls: type[Agent], token_params: frozenset[str]
) -> dict[str, Any]:
    accepted = _accepted_params(cls)
    params: dict[str, Any] = {}
    for name, value in table.data.items():
        if name in token_params and name in accepted:
            params[name] = token_amount(table, name)  # whole tokens in the file, wei here
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
