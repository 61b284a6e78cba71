"""Behaviour of ``contracts/Staking.sol``: stake, unbond, withdraw, slash, roles, reentrancy.

Every transaction is sent with a fixed gas limit, so a revert is mined (status 0) and checked
by its decoded custom error, and nothing is estimated against a stale timestamp. The behaviour
suite runs over two variants: slashed stake sent to a sink address (``MockERC20`` currency)
and burnt (``sink == address(0)``, a burnable currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from txkit import events, tx_helpers

from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

PERIOD = 7 * 24 * 3600
SINK = to_checksum_address("0x00000000000000000000000000000000005111c0")
ZERO = "0x0000000000000000000000000000000000000000"
GAS = 500_000
FUNDS = 1_000
REASON = keccak(text="escrow-42")
SLASHER_ROLE = keccak(text="SLASHER_ROLE")
ADMIN_ROLE = b"\x00" * 32
REENTRANT = "ReentrancyGuardReentrantCall()"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


send, ok, reverts = tx_helpers(GAS)


def block_time(chain: Chain, rec: Receipt) -> int:
    return chain.block(rec.block_number).timestamp


def at(chain: Chain, timestamp: int) -> None:
    """Seal the next block at header timestamp ``timestamp`` (seconds)."""
    chain.set_next_block_time(timestamp * 1000)


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class State:
    """What the staking contract and the currency say about one account."""

    bonded: int
    unbonding: tuple[int, int]
    slashable: int
    total: int
    held: int


def state_of(staking: Any, token: Any, account: str) -> State:
    f = staking.functions
    return State(
        bonded=f.stakeOf(account).call(),
        unbonding=tuple(f.unbondingOf(account).call()),
        slashable=f.slashableOf(account).call(),
        total=f.totalStaked().call(),
        held=token.functions.balanceOf(staking.address).call(),
    )


# ---------------------------------------------------------------------------------------------
# fixtures: currency -> staking -> funded stakers
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[0]


@pytest.fixture
def slasher(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def alice(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[2]


@pytest.fixture
def bob(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[3]


@pytest.fixture
def outsider(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[4]


@pytest.fixture(params=["sink", "burn"])
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def token(deploy: Any, variant: str) -> Any:
    if variant == "sink":
        return deploy("MockERC20", "Agent", "AGT")
    # Disarmed, the malicious token is a plain burnable ERC-20.
    return deploy("ReentrantToken", "Burnable", "BRN")


@pytest.fixture
def staking(
    chain: Chain, deploy: Any, token: Any, variant: str, admin: LocalAccount, slasher: LocalAccount
) -> Any:
    sink = SINK if variant == "sink" else ZERO
    contract = deploy("Staking", token.address, PERIOD, sink, admin.address, sender=admin)
    ok(chain, admin, contract.functions.grantRole(SLASHER_ROLE, slasher.address))
    return contract


@pytest.fixture
def funded(chain: Chain, token: Any, staking: Any, alice: LocalAccount, bob: LocalAccount) -> Any:
    """``staking`` with alice and bob holding FUNDS each and having approved all of it."""
    for acct in (alice, bob):
        ok(chain, acct, token.functions.mint(acct.address, FUNDS))
        ok(chain, acct, token.functions.approve(staking.address, FUNDS))
    return staking


def sink_or_supply(token: Any, variant: str) -> int:
    """Where slashed stake goes: the sink's balance, or minus the total supply when burnt."""
    if variant == "sink":
        return token.functions.balanceOf(SINK).call()
    return -token.functions.totalSupply().call()


# ---------------------------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------------------------


def test_constructor_sets_immutables_and_admin(staking, token, variant, admin, slasher):
    f = staking.functions
    assert f.currency().call() == token.address
    assert f.unbondingPeriod().call() == PERIOD
    assert f.slashSink().call() == (SINK if variant == "sink" else ZERO)
    assert f.SLASHER_ROLE().call() == SLASHER_ROLE
    assert f.hasRole(ADMIN_ROLE, admin.address).call()
    assert f.hasRole(SLASHER_ROLE, slasher.address).call()
    assert not f.hasRole(SLASHER_ROLE, admin.address).call()
    assert f.getRoleAdmin(SLASHER_ROLE).call() == ADMIN_ROLE
    assert f.totalStaked().call() == 0


