"""Run Slither on the project's contracts through the solc-js shim and gate on a triage list.

Slither (PyPI ``slither-analyzer``) lives in its own virtual environment (``.venv-slither``,
made by ``make slither``) because it pins ``web3<8``. This script runs from the main venv: it
compiles the contracts with ``agentbed.chain.compiler`` (which installs the pinned solc-js and its
native-CLI shim on first use), writes a solc standard-JSON input listing every ``*.sol`` below
the contracts directory with the project's remappings and EVM target, and
runs ``slither INPUT --compile-force-framework solc-json --solc SHIM``. (A directory target
with ``--solc-standard-json`` would only pick up the directory's top-level files.)

Findings whose primary source is outside the contracts directory, or inside its ``mocks/``,
are dropped. A High or Medium finding fails the run unless ``docs/slither-triage.md`` lists
it in a table ``| detector | location | why |`` (location ``Contract.function``, ``fnmatch``
wildcards allowed). Low, Informational and Optimization findings are only counted. Inline
``// slither-disable`` comments are not honoured: the triage document is the one list.

Usage: ``.venv/bin/python scripts/slither.py [--contracts DIR] [--triage FILE] [--slither BIN]``

Exit codes: 0 no untriaged High/Medium finding, 1 untriaged findings or a failed run,
2 usage error (e.g. Slither not installed: run ``make slither``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

GATING_IMPACTS = ("High", "Medium")
"""Impacts that fail the run unless triaged."""

MINOR_IMPACTS = ("Low", "Informational", "Optimization")
"""Impacts that are only counted."""

DEFAULT_SLITHER = Path(".venv-slither") / "bin" / "slither"
DEFAULT_TRIAGE = Path("docs") / "slither-triage.md"
SLITHER_TIMEOUT_S = 600
DESCRIPTION_CHARS = 240
"""Slither's description is collapsed to one line and cut to this length."""


class SlitherRunError(RuntimeError):
    """Slither (or the compile before it) did not produce results."""


