"""The off-chain side of the intent book (agents/intents.py), without a chain.

Records and their validation, EIP-712 hashing against an independent encoding of the typehash
strings in ``contracts/IntentConditions.sol``, signing, and the reference solver
``solve_pair``: exact amounts on small batches, its failure modes, and a property checking
every plan it returns against an independent model of ``IntentBook.settle``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.economy.reputation import SECP256K1_N
from agentbed.agents.market.intents import (
    ALL,
    SETTLE_ARGS,
    SETTLE_SELECTOR,
    Condition,
    ConditionKind,
    Intent,
    NoSolution,
    Plan,
    Pricing,
    Swap,
    amount_out,
    crosses,
    decode_settle,
    intent_digest,
    sign_intent,
    solve_pair,
    typed_data,
)

ROOT = Path(__file__).resolve().parents[3]
X = "0x" + "11" * 20
Y = "0x" + "22" * 20
BOOK = "0x" + "33" * 20
MAKERS = tuple(Account.from_key(bytes([k]) * 32) for k in range(1, 7))
E18 = 10**18
POOL = {X: 10**24, Y: 2 * 10**24}  # 2 Y per X
PAF, UNIFORM, FAIR = Pricing.PAY_AS_FILLED, Pricing.UNIFORM_PRICE, Pricing.FAIR_PAY_AS_FILLED


def intent(
    k: int,
    sell: str,
    buy: str,
    sell_amount: int,
    min_buy: int,
    *,
    nonce: int | None = None,
    condition: Condition | None = None,
) -> Intent:
    return Intent(
        MAKERS[k].address,
        sell,
        buy,
        sell_amount,
        min_buy,
        2**40,
        k if nonce is None else nonce,
        condition or Condition.none(),
    )


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------


def test_condition_constructors_fill_only_their_fields():
    assert Condition.none() == Condition(ConditionKind.NONE, "0x" + "00" * 20, 0, 0, 0, 0)
    assert Condition.counter_intent().as_tuple() == (1, "0x" + "00" * 20, 0, 0, 0, 0)
    settles = Condition.intent_settles(MAKERS[0].address.lower(), 9)
    assert settles.as_tuple() == (2, MAKERS[0].address, 9, 0, 0, 0)
    assert Condition.price_within(30, 1, 2).as_tuple() == (3, "0x" + "00" * 20, 0, 30, 1, 2)
    assert Condition(2).kind is ConditionKind.INTENT_SETTLES


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": 4}, ValueError),
        ({"kind": True}, TypeError),
        ({"kind": "none"}, TypeError),
        ({"maker": "0x1234"}, ValueError),
        ({"maker": 5}, TypeError),
        ({"nonce": -1}, ValueError),
        ({"pool_fee": 2**256}, ValueError),
        ({"min_price": 1.0}, TypeError),
        ({"max_price": False}, TypeError),
    ],
)
def test_condition_rejects_bad_fields(fields, error):
    with pytest.raises(error):
        Condition(**fields)


def test_intent_checksums_addresses_and_lays_out_the_struct():
    i = Intent(MAKERS[0].address.lower(), X, Y.upper().replace("0X", "0x"), 5, 6, 7, 8)
    assert (i.maker, i.sell_token, i.buy_token) == (MAKERS[0].address, X, Y)
    assert i.condition == Condition.none()
    assert i.as_tuple() == (MAKERS[0].address, X, Y, 5, 6, 7, 8, (0, "0x" + "00" * 20, 0, 0, 0, 0))
    message = i.as_message()
    assert list(message) == [
        "maker",
        "sellToken",
        "buyToken",
        "sellAmount",
        "minBuyAmount",
        "deadline",
        "nonce",
        "condition",
    ]
    assert list(message["condition"]) == [
        "kind",
        "maker",
        "nonce",
        "poolFee",
        "minPrice",
        "maxPrice",
    ]


@pytest.mark.parametrize(
    ("position", "value", "error"),
    [
        (0, b"\x11" * 20, TypeError),
        (1, "0xnot an address", ValueError),
        (3, -1, ValueError),
        (4, 2**256, ValueError),
        (5, "7", TypeError),
        (6, True, TypeError),
        (7, (0, X, 0, 0, 0, 0), TypeError),
    ],
)
def test_intent_rejects_bad_fields(position, value, error):
    fields: list[object] = [MAKERS[0].address, X, Y, 5, 6, 7, 8, Condition.none()]
    fields[position] = value
    with pytest.raises(error):
        Intent(*fields)  # type: ignore[arg-type]


def test_intent_keeps_what_only_the_contract_refuses():
    # same token on both sides and a zero amount are valid uint/address values
    assert Intent(MAKERS[0].address, X, X, 0, 0, 0, 0).sell_token == X


def test_plan_constructors_and_layout():
    swap = Swap(X.lower(), Y, 30, ALL, 1)
    assert swap.as_tuple() == (X, Y, 30, 2**256 - 1, 1)
    paf = Plan.pay_as_filled([1, 2], [swap])
    assert paf.as_tuple() == ((1, 2), (), (), ((X, Y, 30, 2**256 - 1, 1),))
    uniform = Plan.uniform({Y.lower(): 3, X: 4})
    assert uniform.as_tuple() == ((), (Y, X), (3, 4), ())


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: Plan.pay_as_filled([-1]), ValueError),
        (lambda: Plan.uniform({X: 2**256}), ValueError),
        (lambda: Plan.uniform({"0x12": 1}), ValueError),
        (lambda: Plan((), (), (), ((X, Y, 30, 1, 0),)), TypeError),  # type: ignore[arg-type]
        (lambda: Swap(X, Y, -1, 1), ValueError),
        (lambda: Swap(X, 7, 30, 1), TypeError),  # type: ignore[arg-type]
    ],
)
def test_plan_and_swap_reject_bad_fields(build, error):
    with pytest.raises(error):
        build()


@pytest.mark.parametrize(
    "plan",
    [
        Plan.pay_as_filled([5, 7], [Swap(X, Y, 30, ALL, 3)]),
        Plan.uniform({X: 2, Y: 1}),
    ],
    ids=["pay_as_filled", "uniform"],
)
def test_decode_settle_reads_back_what_the_solver_sent(plan):
    batch = (
        intent(0, X, Y, 3 * E18, 5 * E18, condition=Condition.counter_intent()),
        intent(1, Y, X, 7 * E18, 3 * E18, condition=Condition.price_within(30, 1, 2)),
    )
    signatures = (b"\x01" * 65, b"\x02" * 65)
    args = ([i.as_tuple() for i in batch], list(signatures), plan.as_tuple())
    calldata = SETTLE_SELECTOR + encode(SETTLE_ARGS, args)
    assert decode_settle(calldata) == (batch, signatures, plan)
    with pytest.raises(ValueError, match="not settle"):
        decode_settle(b"\x00" * 4 + calldata[4:])


def test_crosses_when_the_counter_offer_meets_the_limit():
    wants_two = intent(0, X, Y, 10, 20)  # sells 10 X for at least 20 Y
    assert crosses(wants_two, intent(1, Y, X, 20, 10))  # exactly at the limit
    assert crosses(wants_two, intent(1, Y, X, 21, 10))
    assert not crosses(wants_two, intent(1, Y, X, 19, 10))
    assert not crosses(wants_two, intent(1, X, Y, 20, 10))  # the same side


# ---------------------------------------------------------------------------------------------
# EIP-712
# ---------------------------------------------------------------------------------------------


def _solidity_typehashes() -> tuple[bytes, bytes]:
    """The typehash strings as written in IntentConditions.sol, hashed."""
    source = (ROOT / "contracts" / "IntentConditions.sol").read_text()
    condition = (
        "Condition(uint8 kind,address maker,uint256 nonce,uint256 poolFee,uint256 minPrice,"
        "uint256 maxPrice)"
    )
    intent_type = (
        "Intent(address maker,address sellToken,address buyToken,uint256 sellAmount,"
        "uint256 minBuyAmount,uint256 deadline,uint256 nonce,Condition condition)"
    )
    assert (
        '"Condition(uint8 kind,address maker,uint256 nonce,uint256 poolFee,uint256 minPrice,'
        in source
    )
    assert 'uint256 maxPrice)"' in source
    assert '"uint256 deadline,uint256 nonce,Condition condition)"' in source
    return keccak(text=condition), keccak(text=intent_type + condition)


def _manual_digest(i: Intent, chain_id: int, contract: str) -> bytes:
    condition_th, intent_th = _solidity_typehashes()
    c = i.condition
    condition_hash = keccak(
        encode(
            ["bytes32", "uint8", "address", "uint256", "uint256", "uint256", "uint256"],
            [condition_th, *c.as_tuple()],
        )
    )
    struct = keccak(
        encode(
            ["bytes32", "address", "address", "address"] + ["uint256"] * 4 + ["bytes32"],
            [intent_th, *i.as_tuple()[:7], condition_hash],
        )
    )
    domain_th = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_th,
                keccak(text="agent-testbed IntentBook"),
                keccak(text="1"),
                chain_id,
                contract,
            ],
        )
    )
    return keccak(b"\x19\x01" + domain + struct)


@pytest.mark.parametrize(
    "condition",
    [
        Condition.none(),
        Condition.counter_intent(),
        Condition.intent_settles(MAKERS[1].address, 2**256 - 1),
        Condition.price_within(30, 5, 6),
    ],
)
def test_digest_equals_an_independent_encoding_of_the_solidity_types(condition):
    i = intent(0, X, Y, 10, 20, condition=condition)
    assert intent_digest(i, chain_id=1337, verifying_contract=BOOK) == _manual_digest(i, 1337, BOOK)


def test_digest_depends_on_every_field_and_the_domain():
    base = intent(0, X, Y, 10, 20, condition=Condition.price_within(30, 5, 6))
    fields = list(base.as_tuple()[:7])
    seen = {intent_digest(base, chain_id=1, verifying_contract=BOOK)}
    for k in range(3, 7):
        changed = fields.copy()
        changed[k] += 1
        seen.add(
            intent_digest(Intent(*changed, base.condition), chain_id=1, verifying_contract=BOOK)
        )
    for cond in (Condition.price_within(31, 5, 6), Condition.price_within(30, 5, 7)):
        seen.add(intent_digest(Intent(*fields, cond), chain_id=1, verifying_contract=BOOK))
    seen.add(intent_digest(base, chain_id=2, verifying_contract=BOOK))
    seen.add(intent_digest(base, chain_id=1, verifying_contract=X))
    assert len(seen) == 9


def test_sign_intent_recovers_to_the_maker_with_low_s():
    i = intent(2, X, Y, 10, 20)
    sig = sign_intent(MAKERS[2], i, chain_id=1337, verifying_contract=BOOK)
    assert len(sig) == 65 and sig[64] in (27, 28)
    assert int.from_bytes(sig[32:64], "big") <= SECP256K1_N // 2
    message = encode_typed_data(full_message=typed_data(i, chain_id=1337, verifying_contract=BOOK))
    assert Account.recover_message(message, signature=sig) == MAKERS[2].address


# ---------------------------------------------------------------------------------------------
# solve_pair
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "r_in", "r_out", "fee"),
    [
        (10**18, 10**21, 4 * 10**21, 30),
        (7, 1001, 1001, 0),
        (10**30, 10**18, 5, 1000),
        (1, 10**24, 1, 30),
    ],
)
def test_amount_out_is_the_most_the_pool_can_pay_keeping_k(amount, r_in, r_out, fee):
    # Uniswap v2's rule with the fee in bps: the fee-adjusted k may not fall
    def keeps_k(out: int) -> bool:
        return (r_in * 10_000 + amount * (10_000 - fee)) * (r_out - out) >= r_in * 10_000 * r_out

    out = amount_out(amount, r_in, r_out, fee)
    assert keeps_k(out) and not keeps_k(out + 1)


@pytest.mark.parametrize("pricing", [PAF, UNIFORM])
def test_cow_pair_without_pool_trades_all_of_each_side(pricing):
    a, b = intent(0, X, Y, 100, 150), intent(1, Y, X, 200, 90)
    plan = solve_pair((a, b), pool_reserves=None, pricing=pricing)
    if pricing == PAF:
        assert plan == Plan.pay_as_filled([200, 100])
    else:
        assert plan == Plan.uniform({X: 200, Y: 100})


@pytest.mark.parametrize("pricing", [PAF, UNIFORM])
def test_one_sided_batch_routes_everything(pricing):
    batch = (intent(0, Y, X, 3 * E18, E18), intent(1, Y, X, E18, 0))
    out = amount_out(4 * E18, POOL[Y], POOL[X], 30)
    plan = solve_pair(batch, pool_reserves=POOL, pricing=pricing)
    assert plan.swaps == (Swap(Y, X, 30, 4 * E18, out),)
    bases = _model(batch, plan, pricing, POOL, 30)
    assert sum(bases) >= out - 1 and bases[0] > E18


def test_batch_clears_at_one_price_with_the_pool_for_the_rest():
    a, b = intent(0, X, Y, E18, 19 * E18 // 10), intent(1, Y, X, E18, 4 * E18 // 10)
    plan = solve_pair((a, b), pool_reserves=POOL, pricing=UNIFORM)
    (swap,) = plan.swaps
    assert (swap.token_in, swap.token_out) == (X, Y)
    paid_a, paid_b = _model((a, b), plan, UNIFORM, POOL, 30)
    # alice gets ~1.994 Y per X (the pool's rate net of its fee) and bob pays the same rate
    assert abs(paid_a * paid_b - E18 * E18) <= 2 * E18
    assert 1_993 * E18 // 1000 < paid_a < 1_995 * E18 // 1000


def test_no_swap_when_the_cow_rate_is_inside_the_pool_spread():
    a, b = intent(0, X, Y, 100 * E18, 150 * E18), intent(1, Y, X, 200 * E18 + 10**15, 90 * E18)
    for pricing in (PAF, UNIFORM):
        assert solve_pair((a, b), pool_reserves=POOL, pricing=pricing).swaps == ()


def test_pay_as_filled_settles_what_uniform_pricing_cannot():
    # two X-sellers asking 1.9 and 2.1 Y per X: one rate cannot pay both, their limits can
    batch = (
        intent(0, X, Y, E18, 19 * E18 // 10),
        intent(1, X, Y, E18, 21 * E18 // 10),
        intent(2, Y, X, E18, 4 * E18 // 10),
    )
    plan = solve_pair(batch, pool_reserves=POOL, pricing=PAF)
    paid = _model(batch, plan, PAF, POOL, 30)
    assert paid[0] >= 19 * E18 // 10 and paid[1] >= 21 * E18 // 10
    with pytest.raises(NoSolution, match="limits cannot all be met"):
        solve_pair(batch, pool_reserves=POOL, pricing=UNIFORM)


@pytest.mark.parametrize(
    ("batch", "pool", "reason"),
    [
        ((), POOL, "no intents"),
        ((intent(0, X, Y, 1, 0), intent(0, Y, X, 1, 0)), POOL, "appears twice"),
        ((intent(0, X, X, 1, 0),), POOL, "buys the token it sells"),
        ((intent(0, X, Y, 0, 0),), POOL, "sells nothing"),
        ((intent(0, X, Y, E18, 2 * E18),), POOL, "limits cannot all be met"),
        ((intent(0, X, Y, E18, 0),), None, "needs a pool"),
        ((intent(0, X, Y, E18, 0),), {X: 10**24, Y: 0}, "needs a pool"),
        ((intent(0, Y, X, 1, 0),), POOL, "pays nothing"),
        ((intent(0, X, Y, 100, 300), intent(1, Y, X, 200, 50)), None, "cannot all be met"),
    ],
    ids=[
        "empty",
        "nonce twice",
        "same token",
        "zero amount",
        "limit above pool",
        "one-sided no pool",
        "empty pool",
        "dust",
        "cow below limit",
    ],
)
def test_no_solution(batch, pool, reason):
    for pricing in (PAF, UNIFORM):
        with pytest.raises(NoSolution, match=reason) as err:
            solve_pair(batch, pool_reserves=pool, pricing=pricing)
        assert err.value.reason == str(err.value)


def test_value_error_for_several_pairs_or_a_bad_fee():
    z = "0x" + "44" * 20
    with pytest.raises(ValueError, match="single token pair"):
        solve_pair((intent(0, X, Y, 1, 0), intent(1, X, z, 1, 0)), pool_reserves=None, pricing=PAF)
    with pytest.raises(ValueError, match="fee_bps"):
        solve_pair((intent(0, X, Y, 1, 0),), pool_reserves=POOL, fee_bps=10_000, pricing=PAF)


def test_pool_reserves_keys_may_be_any_case():
    batch = (intent(0, X, Y, E18, 0),)
    lower = {k.lower(): v for k, v in POOL.items()}
    plan = solve_pair(batch, pool_reserves=lower, pricing=PAF)
    assert plan == solve_pair(batch, pool_reserves=POOL, pricing=PAF)


def _model(
    batch: Sequence[Intent], plan: Plan, pricing: Pricing, pool: dict[str, int], fee: int
) -> list[int]:
    """What ``IntentBook.settle`` pays each intent under ``plan`` (asserting it would not
    revert): pull every sell amount, run the swaps on a pool with ``pool`` reserves, pay out."""
    held = {X: 0, Y: 0}
    for i in batch:
        held[i.sell_token] += i.sell_amount
    reserves = dict(pool)
    for s in plan.swaps:
        amount = held[s.token_in] if s.amount_in == ALL else s.amount_in
        out = amount_out(amount, reserves[s.token_in], reserves[s.token_out], s.fee)
        assert s.fee == fee and 0 < amount <= held[s.token_in] and out >= max(s.min_amount_out, 1)
        held[s.token_in] -= amount
        held[s.token_out] += out
        reserves[s.token_in] += amount
        reserves[s.token_out] -= out
    if pricing == PAF:
        assert len(plan.buy_amounts) == len(batch)
        bases = list(plan.buy_amounts)
    elif pricing == FAIR:  # each side's named total, split by what its makers sell
        assert len(plan.buy_amounts) == len(batch)
        side_buy, side_sell = {X: 0, Y: 0}, {X: 0, Y: 0}
        for i, named in zip(batch, plan.buy_amounts, strict=True):
            side_buy[i.sell_token] += named
            side_sell[i.sell_token] += i.sell_amount
        bases = [side_buy[i.sell_token] * i.sell_amount // side_sell[i.sell_token] for i in batch]
    else:
        price = dict(zip(plan.tokens, plan.prices, strict=True))
        bases = [i.sell_amount * price[i.sell_token] // price[i.buy_token] for i in batch]
    paid = [0] * len(batch)
    for token in (X, Y):
        buyers = [k for k, i in enumerate(batch) if i.buy_token == token]
        required = sum(bases[k] for k in buyers)
        assert held[token] >= required
        for k in buyers:
            excess = held[token] - required
            if required:
                share = excess * bases[k] // required
            elif pricing == FAIR:
                share = excess * batch[k].sell_amount // sum(batch[j].sell_amount for j in buyers)
            else:
                share = excess // len(buyers)
            paid[k] = bases[k] + share
            assert paid[k] >= batch[k].min_buy_amount
        # nothing a maker sold is left for the solver beyond rounding
        assert held[token] - sum(paid[k] for k in buyers) < max(len(buyers), 1)
    return paid


orders = st.tuples(
    st.booleans(),
    st.integers(10**3, 10**22),
    st.integers(0, 11_000),
)


@settings(max_examples=200, deadline=None)
@given(
    spec=st.lists(orders, min_size=1, max_size=6),
    pricing=st.sampled_from([PAF, UNIFORM, FAIR]),
    use_pool=st.booleans(),
    fee=st.sampled_from([0, 30, 1000]),
)
def test_fuzz_every_returned_plan_settles_in_the_model(spec, pricing, use_pool, fee):
    batch = tuple(
        intent(k, X, Y, a, a * 2 * bps // 10_000)
        if sells_x
        else intent(k, Y, X, a, a * bps // 20_000)
        for k, (sells_x, a, bps) in enumerate(spec)
    )
    pool = POOL if use_pool else None
    try:
        plan = solve_pair(batch, pool_reserves=pool, fee_bps=fee, pricing=pricing)
    except NoSolution:
        return
    _model(batch, plan, pricing, POOL, fee)


def test_fair_pricing_settles_what_uniform_pricing_settles_and_pays_one_rate_per_side():
    # the batch of test_batch_clears_at_one_price_with_the_pool_for_the_rest, plus a second
    # X-seller with a lower limit: both X-sellers get the same rate
    batch = (
        intent(0, X, Y, E18, 19 * E18 // 10),
        intent(1, X, Y, 3 * E18, 5 * E18),
        intent(2, Y, X, E18, 4 * E18 // 10),
    )
    plan = solve_pair(batch, pool_reserves=POOL, pricing=FAIR)
    paid = _model(batch, plan, FAIR, POOL, 30)
    assert abs(paid[0] * 3 - paid[1]) <= 3
    solve_pair(batch, pool_reserves=POOL, pricing=UNIFORM)  # solvable there too