def _interface_id(*signatures: str) -> bytes:
    out = 0
    for sig in signatures:
        out ^= int.from_bytes(keccak(text=sig)[:4], "big")
    return out.to_bytes(4, "big")


def test_supports_istaking_access_control_and_erc165(staking):
    istaking = _interface_id(
        "stake(uint256)",
        "requestUnstake(uint256)",
        "withdraw()",
        "slash(address,uint256,bytes32)",
        "stakeOf(address)",
        "unbondingOf(address)",
        "slashableOf(address)",
        "totalStaked()",
    )
    supports = staking.functions.supportsInterface
    assert supports(istaking).call()
    assert supports(bytes.fromhex("7965db0b")).call()  # IAccessControl
    assert supports(bytes.fromhex("01ffc9a7")).call()  # IERC165
    assert not supports(bytes.fromhex("ffffffff")).call()


# ---------------------------------------------------------------------------------------------
# stake
# ---------------------------------------------------------------------------------------------


def test_stake_locks_currency_and_emits_staked(chain, funded, token, alice, bob):
    rec = ok(chain, alice, funded.functions.stake(100))
    assert events(rec, funded) == [
        ("Staked", {"account": alice.address, "amount": 100, "bonded": 100})
    ]
    assert events(rec, token) == [
        ("Transfer", {"from": alice.address, "to": funded.address, "value": 100})
    ]
    rec = ok(chain, alice, funded.functions.stake(50))
    assert events(rec, funded) == [
        ("Staked", {"account": alice.address, "amount": 50, "bonded": 150})
    ]
    ok(chain, bob, funded.functions.stake(7))
    assert state_of(funded, token, alice.address) == State(150, (0, 0), 150, 157, 157)
    assert funded.functions.stakeOf(bob.address).call() == 7
    assert token.functions.balanceOf(alice.address).call() == FUNDS - 150


def test_revert_when_stake_zero(chain, funded, token, alice):
    reverts(chain, alice, funded.functions.stake(0), "StakingZeroAmount()")
    assert state_of(funded, token, alice.address) == State(0, (0, 0), 0, 0, 0)


def test_revert_when_stake_exceeds_allowance(chain, funded, token, alice, outsider):
    ok(chain, outsider, token.functions.mint(outsider.address, 100))
    reverts(
        chain,
        outsider,
        funded.functions.stake(100),
        f"ERC20InsufficientAllowance({funded.address}, 0, 100)",
    )
    reverts(
        chain,
        alice,
        funded.functions.stake(FUNDS + 1),
        f"ERC20InsufficientAllowance({funded.address}, {FUNDS}, {FUNDS + 1})",
    )
    assert state_of(funded, token, outsider.address) == State(0, (0, 0), 0, 0, 0)
    assert token.functions.balanceOf(outsider.address).call() == 100


# ---------------------------------------------------------------------------------------------
# requestUnstake
# ---------------------------------------------------------------------------------------------


def test_request_unstake_moves_bonded_to_unbonding(chain, funded, token, alice):
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(40))
    release = block_time(chain, rec) + PERIOD
    assert events(rec, funded) == [
        ("UnstakeRequested", {"account": alice.address, "amount": 40, "releaseTime": release})
    ]
    assert events(rec, token) == []
    assert state_of(funded, token, alice.address) == State(60, (40, release), 100, 100, 100)


