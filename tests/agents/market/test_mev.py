"""``agents/mev.py``: sandwich and backrun detection from receipts and logs.

The first part builds real blocks on the chain — a ``PoolFactory`` pool of two ``MockERC20``s,
FIFO ordering so a block holds the transactions in the order they were sent (or a private
bundle) — and checks that exactly the intended MEV is detected. The second part checks the
heuristics' edge cases on hand-made ``SwapEvent``s and receipts, and the score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.agents.market.amm_math import amount_out, optimal_sandwich, swap_to_price
from agentbed.agents.market.mev import (
    SWAP_TOPIC,
    SYNC_TOPIC,
    DetectedBackrun,
    DetectedSandwich,
    DetectionScore,
    SwapEvent,
    TrueMev,
    as_truth,
    detect_backruns,
    detect_mev,
    detect_sandwiches,
    score,
    swaps_from_receipts,
)
from agentbed.chain.node import Chain
from agentbed.chain.ordering import BundlesFirstPolicy, FifoPolicy
from agentbed.chain.types import Log, Receipt

GAS = 400_000
FACTORY_GAS = 5_000_000
CREATE_GAS = 4_000_000
MAX = 2**256 - 1
FAR = 2**63
FUNDS = 10**30
R0 = R1 = 10**21
FEE = 30

# ---------------------------------------------------------------------------------------------
# on-chain scenarios
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Market:
    """Two tokens (token0 < token1), two pools of them, and the accounts that trade there."""

    chain: Chain
    t0: Any
    t1: Any
    pool: Any
    """Fee 30 bps, reserves (R0, R1)."""
    pool2: Any
    """Fee 5 bps, reserves (R0, R1)."""
    attacker: LocalAccount
    victim: LocalAccount
    victim2: LocalAccount
    arb: LocalAccount


@pytest.fixture
def market(chain: Chain, deploy: Any, accounts: tuple[LocalAccount, ...]) -> Market:
    a, b = deploy("MockERC20", "Alpha", "A"), deploy("MockERC20", "Beta", "B")
    t0, t1 = (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)
    factory = deploy("PoolFactory", gas=FACTORY_GAS)
    lp, attacker, victim, victim2, arb = accounts[1:6]
    pools = []
    for fee in (FEE, 5):
        chain.transact(
            lp, factory.functions.createPool(t1.address, t0.address, fee), gas=CREATE_GAS
        )
        address = factory.functions.getPool(t0.address, t1.address, fee).call()
        pools.append(chain.contract(address, "ConstantProductPool"))
    chain.automine = False  # the whole setup in one block
    for acct in (lp, attacker, victim, victim2, arb):
        for token in (t0, t1):
            chain.transact(acct, token.functions.mint(acct.address, FUNDS), gas=GAS)
            for pool in pools:
                chain.transact(acct, token.functions.approve(pool.address, MAX), gas=GAS)
    for pool in pools:
        chain.transact(lp, pool.functions.addLiquidity(R0, R1, 0, lp.address, FAR), gas=GAS)
    (block,) = chain.mine()
    assert all(r.status == 1 for r in chain.receipts(block.number))
    chain.set_policy(FifoPolicy())  # blocks hold transactions in the order they are sent
    return Market(chain, t0, t1, pools[0], pools[1], attacker, victim, victim2, arb)


def _swap_fn(pool: Any, acct: LocalAccount, token: Any, amount: int, min_out: int) -> Any:
    return pool.functions.swapExactIn(token.address, amount, min_out, acct.address, FAR)


def send(
    m: Market, acct: LocalAccount, token: Any, amount: int, min_out: int = 0, pool: Any = None
) -> bytes:
    """Queue a swap (a fixed gas limit, so a reverting swap is mined too); return its hash."""
    fn = _swap_fn(pool or m.pool, acct, token, amount, min_out)
    return m.chain.transact(acct, fn, gas=GAS)


def mine(m: Market, sent: list[bytes]) -> tuple[int, tuple[Receipt, ...]]:
    """Mine one block; check it holds exactly ``sent``, in that order."""
    (block,) = m.chain.mine()
    assert block.tx_hashes == tuple(sent)
    return block.number, m.chain.receipts(block.number)


def reserves(pool: Any) -> tuple[int, int]:
    r0, r1 = pool.functions.getReserves().call()
    return r0, r1


def after_sale(state: tuple[int, int], sold: int, token0: bool, fee: int = FEE) -> tuple[int, int]:
    """The pool's (reserve0, reserve1) after selling ``sold`` of token0 (or token1)."""
    r0, r1 = state
    if token0:
        return r0 + sold, r1 - amount_out(sold, r0, r1, fee)
    return r0 - amount_out(sold, r1, r0, fee), r1 + sold


