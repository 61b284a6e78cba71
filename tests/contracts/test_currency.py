"""Behaviour of the agent currencies: ``AgentCurrency`` and non-transferable ``CommunityCurrency``.

The shared suite runs against both variants (``currency`` fixture); tests that only apply to one
variant request ``agent_currency`` or ``community_currency``. Every call that should fail is sent
as a real transaction with a fixed gas limit, so it is mined with status 0 and its decoded revert
reason is checked by custom-error name and arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from txkit import events, tx_helpers

from agentbed.chain.compiler import compile_files
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[2]
CURRENCY_SOURCES = (
    ROOT / "contracts" / "AgentCurrency.sol",
    ROOT / "contracts" / "CommunityCurrency.sol",
)
VARIANTS = ("AgentCurrency", "CommunityCurrency")
GAS = 300_000
CAP = 1_000_000 * 10**18
MAX_UINT = 2**256 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MINTER_ROLE = "0x" + keccak(text="MINTER_ROLE").hex()
ADMIN_ROLE = "0x" + "00" * 32

# A stand-in for the staking / escrow / settlement contracts that hold and move the currency.
HOLDER_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface ICurrency {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function burn(uint256 amount) external;
    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function allowance(address owner, address spender) external view returns (uint256);
}

contract CurrencyHolder {
    function push(ICurrency token, address to, uint256 amount) external {
        token.transfer(to, amount);
    }

    function pull(ICurrency token, address from, uint256 amount) external {
        token.transferFrom(from, address(this), amount);
    }

    function move(ICurrency token, address from, address to, uint256 amount) external {
        token.transferFrom(from, to, amount);
    }

    function burn(ICurrency token, uint256 amount) external {
        token.burn(amount);
    }

    /// Everything the stateful test checks, in one call: supply, balances, allowances[i][j].
    function read(
        ICurrency token,
        address[] calldata holders,
        address[] calldata owners,
        address[] calldata spenders
    )
        external
        view
        returns (uint256 supply, uint256[] memory balances, uint256[] memory allowed)
    {
        supply = token.totalSupply();
        balances = new uint256[](holders.length);
        for (uint256 i = 0; i < holders.length; i++) {
            balances[i] = token.balanceOf(holders[i]);
        }
        allowed = new uint256[](owners.length * spenders.length);
        for (uint256 i = 0; i < owners.length; i++) {
            for (uint256 j = 0; j < spenders.length; j++) {
                allowed[i * spenders.length + j] = token.allowance(owners[i], spenders[j]);
            }
        }
    }
}
"""


# ---------------------------------------------------------------------------------------------
# Helpers (also used by test_currency_stateful.py)
# ---------------------------------------------------------------------------------------------


def compile_currency_artifacts(workdir: Path) -> dict[str, Any]:
    """Compile the two currencies and the test-only ``CurrencyHolder``; name -> artifact.

    Only these files are compiled, so a broken contract elsewhere in ``contracts/`` does not
    break the currency tests.
    """
    arts = compile_files(CURRENCY_SOURCES)
    holder_path = workdir / "CurrencyHolder.sol"
    holder_path.write_text(HOLDER_SOURCE)
    holder = compile_files([holder_path])
    return {
        "AgentCurrency": arts.get("AgentCurrency"),
        "CommunityCurrency": arts.get("CommunityCurrency"),
        "CurrencyHolder": holder.get("CurrencyHolder"),
    }


@dataclass(frozen=True, slots=True)
class Roles:
    """Who is who: the admin grants roles, the minter is the treasury, the rest are agents."""

    admin: LocalAccount
    minter: LocalAccount
    alice: LocalAccount
    bob: LocalAccount
    carol: LocalAccount


def roles_of(accounts: tuple[LocalAccount, ...]) -> Roles:
    return Roles(*accounts[:5])


send, ok, reverts = tx_helpers(GAS)


def deploy_currency(
    chain: Chain, art: Any, roles: Roles, *, cap: int = CAP, name: str = "Agent Credit"
) -> Any:
    token = chain.deploy(art, name, "CRED", roles.admin.address, cap, sender=roles.admin)
    ok(chain, roles.admin, token.functions.grantRole(MINTER_ROLE, roles.minter.address))
    return token


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compile_currency_artifacts(tmp_path_factory.mktemp("currency"))


@pytest.fixture
def roles(accounts: tuple[LocalAccount, ...]) -> Roles:
    return roles_of(accounts)


@pytest.fixture(params=VARIANTS)
def currency(request: pytest.FixtureRequest, chain: Chain, artifacts, roles) -> Any:
    """Each variant, capped at ``CAP``, with ``roles.minter`` holding ``MINTER_ROLE``."""
    return deploy_currency(chain, artifacts[request.param], roles)


