"""Tests of ``scripts/slither.py``: the triage parser and finding filter on a canned Slither
JSON output, and one real Slither run on a fixture contract with a known High finding.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "slither"
SLITHER_BIN = ROOT / ".venv-slither" / "bin" / "slither"


def _load_script() -> ModuleType:
    """Import ``scripts/slither.py`` (scripts/ is not a package)."""
    name = "testbed_slither_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "slither.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gate = _load_script()

SCOPE = {"include": ["contracts"], "exclude": ["contracts/mocks", "node_modules"]}


@pytest.fixture(scope="module")
def canned() -> dict[str, Any]:
    """Slither output trimmed from real runs: fixture contracts renamed into contracts/,
    plus an OpenZeppelin finding (node_modules) and two from project contracts."""
    document: dict[str, Any] = json.loads((FIXTURES / "canned.json").read_text("utf-8"))
    return document


# --- triage document ---------------------------------------------------------------------


TRIAGE_DOC = """\
# Triage

Some prose with a | pipe.

| other | table |
| --- | --- |
| not | an entry |

## Accepted findings

| detector | location | why it is acceptable |
| :-- | --- | --- |
| `reentrancy-eth` | `Vault.withdraw` | the fixture is reentrant on purpose |
| timestamp | Escrow.* | deadlines of hours; a validator's 15 s skew is irrelevant |