def restoring_sale(state: tuple[int, int], target: tuple[int, int], fee: int = FEE) -> int:
    """Token1 to sell at ``state`` so the token0-per-token1 price falls to ``target``'s level."""
    return swap_to_price(state[1], state[0], fee, target[0], target[1])


def test_detects_sandwich_with_exact_profit(market):
    m = market
    victim_in = 2 * 10**19
    need = amount_out(victim_in, R0, R1, FEE) * 99 // 100
    plan = optimal_sandwich(R0, R1, FEE, victim_in, need)
    assert plan is not None
    sent = [
        send(m, m.attacker, m.t0, plan.front_in),
        send(m, m.victim, m.t0, victim_in, need),
        send(m, m.attacker, m.t1, plan.back_in),
    ]
    number, receipts = mine(m, sent)
    assert all(r.status == 1 for r in receipts)
    assert detect_mev(receipts) == (
        DetectedSandwich(
            block=number,
            pool=m.pool.address,
            front_tx=sent[0],
            victim_txs=(sent[1],),
            back_tx=sent[2],
            attacker=m.attacker.address,
            profit=plan.profit,
            token=m.t0.address,
        ),
    )
    swaps = swaps_from_receipts(receipts)
    assert [(s.actor, s.token_in, s.amount_in, s.amount_out, s.recipient) for s in swaps] == [
        (m.attacker.address, m.t0.address, plan.front_in, plan.front_out, m.attacker.address),
        (m.victim.address, m.t0.address, victim_in, plan.victim_out, m.victim.address),
        (m.attacker.address, m.t1.address, plan.back_in, plan.back_out, m.attacker.address),
    ]
    assert swaps[-1].reserves_after == reserves(m.pool)


def test_detects_two_victims_and_ignores_reverted_swap(market):
    m = market
    front_out = amount_out(10**19, R0, R1, FEE)
    sent = [
        send(m, m.attacker, m.t0, 10**19),
        send(m, m.victim, m.t0, 10**19),
        send(m, m.arb, m.t0, 10**19, min_out=10**20),  # reverts: PoolSlippage
        send(m, m.victim2, m.t0, 5 * 10**18),
        send(m, m.attacker, m.t1, front_out),
    ]
    number, receipts = mine(m, sent)
    assert [r.status for r in receipts] == [1, 1, 0, 1, 1]
    assert (receipts[2].revert_reason or "").startswith("PoolSlippage(")
    swaps = swaps_from_receipts(receipts)
    assert [s.tx_hash for s in swaps] == [sent[0], sent[1], sent[3], sent[4]]
    assert detect_mev(receipts) == (
        DetectedSandwich(
            number,
            m.pool.address,
            sent[0],
            (sent[1], sent[3]),
            sent[4],
            m.attacker.address,
            swaps[-1].amount_out - 10**19,
            m.t0.address,
        ),
    )
    assert swaps[-1].amount_out > 10**19  # the two victims paid for the round trip