@pytest.fixture
def agent_currency(chain: Chain, artifacts, roles) -> Any:
    return deploy_currency(chain, artifacts["AgentCurrency"], roles)


@pytest.fixture
def community_currency(chain: Chain, artifacts, roles) -> Any:
    return deploy_currency(chain, artifacts["CommunityCurrency"], roles)


@pytest.fixture
def holder(chain: Chain, artifacts, roles) -> Any:
    """A contract that holds and moves the currency (approved on the community variant)."""
    return chain.deploy(artifacts["CurrencyHolder"], sender=roles.admin)


@pytest.fixture
def approved_holder(chain: Chain, currency, holder, roles) -> Any:
    """``holder``, approved as a contract when ``currency`` is the community variant."""
    if _is_community(currency):
        ok(chain, roles.admin, currency.functions.approveContract(holder.address))
    return holder


@pytest.fixture
def funded(chain: Chain, currency, roles) -> Any:
    """``currency`` with 1,000 units minted to alice."""
    ok(chain, roles.minter, currency.functions.mint(roles.alice.address, 1_000))
    return currency


def _is_community(token: Any) -> bool:
    return any(item.get("name") == "approveContract" for item in token.abi)


def balance(token: Any, who: Any) -> int:
    address = who if isinstance(who, str) else who.address
    return int(token.functions.balanceOf(address).call())


# ---------------------------------------------------------------------------------------------
# Shared suite: deployment, minting, cap, burning
# ---------------------------------------------------------------------------------------------


def test_deployment_sets_metadata_roles_and_cap(currency, roles):
    assert currency.functions.name().call() == "Agent Credit"
    assert currency.functions.symbol().call() == "CRED"
    assert currency.functions.decimals().call() == 18
    assert currency.functions.totalSupply().call() == 0
    assert currency.functions.cap().call() == CAP
    assert currency.functions.hasRole(ADMIN_ROLE, roles.admin.address).call()
    assert currency.functions.hasRole(MINTER_ROLE, roles.minter.address).call()
    assert not currency.functions.hasRole(MINTER_ROLE, roles.admin.address).call()


@pytest.mark.parametrize("variant", VARIANTS)
def test_revert_when_admin_is_zero(chain, artifacts, roles, variant):
    zero = "0x" + "00" * 20
    with pytest.raises(ExecutionReverted, match=r"CurrencyInvalidAdmin\(0x0{40}\)"):
        chain.deploy(artifacts[variant], "X", "X", zero, 0, sender=roles.admin, gas=3_000_000)


def test_mint_by_minter_credits_and_emits(chain, currency, roles):
    rec = ok(chain, roles.minter, currency.functions.mint(roles.alice.address, 250))
    assert balance(currency, roles.alice) == 250
    assert currency.functions.totalSupply().call() == 250
    zero = "0x" + "00" * 20
    assert events(rec) == [
        ("Transfer", {"from": zero, "to": roles.alice.address, "value": 250}),
        ("Minted", {"minter": roles.minter.address, "to": roles.alice.address, "amount": 250}),
    ]


@pytest.mark.parametrize("who", ["admin", "alice", "bob"])
def test_revert_when_mint_by_non_minter(chain, currency, roles, who):
    caller = getattr(roles, who)
    reason = reverts(chain, caller, currency.functions.mint(caller.address, 1))
    assert reason == f"AccessControlUnauthorizedAccount({caller.address}, {MINTER_ROLE})"
    assert currency.functions.totalSupply().call() == 0


def test_mint_after_minter_role_revoked_reverts(chain, currency, roles):
    ok(chain, roles.admin, currency.functions.revokeRole(MINTER_ROLE, roles.minter.address))
    reason = reverts(chain, roles.minter, currency.functions.mint(roles.alice.address, 1))
    assert reason == f"AccessControlUnauthorizedAccount({roles.minter.address}, {MINTER_ROLE})"


def test_revert_when_mint_to_zero_address(chain, currency, roles):
    zero = "0x" + "00" * 20
    reason = reverts(chain, roles.minter, currency.functions.mint(zero, 1))
    assert reason == f"ERC20InvalidReceiver({zero})"


def test_cap_can_be_reached_exactly_but_not_passed(chain, currency, roles):
    ok(chain, roles.minter, currency.functions.mint(roles.alice.address, CAP - 10))
    ok(chain, roles.minter, currency.functions.mint(roles.bob.address, 10))  # exactly the cap
    assert currency.functions.totalSupply().call() == CAP
    reason = reverts(chain, roles.minter, currency.functions.mint(roles.bob.address, 1))
    assert reason == f"CurrencyCapExceeded({CAP + 1}, {CAP})"
    assert balance(currency, roles.bob) == 10


