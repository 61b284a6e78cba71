"""Pending intent settlements as searchers see them, and the makers' full P&L.

One WETH/USDC pool (3,000 USDC per WETH) deployed once per module; each test deploys a
pay-as-filled book on a snapshot. A settlement is decoded while pending (``Market.pending_swaps``,
the strategies' seam) and checked against what the chain then executes: the swap's Transfer logs,
and, for the floor, whether the settlement succeeds or reverts behind a front-run that pushes
its swap's output just above or just below it (sizes found with the pool formula written out
here, not the project's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from marketkit import OneShot, World, balance_at, once_at

from agentbed.agents.erc20 import transfers
from agentbed.agents.market.accounting import account_run
from agentbed.agents.market.intent_accounting import maker_pnl
from agentbed.agents.market.intent_settlement import (
    commit_to_limits,
    executed_intents,
    payout_ok,
    payouts,
    plan_swaps,
    planned_swaps,
)
from agentbed.agents.market.intents import (
    ALL,
    SETTLE_ARGS,
    SETTLE_SELECTOR,
    Condition,
    Intent,
    NoSolution,
    OnUnmetCondition,
    Plan,
    Pricing,
    Swap,
    fair_amounts,
    sign_intent,
    solve_pair,
)
from agentbed.agents.market.strategies.intents import Solver
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.world import Market, Pool, PoolSpec, SwapCall
from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

SEED = 23
WETH, USDC = 10**21, 3 * 10**24  # pool reserves: 1,000 WETH and 3M USDC
FEE_BPS = 30
E18 = 10**18


@dataclass
class BookWorld(World):
    """``marketkit.World`` whose markets know the pool factory (an intent book needs it)."""

    factory: str = ""

    def market(self, volatility: float = 0.0) -> Market:
        return Market(
            self.chain,
            self.tokens,
            self.pools,
            seed=self.seed,
            volatility=volatility,
            venues=self.venues,
            factory=self.factory,
        )


@pytest.fixture(scope="module")
def world() -> BookWorld:
    chain = Chain(seed=SEED, accounts=12, automine=True, gas_limit=6_000_000)
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", WETH, USDC, FEE_BPS)], seed=SEED)
    funding = {"WETH": 100 * E18, "USDC": 300_000 * E18}
    market.fund({account.address: funding for account in chain.accounts[1:]})
    chain.automine = False
    assert market.factory is not None
    return BookWorld(chain, dict(market.tokens), market.pools, SEED, factory=market.factory)


@pytest.fixture
def market(world: World) -> Iterator[Market]:
    with world.fresh() as fresh:
        fresh.deploy_intent_book(Pricing.PAY_AS_FILLED, OnUnmetCondition.SKIP, 0)
        yield fresh


def out_of(amount: int, r_in: int, r_out: int) -> int:
    """The pool's output for ``amount`` in, written out (ConstantProductPool's formula)."""
    kept = amount * (10_000 - FEE_BPS)
    return kept * r_out // (r_in * 10_000 + kept)


def approve_book(world: World, market: Market, accounts: Sequence[LocalAccount]) -> None:
    assert market.intent_board is not None
    for account in accounts:
        for intent in market.approvals([market.intent_board.book]):
            world.chain.transact(account, to=intent.to, data=intent.data, gas=intent.gas)
    world.chain.mine()


def weth_sale(
    market: Market, account: LocalAccount, size: int, slippage_bps: int = 200
) -> tuple[Intent, bytes]:
    """``account`` sells ``size`` WETH for USDC, limit ``slippage_bps`` below the quote."""
    board = market.intent_board
    assert board is not None
    pool = market.pools[0]
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    limit = market.quote(pool, weth, size) * (10_000 - slippage_bps) // 10_000
    intent = Intent(account.address, weth, usdc, size, limit, 2**40, 0, Condition.none())
    signature = sign_intent(account, intent, chain_id=board.chain_id, verifying_contract=board.book)
    return intent, signature


def signed_weth_sales(
    world: World, market: Market, sizes: Sequence[int]
) -> tuple[list[Intent], list[bytes]]:
    """Makers 1.. each sell ``sizes[i]`` WETH (``weth_sale``)."""
    sales = [weth_sale(market, world.account(1 + i), size) for i, size in enumerate(sizes)]
    return [i for i, _ in sales], [s for _, s in sales]


def settle_data(intents: Sequence[Intent], signatures: Sequence[bytes], plan: Plan) -> bytes:
    args = ([i.as_tuple() for i in intents], list(signatures), plan.as_tuple())
    return SETTLE_SELECTOR + encode(SETTLE_ARGS, args)


def send_settle(world: World, market: Market, data: bytes) -> bytes:
    assert market.intent_board is not None
    return world.chain.transact(
        world.account(9), to=market.intent_board.book, data=data, gas=900_000
    )


def mined(world: World, tx_hash: bytes) -> Receipt:
    world.chain.mine()
    return next(r for r in world.chain.receipts(world.chain.head.number) if r.tx_hash == tx_hash)


def pool_legs(receipt: Receipt, book: str, pool: str) -> tuple[int, int]:
    """What the book paid the pool and what the pool paid the book, from Transfer logs."""
    moved = list(transfers(receipt.logs))
    paid = sum(t.amount for t in moved if (t.source, t.target) == (book, pool))
    got = sum(t.amount for t in moved if (t.source, t.target) == (pool, book))
    return paid, got


# -- decoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("commit", ["quote", "limits"])
def test_pending_settlement_decodes_to_the_swap_the_chain_executes(
    world: World, market: Market, commit: str
) -> None:
    approve_book(world, market, [world.account(1), world.account(2), world.account(3)])
    intents, signatures = signed_weth_sales(world, market, [2 * E18, E18, 3 * E18])
    pool = market.pools[0]
    r_weth, r_usdc = market.reserves_for(pool, market.tokens["WETH"])
    r0, r1 = market.reserves[pool.address]
    plan = solve_pair(
        intents, pool_reserves={pool.token0: r0, pool.token1: r1}, pricing=Pricing.PAY_AS_FILLED
    )
    if commit == "limits":
        plan = commit_to_limits(
            intents,
            plan,
            pools=market.pools,
            reserves=market.reserves,
            on_unmet=OnUnmetCondition.SKIP,
        )
    data = settle_data(intents, signatures, plan)
    tx_hash = send_settle(world, market, data)
    (swap,) = _swaps(market, world.chain.transaction(tx_hash))
    (planned,) = planned_swaps(
        data,
        pools=market.pools,
        reserves=market.reserves,
        pricing=Pricing.PAY_AS_FILLED,
        on_unmet=OnUnmetCondition.SKIP,
    )
    sold = 6 * E18
    assert (swap.pool, swap.token_in, swap.amount_in) == (pool.address, market.tokens["WETH"], sold)
    assert planned.expected_out == out_of(sold, r_weth, r_usdc)
    limits = sum(i.min_buy_amount for i in intents)
    # quote: the plan commits to the quoted output; limits: to what the limits need, no more.
    assert swap.min_amount_out == (planned.expected_out if commit == "quote" else limits)
    receipt = mined(world, tx_hash)
    assert receipt.status == 1
    assert pool_legs(receipt, market.intent_board.book, pool.address) == (
        sold,
        planned.expected_out,
    )


def test_floor_is_the_least_output_the_chain_still_settles(world: World, market: Market) -> None:
    """A plan committing to the limits with no swap minimum of its own: the floor comes from the
    payout alone. A front-run that leaves the swap exactly the floor settles; one wei less in
    output and the book reverts."""
    approve_book(world, market, [world.account(1), world.account(2)])
    intents, signatures = signed_weth_sales(world, market, [4 * E18, E18])
    pool = market.pools[0]
    weth = market.tokens["WETH"]
    sold = 5 * E18
    loose = Plan.pay_as_filled(
        [i.min_buy_amount for i in intents], [Swap(weth, pool.other(weth), FEE_BPS, sold, 0)]
    )
    data = settle_data(intents, signatures, loose)
    (swap,) = _swaps(market, _Pending(market, data))
    floor = sum(i.min_buy_amount for i in intents)  # nobody else sells USDC into the batch
    assert swap.min_amount_out == floor
    r_weth, r_usdc = market.reserves_for(pool, weth)

    def after_front(front: int) -> int:
        out = out_of(front, r_weth, r_usdc)
        return out_of(sold, r_weth + front, r_usdc - out)

    low, high = 0, 200 * E18  # least front that takes the output below the floor
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if after_front(mid) < floor else (mid + 1, high)
    too_big = low
    assert after_front(too_big - 1) >= floor > after_front(too_big)
    trader = world.account(5)
    for approval in market.approvals():
        world.chain.transact(trader, to=approval.to, data=approval.data, gas=approval.gas)
    world.chain.mine()
    for front, settles in ((too_big - 1, True), (too_big, False)):
        snapshot = world.chain.snapshot()
        world.chain.transact(
            trader,
            to=pool.address,
            data=market.swap(pool, weth, front, 0, trader.address, tip=0).data,
            gas=200_000,
        )
        world.chain.mine()
        receipt = mined(world, send_settle(world, market, data))
        assert receipt.status == (1 if settles else 0), front
        world.chain.revert(snapshot)


def _swaps(market: Market, tx: Any) -> tuple[SwapCall, ...]:
    """What the market's pending-call decoders read ``tx`` as (the settlement decoder here)."""
    return market.pending_swaps(tx.to, tx.data)


