"""``contracts/SurplusShare.sol``: a maker's change of route settles only with its payments.

Network: A/B and B/D (1000 each side), A/C and C/D (800), A/D (300), all our pool. The maker
(account 1) would sell A for D on A>B>D, congesting the payer (account 2) who sells on the same
route right behind it; it commits to A>C>D if the payer pays it a share of the surplus it gets
from that. The solver is account 3. Each test runs on a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from marketkit import World, build_world
from txkit import assert_ok, assert_reverted

from agentbed.agents.erc20 import approve_calldata
from agentbed.agents.market.routing import Route, Split, best_route, find_routes
from agentbed.agents.market.routing_calls import attach_router
from agentbed.agents.market.surplus_share import (
    BPS,
    SharedOrder,
    coordinate,
    deploy_surplus_share,
    order_digest,
    route_tuples,
    routes_hash,
    settle_calldata,
    settle_gas,
    sign_order,
)
from agentbed.agents.market.world import Market, PoolSpec

E = 10**18
MAX = 2**256 - 1
SPECS = (
    PoolSpec("A", "B", 1000 * E, 1000 * E),
    PoolSpec("B", "D", 1000 * E, 1000 * E),
    PoolSpec("A", "C", 800 * E, 800 * E),
    PoolSpec("C", "D", 800 * E, 800 * E),
    PoolSpec("A", "D", 300 * E, 300 * E),
)
ORDER_ABI = (
    "(address,address,address,uint256,uint256,bytes32,uint256,uint256,address,uint256,uint256,"
    "address[],uint256[],uint256)"
)
HASH_ORDER = keccak(text=f"hashOrder({ORDER_ABI})")[:4]
SHARED_TOPIC = keccak(
    text="SurplusShared(address,address,address,uint256,uint256,uint256,uint256,uint256)"
)


@pytest.fixture(scope="module")
def world() -> World:
    built = build_world(7, SPECS, {s: 10_000 * E for s in "ABCD"}, accounts=4)
    built.chain.automine = True
    return built


def _setup(world: World, market: Market) -> str:
    attach_router(market)
    share = deploy_surplus_share(market)
    for i in (1, 2):
        for token in market.tokens.values():
            world.chain.transact(
                world.account(i), to=token, data=approve_calldata(share, MAX), gas=60_000
            )
    return share


@pytest.fixture
def market(world: World) -> Iterator[tuple[Market, str]]:
    with world.fresh() as fresh:
        yield fresh, _setup(world, fresh)


def quote(market: Market) -> Any:
    def q(pool: Any, amount: int, r_in: int, r_out: int) -> int:
        return int(market.venue_of(pool).amount_out(amount, r_in, r_out, pool.address))

    return q


def route(market: Market, label: str) -> Route:
    a, d = market.tokens["A"], market.tokens["D"]
    (found,) = [r for r in find_routes(market.pools, a, d) if r.label(market.symbols) == label]
    return found


def on(market: Market, label: str, amount: int) -> Split:
    return best_route([route(market, label)], amount, market.reserves, quote(market))


def signed(
    world: World, market: Market, share: str, account: int, split: Split, **terms: Any
) -> tuple[SharedOrder, Any, bytes, int]:
    routes, gas = route_tuples(market, split)
    order = SharedOrder(
        trader=world.account(account).address,
        token_in=split.routes[0].token_in,
        token_out=split.routes[0].token_out,
        amount_in=split.amount_in,
        min_amount_out=terms.pop("min_amount_out", 0),
        routes_hash=routes_hash(routes),
        deadline=MAX,
        nonce=terms.pop("nonce", 0),
        **terms,
    )
    key = world.account(account)
    signature = sign_order(key, order, chain_id=world.chain.chain_id, verifying_contract=share)
    return order, routes, signature, gas


def settle(world: World, share: str, items: list[tuple[SharedOrder, Any, bytes, int]]) -> Any:
    data = settle_calldata([i[0] for i in items], [i[1] for i in items], [i[2] for i in items])
    gas = settle_gas(sum(i[3] for i in items), len(items))
    return world.chain.receipt(world.chain.transact(world.account(3), to=share, data=data, gas=gas))


def pair(
    world: World, market: Market, share: str, sizes: tuple[int, int], share_bps: int, **maker: Any
) -> tuple[list[tuple[SharedOrder, Any, bytes, int]], int]:
    """The maker's order on A>C>D and the payer's on A>B>D behind it; the payer's reference is
    its quote with the maker on A>B>D."""
    deal = coordinate(
        on(market, "A>B>D", sizes[0]),
        on(market, "A>C>D", sizes[0]),
        [on(market, "A>B>D", sizes[1])],
        market.reserves,
        quote(market),
        lambda token, amount: float(amount),
    )
    assert deal is not None
    reference = deal.references[0]
    maker_terms = {
        "payers": (world.account(2).address,),
        "max_references": (reference,),
        "min_share_bps": deal.share_bps,
        **maker,
    }
    first = signed(world, market, share, 1, on(market, "A>C>D", sizes[0]), **maker_terms)
    payer = world.account(1).address
    second = signed(
        world,
        market,
        share,
        2,
        on(market, "A>B>D", sizes[1]),
        payee=payer,
        share_bps=share_bps,
        reference_out=reference,
    )
    return [first, second], reference


def shared_events(share: str, receipt: Any) -> list[tuple[str, int, int, int, str, int]]:
    """``(trader, amountIn, amountOut, surplus, payee, paid)`` of each ``SurplusShared``."""
    found = []
    for log in receipt.logs:
        if log.address != share or log.topics[0] != SHARED_TOPIC:
            continue
        _, _, amount_in, amount_out, surplus, paid = decode(
            ("address",) + ("uint256",) * 5, log.data
        )
        trader, payee = ("0x" + t[-20:].hex() for t in log.topics[1:3])
        found.append((trader, amount_in, amount_out, surplus, payee, paid))
    return found


def balances(world: World, market: Market, share: str) -> dict[tuple[int, str], int]:
    owners = {1: world.account(1).address, 2: world.account(2).address, 0: share}
    return {(i, s): world.balance(s, a) for i, a in owners.items() for s in "AD"}


def test_hash_order_equals_the_signed_digest(world: World, market: tuple[Market, str]) -> None:
    fresh, share = market
    items, _ = pair(world, fresh, share, (100 * E, 100 * E), 5000)
    for order, *_ in items:
        data = HASH_ORDER + encode((ORDER_ABI,), (order.as_tuple(),))
        (on_chain,) = decode(("bytes32",), world.chain.call(share, data))
        assert on_chain == order_digest(
            order, chain_id=world.chain.chain_id, verifying_contract=share
        )


def test_change_of_route_settles_with_the_share_paid(
    world: World, market: tuple[Market, str]
) -> None:
    fresh, share = market
    items, reference = pair(world, fresh, share, (100 * E, 100 * E), 5000)
    predicted = coordinate(
        on(fresh, "A>B>D", 100 * E),
        on(fresh, "A>C>D", 100 * E),
        [on(fresh, "A>B>D", 100 * E)],
        fresh.reserves,
        quote(fresh),
        lambda token, amount: float(amount),
    )
    assert predicted is not None
    assert predicted.share_bps <= 5000  # the payer offers at least the maker's terms
    before = balances(world, fresh, share)
    receipt = assert_ok(settle(world, share, items))
    after = balances(world, fresh, share)
    (maker_ev, payer_ev) = shared_events(share, receipt)
    maker_out, payer_out = maker_ev[2], payer_ev[2]
    assert payer_out == predicted.outputs[0]  # the solver's replay equals the chain to the wei
    assert payer_ev[3] == payer_out - reference > 0
    paid = payer_ev[3] * 5000 // BPS
    assert payer_ev[5] == paid
    assert after[(1, "D")] - before[(1, "D")] == maker_out + paid
    assert after[(2, "D")] - before[(2, "D")] == payer_out - paid
    assert before[(1, "A")] - after[(1, "A")] == 100 * E
    assert after[(0, "A")] == after[(0, "D")] == 0  # the contract keeps nothing
    # The maker's loss from changing route is covered by what the payer paid it.
    assert paid >= predicted.maker_loss > 0


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("payer_missing", "SurplusShareUnpaid"),
        ("share_below_terms", "SurplusShareUnpaid"),
        ("reference_above_accepted", "SurplusShareUnpaid"),
        ("pays_someone_else", "SurplusShareUnpaid"),
        ("bad_signature", "SurplusShareBadSignature"),
        ("routes_swapped", "SurplusShareRoutesMismatch"),
        ("payer_slippage", "SurplusShareSlippage"),
    ],
)
def test_revert_when_the_commitment_is_not_met(
    world: World, market: tuple[Market, str], case: str, error: str
) -> None:
    fresh, share = market
    items, reference = pair(world, fresh, share, (100 * E, 100 * E), 5000)
    maker, payer = items
    if case == "payer_missing":
        items = [maker]
    elif case == "share_below_terms":
        low = signed(
            world,
            fresh,
            share,
            2,
            on(fresh, "A>B>D", 100 * E),
            payee=world.account(1).address,
            share_bps=maker[0].min_share_bps - 1,
            reference_out=reference,
        )
        items = [maker, low]
    elif case == "reference_above_accepted":
        high = signed(
            world,
            fresh,
            share,
            2,
            on(fresh, "A>B>D", 100 * E),
            payee=world.account(1).address,
            share_bps=5000,
            reference_out=reference + 1,
        )
        items = [maker, high]
    elif case == "pays_someone_else":
        other = signed(
            world,
            fresh,
            share,
            2,
            on(fresh, "A>B>D", 100 * E),
            payee=world.account(3).address,
            share_bps=5000,
            reference_out=reference,
        )
        items = [maker, other]
    elif case == "bad_signature":
        items = [maker, (replace(payer[0], share_bps=BPS), *payer[1:])]
    elif case == "routes_swapped":
        items = [(maker[0], payer[1], maker[2], maker[3]), payer]
    else:
        greedy = signed(
            world,
            fresh,
            share,
            2,
            on(fresh, "A>B>D", 100 * E),
            payee=world.account(1).address,
            share_bps=5000,
            reference_out=reference,
            min_amount_out=10**30,
        )
        items = [maker, greedy]
    before = balances(world, fresh, share)
    assert_reverted(settle(world, share, items), error=error)
    assert balances(world, fresh, share) == before  # all or none


def test_revert_when_a_nonce_is_reused(world: World, market: tuple[Market, str]) -> None:
    fresh, share = market
    items, _ = pair(world, fresh, share, (50 * E, 50 * E), 5000)
    assert_ok(settle(world, share, items))
    assert_reverted(settle(world, share, items), error="SurplusShareNonceUsed")


@settings(max_examples=10, deadline=None)
@given(
    maker_size=st.integers(1, 150),
    payer_size=st.integers(1, 150),
    share_bps=st.integers(0, BPS),
    offset=st.integers(-(10**20), 10**20),
)
def test_fuzz_paid_is_the_share_of_measured_surplus(
    world: World, maker_size: int, payer_size: int, share_bps: int, offset: int
) -> None:
    """Any sizes, share and reference: the batch either settles with the payee paid exactly
    ``share * max(0, out - reference) / BPS`` and nothing created or kept, or moves nothing."""
    with world.fresh() as fresh:
        share = _setup(world, fresh)
        maker_split = on(fresh, "A>C>D", maker_size * E)
        payer_split = on(fresh, "A>B>D", payer_size * E)
        reference = max(0, payer_split.amount_out + offset)
        payer = signed(
            world,
            fresh,
            share,
            2,
            payer_split,
            payee=world.account(1).address,
            share_bps=share_bps,
            reference_out=reference,
        )
        maker = signed(
            world,
            fresh,
            share,
            1,
            maker_split,
            payers=(world.account(2).address,),
            max_references=(reference,),
            min_share_bps=share_bps,
        )
        before = balances(world, fresh, share)
        receipt = settle(world, share, [maker, payer])
        after = balances(world, fresh, share)
        if receipt.status == 0:
            assert after == before
            return
        (m, p) = shared_events(share, receipt)
        assert p[3] == max(0, p[2] - reference)
        assert p[5] == p[3] * share_bps // BPS
        assert after[(1, "D")] - before[(1, "D")] == m[2] + p[5]
        assert after[(2, "D")] - before[(2, "D")] == p[2] - p[5]
        assert after[(0, "D")] == after[(0, "A")] == 0