def test_single_mint_above_cap_reverts_with_requested_supply(chain, currency, roles):
    reason = reverts(chain, roles.minter, currency.functions.mint(roles.alice.address, CAP + 1))
    assert reason == f"CurrencyCapExceeded({CAP + 1}, {CAP})"


def test_burning_frees_room_under_the_cap(chain, currency, roles):
    ok(chain, roles.minter, currency.functions.mint(roles.alice.address, CAP))
    ok(chain, roles.alice, currency.functions.burn(5))
    ok(chain, roles.minter, currency.functions.mint(roles.bob.address, 5))
    assert currency.functions.totalSupply().call() == CAP


@pytest.mark.parametrize("variant", VARIANTS)
def test_cap_zero_means_uncapped(chain, artifacts, roles, variant):
    token = deploy_currency(chain, artifacts[variant], roles, cap=0)
    ok(chain, roles.minter, token.functions.mint(roles.alice.address, MAX_UINT))
    assert token.functions.totalSupply().call() == MAX_UINT
    reason = reverts(chain, roles.minter, token.functions.mint(roles.alice.address, 1))
    assert reason == "Panic(0x11): arithmetic underflow or overflow"


def test_burn_destroys_own_tokens_and_emits(chain, funded, roles):
    rec = ok(chain, roles.alice, funded.functions.burn(300))
    assert balance(funded, roles.alice) == 700
    assert funded.functions.totalSupply().call() == 700
    zero = "0x" + "00" * 20
    assert events(rec) == [
        ("Transfer", {"from": roles.alice.address, "to": zero, "value": 300}),
        ("Burned", {"burner": roles.alice.address, "from": roles.alice.address, "amount": 300}),
    ]


def test_revert_when_burn_exceeds_balance(chain, funded, roles):
    reason = reverts(chain, roles.alice, funded.functions.burn(1_001))
    assert reason == f"ERC20InsufficientBalance({roles.alice.address}, 1000, 1001)"
    reason = reverts(chain, roles.bob, funded.functions.burn(1))
    assert reason == f"ERC20InsufficientBalance({roles.bob.address}, 0, 1)"


def test_burn_from_spends_allowance_and_emits(chain, funded, roles):
    ok(chain, roles.alice, funded.functions.approve(roles.bob.address, 400))
    rec = ok(chain, roles.bob, funded.functions.burnFrom(roles.alice.address, 150))
    assert balance(funded, roles.alice) == 850
    assert funded.functions.allowance(roles.alice.address, roles.bob.address).call() == 250
    assert funded.functions.totalSupply().call() == 850
    assert events(rec)[-1] == (
        "Burned",
        {"burner": roles.bob.address, "from": roles.alice.address, "amount": 150},
    )


def test_burn_from_with_infinite_allowance_keeps_it(chain, funded, roles):
    ok(chain, roles.alice, funded.functions.approve(roles.bob.address, MAX_UINT))
    ok(chain, roles.bob, funded.functions.burnFrom(roles.alice.address, 150))
    assert funded.functions.allowance(roles.alice.address, roles.bob.address).call() == MAX_UINT


@pytest.mark.parametrize("who", ["minter", "admin", "bob"])
def test_revert_when_burn_from_without_allowance(chain, funded, roles, who):
    caller = getattr(roles, who)
    reason = reverts(chain, caller, funded.functions.burnFrom(roles.alice.address, 1))
    assert reason == f"ERC20InsufficientAllowance({caller.address}, 0, 1)"
    assert balance(funded, roles.alice) == 1_000


def test_revert_when_burn_from_exceeds_allowance(chain, funded, roles):
    ok(chain, roles.alice, funded.functions.approve(roles.bob.address, 10))
    reason = reverts(chain, roles.bob, funded.functions.burnFrom(roles.alice.address, 11))
    assert reason == f"ERC20InsufficientAllowance({roles.bob.address}, 10, 11)"


# ---------------------------------------------------------------------------------------------
# Shared suite: approvals and transfers through a contract (allowed on both variants)
# ---------------------------------------------------------------------------------------------


def test_approve_sets_allowance_and_emits(chain, currency, roles):
    rec = ok(chain, roles.alice, currency.functions.approve(roles.bob.address, 77))
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 77
    assert events(rec) == [
        ("Approval", {"owner": roles.alice.address, "spender": roles.bob.address, "value": 77})
    ]


