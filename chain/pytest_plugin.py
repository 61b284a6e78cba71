"""pytest plugin: fixtures for testing contracts on the agentbed chain.

Registered through the ``pytest11`` entry point ``agentbed``, so installing the package
is enough. Nothing is compiled and no chain is created until a test asks for a fixture.

Fixtures:

* ``chain`` -- a :class:`agentbed.chain.node.Chain` (automine on), fresh for every test. One base
  chain is built per session; each test runs on a snapshot of it that is reverted afterwards,
  so state a test changes (blocks, balances, the mempool, the clock) is gone in the next test.
* ``accounts`` -- ``chain.accounts``: funded local accounts (``LocalAccount``).
* ``contracts`` -- the project's compiled artifacts (its sources and agentbed's own contracts,
  compiled once per session and cached on disk); ``contracts.get("MockERC20")``.
* ``deploy`` -- ``deploy("MockERC20", "Agent", "AGT", sender=accounts[1])`` deploys through the
  mempool and returns a web3 contract bound to the chain; libraries named in the project's
  ``[tool.agentbed.libraries]`` are linked (``"deploy"`` ones deployed first).
* ``w3`` -- ``chain.w3``, a ``Web3`` over the chain's provider.
* ``impersonate`` -- ``impersonate(address)`` lets the test send txs from ``address`` without
  its key (``chain.transact(address, ...)``, ``eth_sendTransaction``) until the test ends;
  ``with chain.impersonate(address):`` scopes it to a block instead. Cheat codes such as
  ``chain.set_balance`` are ``Chain`` methods (see :mod:`agentbed.chain.cheats`).

Gas report: ``--gas-report`` records every transaction the fixtures' chain mines and prints gas
per contract operation (calls, min / mean / max, reverted) after the run; ``testbed gas`` runs
the project's contract suites with it.

The project is the nearest ``pyproject.toml`` with a ``[tool.agentbed]`` table above the start
directory: ``--testbed-project-root DIR`` (relative to the invocation directory) or the ini
option ``testbed_project_root`` (relative to the rootdir) when given, else the rootdir and then
the invocation directory. Without one, a test using ``deploy`` or ``contracts`` fails with one
line saying where it looked; nothing is taken from another project.

Options: ``--testbed-seed N`` (or the ini option ``testbed_seed``; default 0) seeds the chain
(account keys, prevrandao, ordering). Override the session-scoped fixture
``testbed_chain_options`` (a dict of ``Chain`` keyword arguments) in a ``conftest.py`` to change
anything else about the base chain.

Running one behaviour suite over several contract variants::

    from agentbed.chain.pytest_plugin import variant_fixture

    def _preminted(deploy):
        token = deploy("MockERC20", "Credit", "CRED")
        token.functions.mint(token.address, 1_000).transact({"from": token.w3.eth.accounts[0]})
        return token

    token = variant_fixture(
        "token",
        {"mock": ("MockERC20", "Agent", "AGT"), "preminted": _preminted},
    )

    def test_transfer_moves_balance(token, accounts): ...  # runs once per variant

Each variant is either ``(artifact_name, *constructor_args)`` or a callable that receives the
``deploy`` fixture and returns the contract. The test ids carry the variant names
(``test_transfer_moves_balance[mock]``). The same effect can be had by hand with
``@pytest.fixture(params=[...])`` and ``request.param`` passed to ``deploy``.

Note for ``pytester`` users: pytester points ``HOME`` at a temporary directory, which moves the
compiler's caches; set ``TESTBED_CACHE`` / ``TESTBED_SOLC_CACHE`` to the real ones in inner
sessions (see ``tests/chain/test_pytest_plugin.py``), or each inner run installs solc-js afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3
    from web3.contract import Contract

    from agentbed.chain.compiler import Project
    from agentbed.chain.node import Chain

SEED_OPTION = "--testbed-seed"
SEED_INI = "testbed_seed"
ROOT_OPTION = "--testbed-project-root"
ROOT_INI = "testbed_project_root"
GAS_OPTION = "--gas-report"
_GAS_KEY = pytest.StashKey[Any]()  # the GasReport listening to the base chain
# Why no project was found (ProjectNotFound naming every start, or ProjectConfigError).
_PROJECT_ERROR_KEY = pytest.StashKey[Exception]()


class Deployer(Protocol):
    """The ``deploy`` fixture's call signature (``Chain.deploy``)."""

    def __call__(
        self,
        artifact: Any,
        *args: Any,
        sender: LocalAccount | str | None = None,
        value: int = 0,
        gas: int | None = None,
        libraries: Mapping[str, str] | None = None,
    ) -> Contract: ...