def test_back_by_another_actor_is_no_sandwich_but_a_backrun(market):
    m = market
    after_front = after_sale((R0, R1), 10**19, token0=True)
    after_victim = after_sale(after_front, 2 * 10**19, token0=True)
    sale = restoring_sale(after_victim, after_front)
    sent = [
        send(m, m.attacker, m.t0, 10**19),
        send(m, m.victim, m.t0, 2 * 10**19),
        send(m, m.arb, m.t1, sale),  # undoes the victim's price move: not the attacker
    ]
    number, receipts = mine(m, sent)
    assert all(r.status == 1 for r in receipts)
    assert reserves(m.pool) == after_sale(after_victim, sale, token0=False)
    assert detect_mev(receipts) == (
        DetectedBackrun(number, m.pool.address, sent[1], sent[2], m.arb.address),
    )


def test_reverse_order_is_no_sandwich(market):
    # The attacker's "back" comes first and its "front" last: the victim is not squeezed.
    # The victim's trade is large enough to overshoot the attacker's first move (no backrun).
    m = market
    sent = [
        send(m, m.attacker, m.t1, 10**18),
        send(m, m.victim, m.t0, 2 * 10**19),
        send(m, m.attacker, m.t0, 10**18),
    ]
    _, receipts = mine(m, sent)
    assert all(r.status == 1 for r in receipts)
    assert len(swaps_from_receipts(receipts)) == 3
    assert detect_mev(receipts) == ()


def test_detects_backrun_restoring_price_not_overshooting_trade(market):
    m = market
    after_victim = after_sale((R0, R1), 2 * 10**19, token0=True)
    sale = restoring_sale(after_victim, (R0, R1))
    sent = [send(m, m.victim, m.t0, 2 * 10**19), send(m, m.arb, m.t1, sale)]
    number, receipts = mine(m, sent)
    assert detect_mev(receipts) == (
        DetectedBackrun(number, m.pool.address, sent[0], sent[1], m.arb.address),
    )
    # A counter-trade five times the victim's size overshoots the old price: no backrun.
    before = reserves(m.pool)
    sent = [send(m, m.victim, m.t0, 2 * 10**19), send(m, m.victim2, m.t1, 10**20)]
    _, receipts = mine(m, sent)
    assert all(r.status == 1 for r in receipts)
    r0, r1 = reserves(m.pool)
    assert r0 * before[1] < before[0] * r1  # token0-per-token1 fell below where it started
    assert detect_mev(receipts) == ()


def test_sandwich_whose_victim_reverted_is_not_detected(market):
    m = market
    quote = amount_out(10**19, R0, R1, FEE)
    front_out = amount_out(10**19, R0, R1, FEE)
    sent = [
        send(m, m.attacker, m.t0, 10**19),
        send(m, m.victim, m.t0, 10**19, min_out=quote),  # zero slippage: the front-run breaks it
        send(m, m.attacker, m.t1, front_out),
    ]
    _, receipts = mine(m, sent)
    assert [r.status for r in receipts] == [1, 0, 1]
    assert detect_mev(receipts) == ()
    # A receipt marked failed contributes nothing even if it carries logs.
    _, ok = mine(
        m,
        [
            send(m, m.attacker, m.t0, 10**19),
            send(m, m.victim, m.t0, 10**19),
            send(m, m.attacker, m.t1, 10**18),
        ],
    )
    assert len(detect_mev(ok)) == 1
    assert detect_mev((ok[0], replace(ok[1], status=0), ok[2])) == ()