def test_agent_pays_approved_contract_and_contract_pays_agent(
    chain, funded, approved_holder, roles
):
    token, vault = funded, approved_holder
    ok(chain, roles.alice, token.functions.transfer(vault.address, 100))
    ok(chain, roles.alice, token.functions.approve(vault.address, 200))
    rec = ok(chain, roles.bob, vault.functions.pull(token.address, roles.alice.address, 200))
    assert ("Transfer", {"from": roles.alice.address, "to": vault.address, "value": 200}) in (
        events(rec)
    )
    rec = ok(chain, roles.bob, vault.functions.push(token.address, roles.bob.address, 250))
    assert events(rec) == [
        ("Transfer", {"from": vault.address, "to": roles.bob.address, "value": 250})
    ]
    assert balance(token, roles.alice) == 700
    assert balance(token, vault.address) == 50
    assert balance(token, roles.bob) == 250
    assert token.functions.totalSupply().call() == 1_000


def test_contract_can_burn_its_own_tokens(chain, funded, approved_holder, roles):
    ok(chain, roles.alice, funded.functions.transfer(approved_holder.address, 100))
    ok(chain, roles.bob, approved_holder.functions.burn(funded.address, 40))
    assert balance(funded, approved_holder.address) == 60
    assert funded.functions.totalSupply().call() == 960


def test_revert_when_transfer_from_without_allowance(chain, funded, approved_holder, roles):
    call = approved_holder.functions.pull(funded.address, roles.alice.address, 1)
    reason = reverts(chain, roles.bob, call)
    assert reason == f"ERC20InsufficientAllowance({approved_holder.address}, 0, 1)"


# ---------------------------------------------------------------------------------------------
# Shared suite: access control on every state-changing function
# ---------------------------------------------------------------------------------------------

AccessCase = Callable[[Any, Roles], Any]

ROLE_GATED: dict[str, tuple[AccessCase, str, tuple[str, ...]]] = {
    "mint": (lambda t, r: t.functions.mint(r.alice.address, 1), MINTER_ROLE, ("admin", "alice")),
    "grantRole": (
        lambda t, r: t.functions.grantRole(MINTER_ROLE, r.alice.address),
        ADMIN_ROLE,
        ("minter", "alice"),
    ),
    "revokeRole": (
        lambda t, r: t.functions.revokeRole(MINTER_ROLE, r.minter.address),
        ADMIN_ROLE,
        ("minter", "alice"),
    ),
    "grantAdmin": (
        lambda t, r: t.functions.grantRole(ADMIN_ROLE, r.alice.address),
        ADMIN_ROLE,
        ("minter", "alice"),
    ),
}


@pytest.mark.parametrize(
    ("function", "who"),
    [(fn, who) for fn, (_, _, callers) in ROLE_GATED.items() for who in callers],
)
def test_revert_when_role_gated_function_called_without_role(chain, currency, roles, function, who):
    build, role, _ = ROLE_GATED[function]
    caller = getattr(roles, who)
    reason = reverts(chain, caller, build(currency, roles))
    assert reason == f"AccessControlUnauthorizedAccount({caller.address}, {role})"
    assert currency.functions.hasRole(MINTER_ROLE, roles.minter.address).call()
    assert not currency.functions.hasRole(MINTER_ROLE, roles.alice.address).call()
    assert not currency.functions.hasRole(ADMIN_ROLE, roles.alice.address).call()


@pytest.mark.parametrize("who", ["admin", "alice"])
def test_revert_when_renouncing_someone_elses_role(chain, currency, roles, who):
    caller = getattr(roles, who)
    call = currency.functions.renounceRole(MINTER_ROLE, roles.minter.address)
    assert reverts(chain, caller, call) == "AccessControlBadConfirmation()"
    assert currency.functions.hasRole(MINTER_ROLE, roles.minter.address).call()


def test_minter_can_renounce_its_role(chain, currency, roles):
    call = currency.functions.renounceRole(MINTER_ROLE, roles.minter.address)
    rec = ok(chain, roles.minter, call)
    assert events(rec) == [
        (
            "RoleRevoked",
            {
                "role": bytes.fromhex(MINTER_ROLE[2:]),
                "account": roles.minter.address,
                "sender": roles.minter.address,
            },
        )
    ]
    assert not currency.functions.hasRole(MINTER_ROLE, roles.minter.address).call()


@pytest.mark.parametrize("who", ["admin", "minter", "bob"])
def test_revert_when_transfer_from_by_unapproved_spender(chain, funded, roles, who):
    caller = getattr(roles, who)
    call = funded.functions.transferFrom(roles.alice.address, caller.address, 1)
    reason = reverts(chain, caller, call)
    assert reason == f"ERC20InsufficientAllowance({caller.address}, 0, 1)"


