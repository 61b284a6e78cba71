"""A hypothesis state machine checking supply conservation on both currency variants.

Random mints (by the minter and by others), transfers between agents and contracts, approvals,
``transferFrom``, burns and ``burnFrom`` run as real transactions against a model of balances,
allowances and approved contracts. The model predicts whether each transaction succeeds; after
every step the chain must agree with the model and

    totalSupply == sum minted - sum burned == sum of all holders' balances <= cap.

Each example runs on a chain snapshot that is reverted afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from test_currency import (
    VARIANTS,
    Roles,
    compile_currency_artifacts,
    deploy_currency,
    ok,
    roles_of,
    send,
)

from agentbed.chain.node import Chain

CAP = 1_000
MAX_UINT = 2**256 - 1
AGENTS = ("alice", "bob", "carol")
VAULTS = ("vault", "spare")  # "vault" starts approved on the community variant, "spare" not

agents = st.sampled_from(AGENTS)
holders = st.sampled_from(AGENTS + VAULTS)
vaults = st.sampled_from(VAULTS)
amounts = st.one_of(st.integers(0, 400), st.sampled_from([CAP]))


class World:
    """One chain with one currency variant, two holder contracts and standing approvals."""

    def __init__(self, chain: Chain, artifacts: dict[str, Any], variant: str) -> None:
        self.chain = chain
        self.roles: Roles = roles_of(chain.accounts)
        self.steps = 0  # transactions sent by all examples, to show the machine really ran
        self.community = variant == "CommunityCurrency"
        self.token = deploy_currency(chain, artifacts[variant], self.roles, cap=CAP)
        admin = self.roles.admin
        self.vaults = {
            name: chain.deploy(artifacts["CurrencyHolder"], sender=admin) for name in VAULTS
        }
        if self.community:
            ok(chain, admin, self.token.functions.approveContract(self.vaults["vault"].address))
        # Agents let both vaults pull from them, as they would let staking or escrow do.
        for agent in AGENTS:
            for vault in self.vaults.values():
                call = self.token.functions.approve(vault.address, MAX_UINT)
                ok(chain, getattr(self.roles, agent), call)

    def address(self, holder: str) -> str:
        if holder in self.vaults:
            return str(self.vaults[holder].address)
        return str(getattr(self.roles, holder).address)


def supply_machine(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class for ``world`` (a closure, so no class attribute holds state)."""

    class CurrencySupplyMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world = world
            self.chain = world.chain
            self.token = world.token
            self.snapshot_id = world.chain.snapshot()
            self.balances = dict.fromkeys(AGENTS + VAULTS, 0)
            self.allowances: dict[tuple[str, str], int] = {}
            self.approved = {"vault"} if world.community else set(VAULTS)
            self.minted = 0
            self.burned = 0
            self.steps = 0

        # ---- model -------------------------------------------------------------------------

        def restriction(self, src: str, dst: str) -> tuple[bool, str]:
            """The variant's transfer rule as a check: allowed?, and the error if not."""
            allowed = not self.world.community or src in self.approved or dst in self.approved
            return allowed, "CurrencyTransferRestricted"

        def funds(self, holder: str, amount: int) -> tuple[bool, str]:
            return amount <= self.balances[holder], "ERC20InsufficientBalance"

        def allowance(self, owner: str, spender: str, amount: int) -> tuple[bool, str]:
            return amount <= self.allowances.get((owner, spender), 0), "ERC20InsufficientAllowance"

        def expect(self, who: Any, call: Any, *checks: tuple[bool, str]) -> bool:
            """Send ``call``; it must fail with the first failed check's error, else succeed.

            ``checks`` are listed in the order the contract performs them.
            """
            error = next((name for passed, name in checks if not passed), None)
            rec = send(self.chain, who, call)
            self.steps += 1
            if error is None:
                assert rec.status == 1, f"expected success, got {rec.revert_reason}"
                return True
            assert rec.status == 0, f"expected {error}, got success"
            assert (rec.revert_reason or "").startswith(error + "("), (error, rec.revert_reason)
            return False

        def move(self, src: str, dst: str, amount: int) -> None:
            self.balances[src] -= amount
            self.balances[dst] += amount

        def destroy(self, holder: str, amount: int) -> None:
            self.balances[holder] -= amount
            self.burned += amount

        def spend(self, owner: str, spender: str, amount: int) -> None:
            self.allowances[(owner, spender)] = self.allowances.get((owner, spender), 0) - amount

        # ---- rules -------------------------------------------------------------------------

        @initialize(amount=st.integers(1, CAP // 2), to=agents)
        def seed_supply(self, amount: int, to: str) -> None:
            self.mint_by_minter(to, amount)

        @rule(to=holders, amount=amounts)
        def mint_by_minter(self, to: str, amount: int) -> None:
            call = self.token.functions.mint(self.world.address(to), amount)
            fits = self.minted - self.burned + amount <= CAP
            if self.expect(self.world.roles.minter, call, (fits, "CurrencyCapExceeded")):
                self.minted += amount
                self.balances[to] += amount

        @rule(to=holders, extra=st.sampled_from([0, 1]))
        def mint_to_the_cap(self, to: str, extra: int) -> None:
            # Exactly the room left (must succeed) or one more (must revert): the cap boundary.
            self.mint_by_minter(to, CAP - (self.minted - self.burned) + extra)

        @rule(caller=st.sampled_from(("admin", *AGENTS)), to=holders, amount=amounts)
        def mint_by_non_minter(self, caller: str, to: str, amount: int) -> None:
            call = self.token.functions.mint(self.world.address(to), amount)
            unauthorized = (False, "AccessControlUnauthorizedAccount")
            self.expect(getattr(self.world.roles, caller), call, unauthorized)

        @rule(src=agents, dst=holders, amount=amounts)
        def transfer(self, src: str, dst: str, amount: int) -> None:
            call = self.token.functions.transfer(self.world.address(dst), amount)
            checks = (self.restriction(src, dst), self.funds(src, amount))
            if self.expect(getattr(self.world.roles, src), call, *checks):
                self.move(src, dst, amount)

        @rule(vault=vaults, dst=holders, amount=amounts, caller=agents)
        def vault_pushes(self, vault: str, dst: str, amount: int, caller: str) -> None:
            target = self.world.vaults[vault].functions
            call = target.push(self.token.address, self.world.address(dst), amount)
            checks = (self.restriction(vault, dst), self.funds(vault, amount))
            if self.expect(getattr(self.world.roles, caller), call, *checks):
                self.move(vault, dst, amount)

        @rule(vault=vaults, src=agents, dst=holders, amount=amounts)
        def vault_moves_from_agent(self, vault: str, src: str, dst: str, amount: int) -> None:
            # Standing infinite approval: only the transfer rule and the balance matter.
            target = self.world.vaults[vault].functions
            address = self.world.address
            call = target.move(self.token.address, address(src), address(dst), amount)
            checks = (self.restriction(src, dst), self.funds(src, amount))
            if self.expect(self.world.roles.admin, call, *checks):
                self.move(src, dst, amount)

        @rule(owner=agents, spender=agents, amount=amounts)
        def approve(self, owner: str, spender: str, amount: int) -> None:
            call = self.token.functions.approve(self.world.address(spender), amount)
            self.expect(getattr(self.world.roles, owner), call)
            self.allowances[(owner, spender)] = amount

        @rule(spender=agents, owner=agents, dst=holders, amount=amounts)
        def transfer_from(self, spender: str, owner: str, dst: str, amount: int) -> None:
            address = self.world.address
            call = self.token.functions.transferFrom(address(owner), address(dst), amount)
            checks = (
                self.allowance(owner, spender, amount),
                self.restriction(owner, dst),
                self.funds(owner, amount),
            )
            if self.expect(getattr(self.world.roles, spender), call, *checks):
                self.spend(owner, spender, amount)
                self.move(owner, dst, amount)

        @rule(who=agents, amount=amounts)
        def burn(self, who: str, amount: int) -> None:
            call = self.token.functions.burn(amount)
            if self.expect(getattr(self.world.roles, who), call, self.funds(who, amount)):
                self.destroy(who, amount)

        @rule(vault=vaults, amount=amounts, caller=agents)
        def vault_burns(self, vault: str, amount: int, caller: str) -> None:
            call = self.world.vaults[vault].functions.burn(self.token.address, amount)
            if self.expect(getattr(self.world.roles, caller), call, self.funds(vault, amount)):
                self.destroy(vault, amount)

        @rule(spender=agents, owner=agents, amount=amounts)
        def burn_from(self, spender: str, owner: str, amount: int) -> None:
            call = self.token.functions.burnFrom(self.world.address(owner), amount)
            checks = (self.allowance(owner, spender, amount), self.funds(owner, amount))
            if self.expect(getattr(self.world.roles, spender), call, *checks):
                self.spend(owner, spender, amount)
                self.destroy(owner, amount)

        @precondition(lambda self: self.world.community)
        @rule(vault=vaults)
        def toggle_approval(self, vault: str) -> None:
            functions = self.token.functions
            address = self.world.address(vault)
            approved = vault in self.approved
            call = (
                functions.revokeContract(address)
                if approved
                else functions.approveContract(address)
            )
            self.expect(self.world.roles.admin, call)
            self.approved ^= {vault}

        # ---- invariants --------------------------------------------------------------------

        @invariant()
        def chain_agrees_with_model(self) -> None:
            address = self.world.address
            holders = list(self.balances)
            supply, balances, allowed = (
                self.world.vaults["vault"]
                .functions.read(
                    self.token.address,
                    [address(h) for h in holders],
                    [address(a) for a in AGENTS],
                    [address(a) for a in AGENTS],
                )
                .call()
            )
            assert supply == self.minted - self.burned
            assert supply == sum(balances)
            assert supply <= CAP
            assert dict(zip(holders, balances, strict=True)) == self.balances
            pairs = [(owner, spender) for owner in AGENTS for spender in AGENTS]
            model = [self.allowances.get(pair, 0) for pair in pairs]
            assert list(allowed) == model

        def teardown(self) -> None:
            self.world.steps += self.steps
            self.chain.revert(self.snapshot_id)

    return CurrencySupplyMachine


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compile_currency_artifacts(Path(tmp_path_factory.mktemp("currency-stateful")))


@pytest.fixture(params=VARIANTS)
def world(request: pytest.FixtureRequest, artifacts: dict[str, Any]) -> World:
    return World(Chain(seed=11, accounts=5), artifacts, request.param)


def test_fuzz_supply_is_conserved(world: World) -> None:
    run_state_machine_as_test(
        supply_machine(world),
        settings=settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # 10 examples x 30 steps per variant: >= 500 transactions across the two variants.
    assert world.steps >= 250
