"""Fixtures for tests that deploy ``contracts/Reputation.sol`` (a pytest plugin, see conftest).

Shared by ``tests/contracts/test_reputation.py`` (the contract's behaviour) and
``tests/agents/economy/test_reputation_offchain.py`` (the off-chain verifier against the
contract). The roles are fixed account positions, so the two suites agree on who is who.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from txkit import tx_helpers

from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[1]
GAS = 1_000_000
_, ok, _ = tx_helpers(GAS)


@pytest.fixture(scope="module")
def reputation_artifact() -> Any:
    from agentbed.chain.compiler import compile_files

    return compile_files([ROOT / "contracts" / "Reputation.sol"], root=ROOT).get("Reputation")


@pytest.fixture
def admin(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[0]


@pytest.fixture
def issuer(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def other_issuer(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def subject(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[3]


@pytest.fixture
def stranger(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[4]


@pytest.fixture
def reputation(
    chain: Chain, reputation_artifact: Any, admin: LocalAccount, issuer: LocalAccount
) -> Any:
    """A Reputation whose admin is ``admin``, with ``issuer`` registered as an issuer."""
    rep = chain.deploy(reputation_artifact, admin.address, sender=admin)
    ok(chain, admin, rep.functions.registerIssuer(issuer.address))
    return rep
