"""Reading and validating a scenario file: the generic tables here, the study's by its ``Study``.

Validation is strict because a typo must not silently change an experiment: every key is
checked, unknown keys are errors, and a broken file gets one line naming the file, the key path
(``agents[2].params.slippage_bps``) and what was expected. TOML syntax errors give
``file:line:column``.

The file's study (``study = "NAME"``, else the registered study whose tables it holds) reads
its own tables and says which agent kinds exist (``Study.strategies``) and which token symbols
agents may be funded in. A file's ``[variants.NAME]`` tables are applied to the rest of the file
(:func:`agentbed.experiments.overrides.apply_overrides`) and each is validated as a whole
scenario.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agentbed.agents.blockprod.loopconfig import check_agent_names, parse_block_production
from agentbed.agents.config import NAME, ScenarioError, Table, type_name
from agentbed.agents.study import Study
from agentbed.chain.ordering import POLICY_NAMES, parse_policy
from agentbed.experiments.agent_tables import parse_agents
from agentbed.experiments.bundled import scenario_path
from agentbed.experiments.overrides import apply_overrides, flatten_overrides, split_key_path
from agentbed.experiments.schema import (
    MIN_GAS_LIMIT,
    LatencyConfig,
    RunConfig,
    Scenario,
)
from agentbed.experiments.studies import UnknownStudy, registered, resolve_study, section_key

STUDY_KEY = "study"
"""The top-level key naming a file's study."""
_Variants = dict[str, tuple[tuple[tuple[str, Any], ...], Scenario]]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, or a bundled scenario given by name (``"mev"``).

    An existing file wins over a bundled scenario of the same name.

    Raises:
        ScenarioError: the file is missing, is not valid TOML, or breaks the schema.
    """
    path = scenario_path(path)
    return parse_scenario(read_scenario_toml(path), str(path))


def read_scenario_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML of a scenario file, not yet validated.

    Raises:
        ScenarioError: the file is missing or is not valid TOML (``FILE:LINE:COL: ...``).
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

    Raises:
        ScenarioError: the data breaks the schema (one line naming the key path).
    """
    top = Table(file, "", dict(data))
    name, study = _choose_study(top)
    sections = study.parse(top)
    run = _parse_run(top.table("run"), Path(file).stem)
    policy_params = _parse_policies(top.table("policies"))
    latency = _parse_latency(top.table("latency"))
    agents = parse_agents(top, study, study.funding_symbols(sections), latency, _other(study))
    study.check_agents(sections, agents, top)
    scenario = Scenario(file, run, latency, agents, name, sections, policy_params)
    if top.has("block_production"):
        table = top.table("block_production")
        production = parse_block_production(table)
        names = [n for g in agents for n in g.agent_names()]
        check_agent_names(production, table, names, [g.name for g in agents])
        scenario = replace(scenario, block_production=production)
    try:
        scenario.make_policy()
    except (TypeError, ValueError) as err:
        raise ScenarioError(file, f"policies.{run.policy}", str(err)) from None
    if top.has("variants"):
        base = {k: v for k, v in data.items() if k != "variants"}
        variants = _parse_variants(top.table("variants"), base, file)
        scenario = replace(
            scenario,
            variants={name: overrides for name, (overrides, _) in variants.items()},
            variant_scenarios={name: variant for name, (_, variant) in variants.items()},
        )
    return scenario


def _generic_keys(study_keys: Sequence[str]) -> tuple[str, ...]:
    return (
        STUDY_KEY,
        "run",
        "latency",
        *study_keys,
        "agents",
        "policies",
        "block_production",
        "variants",
    )