VariantSpec = Sequence[Any] | Callable[[Deployer], Any]
"""``(artifact_name, *constructor_args)`` or ``lambda deploy: ...`` returning the contract."""


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--testbed-seed``, ``--testbed-project-root`` and their ini options."""
    group = parser.getgroup("agentbed", "agentbed chain fixtures")
    group.addoption(
        SEED_OPTION,
        action="store",
        type=int,
        default=None,
        dest="testbed_seed",
        help="root seed of the test chain (accounts, prevrandao, ordering); default 0 "
        f"or the ini value {SEED_INI}",
    )
    group.addoption(
        ROOT_OPTION,
        action="store",
        default=None,
        dest="testbed_project_root",
        metavar="DIR",
        help="directory to find the agentbed project from (the nearest pyproject.toml with a "
        f"[tool.agentbed] table above it); default: the ini value {ROOT_INI}, else the rootdir, "
        "else the invocation directory",
    )
    group.addoption(
        GAS_OPTION,
        action="store_true",
        default=False,
        dest="testbed_gas_report",
        help="print gas used per contract operation by transactions the chain fixture mined",
    )
    parser.addini(SEED_INI, "root seed of the agentbed test chain", default="0")
    parser.addini(
        ROOT_INI,
        "directory to find the agentbed project from (relative to the rootdir); default: the "
        "rootdir, else the invocation directory",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Silence web3's import-time notice about ``websockets.legacy``, which no fixture uses.

    web3 imports the deprecated module whenever it loads, so every user suite would print the
    warning; it says nothing about the user's code.
    """
    config.addinivalue_line(
        "filterwarnings", "ignore:websockets.legacy is deprecated:DeprecationWarning"
    )


def _seed(config: pytest.Config) -> int:
    cli = config.getoption("testbed_seed")
    if cli is not None:
        return int(cli)
    raw = str(config.getini(SEED_INI)).strip() or "0"
    try:
        return int(raw, 0)
    except ValueError:
        raise pytest.UsageError(f"{SEED_INI} must be an integer, got {raw!r}") from None


def _project_starts(config: pytest.Config) -> tuple[Path, ...]:
    """Where the project is looked for, in order (the option, else the ini value, else both)."""
    option = config.getoption("testbed_project_root")
    if option:
        return ((Path(config.invocation_params.dir) / option).resolve(),)
    raw = str(config.getini(ROOT_INI)).strip()
    if raw:
        return ((Path(str(config.rootpath)) / raw).resolve(),)
    starts = (Path(str(config.rootpath)), Path(config.invocation_params.dir))
    return tuple(dict.fromkeys(start.resolve() for start in starts))


def _project_root(config: pytest.Config) -> str:
    """The project's root, or (none found) the first start, so the chain reports it on use.

    Why nothing was found is kept in the config's stash for the fixtures' one-line failure.
    """
    from agentbed.chain.compiler import ProjectConfigError, ProjectNotFound, find_project

    starts = _project_starts(config)
    try:
        return str(find_project(starts).root)
    except (ProjectNotFound, ProjectConfigError) as err:
        config.stash[_PROJECT_ERROR_KEY] = err
        return str(starts[0])


def _require_project(chain: Chain, config: pytest.Config) -> Project:
    """The chain's project; a test without one fails with one line, not a traceback."""
    from agentbed.chain.compiler import ProjectConfigError, ProjectNotFound

    try:
        return chain.project
    except ProjectNotFound as err:
        # The discovery's error names every directory searched; the chain's only its start.
        message = str(config.stash.get(_PROJECT_ERROR_KEY, err))
    except ProjectConfigError as err:
        message = str(err)
    # Outside the except block, so no "during handling of ..." chain is printed with it.
    pytest.fail(message, pytrace=False)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def testbed_chain_options() -> dict[str, Any]:
    """Extra ``Chain`` keyword arguments for the session's base chain (override to change).

    ``seed`` and ``project_root`` come from the command line / ini options unless given here.
    """
    return {}