def test_request_unstake_restarts_release_time_of_whole_unbonding(chain, funded, token, alice):
    ok(chain, alice, funded.functions.stake(100))
    first = ok(chain, alice, funded.functions.requestUnstake(40))
    at(chain, block_time(chain, first) + 1000)
    second = ok(chain, alice, funded.functions.requestUnstake(10))
    release = block_time(chain, second) + PERIOD
    assert release == block_time(chain, first) + 1000 + PERIOD
    assert events(second, funded) == [
        ("UnstakeRequested", {"account": alice.address, "amount": 10, "releaseTime": release})
    ]
    assert funded.functions.unbondingOf(alice.address).call() == [50, release]
    # The first request's release time no longer lets anything out.
    at(chain, block_time(chain, first) + PERIOD)
    reverts(
        chain,
        alice,
        funded.functions.withdraw(),
        f"StakingStillUnbonding({alice.address}, {release})",
    )


def test_revert_when_unstake_zero(chain, funded, token, alice):
    ok(chain, alice, funded.functions.stake(100))
    reverts(chain, alice, funded.functions.requestUnstake(0), "StakingZeroAmount()")
    assert state_of(funded, token, alice.address) == State(100, (0, 0), 100, 100, 100)


def test_revert_when_unstake_exceeds_bonded(chain, funded, token, alice, bob):
    ok(chain, alice, funded.functions.stake(100))
    reverts(
        chain,
        alice,
        funded.functions.requestUnstake(101),
        f"StakingInsufficientStake({alice.address}, 101, 100)",
    )
    ok(chain, alice, funded.functions.requestUnstake(100))
    reverts(
        chain,
        alice,
        funded.functions.requestUnstake(1),
        f"StakingInsufficientStake({alice.address}, 1, 0)",
    )
    reverts(
        chain,
        bob,
        funded.functions.requestUnstake(1),
        f"StakingInsufficientStake({bob.address}, 1, 0)",
    )
    assert state_of(funded, token, alice.address).bonded == 0
    assert state_of(funded, token, alice.address).unbonding[0] == 100


# ---------------------------------------------------------------------------------------------
# withdraw: the release time is inclusive (block.timestamp >= releaseTime)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["T-1", "T", "T+1"])
def test_withdraw_at_release_time_boundaries(chain, funded, token, alice, offset):
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(40))
    release = block_time(chain, rec) + PERIOD
    at(chain, release + offset)
    rec = send(chain, alice, funded.functions.withdraw())
    assert block_time(chain, rec) == release + offset
    if offset < 0:
        assert rec.status == 0
        assert rec.revert_reason == f"StakingStillUnbonding({alice.address}, {release})"
        assert state_of(funded, token, alice.address) == State(60, (40, release), 100, 100, 100)
        assert token.functions.balanceOf(alice.address).call() == FUNDS - 100
        return
    assert rec.status == 1, rec.revert_reason
    assert events(rec, funded) == [("Withdrawn", {"account": alice.address, "amount": 40})]
    assert events(rec, token) == [
        ("Transfer", {"from": funded.address, "to": alice.address, "value": 40})
    ]
    assert state_of(funded, token, alice.address) == State(60, (0, 0), 60, 60, 60)
    assert token.functions.balanceOf(alice.address).call() == FUNDS - 60


def test_revert_when_withdraw_with_nothing_unbonding(chain, funded, token, alice, bob):
    reverts(chain, bob, funded.functions.withdraw(), f"StakingNothingToWithdraw({bob.address})")
    ok(chain, alice, funded.functions.stake(100))
    reverts(chain, alice, funded.functions.withdraw(), f"StakingNothingToWithdraw({alice.address})")
    rec = ok(chain, alice, funded.functions.requestUnstake(100))
    at(chain, block_time(chain, rec) + PERIOD)
    ok(chain, alice, funded.functions.withdraw())
    reverts(chain, alice, funded.functions.withdraw(), f"StakingNothingToWithdraw({alice.address})")
    assert state_of(funded, token, alice.address) == State(0, (0, 0), 0, 0, 0)
    assert token.functions.balanceOf(alice.address).call() == FUNDS