def test_detects_bundled_sandwich_of_public_victim(market):
    # The victim's swap sits in the public mempool; the attacker copies its raw bytes into a
    # private bundle between its own front- and back-run.
    m = market
    m.chain.set_policy(BundlesFirstPolicy(FifoPolicy()))
    victim_in = 2 * 10**19
    need = amount_out(victim_in, R0, R1, FEE) * 98 // 100
    victim_tx = send(m, m.victim, m.t0, victim_in, need)
    (seen,) = m.chain.mempool_view("attacker")
    assert seen.hash == victim_tx
    plan = optimal_sandwich(R0, R1, FEE, victim_in, need)
    assert plan is not None
    nonce = m.chain.pending_nonce(m.attacker.address)

    def signed(token: Any, amount: int, offset: int) -> bytes:
        fn = _swap_fn(m.pool, m.attacker, token, amount, 0)
        data = bytes.fromhex(fn._encode_transaction_data()[2:])
        tx = {"to": m.pool.address, "data": data, "gas": GAS, "nonce": nonce + offset}
        return m.chain.sign(m.attacker, tx)

    raws = [signed(m.t0, plan.front_in, 0), seen.tx.raw, signed(m.t1, plan.back_in, 1)]
    bundle = m.chain.submit_bundle(raws)
    (block,) = m.chain.mine()
    assert block.bundles == (bundle,)
    receipts = m.chain.receipts(block.number)
    assert len(receipts) == 3 and all(r.status == 1 and r.bundle == bundle for r in receipts)
    (sandwich,) = detect_mev(receipts)
    assert isinstance(sandwich, DetectedSandwich)
    assert sandwich.victim_txs == (victim_tx,)
    assert (sandwich.attacker, sandwich.profit) == (m.attacker.address, plan.profit)


def test_pools_are_told_apart_in_one_block(market):
    # A sandwich in pool 1 and a backrun in pool 2, interleaved in one block.
    m = market
    after_victim2 = after_sale((R0, R1), 3 * 10**19, token0=True, fee=5)
    sale = restoring_sale(after_victim2, (R0, R1), fee=5)
    front_out = amount_out(10**19, R0, R1, FEE)
    sent = [
        send(m, m.attacker, m.t0, 10**19),
        send(m, m.victim2, m.t0, 3 * 10**19, pool=m.pool2),
        send(m, m.victim, m.t0, 2 * 10**19),
        send(m, m.arb, m.t1, sale, pool=m.pool2),
        send(m, m.attacker, m.t1, front_out),
    ]
    number, receipts = mine(m, sent)
    assert all(r.status == 1 for r in receipts)
    detected = detect_mev(receipts)
    assert [as_truth(d) for d in detected] == [
        TrueMev("sandwich", frozenset({sent[0], sent[2], sent[4]})),
        TrueMev("backrun", frozenset({sent[1], sent[3]})),
    ]
    sandwich, backrun = detected
    assert isinstance(sandwich, DetectedSandwich) and isinstance(backrun, DetectedBackrun)
    assert (sandwich.pool, sandwich.block, backrun.pool) == (
        m.pool.address,
        number,
        m.pool2.address,
    )
    assert backrun.actor == m.arb.address


# ---------------------------------------------------------------------------------------------
# heuristics on hand-made swaps
# ---------------------------------------------------------------------------------------------

T0 = to_checksum_address("0x" + "10" * 20)
T1 = to_checksum_address("0x" + "20" * 20)
P = to_checksum_address("0x" + "aa" * 20)
Q = to_checksum_address("0x" + "bb" * 20)
A = to_checksum_address("0x" + "0a" * 20)
B = to_checksum_address("0x" + "0b" * 20)
C = to_checksum_address("0x" + "0c" * 20)


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def sw(
    n: int,
    actor: str,
    token: str,
    *,
    pool: str = P,
    block: int = 1,
    amount_in: int = 100,
    amount_out: int = 100,
    reserves: tuple[int, int] | None = None,
) -> SwapEvent:
    """Swap ``n`` of a block (tx index and log index ``n``, tx hash ``h(n)``)."""
    return SwapEvent(block, n, h(n), actor, pool, token, amount_in, amount_out, actor, n, reserves)


