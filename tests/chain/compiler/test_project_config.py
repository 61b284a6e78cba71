"""User projects: the ``[tool.agentbed]`` table, version groups, linking, ``testbed compile``.

The fixture projects live in ``tests/fixtures/compiler/<name>/``, each with its own
``pyproject.toml``. Compiles use the real per-user artifact cache, so warm runs are fast; every
assertion holds for cold and warm compiles alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentbed.chain.compiler import (
    ProjectConfigError,
    ProjectNotFound,
    SourcePathError,
    UnlinkedLibraries,
    compile_project,
    find_project_root,
    library,
    load_project,
)
from agentbed.chain.compiler.library import library_contracts_dir, library_imports
from agentbed.chain.errors import CompilationError
from agentbed.chain.node import Chain
from agentbed.cli import main

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "compiler"
TWO_VERSIONS = FIXTURES / "two_versions"
LIBRARY_LINK = FIXTURES / "library_link"
SRC_LAYOUT = FIXTURES / "src_layout"
WITH_LIBRARY = FIXTURES / "with_library"
MATHLIB = "contracts/MathLib.sol:MathLib"


@pytest.fixture(autouse=True)
def real_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    """solc-js whatever the shell says (a native ``TESTBED_SOLC`` could not do 0.5 and 0.8)."""
    monkeypatch.delenv("TESTBED_SOLC", raising=False)


def _table(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.agentbed]\n{body}\n")
    return tmp_path


# ---------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------


def test_project_is_the_nearest_pyproject_with_an_agentbed_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.agentbed]\nsources = ["src"]\n')
    inner = tmp_path / "pkg"
    (inner / "deep").mkdir(parents=True)
    (inner / "pyproject.toml").write_text('[project]\nname = "no-table-here"\n')
    project = load_project(inner / "deep")
    assert project.root == tmp_path.resolve()
    assert project.config.sources == ("src",)
    assert find_project_root(inner) == tmp_path.resolve()


def test_no_project_raises_one_line_naming_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()  # the old guess (pyproject + contracts/) must not count
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "b"\n')
    with pytest.raises(ProjectNotFound) as caught:
        load_project(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "no agentbed project found: no pyproject.toml with a [tool.agentbed] table in "
        f'{tmp_path.resolve()} or its parents; add "[tool.agentbed]" (sources = ["contracts"]) '
        "to your pyproject.toml"
    )
    assert isinstance(caught.value, SourcePathError)
    with pytest.raises(ProjectNotFound):
        compile_project(tmp_path)  # never falls back to the installed package's project


def test_this_repository_is_a_project_that_covers_the_library() -> None:
    project = load_project(REPO / "chain")
    assert project.root == REPO
    assert library_contracts_dir() == (REPO / "contracts").resolve()
    assert not project.includes_library  # its sources are the library: compiled once


# ---------------------------------------------------------------------------------------------
# The table's values and their errors
# ---------------------------------------------------------------------------------------------


def test_table_values_reach_the_compiler_settings(tmp_path: Path) -> None:
    project = load_project(
        _table(
            tmp_path,
            'sources = ["src"]\ninclude_paths = ["lib"]\nremappings = ["a/=b/"]\n'
            'solc = "0.8.26"\noptimizer_runs = false\nevm_version = "cancun"\n'
            "library_contracts = false\n"
            '[tool.agentbed.libraries]\nMathLib = "deploy"\n'
            '"src/L.sol:Other" = "0x00000000000000000000000000000000000000aa"\n',
        )
    )
    config = project.compiler_config()
    assert (config.root, config.solc_version, config.evm_version) == (
        tmp_path.resolve(),
        "0.8.26",
        "cancun",
    )
    assert (config.optimizer, config.remappings, config.include_paths) == (
        False,
        ("a/=b/",),
        (Path("lib"),),
    )
    assert project.source_dirs == (tmp_path.resolve() / "src",)
    assert project.libraries == {
        "MathLib": "deploy",
        "src/L.sol:Other": "0x00000000000000000000000000000000000000aa",
    }


def test_defaults_keep_the_openzeppelin_remapping_only_when_its_folder_exists(
    tmp_path: Path,
) -> None:
    project = load_project(_table(tmp_path, ""))
    assert project.remappings == ()
    assert project.compiler_config().optimizer_runs == 200
    assert project.compiler_config().solc_version is None  # "pragma": per file
    (tmp_path / "node_modules" / "@openzeppelin").mkdir(parents=True)
    assert project.remappings == ("@openzeppelin/=node_modules/@openzeppelin/",)


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("colour = 1", "tool.agentbed.colour", "unknown key; known keys: sources,"),
        ('sources = "contracts"', "tool.agentbed.sources", "expected a list of strings"),
        ("sources = []", "tool.agentbed.sources", "expected at least one folder"),
        ("include_paths = [1]", "tool.agentbed.include_paths[0]", "expected a non-empty string"),
        ('remappings = ["nothing"]', "tool.agentbed.remappings[0]", "needs 'prefix=target'"),
        ('remappings = ["a/="]', "tool.agentbed.remappings[0]", "empty target"),
        ('solc = "^0.8.0"', "tool.agentbed.solc", 'expected "pragma" or an exact version'),
        ("optimizer_runs = nan", "tool.agentbed.optimizer_runs", "got nan"),
        ("optimizer_runs = -1", "tool.agentbed.optimizer_runs", "non-negative integer or false"),
        ("optimizer_runs = true", "tool.agentbed.optimizer_runs", "got True"),
        ('evm_version = "frontier2"', "tool.agentbed.evm_version", "unknown EVM version"),
        ('library_contracts = "yes"', "tool.agentbed.library_contracts", "expected true or"),
        ('libraries = "x"', "tool.agentbed.libraries", "expected a table"),
        (
            "[tool.agentbed.libraries]\nMathLib = '0x1234'",
            "tool.agentbed.libraries.MathLib",
            "expected a 0x-prefixed 20-byte hex address",
        ),
        (
            "[tool.agentbed.libraries]\n\"1bad\" = 'deploy'",
            "tool.agentbed.libraries.1bad",
            "library name must be Name or path/to/File.sol:Name",
        ),
    ],
)
def test_malformed_table_gives_one_line_naming_file_and_key(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    _table(tmp_path, body)
    with pytest.raises(ProjectConfigError) as caught:
        load_project(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path.resolve() / 'pyproject.toml'}: {key}: ")
    assert problem in message


def test_invalid_toml_is_a_config_error_not_a_missing_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.agentbed\n")
    with pytest.raises(ProjectConfigError, match=r"pyproject.toml: \(file\): not valid TOML"):
        load_project(tmp_path)


# ---------------------------------------------------------------------------------------------
# Version groups
# ---------------------------------------------------------------------------------------------


def test_sources_needing_two_compiler_versions_compile_in_groups_and_interoperate() -> None:
    result = load_project(TWO_VERSIONS).compile()
    old, new = result["OldVault"], result["NewReader"]
    assert old.compiler_version.startswith("0.5.16+commit.")
    assert new.compiler_version.startswith("0.8.28+commit.")
    assert result.compiler_version == f"{new.compiler_version}, {old.compiler_version}"
    assert "evmVersion" not in old.settings  # 0.5.16 keeps its own default target
    assert new.settings["evmVersion"] == "prague"

    chain = Chain(project_root=str(TWO_VERSIONS))
    vault = chain.deploy("OldVault", 21)
    reader = chain.deploy("NewReader", vault.address)
    assert reader.functions.doubled().call() == 42
    vault.functions.store(5).transact({"from": chain.accounts[0].address})
    assert reader.functions.doubled().call() == 10


def test_one_contract_name_in_two_version_groups_is_an_error_naming_both(tmp_path: Path) -> None:
    (tmp_path / "Old.sol").write_text("pragma solidity 0.5.16;\ncontract Thing {}\n")
    (tmp_path / "New.sol").write_text("pragma solidity ^0.8.0;\ncontract Thing {}\n")
    with pytest.raises(CompilationError) as caught:
        compile_project(_table(tmp_path, 'sources = ["."]\nlibrary_contracts = false'))
    assert caught.value.errors == (
        "contract name 'Thing' is declared in New.sol (solc 0.8.28) and in Old.sol (solc 0.5.16); "
        "files compiled with different compiler versions need distinct contract names",
    )


def test_explicit_solc_version_compiles_everything_with_it(tmp_path: Path) -> None:
    (tmp_path / "A.sol").write_text("pragma solidity ^0.8.20;\ncontract A {}\n")
    project = load_project(_table(tmp_path, 'sources = ["."]\nsolc = "0.8.26"'))
    assert project.compile()["A"].compiler_version.startswith("0.8.26+commit.")


# ---------------------------------------------------------------------------------------------
# Layouts, include paths, remappings, cache keys
# ---------------------------------------------------------------------------------------------


def test_src_layout_with_remapping_and_include_path_compiles_and_runs() -> None:
    project = load_project(SRC_LAYOUT)
    result = project.compile()
    assert set(result.names) == {
        "src/Area.sol:Area",
        "third_party/shapes/Square.sol:Square",  # through the remapping @shapes/
        "units/Units.sol:Units",  # found in the include path lib/
    }
    chain = Chain(project_root=str(SRC_LAYOUT / "src"))
    assert chain.deploy("Area").functions.squareArea(3).call() == 900


def test_include_paths_and_remappings_are_part_of_the_cache_key() -> None:
    project = load_project(SRC_LAYOUT)
    base = project.compile()
    extra_include = project.with_overrides(include_paths=("lib", "third_party")).compile()
    extra_remap = project.with_overrides(
        remappings=("@shapes/=third_party/shapes/", "@unused/=nowhere/")
    ).compile()
    assert len({base.cache_key, extra_include.cache_key, extra_remap.cache_key}) == 3
    assert base.artifacts == extra_include.artifacts  # same sources read, another key


# ---------------------------------------------------------------------------------------------
# Library linking
# ---------------------------------------------------------------------------------------------


def test_unlinked_library_is_an_error_naming_it_never_a_silent_deploy() -> None:
    chain = Chain(project_root=str(LIBRARY_LINK))
    references = chain.artifacts["Calculator"].link_references
    assert [(source, list(names)) for source, names in references.items()] == [
        ("contracts/MathLib.sol", ["MathLib"])
    ]
    with pytest.raises(UnlinkedLibraries) as caught:
        chain.deploy("Calculator")
    assert caught.value.missing == (MATHLIB,)
    assert "\n" not in str(caught.value) and MATHLIB in str(caught.value)
    assert chain.block_number == 0  # nothing was sent


def test_library_linked_by_address_is_called() -> None:
    chain = Chain(project_root=str(LIBRARY_LINK))
    library = chain.deploy("MathLib")
    calculator = chain.deploy("Calculator", libraries={"MathLib": library.address})
    assert calculator.functions.tripled(7).call() == 21
    code = chain.code(calculator.address)
    assert bytes.fromhex(library.address[2:]) in code


def test_deploy_libraries_are_deployed_once_and_again_after_a_revert() -> None:
    chain = Chain(project_root=str(LIBRARY_LINK))
    snapshot = chain.snapshot()
    first = chain.deploy("Calculator", libraries={MATHLIB: "deploy"})
    second = chain.deploy("Calculator", libraries={"MathLib": "deploy"})
    assert first.functions.tripled(2).call() == second.functions.tripled(2).call() == 6
    assert chain.nonce(chain.accounts[0].address) == 3  # the library once, two calculators
    chain.revert(snapshot)
    third = chain.deploy("Calculator", libraries={"MathLib": "deploy"})
    assert third.functions.tripled(3).call() == 9
    assert chain.nonce(chain.accounts[0].address) == 2  # the library was deployed again


def test_library_table_entries_apply_to_chain_deploy(tmp_path: Path) -> None:
    for source in (LIBRARY_LINK / "contracts").iterdir():
        (tmp_path / "contracts").mkdir(exist_ok=True)
        (tmp_path / "contracts" / source.name).write_text(source.read_text())
    _table(tmp_path, 'library_contracts = false\n[tool.agentbed.libraries]\nMathLib = "deploy"')
    chain = Chain(project_root=str(tmp_path))
    assert chain.deploy("Calculator").functions.tripled(5).call() == 15


# ---------------------------------------------------------------------------------------------
# The library's own contracts next to a project's
# ---------------------------------------------------------------------------------------------


def test_library_contracts_deploy_by_name_next_to_the_projects_own() -> None:
    chain = Chain(project_root=str(WITH_LIBRARY))
    assert chain.artifacts["Escrow"].source == "contracts/Escrow.sol"  # the library's
    assert chain.deploy("Reputation").functions.origin().call() == "project"  # own one wins
    shop = chain.deploy("Shop")
    token = chain.deploy("MockERC20", "Coin", "CN")
    token.functions.mint(shop.address, 5).transact({"from": chain.accounts[0].address})
    assert shop.functions.stockOf(token.address).call() == 5


def test_library_openzeppelin_imports_follow_the_users_remapping_else_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    root, remappings, includes = library_imports(user, ["@openzeppelin/=lib/oz/", "x/=y/"])
    assert (root, remappings, includes) == (
        REPO,
        (f"@openzeppelin/={user.resolve()}/lib/oz/",),  # absolute: the user's copy wins
        (),
    )
    # A source checkout: the repository's own remapping, so the group is the repo's compile.
    assert library_imports(user, []) == (REPO, ("@openzeppelin/=node_modules/@openzeppelin/",), ())
    # An installed wheel: no node_modules next to the contracts, the vendored copy instead.
    installed = tmp_path / "site-packages" / "agentbed"
    (installed / "contracts").mkdir(parents=True)
    monkeypatch.setattr(library, "package_dir", lambda: installed)
    assert library_imports(user, []) == (installed, (), (installed / "vendor",))


def test_library_contracts_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "Own.sol").write_text("pragma solidity ^0.8.24;\ncontract Own {}\n")
    result = load_project(_table(tmp_path, "library_contracts = false")).compile()
    assert result.names == ("contracts/Own.sol:Own",)


# ---------------------------------------------------------------------------------------------
# testbed compile
# ---------------------------------------------------------------------------------------------


def test_cli_compile_without_a_project_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["compile"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("testbed: error: no agentbed project found: no pyproject.toml with")


def test_cli_compile_root_compiles_every_version_group(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", "--root", str(TWO_VERSIONS)]) == 0
    out = capsys.readouterr().out
    assert "contracts/OldVault.sol:OldVault" in out and "contracts/NewReader.sol:NewReader" in out
    assert "solc 0.8.28+commit.7893614a, 0.5.16+commit.9c3226ce" in out


def test_cli_flags_override_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(SRC_LAYOUT)
    assert main(["compile", "--remap", "@shapes/=nowhere/"]) == 1  # replaces the table's
    assert 'Source "@shapes/Square.sol" not found' in capsys.readouterr().err
    out = tmp_path / "a.json"
    code = main(
        ["compile", "--solc-version", "0.8.26", "--optimizer-runs", "7", "--json", str(out)]
    )
    assert code == 0
    area = json.loads(out.read_text())["contracts"]["src/Area.sol:Area"]
    assert area["compilerVersion"].startswith("0.8.26+commit.")
    assert area["settings"]["optimizer"] == {"enabled": True, "runs": 7}


def test_cli_library_flag_links_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = "0x" + "ab" * 20
    out = tmp_path / "a.json"
    args = ["compile", "--root", str(LIBRARY_LINK), "--json", str(out)]
    assert main([*args, "--library", f"MathLib={address}"]) == 0
    calculator = json.loads(out.read_text())["contracts"]["contracts/Calculator.sol:Calculator"]
    assert "ab" * 20 in calculator["bytecode"] and "ab" * 20 in calculator["deployedBytecode"]
    assert calculator["linkReferences"] == {}
    assert main([*args, "--library", "MathLib=0x12"]) == 2
    assert "testbed compile: --library: expected a 0x-prefixed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--remap", "nothing"], "testbed compile: --remap: remapping needs 'prefix=target'"),
        (["--solc-version", "latest"], 'testbed compile: --solc-version: expected "pragma"'),
        (["--optimizer-runs", "-1"], "testbed compile: --optimizer-runs must be >= 0"),
    ],
)
def test_cli_bad_flag_values_exit_2(
    flag: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", "--root", str(SRC_LAYOUT), *flag]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message)


def test_cli_malformed_table_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _table(tmp_path, "solc = 8")
    assert main(["compile", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"testbed: error: {tmp_path.resolve() / 'pyproject.toml'}: ")
    assert "tool.agentbed.solc: expected a non-empty string, got 8" in err