# ---------------------------------------------------------------------------------------------
# AgentCurrency only: free transfers between agents
# ---------------------------------------------------------------------------------------------


def test_agent_currency_transfer_between_agents(chain, agent_currency, roles):
    token = agent_currency
    ok(chain, roles.minter, token.functions.mint(roles.alice.address, 100))
    rec = ok(chain, roles.alice, token.functions.transfer(roles.bob.address, 60))
    assert events(rec) == [
        ("Transfer", {"from": roles.alice.address, "to": roles.bob.address, "value": 60})
    ]
    assert (balance(token, roles.alice), balance(token, roles.bob)) == (40, 60)


def test_agent_currency_transfer_from_spends_allowance(chain, agent_currency, roles):
    token = agent_currency
    ok(chain, roles.minter, token.functions.mint(roles.alice.address, 100))
    ok(chain, roles.alice, token.functions.approve(roles.bob.address, 70))
    call = token.functions.transferFrom(roles.alice.address, roles.carol.address, 50)
    rec = ok(chain, roles.bob, call)
    assert events(rec) == [
        ("Transfer", {"from": roles.alice.address, "to": roles.carol.address, "value": 50})
    ]
    assert token.functions.allowance(roles.alice.address, roles.bob.address).call() == 20
    assert (balance(token, roles.alice), balance(token, roles.carol)) == (50, 50)
    reason = reverts(chain, roles.bob, call)
    assert reason == f"ERC20InsufficientAllowance({roles.bob.address}, 20, 50)"


def test_revert_when_agent_currency_transfer_exceeds_balance(chain, agent_currency, roles):
    token = agent_currency
    ok(chain, roles.minter, token.functions.mint(roles.alice.address, 100))
    reason = reverts(chain, roles.alice, token.functions.transfer(roles.bob.address, 101))
    assert reason == f"ERC20InsufficientBalance({roles.alice.address}, 100, 101)"


def test_agent_currency_has_no_contract_registry(agent_currency):
    names = {item.get("name") for item in agent_currency.abi}
    assert "approveContract" not in names and "transfer" in names


# ---------------------------------------------------------------------------------------------
# CommunityCurrency only: transfers need an approved contract on one side
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def community(chain, community_currency, roles) -> Any:
    ok(chain, roles.minter, community_currency.functions.mint(roles.alice.address, 1_000))
    return community_currency


def test_revert_when_community_transfer_between_agents(chain, community, roles):
    reason = reverts(chain, roles.alice, community.functions.transfer(roles.bob.address, 1))
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {roles.bob.address})"
    reason = reverts(chain, roles.alice, community.functions.transfer(roles.alice.address, 1))
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {roles.alice.address})"
    assert balance(community, roles.alice) == 1_000


def test_revert_when_community_transfer_from_between_agents(chain, community, roles):
    ok(chain, roles.alice, community.functions.approve(roles.bob.address, 10))
    call = community.functions.transferFrom(roles.alice.address, roles.bob.address, 10)
    reason = reverts(chain, roles.bob, call)
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {roles.bob.address})"
    assert community.functions.allowance(roles.alice.address, roles.bob.address).call() == 10


def test_revert_when_community_transfer_to_unapproved_contract(chain, community, holder, roles):
    reason = reverts(chain, roles.alice, community.functions.transfer(holder.address, 1))
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {holder.address})"


def test_approved_contract_cannot_move_funds_between_agents(chain, community, holder, roles):
    # The rule looks at the token's from/to, not at the caller.
    ok(chain, roles.admin, community.functions.approveContract(holder.address))
    ok(chain, roles.alice, community.functions.approve(holder.address, 10))
    call = holder.functions.move(community.address, roles.alice.address, roles.bob.address, 10)
    reason = reverts(chain, roles.carol, call)
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {roles.bob.address})"


def test_approve_contract_emits_and_unlocks_transfers(chain, community, holder, roles):
    rec = ok(chain, roles.admin, community.functions.approveContract(holder.address))
    assert events(rec) == [
        ("ContractApproved", {"account": holder.address, "admin": roles.admin.address})
    ]
    assert community.functions.isApprovedContract(holder.address).call()
    ok(chain, roles.alice, community.functions.transfer(holder.address, 30))
    ok(chain, roles.carol, holder.functions.push(community.address, roles.bob.address, 20))
    assert (balance(community, holder.address), balance(community, roles.bob)) == (10, 20)


