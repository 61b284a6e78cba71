"""Latency models: deterministic, order-independent delays and the visibility helpers."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.chain.interfaces import LatencyModel
from agentbed.chain.latency import (
    ConstantLatency,
    PerObserverLatency,
    RandomLatency,
    visible,
    visible_txs,
)
from agentbed.chain.types import PoolTx, Transaction

SENDER = "0x" + "a1" * 20


def make_ptx(seq: int, arrival_ms: int = 1_000, origin: str | None = None) -> PoolTx:
    tx = Transaction(
        hash=hashlib.sha256(f"tx{seq}".encode()).digest(),
        raw=b"",
        type=2,
        chain_id=1337,
        nonce=seq,
        gas=21_000,
        max_fee_per_gas=2,
        max_priority_fee_per_gas=1,
        to=None,
        value=0,
        data=b"",
        access_list=(),
        sender=SENDER,
        v=0,
        r=1,
        s=1,
    )
    return PoolTx(tx=tx, arrival_ms=arrival_ms, seq=seq, origin=origin)


def test_constant_latency() -> None:
    model = ConstantLatency(150)
    assert model.delay_ms(make_ptx(0), "searcher") == 150
    assert model.delay_ms(make_ptx(1), "retail") == 150


def test_constant_latency_rejects_negative() -> None:
    with pytest.raises(ValueError, match="ms"):
        ConstantLatency(-1)


def test_per_observer_latency_with_default() -> None:
    delays = {"searcher": 0, "retail": 400}
    model = PerObserverLatency(delays, default_ms=100)
    ptx = make_ptx(0)
    assert model.delay_ms(ptx, "searcher") == 0
    assert model.delay_ms(ptx, "retail") == 400
    assert model.delay_ms(ptx, "someone else") == 100
    # The model copied the mapping: the caller changing it later changes nothing.
    delays["searcher"] = 999
    assert model.delay_ms(ptx, "searcher") == 0


def test_per_observer_latency_rejects_negative() -> None:
    with pytest.raises(ValueError, match="retail"):
        PerObserverLatency({"retail": -5})
    with pytest.raises(ValueError, match="default_ms"):
        PerObserverLatency({}, default_ms=-1)


def test_random_latency_is_deterministic_across_instances() -> None:
    ptx = make_ptx(3)
    assert RandomLatency(7, 0, 1_000).delay_ms(ptx, "bot") == RandomLatency(7, 0, 1_000).delay_ms(
        ptx, "bot"
    )


def test_random_latency_is_independent_of_query_order() -> None:
    ptxs = [make_ptx(i) for i in range(20)]
    observers = ["a", "b", "c", "d"]
    queries = [(p, o) for p in ptxs for o in observers]

    model = RandomLatency(seed=11, low_ms=10, high_ms=500)
    forward = {(p.hash, o): model.delay_ms(p, o) for p, o in queries}

    shuffled = list(queries)
    random.Random(0).shuffle(shuffled)
    fresh = RandomLatency(seed=11, low_ms=10, high_ms=500)
    # Ask some pairs repeatedly too: a shared RNG would drift, a hash does not.
    backward = {}
    for p, o in shuffled + shuffled[:10]:
        backward[(p.hash, o)] = fresh.delay_ms(p, o)
    assert backward == forward


def test_random_latency_varies_with_tx_observer_and_seed() -> None:
    ptxs = [make_ptx(i) for i in range(30)]
    model = RandomLatency(seed=1, low_ms=0, high_ms=10_000)
    assert len({model.delay_ms(p, "a") for p in ptxs}) > 1
    assert any(model.delay_ms(p, "a") != model.delay_ms(p, "b") for p in ptxs)
    other_seed = RandomLatency(seed=2, low_ms=0, high_ms=10_000)
    assert any(model.delay_ms(p, "a") != other_seed.delay_ms(p, "a") for p in ptxs)


def test_random_latency_degenerate_range() -> None:
    assert RandomLatency(5, 42, 42).delay_ms(make_ptx(0), "x") == 42


def test_random_latency_rejects_bad_range() -> None:
    with pytest.raises(ValueError, match="high_ms"):
        RandomLatency(0, 10, 5)
    with pytest.raises(ValueError, match="low_ms"):
        RandomLatency(0, -1, 5)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(-(2**70), 2**70),
    low=st.integers(0, 5_000),
    span=st.integers(0, 5_000),
    seq=st.integers(0, 10_000),
    observer=st.text(max_size=12),
)
def test_fuzz_random_latency_within_bounds(
    seed: int, low: int, span: int, seq: int, observer: str
) -> None:
    model = RandomLatency(seed, low, low + span)
    delay = model.delay_ms(make_ptx(seq), observer)
    assert low <= delay <= low + span


def test_random_latency_covers_the_range() -> None:
    model = RandomLatency(3, 0, 3)
    seen = {model.delay_ms(make_ptx(i), "o") for i in range(200)}
    assert seen == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "model",
    [ConstantLatency(1), PerObserverLatency({"a": 1}), RandomLatency(0, 0, 1)],
)
def test_models_satisfy_the_protocol(model: LatencyModel) -> None:
    assert isinstance(model.delay_ms(make_ptx(0), "a"), int)


def test_visible_after_delay() -> None:
    model = ConstantLatency(100)
    ptx = make_ptx(0, arrival_ms=1_000)
    assert not visible(ptx, "bot", 1_099, model)
    assert visible(ptx, "bot", 1_100, model)
    assert visible(ptx, "bot", 5_000, model)


def test_submitter_sees_own_tx_at_once() -> None:
    model = ConstantLatency(10_000)
    ptx = make_ptx(0, arrival_ms=1_000, origin="alice")
    assert visible(ptx, "alice", 1_000, model)
    assert not visible(ptx, "bob", 1_000, model)


def test_anonymous_tx_is_not_own_tx_of_anyone() -> None:
    model = ConstantLatency(10)
    ptx = make_ptx(0, arrival_ms=1_000, origin=None)
    assert not visible(ptx, "", 1_000, model)


def test_visible_txs_filters_per_observer_in_input_order() -> None:
    model = PerObserverLatency({"fast": 0, "slow": 300})
    pool = [
        make_ptx(2, arrival_ms=900),
        make_ptx(0, arrival_ms=500),
        make_ptx(1, arrival_ms=800, origin="slow"),
    ]
    assert [p.seq for p in visible_txs(pool, "fast", 900, model)] == [2, 0, 1]
    # Slow sees tx 0 (500 + 300 <= 900) and its own tx 1, but not tx 2 yet.
    assert [p.seq for p in visible_txs(pool, "slow", 900, model)] == [0, 1]
    assert [p.seq for p in visible_txs(pool, "slow", 1_200, model)] == [2, 0, 1]


@given(
    st.lists(st.tuples(st.integers(0, 2_000), st.sampled_from([None, "a", "b", ""])), max_size=12),
    st.sampled_from(["a", "b", ""]),
    st.integers(0, 3_000),
)
def test_fuzz_visible_txs_is_visible_per_tx(
    txs: list[tuple[int, str | None]], observer: str, now_ms: int
) -> None:
    model = RandomLatency(seed=4, low_ms=0, high_ms=800)
    pool = [make_ptx(i, arrival_ms=a, origin=o) for i, (a, o) in enumerate(txs)]
    expected = [p for p in pool if visible(p, observer, now_ms, model)]
    assert visible_txs(pool, observer, now_ms, model) == expected