def test_withdraw_only_pays_the_caller(chain, funded, token, alice, bob):
    ok(chain, alice, funded.functions.stake(100))
    ok(chain, bob, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(100))
    at(chain, block_time(chain, rec) + PERIOD)
    reverts(chain, bob, funded.functions.withdraw(), f"StakingNothingToWithdraw({bob.address})")
    ok(chain, alice, funded.functions.withdraw())
    assert token.functions.balanceOf(bob.address).call() == FUNDS - 100
    assert state_of(funded, token, bob.address) == State(100, (0, 0), 100, 100, 100)


# ---------------------------------------------------------------------------------------------
# slash
# ---------------------------------------------------------------------------------------------


def test_slash_takes_bonded_first_then_unbonding(chain, funded, token, variant, alice, slasher):
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(30))
    release = block_time(chain, rec) + PERIOD
    sink = ZERO if variant == "burn" else SINK
    before = sink_or_supply(token, variant)

    rec = ok(chain, slasher, funded.functions.slash(alice.address, 50, REASON))
    slashed = {"account": alice.address, "slasher": slasher.address, "amount": 50}
    assert events(rec, funded) == [("Slashed", {**slashed, "reason": REASON, "sink": sink})]
    assert state_of(funded, token, alice.address) == State(20, (30, release), 50, 50, 50)

    rec = ok(chain, slasher, funded.functions.slash(alice.address, 40, REASON))
    slashed["amount"] = 40
    assert events(rec, funded) == [("Slashed", {**slashed, "reason": REASON, "sink": sink})]
    # Part of the unbonding stake is gone; its release time stays.
    assert state_of(funded, token, alice.address) == State(0, (10, release), 10, 10, 10)
    assert sink_or_supply(token, variant) - before == 90


def test_slash_is_capped_at_slashable_and_returns_amount_taken(
    chain, funded, token, variant, alice, bob, slasher
):
    ok(chain, alice, funded.functions.stake(100))
    ok(chain, bob, funded.functions.stake(5))
    ok(chain, alice, funded.functions.requestUnstake(30))
    call = funded.functions.slash(alice.address, 1_000, REASON)
    assert call.call({"from": slasher.address}) == 100
    before = sink_or_supply(token, variant)
    rec = ok(chain, slasher, call)
    assert [args["amount"] for _, args in events(rec, funded)] == [100]
    assert state_of(funded, token, alice.address) == State(0, (0, 0), 0, 5, 5)
    assert sink_or_supply(token, variant) - before == 100
    assert funded.functions.stakeOf(bob.address).call() == 5


def test_slash_without_stake_returns_zero_and_changes_nothing(
    chain, funded, token, variant, alice, slasher
):
    call = funded.functions.slash(alice.address, 10, REASON)
    assert call.call({"from": slasher.address}) == 0
    before = sink_or_supply(token, variant)
    rec = ok(chain, slasher, call)
    assert events(rec, funded) == []
    assert events(rec, token) == []
    assert sink_or_supply(token, variant) == before


def test_slashed_unbonding_rest_is_withdrawable_at_release(chain, funded, token, alice, slasher):
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(100))
    release = block_time(chain, rec) + PERIOD
    ok(chain, slasher, funded.functions.slash(alice.address, 60, REASON))
    at(chain, release)
    rec = ok(chain, alice, funded.functions.withdraw())
    assert events(rec, funded) == [("Withdrawn", {"account": alice.address, "amount": 40})]
    assert token.functions.balanceOf(alice.address).call() == FUNDS - 60
    assert state_of(funded, token, alice.address) == State(0, (0, 0), 0, 0, 0)


def test_revert_when_slash_zero(chain, funded, token, alice, slasher):
    ok(chain, alice, funded.functions.stake(100))
    reverts(
        chain,
        slasher,
        funded.functions.slash(alice.address, 0, REASON),
        f"StakingInvalidSlash({alice.address}, 0)",
    )
    assert state_of(funded, token, alice.address) == State(100, (0, 0), 100, 100, 100)