def test_transfers_between_approved_contracts_succeed(chain, community, holder, artifacts, roles):
    other = chain.deploy(artifacts["CurrencyHolder"], sender=roles.admin)
    for vault in (holder, other):
        ok(chain, roles.admin, community.functions.approveContract(vault.address))
    ok(chain, roles.alice, community.functions.transfer(holder.address, 30))
    ok(chain, roles.carol, holder.functions.push(community.address, other.address, 30))
    assert balance(community, other.address) == 30


def test_revoked_contract_is_restricted_again(chain, community, holder, roles):
    ok(chain, roles.admin, community.functions.approveContract(holder.address))
    ok(chain, roles.alice, community.functions.transfer(holder.address, 30))
    rec = ok(chain, roles.admin, community.functions.revokeContract(holder.address))
    assert events(rec) == [
        ("ContractRevoked", {"account": holder.address, "admin": roles.admin.address})
    ]
    assert not community.functions.isApprovedContract(holder.address).call()
    reason = reverts(chain, roles.alice, community.functions.transfer(holder.address, 1))
    assert reason == f"CurrencyTransferRestricted({roles.alice.address}, {holder.address})"
    call = holder.functions.push(community.address, roles.bob.address, 1)
    reason = reverts(chain, roles.carol, call)
    assert reason == f"CurrencyTransferRestricted({holder.address}, {roles.bob.address})"
    # Burning stays possible, so a revoked contract's balance is not stuck forever.
    ok(chain, roles.carol, holder.functions.burn(community.address, 30))
    assert community.functions.totalSupply().call() == 970


def test_community_mint_and_burn_are_not_restricted(chain, community, roles):
    ok(chain, roles.minter, community.functions.mint(roles.bob.address, 5))
    ok(chain, roles.bob, community.functions.burn(5))
    ok(chain, roles.alice, community.functions.approve(roles.bob.address, 7))
    ok(chain, roles.bob, community.functions.burnFrom(roles.alice.address, 7))
    assert community.functions.totalSupply().call() == 993


def test_revert_when_approving_an_address_without_code(chain, community, roles):
    call = community.functions.approveContract(roles.bob.address)
    reason = reverts(chain, roles.admin, call)
    assert reason == f"CurrencyNotAContract({roles.bob.address})"


def test_revert_when_approving_twice_or_revoking_unknown(chain, community, holder, roles):
    reason = reverts(chain, roles.admin, community.functions.revokeContract(holder.address))
    assert reason == f"CurrencyContractNotApproved({holder.address})"
    ok(chain, roles.admin, community.functions.approveContract(holder.address))
    reason = reverts(chain, roles.admin, community.functions.approveContract(holder.address))
    assert reason == f"CurrencyContractAlreadyApproved({holder.address})"


@pytest.mark.parametrize("function", ["approveContract", "revokeContract"])
@pytest.mark.parametrize("who", ["minter", "alice"])
def test_revert_when_contract_registry_changed_by_non_admin(
    chain, community, holder, roles, function, who
):
    if function == "revokeContract":
        ok(chain, roles.admin, community.functions.approveContract(holder.address))
    before = community.functions.isApprovedContract(holder.address).call()
    caller = getattr(roles, who)
    reason = reverts(chain, caller, getattr(community.functions, function)(holder.address))
    assert reason == f"AccessControlUnauthorizedAccount({caller.address}, {ADMIN_ROLE})"
    assert community.functions.isApprovedContract(holder.address).call() == before


# ---------------------------------------------------------------------------------------------
# EIP-2612 permit (both variants)
# ---------------------------------------------------------------------------------------------

PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass(frozen=True, slots=True)
class Permit:
    owner: str
    spender: str
    value: int
    deadline: int
    v: int
    r: bytes
    s: bytes
    signable: Any

    def call(self, token: Any, **changes: Any) -> Any:
        fields = {
            "owner": self.owner,
            "spender": self.spender,
            "value": self.value,
            "deadline": self.deadline,
            "v": self.v,
            "r": self.r,
            "s": self.s,
        }
        fields.update(changes)
        return token.functions.permit(*fields.values())

    def signer(self) -> str:
        """Who this signature recovers to over what was actually signed."""
        return Account.recover_message(
            self.signable, vrs=(self.v, int.from_bytes(self.r), int.from_bytes(self.s))
        )