class _Pending:
    """A pending tx to the market's book, as ``pending_swaps`` reads it (``to``, ``data``)."""

    def __init__(self, market: Market, data: bytes) -> None:
        assert market.intent_board is not None
        self.to = market.intent_board.book
        self.data = data


def test_settlement_that_would_revert_or_is_not_settle_makes_no_swaps(market: Market) -> None:
    board = market.intent_board
    assert board is not None
    assert _swaps(market, _Pending(market, b"\x12\x34\x56\x78" + b"\x00" * 64)) == ()
    assert _swaps(market, _Pending(market, SETTLE_SELECTOR + b"\x01" * 40)) == ()
    pool = market.pools[0]
    weth = market.tokens["WETH"]
    account = market.chain.accounts[1]
    greedy = Intent(
        account.address, weth, pool.other(weth), E18, 10**30, 2**40, 0, Condition.none()
    )
    plan = Plan.pay_as_filled([10**30], [Swap(weth, pool.other(weth), FEE_BPS, E18, 0)])
    assert _swaps(market, _Pending(market, settle_data([greedy], [b"\x00" * 65], plan))) == ()


def test_unmet_counter_condition_reverts_or_skips_like_the_book() -> None:
    a, b = "0x" + "11" * 20, "0x" + "22" * 20
    lone = Intent(a, a, b, 10, 5, 1, 0, Condition.counter_intent())
    plain = Intent(b, a, b, 10, 5, 1, 0, Condition.none())
    assert executed_intents([lone, plain], OnUnmetCondition.SKIP) == [False, True]
    assert executed_intents([lone, plain], OnUnmetCondition.REVERT) is None
    crossing = Intent(b, b, a, 10, 5, 1, 0, Condition.none())
    assert executed_intents([lone, crossing], OnUnmetCondition.REVERT) == [True, True]