@pytest.mark.parametrize("variant", ["sink"], indirect=True)
def test_revert_when_burning_with_a_currency_that_cannot_burn(
    chain, deploy, token, admin, slasher, alice
):
    # MockERC20 has no burn(uint256): a zero sink cannot be honoured.
    staking = deploy("Staking", token.address, PERIOD, ZERO, admin.address, sender=admin)
    ok(chain, admin, staking.functions.grantRole(SLASHER_ROLE, slasher.address))
    ok(chain, alice, token.functions.mint(alice.address, 100))
    ok(chain, alice, token.functions.approve(staking.address, 100))
    ok(chain, alice, staking.functions.stake(100))
    reverts(
        chain,
        slasher,
        staking.functions.slash(alice.address, 10, REASON),
        f"StakingInvalidSlash({alice.address}, 10)",
    )
    assert state_of(staking, token, alice.address) == State(100, (0, 0), 100, 100, 100)
    assert token.functions.totalSupply().call() == 100


@pytest.mark.parametrize("variant", ["burn"], indirect=True)
def test_revert_when_burn_does_not_reduce_the_balance(chain, funded, token, alice, slasher):
    # A currency whose burn leaves the staking balance as it was (here: it mints the amount
    # back first) would break the balance invariant; the slash must revert.
    ok(chain, alice, funded.functions.stake(100))
    remint = token.functions.mint(funded.address, 10)._encode_transaction_data()
    ok(chain, alice, token.functions.arm(token.address, remint, False))
    reverts(
        chain,
        slasher,
        funded.functions.slash(alice.address, 10, REASON),
        f"StakingInvalidSlash({alice.address}, 10)",
    )
    assert state_of(funded, token, alice.address) == State(100, (0, 0), 100, 100, 100)


# ---------------------------------------------------------------------------------------------
# roles: every state-changing function by every unauthorized role
# ---------------------------------------------------------------------------------------------

NON_SLASHERS = ["admin", "alice", "outsider"]
NON_ADMINS = ["slasher", "alice", "outsider"]


@pytest.mark.parametrize("who", NON_SLASHERS)
def test_revert_when_slash_by_non_slasher(chain, funded, token, alice, request, who):
    caller = request.getfixturevalue(who)
    ok(chain, alice, funded.functions.stake(100))
    reverts(
        chain,
        caller,
        funded.functions.slash(alice.address, 10, REASON),
        f"AccessControlUnauthorizedAccount({caller.address}, {hex32(SLASHER_ROLE)})",
    )
    assert state_of(funded, token, alice.address) == State(100, (0, 0), 100, 100, 100)


@pytest.mark.parametrize("who", NON_ADMINS)
@pytest.mark.parametrize("function", ["grantRole", "revokeRole"])
def test_revert_when_role_admin_function_by_non_admin(
    chain, staking, slasher, outsider, request, who, function
):
    caller = request.getfixturevalue(who)
    for role in (SLASHER_ROLE, ADMIN_ROLE):
        call = getattr(staking.functions, function)(role, outsider.address)
        reverts(
            chain,
            caller,
            call,
            f"AccessControlUnauthorizedAccount({caller.address}, {hex32(ADMIN_ROLE)})",
        )
    reverts(
        chain,
        caller,
        staking.functions.revokeRole(SLASHER_ROLE, slasher.address),
        f"AccessControlUnauthorizedAccount({caller.address}, {hex32(ADMIN_ROLE)})",
    )
    assert staking.functions.hasRole(SLASHER_ROLE, slasher.address).call()
    assert not staking.functions.hasRole(SLASHER_ROLE, outsider.address).call()
    assert not staking.functions.hasRole(ADMIN_ROLE, outsider.address).call()


@pytest.mark.parametrize("who", ["admin", "alice", "outsider"])
def test_revert_when_renouncing_someone_elses_role(chain, staking, slasher, request, who):
    caller = request.getfixturevalue(who)
    reverts(
        chain,
        caller,
        staking.functions.renounceRole(SLASHER_ROLE, slasher.address),
        "AccessControlBadConfirmation()",
    )
    assert staking.functions.hasRole(SLASHER_ROLE, slasher.address).call()


