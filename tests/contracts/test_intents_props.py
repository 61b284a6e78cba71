"""Properties of ``contracts/IntentBook.sol`` over random batches (hypothesis).

Runs on the same world as ``test_intents.py`` (built once for this module). Every example runs
on a chain snapshot that is reverted afterwards.

* Random batches on the X/Y pair, settled with a plan from
``agentbed.agents.market.intents.solve_pair`` or a
  random plan, on a random book variant: either every maker sold exactly its sell amount and
  received at least its limit (the solver only its reward and rounding dust, the book nothing),
  or the call reverted with ``IntentBookLimitViolated`` / ``IntentBookInsufficientOutput`` and
  no balance or nonce changed. A plan ``solve_pair`` returns always settles.
* The Python EIP-712 digest equals ``hashIntent`` for arbitrary field values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_intents import (
    E18,
    FEE,
    VARIANTS,
    World,
    assert_filled,
    build_world,
    digest,
    ledger,
    moved,
    nonces_used,
    pool_reserves,
    reward,
    settle,
)

from agentbed.agents.market.intents import (
    ALL,
    Condition,
    ConditionKind,
    Intent,
    NoSolution,
    Plan,
    Pricing,
    Swap,
    solve_pair,
)
from agentbed.chain.node import Chain

ALLOWED_REVERTS = (
    "IntentBookLimitViolated(",
    "IntentBookInsufficientOutput(",
    "IntentBookUnspentToken(",
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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


# An order: (sells X?, sell amount, limit in bps of the pool's mid rate).
orders = st.tuples(
    st.booleans(),
    st.one_of(st.integers(10**3, 10**6), st.integers(10**3, 10**21), st.just(E18)),
    st.one_of(st.integers(0, 12_000), st.sampled_from([0, 9_000, 9_970, 10_000])),
)


def _intents(world: World, spec: list[tuple[bool, int, int]]) -> tuple[Intent, ...]:
    out = []
    for k, (sells_x, amount, limit_bps) in enumerate(spec):
        sell, buy = (world.x, world.y) if sells_x else (world.y, world.x)
        # the pool's mid rate is 2 Y per X
        fair = amount * 2 if sells_x else amount // 2
        out.append(
            Intent(
                world.makers[k].address,
                sell.address,
                buy.address,
                amount,
                fair * limit_bps // 10_000,
                2**63,
                k + 1,
            )
        )
    return tuple(out)


def _random_plan(world: World, pricing: Pricing, intents: tuple[Intent, ...], data: Any) -> Plan:
    """A plan a careless or greedy solver might send: random amounts, prices and swap."""
    swaps: tuple[Swap, ...] = ()
    if data.draw(st.booleans(), label="swap"):
        source = data.draw(st.sampled_from(intents), label="swap source")
        held = sum(i.sell_amount for i in intents if i.sell_token == source.sell_token)
        amount = data.draw(st.one_of(st.just(ALL), st.integers(3, held)), label="amount in")
        swaps = (Swap(source.sell_token, source.buy_token, FEE, amount, 0),)
    if pricing.names_buy_amounts:
        scale = st.integers(5_000, 25_000)
        amounts = [
            i.min_buy_amount * data.draw(scale, label="bps of limit") // 10_000 for i in intents
        ]
        return Plan.pay_as_filled(amounts, swaps)
    px, py = (data.draw(st.integers(1, 10**6), label=f"price {t}") for t in "XY")
    return Plan.uniform({world.x.address: px, world.y.address: py}, swaps)


def _settle_and_check(
    world: World,
    name: str,
    spec: list[tuple[bool, int, int]],
    use_pool: bool,
    fallback: Any,
) -> str:
    """Settle one batch and check the book's promise; returns which outcome it had.

    The plan is ``solve_pair``'s, or ``fallback(pricing, intents)``'s when it finds none.
    """
    book = world.books[name]
    intents = _intents(world, spec)
    reserves = pool_reserves(world, world.xy) if use_pool else None
    try:
        plan, solved = solve_pair(intents, pool_reserves=reserves, pricing=book.pricing), True
    except NoSolution:
        plan, solved = fallback(book.pricing, intents), False
    snapshot = world.chain.snapshot()
    try:
        before = ledger(world, book)
        rec = settle(world, book, intents, plan)
        change = moved(before, ledger(world, book))
        if rec.status == 0:
            assert not solved, f"solve_pair's plan reverted: {rec.revert_reason}"
            assert rec.revert_reason is not None
            assert rec.revert_reason.startswith(ALLOWED_REVERTS), rec.revert_reason
            assert change == {}
            assert not any(nonces_used(book, intents))
            return "reverted"
        buys = assert_filled(world, book, rec, intents)
        rewards = {world.x.address: 0, world.y.address: 0}
        for intent, bought in zip(intents, buys, strict=True):
            paid = bought - reward(book, bought, intent)
            assert paid >= intent.min_buy_amount
            assert change.get((intent.sell_token, intent.maker), 0) == -intent.sell_amount
            assert change.get((intent.buy_token, intent.maker), 0) == paid
            rewards[intent.buy_token] += bought - paid
        for token, total in rewards.items():
            assert change.get((token, book.address), 0) == 0
            assert change.get((token, world.solver.address), 0) >= total
            assert sum(v for (t, _), v in change.items() if t == token) == 0
        return "solved" if solved else "settled"
    finally:
        world.chain.revert(snapshot)


def test_fuzz_makers_get_their_limits_or_nothing_changes(world):
    seen: Counter[str] = Counter()

    @FUZZ
    @given(
        name=st.sampled_from(tuple(VARIANTS)),
        spec=st.lists(orders, min_size=1, max_size=4),
        use_pool=st.booleans(),
        data=st.data(),
    )
    def run(name: str, spec: list[tuple[bool, int, int]], use_pool: bool, data: Any) -> None:
        def fallback(pricing: Pricing, intents: tuple[Intent, ...]) -> Plan:
            return _random_plan(world, pricing, intents, data)

        seen[_settle_and_check(world, name, spec, use_pool, fallback)] += 1

    run()
    # How often each outcome comes up depends on the examples drawn (6 to 26 solved batches of
    # 40 over hypothesis seeds); each is also pinned by a fixed case below.
    assert seen["reverted"] >= 1 and seen["solved"] >= 1, seen


# Two makers on opposite sides at fair limits (they match each other), and one that asks 20%
# more than the pool's mid rate, which no plan can pay.
SOLVABLE = [(True, 10**18, 9_000), (False, 2 * 10**18, 9_000)]
UNPAYABLE = [(True, 10**18, 12_000)]


@pytest.mark.parametrize("name", tuple(VARIANTS))
def test_fixed_batches_settle_or_revert_whole(world, name):
    def limits(pricing: Pricing, intents: tuple[Intent, ...]) -> Plan:
        if pricing.names_buy_amounts:
            return Plan.pay_as_filled([i.min_buy_amount for i in intents], ())
        return Plan.uniform({world.x.address: 1, world.y.address: 2}, ())

    def no_plan(pricing: Pricing, intents: tuple[Intent, ...]) -> Plan:
        raise AssertionError(f"solve_pair found no plan for {intents}")

    assert _settle_and_check(world, name, SOLVABLE, True, no_plan) == "solved"
    assert _settle_and_check(world, name, UNPAYABLE, False, limits) == "reverted"


addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uints = st.one_of(st.integers(0, 2**256 - 1), st.integers(0, 1000))
conditions = st.builds(
    Condition,
    kind=st.sampled_from(ConditionKind),
    maker=addresses,
    nonce=uints,
    pool_fee=uints,
    min_price=uints,
    max_price=uints,
)


def test_fuzz_digest_matches_hash_intent(world):
    @FUZZ
    @given(
        name=st.sampled_from(tuple(VARIANTS)),
        intent=st.builds(
            Intent,
            maker=addresses,
            sell_token=addresses,
            buy_token=addresses,
            sell_amount=uints,
            min_buy_amount=uints,
            deadline=uints,
            nonce=uints,
            condition=conditions,
        ),
    )
    def run(name: str, intent: Intent) -> None:
        book = world.books[name]
        onchain = book.contract.functions.hashIntent(intent.as_tuple()).call()
        assert onchain == digest(world, book, intent)

    run()