def _choose_study(top: Table) -> tuple[str, Study]:
    """The file's study: the one it names, else the registered one whose tables it holds.

    Raises:
        ScenarioError: an unknown study, unknown top-level keys, tables of two studies, or
            none at all.
    """
    studies = registered()
    if top.has(STUDY_KEY):
        name = top.string(STUDY_KEY)
        try:
            study = resolve_study(name)
        except UnknownStudy as err:
            raise top.error(STUDY_KEY, str(err)) from None
        top.expect(_generic_keys([section_key(h) for h in study.sections]))
        return name, study
    every = [section_key(h) for s in studies.values() for h in s.sections]
    top.expect(_generic_keys(list(dict.fromkeys(every))))
    found = {
        name: [h for h in study.sections if top.has(section_key(h))]
        for name, study in studies.items()
    }
    present = [name for name, headers in found.items() if headers]
    if len(present) > 1:
        first, second = present[:2]
        raise top.error(
            section_key(found[first][0]),
            f"a scenario has either {', '.join(found[first])} ({first}) or "
            f"{', '.join(found[second])} ({second}), not both",
        )
    if not present:
        firsts = {name: s.sections[0] for name, s in studies.items() if s.sections}
        either = " or ".join(f"{header} ({name})" for name, header in firsts.items())
        key = section_key(next(iter(firsts.values()))) if firsts else STUDY_KEY
        raise top.error(key, f"required: {either or 'a study = ... line'}")
    return present[0], studies[present[0]]


def _other(study: Study) -> dict[str, Study]:
    """The registered studies other than ``study`` (to name the study of a foreign kind)."""
    return {name: other for name, other in registered().items() if other is not study}


def _parse_run(table: Table, stem: str) -> RunConfig:
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
            "compare",
        )
    )
    policy = table.string("policy", "priority")
    try:
        policy = parse_policy(policy).name
    except ValueError:
        raise table.error(
            "policy", f"expected one of {', '.join(POLICY_NAMES)}; got {policy!r}"
        ) from None
    compare = table.string("compare", "")
    if compare not in ("", "policies", "variants"):
        raise table.error("compare", f"expected 'policies' or 'variants'; got {compare!r}")
    description = table.raw("description")
    if description is not None and not isinstance(description, str):
        raise table.error("description", f"expected a string, got {type_name(description)}")
    return RunConfig(
        name=table.string("name", stem),
        description=description or "",
        seed=table.integer("seed", 0, minimum=0),
        blocks=table.integer("blocks", 100, minimum=1),
        block_time_ms=table.integer("block_time_ms", 12_000, minimum=1),
        gas_limit=table.integer("gas_limit", 30_000_000, minimum=MIN_GAS_LIMIT),
        base_fee=table.integer("base_fee", 10**9, minimum=1),
        policy=policy,
        compare=compare,
    )


def _parse_policies(table: Table) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in table.data:
        params = table.table(name)
        try:
            spec = parse_policy(name, params.data)
        except ValueError:
            raise table.error(
                name, f"unknown policy; expected one of {', '.join(POLICY_NAMES)}"
            ) from None
        try:
            spec.build()
        except TypeError as err:
            bad = re.search(r"unexpected keyword argument '(\w+)'", str(err))
            key = bad.group(1) if bad else ""
            raise params.error(key, f"not a parameter of the {spec.name} policy") from None
        except ValueError as err:
            key = next((k for k in params.data if k in str(err)), "")
            raise params.error(key, str(err)) from None
        out[spec.name] = dict(params.data)
    return out


def _parse_latency(table: Table) -> LatencyConfig:
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


def _parse_variants(table: Table, base: Mapping[str, Any], file: str) -> _Variants:
    out: _Variants = {}
    for name in table.data:
        if not NAME.fullmatch(name):
            raise table.error(name, f"a variant name is letters, digits, '_' or '-', got {name!r}")
        if name == "base":
            raise table.error(name, "'base' names the file as written; pick another name")
        body = table.table(name)
        overrides = flatten_overrides(body)
        if not overrides:
            raise body.error("", "a variant needs at least one key path = value")
        for key, _ in overrides:
            try:
                split_key_path(key)
            except ValueError as err:
                raise body.error(key, str(err)) from None
            root = key.split(".")[0].split("[")[0]
            if key == "run.seed" or root == "variants":
                raise body.error(key, "variants share the seed and cannot nest; not overridable")
            if root == STUDY_KEY:
                raise body.error(key, "a variant runs the file's study; not overridable")
        try:
            variant = parse_scenario(apply_overrides(base, overrides, file), file)
        except ScenarioError as err:
            raise ScenarioError(file, body.path(err.key), err.expected, line=err.line) from None
        pairs = tuple(overrides)
        out[name] = (pairs, replace(variant, variant=name, variant_overrides=pairs))
    return out
