"""The pytest plugin's fixtures, run in inner pytest sessions through ``pytester``."""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis  # noqa: F401
import pytest

import agentbed.chain.compiler
import agentbed.chain.node
import agentbed.chain.provider  # noqa: F401
from agentbed.chain.compiler.config import default_cache_root

# The imports above are loaded here on purpose: pytester restores sys.modules after each
# in-process inner run, so otherwise every run would import web3, py-evm and hypothesis (whose
# pytest plugin imports it at the end of a session) anew, ~2 s a run.
pytest_plugins = ["pytester"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# pytester points HOME at a temporary directory, which would move the compiler's caches there
# (a cold solc-js install and compile per inner run); keep the real ones.
_CACHE_ROOT = default_cache_root(os.environ)
CACHE_ENV = {
    "TESTBED_CACHE": os.environ.get("TESTBED_CACHE") or str(_CACHE_ROOT),
    "TESTBED_SOLC_CACHE": os.environ.get("TESTBED_SOLC_CACHE") or str(_CACHE_ROOT / "solc"),
}
DEAD = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose inner sessions compile this repository's ``contracts/``."""
    for name, value in CACHE_ENV.items():
        monkeypatch.setenv(name, value)
    pytester.makeini(f"[pytest]\ntestbed_project_root = {PROJECT_ROOT}\n")
    return pytester


def test_chain_is_fresh_in_every_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        f"""
        from agentbed.chain.latency import ConstantLatency

        def test_a_changes_state(chain, accounts):
            chain.transact(accounts[0], to="{DEAD}", value=5)
            chain.automine = False
            chain.latency = ConstantLatency(500)
            chain.transact(accounts[0], to="{DEAD}", value=7)
            assert chain.block_number == 1
            assert chain.balance("{DEAD}") == 5
            assert len(chain.mempool.pending()) == 1

        def test_b_sees_a_fresh_chain(chain, accounts):
            assert chain.block_number == 0
            assert chain.balance("{DEAD}") == 0
            assert chain.nonce(accounts[0].address) == 0
            assert chain.mempool.pending() == []
            assert chain.automine is True
            assert chain.latency.delay_ms(None, "anyone") == 0
        """
    )
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_accounts_w3_and_contracts_fixtures(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        def test_fixtures(chain, accounts, w3, contracts):
            assert accounts == chain.accounts and len(accounts) == 10
            assert w3.eth.accounts == [a.address for a in accounts]
            assert w3.eth.get_balance(accounts[0].address) == chain.balance(accounts[0].address)
            art = contracts.get("MockERC20")
            assert art.name == "MockERC20"
            assert any(item.get("name") == "mint" for item in art.abi)
        """
    )
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_deploy_fixture_returns_a_web3_contract(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        def test_deploy(deploy, accounts, chain):
            token = deploy("MockERC20", "Agent", "AGT", sender=accounts[1])
            assert token.functions.symbol().call() == "AGT"
            token.functions.mint(accounts[2].address, 5).transact(
                {"from": accounts[0].address}
            )
            assert token.functions.balanceOf(accounts[2].address).call() == 5
            assert chain.nonce(accounts[1].address) == 1  # the deployer
        """
    )
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_variant_fixture_runs_one_body_per_variant(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from agentbed.chain.pytest_plugin import variant_fixture

        def _premint(deploy):
            token = deploy("MockERC20", "Credit", "CRED")
            token.functions.mint(token.address, 1_000).transact({"from": token.w3.eth.accounts[0]})
            return token

        token = variant_fixture(
            "token",
            {
                "agent": ("MockERC20", "Agent", "AGT"),
                "credit": _premint,
            },
        )

        SEEN = []

        def test_mint_adds_to_supply(token, accounts):
            supply = token.functions.totalSupply().call()
            token.functions.mint(accounts[1].address, 5).transact({"from": accounts[0].address})
            assert token.functions.totalSupply().call() == supply + 5
            SEEN.append((token.functions.symbol().call(), supply))

        def test_every_variant_ran():
            assert SEEN == [("AGT", 0), ("CRED", 1_000)]
        """
    )
    result = inner.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*test_mint_adds_to_supply?agent? PASSED*", "*test_mint_adds_to_supply?credit? PASSED*"]
    )


def test_variant_fixture_rejects_bad_specs() -> None:
    from agentbed.chain.pytest_plugin import variant_fixture

    with pytest.raises(ValueError, match="at least one variant"):
        variant_fixture("token", {})
    with pytest.raises(TypeError, match="artifact_name"):
        variant_fixture("token", {"bad": "MockERC20"})
    with pytest.raises(ValueError, match="function-scoped"):
        variant_fixture("token", {"ok": ("MockERC20",)}, scope="session")


@pytest.mark.parametrize(
    ("args", "ini_seed", "seed"), [([], None, 0), (["--testbed-seed", "5"], "3", 5), ([], "3", 3)]
)
def test_seed_comes_from_option_or_ini(
    pytester: pytest.Pytester, args: list[str], ini_seed: str | None, seed: int
) -> None:
    from agentbed.chain.node import Chain

    if ini_seed is not None:
        pytester.makeini(f"[pytest]\ntestbed_seed = {ini_seed}\n")
    expected = Chain(seed=seed, accounts=1).accounts[0].address
    pytester.makepyfile(
        f"""
        def test_seed(chain):
            assert chain.seed == {seed}
            assert chain.accounts[0].address == "{expected}"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", *args).assert_outcomes(passed=1)


def test_chain_options_fixture_can_be_overridden(inner: pytest.Pytester) -> None:
    inner.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def testbed_chain_options():
            return {"accounts": 3, "gas_limit": 5_000_000, "chain_id": 31337}
        """
    )
    inner.makepyfile(
        """
        def test_options(chain, w3):
            assert len(chain.accounts) == 3
            assert chain.gas_limit == 5_000_000
            assert w3.eth.chain_id == 31337
        """
    )
    inner.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plugin_loads_nothing_heavy_for_tests_that_do_not_use_it(
    pytester: pytest.Pytester,
) -> None:
    # A subprocess, so modules the outer session imported do not count.
    pytester.makepyfile(
        """
        import sys

        def test_plain():
            assert "agentbed.chain.pytest_plugin" in sys.modules  # the plugin is active...
            light = ("agentbed.chain.node", "agentbed.chain.compiler", "web3", "eth")
            heavy = [m for m in light if m in sys.modules]
            assert heavy == []  # ...but imported no chain, compiler or web3
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_gas_report_option_prints_gas_per_operation(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        def test_mint_twice(deploy, accounts):
            token = deploy("MockERC20", "Agent", "AGT")
            for _ in range(2):
                token.functions.mint(accounts[1].address, 5).transact(
                    {"from": accounts[0].address}
                )
        """
    )
    result = inner.runpytest_inprocess("--gas-report")
    result.assert_outcomes(passed=1)
    result.stdout.re_match_lines(
        [r".*gas report \(agent-testbed\).*", r"contract\s+operation\s+calls\s+min\s+mean\s+max.*"]
    )
    result.stdout.re_match_lines([r"MockERC20\s+\(deploy\)\s+1\s.*", r"MockERC20\s+mint\s+2\s.*"])


def test_without_gas_report_option_nothing_is_printed(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_noop(chain):\n    assert chain.block_number == 0\n")
    result = inner.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    assert "gas report" not in result.stdout.str()


# ---------------------------------------------------------------------------------------------
# Which project the fixtures compile
# ---------------------------------------------------------------------------------------------

LIBRARY_LINK = PROJECT_ROOT / "tests" / "fixtures" / "compiler" / "library_link"


@pytest.fixture
def bare(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester with the real compiler caches and no project configured anywhere."""
    for name, value in CACHE_ENV.items():
        monkeypatch.setenv(name, value)
    return pytester


def test_deploy_without_a_project_fails_with_one_line(bare: pytest.Pytester) -> None:
    bare.makepyfile(
        """
        def test_deploy(deploy):
            deploy("MockERC20", "Agent", "AGT")

        def test_contracts(contracts):
            assert "MockERC20" in contracts

        def test_chain_alone_still_works(chain):
            assert chain.block_number == 0
        """
    )
    result = bare.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    expected = (
        "no agentbed project found: no pyproject.toml with a [tool.agentbed] table in "
        f'{bare.path.resolve()} or its parents; add "[tool.agentbed]" '
        '(sources = ["contracts"]) to your pyproject.toml'
    )
    lines = result.stdout.lines
    for name in ("test_deploy", "test_contracts"):
        header = next(i for i, line in enumerate(lines) if f"ERROR at setup of {name} " in line)
        assert lines[header + 1] == expected
        assert lines[header + 2].startswith(("_", "="))  # the next section: one line only
    assert "Traceback" not in result.stdout.str()
    assert "ProjectNotFound" not in result.stdout.str()  # the message, not a traceback wall


def test_fixtures_compile_only_the_configured_project(bare: pytest.Pytester) -> None:
    (bare.path / "proj" / "contracts").mkdir(parents=True)
    (bare.path / "proj" / "pyproject.toml").write_text(
        "[tool.agentbed]\nlibrary_contracts = false\n"
    )
    (bare.path / "proj" / "contracts" / "Only.sol").write_text(
        "pragma solidity ^0.8.24;\ncontract Only { uint256 public x = 7; }\n"
    )
    bare.makepyfile(
        """
        import pytest
        from agentbed.chain.errors import UnknownContract

        def test_own_contract(deploy, contracts):
            assert deploy("Only").functions.x().call() == 7
            assert [a.name for a in contracts] == ["Only"]

        def test_no_other_projects_contract(deploy):
            with pytest.raises(UnknownContract):
                deploy("MockERC20", "Agent", "AGT")
        """
    )
    bare.runpytest("-p", "no:cacheprovider", "--testbed-project-root", "proj").assert_outcomes(
        passed=2
    )


def test_deploy_fixture_links_libraries_named_deploy_in_the_table(bare: pytest.Pytester) -> None:
    (bare.path / "contracts").mkdir()
    for source in (LIBRARY_LINK / "contracts").iterdir():
        (bare.path / "contracts" / source.name).write_text(source.read_text())
    (bare.path / "pyproject.toml").write_text(
        "[tool.agentbed]\nlibrary_contracts = false\n"
        '[tool.agentbed.libraries]\nMathLib = "deploy"\n'
    )
    bare.makepyfile(
        """
        def test_linked(deploy):
            assert deploy("Calculator").functions.tripled(7).call() == 21

        def test_linked_again_on_a_fresh_snapshot(deploy, chain):
            assert deploy("Calculator").functions.tripled(2).call() == 6
            assert chain.nonce(chain.accounts[0].address) == 2  # library, then calculator
        """
    )
    bare.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_impersonation_and_cheats_last_one_test(inner: pytest.Pytester) -> None:
    whale = "0x000000000000000000000000000000000000bEEF"
    inner.makepyfile(
        f"""
        def test_a_impersonates_and_cheats(chain, impersonate):
            chain.set_balance("{whale}", 10**18)
            assert impersonate("{whale.lower()}") == "{whale}"
            chain.transact("{whale}", to="{DEAD}", value=5)
            chain.set_interval_mining(1000)
            with chain.impersonate("{DEAD}"):
                assert chain.impersonated_accounts == ("{whale}", "{DEAD}")
            assert chain.balance("{DEAD}") == 5

        def test_b_sees_none_of_it(chain):
            assert chain.impersonated_accounts == ()
            assert chain.mining_interval_ms is None and chain.automine
            assert chain.balance("{whale}") == 0 and chain.balance("{DEAD}") == 0
        """
    )
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