def test_admin_grants_and_revokes_slasher(chain, funded, admin, slasher, alice, outsider):
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, admin, funded.functions.grantRole(SLASHER_ROLE, outsider.address))
    assert events(rec, funded) == [
        (
            "RoleGranted",
            {"role": SLASHER_ROLE, "account": outsider.address, "sender": admin.address},
        )
    ]
    ok(chain, outsider, funded.functions.slash(alice.address, 1, REASON))
    rec = ok(chain, admin, funded.functions.revokeRole(SLASHER_ROLE, outsider.address))
    assert events(rec, funded) == [
        (
            "RoleRevoked",
            {"role": SLASHER_ROLE, "account": outsider.address, "sender": admin.address},
        )
    ]
    reverts(
        chain,
        outsider,
        funded.functions.slash(alice.address, 1, REASON),
        f"AccessControlUnauthorizedAccount({outsider.address}, {hex32(SLASHER_ROLE)})",
    )
    ok(chain, slasher, funded.functions.renounceRole(SLASHER_ROLE, slasher.address))
    reverts(
        chain,
        slasher,
        funded.functions.slash(alice.address, 1, REASON),
        f"AccessControlUnauthorizedAccount({slasher.address}, {hex32(SLASHER_ROLE)})",
    )
    assert funded.functions.stakeOf(alice.address).call() == 99


def test_nobody_moves_another_accounts_stake(chain, funded, token, admin, slasher, alice, bob):
    # stake/requestUnstake/withdraw act on msg.sender only: whatever role the caller has,
    # alice's bonded and unbonding stake stay hers.
    ok(chain, alice, funded.functions.stake(100))
    rec = ok(chain, alice, funded.functions.requestUnstake(40))
    at(chain, block_time(chain, rec) + PERIOD)
    for caller in (admin, slasher, bob):
        reverts(
            chain,
            caller,
            funded.functions.requestUnstake(1),
            f"StakingInsufficientStake({caller.address}, 1, 0)",
        )
        reverts(
            chain,
            caller,
            funded.functions.withdraw(),
            f"StakingNothingToWithdraw({caller.address})",
        )
    release = block_time(chain, rec) + PERIOD
    assert state_of(funded, token, alice.address) == State(60, (40, release), 100, 100, 100)


# ---------------------------------------------------------------------------------------------
# reentrancy: the currency itself attacks
# ---------------------------------------------------------------------------------------------
#
# ReentrantToken is the currency and also the attacking staker (it stakes through
# ``execute``), so its hook re-enters Staking as the same msg.sender, before moving any balance
# of the transfer / transferFrom Staking asked for.

ATTACKER_STAKE = 200
ATTACKER_UNBONDING = 100
HONEST_STAKE = 500


@dataclass(frozen=True)
class Attack:
    chain: Chain
    token: Any
    staking: Any
    slasher: LocalAccount
    alice: LocalAccount
    release: int
    """Release time of the attacker's unbonding stake (already reached)."""


@pytest.fixture
def attack(chain, deploy, admin, slasher, alice) -> Attack:
    token = deploy("ReentrantToken", "Evil", "EVL")
    staking = deploy("Staking", token.address, PERIOD, SINK, admin.address, sender=admin)
    ok(chain, admin, staking.functions.grantRole(SLASHER_ROLE, slasher.address))
    f, t = staking.functions, token.functions
    ok(chain, alice, t.mint(alice.address, HONEST_STAKE))
    ok(chain, alice, t.approve(staking.address, HONEST_STAKE))
    ok(chain, alice, f.stake(HONEST_STAKE))
    ok(chain, alice, t.mint(token.address, FUNDS))

    def as_token(call: Any) -> Receipt:
        return ok(chain, alice, t.execute(call.address, call._encode_transaction_data()))

    as_token(t.approve(staking.address, 2**256 - 1))
    as_token(f.stake(ATTACKER_STAKE))
    rec = as_token(f.requestUnstake(ATTACKER_UNBONDING))
    release = block_time(chain, rec) + PERIOD
    at(chain, release)
    chain.mine()
    return Attack(chain, token, staking, slasher, alice, release)


