"""Attacks on ``contracts/IntentBook.sol`` (issue 15, flaws 3 and 4), on the fixed and the
vulnerable variants, on the world of ``test_intents.py`` (built once for this module).

* Surplus steering: under (vulnerable) pay-as-filled pricing a solver names the buy amounts,
  so it can pay an honest maker exactly its limit and its own maker of the same pair the
  rest; fair pay-as-filled splits each group's total pro rata to sell amount, so the same
  plan pays both the same rate. Property: under fair and uniform pricing no maker of a
  batch gets a worse rate than another maker selling the same token for the same token
  (up to rounding, bounded below).
* Batch griefing: settling one intent of a batch alone first, its maker's ``cancel``, a
  revoked approval or a spent balance reverts the batch on a Revert book and only skips
  that intent on a Skip book. Property: removing any one intent from a batch (one-sided,
  routed through the pool with ``ALL``, committed to the makers' limits) before settlement
  never reverts the rest under Skip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_intents import (
    BALANCE_OF,
    E18,
    FEE,
    RX,
    RY,
    Book,
    World,
    assert_filled,
    build_world,
    fills,
    ledger,
    make,
    moved,
    nonces_used,
    ok,
    pool_reserves,
    settle,
)
from txkit import events

from agentbed.agents.market.intent_settlement import payouts
from agentbed.agents.market.intents import (
    ALL,
    Condition,
    Intent,
    NoSolution,
    Plan,
    Pricing,
    Swap,
    amount_out,
    fair_amounts,
    solve_pair,
)
from agentbed.chain.node import Chain

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REMOVALS = ("settled_alone", "cancelled", "revoked", "spent")
SKIP_BOOKS = ("paf-skip-1000", "uniform-skip-0", "fair-skip-1000")
REVERT_BOOKS = ("paf-revert-0", "uniform-revert-1000", "fair-revert-0")
FAIR_BOOKS = ("fair-revert-0", "fair-skip-1000")


@pytest.fixture(scope="module")
def intent_world(testbed_base_chain: Chain) -> Iterator[World]:
    """The world of ``test_intents.py``, built once for this module on the session chain."""
    chain = testbed_base_chain
    snapshot = chain.snapshot()
    try:
        yield build_world(chain)
    finally:
        chain.revert(snapshot)


@pytest.fixture
def world(intent_world: World, chain: Chain) -> World:
    return intent_world


# ---------------------------------------------------------------------------------------------
# flaw 3: surplus steering under pay-as-filled
# ---------------------------------------------------------------------------------------------


def _steering(world: World, book: Book) -> tuple[list[int], int]:
    """The issue's reproduction: the honest maker and the solver's own maker each sell 1 X
    for >= 1.9 Y; the pool pays ~3.988 Y for both; the plan names [limit, rest]. Returns
    the buy amounts (honest, own) and the pool's output."""
    honest = make(world.makers[0], world.x, world.y, E18, 19 * E18 // 10)
    own = make(world.makers[3], world.x, world.y, E18, 19 * E18 // 10)
    out = amount_out(2 * E18, RX, RY, FEE)
    swap = Swap(world.x.address, world.y.address, FEE, 2 * E18, 0)
    plan = Plan.pay_as_filled([honest.min_buy_amount, out - honest.min_buy_amount], [swap])
    rec = settle(world, book, (honest, own), plan)
    return assert_filled(world, book, rec, (honest, own)), out


@pytest.mark.parametrize("name", ["paf-revert-0", "paf-skip-1000"])
def test_vulnerable_pay_as_filled_lets_a_solver_steer_surplus_to_its_own_maker(world, name):
    (honest, own), out = _steering(world, world.books[name])
    assert round(out / 10**15) == 3988  # 3.988 Y, as in the issue
    assert honest == 19 * E18 // 10
    assert own == out - honest > 2 * E18


@pytest.mark.parametrize("name", FAIR_BOOKS)
def test_fair_pay_as_filled_pays_both_makers_the_same_whatever_the_split(world, name):
    (honest, own), out = _steering(world, world.books[name])
    assert honest == own == out // 2


# An order on the X/Y pair: (sells X?, sell amount, plan's buy amount in bps of the honest one).
_orders = st.tuples(st.booleans(), st.integers(10**15, 10**21), st.integers(0, 10_000))


def test_fuzz_no_maker_gets_a_worse_rate_than_another_of_its_group(world):
    """Fair books get ``solve_pair``'s routing with each intent's buy amount scaled at random
    (a solver steering the split, under-committing as it likes); uniform books get
    ``solve_pair``'s plan."""
    seen: Counter[str] = Counter()

    @FUZZ
    @given(
        name=st.sampled_from((*FAIR_BOOKS, "uniform-skip-0", "uniform-revert-1000")),
        spec=st.lists(_orders, min_size=2, max_size=4),
    )
    def run(name: str, spec: list[tuple[bool, int, int]]) -> None:
        book = world.books[name]
        intents = [
            make(world.makers[k], *((world.x, world.y) if sells_x else (world.y, world.x)), n, 0)
            for k, (sells_x, n, _) in enumerate(spec)
        ]
        try:
            plan = solve_pair(
                intents, pool_reserves=pool_reserves(world, world.xy), pricing=book.pricing
            )
        except NoSolution:
            return
        if book.pricing == Pricing.FAIR_PAY_AS_FILLED:
            named = [
                a * bps // 10_000 for a, (_, _, bps) in zip(plan.buy_amounts, spec, strict=True)
            ]
            plan = Plan.pay_as_filled(named, plan.swaps)
        snapshot = world.chain.snapshot()
        try:
            rec = settle(world, book, intents, plan)
            bought = assert_filled(world, book, rec, intents)
            _assert_same_rate(intents, bought, plan, book.pricing)
            seen["settled"] += 1
        finally:
            world.chain.revert(snapshot)

    run()
    assert seen["settled"] >= 15, seen


def _assert_same_rate(
    intents: Sequence[Intent], bought: Sequence[int], plan: Plan, pricing: Pricing
) -> None:
    """Within a group, ``bought[i] / sell[i]`` may fall short of another's rate only by the
    book's rounding: a floor of under 1 wei on the base amount, scaled by the excess factor
    ``available / required``, and one on the excess share (``IntentBook._payOut`` and
    ``_fairShare``): ``bought[j]·s_i - bought[i]·s_j < (2 + available / required)·s_j``.
    Under fair pricing the chain's payouts also equal the off-chain replay's exactly."""
    executed = [True] * len(intents)
    if pricing == Pricing.FAIR_PAY_AS_FILLED:
        bases = fair_amounts(intents, executed, plan.buy_amounts)
    else:
        price = dict(zip(plan.tokens, plan.prices, strict=True))
        bases = [i.sell_amount * price[i.sell_token] // price[i.buy_token] for i in intents]
    for i, a in enumerate(intents):
        buyers = [j for j, b in enumerate(intents) if b.buy_token == a.buy_token]
        available = sum(bought[j] for j in buyers)  # the dust (< 1 wei per buyer) aside
        required = sum(bases[j] for j in buyers)
        model = payouts(intents, executed, bases, a.buy_token, available, pricing)
        assert model is not None and abs(model[i] - bought[i]) <= len(buyers)
        factor = 3 + (available // required if required else 0)
        for j in buyers:
            if intents[j].sell_token != a.sell_token:
                continue
            s_i, s_j = a.sell_amount, intents[j].sell_amount
            assert bought[j] * s_i - bought[i] * s_j < factor * s_j, (i, j, bought)


# ---------------------------------------------------------------------------------------------
# flaw 4: batch griefing
# ---------------------------------------------------------------------------------------------


def _one_sided(world: World, sizes: Sequence[int], makers: Sequence[int]) -> tuple[Intent, ...]:
    """X-sellers asking 1.5 Y per X (the pool pays ~2): robust to any one leaving."""
    return tuple(
        make(world.makers[m], world.x, world.y, size, size * 3 // 2)
        for m, size in zip(makers, sizes, strict=True)
    )


def _all_routed(world: World, book: Book, intents: Sequence[Intent]) -> Plan:
    """Everything through the pool (``ALL``, no minimum), committed to the limits only."""
    swaps = (Swap(world.x.address, world.y.address, FEE, ALL, 0),)
    return book.plan([i.min_buy_amount for i in intents], {world.x: 3, world.y: 2}, swaps)


def _remove(world: World, book: Book, intent: Intent, how: str) -> None:
    """Take ``intent`` out of any later batch the way a griefer (or its maker) can."""
    maker = world.chain.account(intent.maker)
    if how == "settled_alone":
        rec = settle(world, book, (intent,), _all_routed(world, book, (intent,)))
        assert_filled(world, book, rec, (intent,))
    elif how == "cancelled":
        ok(world.chain, maker, book.contract.functions.cancel(intent.nonce))
    elif how == "revoked":
        ok(world.chain, maker, world.x.functions.approve(book.address, 0))
    else:  # spent: the maker's whole X balance moves away
        data = BALANCE_OF + bytes(12) + bytes.fromhex(intent.maker[2:])
        balance = int.from_bytes(world.chain.call(world.x.address, data), "big")
        ok(world.chain, maker, world.x.functions.transfer(world.stranger.address, balance))


@pytest.mark.parametrize("how", REMOVALS)
@pytest.mark.parametrize("name", SKIP_BOOKS)
def test_skip_settles_the_rest_of_a_batch_one_of_whose_intents_was_removed(world, name, how):
    book = world.books[name]
    victim, *rest = _one_sided(world, [10 * E18, 20 * E18, 5 * E18], [0, 1, 2])
    _remove(world, book, victim, how)
    before = ledger(world, book)
    rec = settle(world, book, (victim, *rest), _all_routed(world, book, (victim, *rest)))
    assert_filled(world, book, rec, rest, skipped=1)
    names = [n for n, _ in events(rec, book.contract)]
    assert names.count("IntentSkipped") == 1 and len(fills(rec, book)) == 2
    change = moved(before, ledger(world, book))
    assert not any(party == victim.maker for _, party in change)
    assert not any(party == book.address for _, party in change)
    assert nonces_used(book, (victim,)) == [how in ("settled_alone", "cancelled")]


@pytest.mark.parametrize("how", REMOVALS)
@pytest.mark.parametrize("name", REVERT_BOOKS)
def test_revert_books_still_revert_the_whole_batch_when_one_intent_was_removed(world, name, how):
    book = world.books[name]
    batch = _one_sided(world, [10 * E18, 20 * E18, 5 * E18], [0, 1, 2])
    _remove(world, book, batch[0], how)
    before = ledger(world, book)
    rec = settle(world, book, batch, _all_routed(world, book, batch))
    assert rec.status == 0
    if how in ("settled_alone", "cancelled"):
        assert rec.revert_reason == f"IntentBookNonceUsed({batch[0].maker}, {batch[0].nonce})"
    assert ledger(world, book) == before


@pytest.mark.parametrize("name", SKIP_BOOKS)
def test_an_intent_dropped_after_its_pull_gets_its_tokens_back(world, name):
    """carol's intent settles only with bob's, which comes later in the batch and whose
    approval was revoked: carol's X is pulled, bob's transfer fails, carol's condition then
    fails, and her X goes back; alice's settles."""
    book = world.books[name]
    alice, bob = _one_sided(world, [10 * E18, 20 * E18], [0, 1])
    carol = make(
        world.makers[2],
        world.x,
        world.y,
        5 * E18,
        75 * E18 // 10,
        condition=Condition.intent_settles(bob.maker, bob.nonce),
    )
    _remove(world, book, bob, "revoked")
    batch = (carol, bob, alice)
    before = ledger(world, book)
    rec = settle(world, book, batch, _all_routed(world, book, batch))
    assert_filled(world, book, rec, (alice,), skipped=2)
    change = moved(before, ledger(world, book))
    assert not any(party in (bob.maker, carol.maker, book.address) for _, party in change)
    assert nonces_used(book, (carol, bob)) == [False, False]


def test_fuzz_removing_any_one_intent_never_reverts_the_rest_under_skip(world):
    @FUZZ
    @given(
        name=st.sampled_from(SKIP_BOOKS),
        sizes=st.lists(st.integers(10**12, 10**22), min_size=2, max_size=4),
        data=st.data(),
    )
    def run(name: str, sizes: list[int], data: Any) -> None:
        book = world.books[name]
        batch = _one_sided(world, sizes, range(len(sizes)))
        gone = data.draw(st.integers(0, len(batch) - 1), label="removed")
        how = data.draw(st.sampled_from(REMOVALS), label="how")
        snapshot = world.chain.snapshot()
        try:
            _remove(world, book, batch[gone], how)
            rec = settle(world, book, batch, _all_routed(world, book, batch))
            rest = batch[:gone] + batch[gone + 1 :]
            assert_filled(world, book, rec, rest, skipped=1)
        finally:
            world.chain.revert(snapshot)

    run()