def sign_permit(
    chain: Chain,
    token: Any,
    signer: LocalAccount,
    *,
    owner: str | None = None,
    spender: str,
    value: int,
    deadline: int,
    nonce: int | None = None,
    chain_id: int | None = None,
    verifying_contract: str | None = None,
    types: dict[str, Any] | None = None,
) -> Permit:
    owner = owner or signer.address
    domain = {
        "name": token.functions.name().call(),
        "version": "1",
        "chainId": chain.chain_id if chain_id is None else chain_id,
        "verifyingContract": verifying_contract or token.address,
    }
    message = {
        "owner": owner,
        "spender": spender,
        "value": value,
        "nonce": token.functions.nonces(owner).call() if nonce is None else nonce,
        "deadline": deadline,
    }
    message_types = types or PERMIT_TYPES
    signable = encode_typed_data(domain, message_types, message)
    signed = Account.sign_typed_data(signer.key, domain, message_types, message)
    return Permit(
        owner=owner,
        spender=spender,
        value=value,
        deadline=deadline,
        v=signed.v,
        r=signed.r.to_bytes(32),
        s=signed.s.to_bytes(32),
        signable=signable,
    )


def invalid_signer(chain: Chain, token: Any, permit: Permit) -> str:
    """The revert the contract gives: the signature recovered over the digest it computes."""
    canonical = encode_typed_data(
        {
            "name": token.functions.name().call(),
            "version": "1",
            "chainId": chain.chain_id,
            "verifyingContract": token.address,
        },
        PERMIT_TYPES,
        {
            "owner": permit.owner,
            "spender": permit.spender,
            "value": permit.value,
            "nonce": token.functions.nonces(permit.owner).call(),
            "deadline": permit.deadline,
        },
    )
    vrs = (permit.v, int.from_bytes(permit.r), int.from_bytes(permit.s))
    recovered = Account.recover_message(canonical, vrs=vrs)
    assert recovered != permit.owner
    return f"ERC2612InvalidSigner({recovered}, {permit.owner})"


@pytest.fixture
def far_deadline(chain: Chain) -> int:
    return chain.head.timestamp + 3_600


def test_permit_sets_allowance_bumps_nonce_and_emits(chain, currency, roles, far_deadline):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=500, deadline=far_deadline
    )
    # Anyone may submit the signature; carol pays the gas.
    rec = ok(chain, roles.carol, permit.call(currency))
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 500
    assert currency.functions.nonces(roles.alice.address).call() == 1
    assert events(rec) == [
        ("Approval", {"owner": roles.alice.address, "spender": roles.bob.address, "value": 500})
    ]


def test_domain_separator_matches_eip712(chain, currency):
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text="Agent Credit"),
                keccak(text="1"),
                chain.chain_id,
                currency.address,
            ],
        )
    )
    assert currency.functions.DOMAIN_SEPARATOR().call() == expected


def test_revert_when_permit_replayed(chain, currency, roles, far_deadline):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=500, deadline=far_deadline
    )
    ok(chain, roles.carol, permit.call(currency))
    ok(chain, roles.alice, currency.functions.approve(roles.bob.address, 0))
    # The contract now hashes nonce 1, so the old signature recovers to an unrelated address.
    expected = invalid_signer(chain, currency, permit)
    assert reverts(chain, roles.carol, permit.call(currency)) == expected
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 0


def test_permit_signed_for_future_nonce_fails_until_nonce_matches(
    chain, currency, roles, far_deadline
):
    future = sign_permit(
        chain,
        currency,
        roles.alice,
        spender=roles.bob.address,
        value=9,
        deadline=far_deadline,
        nonce=1,
    )
    expected = invalid_signer(chain, currency, future)
    assert reverts(chain, roles.carol, future.call(currency)) == expected
    first = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=1, deadline=far_deadline
    )
    ok(chain, roles.carol, first.call(currency))
    ok(chain, roles.carol, future.call(currency))
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 9


@pytest.mark.parametrize(
    "variation",
    ["other_chain_id", "other_verifying_contract", "other_typehash", "wrong_signer"],
)
def test_revert_when_permit_signed_over_other_data(chain, currency, roles, far_deadline, variation):
    kwargs: dict[str, Any] = {
        "owner": roles.alice.address,
        "spender": roles.bob.address,
        "value": 500,
        "deadline": far_deadline,
    }
    signer = roles.alice
    if variation == "other_chain_id":
        kwargs["chain_id"] = chain.chain_id + 1
    elif variation == "other_verifying_contract":
        kwargs["verifying_contract"] = roles.carol.address
    elif variation == "other_typehash":
        kwargs["types"] = {"Transfer": PERMIT_TYPES["Permit"]}
    else:
        signer = roles.bob
    permit = sign_permit(chain, currency, signer, **kwargs)
    if variation == "wrong_signer":
        assert permit.signer() == roles.bob.address
    expected = invalid_signer(chain, currency, permit)
    assert reverts(chain, roles.carol, permit.call(currency)) == expected
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 0
    assert currency.functions.nonces(roles.alice.address).call() == 0


