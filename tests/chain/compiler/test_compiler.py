"""Tests of the Solidity compiler front end (``agentbed.chain.compiler``) and ``testbed compile``.

solc-js versions are installed once into the real per-user cache (the realistic path, shared
across tests and runs); every test gets its own empty artifact cache via ``TESTBED_CACHE``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import solcx
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from agentbed.chain.compiler import (
    AmbiguousContractName,
    Artifact,
    Compiler,
    CompilerConfig,
    SourcePathError,
    compile_files,
    compile_project,
)
from agentbed.chain.compiler.solcjs import NODE_MISSING, SolcJsInstaller
from agentbed.chain.errors import CompilationError, ToolchainError, UnknownContract
from agentbed.cli import main

PROJECT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "compiler"


@pytest.fixture(autouse=True)
def isolated_artifact_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give each test a cold artifact cache and the real compiler, whatever the shell says."""
    cache = tmp_path / "testbed-cache"
    monkeypatch.setenv("TESTBED_CACHE", str(cache))
    monkeypatch.delenv("TESTBED_SOLC", raising=False)
    return cache


class CompileSpy:
    """Counts calls to ``solcx.compile_standard`` and keeps the inputs and outputs."""

    def __init__(self, real: Callable[..., dict[str, Any]]) -> None:
        self.real = real
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []

    @property
    def calls(self) -> int:
        return len(self.inputs)

    def __call__(self, input_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        self.inputs.append(input_data)
        output = self.real(input_data, **kwargs)
        self.outputs.append(output)
        return output


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[CompileSpy]:
    compile_spy = CompileSpy(solcx.compile_standard)
    monkeypatch.setattr(solcx, "compile_standard", compile_spy)
    yield compile_spy


@pytest.fixture
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


def deploy(w3: Web3, artifact: Artifact, *args: Any) -> Any:
    """Deploy ``artifact`` from the first test account and return a contract handle."""
    factory = w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.creation_bytecode)
    tx_hash = factory.constructor(*args).transact({"from": w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert w3.eth.get_code(receipt["contractAddress"]) == artifact.runtime_bytecode
    return w3.eth.contract(address=receipt["contractAddress"], abi=list(artifact.abi))


# ---------------------------------------------------------------------------------------------
# Compiling and running on py-evm
# ---------------------------------------------------------------------------------------------


def test_compiled_contract_deploys_and_runs_on_py_evm(w3: Web3) -> None:
    result = compile_files([FIXTURES / "counter"])
    artifact = result["Counter"]
    assert artifact.source == "tests/fixtures/compiler/counter/Counter.sol"
    assert artifact.compiler_version.startswith("0.8.28+commit.")
    assert artifact.settings["evmVersion"] == "prague"
    assert artifact.settings["optimizer"] == {"enabled": True, "runs": 200}
    assert "viaIR" not in artifact.settings
    assert artifact.method_identifiers["increment(uint256)"] == "7cf5dab0"
    assert artifact.bytecode == artifact.creation_bytecode
    assert artifact.deployed_bytecode == artifact.runtime_bytecode

    counter = deploy(w3, artifact)
    counter.functions.increment(5).transact({"from": w3.eth.accounts[0]})
    counter.functions.increment(2).transact({"from": w3.eth.accounts[0]})
    assert counter.functions.count().call() == 7


def test_mock_erc20_imports_remapped_openzeppelin_and_mints(w3: Web3, spy: CompileSpy) -> None:
    result = compile_project(PROJECT)
    token_artifact = result["MockERC20"]
    assert token_artifact.source == "contracts/mocks/MockERC20.sol"
    assert "node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol:ERC20" in result.names
    # The Python-side closure is exactly what the compiler resolved: it read nothing itself.
    assert set(spy.outputs[0]["sources"]) == set(spy.inputs[0]["sources"])

    token = deploy(w3, token_artifact, "Agent Credit", "CRED")
    holder = w3.eth.accounts[1]
    token.functions.mint(holder, 10**18).transact({"from": w3.eth.accounts[0]})
    assert token.functions.balanceOf(holder).call() == 10**18
    assert token.functions.totalSupply().call() == 10**18
    assert token.functions.symbol().call() == "CRED"


def test_relative_imports_resolve_against_the_importing_file(spy: CompileSpy) -> None:
    result = compile_files([FIXTURES / "relative" / "app" / "App.sol"])
    assert set(spy.inputs[0]["sources"]) == {
        "tests/fixtures/compiler/relative/app/App.sol",
        "tests/fixtures/compiler/relative/lib/Base.sol",
        "tests/fixtures/compiler/relative/lib/Math.sol",
    }
    assert set(spy.outputs[0]["sources"]) == set(spy.inputs[0]["sources"])
    assert result["App"].creation_bytecode


def test_warnings_are_returned_not_raised() -> None:
    result = compile_files([FIXTURES / "warning"])
    assert any(
        w.startswith("tests/fixtures/compiler/warning/Shadow.sol:7:9: Warning: Unused local")
        for w in result.warnings
    ), result.warnings


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_compile_error_reports_file_line_col() -> None:
    with pytest.raises(CompilationError) as caught:
        compile_files([FIXTURES / "broken"])
    source = (FIXTURES / "broken" / "Broken.sol").read_text()
    line_text = source.splitlines()[7]
    column = line_text.index("missingThing") + 1
    assert caught.value.errors == (
        f"tests/fixtures/compiler/broken/Broken.sol:8:{column}: "
        "DeclarationError: Undeclared identifier.",
    )


def test_missing_import_reports_file_line_col(tmp_path: Path) -> None:
    (tmp_path / "A.sol").write_text('pragma solidity ^0.8.24;\n\n  import "./Nope.sol";\n')
    with pytest.raises(CompilationError) as caught:
        compile_files([tmp_path / "A.sol"])
    assert caught.value.errors[0].startswith(
        'A.sol:3:3: ParserError: Source "./Nope.sol" not found'
    )


def test_bad_path_raises_source_path_error(tmp_path: Path) -> None:
    with pytest.raises(SourcePathError):
        compile_files([tmp_path / "missing"])
    with pytest.raises(SourcePathError):
        compile_files([tmp_path])  # exists, but holds no .sol files


def test_missing_node_gives_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    # Nothing installed yet: npm would be needed to install.
    monkeypatch.setenv("TESTBED_SOLC_CACHE", str(tmp_path / "empty-solc-cache"))
    with pytest.raises(ToolchainError) as caught:
        compile_files([FIXTURES / "counter"])
    assert str(caught.value) == NODE_MISSING
    assert "install Node.js" in NODE_MISSING and "TESTBED_SOLC" in NODE_MISSING


def test_missing_node_with_installed_solc_gives_the_same_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Compiler().installer.ensure("0.8.28")
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    with pytest.raises(ToolchainError, match=r"^agentbed compiles Solidity with the npm"):
        compile_files([FIXTURES / "counter"])


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


def test_warm_compile_makes_no_compiler_call(
    spy: CompileSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = compile_project(PROJECT)
    assert spy.calls == 1 and not cold.from_cache

    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"warm compile started a process: {args!r}")

    # Not even `solc --version`: a warm compile starts no process at all.
    monkeypatch.setattr(subprocess, "Popen", no_process)
    warm = compile_project(PROJECT)
    assert spy.calls == 1
    assert warm.from_cache
    assert warm.artifacts == cold.artifacts
    assert warm.cache_key == cold.cache_key


def test_changed_import_content_misses_the_cache(tmp_path: Path, spy: CompileSpy) -> None:
    shutil.copytree(FIXTURES / "relative", tmp_path / "relative")
    entry = tmp_path / "relative" / "app" / "App.sol"
    first = compile_files([entry], root=tmp_path)
    math = tmp_path / "relative" / "lib" / "Math.sol"
    math.write_text(math.read_text().replace("2 * x", "x + x"))
    second = compile_files([entry], root=tmp_path)
    assert spy.calls == 2
    assert first.cache_key != second.cache_key
    assert not second.from_cache


def test_settings_are_part_of_the_cache_key(spy: CompileSpy) -> None:
    default = compile_files([FIXTURES / "counter"])
    tuned = compile_files([FIXTURES / "counter"], optimizer_runs=10_000)
    assert spy.calls == 2
    assert tuned.cache_key != default.cache_key
    assert tuned["Counter"].settings["optimizer"]["runs"] == 10_000


def test_corrupt_cache_entry_is_ignored_and_rebuilt(spy: CompileSpy) -> None:
    compiler = Compiler(CompilerConfig.from_env())
    first = compiler.compile([FIXTURES / "counter"])
    entry = compiler.cache.path_for(first.cache_key)
    entry.write_text('{"schema": 1, "key": "' + first.cache_key + '", "artifacts": [{')
    again = compiler.compile([FIXTURES / "counter"])
    assert spy.calls == 2
    assert not again.from_cache
    assert again.artifacts == first.artifacts
    assert json.loads(entry.read_text())["key"] == first.cache_key
    assert compiler.compile([FIXTURES / "counter"]).from_cache


# ---------------------------------------------------------------------------------------------
# Toolchain
# ---------------------------------------------------------------------------------------------


def test_output_over_64_kib_arrives_whole(tmp_path: Path, spy: CompileSpy) -> None:
    count = 60
    body = "\n".join(
        f"contract C{i} {{\n"
        f"    uint256 public v{i};\n"
        f"    function set{i}(uint256 x) external {{ v{i} = x + {i}; }}\n"
        f"    function get{i}() external view returns (uint256) {{ return v{i} * {i + 1}; }}\n"
        "}"
        for i in range(count)
    )
    (tmp_path / "Many.sol").write_text(
        f"// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n{body}\n"
    )
    result = compile_files([tmp_path / "Many.sol"])
    assert len(json.dumps(spy.outputs[0])) > 64 * 1024
    assert {a.name for a in result} == {f"C{i}" for i in range(count)}
    assert all(a.runtime_bytecode for a in result)


def test_pragma_selects_and_installs_a_second_compiler_version(w3: Web3) -> None:
    result = compile_files([FIXTURES / "pragma_0826"])
    artifact = result["Old"]
    assert artifact.compiler_version.startswith("0.8.26+commit.")
    assert result.compiler_version == artifact.compiler_version
    assert artifact.settings["evmVersion"] == "cancun"  # 0.8.26 does not know Prague
    assert (Compiler().installer.cache_dir / "0.8.26" / "solc").is_file()
    assert deploy(w3, artifact).functions.answer().call() == 42


def test_explicit_solc_version_wins_over_the_default() -> None:
    result = compile_files([FIXTURES / "counter"], solc_version="0.8.26")
    assert result["Counter"].compiler_version.startswith("0.8.26+commit.")


def test_native_solc_override_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Compiler().installer.ensure("0.8.28")
    log = tmp_path / "calls.log"
    fake = tmp_path / "native-solc"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("TESTBED_SOLC", str(fake))

    result = compile_files([FIXTURES / "counter"])
    calls = log.read_text().splitlines()
    assert "--version" in calls
    assert any(call.startswith("--standard-json") for call in calls)
    assert result["Counter"].compiler_version.startswith("0.8.28+commit.")

    monkeypatch.delenv("TESTBED_SOLC")
    solcjs = compile_files([FIXTURES / "counter"])
    assert solcjs.cache_key != result.cache_key  # a native binary never shares cache entries


def test_shim_answers_version_in_native_format_without_loading_the_compiler() -> None:
    shim = Compiler().installer.ensure("0.8.28")
    text = (shim.parent / "solc").read_text()
    assert text.startswith("#!/usr/bin/env node")
    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == (
        "solc, the solidity compiler commandline interface\n"
        "Version: 0.8.28+commit.7893614a.Emscripten.clang\n"
    )
    assert str(solcx.wrapper.get_solc_version(shim)) == "0.8.28"
    bad = subprocess.run([str(shim), "--frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("unrecognised option '--frobnicate'")


def test_shim_reads_urls_from_base_and_include_paths_only_where_allowed(tmp_path: Path) -> None:
    shim = Compiler().installer.ensure("0.8.28")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "L.sol").write_text("pragma solidity ^0.8.0; contract L {}")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "M.sol").write_text(
        'pragma solidity ^0.8.0; import "L.sol"; contract M is L {}'
    )
    request = {
        "language": "Solidity",
        "sources": {
            "src/M.sol": {"urls": ["src/M.sol"]},
            "/etc/hostname": {"urls": ["/etc/hostname"]},
        },
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    command = [str(shim), "--standard-json", "--base-path", str(tmp_path)]
    command += ["--include-path", str(tmp_path / "lib"), "--allow-paths", str(tmp_path)]
    proc = subprocess.run(command, input=json.dumps(request), capture_output=True, text=True)
    output = json.loads(proc.stdout)
    assert proc.returncode == 0
    messages = [e["message"] for e in output.get("errors", [])]
    assert any('Cannot import url ("/etc/hostname")' in m for m in messages), messages
    request["sources"].pop("/etc/hostname")
    proc = subprocess.run(command, input=json.dumps(request), capture_output=True, text=True)
    output = json.loads(proc.stdout)
    assert set(output["contracts"]) == {"src/M.sol", "L.sol"}, output.get("errors")


def test_install_is_atomic_and_idempotent(tmp_path: Path) -> None:
    installer = SolcJsInstaller(tmp_path / "solc", progress=open(os.devnull, "w"))  # noqa: SIM115
    shim = installer.ensure("0.8.28")
    assert shim == tmp_path / "solc" / "0.8.28" / "solc"
    assert installer.ensure("0.8.28") == shim
    assert [p.name for p in (tmp_path / "solc").iterdir()] == ["0.8.28"]  # no staging left


# ---------------------------------------------------------------------------------------------
# Lookup
# ---------------------------------------------------------------------------------------------


def test_lookup_by_qualified_name_when_names_collide() -> None:
    result = compile_files([FIXTURES / "collide"])
    with pytest.raises(AmbiguousContractName, match="ambiguous"):
        result.get("Thing")
    a = result["tests/fixtures/compiler/collide/a/Thing.sol:Thing"]
    b = result["tests/fixtures/compiler/collide/b/Thing.sol:Thing"]
    assert a.runtime_bytecode != b.runtime_bytecode
    with pytest.raises(UnknownContract):
        result.get("Nothing")
    assert "Thing" not in result and "tests/fixtures/compiler/collide/a/Thing.sol:Thing" in result


# ---------------------------------------------------------------------------------------------
# testbed compile
# ---------------------------------------------------------------------------------------------


def test_cli_compile_prints_sizes_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "artifacts.json"
    code = main(["compile", str(FIXTURES / "counter"), "--json", str(out), "--optimizer-runs", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    row = next(line for line in printed.splitlines() if "Counter.sol:Counter" in line)
    data = json.loads(out.read_text())
    counter = data["contracts"]["tests/fixtures/compiler/counter/Counter.sol:Counter"]
    creation = (len(counter["bytecode"]) - 2) // 2
    runtime = (len(counter["deployedBytecode"]) - 2) // 2
    assert row.split()[1:] == [str(creation), str(runtime)]
    assert counter["settings"]["optimizer"]["runs"] == 1


def test_cli_flags_runtime_code_over_the_eip170_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 24,600-byte constant returned by a function lives in the runtime code's data.
    blob = "ff" * 24_600
    (tmp_path / "Big.sol").write_text(
        "pragma solidity ^0.8.24;\ncontract Big {\n"
        f'  function blob() external pure returns (bytes memory) {{ return hex"{blob}"; }}\n}}\n'
    )
    assert main(["compile", str(tmp_path / "Big.sol")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "Big.sol:Big" in line)
    assert int(row.split()[2]) > 24_600
    assert "over EIP-170 limit (24576)" in row


def test_cli_compile_defaults_to_the_project_contracts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(PROJECT / "chain")
    assert main(["compile"]) == 0
    assert "contracts/mocks/MockERC20.sol:MockERC20" in capsys.readouterr().out


def test_cli_bad_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or directory" in err


def test_cli_compile_error_exits_1_with_locations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FIXTURES / "broken")]) == 1
    assert "tests/fixtures/compiler/broken/Broken.sol:8:" in capsys.readouterr().err