def shape(found: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for d in found:
        if isinstance(d, DetectedSandwich):
            out.append(("S", d.front_tx[-1], tuple(v[-1] for v in d.victim_txs), d.back_tx[-1]))
        else:
            out.append(("B", d.victim_tx[-1], d.backrun_tx[-1]))
    return out


def test_sandwich_profit_and_ignored_swaps_in_between():
    swaps = [
        sw(1, A, T0, amount_in=1_000),
        sw(2, B, T1),  # other direction: not a victim
        sw(3, C, T0),
        sw(4, A, T0),  # the attacker's own same-direction swap: ignored
        sw(5, B, T0),
        sw(6, A, T1, amount_out=1_234),
    ]
    (sandwich,) = detect_sandwiches(swaps)
    assert shape((sandwich,)) == [("S", 1, (3, 5), 6)]
    assert (sandwich.attacker, sandwich.profit, sandwich.token) == (A, 234, T0)


def test_reverse_swap_before_any_victim_does_not_close_the_search():
    # mev-inspect's rule: the back is the first reverse swap by the attacker after a victim.
    swaps = [sw(1, A, T0), sw(2, A, T1), sw(3, B, T0), sw(4, A, T1), sw(5, A, T1)]
    assert shape(detect_sandwiches(swaps)) == [("S", 1, (3,), 4)]


def test_each_front_and_back_is_used_once():
    swaps = [sw(1, A, T0), sw(2, A, T0), sw(3, B, T0), sw(4, A, T1)]
    assert shape(detect_sandwiches(swaps)) == [("S", 1, (3,), 4)]
    # A second back lets the second front match too.
    swaps.append(sw(5, A, T1))
    assert shape(detect_sandwiches(swaps)) == [("S", 1, (3,), 4), ("S", 2, (3,), 5)]


def test_no_sandwich_without_victim_or_across_pools_and_blocks():
    assert detect_sandwiches([sw(1, A, T0), sw(2, A, T1)]) == ()
    assert detect_sandwiches([sw(1, A, T0), sw(2, B, T0, pool=Q), sw(3, A, T1)]) == ()
    assert detect_sandwiches([sw(1, A, T0), sw(2, B, T0), sw(3, A, T1, pool=Q)]) == ()
    assert detect_sandwiches([sw(1, A, T0), sw(2, B, T0), sw(3, A, T1, block=2)]) == ()
    assert detect_sandwiches([sw(1, A, T1), sw(2, B, T0), sw(3, A, T0)]) == ()  # reverse order
    # Input order does not matter: swaps are put in block order first.
    swaps = [sw(3, A, T1), sw(1, A, T0), sw(2, B, T0)]
    assert shape(detect_sandwiches(swaps)) == [("S", 1, (2,), 3)]


def test_victim_with_two_swaps_is_listed_once():
    victim = replace(sw(2, B, T0), log_index=7)
    swaps = [sw(1, A, T0), sw(2, B, T0), victim, sw(3, A, T1)]
    (sandwich,) = detect_sandwiches(swaps)
    assert sandwich.victim_txs == (h(2),)


def _after(state: tuple[int, int], token: str, amount_in: int, amount_out_: int) -> tuple[int, int]:
    r0, r1 = state
    return (r0 + amount_in, r1 - amount_out_) if token == T0 else (r0 - amount_out_, r1 + amount_in)


def _with_reserves(
    start: tuple[int, int], trades: list[tuple[int, str, str, int]]
) -> list[SwapEvent]:
    """Swaps ``(n, actor, token_in, amount_in)`` through a fee-free 1:1 pool, with Sync reserves."""
    out, state = [], start
    for n, actor, token, amount in trades:
        r_in, r_out = state if token == T0 else state[::-1]
        paid = amount * r_out // (r_in + amount)
        state = _after(state, token, amount, paid)
        out.append(sw(n, actor, token, amount_in=amount, amount_out=paid, reserves=state))
    return out


def test_backrun_must_move_price_back_without_overshooting():
    start = (10**6, 10**6)
    restore = _with_reserves(start, [(1, B, T0, 10_000), (2, A, T1, 10_000)])
    assert shape(detect_backruns(restore)) == [("B", 1, 2)]
    overshoot = _with_reserves(start, [(1, B, T0, 10_000), (2, A, T1, 30_000)])
    assert detect_backruns(overshoot) == ()
    # The same direction, the same actor, or a swap in between in the pool: no backrun.
    assert detect_backruns(_with_reserves(start, [(1, B, T0, 10_000), (2, A, T0, 10)])) == ()
    assert detect_backruns(_with_reserves(start, [(1, B, T0, 10_000), (2, B, T1, 10)])) == ()
    # Undoing two victims at once is a backrun of the last one; undoing only the last one's
    # small move and then some is not.
    two = _with_reserves(start, [(1, B, T0, 10_000), (2, C, T0, 5), (3, A, T1, 10_000)])
    assert shape(detect_backruns(two)) == [("B", 2, 3)]
    own = _with_reserves(start, [(1, A, T0, 10_000), (2, C, T0, 5), (3, A, T1, 10_000)])
    assert detect_backruns(own, sandwiches=()) == ()  # A's own swap is not in the run
    # A swap in another pool does not come in between.
    other = replace(sw(9, C, T1, pool=Q), tx_index=2, log_index=2)
    assert shape(detect_backruns([restore[0], other, replace(restore[1], tx_index=3)])) == [
        ("B", 1, 2)
    ]


def test_backrun_direction_only_without_sync_and_never_inside_a_sandwich():
    assert shape(detect_backruns([sw(1, B, T0), sw(2, A, T1, amount_in=10**9)])) == [("B", 1, 2)]
    sandwich = [sw(1, A, T0), sw(2, B, T0), sw(3, A, T1)]
    assert detect_backruns(sandwich) == ()
    assert shape(detect_backruns(sandwich, sandwiches=())) == [("B", 2, 3)]


def _receipt(n: int, logs: tuple[Log, ...], *, block: int = 1, status: int = 1) -> Receipt:
    return Receipt(
        tx_hash=h(n),
        status=status,
        block_number=block,
        block_hash=b"\x00" * 32,
        tx_index=n,
        sender=A,
        to=P,
        contract_address=None,
        gas_used=21_000,
        cumulative_gas_used=21_000,
        effective_gas_price=1,
        logs=logs,
        revert_reason=None,
        arrival_ms=0,
        included_ms=0,
        waited_ms=0,
    )


def _log(index: int, address: str, topics: tuple[bytes, ...], *words: int) -> Log:
    data = b"".join(w.to_bytes(32, "big") for w in words)
    return Log(address, topics, data, index, 0, b"", 1, b"\x00" * 32)


def _word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def test_swaps_decoded_from_topics_and_data_only():
    swap_topics = (SWAP_TOPIC, _word(C), _word(T1), _word(B))
    logs = (
        _log(0, P, (SYNC_TOPIC,), 5, 6),
        _log(1, Q, (SYNC_TOPIC,), 7, 8),  # another pool's Sync is not this swap's
        _log(2, P, swap_topics, 11, 12),
        _log(3, P, swap_topics, 13, 14),  # no Sync of its own: reserves unknown
        _log(4, P, swap_topics[:3], 15, 16),  # not the pool's Swap (wrong indexing)
        _log(5, P, (SWAP_TOPIC,), 1, 2, 3),
    )
    later = _receipt(2, (_log(0, P, swap_topics, 21, 22),), block=2)
    failed = _receipt(5, (_log(0, P, swap_topics, 31, 32),), status=0)
    swaps = swaps_from_receipts([later, failed, _receipt(3, logs)])
    assert swaps == (
        SwapEvent(1, 3, h(3), A, P, T1, 11, 12, B, 2, (5, 6)),
        SwapEvent(1, 3, h(3), A, P, T1, 13, 14, B, 3, None),
        SwapEvent(2, 2, h(2), A, P, T1, 21, 22, B, 0, None),
    )


# ---------------------------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------------------------


def test_score_matches_by_kind_and_exact_transactions():
    sandwich = DetectedSandwich(1, P, h(1), (h(2), h(3)), h(4), A, 5, T0)
    backrun = DetectedBackrun(1, P, h(5), h(6), B)
    truth = [
        TrueMev("sandwich", frozenset({h(1), h(2), h(3), h(4)})),
        TrueMev("backrun", frozenset({h(7), h(8)})),
        TrueMev("sandwich", frozenset({h(5), h(6)})),  # right txs, wrong kind
    ]
    assert score([sandwich, backrun], truth) == DetectionScore(0.5, 1 / 3, 1, 1, 2)
    partial = replace(sandwich, victim_txs=(h(2),))
    assert score([partial], truth[:1]) == DetectionScore(0.0, 0.0, 0, 1, 1)
    assert score([], []) == DetectionScore(1.0, 1.0, 0, 0, 0)
    assert score([sandwich, sandwich, as_truth(sandwich)], truth[:1]) == DetectionScore(
        1.0, 1.0, 1, 0, 0
    )
    assert score([], truth) == DetectionScore(1.0, 0.0, 0, 0, 3)


# ---------------------------------------------------------------------------------------------
# property: every detection satisfies its definition
# ---------------------------------------------------------------------------------------------

trades = st.lists(
    st.tuples(st.sampled_from((A, B, C)), st.sampled_from((T0, T1)), st.sampled_from((P, Q))),
    max_size=14,
)


@settings(max_examples=300)
@given(trades=trades)
def test_fuzz_detections_satisfy_their_definitions(trades):
    swaps = [sw(n, actor, token, pool=pool) for n, (actor, token, pool) in enumerate(trades)]
    by_hash = {s.tx_hash: s for s in swaps}
    sandwiches = detect_sandwiches(swaps)
    legs = [leg for s in sandwiches for leg in (s.front_tx, s.back_tx)]
    assert len(legs) == len(set(legs))  # each swap is a front or back once at most
    for s in sandwiches:
        front, back = by_hash[s.front_tx], by_hash[s.back_tx]
        victims = [by_hash[v] for v in s.victim_txs]
        assert victims and front.actor == back.actor == s.attacker
        assert back.token_in != front.token_in
        between = [x for x in swaps if x.pool == s.pool and front.tx_index < x.tx_index]
        between = [x for x in between if x.tx_index < back.tx_index]
        assert victims == [
            x for x in between if x.actor != s.attacker and x.token_in == front.token_in
        ]
    in_sandwich = {t for s in sandwiches for t in (s.front_tx, *s.victim_txs, s.back_tx)}
    for b in detect_backruns(swaps, sandwiches):
        victim, follower = by_hash[b.victim_tx], by_hash[b.backrun_tx]
        assert victim.actor != follower.actor == b.actor
        assert victim.token_in != follower.token_in
        assert not {b.victim_tx, b.backrun_tx} & in_sandwich
        pool_swaps = [x for x in swaps if x.pool == victim.pool]
        assert pool_swaps[pool_swaps.index(victim) + 1] is follower


def test_back_must_sell_most_of_what_the_front_bought() -> None:
    front = sw(1, A, T0, amount_in=100, amount_out=200)
    victim = sw(2, B, T0)
    for sold, sandwich in ((200, True), (180, True), (179, False), (201, False), (20, False)):
        swaps = [front, victim, sw(3, A, T1, amount_in=sold)]
        assert bool(detect_sandwiches(swaps)) is sandwich, sold
        # mev-inspect's rule alone does not look at sizes
        assert shape(detect_sandwiches(swaps, size_match=None)) == [("S", 1, (2,), 3)]
