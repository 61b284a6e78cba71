"""Version groups: compiling sources that need different compiler releases in one call.

When every pragma in the import closure admits the default version, there is one group and
nothing changes. Otherwise each input file gets the version its own import closure admits
(the default where possible, else the newest matching release); files sharing a version form a
group compiled together with the union of their closures, and the groups' artifacts are merged
into one ``CompileResult``. A contract name declared in two files that ended up in different
groups is an error naming both files: a bare name must keep meaning one contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agentbed.chain.compiler.artifacts import Artifact, CompileResult, combine_results
from agentbed.chain.compiler.imports import ImportResolver, SourceUnit
from agentbed.chain.compiler.versions import parse_version, pragma_matches
from agentbed.chain.errors import CompilationError

VersionChooser = Callable[[Sequence[tuple[str, str]]], str]
"""``choose([(unit, pragma), ...]) -> version`` (``versions.select_version`` with its list)."""


@dataclass(frozen=True, slots=True)
class VersionGroup:
    """Sources compiled together with one compiler version.

    Attributes:
        version: Exact compiler version.
        inputs: Source unit names of the input files assigned to this version.
        units: Every source unit the group compiles (inputs and their import closures).
    """

    version: str
    inputs: tuple[str, ...]
    units: tuple[str, ...]


def import_graph(
    units: Mapping[str, SourceUnit], resolver: ImportResolver
) -> dict[str, tuple[str, ...]]:
    """Map each source unit to the units it imports directly.

    Args:
        units: The full import closure (as ``ImportResolver.closure`` returns it).
        resolver: The resolver that produced it (for import paths -> unit names).

    Returns:
        Direct imports by unit name; imports outside ``units`` are left out.
    """
    graph: dict[str, tuple[str, ...]] = {}
    for name, unit in units.items():
        targets = (resolver.import_unit(name, path) for path, _ in unit.imports)
        graph[name] = tuple(sorted({t for t in targets if t in units}))
    return graph


def closure_of(name: str, graph: Mapping[str, Sequence[str]]) -> set[str]:
    """Return ``name`` and everything it imports, transitively."""
    seen = {name}
    stack = [name]
    while stack:
        for target in graph.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def plan_groups(
    units: Mapping[str, SourceUnit],
    inputs: Sequence[str],
    resolver: ImportResolver,
    default: str,
    choose: VersionChooser,
) -> tuple[VersionGroup, ...]:
    """Split a compile into version groups.

    Args:
        units: The import closure of all inputs.
        inputs: Source unit names of the input files.
        resolver: The resolver that produced ``units``.
        default: The pinned default version.
        choose: Picks a version for a list of ``(unit, pragma)`` pairs.

    Returns:
        The groups, newest version first; one group of everything when the default (or one
        chosen version) admits every pragma.

    Raises:
        CompilationError: If a file's closure admits no published release.
    """
    pragmas = [(name, pragma) for name, unit in units.items() for pragma in unit.pragmas]
    if all(pragma_matches(pragma, default) for _, pragma in pragmas):
        return (VersionGroup(default, tuple(inputs), tuple(units)),)
    graph = import_graph(units, resolver)
    inputs_by_version: dict[str, list[str]] = {}
    units_by_version: dict[str, set[str]] = {}
    for name in inputs:
        closure = closure_of(name, graph)
        version = choose([(unit, p) for unit in sorted(closure) for p in units[unit].pragmas])
        inputs_by_version.setdefault(version, []).append(name)
        units_by_version.setdefault(version, set()).update(closure)
    ordered = sorted(inputs_by_version, key=parse_version, reverse=True)
    return tuple(
        VersionGroup(
            version,
            tuple(inputs_by_version[version]),
            tuple(sorted(units_by_version[version])),
        )
        for version in ordered
    )


def _pick_artifacts(
    groups: Sequence[VersionGroup], results: Sequence[CompileResult]
) -> dict[str, tuple[Artifact, VersionGroup]]:
    """One artifact per qualified name: from the group its file is an input of, else the first."""
    chosen: dict[str, tuple[Artifact, VersionGroup]] = {}
    for group, result in zip(groups, results, strict=True):
        inputs = set(group.inputs)
        for artifact in result.artifacts:
            name = artifact.qualified_name
            if name not in chosen or (
                artifact.source in inputs and chosen[name][0].source not in chosen[name][1].inputs
            ):
                chosen[name] = (artifact, group)
    return chosen


def merge_results(
    groups: Sequence[VersionGroup], results: Sequence[CompileResult]
) -> CompileResult:
    """Merge the results of several version groups into one.

    Args:
        groups: The groups, in the order they were compiled.
        results: One result per group.

    Returns:
        All artifacts (a shared dependency once), all warnings, the versions joined by ``", "``,
        and a cache key over the groups' keys.

    Raises:
        CompilationError: If one contract name is declared in files of different groups.
    """
    if len(results) == 1:
        return results[0]
    chosen = _pick_artifacts(groups, results)
    declared: dict[str, tuple[Artifact, VersionGroup]] = {}
    clashes: list[str] = []
    for artifact, group in chosen.values():
        first = declared.setdefault(artifact.name, (artifact, group))
        if first[1] is not group and first[0].source != artifact.source:
            clashes.append(
                f"contract name {artifact.name!r} is declared in {first[0].source} "
                f"(solc {first[1].version}) and in {artifact.source} (solc {group.version}); "
                "files compiled with different compiler versions need distinct contract names"
            )
    if clashes:
        raise CompilationError(clashes)
    return combine_results(
        results, (a for a, _ in chosen.values()), (w for r in results for w in r.warnings)
    )