After the table.
"""


def test_parse_triage_reads_only_the_detector_table() -> None:
    entries = gate.parse_triage(TRIAGE_DOC)
    assert entries == [
        gate.TriageEntry("reentrancy-eth", "Vault.withdraw", "the fixture is reentrant on purpose"),
        gate.TriageEntry(
            "timestamp", "Escrow.*", "deadlines of hours; a validator's 15 s skew is irrelevant"
        ),
    ]


def test_parse_triage_rejects_a_row_without_reason() -> None:
    doc = "| detector | location | why |\n| --- | --- | --- |\n| reentrancy-eth | Vault.f |  |\n"
    with pytest.raises(ValueError, match="triage line 3"):
        gate.parse_triage(doc)


def test_project_triage_document_parses() -> None:
    gate.parse_triage((ROOT / "docs" / "slither-triage.md").read_text("utf-8"))


# --- Slither output ----------------------------------------------------------------------


def test_findings_from_json_names_file_line_and_location(canned: dict[str, Any]) -> None:
    findings = gate.findings_from_json(canned)
    assert len(findings) == 7
    vault = next(f for f in findings if f.detector == "reentrancy-eth")
    assert (vault.impact, vault.path, vault.line, vault.location) == (
        "High",
        "contracts/Vault.sol",
        16,
        "Vault.withdraw",
    )
    assert "\n" not in vault.description
    assert vault.description.startswith("Reentrancy in Vault.withdraw()")
    # A constructor parameter is named by its function, a pragma by its version.
    locations = {(f.detector, f.path): f.location for f in findings}
    assert locations["missing-zero-check", "contracts/Staking.sol"] == "Staking.constructor"
    assert locations["pragma", "contracts/AgentCurrency.sol"] == "^0.8.24"
    line = vault.format()
    assert line.startswith("contracts/Vault.sol:16: reentrancy-eth [High, confidence Medium]")


def test_absolute_paths_are_made_relative_to_the_root(canned: dict[str, Any]) -> None:
    findings = gate.findings_from_json(canned, root=Path("/project"))
    assert {f.path for f in findings} >= {"contracts/Vault.sol", "contracts/mocks/MockDrain.sol"}


def test_node_element_is_named_by_its_function() -> None:
    function = {
        "type": "function",
        "name": "release",
        "type_specific_fields": {"parent": {"type": "contract", "name": "Escrow"}},
    }
    node = {"type": "node", "name": "x.call()", "type_specific_fields": {"parent": function}}
    assert gate._location(node) == "Escrow.release"


def test_failed_run_raises() -> None:
    with pytest.raises(gate.SlitherRunError, match="boom"):
        gate.findings_from_json({"success": False, "error": "boom", "results": {}})


def test_scope_excludes_mocks_and_dependencies() -> None:
    assert gate.in_scope("contracts/Escrow.sol", **SCOPE)
    assert gate.in_scope("contracts/interfaces/IEscrow.sol", **SCOPE)
    assert not gate.in_scope("contracts/mocks/MockERC20.sol", **SCOPE)
    assert not gate.in_scope("node_modules/@openzeppelin/contracts/utils/math/Math.sol", **SCOPE)
    assert not gate.in_scope("contracts-old/Escrow.sol", **SCOPE)
    assert gate.in_scope(None, **SCOPE)  # no source mapping: kept, never silently dropped


# --- the gate ------------------------------------------------------------------------------


def test_untriaged_high_fails_and_minor_findings_are_counted(canned: dict[str, Any]) -> None:
    report = gate.evaluate(gate.findings_from_json(canned), [], **SCOPE)
    assert not report.ok
    assert [(f.detector, f.location) for f in report.untriaged] == [
        ("reentrancy-eth", "Vault.withdraw")
    ]
    assert report.minor == {"Low": 1, "Informational": 2}
    assert report.out_of_scope == 3  # two in mocks/, one in OpenZeppelin


def test_triaged_finding_passes_and_stale_entries_are_reported(canned: dict[str, Any]) -> None:
    entries = [
        gate.TriageEntry("reentrancy-eth", "Vault.*", "fixture"),
        gate.TriageEntry("reentrancy-eth", "Escrow.release", "fixed since"),
    ]
    report = gate.evaluate(gate.findings_from_json(canned), entries, **SCOPE)
    assert report.ok
    assert [(f.location, e.location) for f, e in report.triaged] == [("Vault.withdraw", "Vault.*")]
    assert report.unused_entries == [entries[1]]


def test_triage_needs_the_same_detector(canned: dict[str, Any]) -> None:
    entries = [gate.TriageEntry("reentrancy-no-eth", "Vault.withdraw", "wrong detector")]
    report = gate.evaluate(gate.findings_from_json(canned), entries, **SCOPE)
    assert not report.ok


def test_standard_json_input_lists_sources_by_url() -> None:
    doc = gate.standard_json_input(["contracts/A.sol"], {"evmVersion": "prague"})
    assert doc == {
        "language": "Solidity",
        "sources": {"contracts/A.sol": {"urls": ["contracts/A.sol"]}},
        "settings": {"evmVersion": "prague"},
    }


# --- a real run --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not SLITHER_BIN.is_file(),
    reason=f"Slither is not installed at {SLITHER_BIN} (run `make slither` to create its venv)",
)
def test_real_slither_reports_the_reentrant_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty_triage = tmp_path / "triage.md"
    empty_triage.write_text("| detector | location | why |\n| --- | --- | --- |\n", "utf-8")
    raw = tmp_path / "slither.json"
    code = gate.main(
        [
            "--root",
            str(ROOT),
            "--contracts",
            "tests/fixtures/slither",
            "--triage",
            str(empty_triage),
            "--slither",
            str(SLITHER_BIN),
            "--json",
            str(raw),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1, out
    failing = [line for line in out.splitlines() if "[High" in line or "[Medium" in line]
    assert len(failing) == 1, out
    assert failing[0].startswith("tests/fixtures/slither/Vault.sol:16: reentrancy-eth [High")
    assert "MockDrain" not in out  # its arbitrary-send-eth is in mocks/

    # The same output passes once the finding is triaged.
    findings = gate.findings_from_json(json.loads(raw.read_text("utf-8")), ROOT)
    assert any(f.detector == "arbitrary-send-eth" for f in findings)  # found, then filtered
    report = gate.evaluate(
        findings,
        [gate.TriageEntry("reentrancy-eth", "Vault.withdraw", "fixture")],
        include=["tests/fixtures/slither"],
        exclude=["tests/fixtures/slither/mocks", "node_modules"],
    )
    assert report.ok
