"""Unit tests of the compiler's pure parts: pragma ranges, import scanning, path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.chain.compiler.config import evm_version_for
from agentbed.chain.compiler.imports import (
    ImportResolver,
    Remapping,
    line_col,
    resolve_relative,
    scan_source,
)
from agentbed.chain.compiler.versions import newest_matching, pragma_matches, select_version
from agentbed.chain.errors import CompilationError

VERSIONS = ("0.4.26", "0.7.6", "0.8.19", "0.8.24", "0.8.26", "0.8.28", "0.8.30", "0.9.0", "1.0.0")


@pytest.mark.parametrize(
    ("pragma", "admitted"),
    [
        ("^0.8.24", {"0.8.24", "0.8.26", "0.8.28", "0.8.30"}),
        ("=0.8.26", {"0.8.26"}),
        ("0.8.26", {"0.8.26"}),
        (">=0.8.0 <0.8.27", {"0.8.19", "0.8.24", "0.8.26"}),
        (">0.8.26 <=0.8.30", {"0.8.28", "0.8.30"}),
        ("~0.8.25", {"0.8.26", "0.8.28", "0.8.30"}),
        (">=0.4.16", set(VERSIONS)),
        ("^0.7.0 || =0.8.19", {"0.7.6", "0.8.19"}),
        ("^0.8", {"0.8.19", "0.8.24", "0.8.26", "0.8.28", "0.8.30"}),
        ("<0.8", {"0.4.26", "0.7.6"}),
        ("^1.0.0", {"1.0.0"}),
        ("nonsense", set()),
    ],
)
def test_pragma_ranges_follow_npm_semver(pragma: str, admitted: set[str]) -> None:
    assert {v for v in VERSIONS if pragma_matches(pragma, v)} == admitted


@given(st.tuples(st.integers(0, 1), st.integers(0, 40), st.integers(0, 40)))
def test_fuzz_exact_pragma_admits_only_its_version(version: tuple[int, int, int]) -> None:
    text = ".".join(map(str, version))
    assert pragma_matches(f"={text}", version)
    assert not pragma_matches(f"={text}", (version[0], version[1], version[2] + 1))
    assert pragma_matches(f"^{text}", version)


def test_newest_matching_intersects_all_pragmas() -> None:
    assert newest_matching(["^0.8.20", "<0.8.27"], VERSIONS) == "0.8.26"
    assert newest_matching(["^0.8.20", "=0.7.6"], VERSIONS) is None


def test_select_version_keeps_the_default_without_asking_for_the_list() -> None:
    def published(refresh: bool) -> tuple[str, ...]:
        raise AssertionError("the version list is not needed when the default fits")

    assert select_version([("a.sol", "^0.8.24")], "0.8.28", published) == "0.8.28"


def test_select_version_refreshes_a_stale_list_once() -> None:
    asked: list[bool] = []

    def published(refresh: bool) -> tuple[str, ...]:
        asked.append(refresh)
        return (*VERSIONS, "0.8.31") if refresh else VERSIONS

    assert select_version([("a.sol", "=0.8.31")], "0.8.28", published) == "0.8.31"
    assert asked == [False, True]
    with pytest.raises(CompilationError, match=r"b.sol: pragma solidity =0.6.0;"):
        select_version([("b.sol", "=0.6.0")], "0.8.28", lambda refresh: VERSIONS)


def test_scan_source_finds_every_import_form_and_skips_comments() -> None:
    source = """
        pragma solidity ^0.8.24;
        import "./A.sol";
        import './B.sol' as B;
        import * as C from "../C.sol";
        import {D, E as F} from "@lib/D.sol";
        // import "./Commented.sol";
        /* import "./Block.sol"; */
        string constant S = "import \\"./InString.sol\\";";
    """
    imports, pragmas = scan_source(source)
    assert [path for path, _ in imports] == ["./A.sol", "./B.sol", "../C.sol", "@lib/D.sol"]
    assert pragmas == ("^0.8.24",)
    assert line_col(source, imports[0][1]) == (3, 9)


def test_relative_imports_resolve_against_the_unit_name() -> None:
    assert resolve_relative("contracts/a/X.sol", "./Y.sol") == "contracts/a/Y.sol"
    assert resolve_relative("contracts/a/X.sol", "../b/Z.sol") == "contracts/b/Z.sol"
    assert resolve_relative("contracts/a/X.sol", "./.././../W.sol") == "W.sol"
    assert resolve_relative("/abs/dir/X.sol", "../Y.sol") == "/abs/Y.sol"


def test_remapping_longest_context_then_prefix_wins() -> None:
    resolver = ImportResolver(
        base_path=Path("."),
        remappings=[
            Remapping.parse("@oz/=node_modules/@oz/"),
            Remapping.parse("@oz/token/=vendor/token/"),
            Remapping.parse("contracts/legacy:@oz/=old/@oz/"),
        ],
    )
    assert (
        resolver.import_unit("contracts/X.sol", "@oz/utils/A.sol") == "node_modules/@oz/utils/A.sol"
    )
    assert resolver.import_unit("contracts/X.sol", "@oz/token/B.sol") == "vendor/token/B.sol"
    assert (
        resolver.import_unit("contracts/legacy/Y.sol", "@oz/token/B.sol") == "old/@oz/token/B.sol"
    )
    assert str(Remapping.parse("ctx:@a/=b/")) == "ctx:@a/=b/"
    with pytest.raises(ValueError):
        Remapping.parse("no-equals-sign")


def test_evm_target_is_prague_when_the_compiler_knows_it() -> None:
    assert evm_version_for("0.8.28") == "prague"
    assert evm_version_for("0.8.27+commit.40a35a09") == "prague"
    assert evm_version_for("0.8.26") == "cancun"
    assert evm_version_for("0.8.19") == "paris"
    assert evm_version_for("0.7.6") is None