def test_unavailable_intents_are_skipped_to_a_fixed_point_or_revert_like_the_book() -> None:
    a, b, c = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
    plain = Intent(a, a, b, 10, 5, 1, 0, Condition.none())
    follower = Intent(b, a, b, 10, 5, 1, 0, Condition.intent_settles(a, 0))
    other = Intent(c, a, b, 10, 5, 1, 0, Condition.none())
    batch = [follower, plain, other]
    # plain's nonce is used (or its transfer fails): follower's condition falls with it
    assert executed_intents(batch, OnUnmetCondition.SKIP, {1}) == [False, False, True]
    assert executed_intents(batch, OnUnmetCondition.REVERT, {1}) is None
    # a repeated (maker, nonce) executes once under Skip
    assert executed_intents([plain, plain, other], OnUnmetCondition.SKIP) == [True, False, True]


def _approve(spender: str, amount: int) -> bytes:
    return bytes.fromhex("095ea7b3") + encode(["address", "uint256"], [spender, amount])


def test_replay_with_an_unavailable_intent_matches_the_chain(world: World, market: Market) -> None:
    """A maker revokes the book's approval while a settlement routing ``ALL`` is pending: the
    replay told so (``unavailable``) predicts the swap of the rest, and the chain makes it."""
    board = market.intent_board
    assert board is not None
    approve_book(world, market, [world.account(1), world.account(2), world.account(3)])
    intents, signatures = signed_weth_sales(world, market, [2 * E18, E18, 3 * E18])
    weth = market.tokens["WETH"]
    pool = market.pools[0]
    plan = Plan.pay_as_filled(
        [i.min_buy_amount for i in intents], [Swap(weth, pool.other(weth), FEE_BPS, ALL, 0)]
    )
    world.chain.transact(world.account(2), to=weth, data=_approve(board.book, 0), gas=80_000)
    world.chain.mine()
    kw: dict[str, Any] = {"pools": market.pools, "reserves": market.reserves}
    skip = OnUnmetCondition.SKIP
    (planned,) = plan_swaps(
        intents, plan, pricing=Pricing.PAY_AS_FILLED, on_unmet=skip, unavailable={1}, **kw
    )
    assert planned.amount_in == 5 * E18
    receipt = mined(world, send_settle(world, market, settle_data(intents, signatures, plan)))
    assert receipt.status == 1
    assert pool_legs(receipt, board.book, pool.address) == (5 * E18, planned.expected_out)


