"""Behaviour of GovernedEscrow: the transaction tax and its treasury, the circuit breaker and
the governor's freeze list (issue 19), on top of the consent escrow.

Deployments use MockStaking / MockReputation and a plain ERC-20 (the escrow suite's helpers and
constants); proposals carry the arbitrator's consent as the economy sends them. The property
tests check the tax to the wei and that nothing stays stuck: once every agreement has closed,
the escrow holds exactly its treasury, which is every tax collected minus every subsidy paid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_escrow import (
    ACCEPT_IN,
    ARB_STAKE,
    C_BOND,
    DELIVER_IN,
    DEPLOY_GAS,
    FEE,
    MIN_STAKE,
    P_BOND,
    POT,
    PRICE,
    ROOT,
    SINK,
    SLASH,
    SLASH_BOTH,
    WINDOW,
    same,
)
from txkit import events, tx_helpers

from agentbed.agents.economy.consent import Terms, sign_consent
from agentbed.chain.compiler import compile_files
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.node import Chain

SOURCES = [
    ROOT / "contracts" / "GovernedEscrow.sol",
    ROOT / "contracts" / "ArbitrationFund.sol",
    ROOT / "contracts" / "mocks" / "MockStaking.sol",
    ROOT / "contracts" / "mocks" / "MockReputation.sol",
    ROOT / "contracts" / "mocks" / "MockERC20.sol",
]
GAS = 1_500_000
ZERO = "0x" + "00" * 20
TAX_BPS = 250
BREAKER_K, BREAKER_W = 2, 20_000
FUNDS = 10**30

send, ok, reverts = tx_helpers(GAS)


@pytest.fixture(scope="session")
def governed_artifacts() -> Any:
    return compile_files(SOURCES, root=ROOT)


@dataclass(frozen=True)
class Gov:
    """One governed escrow with a funded, approved buyer, seller and arbitrator."""

    chain: Chain
    token: Any
    escrow: Any
    buyer: LocalAccount
    seller: LocalAccount
    arbitrator: LocalAccount
    governor: LocalAccount

    def now(self) -> int:
        return self.chain.head.timestamp

    def at(self, timestamp: int) -> None:
        self.chain.set_next_block_time(timestamp * 1000)

    def balance(self, who: Any) -> int:
        address = who if isinstance(who, str) else who.address
        return int(self.token.functions.balanceOf(address).call())

    def terms(self, price: int = PRICE, p_bond: int = P_BOND, c_bond: int = C_BOND, fee: int = FEE):
        now = self.now()
        return Terms(
            self.seller.address,
            self.arbitrator.address,
            price,
            p_bond,
            c_bond,
            fee,
            now + ACCEPT_IN,
            now + DELIVER_IN,
        )

    def propose_call(self, terms: Terms, salt: int = 0) -> Any:
        salt_bytes = salt.to_bytes(32, "big")
        signature = sign_consent(
            self.arbitrator,
            self.buyer.address,
            terms,
            salt_bytes,
            chain_id=self.chain.chain_id,
            escrow=self.escrow.address,
        )
        return self.escrow.functions.proposeWithConsent(terms.as_tuple(), salt_bytes, signature)

    def accepted(self, salt: int = 0, **amounts: int) -> int:
        ok(self.chain, self.buyer, self.propose_call(self.terms(**amounts), salt))
        deal = int(self.escrow.functions.agreementCount().call())
        ok(self.chain, self.seller, self.escrow.functions.accept(deal))
        return deal

    def defaulted(self, salt: int) -> int:
        """An accepted agreement the seller never delivers, timed out: one bad outcome."""
        deal = self.accepted(salt)
        self.at(self.now() + DELIVER_IN + 1)
        ok(self.chain, self.buyer, self.escrow.functions.timeout(deal))
        return deal

    def held(self) -> tuple[int, int, int]:
        """(escrow balance, open obligations, treasury balance: the fund's)."""
        f = self.escrow.functions
        return (
            self.balance(self.escrow.address),
            int(f.openObligations().call()),
            int(f.treasuryBalance().call()),
        )


def deploy_governed(
    chain: Chain,
    artifacts: Any,
    *,
    tax_bps: int = 0,
    threshold: int = 0,
    window: int = 0,
    governor: str | None = None,
    policy: int = SLASH_BOTH,
) -> Any:
    """A GovernedEscrow on a mock staking and registry (registered as issuer)."""

    def deploy(name: str, *args: Any) -> Any:
        return chain.deploy(artifacts.get(name), *args, gas=DEPLOY_GAS)

    token = deploy("MockERC20", "Agent", "AGT")
    staking = deploy("MockStaking")
    reputation = deploy("MockReputation")
    fund = deploy("ArbitrationFund", token.address, chain.accounts[0].address) if tax_bps else None
    treasury = fund.address if fund is not None else ZERO
    levers = (governor or chain.accounts[5].address, treasury, tax_bps, threshold, window)
    escrow = deploy(
        "GovernedEscrow",
        token.address,
        staking.address,
        reputation.address,
        MIN_STAKE,
        WINDOW,
        policy,
        SLASH,
        SINK,
        0,
        levers,
    )
    if fund is not None:
        ok(chain, chain.accounts[0], fund.functions.bind(escrow.address))
    return token, staking, reputation, escrow


def build_gov(chain: Chain, artifacts: Any, **levers: int) -> Gov:
    token, staking, reputation, escrow = deploy_governed(chain, artifacts, **levers)
    deployer, buyer, seller, arbitrator = chain.accounts[:4]
    ok(chain, deployer, reputation.functions.registerIssuer(escrow.address))
    ok(chain, deployer, staking.functions.setStake(arbitrator.address, ARB_STAKE))
    for account in (buyer, seller, arbitrator):
        ok(chain, deployer, token.functions.mint(account.address, FUNDS))
        ok(chain, account, token.functions.approve(escrow.address, 2**256 - 1))
    return Gov(chain, token, escrow, buyer, seller, arbitrator, chain.accounts[5])


@pytest.fixture(scope="module")
def govs(testbed_base_chain: Chain, governed_artifacts: Any) -> Iterator[dict[str, Gov]]:
    """The module's deployments, built once; each test runs on the ``chain`` snapshot."""
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield {
            "off": build_gov(chain, governed_artifacts),
            "tax": build_gov(chain, governed_artifacts, tax_bps=TAX_BPS),
            "breaker": build_gov(chain, governed_artifacts, threshold=BREAKER_K, window=BREAKER_W),
        }
    finally:
        chain.revert(snapshot)


def taxed(amount: int, bps: int) -> int:
    return amount - amount * bps // 10_000


# ---------------------------------------------------------------------------------------------
# deployment
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levers", "error"),
    [
        ({"tax_bps": 10_000}, "EscrowInvalidTax"),
        ({"threshold": 2, "window": 0}, "EscrowInvalidBreaker"),
        ({"governor": ZERO}, "EscrowInvalidGovernor"),
    ],
)
def test_revert_when_levers_are_invalid(
    chain: Chain, governed_artifacts: Any, levers: dict[str, Any], error: str
):
    with pytest.raises(ExecutionReverted, match=error):
        deploy_governed(chain, governed_artifacts, **levers)