@pytest.fixture(scope="session")
def testbed_base_chain(
    request: pytest.FixtureRequest, testbed_chain_options: dict[str, Any]
) -> Chain:
    """The session's base chain; tests get it through ``chain``, on a reverted snapshot."""
    from agentbed.chain.node import Chain

    options: dict[str, Any] = {"seed": _seed(request.config)}
    options.update(testbed_chain_options)
    if options.get("project_root") is None:
        options["project_root"] = _project_root(request.config)
    base = Chain(**options)
    if request.config.getoption("testbed_gas_report"):
        from agentbed.chain.gas import GasReport

        report = GasReport(base.abi)
        base.add_block_listener(report)
        request.config.stash[_GAS_KEY] = report
    return base


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the gas report when ``--gas-report`` was given and a chain was used."""
    if not config.getoption("testbed_gas_report", default=False):
        return
    terminalreporter.section("gas report (agent-testbed)")
    report = config.stash.get(_GAS_KEY, None)
    if report is None:
        terminalreporter.write_line("no test used the chain fixture; nothing was recorded")
        return
    from agentbed.chain.gas import render

    terminalreporter.write_line(render(report.rows()))


@pytest.fixture
def chain(testbed_base_chain: Chain) -> Iterator[Chain]:
    """A chain that is fresh for this test (snapshot before, revert after).

    Automine is on unless ``testbed_chain_options`` turns it off.
    """
    base = testbed_base_chain
    # The snapshot covers policy, latency, coinbase and automine too, so no knob a test
    # changes leaks into the next one; impersonation and interval mining are node settings
    # a revert keeps (as on anvil), so they are put back by hand.
    snapshot_id = base.snapshot()
    impersonated, interval = base.impersonated_accounts, base.mining_interval_ms
    try:
        yield base
    finally:
        base.revert(snapshot_id)
        for address in base.impersonated_accounts:
            if address not in impersonated:
                base.stop_impersonating_account(address)
        base.mining_interval_ms = interval


@pytest.fixture
def accounts(chain: Chain) -> tuple[LocalAccount, ...]:
    """The chain's funded local accounts."""
    return chain.accounts


@pytest.fixture
def w3(chain: Chain) -> Web3:
    """A ``Web3`` over the chain's in-process provider."""
    return chain.w3


@pytest.fixture
def impersonate(chain: Chain) -> Callable[[str], str]:
    """``impersonate(address)``: txs from ``address`` need no key until the test ends.

    Returns the checksummed address. The ``chain`` fixture stops it after the test.
    """

    from eth_utils import to_checksum_address

    def start(address: str) -> str:
        chain.impersonate_account(address)
        return to_checksum_address(address)

    return start


@pytest.fixture(scope="session")
def contracts(request: pytest.FixtureRequest, testbed_base_chain: Chain) -> Any:
    """The project's compiled contracts (compiled once per session; cached on disk)."""
    _require_project(testbed_base_chain, request.config)
    return testbed_base_chain.artifacts


@pytest.fixture
def deploy(request: pytest.FixtureRequest, chain: Chain) -> Deployer:
    """Deploy a compiled contract by name: ``deploy("MockERC20", "Agent", "AGT")``.

    Keyword arguments ``sender``, ``value``, ``gas`` and ``libraries`` are passed to
    ``Chain.deploy``; the project's ``[tool.agentbed.libraries]`` apply without them.
    """
    _require_project(chain, request.config)  # loads the table, so its libraries apply
    return chain.deploy


def variant_fixture(
    name: str,
    variants: Mapping[str, VariantSpec],
    *,
    scope: str = "function",
) -> Any:
    """A parametrized fixture deploying one contract per variant.

    Assign the result to a module or conftest attribute (any name; the fixture is named
    ``name``). Tests that request ``name`` run once per variant, with the variant's name in
    the test id.

    Args:
        name: The fixture name tests request.
        variants: Variant name -> ``(artifact_name, *constructor_args)`` or a callable that
            takes the ``deploy`` fixture and returns the deployed contract (or anything).
        scope: pytest scope; only ``"function"`` is supported, because ``chain`` is reverted
            after every test.

    Returns:
        The fixture function.
    """
    if scope != "function":
        raise ValueError("variant fixtures must be function-scoped (chain is reset per test)")
    if not variants:
        raise ValueError(f"variant_fixture {name!r} needs at least one variant")
    for variant, spec in variants.items():
        if not callable(spec) and (isinstance(spec, str) or not spec):
            raise TypeError(
                f"variant {variant!r}: give (artifact_name, *args) or a callable, got {spec!r}"
            )
    ids = list(variants)

    def _fixture(request: pytest.FixtureRequest, deploy: Deployer) -> Any:
        spec = variants[request.param]
        if callable(spec):
            return spec(deploy)
        artifact, *args = spec
        return deploy(artifact, *args)

    _fixture.__doc__ = f"Fixture {name!r}: one deployment per variant ({', '.join(ids)})."
    return pytest.fixture(params=ids, ids=ids, name=name)(_fixture)
