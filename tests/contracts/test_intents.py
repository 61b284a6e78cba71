"""Behaviour of ``contracts/IntentBook.sol`` (with ``IntentConditions.sol``) on real deployments.

One world is built per module on the session chain: tokens X, Y and Z, a PoolFactory with an
X/Y pool (2 Y per X) and a Y/Z pool (1:1), both at 0.30 %, and eight IntentBooks side by side,
one per variant: pay-as-filled or uniform price, x revert or skip on an unmet condition, x a
solver share of 0 or 1000 bps. Six makers hold every token and approved every book. Each test
runs on a snapshot of that world (the ``chain`` fixture reverts it afterwards), and each
behaviour common to the variants runs against every one of them. Transactions carry a fixed
gas limit, so reverts are mined and checked by their custom error.

Amounts are checked exactly: a ``Ledger`` of every token balance of every party before and
after a call says what moved, and nothing else did.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from eth_abi import decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from txkit import events, tx_helpers

from agentbed.agents.economy.reputation import SECP256K1_N
from agentbed.agents.market.intents import (
    ALL,
    BPS,
    PRICE_SCALE,
    Condition,
    Intent,
    OnUnmetCondition,
    Plan,
    Pricing,
    Swap,
    amount_out,
    intent_digest,
    sign_intent,
    solve_pair,
    typed_data,
)
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

GAS = 3_000_000
FUNDS = 10**30
FAR = 2**63
FEE = 30
E18 = 10**18
RX, RY = 10**24, 2 * 10**24  # the X/Y pool: 2 Y per X
RYZ = 10**24  # each reserve of the Y/Z pool
ZERO = "0x" + "00" * 20
BALANCE_OF = bytes.fromhex("70a08231")

send, ok, reverts = tx_helpers(GAS)

VARIANTS = {
    f"{p_name}-{u_name}-{share}": (pricing, unmet, share)
    for p_name, pricing in (("paf", Pricing.PAY_AS_FILLED), ("uniform", Pricing.UNIFORM_PRICE))
    for u_name, unmet in (("revert", OnUnmetCondition.REVERT), ("skip", OnUnmetCondition.SKIP))
    for share in (0, 1000)
}
# Fair pay-as-filled on two books that flip both other settings.
VARIANTS |= {
    "fair-revert-0": (Pricing.FAIR_PAY_AS_FILLED, OnUnmetCondition.REVERT, 0),
    "fair-skip-1000": (Pricing.FAIR_PAY_AS_FILLED, OnUnmetCondition.SKIP, 1000),
}


# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    """One deployed IntentBook variant."""

    name: str
    contract: Any
    pricing: Pricing
    on_unmet: OnUnmetCondition
    share: int

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def plan(
        self, buy_amounts: Sequence[int], prices: Mapping[Any, int], swaps: Sequence[Swap] = ()
    ) -> Plan:
        """``buy_amounts`` for a pay-as-filled book, ``prices`` (by token contract) otherwise."""
        if self.pricing.names_buy_amounts:
            return Plan.pay_as_filled(buy_amounts, swaps)
        return Plan.uniform({token.address: p for token, p in prices.items()}, swaps)


@dataclass(frozen=True)
class World:
    chain: Chain
    x: Any
    y: Any
    z: Any
    factory: Any
    xy: Any
    yz: Any
    books: dict[str, Book]
    makers: tuple[LocalAccount, ...]
    solver: LocalAccount
    copier: LocalAccount
    stranger: LocalAccount

    @property
    def tokens(self) -> tuple[Any, Any, Any]:
        return (self.x, self.y, self.z)


def build_world(chain: Chain) -> World:
    deployer = chain.accounts[0]
    x, y, z = (chain.deploy("MockERC20", name, name) for name in ("X", "Y", "Z"))
    factory = chain.deploy("PoolFactory", gas=6_000_000)
    pools = []
    for a, b, ra, rb in ((x, y, RX, RY), (y, z, RYZ, RYZ)):
        ok(chain, deployer, factory.functions.createPool(a.address, b.address, FEE))
        pool = chain.contract(
            factory.functions.getPool(a.address, b.address, FEE).call(), "ConstantProductPool"
        )
        for token, amount in ((a, ra), (b, rb)):
            ok(chain, deployer, token.functions.mint(deployer.address, amount))
            ok(chain, deployer, token.functions.approve(pool.address, amount))
        r0, r1 = (ra, rb) if pool.functions.token0().call() == a.address else (rb, ra)
        ok(chain, deployer, pool.functions.addLiquidity(r0, r1, 0, deployer.address, FAR))
        pools.append(pool)
    books = {}
    for name, (pricing, unmet, share) in VARIANTS.items():
        contract = chain.deploy("IntentBook", factory.address, pricing, unmet, share)
        books[name] = Book(name, contract, pricing, unmet, share)
    makers = chain.accounts[1:7]
    for maker in makers:
        for token in (x, y, z):
            ok(chain, maker, token.functions.mint(maker.address, FUNDS))
            for book in books.values():
                ok(chain, maker, token.functions.approve(book.address, 2**256 - 1))
    solver, copier, stranger = chain.accounts[7:10]
    return World(chain, x, y, z, factory, *pools, books, makers, solver, copier, stranger)


@pytest.fixture(scope="module")
def intent_world(testbed_base_chain: Chain) -> Iterator[World]:
    """The world, built once on the session chain and removed after the module.

    Module-scoped fixtures are set up before the function-scoped ``chain`` fixture takes its
    per-test snapshot, so each test starts from this state and its changes are reverted.
    """
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield build_world(chain)
    finally:
        chain.revert(snapshot)


@pytest.fixture
def world(intent_world: World, chain: Chain) -> World:
    return intent_world


@pytest.fixture(params=tuple(VARIANTS))
def book(request: pytest.FixtureRequest, world: World) -> Book:
    """Every variant, unless a test narrows the list with one of the marks below."""
    return world.books[request.param]


def on_books(*names: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("book", names, indirect=True)


# Behaviours that do not depend on a setting run on fewer books: ``pairwise`` covers every
# pair of settings (pricing x unmet, pricing x share, unmet x share) in four books,
# ``diagonal`` flips all three settings at once.
pairwise = on_books("paf-revert-0", "paf-skip-1000", "uniform-revert-1000", "uniform-skip-0")
diagonal = on_books("paf-revert-0", "uniform-skip-1000")
revert_books = on_books("paf-revert-0", "uniform-revert-1000")
paf_books = on_books("paf-revert-0", "paf-skip-1000")
uniform_books = on_books("uniform-revert-1000", "uniform-skip-0")
skip_books = on_books("paf-skip-1000", "uniform-skip-0", "fair-skip-1000")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

_nonces = itertools.count(1)


def make(
    maker: LocalAccount,
    sell: Any,
    buy: Any,
    sell_amount: int,
    min_buy: int,
    *,
    condition: Condition | None = None,
    deadline: int = FAR,
    nonce: int | None = None,
) -> Intent:
    return Intent(
        maker.address,
        sell.address,
        buy.address,
        sell_amount,
        min_buy,
        deadline,
        next(_nonces) if nonce is None else nonce,
        condition or Condition.none(),
    )


def sign(world: World, book: Book, intent: Intent, signer: LocalAccount | None = None) -> bytes:
    account = signer or world.chain.account(intent.maker)
    chain_id = world.chain.chain_id
    return sign_intent(account, intent, chain_id=chain_id, verifying_contract=book.address)


def digest(world: World, book: Book, intent: Intent) -> bytes:
    chain_id = world.chain.chain_id
    return intent_digest(intent, chain_id=chain_id, verifying_contract=book.address)


def settle_call(book: Book, intents: Sequence[Intent], sigs: Sequence[bytes], plan: Plan) -> Any:
    batch = [i.as_tuple() for i in intents]
    return book.contract.functions.settle(batch, list(sigs), plan.as_tuple())


def settle(
    world: World,
    book: Book,
    intents: Sequence[Intent],
    plan: Plan,
    *,
    sender: LocalAccount | None = None,
    signatures: Sequence[bytes] | None = None,
) -> Receipt:
    sigs = [sign(world, book, i) for i in intents] if signatures is None else signatures
    return send(world.chain, sender or world.solver, settle_call(book, intents, sigs, plan))


Ledger = dict[tuple[str, str], int]


def ledger(world: World, book: Book) -> Ledger:
    """Every token balance of every party: makers, solver, copier, book, pools."""
    parties = [a.address for a in world.makers[:4]]  # the makers these tests use
    parties += [world.solver.address, world.copier.address]
    parties += [book.address, world.xy.address, world.yz.address]
    out = {}
    for token in world.tokens:
        for party in parties:
            data = BALANCE_OF + bytes(12) + bytes.fromhex(party[2:])
            (out[token.address, party],) = decode(
                ["uint256"], world.chain.call(token.address, data)
            )
    return out


def settle_reverts(
    world: World,
    book: Book,
    intents: Sequence[Intent],
    plan: Plan,
    reason: str,
    *,
    signatures: Sequence[bytes] | None = None,
) -> Receipt:
    """Settle and check the call reverted with ``reason`` and moved no token."""
    before = ledger(world, book)
    rec = settle(world, book, intents, plan, signatures=signatures)
    assert rec.revert_reason == reason
    assert ledger(world, book) == before
    return rec


def moved(before: Ledger, after: Ledger) -> dict[tuple[str, str], int]:
    """The non-zero balance changes from ``before`` to ``after``."""
    return {k: after[k] - v for k, v in before.items() if after[k] != v}


def nonces_used(book: Book, intents: Sequence[Intent]) -> list[bool]:
    return [book.contract.functions.nonceUsed(i.maker, i.nonce).call() for i in intents]


def fills(rec: Receipt, book: Book) -> list[dict[str, Any]]:
    return [args for name, args in events(rec, book.contract) if name == "IntentFilled"]


def reward(book: Book, buy_amount: int, intent: Intent) -> int:
    return (buy_amount - intent.min_buy_amount) * book.share // BPS


def expected_moves(
    world: World, book: Book, intents: Sequence[Intent], buys: Sequence[int]
) -> dict[tuple[str, str], int]:
    """Maker and solver balance changes when ``intents`` execute buying ``buys`` (no dust)."""
    out: dict[tuple[str, str], int] = {}

    def add(token: str, party: str, amount: int) -> None:
        out[token, party] = out.get((token, party), 0) + amount

    for intent, bought in zip(intents, buys, strict=True):
        r = reward(book, bought, intent)
        add(intent.sell_token, intent.maker, -intent.sell_amount)
        add(intent.buy_token, intent.maker, bought - r)
        add(intent.buy_token, world.solver.address, r)
    return {k: v for k, v in out.items() if v}


def assert_filled(
    world: World, book: Book, rec: Receipt, intents: Sequence[Intent], skipped: int = 0
) -> list[int]:
    """``rec`` settled exactly ``intents`` with consistent events; returns their buy amounts."""
    assert rec.status == 1, rec.revert_reason
    # the book pays token by token, so events come in token order; match them by hash
    by_hash = {f["intentHash"]: f for f in fills(rec, book)}
    assert len(by_hash) == len(fills(rec, book))
    got = [by_hash.pop(digest(world, book, i)) for i in intents]
    assert by_hash == {}
    for f, intent in zip(got, intents, strict=True):
        assert f["maker"] == intent.maker and f["solver"] == rec.sender
        assert (f["sellToken"], f["buyToken"]) == (intent.sell_token, intent.buy_token)
        assert f["sellAmount"] == intent.sell_amount
        assert f["buyAmount"] >= intent.min_buy_amount
        assert f["solverReward"] == reward(book, f["buyAmount"], intent)
    assert events(rec, book.contract)[-1] == (
        "BatchSettled",
        {"solver": rec.sender, "filled": len(intents), "skipped": skipped},
    )
    assert all(nonces_used(book, intents))
    return [f["buyAmount"] for f in got]


def pool_reserves(world: World, pool: Any) -> dict[str, int]:
    r0, r1 = pool.functions.getReserves().call()
    return {pool.functions.token0().call(): r0, pool.functions.token1().call(): r1}


def alice_sells_x(world: World, min_buy: int = 150 * E18, **terms: Any) -> Intent:
    """alice sells 100 X for >= ``min_buy`` Y; ``terms`` go to ``make`` (condition, ...)."""
    return make(world.makers[0], world.x, world.y, 100 * E18, min_buy, **terms)


def bob_sells_y(world: World, min_buy: int = 90 * E18, **terms: Any) -> Intent:
    """bob sells 200 Y for >= ``min_buy`` X; ``terms`` go to ``make`` (condition, ...)."""
    return make(world.makers[1], world.y, world.x, 200 * E18, min_buy, **terms)


def cow_pair(world: World) -> tuple[Intent, Intent]:
    """alice sells 100 X for >= 150 Y; bob sells 200 Y for >= 90 X: they cross."""
    return alice_sells_x(world), bob_sells_y(world)


def dependent_cow_pair(world: World) -> tuple[Intent, Intent]:
    """``cow_pair`` with alice's intent executing only if bob's settles in the same batch."""
    b = bob_sells_y(world)
    return alice_sells_x(world, condition=Condition.intent_settles(b.maker, b.nonce)), b


def cow_plan(world: World, book: Book) -> Plan:
    """Settles ``cow_pair``: alice gets all 200 Y, bob all 100 X."""
    return book.plan([200 * E18, 100 * E18], {world.x: 2, world.y: 1})


# ---------------------------------------------------------------------------------------------
# deployment, hashing
# ---------------------------------------------------------------------------------------------


def test_books_are_deployed_side_by_side_with_their_variant(world, book):
    f = book.contract.functions
    assert f.factory().call() == world.factory.address
    assert (f.pricing().call(), f.onUnmetCondition().call()) == (book.pricing, book.on_unmet)
    assert f.solverShareBps().call() == book.share
    assert len({b.address for b in world.books.values()}) == len(VARIANTS)


@pytest.mark.parametrize("share", [10_001, 2**256 - 1])
def test_revert_when_constructor_share_exceeds_10000_bps(world, share):
    with pytest.raises(ExecutionReverted) as err:
        world.chain.deploy("IntentBook", world.factory.address, 0, 0, share)
    assert err.value.reason == f"IntentBookInvalidShare({share})"
    whole = world.chain.deploy("IntentBook", world.factory.address, 0, 0, 10_000)
    assert whole.functions.solverShareBps().call() == 10_000


@diagonal
@pytest.mark.parametrize(
    "condition",
    [
        Condition.none(),
        Condition.counter_intent(),
        Condition.intent_settles("0x" + "ab" * 20, 2**256 - 1),
        Condition.price_within(30, 1, 2**256 - 1),
    ],
    ids=["none", "counter", "settles", "price"],
)
def test_digest_matches_hash_intent(world, book, condition):
    intent = make(world.makers[0], world.x, world.y, 3, 7, condition=condition, deadline=11)
    onchain = book.contract.functions.hashIntent(intent.as_tuple()).call()
    assert onchain == digest(world, book, intent)
    # the domain separates the books: the same intent has another digest elsewhere
    other = next(b for b in world.books.values() if b is not book)
    assert digest(world, other, intent) != onchain


# ---------------------------------------------------------------------------------------------
# settling: CoW pair, ring, routes
# ---------------------------------------------------------------------------------------------


def test_settle_cow_pair_pays_each_maker_and_the_solver_its_reward(world, book):
    a, b = cow_pair(world)
    before = ledger(world, book)
    plan = cow_plan(world, book)
    sigs = [sign(world, book, i) for i in (a, b)]
    call = settle_call(book, (a, b), sigs, plan)
    assert call.call({"from": world.solver.address}) == 2
    rec = settle(world, book, (a, b), plan)
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]
    assert moved(before, ledger(world, book)) == expected_moves(
        world, book, (a, b), [200 * E18, 100 * E18]
    )
    if book.share:  # 10 % of (200 - 150) Y and of (100 - 90) X
        assert reward(book, 200 * E18, a) == 5 * E18 and reward(book, 100 * E18, b) == E18


@pytest.mark.parametrize(
    ("pricing", "name"),
    [
        (Pricing.PAY_AS_FILLED, "paf-revert-1000"),
        (Pricing.UNIFORM_PRICE, "uniform-revert-1000"),
        (Pricing.FAIR_PAY_AS_FILLED, "fair-skip-1000"),
    ],
)
def test_solve_pair_plan_settles_a_cow_pair_without_the_pool(world, pricing, name):
    book = world.books[name]
    a, b = cow_pair(world)
    plan = solve_pair((a, b), pool_reserves=None, pricing=pricing)
    assert plan.swaps == ()
    before = ledger(world, book)
    rec = settle(world, book, (a, b), plan)
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]
    assert moved(before, ledger(world, book)) == expected_moves(
        world, book, (a, b), [200 * E18, 100 * E18]
    )


def test_cow_ring_of_three_settles_without_touching_pools(world, book):
    alice, bob, carol = world.makers[:3]
    ring = (
        make(alice, world.x, world.y, 100 * E18, 90 * E18),
        make(bob, world.y, world.z, 100 * E18, 90 * E18),
        make(carol, world.z, world.x, 100 * E18, 90 * E18),
    )
    # pay-as-filled names only the limits: the rest of each token is shared out anyway
    plan = book.plan([90 * E18] * 3, {world.x: 5, world.y: 5, world.z: 5})
    before = ledger(world, book)
    rec = settle(world, book, ring, plan)
    assert assert_filled(world, book, rec, ring) == [100 * E18] * 3
    assert moved(before, ledger(world, book)) == expected_moves(world, book, ring, [100 * E18] * 3)
    assert [log for log in rec.logs if log.address in (world.xy.address, world.yz.address)] == []


def test_one_sided_batch_is_routed_through_the_pool(world, book):
    alice, dave = world.makers[0], world.makers[3]
    batch = (
        make(alice, world.x, world.y, 100 * E18, 190 * E18),
        make(dave, world.x, world.y, 50 * E18 + 3, 95 * E18),
    )
    plan = solve_pair(batch, pool_reserves=pool_reserves(world, world.xy), pricing=book.pricing)
    out = amount_out(150 * E18 + 3, RX, RY, FEE)
    assert plan.swaps == (Swap(world.x.address, world.y.address, FEE, 150 * E18 + 3, out),)
    before = ledger(world, book)
    rec = settle(world, book, batch, plan)
    buys = assert_filled(world, book, rec, batch)
    change = moved(before, ledger(world, book))
    assert change[world.x.address, world.xy.address] == 150 * E18 + 3
    assert change[world.y.address, world.xy.address] == -out
    dust = out - sum(buys)
    assert 0 <= dust < 2
    solver_y = sum(reward(book, b, i) for b, i in zip(buys, batch, strict=True)) + dust
    assert change.get((world.y.address, world.solver.address), 0) == solver_y


def test_two_hop_route_swaps_all_the_batch_holds_on_the_second_hop(world, book):
    alice = world.makers[0]
    intent = make(alice, world.x, world.z, 100 * E18, 150 * E18)
    mid = amount_out(100 * E18, RX, RY, FEE)
    out = amount_out(mid, RYZ, RYZ, FEE)
    swaps = (
        Swap(world.x.address, world.y.address, FEE, 100 * E18, mid),
        Swap(world.y.address, world.z.address, FEE, ALL, out),
    )
    plan = book.plan([out], {world.x: out, world.z: 100 * E18}, swaps)
    before = ledger(world, book)
    rec = settle(world, book, (intent,), plan)
    assert assert_filled(world, book, rec, (intent,)) == [out]
    change = moved(before, ledger(world, book))
    assert change[world.y.address, world.xy.address] == -mid
    assert change[world.y.address, world.yz.address] == mid
    assert change[world.z.address, world.yz.address] == -out
    maker_and_solver = {
        k: v for k, v in change.items() if k[1] not in (world.xy.address, world.yz.address)
    }
    assert maker_and_solver == expected_moves(world, book, (intent,), [out])


@pairwise
def test_swap_of_all_the_batch_holds_leaves_donated_tokens_alone(world, book):
    ok(world.chain, world.stranger, world.y.functions.mint(book.address, 1_000 * E18))
    intent = make(world.makers[0], world.x, world.z, 100 * E18, 150 * E18)
    mid = amount_out(100 * E18, RX, RY, FEE)
    out = amount_out(mid, RYZ, RYZ, FEE)
    swaps = (
        Swap(world.x.address, world.y.address, FEE, 100 * E18, 0),
        Swap(world.y.address, world.z.address, FEE, ALL, 0),
    )
    rec = settle(
        world, book, (intent,), book.plan([out], {world.x: out, world.z: 100 * E18}, swaps)
    )
    assert assert_filled(world, book, rec, (intent,)) == [out]
    assert world.y.functions.balanceOf(book.address).call() == 1_000 * E18


@pairwise
@pytest.mark.parametrize(("pair", "fee"), [("xz", FEE), ("xy", 100)])
def test_revert_when_a_swap_names_no_factory_pool(world, book, pair, fee):
    alice = world.makers[0]
    buy = world.z if pair == "xz" else world.y
    intent = make(alice, world.x, buy, 100 * E18, 1)
    swap = Swap(world.x.address, buy.address, fee, 100 * E18, 0)
    plan = book.plan([1], {world.x: 1, buy: 1}, (swap,))
    reason = f"IntentBookUnknownPool({world.x.address}, {buy.address}, {fee})"
    settle_reverts(world, book, (intent,), plan, reason)
    assert nonces_used(book, (intent,)) == [False]


# ---------------------------------------------------------------------------------------------
# pricing
# ---------------------------------------------------------------------------------------------


@uniform_books
def test_uniform_price_gives_every_maker_of_a_pair_the_same_rate(world, book):
    alice, bob, dave = world.makers[0], world.makers[1], world.makers[3]
    batch = (
        make(alice, world.x, world.y, 100 * E18 + 1, 100 * E18),
        make(dave, world.x, world.y, 300 * E18 + 7, 300 * E18),
        make(bob, world.y, world.x, 600 * E18 + 3, 300 * E18),
    )
    plan = solve_pair(batch, pool_reserves=None, pricing=book.pricing)
    rec = settle(world, book, batch, plan)
    buys = assert_filled(world, book, rec, batch)
    x_sold, y_sold = 400 * E18 + 8, 600 * E18 + 3
    for intent, bought in zip(batch[:2], buys[:2], strict=True):
        # each X-seller gets its pro-rata part of all the Y: the same rate up to 1 wei
        assert abs(bought - Fraction(intent.sell_amount * y_sold, x_sold)) <= 1
    assert buys[2] == x_sold


@paf_books
def test_pay_as_filled_can_pay_makers_of_a_pair_different_rates(world, book):
    alice, bob, dave = world.makers[0], world.makers[1], world.makers[3]
    batch = (
        make(alice, world.x, world.y, 100 * E18, 100 * E18),
        make(dave, world.x, world.y, 100 * E18, 100 * E18),
        make(bob, world.y, world.x, 300 * E18, 150 * E18),
    )
    rec = settle(world, book, batch, Plan.pay_as_filled([100 * E18, 200 * E18, 200 * E18]))
    assert assert_filled(world, book, rec, batch) == [100 * E18, 200 * E18, 200 * E18]
    # the same batch at a uniform price pays alice and dave alike
    uniform = world.books[book.name.replace("paf", "uniform")]
    rec = settle(world, uniform, batch, uniform.plan([], {world.x: 3, world.y: 2}))
    assert assert_filled(world, uniform, rec, batch) == [150 * E18, 150 * E18, 200 * E18]


def test_excess_is_shared_pro_rata_so_an_understating_solver_keeps_none(world, book):
    alice, dave = world.makers[0], world.makers[3]
    batch = (
        make(alice, world.x, world.y, 100 * E18, 150 * E18),
        make(dave, world.x, world.y, 300 * E18, 450 * E18),
    )
    out = amount_out(400 * E18, RX, RY, FEE)
    swap = Swap(world.x.address, world.y.address, FEE, 400 * E18, 0)
    # the solver states 1.5 Y per X although the pool pays almost 2
    plan = book.plan([150 * E18, 450 * E18], {world.x: 3, world.y: 2}, (swap,))
    before = ledger(world, book)
    rec = settle(world, book, batch, plan)
    buys = assert_filled(world, book, rec, batch)
    excess = out - 600 * E18
    assert buys == [150 * E18 + excess // 4, 450 * E18 + excess * 3 // 4]
    dust = out - sum(buys)
    change = moved(before, ledger(world, book))
    solver_y = change.get((world.y.address, world.solver.address), 0)
    assert solver_y == sum(reward(book, b, i) for b, i in zip(buys, batch, strict=True)) + dust
    assert dust <= 1


@on_books("paf-revert-0", "uniform-skip-0")
def test_revert_when_a_plan_leaves_sold_tokens_unbought(world, book):
    # A solver that swaps only enough of alice's X to meet her limit would otherwise keep the
    # rest, escaping solverShareBps (here 0): the book refuses such a plan.
    alice = world.makers[0]
    intent = make(alice, world.x, world.y, 100 * E18, 150 * E18)
    low, high = 0, 100 * E18  # the least X the pool turns into her 150 Y
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if amount_out(mid, RX, RY, FEE) < 150 * E18 else (low, mid)
    swap = Swap(world.x.address, world.y.address, FEE, low, 0)
    plan = book.plan([150 * E18], {world.x: 3, world.y: 2}, (swap,))
    reason = f"IntentBookUnspentToken({world.x.address}, {100 * E18 - low})"
    assert settle_reverts(world, book, (intent,), plan, reason).status == 0


def test_donated_tokens_are_never_paid_out(world, book):
    a, b = cow_pair(world)
    for token in (world.x, world.y):
        ok(world.chain, world.stranger, token.functions.mint(book.address, 1_000 * E18))
    before = ledger(world, book)
    rec = settle(world, book, (a, b), cow_plan(world, book))
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]
    assert moved(before, ledger(world, book)) == expected_moves(
        world, book, (a, b), [200 * E18, 100 * E18]
    )
    # a swap may not spend the donation either: the batch then holds less than it started with
    c = make(world.makers[2], world.x, world.y, 100 * E18, 1)
    spend = Swap(world.x.address, world.y.address, FEE, 1_100 * E18, 0)
    rec = settle(world, book, (c,), book.plan([1], {world.x: 1, world.y: 1}, (spend,)))
    assert rec.status == 0
    assert rec.revert_reason == (
        f"IntentBookInsufficientOutput({world.x.address}, 0, {1_000 * E18})"
    )
    assert world.x.functions.balanceOf(book.address).call() == 1_000 * E18


# ---------------------------------------------------------------------------------------------
# limits, outputs, malformed input
# ---------------------------------------------------------------------------------------------


@paf_books
def test_revert_when_pay_as_filled_names_a_maker_less_than_its_limit(world, book):
    alice, bob, dave = world.makers[0], world.makers[1], world.makers[3]
    batch = (
        make(alice, world.x, world.y, 100 * E18, 50 * E18),
        make(dave, world.x, world.y, 100 * E18, 50 * E18),
        make(bob, world.y, world.x, 200 * E18, 100 * E18),
    )
    # all 200 Y are named, so no excess lifts alice's 1 wei
    plan = Plan.pay_as_filled([1, 200 * E18 - 1, 200 * E18])
    settle_reverts(world, book, batch, plan, f"IntentBookLimitViolated(0, 1, {50 * E18})")
    assert nonces_used(book, batch) == [False] * 3


@uniform_books
def test_revert_when_uniform_price_is_below_a_limit(world, book):
    alice, bob = world.makers[:2]
    batch = (
        make(alice, world.x, world.y, 100 * E18, 250 * E18),
        make(bob, world.y, world.x, 200 * E18, 50 * E18),
    )
    before = ledger(world, book)
    # the batch clears at 2 Y per X whatever prices are named: a higher price owes X it lacks
    rec = settle(world, book, batch, book.plan([], {world.x: 2, world.y: 1}))
    assert rec.revert_reason == f"IntentBookLimitViolated(0, {200 * E18}, {250 * E18})"
    rec = settle(world, book, batch, book.plan([], {world.x: 5, world.y: 2}))
    assert rec.revert_reason == (
        f"IntentBookInsufficientOutput({world.y.address}, {200 * E18}, {250 * E18})"
    )
    assert ledger(world, book) == before


@paf_books
def test_revert_when_the_plan_owes_more_than_the_batch_holds(world, book):
    a, b = cow_pair(world)
    rec = settle(world, book, (a, b), Plan.pay_as_filled([200 * E18 + 1, 100 * E18]))
    assert rec.revert_reason == (
        f"IntentBookInsufficientOutput({world.y.address}, {200 * E18}, {200 * E18 + 1})"
    )


@uniform_books
@pytest.mark.parametrize("price", [None, 0])
def test_revert_when_uniform_plan_misses_a_price(world, book, price):
    a, b = cow_pair(world)
    prices = {world.x: 2} if price is None else {world.x: 2, world.y: price}
    rec = settle(world, book, (a, b), book.plan([], prices))
    assert rec.revert_reason == f"IntentBookMissingPrice({world.y.address})"


@diagonal
@pytest.mark.parametrize("flaw", ["same token", "zero amount"])
def test_revert_when_an_intent_is_malformed(world, book, flaw):
    a, b = cow_pair(world)
    carol = world.makers[2]
    bad = make(
        carol,
        world.x,
        world.x if flaw == "same token" else world.y,
        0 if flaw == "zero amount" else 5,
        0,
    )
    rec = settle(world, book, (a, b, bad), book.plan([0] * 3, {world.x: 2, world.y: 1}))
    assert rec.revert_reason == "IntentBookInvalidIntent(2)"


@pairwise
@pytest.mark.parametrize("array", ["signatures", "buy amounts", "prices"])
def test_revert_when_lengths_mismatch(world, book, array):
    a, b = cow_pair(world)
    sigs = [sign(world, book, i) for i in (a, b)]
    plan = cow_plan(world, book)
    checked = (array == "buy amounts") == (book.pricing == Pricing.PAY_AS_FILLED)
    if array == "signatures":
        sigs, reason = sigs[:1], "IntentBookLengthMismatch(2, 1)"
    elif array == "buy amounts":
        plan = Plan((200 * E18,), plan.tokens, plan.prices)
        reason = "IntentBookLengthMismatch(2, 1)" if checked else None
    else:
        plan = Plan(plan.buy_amounts, (world.x.address, world.y.address), (2,))
        reason = "IntentBookLengthMismatch(2, 1)" if checked else None
    rec = settle(world, book, (a, b), plan, signatures=sigs)
    if reason is None:  # the array this variant ignores
        assert_filled(world, book, rec, (a, b))
    else:
        assert rec.revert_reason == reason


@diagonal
def test_revert_when_condition_holds_gets_mismatched_flags(world, book):
    a, b = cow_pair(world)
    call = book.contract.functions.conditionHolds([a.as_tuple(), b.as_tuple()], [True], 0)
    assert send(world.chain, world.solver, call).revert_reason == "IntentBookLengthMismatch(2, 1)"


@diagonal
def test_condition_holds_follows_the_executed_flags(world, book):
    a, b = dependent_cow_pair(world)
    f = book.contract.functions.conditionHolds
    batch = [a.as_tuple(), b.as_tuple()]
    assert f(batch, [True, True], 0).call() is True
    assert f(batch, [True, False], 0).call() is False
    assert f(batch, [False, False], 1).call() is True  # b is unconditional


# ---------------------------------------------------------------------------------------------
# nonces: double fills and cancellation
# ---------------------------------------------------------------------------------------------


@revert_books
def test_revert_when_the_same_batch_is_settled_twice(world, book):
    a, b = cow_pair(world)
    assert_filled(world, book, settle(world, book, (a, b), cow_plan(world, book)), (a, b))
    reason = f"IntentBookNonceUsed({a.maker}, {a.nonce})"
    settle_reverts(world, book, (a, b), cow_plan(world, book), reason)


@skip_books
def test_settling_the_same_batch_twice_skips_every_intent_and_moves_nothing(world, book):
    a, b = cow_pair(world)
    assert_filled(world, book, settle(world, book, (a, b), cow_plan(world, book)), (a, b))
    before = ledger(world, book)
    rec = settle(world, book, (a, b), cow_plan(world, book))
    assert rec.status == 1, rec.revert_reason
    assert [name for name, _ in events(rec, book.contract)] == ["IntentSkipped"] * 2 + [
        "BatchSettled"
    ]
    assert ledger(world, book) == before


@revert_books
def test_revert_when_an_intent_appears_twice_in_one_batch(world, book):
    a, b = cow_pair(world)
    plan = book.plan([100 * E18, 100 * E18, 100 * E18], {world.x: 2, world.y: 1})
    settle_reverts(world, book, (a, a, b), plan, f"IntentBookNonceUsed({a.maker}, {a.nonce})")
    assert nonces_used(book, (a, b)) == [False, False]


@skip_books
def test_an_intent_repeated_in_one_batch_executes_once(world, book):
    a, b = cow_pair(world)
    plan = book.plan([200 * E18, 200 * E18, 100 * E18], {world.x: 2, world.y: 1})
    rec = settle(world, book, (a, a, b), plan)
    assert assert_filled(world, book, rec, (a, b), skipped=1) == [200 * E18, 100 * E18]


@diagonal
def test_cancel_marks_the_nonce_and_emits(world, book):
    alice = world.makers[0]
    rec = ok(world.chain, alice, book.contract.functions.cancel(77))
    assert events(rec, book.contract) == [
        ("IntentCancelled", {"maker": alice.address, "nonce": 77})
    ]
    assert book.contract.functions.nonceUsed(alice.address, 77).call() is True


@revert_books
def test_revert_when_settling_a_cancelled_intent(world, book):
    a, b = cow_pair(world)
    ok(world.chain, world.makers[1], book.contract.functions.cancel(b.nonce))
    reason = f"IntentBookNonceUsed({b.maker}, {b.nonce})"
    settle_reverts(world, book, (a, b), cow_plan(world, book), reason)


@diagonal
def test_revert_when_cancelling_twice_or_after_a_fill(world, book):
    a, b = cow_pair(world)
    alice = world.makers[0]
    # a nonce no intent of this module uses (a fixed one could be a's, by test order)
    spare = next(_nonces)
    ok(world.chain, alice, book.contract.functions.cancel(spare))
    rec = send(world.chain, alice, book.contract.functions.cancel(spare))
    assert rec.revert_reason == f"IntentBookNonceUsed({alice.address}, {spare})"
    assert_filled(world, book, settle(world, book, (a, b), cow_plan(world, book)), (a, b))
    rec = send(world.chain, alice, book.contract.functions.cancel(a.nonce))
    assert rec.revert_reason == f"IntentBookNonceUsed({alice.address}, {a.nonce})"


@diagonal
def test_cancel_is_per_maker(world, book):
    a, b = cow_pair(world)
    ok(world.chain, world.stranger, book.contract.functions.cancel(a.nonce))
    assert nonces_used(book, (a,)) == [False]
    assert_filled(world, book, settle(world, book, (a, b), cow_plan(world, book)), (a, b))


# ---------------------------------------------------------------------------------------------
# atomicity
# ---------------------------------------------------------------------------------------------


@diagonal
def test_revert_when_one_signature_is_bad_nothing_changes(world, book):
    a, b = cow_pair(world)
    c = make(world.makers[2], world.x, world.y, E18, 1)
    sigs = [sign(world, book, a), sign(world, book, b), sign(world, book, c, world.stranger)]
    plan = book.plan([200 * E18, 100 * E18, 0], {world.x: 2, world.y: 1})
    reason = f"IntentBookBadSignature(2, {world.stranger.address})"
    settle_reverts(world, book, (a, b, c), plan, reason, signatures=sigs)
    assert nonces_used(book, (a, b, c)) == [False] * 3


@diagonal
@pytest.mark.parametrize(("offset", "expired"), [(-1, True), (0, False)])
def test_expiry_is_checked_against_the_block_timestamp(world, book, offset, expired):
    a = alice_sells_x(world)
    when = world.chain.head.timestamp + 100
    late = bob_sells_y(world, deadline=when + offset)
    before = ledger(world, book)
    world.chain.set_next_block_time(when * 1000)
    rec = settle(world, book, (a, late), cow_plan(world, book))
    assert world.chain.block(rec.block_number).timestamp == when
    if expired:
        assert rec.revert_reason == f"IntentBookExpired(1, {when - 1}, {when})"
        assert ledger(world, book) == before
        assert nonces_used(book, (a, late)) == [False, False]
    else:
        assert_filled(world, book, rec, (a, late))


@revert_books
def test_revert_when_one_condition_fails_nothing_changes(world, book):
    a, b = cow_pair(world)
    # carol's counter would sell Y for Z: nobody does
    c = make(world.makers[2], world.z, world.y, E18, 1, condition=Condition.counter_intent())
    plan = book.plan([200 * E18, 100 * E18, 0], {world.x: 2, world.y: 1, world.z: 1})
    settle_reverts(world, book, (a, b, c), plan, "IntentBookConditionFailed(2)")
    assert nonces_used(book, (a, b, c)) == [False] * 3


# ---------------------------------------------------------------------------------------------
# conditions
# ---------------------------------------------------------------------------------------------


def bystander(world: World, book: Book) -> tuple[Intent, Swap, int]:
    """carol sells 100 Z for >= 90 Y through the Y/Z pool: an unconditional intent to run
    alongside conditional ones (returns it, its swap and its output)."""
    out = amount_out(100 * E18, RYZ, RYZ, FEE)
    c = make(world.makers[2], world.z, world.y, 100 * E18, 90 * E18)
    return c, Swap(world.z.address, world.y.address, FEE, 100 * E18, out), out


def assert_unmet(
    world: World, book: Book, batch: Sequence[Intent], plan: Plan, unmet: Sequence[int]
) -> Receipt:
    """The Revert variant reverts at the first unmet intent; the Skip variant leaves exactly
    the ``unmet`` intents out (events, nonces and balances untouched) and settles the rest."""
    before = ledger(world, book)
    rec = settle(world, book, batch, plan)
    if book.on_unmet == OnUnmetCondition.REVERT:
        assert rec.revert_reason == f"IntentBookConditionFailed({min(unmet)})"
        assert ledger(world, book) == before
        assert not any(nonces_used(book, batch))
        return rec
    executed = [i for k, i in enumerate(batch) if k not in unmet]
    assert_filled(world, book, rec, executed, skipped=len(unmet))
    skips = [args for name, args in events(rec, book.contract) if name == "IntentSkipped"]
    assert skips == [
        {
            "intentHash": digest(world, book, batch[k]),
            "maker": batch[k].maker,
            "nonce": batch[k].nonce,
        }
        for k in sorted(unmet)
    ]
    assert nonces_used(book, [batch[k] for k in unmet]) == [False] * len(unmet)
    change = moved(before, ledger(world, book))
    assert not [key for key in change if key[1] in {batch[k].maker for k in unmet}]
    return rec


@pairwise
def test_counter_intent_executes_with_a_crossing_counter(world, book):
    a = alice_sells_x(world, condition=Condition.counter_intent())
    b = bob_sells_y(world, condition=Condition.counter_intent())
    rec = settle(world, book, (a, b), cow_plan(world, book))
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]


@pairwise
@pytest.mark.parametrize("counter", ["absent", "not crossing"])
def test_counter_intent_unmet_reverts_or_skips(world, book, counter):
    # alice asks 2.2 Y per X, above the pool; only a counter intent could fill her
    a = alice_sells_x(world, 220 * E18, condition=Condition.counter_intent())
    if counter == "absent":
        other, swap, out = bystander(world, book)
    else:  # bob pays 200 Y for >= 95 X: 200 * 100 < 220 * 95, so he does not cross alice
        out = amount_out(200 * E18, RY, RX, FEE)
        other = bob_sells_y(world, 95 * E18)
        swap = Swap(world.y.address, world.x.address, FEE, 200 * E18, out)
    sell, buy = (world.z, world.y) if counter == "absent" else (world.y, world.x)
    plan = book.plan([0, out], {sell: out, buy: other.sell_amount}, (swap,))
    assert_unmet(world, book, (a, other), plan, [0])
    if book.on_unmet == OnUnmetCondition.SKIP:
        # alice's nonce is still usable: with a crossing counter she settles
        counter_intent = make(world.makers[3], world.y, world.x, 220 * E18, 100 * E18)
        rec = settle(
            world,
            book,
            (a, counter_intent),
            book.plan([220 * E18, 100 * E18], {world.x: 22, world.y: 10}),
        )
        assert assert_filled(world, book, rec, (a, counter_intent)) == [220 * E18, 100 * E18]


@pairwise
def test_intent_settles_executes_when_the_named_intent_does(world, book):
    a, b = dependent_cow_pair(world)
    rec = settle(world, book, (a, b), cow_plan(world, book))
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]


@pairwise
def test_mutual_intent_settles_conditions_both_execute(world, book):
    alice, bob = world.makers[:2]
    na, nb = next(_nonces), next(_nonces)
    a = alice_sells_x(world, nonce=na, condition=Condition.intent_settles(bob.address, nb))
    b = bob_sells_y(world, nonce=nb, condition=Condition.intent_settles(alice.address, na))
    rec = settle(world, book, (a, b), cow_plan(world, book))
    assert assert_filled(world, book, rec, (a, b)) == [200 * E18, 100 * E18]


@pairwise
def test_intent_settles_unmet_when_the_named_intent_is_absent(world, book):
    a = alice_sells_x(world, condition=Condition.intent_settles(world.makers[1].address, 424242))
    c, swap, out = bystander(world, book)
    plan = book.plan([0, out], {world.z: out, world.y: c.sell_amount}, (swap,))
    assert_unmet(world, book, (a, c), plan, [0])


@pairwise
def test_intent_settles_cascades_when_the_named_intent_is_skipped(world, book):
    # bob (CounterIntent) is not crossed by alice (2.2 Y per X asked); alice requires bob
    bob = bob_sells_y(world, 95 * E18, condition=Condition.counter_intent())
    a = alice_sells_x(world, 220 * E18, condition=Condition.intent_settles(bob.maker, bob.nonce))
    c, swap, out = bystander(world, book)
    plan = book.plan([0, 0, out], {world.z: out, world.y: c.sell_amount}, (swap,))
    # alice holds in the first pass (bob is still in) and loses her condition in the second,
    # so the Revert variant stops at bob (index 1) and the Skip variant drops both
    unmet = [0, 1] if book.on_unmet == OnUnmetCondition.SKIP else [1]
    assert_unmet(world, book, (a, bob, c), plan, unmet)


POOL_PRICE = RY * PRICE_SCALE // RX  # X priced in Y by the X/Y pool, scaled by 1e18


@pairwise
@pytest.mark.parametrize(
    ("fee", "low", "high", "holds"),
    [
        (FEE, POOL_PRICE, POOL_PRICE, True),
        (FEE, 0, POOL_PRICE, True),
        (FEE, POOL_PRICE, 2**256 - 1, True),
        (FEE, POOL_PRICE + 1, 2**256 - 1, False),
        (FEE, 0, POOL_PRICE - 1, False),
        (100, 0, 2**256 - 1, False),  # no X/Y pool with that fee
    ],
    ids=["at both bounds", "at max", "at min", "min + 1", "max - 1", "no pool"],
)
def test_price_within_holds_only_inside_the_bounds(world, book, fee, low, high, holds):
    a = alice_sells_x(world, 190 * E18, condition=Condition.price_within(fee, low, high))
    c, c_swap, c_out = bystander(world, book)
    a_out = amount_out(100 * E18, RX, RY, FEE)
    if holds:
        a_swap = Swap(world.x.address, world.y.address, FEE, 100 * E18, a_out)
        plan = book.plan(
            [a_out, c_out], {world.x: a_out, world.z: c_out, world.y: 100 * E18}, (a_swap, c_swap)
        )
        rec = settle(world, book, (a, c), plan)
        assert assert_filled(world, book, rec, (a, c)) == [a_out, c_out]
    else:
        plan = book.plan([0, c_out], {world.z: c_out, world.y: 100 * E18}, (c_swap,))
        assert_unmet(world, book, (a, c), plan, [0])


@on_books("paf-skip-1000", "uniform-skip-0")
def test_skipped_intents_route_drops_out_when_it_swaps_all_the_batch_holds(world, book):
    # the plan routes alice's X with an all-amount hop; her condition fails, so the hop has
    # nothing to swap and is left out instead of reverting the batch
    a = alice_sells_x(world, 190 * E18, condition=Condition.price_within(FEE, 0, POOL_PRICE - 1))
    c, c_swap, c_out = bystander(world, book)
    a_out = amount_out(100 * E18, RX, RY, FEE)
    a_swap = Swap(world.x.address, world.y.address, FEE, ALL, a_out)
    plan = book.plan(
        [a_out, c_out], {world.x: a_out, world.z: c_out, world.y: 100 * E18}, (a_swap, c_swap)
    )
    assert_unmet(world, book, (a, c), plan, [0])
    assert pool_reserves(world, world.xy) == {world.x.address: RX, world.y.address: RY}


@pairwise
def test_price_within_reads_the_pool_before_the_batch_swaps(world, book):
    # the batch's own swap moves the price out of alice's range; she still executes
    a_out = amount_out(100 * E18, RX, RY, FEE)
    condition = Condition.price_within(FEE, POOL_PRICE, POOL_PRICE)
    a = alice_sells_x(world, 190 * E18, condition=condition)
    swap = Swap(world.x.address, world.y.address, FEE, 100 * E18, a_out)
    rec = settle(
        world, book, (a,), book.plan([a_out], {world.x: a_out, world.y: 100 * E18}, (swap,))
    )
    assert assert_filled(world, book, rec, (a,)) == [a_out]
    reserves = pool_reserves(world, world.xy)
    assert reserves[world.y.address] * PRICE_SCALE // reserves[world.x.address] < POOL_PRICE


# ---------------------------------------------------------------------------------------------
# EIP-712 replay variants
# ---------------------------------------------------------------------------------------------


def _signed_variant(world: World, book: Book, intent: Intent, variant: str) -> tuple[Intent, bytes]:
    """An intent to submit and a signature by its maker that is wrong as ``variant`` says."""
    maker = world.chain.account(intent.maker)
    chain_id = world.chain.chain_id
    good = sign(world, book, intent)
    s = int.from_bytes(good[32:64], "big")
    if variant == "other chain id":
        return intent, sign_intent(
            maker, intent, chain_id=chain_id + 1, verifying_contract=book.address
        )
    if variant in ("other domain name", "other version"):
        msg = typed_data(intent, chain_id=chain_id, verifying_contract=book.address)
        msg["domain"]["name" if variant == "other domain name" else "version"] += "x"
        return intent, bytes(maker.sign_typed_data(full_message=msg).signature)
    if variant == "tampered limit":
        return Intent(
            *intent.as_tuple()[:4],
            intent.min_buy_amount - 1,
            intent.deadline,
            intent.nonce,
            intent.condition,
        ), good
    if variant == "tampered condition":
        return Intent(*intent.as_tuple()[:7], Condition.counter_intent()), good
    if variant == "signer is not the maker":
        return intent, sign(world, book, intent, world.stranger)
    if variant == "high s":
        return intent, good[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - good[64]])
    if variant == "v as 0/1":
        return intent, good[:64] + bytes([good[64] - 27])
    if variant == "64 bytes (EIP-2098 compact)":
        return intent, good[:32] + (s | ((good[64] - 27) << 255)).to_bytes(32, "big")
    if variant == "66 bytes":
        return intent, good + b"\x00"
    raise AssertionError(variant)


MISDIRECTED = [
    "other chain id",
    "other domain name",
    "other version",
    "tampered limit",
    "tampered condition",
    "signer is not the maker",
]
MALFORMED = ["high s", "v as 0/1", "64 bytes (EIP-2098 compact)", "66 bytes"]


@diagonal
@pytest.mark.parametrize("variant", MISDIRECTED + MALFORMED)
def test_revert_when_signature_is_misdirected_or_malformed(world, book, variant):
    a, b = cow_pair(world)
    submitted, sig = _signed_variant(world, book, a, variant)
    if variant in MALFORMED:
        signer = ZERO
    else:
        msg = typed_data(submitted, chain_id=world.chain.chain_id, verifying_contract=book.address)
        signer = Account.recover_message(encode_typed_data(full_message=msg), signature=sig)
        assert signer not in (ZERO, a.maker)
    settle_reverts(
        world,
        book,
        (submitted, b),
        cow_plan(world, book),
        f"IntentBookBadSignature(0, {signer})",
        signatures=[sig, sign(world, book, b)],
    )
    # the maker's real signature still works
    assert_filled(world, book, settle(world, book, (a, b), cow_plan(world, book)), (a, b))


@diagonal
def test_signature_for_the_book_next_door_is_rejected_but_valid_there(world, book):
    a, b = cow_pair(world)
    other = next(x for x in world.books.values() if x is not book)
    sigs = [sign(world, other, i) for i in (a, b)]
    msg = typed_data(a, chain_id=world.chain.chain_id, verifying_contract=book.address)
    signer = Account.recover_message(encode_typed_data(full_message=msg), signature=sigs[0])
    rec = settle(world, book, (a, b), cow_plan(world, book), signatures=sigs)
    assert rec.revert_reason == f"IntentBookBadSignature(0, {signer})"
    rec = settle(world, other, (a, b), cow_plan(world, other), signatures=sigs)
    assert_filled(world, other, rec, (a, b))


# ---------------------------------------------------------------------------------------------
# front-running a solver
# ---------------------------------------------------------------------------------------------


def test_copied_settle_call_redirects_only_the_solver_reward(world, book):
    chain = world.chain
    a, b = cow_pair(world)
    alice, dave = world.makers[0], world.makers[3]
    # a routed batch, so there is rounding dust too
    batch = (a, b, make(dave, world.x, world.y, 30 * E18 + 1, 50 * E18))
    plan = solve_pair(batch, pool_reserves=pool_reserves(world, world.xy), pricing=book.pricing)
    call = settle_call(book, batch, [sign(world, book, i) for i in batch], plan)
    # what the solver's call does when nobody copies it
    snap = chain.snapshot()
    before = ledger(world, book)
    ok(chain, world.solver, call)
    alone = moved(before, ledger(world, book))
    chain.revert(snap)
    # the copier sees it in the mempool and outbids it
    chain.automine = False
    honest = chain.transact(world.solver, call, gas=GAS, maxPriorityFeePerGas=10**9)
    copied = chain.transact(world.copier, call, gas=GAS, maxPriorityFeePerGas=5 * 10**9)
    chain.mine()
    first, second = chain.receipt(copied), chain.receipt(honest)
    assert first.status == 1 and second.block_number == first.block_number
    assert second.tx_index > first.tx_index
    if book.on_unmet == OnUnmetCondition.REVERT:
        assert second.revert_reason == f"IntentBookNonceUsed({alice.address}, {a.nonce})"
    else:  # every intent skipped, the plan's swap then reverts on the pool's minimum
        assert second.status == 0 and second.revert_reason.startswith("PoolSlippage")
    raced = moved(before, ledger(world, book))
    solver, copier = world.solver.address, world.copier.address
    assert {k: v for k, v in raced.items() if k[1] != copier} == {
        k: v for k, v in alone.items() if k[1] != solver
    }
    assert {k[0]: v for k, v in raced.items() if k[1] == copier} == {
        k[0]: v for k, v in alone.items() if k[1] == solver
    }