# ---------------------------------------------------------------------------------------------
# tax and treasury
# ---------------------------------------------------------------------------------------------


def test_without_tax_a_release_pays_in_full(govs: dict[str, Gov], chain: Chain):
    gov = govs["off"]
    deal = gov.accepted()
    before = gov.balance(gov.seller)
    ok(chain, gov.buyer, gov.escrow.functions.confirm(deal))
    ok(chain, gov.seller, gov.escrow.functions.confirm(deal))
    assert gov.balance(gov.seller) - before == PRICE + C_BOND
    assert gov.held() == (0, 0, 0)


def test_release_keeps_tax_of_each_payout_for_the_treasury(govs: dict[str, Gov], chain: Chain):
    gov = govs["tax"]
    deal = gov.accepted()
    seller0, buyer0, arb0 = (gov.balance(a) for a in (gov.seller, gov.buyer, gov.arbitrator))
    ok(chain, gov.buyer, gov.escrow.functions.confirm(deal))
    rec = ok(chain, gov.seller, gov.escrow.functions.confirm(deal))
    assert gov.balance(gov.seller) - seller0 == taxed(PRICE + C_BOND, TAX_BPS)
    assert gov.balance(gov.buyer) - buyer0 == taxed(P_BOND, TAX_BPS)
    assert gov.balance(gov.arbitrator) - arb0 == taxed(FEE, TAX_BPS)
    tax = sum(amount * TAX_BPS // 10_000 for amount in (PRICE + C_BOND, P_BOND, FEE))
    assert gov.held() == (0, 0, tax)
    taxes = [args["tax"] for _, args in events(rec, gov.escrow, name="EscrowTaxed")]
    # The fee's tax rounds down to zero: no event for it.
    assert taxes == [(PRICE + C_BOND) * TAX_BPS // 10_000, P_BOND * TAX_BPS // 10_000]
    assert FEE * TAX_BPS // 10_000 == 0


def test_ruling_is_subsidised_by_the_treasury(govs: dict[str, Gov], chain: Chain):
    gov = govs["tax"]
    first = gov.accepted(salt=1)
    ok(chain, gov.buyer, gov.escrow.functions.confirm(first))
    ok(chain, gov.seller, gov.escrow.functions.confirm(first))
    _, _, treasury = gov.held()
    assert treasury >= FEE
    deal = gov.accepted(salt=2)
    ok(chain, gov.buyer, gov.escrow.functions.dispute(deal))
    buyer0 = gov.balance(gov.buyer)
    rec = ok(chain, gov.arbitrator, gov.escrow.functions.rule(deal, POT))
    subsidy = events(rec, gov.escrow, name="EscrowArbitrationSubsidised")
    assert subsidy == [
        ("EscrowArbitrationSubsidised", {"id": deal, "proposer": gov.buyer.address, "amount": FEE})
    ]
    assert gov.balance(gov.buyer) - buyer0 == FEE + taxed(POT, TAX_BPS)
    # What the ruling paid in tax, less the fee it gave back.
    paid_tax = POT * TAX_BPS // 10_000 + FEE * TAX_BPS // 10_000
    assert gov.held() == (0, 0, treasury - FEE + paid_tax)


def test_slashed_bonds_are_not_taxed(govs: dict[str, Gov], chain: Chain):
    gov = govs["tax"]
    sink0 = gov.balance(SINK)
    gov.defaulted(salt=3)
    assert gov.balance(SINK) - sink0 == P_BOND + C_BOND
    _, _, treasury = gov.held()
    assert treasury == (PRICE + FEE) * TAX_BPS // 10_000


def test_revert_when_a_tax_has_no_treasury(chain: Chain, governed_artifacts: Any):
    args = (ZERO,) * 3 + (MIN_STAKE, WINDOW, SLASH_BOTH, SLASH, SINK, 0)
    levers = (chain.accounts[5].address, ZERO, TAX_BPS, 0, 0)
    with pytest.raises(ExecutionReverted, match="EscrowInvalidTreasury"):
        chain.deploy(governed_artifacts.get("GovernedEscrow"), *args, levers, gas=DEPLOY_GAS)


def test_only_the_bound_escrow_pays_out_of_the_fund(
    govs: dict[str, Gov], chain: Chain, governed_artifacts: Any
):
    gov = govs["tax"]
    address = gov.escrow.functions.treasury().call()
    fund = chain.contract(address, governed_artifacts.get("ArbitrationFund"))
    f = fund.functions
    assert same(f.escrow().call(), gov.escrow.address)
    reverts(chain, gov.buyer, f.pay(gov.buyer.address, 0), error="FundNotEscrow")
    reverts(chain, chain.accounts[0], f.bind(gov.buyer.address), error="FundInvalidBinding")
    reverts(chain, gov.buyer, f.bind(gov.buyer.address), error="FundNotOwner")


# ---------------------------------------------------------------------------------------------
# circuit breaker and freeze list
# ---------------------------------------------------------------------------------------------


def test_breaker_blocks_a_seller_for_the_window_after_k_bad_outcomes(
    govs: dict[str, Gov], chain: Chain
):
    gov = govs["breaker"]
    gov.defaulted(salt=1)
    since = gov.now()
    assert not gov.escrow.functions.isBlocked(gov.seller.address).call()
    gov.defaulted(salt=2)
    assert gov.escrow.functions.badOutcomes(gov.seller.address).call() == BREAKER_K
    assert gov.escrow.functions.isBlocked(gov.seller.address).call()
    # The first of the two bad outcomes opened the window: blocked until it is W seconds old.
    gov.at(since + BREAKER_W)
    call = gov.propose_call(gov.terms(), 3)
    reason = reverts(chain, gov.buyer, call, error="EscrowBreakerTripped")
    assert reason == f"EscrowBreakerTripped({gov.seller.address}, {BREAKER_K}, {since})"
    gov.at(since + BREAKER_W + 1)
    ok(chain, gov.buyer, gov.propose_call(gov.terms(), 4))


def test_breaker_does_not_count_good_outcomes_or_the_buyer(govs: dict[str, Gov], chain: Chain):
    gov = govs["breaker"]
    for salt in (1, 2, 3):
        deal = gov.accepted(salt)
        ok(chain, gov.seller, gov.escrow.functions.confirm(deal))
        gov.at(gov.now() + DELIVER_IN + 1)
        # The buyer did not confirm: it defaulted, the seller did not.
        ok(chain, gov.buyer, gov.escrow.functions.timeout(deal))
    assert gov.escrow.functions.badOutcomes(gov.seller.address).call() == 0
    assert gov.escrow.functions.badOutcomes(gov.buyer.address).call() == 0
    ok(chain, gov.buyer, gov.propose_call(gov.terms(), 9))


def test_freeze_list_is_the_governors_and_blocks_both_sides(govs: dict[str, Gov], chain: Chain):
    gov = govs["off"]
    f = gov.escrow.functions
    reverts(chain, gov.buyer, f.setFrozen(gov.seller.address, True), error="EscrowNotGovernor")
    rec = ok(chain, gov.governor, f.setFrozen(gov.seller.address, True))
    assert events(rec, gov.escrow) == [
        ("EscrowFreezeSet", {"account": gov.seller.address, "frozen": True})
    ]
    assert f.isBlocked(gov.seller.address).call()
    reverts(chain, gov.buyer, gov.propose_call(gov.terms(), 1), error="EscrowAccountFrozen")
    ok(chain, gov.governor, f.setFrozen(gov.seller.address, False))
    ok(chain, gov.governor, f.setFrozen(gov.buyer.address, True))
    reverts(chain, gov.buyer, gov.propose_call(gov.terms(), 2), error="EscrowAccountFrozen")
    ok(chain, gov.governor, f.setGovernor(gov.arbitrator.address))
    reverts(chain, gov.governor, f.setFrozen(gov.buyer.address, False), error="EscrowNotGovernor")
    ok(chain, gov.arbitrator, f.setFrozen(gov.buyer.address, False))
    ok(chain, gov.buyer, gov.propose_call(gov.terms(), 3))
    assert same(f.governor().call(), gov.arbitrator.address)


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

OUTCOMES = ("release", "rule", "timeout", "expire")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bps=st.sampled_from([0, 1, 250, 9_999]),
    deals=st.lists(
        st.tuples(
            st.sampled_from(OUTCOMES),
            st.integers(0, 10**21),
            st.integers(0, 10**18),
            st.integers(0, 10**18),
            st.integers(0, 10**18),
            st.integers(0, 100),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_fuzz_tax_is_exact_and_nothing_is_stuck(
    testbed_base_chain: Chain, governed_artifacts: Any, bps: int, deals: list[Any]
):
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        gov = build_gov(chain, governed_artifacts, tax_bps=bps)
        for salt, (outcome, price, p_bond, c_bond, fee, share_pct) in enumerate(deals):
            check_one_deal(gov, salt, outcome, (price, p_bond, c_bond, fee), share_pct, bps)
        f = gov.escrow.functions
        balance, obligations, treasury = gov.held()
        assert balance == obligations == 0
        assert treasury == f.taxCollected().call() - f.subsidised().call()
    finally:
        chain.revert(snapshot)


def check_one_deal(
    gov: Gov, salt: int, outcome: str, amounts: tuple[int, ...], share_pct: int, bps: int
) -> None:
    """Drive one agreement to ``outcome`` and check every party's payout to the wei."""
    chain, f = gov.chain, gov.escrow.functions
    price, p_bond, c_bond, fee = amounts
    terms = gov.terms(price, p_bond, c_bond, fee)
    ok(chain, gov.buyer, gov.propose_call(terms, salt))
    deal = int(f.agreementCount().call())
    who = (gov.buyer, gov.seller, gov.arbitrator)
    before = [gov.balance(a) for a in who]
    treasury0 = int(f.treasuryBalance().call())
    if outcome == "expire":
        gov.at(terms.accept_by + 1)
        ok(chain, gov.buyer, f.expire(deal))
        expected = [taxed(price + p_bond + fee, bps), 0, 0]
    else:
        ok(chain, gov.seller, f.accept(deal))
        before[1] -= c_bond
        if outcome == "release":
            ok(chain, gov.buyer, f.confirm(deal))
            ok(chain, gov.seller, f.confirm(deal))
            expected = [taxed(p_bond, bps), taxed(price + c_bond, bps), taxed(fee, bps)]
        elif outcome == "timeout":
            gov.at(terms.deliver_by + 1)
            ok(chain, gov.buyer, f.timeout(deal))
            # Slash-both: bonds to the sink untaxed; price and fee back to the buyer, taxed.
            expected = [taxed(price + fee, bps), 0, 0]
        else:
            ok(chain, gov.buyer, f.dispute(deal))
            pot = price + p_bond + c_bond
            share = pot * share_pct // 100
            subsidy = min(fee, treasury0)
            ok(chain, gov.arbitrator, f.rule(deal, share))
            expected = [subsidy + taxed(share, bps), taxed(pot - share, bps), taxed(fee, bps)]
    after = [gov.balance(a) for a in who]
    assert [a - b for a, b in zip(after, before, strict=True)] == expected
