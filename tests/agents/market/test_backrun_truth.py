"""Behaviour-defined backruns (``agents/market/truth.py``) on hand-built blocks, and the
receipt-only detector scored against them.

Each block holds a target swap and one follower; the follower's share of the target's
log-price move it takes back is computed here from the pool arithmetic, independently of
the module, and decides whether the pair is a backrun.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.markdown import detector_table
from agentbed.agents.market.metrics import RunReport, backrun_cases
from agentbed.agents.market.mev import (
    DetectionScore,
    SwapEvent,
    TrueMev,
    detect_backruns,
    score,
)
from agentbed.agents.market.mev import swaps_from_receipts as decode_swaps
from agentbed.agents.market.truth import (
    BACKRUN_RECOVERY,
    behavioural_backruns,
    ground_truth,
    recovery,
)
from agentbed.agents.market.world import MAX_UINT, Market, PoolSpec, swap_calldata
from agentbed.agents.sim import SentTx
from agentbed.chain.node import Chain
from agentbed.chain.ordering import FifoPolicy

R0, R1 = 1_000 * 10**18, 3_000_000 * 10**18
FUNDS = {"WETH": 200 * 10**18, "USDC": 600_000 * 10**18}
SIZE = 20 * 10**18
GAS = 150_000


class Blocks:
    """A FIFO chain with one pool and three funded traders; builds blocks tx by tx."""

    def __init__(self) -> None:
        self.chain = Chain(seed=11, accounts=4, automine=True, policy=FifoPolicy())
        self.market = Market.deploy(self.chain, [PoolSpec("WETH", "USDC", R0, R1)], seed=11)
        self.traders = self.chain.accounts[1:4]
        self.market.fund({t.address: FUNDS for t in self.traders})
        for trader in self.traders:
            for intent in self.market.approvals():
                self.chain.transact(trader, to=intent.to, data=intent.data, gas=intent.gas)
        self.chain.mine()
        self.chain.automine = False
        self.pool = self.market.pools[0]
        self.weth, self.usdc = self.market.tokens["WETH"], self.market.tokens["USDC"]
        self.receipts: list[Any] = []

    def block(self, trades: list[tuple[int, str, int]]) -> list[bytes]:
        """Mine one block of ``(trader, token sold, amount)`` swaps, in that order."""
        hashes = []
        for who, token, amount in trades:
            trader = self.traders[who]
            data = swap_calldata(token, amount, 0, trader.address, MAX_UINT)
            hashes.append(self.chain.transact(trader, to=self.pool.address, data=data, gas=GAS))
        (block,) = self.chain.mine()
        receipts = self.chain.receipts(block.number)
        assert [r.tx_hash for r in receipts] == hashes and all(r.status for r in receipts)
        self.market.on_block(block, receipts)
        self.receipts += receipts
        return hashes

    def sell_weth_out(self, amount: int) -> tuple[int, tuple[int, int]]:
        """USDC out for ``amount`` WETH now, and the reserves (WETH, USDC) after it."""
        r_weth, r_usdc = self.market.reserves_for(self.pool, self.weth)
        out = amount_out(amount, r_weth, r_usdc, self.pool.fee_bps)
        return out, (r_weth + amount, r_usdc - out)


@pytest.fixture(scope="module")
def blocks() -> Blocks:
    return Blocks()


def share_taken_back(start: tuple[int, int], target_sold_weth: int, follower_usdc: int) -> float:
    """Independent ``rho``: the target sells WETH into reserves ``start`` (WETH, USDC), the
    follower sells USDC back; log price of USDC per WETH before, after target and follower."""
    w0, u0 = start
    out = amount_out(target_sold_weth, w0, u0, 30)
    w1, u1 = w0 + target_sold_weth, u0 - out
    back = amount_out(follower_usdc, u1, w1, 30)
    w2, u2 = w1 - back, u1 + follower_usdc
    m0, m1, m2 = (math.log(u / w) for u, w in ((u0, w0), (u1, w1), (u2, w2)))
    return (m1 - m2) / (m1 - m0)


def test_backrun_truth_on_hand_built_blocks_and_the_detector_score(blocks: Blocks) -> None:
    weth, usdc = blocks.weth, blocks.usdc
    # 1. A full reversal by another trader: a backrun.
    out, _ = blocks.sell_weth_out(SIZE)
    start = blocks.market.reserves_for(blocks.pool, weth)
    assert 0.9 < share_taken_back(start, SIZE, out) < 1.1
    target, backrun = blocks.block([(0, weth, SIZE), (1, usdc, out)])
    # 2. A trade in the same direction right behind the target: no backrun.
    blocks.block([(0, weth, SIZE), (1, weth, SIZE // 2)])
    # 3. A partial reversal, a fifth of the move: under the threshold.
    out, _ = blocks.sell_weth_out(SIZE)
    start = blocks.market.reserves_for(blocks.pool, weth)
    assert share_taken_back(start, SIZE, out // 5) < BACKRUN_RECOVERY
    partial_target, partial = blocks.block([(0, weth, SIZE), (1, usdc, out // 5)])
    # 4. An overshoot three times past the pre-target price: not a reversal of the target.
    out, _ = blocks.sell_weth_out(SIZE)
    start = blocks.market.reserves_for(blocks.pool, weth)
    assert share_taken_back(start, SIZE, 3 * out) > 2 - BACKRUN_RECOVERY
    blocks.block([(0, weth, SIZE), (1, usdc, 3 * out)])
    # 5. The target's own sender reversing it: no backrun.
    out, _ = blocks.sell_weth_out(SIZE)
    blocks.block([(0, weth, SIZE), (0, usdc, out)])

    swaps = decode_swaps(blocks.receipts)
    # No labels at all: the truth comes from the chain alone.
    truth = ground_truth(SimpleNamespace(sent={}), blocks.receipts, swaps)  # type: ignore[arg-type]
    expected = TrueMev("backrun", frozenset({target, backrun}))
    assert [c for c in truth.cases if c.kind == "backrun"] == [expected]
    assert truth.count("backrun") == 1

    # The receipt-only heuristic also takes the partial reversal (it needs only "closer").
    detected = detect_backruns(swaps)
    assert {(d.victim_tx, d.backrun_tx) for d in detected} == {
        (target, backrun),
        (partial_target, partial),
    }
    result = score(detected, [c for c in truth.cases if c.kind == "backrun"])
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 1, 0)
    assert result.precision == 0.5 and result.recall == 1.0


def test_the_back_of_a_true_sandwich_is_no_backrun(blocks: Blocks) -> None:
    weth, usdc = blocks.weth, blocks.usdc
    front_out, _ = blocks.sell_weth_out(SIZE)
    front, victim, back = blocks.block([(2, weth, SIZE), (0, weth, SIZE), (2, usdc, front_out)])
    receipts = [r for r in blocks.receipts if r.tx_hash in (front, victim, back)]
    swaps = decode_swaps(receipts)
    # Unlabelled, the back is just the next trade after the victim: it takes the victim's
    # move back (and a bit more: the front's), a backrun by behaviour.
    plain = ground_truth(SimpleNamespace(sent={}), receipts, swaps)  # type: ignore[arg-type]
    assert plain.cases == (TrueMev("backrun", frozenset({victim, back})),)
    # Labelled as the sandwich it is, the pair belongs to the sandwich.
    tag = {"victim": "0x" + victim.hex()}
    sent = {
        front: SentTx(front, "sandwicher", "front", tag, 0),
        back: SentTx(back, "sandwicher", "back", tag, 0),
    }
    labelled = ground_truth(SimpleNamespace(sent=sent), receipts, swaps)  # type: ignore[arg-type]
    assert labelled.cases == (TrueMev("sandwich", frozenset({front, victim, back})),)


def _swap(index: int, token_in: str, amount_in: int, out: int, after: Any) -> SwapEvent:
    actor = f"0x{index + 1:040x}"
    return SwapEvent(1, index, bytes([index]) * 32, actor, "0x" + "ee" * 20, token_in,
                     amount_in, out, actor, index, after)  # fmt: skip


LOW, HIGH = "0x" + "01" * 20, "0x" + "02" * 20  # token0 is the lower address


@pytest.mark.parametrize(
    ("back_share", "is_backrun"),
    [(0.49, False), (0.51, True), (1.0, True), (1.49, True), (1.51, False)],
)
def test_threshold_is_a_band_around_the_pre_target_price(
    back_share: float, is_backrun: bool
) -> None:
    """Reserves chosen so the log-price moves are exact: the target halves reserve1/reserve0;
    the follower takes back ``back_share`` of that move."""
    before = (10**24, 10**24)
    after = (2 * 10**24, 10**24 // 2)  # the target sold token0: 1e24 in, 5e23 out
    scale = math.exp(math.log(4) * back_share / 2)  # each reserve moves by the same factor
    end = (round(after[0] / scale), round(after[1] * scale))
    target = _swap(0, LOW, after[0] - before[0], before[1] - after[1], after)
    follower = _swap(1, HIGH, end[1] - after[1], after[0] - end[0], end)
    assert recovery(target, follower) == pytest.approx(back_share, rel=1e-9)
    found = behavioural_backruns([target, follower])
    assert bool(found) is is_backrun
    # The same direction, or no Sync reserves, can never make a backrun.
    assert recovery(target, _swap(1, LOW, 1, 1, end)) is None
    assert recovery(target, _swap(1, HIGH, 1, 1, None)) is None


def test_detector_table_reads_n_a_where_a_rate_has_no_cases() -> None:
    none = {"true": 0, "detected": 0, "precision": 1.0, "recall": 1.0}
    backruns = {
        **none,
        "detected": 2,
        "true_positives": 0,
        "false_positives": 2,
        "false_negatives": 0,
        "precision": 0.0,
        "recall": None,
    }
    run = RunReport("priority", {"sandwiches": none, "backruns": backruns})
    (row,) = detector_table([run])[2:]
    assert row == "| priority | 0 / 0 | n/a | n/a | 0 / 2 | 0 / 2 / 0 | 0% | n/a |"


@pytest.mark.parametrize(
    ("counts", "precision", "recall"),
    [
        ((3, 1, 2), 0.75, 0.6),
        ((0, 0, 4), None, 0.0),
        ((0, 5, 0), 0.0, None),
        ((0, 0, 0), None, None),
    ],
)
def test_backrun_rates_come_from_the_counts_and_are_none_without_cases(
    counts: tuple[int, int, int], precision: float | None, recall: float | None
) -> None:
    tp, fp, fn = counts
    truth = SimpleNamespace(count=lambda kind: tp + fn if kind == "backrun" else 0)
    account = SimpleNamespace(backrun_score=score_of(tp, fp, fn), truth=truth)
    cases = backrun_cases(account)  # type: ignore[arg-type]
    assert (cases["true"], cases["detected"]) == (tp + fn, tp + fp)
    assert (cases["precision"], cases["recall"]) == (precision, recall)
    assert cases["recovery"] == BACKRUN_RECOVERY


def score_of(tp: int, fp: int, fn: int) -> DetectionScore:
    return DetectionScore(1.0, 1.0, tp, fp, fn)  # the 1.0s must not leak into the summary