@pytest.mark.parametrize("field", ["value", "spender", "deadline"])
def test_revert_when_permit_fields_differ_from_signed(chain, currency, roles, far_deadline, field):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=500, deadline=far_deadline
    )
    changes = {"value": 501, "spender": roles.carol.address, "deadline": far_deadline + 1}
    altered = dataclasses.replace(permit, **{field: changes[field]})
    expected = invalid_signer(chain, currency, altered)
    assert reverts(chain, roles.carol, altered.call(currency)) == expected


def test_permit_deadline_is_inclusive(chain, currency, roles):
    deadline = chain.head.timestamp + 100
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=5, deadline=deadline
    )
    chain.set_next_block_time(deadline * 1000)
    rec = ok(chain, roles.carol, permit.call(currency))
    assert chain.block(rec.block_number).timestamp == deadline
    assert currency.functions.allowance(roles.alice.address, roles.bob.address).call() == 5


def test_revert_when_permit_deadline_expired(chain, currency, roles):
    deadline = chain.head.timestamp + 100
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=5, deadline=deadline
    )
    chain.set_next_block_time((deadline + 1) * 1000)
    reason = reverts(chain, roles.carol, permit.call(currency))
    assert reason == f"ERC2612ExpiredSignature({deadline})"
    assert currency.functions.nonces(roles.alice.address).call() == 0


def test_revert_when_permit_signature_has_high_s(chain, currency, roles, far_deadline):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=5, deadline=far_deadline
    )
    high_s = SECP256K1_N - int.from_bytes(permit.s)
    flipped_v = 55 - permit.v  # 27 <-> 28: (r, n - s, v') is the same signer's twin signature
    twin = Permit(
        permit.owner,
        permit.spender,
        permit.value,
        permit.deadline,
        flipped_v,
        permit.r,
        high_s.to_bytes(32),
        permit.signable,
    )
    assert twin.signer() == roles.alice.address  # valid for ecrecover, malleable
    reason = reverts(chain, roles.carol, twin.call(currency))
    assert reason == f"ECDSAInvalidSignatureS(0x{high_s:064x})"
    ok(chain, roles.carol, permit.call(currency))  # the low-s original still works


@pytest.mark.parametrize("bad_v", [0, 1, 26, 29, 255])
def test_revert_when_permit_signature_has_malformed_v(chain, currency, roles, far_deadline, bad_v):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=5, deadline=far_deadline
    )
    reason = reverts(chain, roles.carol, permit.call(currency, v=bad_v))
    assert reason == "ECDSAInvalidSignature()"


def test_revert_when_permit_signature_r_is_zero(chain, currency, roles, far_deadline):
    permit = sign_permit(
        chain, currency, roles.alice, spender=roles.bob.address, value=5, deadline=far_deadline
    )
    reason = reverts(chain, roles.carol, permit.call(currency, r=b"\x00" * 32))
    assert reason == "ECDSAInvalidSignature()"


def test_permit_allowance_can_be_spent_by_an_approved_contract(
    chain, funded, approved_holder, roles, far_deadline
):
    permit = sign_permit(
        chain,
        funded,
        roles.alice,
        spender=approved_holder.address,
        value=300,
        deadline=far_deadline,
    )
    ok(chain, roles.bob, permit.call(funded))
    ok(chain, roles.bob, approved_holder.functions.pull(funded.address, roles.alice.address, 300))
    assert balance(funded, approved_holder.address) == 300


# ---------------------------------------------------------------------------------------------
# Gas (recorded for the report; loose ceilings catch accidental blow-ups)
# ---------------------------------------------------------------------------------------------


def test_gas_of_common_operations_is_reasonable(
    chain, funded, approved_holder, roles, far_deadline, record_property
):
    mint = ok(chain, roles.minter, funded.functions.mint(roles.bob.address, 10))
    transfer = ok(chain, roles.alice, funded.functions.transfer(approved_holder.address, 10))
    permit = sign_permit(
        chain, funded, roles.alice, spender=roles.bob.address, value=5, deadline=far_deadline
    )
    permit_rec = ok(chain, roles.carol, permit.call(funded))
    gas = {"mint": mint.gas_used, "transfer": transfer.gas_used, "permit": permit_rec.gas_used}
    record_property("gas", gas)
    print(f"\ngas used: {gas}")
    assert gas["mint"] < 100_000
    assert gas["transfer"] < 80_000
    assert gas["permit"] < 100_000