@dataclass(frozen=True, slots=True)
class TriageEntry:
    """One accepted finding from the triage document.

    Attributes:
        detector: Slither detector id, e.g. ``reentrancy-eth``.
        location: ``Contract.function`` pattern (``fnmatch`` wildcards allowed).
        reason: Why the finding is acceptable.
    """

    detector: str
    location: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        """Whether this entry accepts ``finding``."""
        return self.detector == finding.detector and fnmatch.fnmatchcase(
            finding.location, self.location
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One Slither result reduced to what the gate needs.

    Attributes:
        detector: Detector id (Slither's ``check``).
        impact: ``High``, ``Medium``, ``Low``, ``Informational`` or ``Optimization``.
        confidence: Slither's confidence.
        path: Source file of the primary element, relative to the project root (POSIX), or
            ``None`` when the result has no source mapping.
        line: First line of the primary element (0 when unknown).
        location: ``Contract.function`` (or ``Contract.variable``, ``Contract``, file name).
        description: Slither's description on one line, shortened.
    """

    detector: str
    impact: str
    confidence: str
    path: str | None
    line: int
    location: str
    description: str

    def format(self) -> str:
        """One line: ``file:line: detector [impact] location: description``."""
        where = f"{self.path or '?'}:{self.line}"
        return (
            f"{where}: {self.detector} [{self.impact}, confidence {self.confidence}] "
            f"{self.location}: {self.description}"
        )


@dataclass(slots=True)
class GateReport:
    """The outcome of filtering findings against the scope and the triage list.

    Attributes:
        untriaged: High/Medium project findings no triage entry accepts (these fail the run).
        triaged: High/Medium project findings with the entry that accepts each.
        minor: Count of the other project findings per impact.
        out_of_scope: Number of findings dropped (dependencies, mocks).
        unused_entries: Triage entries that matched no finding.
    """

    untriaged: list[Finding] = field(default_factory=list)
    triaged: list[tuple[Finding, TriageEntry]] = field(default_factory=list)
    minor: Counter[str] = field(default_factory=Counter)
    out_of_scope: int = 0
    unused_entries: list[TriageEntry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing fails the run."""
        return not self.untriaged


# ---------------------------------------------------------------------------------------------
# Triage document


def _cells(line: str) -> list[str] | None:
    """Split a Markdown table row into stripped cells (backticks removed), or ``None``."""
    text = line.strip()
    if not text.startswith("|"):
        return None
    text = text.strip("|")
    return [cell.strip().strip("`").strip() for cell in text.split("|")]


def _is_separator(cells: Sequence[str]) -> bool:
    return bool(cells) and all(c and set(c) <= set("-: ") for c in cells)


def parse_triage(text: str) -> list[TriageEntry]:
    """Read the accepted findings from the triage document.

    Every Markdown table whose header row starts with ``detector`` contributes one entry per
    body row: ``| detector | Contract.function | why it is acceptable |``. Other tables and
    prose are ignored.

    Args:
        text: The document.

    Returns:
        The entries in document order.

    Raises:
        ValueError: If a row has fewer than three cells or an empty detector, location or
            reason (a triage without a reason is not a triage).
    """
    entries: list[TriageEntry] = []
    lines = text.splitlines()
    in_table = False
    for number, line in enumerate(lines, start=1):
        cells = _cells(line)
        if cells is None:
            in_table = False
            continue
        following = _cells(lines[number]) if number < len(lines) else None
        if following is not None and _is_separator(following) and not _is_separator(cells):
            in_table = bool(cells) and cells[0].lower() == "detector"
            continue
        if not in_table or _is_separator(cells):
            continue
        if len(cells) < 3 or not all(cells[:3]):
            raise ValueError(
                f"triage line {number}: expected '| detector | Contract.function | reason |', "
                f"got {line.strip()!r}"
            )
        entries.append(TriageEntry(cells[0], cells[1], " | ".join(cells[2:])))
    return entries


# ---------------------------------------------------------------------------------------------
# Slither JSON output


def _relative_path(source_mapping: Mapping[str, Any], root: Path | None) -> str | None:
    relative = source_mapping.get("filename_relative")
    absolute = source_mapping.get("filename_absolute")
    if root is not None and isinstance(absolute, str):
        try:
            return Path(absolute).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    if isinstance(relative, str) and relative:
        return PurePosixPath(relative).as_posix()
    return absolute if isinstance(absolute, str) else None


def _parent(element: Mapping[str, Any]) -> Mapping[str, Any] | None:
    parent = element.get("type_specific_fields", {}).get("parent")
    return parent if isinstance(parent, Mapping) else None


def _location(element: Mapping[str, Any]) -> str:
    """``Contract.member`` for an element.

    A statement (node), a parameter or a local variable is named by its enclosing function,
    e.g. ``Staking.constructor``; a contract or a pragma by its own name.
    """
    current: Mapping[str, Any] = element
    while (parent := _parent(current)) is not None and (
        current.get("type") == "node"
        or (current.get("type") == "variable" and parent.get("type") == "function")
    ):
        current = parent
    name = str(current.get("name", ""))
    parent = _parent(current)
    is_member = current.get("type") not in ("contract", "pragma")
    if is_member and parent is not None and parent.get("type") == "contract":
        return f"{parent.get('name')}.{name}"
    return name


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def findings_from_json(output: Mapping[str, Any], root: Path | None = None) -> list[Finding]:
    """Turn Slither's ``--json`` output into findings.

    Args:
        output: The parsed JSON document (``{"success", "error", "results": {"detectors"}}``).
        root: Project root, to make absolute file names relative; Slither's
            ``filename_relative`` is used when ``None``.

    Returns:
        One finding per detector result.

    Raises:
        SlitherRunError: If Slither reports failure.
    """
    if not output.get("success", False):
        raise SlitherRunError(f"slither failed: {output.get('error')}")
    results = output.get("results") or {}
    findings: list[Finding] = []
    for result in results.get("detectors", []):
        elements = [e for e in result.get("elements", []) if e.get("source_mapping")]
        primary = elements[0] if elements else None
        path: str | None = None
        line = 0
        location = ""
        if primary is not None:
            mapping = primary["source_mapping"]
            path = _relative_path(mapping, root)
            lines = mapping.get("lines") or [0]
            line = int(lines[0])
            location = _location(primary)
        description = " ".join(str(result.get("description", "")).split())
        findings.append(
            Finding(
                detector=str(result.get("check", "?")),
                impact=str(result.get("impact", "?")),
                confidence=str(result.get("confidence", "?")),
                path=path,
                line=line,
                location=location,
                description=_shorten(description, DESCRIPTION_CHARS),
            )
        )
    return findings


def in_scope(path: str | None, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """Whether a finding at ``path`` belongs to the project's own contracts.

    Args:
        path: POSIX path relative to the root (``None``: no source mapping, kept in scope).
        include: Directory prefixes that are in scope (e.g. ``contracts``).
        exclude: Directory prefixes that are not, even inside ``include`` (e.g. mocks).

    Returns:
        True when the path is under an ``include`` directory and under no ``exclude`` one.
    """
    if path is None:
        return True
    pure = PurePosixPath(path)

    def under(prefix: str) -> bool:
        return pure.is_relative_to(PurePosixPath(prefix))

    return any(under(p) for p in include) and not any(under(p) for p in exclude)


def evaluate(
    findings: Iterable[Finding],
    entries: Sequence[TriageEntry],
    include: Sequence[str],
    exclude: Sequence[str],
) -> GateReport:
    """Filter findings to the project scope and split them by triage status.

    Args:
        findings: All findings of a run.
        entries: Accepted findings from the triage document.
        include: In-scope directory prefixes.
        exclude: Excluded directory prefixes.

    Returns:
        The report; ``report.ok`` is False when a High/Medium finding is untriaged.
    """
    report = GateReport()
    used: set[int] = set()
    for finding in findings:
        if not in_scope(finding.path, include, exclude):
            report.out_of_scope += 1
            continue
        if finding.impact not in GATING_IMPACTS:
            report.minor[finding.impact] += 1
            continue
        match = next((i for i, e in enumerate(entries) if e.matches(finding)), None)
        if match is None:
            report.untriaged.append(finding)
        else:
            used.add(match)
            report.triaged.append((finding, entries[match]))
    report.unused_entries = [e for i, e in enumerate(entries) if i not in used]
    return report


# ---------------------------------------------------------------------------------------------
# Running Slither


def standard_json_input(sources: Sequence[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Build the solc standard-JSON input Slither compiles.

    Args:
        sources: Source unit names (POSIX paths relative to the root, where solc runs).
        settings: Compiler settings (remappings, optimizer, evmVersion, ...); Slither adds
            its own ``outputSelection``.

    Returns:
        The input document.
    """
    return {
        "language": "Solidity",
        "sources": {name: {"urls": [name]} for name in sources},
        "settings": dict(settings),
    }


def prepare_compiler(root: Path, contracts: Path) -> tuple[Path, dict[str, Any]]:
    """Compile ``contracts`` with the project compiler and return its solc and settings.

    Compiling first installs the solc-js version the sources need (and its shim) and reports
    compile errors in the project's own format.

    Args:
        root: Project root (base path of source unit names and remappings).
        contracts: Directory of the sources to analyse.

    Returns:
        ``(solc executable, settings)``: the shim of the version used (or ``TESTBED_SOLC``)
        and the project's remappings and EVM target (optimizer off).

    Raises:
        SlitherRunError: If the sources do not compile or the toolchain is missing.
    """
    from agentbed.chain.compiler import Compiler, CompilerConfig
    from agentbed.chain.compiler.config import evm_version_for
    from agentbed.chain.errors import TestbedError

    config = CompilerConfig.from_env(root=root)
    compiler = Compiler(config)
    try:
        result = compiler.compile([contracts])
        version = result.compiler_version.split("+", 1)[0]
        solc = config.solc_binary or compiler.installer.ensure(version)
    except TestbedError as err:
        raise SlitherRunError(f"compiling {contracts} failed:\n{err}") from err
    # Slither analyses the AST, so the optimizer (and viaIR) only cost time here (~25 %).
    settings: dict[str, Any] = {
        "remappings": list(config.effective_remappings),
        "optimizer": {"enabled": False},
    }
    evm_version = config.evm_version or evm_version_for(version)
    if evm_version is not None:
        settings["evmVersion"] = evm_version
    return Path(solc), settings


def run_slither(
    slither: Path, solc: Path, root: Path, sources: Sequence[str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Run Slither on ``sources`` and return its parsed JSON output.

    Args:
        slither: The ``slither`` executable.
        solc: A native-CLI-compatible solc (the solc-js shim).
        root: Directory Slither and solc run in; ``sources`` are relative to it.
        sources: Source unit names to analyse.
        settings: Compiler settings for the standard-JSON input.

    Returns:
        Slither's JSON document.

    Raises:
        SlitherRunError: If Slither fails or writes no JSON.
    """
    with tempfile.TemporaryDirectory(prefix="testbed-slither-") as tmp:
        target = Path(tmp) / "input.json"
        target.write_text(json.dumps(standard_json_input(sources, settings)), encoding="utf-8")
        out = Path(tmp) / "slither.json"
        command = [
            str(slither),
            str(target),
            "--compile-force-framework",
            "solc-json",
            "--solc",
            str(solc),
            "--json",
            str(out),
            "--fail-none",
            "--show-ignored-findings",
        ]
        try:
            proc = subprocess.run(
                command,
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
                timeout=SLITHER_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SlitherRunError(f"could not run {slither}: {err}") from err
        if not out.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise SlitherRunError(f"slither exited {proc.returncode} without results:\n{tail}")
        document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def collect_sources(root: Path, contracts: Path) -> list[str]:
    """Every ``*.sol`` below ``contracts`` as a POSIX path relative to ``root``, sorted."""
    return sorted(
        p.resolve().relative_to(root.resolve()).as_posix() for p in contracts.rglob("*.sol")
    )


def print_report(report: GateReport, elapsed_s: float, stream: Any = None) -> None:
    """Print the gate's outcome: failures one per line, the rest as counts."""
    out = stream if stream is not None else sys.stdout
    for finding in report.untriaged:
        print(finding.format(), file=out)
    for finding, entry in report.triaged:
        print(f"triaged: {finding.detector} {finding.location} ({entry.reason})", file=out)
    for entry in report.unused_entries:
        print(
            f"note: triage entry matches no finding: {entry.detector} | {entry.location}",
            file=out,
        )
    minor = ", ".join(f"{impact} {report.minor[impact]}" for impact in MINOR_IMPACTS)
    print(
        f"slither: {len(report.untriaged)} untriaged High/Medium, {len(report.triaged)} triaged; "
        f"{minor}; {report.out_of_scope} outside scope ({elapsed_s:.1f} s)",
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=None, help="project root (default: this script's project)"
    )
    parser.add_argument(
        "--contracts", default="contracts", help="directory to analyse, relative to the root"
    )
    parser.add_argument("--triage", type=Path, default=None, help="triage document")
    parser.add_argument("--slither", type=Path, default=None, help="slither executable")
    parser.add_argument("--json", type=Path, default=None, help="also write Slither's raw JSON")
    args = parser.parse_args(argv)

    root = (args.root or Path(__file__).resolve().parents[1]).resolve()
    contracts = (root / args.contracts).resolve()
    slither = args.slither or root / DEFAULT_SLITHER
    triage_path = args.triage or root / DEFAULT_TRIAGE
    if not contracts.is_dir():
        print(f"slither: no contracts directory {contracts}", file=sys.stderr)
        return 2
    if not slither.is_file():
        print(f"slither: {slither} not found; run `make slither` to install it", file=sys.stderr)
        return 2
    try:
        entries = parse_triage(triage_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        entries = []
    except ValueError as err:
        print(f"slither: {triage_path}: {err}", file=sys.stderr)
        return 1
    rel = contracts.relative_to(root).as_posix()
    start = time.perf_counter()
    try:
        solc, settings = prepare_compiler(root, contracts)
        output = run_slither(slither, solc, root, collect_sources(root, contracts), settings)
        findings = findings_from_json(output, root)
    except SlitherRunError as err:
        print(f"slither: {err}", file=sys.stderr)
        return 1
    if args.json is not None:
        args.json.write_text(json.dumps(output, indent=1), encoding="utf-8")
    report = evaluate(findings, entries, include=[rel], exclude=[f"{rel}/mocks", "node_modules"])
    print_report(report, time.perf_counter() - start)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