def test_fair_book_pays_what_the_replay_says_however_the_plan_splits(world: World) -> None:
    """On a fair pay-as-filled book, a plan naming one maker's limit and the other the rest
    (the steering plan) pays both makers the same rate, as ``payouts`` replays it."""
    with world.fresh() as market:
        book = market.deploy_intent_book(Pricing.FAIR_PAY_AS_FILLED, OnUnmetCondition.SKIP, 0)
        approve_book(world, market, [world.account(1), world.account(2)])
        intents, signatures = signed_weth_sales(world, market, [E18, E18])
        weth = market.tokens["WETH"]
        pool = market.pools[0]
        r_weth, r_usdc = market.reserves_for(pool, weth)
        out = out_of(2 * E18, r_weth, r_usdc)
        limit = intents[0].min_buy_amount
        plan = Plan.pay_as_filled(
            [limit, out - limit], [Swap(weth, pool.other(weth), FEE_BPS, 2 * E18, 0)]
        )
        executed = [True, True]
        bases = fair_amounts(intents, executed, plan.buy_amounts)
        model = payouts(intents, executed, bases, pool.other(weth), out, Pricing.FAIR_PAY_AS_FILLED)
        assert model == {0: out // 2, 1: out // 2}
        receipt = mined(world, send_settle(world, market, settle_data(intents, signatures, plan)))
        assert receipt.status == 1
        got = {
            str(log.event.args["maker"]): log.event.args["buyAmount"]
            for log in receipt.logs
            if log.address == book and log.event and log.event.name == "IntentFilled"
        }
        assert got == {intents[0].maker: out // 2, intents[1].maker: out // 2}


# -- a searcher attacks an exposed settlement ----------------------------------------------------


def run_with_sandwicher(world: World, market: Market, commit: str) -> tuple[Any, list[Any]]:
    """Three makers post WETH sales at the start; one solver settles them with ``commit``; a
    fee-mode sandwicher watches the mempool."""
    board = market.intent_board
    assert board is not None
    posters = []
    for i, size in enumerate((3 * E18, 2 * E18, 4 * E18)):
        account = world.account(1 + i)

        def make(view: Any, account: LocalAccount = account, size: int = size) -> tuple[()]:
            intent, signature = weth_sale(view.market, account, size)
            board.post(intent, signature, now_ms=view.now_ms)
            return ()

        posters.append(
            _MakerShot(f"maker{i}", account, world.rng("maker", i), once_at(300), make=make)
        )
    solver = Solver("solver0", world.account(9), world.rng("solver"), reaction_ms=50, commit=commit)
    bot = Sandwicher("sandwich0", world.account(7), world.rng("bot"), reaction_ms=20, mode="fee")
    sim = world.run(market, [*posters, solver, bot], blocks=4)
    return sim, posters


class _MakerShot(OneShot):
    """A maker that approves the book and posts once (``make`` posts; it sends nothing)."""

    def setup(self, market: Any) -> Sequence[Any]:
        return market.approvals([market.intent_board.book])


def test_sandwicher_attacks_a_settlement_committing_only_to_limits(
    world: World, market: Market
) -> None:
    sim, _ = run_with_sandwicher(world, market, "limits")
    settles = {h: s for h, s in sim.sent.items() if s.label == "settle"}
    fronts = [s for s in sim.sent.values() if s.label == "front" and s.agent == "sandwich0"]
    assert settles and fronts
    victims = {f.meta["victim"] for f in fronts}
    assert victims <= {"0x" + h.hex() for h in settles}
    # The attacked settlement still paid every maker at least its limit.
    board = market.intent_board
    assert board is not None
    fills = list(board.fills.values())
    assert len(fills) == 3
    posted = {p.digest: p.intent for p in board.posted.values()}
    assert all(f.buy_amount >= posted[f.digest].min_buy_amount for f in fills)
    # ... but less than the pool would have paid them unattacked, which the bot kept.
    assert sum(f.buy_amount for f in fills) < out_of(9 * E18, WETH, USDC)
    weth = market.tokens["WETH"]
    assert balance_at(world.chain, weth, world.account(7).address) > 100 * E18


def test_sandwicher_leaves_a_settlement_committing_to_its_quote(
    world: World, market: Market
) -> None:
    sim, _ = run_with_sandwicher(world, market, "quote")
    assert any(s.label == "settle" for s in sim.sent.values())
    assert not any(s.agent == "sandwich0" and s.label == "front" for s in sim.sent.values())
    assert len(market.intent_board.fills) == 3  # type: ignore[union-attr]


# -- full maker P&L ------------------------------------------------------------------------------


def test_maker_pnl_is_holdings_change_at_final_reference_prices_net_of_gas(
    world: World, market: Market
) -> None:
    sim, makers = run_with_sandwicher(world, market, "limits")
    account = account_run(sim, market, numeraire="USDC")
    pnl = maker_pnl(account.agents)
    assert list(pnl) == ["maker0", "maker1", "maker2"]
    first, last = sim.metrics[0].number, sim.metrics[-1].number
    weth_price = market.reference[market.pools[0].address]  # USDC per WETH (token order aside)
    pool = market.pools[0]
    if pool.token0 != market.tokens["WETH"]:
        weth_price = 1 / weth_price
    for maker in makers:
        change = {
            symbol: balance_at(world.chain, token, maker.address, last)
            - balance_at(world.chain, token, maker.address, first - 1)
            for symbol, token in market.tokens.items()
        }
        eth = world.chain.balance(maker.address, last) - world.chain.balance(
            maker.address, first - 1
        )
        expected = (change["USDC"] + change["WETH"] * weth_price + eth * weth_price) / E18
        assert change["WETH"] < 0 < change["USDC"]  # it sold WETH, through the book
        assert pnl[maker.name] == pytest.approx(expected, rel=1e-9, abs=1e-9)


# -- the floor, as a property ----------------------------------------------------------------------

X, Y = to_checksum_address("0x" + "0a" * 20), to_checksum_address("0x" + "0b" * 20)
FAKE_POOL = Pool(to_checksum_address("0x" + "0c" * 20), X, Y, "X", "Y", FEE_BPS)
orders = st.lists(
    st.tuples(st.booleans(), st.integers(10**15, 10**20), st.integers(0, 500)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60)
@given(orders=orders)
def test_fuzz_limits_plan_exposes_exactly_the_surplus_above_the_limits(
    orders: list[tuple[bool, int, int]],
) -> None:
    """For a batch ``solve_pair`` settles, the plan committing only to limits makes the same
    swap as the quoted plan, with a floor no higher; at the floor the book pays every maker
    its limit, one unit less and it cannot (unless the floor is the pool's 1-unit minimum)."""
    reserves = {FAKE_POOL.address: (10**21, 3 * 10**24)}
    pool_reserves = {X: 10**21, Y: 3 * 10**24}
    intents = []
    for n, (sells_x, amount, slippage) in enumerate(orders):
        sell, buy = (X, Y) if sells_x else (Y, X)
        r_in, r_out = (pool_reserves[sell], pool_reserves[buy])
        limit = out_of(amount, r_in, r_out) * (10_000 - slippage) // 10_000
        maker = "0x" + f"{n + 1:040x}"
        intents.append(Intent(maker, sell, buy, amount, max(limit, 1), 2**40, n, Condition.none()))
    try:
        quoted = solve_pair(intents, pool_reserves=pool_reserves, pricing=Pricing.PAY_AS_FILLED)
    except NoSolution:
        assume(False)
        return
    assume(quoted.swaps)
    kw: dict[str, Any] = {"pools": (FAKE_POOL,), "reserves": reserves}
    limits = commit_to_limits(intents, quoted, on_unmet=OnUnmetCondition.SKIP, **kw)
    both = [
        plan_swaps(intents, p, pricing=Pricing.PAY_AS_FILLED, on_unmet=OnUnmetCondition.SKIP, **kw)
        for p in (quoted, limits)
    ]
    (q,), (lim,) = both
    assert (q.pool, q.token_in, q.amount_in, q.expected_out) == (
        lim.pool,
        lim.token_in,
        lim.amount_in,
        lim.expected_out,
    )
    assert q.min_amount_out == q.expected_out
    assert 1 <= lim.min_amount_out <= q.expected_out
    executed = [True] * len(intents)
    bases = [i.min_buy_amount for i in intents]
    others = sum(i.sell_amount for i in intents if i.sell_token == lim.token_out)
    assert payout_ok(intents, executed, bases, lim.token_out, others + lim.min_amount_out)
    if lim.min_amount_out > 1:
        assert not payout_ok(
            intents, executed, bases, lim.token_out, others + lim.min_amount_out - 1
        )