def _entry(a: Attack, name: str) -> tuple[LocalAccount, Any]:
    """The outer call that makes Staking call the currency."""
    f, t = a.staking.functions, a.token.functions
    if name == "slash":
        return a.slasher, f.slash(a.token.address, 50, REASON)
    inner = f.withdraw() if name == "withdraw" else f.stake(10)
    return a.alice, t.execute(a.staking.address, inner._encode_transaction_data())


def _hook(a: Attack, name: str) -> str:
    f = a.staking.functions
    call = {"withdraw": f.withdraw(), "requestUnstake": f.requestUnstake(1), "stake": f.stake(1)}
    return call[name]._encode_transaction_data()


def _snapshot(a: Attack) -> tuple[Any, ...]:
    f, t, who = a.staking.functions, a.token.functions, a.token.address
    return (
        state_of(a.staking, a.token, who),
        state_of(a.staking, a.token, a.alice.address),
        t.balanceOf(who).call(),
        t.balanceOf(SINK).call(),
        f.totalStaked().call(),
    )


ENTRIES = ["withdraw", "stake", "slash"]
HOOKS = ["withdraw", "requestUnstake", "stake"]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_reentry_reverts_the_whole_call(attack, entry, hook):
    a = attack
    ok(a.chain, a.alice, a.token.functions.arm(a.staking.address, _hook(a, hook), True))
    before = _snapshot(a)
    sender, call = _entry(a, entry)
    reverts(a.chain, sender, call, REENTRANT)
    assert _snapshot(a) == before


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_swallowed_reentry_fails_and_no_extra_funds_leave(attack, entry, hook):
    a = attack
    ok(a.chain, a.alice, a.token.functions.arm(a.staking.address, _hook(a, hook), False))
    who = a.token.address
    held_before = a.token.functions.balanceOf(who).call()
    sender, call = _entry(a, entry)
    rec = ok(a.chain, sender, call)
    selector = keccak(text=REENTRANT)[:4]
    assert events(rec, a.token)[0] == (
        "ReentryAttempted",
        {"target": a.staking.address, "success": False, "returnData": selector},
    )
    # Exactly one effect of the outer call, and nothing from the hook.
    names = [name for name, _ in events(rec, a.staking)]
    assert names == {"withdraw": ["Withdrawn"], "stake": ["Staked"], "slash": ["Slashed"]}[entry]
    bonded, unbonding, release = ATTACKER_STAKE - ATTACKER_UNBONDING, ATTACKER_UNBONDING, a.release
    total = HONEST_STAKE + ATTACKER_STAKE
    expected_state, paid_out = {
        "withdraw": (
            State(bonded, (0, 0), bonded, total - unbonding, total - unbonding),
            unbonding,
        ),
        "stake": (State(bonded + 10, (unbonding, release), 210, total + 10, total + 10), -10),
        "slash": (State(bonded - 50, (unbonding, release), 150, total - 50, total - 50), 0),
    }[entry]
    assert state_of(a.staking, a.token, who) == expected_state
    assert a.token.functions.balanceOf(who).call() == held_before + paid_out
    assert a.staking.functions.stakeOf(a.alice.address).call() == HONEST_STAKE
    assert a.token.functions.balanceOf(SINK).call() == (50 if entry == "slash" else 0)


def test_unarmed_attack_setup_is_live(attack):
    # Control: the same calls succeed while the hook is disarmed, so the reverts above come
    # from the reentry and not from the setup.
    a = attack
    for entry in ENTRIES:
        sender, call = _entry(a, entry)
        ok(a.chain, sender, call)
