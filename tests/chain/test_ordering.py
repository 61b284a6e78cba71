"""Ordering policies: expected orders on hand-built pools, and per-sender nonce order always."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.node import Chain
from agentbed.chain.ordering import (
    POLICY_NAMES,
    BundlesFirstPolicy,
    FifoPolicy,
    FrequentBatchPolicy,
    PolicySpec,
    PriorityFeePolicy,
    RandomPolicy,
    merge_by_key,
    parse_policy,
    policy_from_name,
    rank_bundles,
)
from agentbed.chain.types import PoolTx, Transaction

BASE_FEE = 10
GWEI = 10**9

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
CAROL = "0x" + "c3" * 20


def make_ptx(
    sender: str,
    nonce: int,
    *,
    seq: int,
    arrival_ms: int | None = None,
    tip: int = 1,
    fee_cap: int | None = None,
) -> PoolTx:
    """A pool tx with a fake hash unique per (sender, nonce, seq); no real signature needed."""
    tx = Transaction(
        hash=hashlib.sha256(f"{sender}:{nonce}:{seq}".encode()).digest(),
        raw=b"",
        type=2,
        chain_id=1337,
        nonce=nonce,
        gas=21_000,
        max_fee_per_gas=fee_cap if fee_cap is not None else BASE_FEE + tip,
        max_priority_fee_per_gas=tip,
        to=CAROL,
        value=0,
        data=b"",
        access_list=(),
        sender=sender,
        v=0,
        r=1,
        s=1,
    )
    return PoolTx(tx=tx, arrival_ms=seq * 10 if arrival_ms is None else arrival_ms, seq=seq)


def labels(ordered: list[PoolTx]) -> list[tuple[str, int]]:
    names = {ALICE: "alice", BOB: "bob", CAROL: "carol"}
    return [(names.get(p.sender, p.sender), p.nonce) for p in ordered]


def assert_nonce_order(ordered: list[PoolTx]) -> None:
    last: dict[str, int] = {}
    for ptx in ordered:
        assert ptx.nonce > last.get(ptx.sender, -1), f"{ptx.sender} nonce {ptx.nonce} out of order"
        last[ptx.sender] = ptx.nonce


def all_policies() -> list[OrderingPolicy]:
    return [
        FifoPolicy(),
        PriorityFeePolicy(),
        RandomPolicy(),
        FrequentBatchPolicy(window_ms=50),
        FrequentBatchPolicy(window_ms=50, within="tip"),
        BundlesFirstPolicy(),
        BundlesFirstPolicy(FifoPolicy()),
    ]


# ---------------------------------------------------------------------------------------------
# merge_by_key
# ---------------------------------------------------------------------------------------------


def test_merge_by_key_only_heads_compete() -> None:
    # Bob's nonce 1 has the best key but must wait for his nonce 0, which has the worst.
    pending = [
        make_ptx(BOB, 1, seq=0),
        make_ptx(ALICE, 0, seq=1),
        make_ptx(BOB, 0, seq=2),
    ]
    keys = {pending[0].hash: 0, pending[1].hash: 1, pending[2].hash: 2}
    ordered = merge_by_key(pending, lambda p: keys[p.hash])
    assert labels(ordered) == [("alice", 0), ("bob", 0), ("bob", 1)]


def test_merge_by_key_ties_broken_by_seq_whatever_the_input_order() -> None:
    pending = [make_ptx(s, 0, seq=i) for i, s in enumerate([CAROL, ALICE, BOB])]
    forward = merge_by_key(pending, lambda p: 0)
    backward = merge_by_key(list(reversed(pending)), lambda p: 0)
    assert labels(forward) == labels(backward) == [("carol", 0), ("alice", 0), ("bob", 0)]


def test_merge_by_key_empty() -> None:
    assert merge_by_key([], lambda p: 0) == []


# ---------------------------------------------------------------------------------------------
# Built-in policies on hand-built pools
# ---------------------------------------------------------------------------------------------


def test_fifo_orders_by_arrival_then_seq() -> None:
    pending = [
        make_ptx(ALICE, 0, seq=3, arrival_ms=200),
        make_ptx(BOB, 0, seq=1, arrival_ms=100),
        make_ptx(CAROL, 0, seq=2, arrival_ms=100),
    ]
    ordered = FifoPolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("bob", 0), ("carol", 0), ("alice", 0)]


def test_fifo_keeps_nonce_order_when_later_nonce_arrived_first() -> None:
    # Alice's nonce 1 was queued before the gap filled: it arrived before her nonce 0.
    pending = [
        make_ptx(ALICE, 1, seq=0, arrival_ms=0),
        make_ptx(BOB, 0, seq=1, arrival_ms=50),
        make_ptx(ALICE, 0, seq=2, arrival_ms=100),
    ]
    ordered = FifoPolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("bob", 0), ("alice", 0), ("alice", 1)]


def test_priority_fee_orders_by_tip_descending() -> None:
    pending = [
        make_ptx(ALICE, 0, seq=0, tip=1),
        make_ptx(BOB, 0, seq=1, tip=5),
        make_ptx(CAROL, 0, seq=2, tip=3),
    ]
    ordered = PriorityFeePolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("bob", 0), ("carol", 0), ("alice", 0)]


def test_priority_fee_keeps_nonce_order_when_later_nonce_pays_more() -> None:
    pending = [
        make_ptx(ALICE, 0, seq=0, tip=1),
        make_ptx(ALICE, 1, seq=1, tip=100),
        make_ptx(BOB, 0, seq=2, tip=50),
    ]
    ordered = PriorityFeePolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("bob", 0), ("alice", 0), ("alice", 1)]


def test_priority_fee_uses_effective_tip_at_base_fee() -> None:
    # Alice bids a high tip but her fee cap leaves only 2 above the base fee; Bob's 5 wins.
    pending = [
        make_ptx(ALICE, 0, seq=0, tip=100, fee_cap=BASE_FEE + 2),
        make_ptx(BOB, 0, seq=1, tip=5),
    ]
    ordered = PriorityFeePolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("bob", 0), ("alice", 0)]
    # At base fee 0 Alice's effective tip is the full 12 (her fee cap), which beats 5.
    assert labels(PriorityFeePolicy().order(pending, 0, random.Random(0)))[0] == ("alice", 0)


def test_priority_fee_ties_go_to_earlier_arrival() -> None:
    pending = [
        make_ptx(ALICE, 0, seq=5, arrival_ms=300, tip=7),
        make_ptx(BOB, 0, seq=6, arrival_ms=100, tip=7),
        make_ptx(CAROL, 0, seq=4, arrival_ms=100, tip=7),
    ]
    ordered = PriorityFeePolicy().order(pending, BASE_FEE, random.Random(0))
    assert labels(ordered) == [("carol", 0), ("bob", 0), ("alice", 0)]


def many_senders(n: int = 12) -> list[PoolTx]:
    return [make_ptx("0x" + f"{i:040x}", 0, seq=i) for i in range(n)]


def test_random_is_reproducible_with_the_same_seed() -> None:
    pending = many_senders()
    first = RandomPolicy().order(pending, BASE_FEE, random.Random(42))
    again = RandomPolicy().order(list(reversed(pending)), BASE_FEE, random.Random(42))
    assert first == again


def test_random_differs_across_seeds() -> None:
    pending = many_senders()
    orders = {
        tuple(p.seq for p in RandomPolicy().order(pending, BASE_FEE, random.Random(seed)))
        for seed in range(5)
    }
    # 12! orders; five seeds agreeing on one would mean the rng is ignored.
    assert len(orders) > 1


def test_random_uses_only_the_given_rng() -> None:
    pending = many_senders()
    random.seed(1)
    first = RandomPolicy().order(pending, BASE_FEE, random.Random(7))
    random.seed(2)
    second = RandomPolicy().order(pending, BASE_FEE, random.Random(7))
    assert first == second


def test_batch_puts_earlier_windows_first() -> None:
    window = 100
    pending = [make_ptx("0x" + f"{i:040x}", 0, seq=i, arrival_ms=i * 25) for i in range(16)]
    for seed in range(5):
        ordered = FrequentBatchPolicy(window).order(pending, BASE_FEE, random.Random(seed))
        windows = [p.arrival_ms // window for p in ordered]
        assert windows == sorted(windows)
        assert sorted(p.seq for p in ordered) == list(range(16))


def test_batch_shuffles_within_a_window() -> None:
    pending = [make_ptx("0x" + f"{i:040x}", 0, seq=i, arrival_ms=i) for i in range(10)]
    policy = FrequentBatchPolicy(window_ms=1_000)
    orders = {
        tuple(p.seq for p in policy.order(pending, BASE_FEE, random.Random(s))) for s in range(5)
    }
    assert len(orders) > 1
    # Arrival order inside the window buys nothing: some seed puts a later arrival first.
    assert any(order != tuple(range(10)) for order in orders)


def test_batch_within_tip_orders_by_tip_inside_windows() -> None:
    pending = [
        make_ptx(ALICE, 0, seq=0, arrival_ms=10, tip=1),
        make_ptx(BOB, 0, seq=1, arrival_ms=20, tip=9),
        make_ptx(CAROL, 0, seq=2, arrival_ms=150, tip=50),
    ]
    ordered = FrequentBatchPolicy(100, within="tip").order(pending, BASE_FEE, random.Random(0))
    # Carol pays most but arrived in the second window.
    assert labels(ordered) == [("bob", 0), ("alice", 0), ("carol", 0)]


def test_batch_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="window_ms"):
        FrequentBatchPolicy(0)
    with pytest.raises(ValueError, match="within"):
        FrequentBatchPolicy(100, within="uniform")  # type: ignore[arg-type]


def test_bundles_first_delegates_to_inner_and_is_marked() -> None:
    pending = [make_ptx(ALICE, 0, seq=0, tip=1), make_ptx(BOB, 0, seq=1, tip=9)]
    policy = BundlesFirstPolicy()
    assert policy.bundles_first is True
    assert policy.name == "bundles_first+priority_fee"
    assert policy.order(pending, BASE_FEE, random.Random(0)) == PriorityFeePolicy().order(
        pending, BASE_FEE, random.Random(0)
    )
    fifo_inner = BundlesFirstPolicy(FifoPolicy())
    assert fifo_inner.name == "bundles_first+fifo"
    assert labels(fifo_inner.order(pending, BASE_FEE, random.Random(0))) == [
        ("alice", 0),
        ("bob", 0),
    ]


def test_other_policies_are_not_bundles_first() -> None:
    for policy in all_policies():
        expected = isinstance(policy, BundlesFirstPolicy)
        assert getattr(policy, "bundles_first", False) is expected


def test_policies_satisfy_the_protocol() -> None:
    for policy in all_policies():
        assert isinstance(policy, OrderingPolicy)
        assert policy.name


# ---------------------------------------------------------------------------------------------
# rank_bundles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeBundle:
    label: str
    arrival_ms: int
    seq: int


def test_rank_bundles_by_total_payment() -> None:
    a = FakeBundle("a", 0, 0)
    b = FakeBundle("b", 0, 1)
    c = FakeBundle("c", 0, 2)
    scored = [(a, 100 * GWEI, 100_000), (b, 90 * GWEI, 50_000), (c, 300 * GWEI, 200_000)]
    ranked = rank_bundles(scored)
    # First price: the whole payment decides (per gas would give b, c, a).
    assert [item[0].label for item in ranked] == ["c", "a", "b"]


def test_rank_bundles_ties_by_gas_then_arrival_then_seq() -> None:
    late = FakeBundle("late", 500, 0)
    early_second = FakeBundle("early_second", 100, 2)
    early_first = FakeBundle("early_first", 100, 1)
    lean = FakeBundle("lean", 900, 3)
    scored = [
        (late, 9, 21_000),
        (early_second, 9, 21_000),
        (early_first, 9, 21_000),
        (lean, 9, 20_000),
    ]
    assert [item[0].label for item in rank_bundles(scored)] == [
        "lean",
        "early_first",
        "early_second",
        "late",
    ]


def test_rank_bundles_rejects_zero_gas() -> None:
    with pytest.raises(ValueError, match="gas_used"):
        rank_bundles([(FakeBundle("x", 0, 0), 1, 0)])


# ---------------------------------------------------------------------------------------------
# policy_from_name
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "cls", "policy_name"),
    [
        ("fifo", {}, FifoPolicy, "fifo"),
        ("priority", {}, PriorityFeePolicy, "priority_fee"),
        ("random", {}, RandomPolicy, "random"),
        ("batch", {"window_ms": 250}, FrequentBatchPolicy, "frequent_batch"),
        ("bundles", {}, BundlesFirstPolicy, "bundles_first+priority_fee"),
        ("bundles", {"inner": "fifo"}, BundlesFirstPolicy, "bundles_first+fifo"),
        ("bundles", {"inner": RandomPolicy()}, BundlesFirstPolicy, "bundles_first+random"),
    ],
)
def test_policy_from_name(
    name: str, kwargs: dict[str, object], cls: type, policy_name: str
) -> None:
    policy = policy_from_name(name, **kwargs)
    assert isinstance(policy, cls)
    assert policy.name == policy_name


def test_policy_from_name_passes_window() -> None:
    policy = policy_from_name("batch", window_ms=250)
    assert isinstance(policy, FrequentBatchPolicy)
    assert policy.window_ms == 250


def test_policy_from_name_unknown_lists_valid_names() -> None:
    with pytest.raises(
        ValueError, match="unknown policy 'lifo'; valid policies: fifo, priority, random, batch"
    ):
        policy_from_name("lifo")


# ---------------------------------------------------------------------------------------------
# parse_policy and PolicySpec: the names and aliases, listed once
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("fifo", "fifo"),
        ("priority_fee", "priority"),
        (" Frequent_Batch ", "batch"),
        ("BUNDLES_FIRST", "bundles"),
        ("random", "random"),
    ],
)
def test_parse_policy_reads_aliases_case_and_blanks(text: str, name: str) -> None:
    assert parse_policy(text) == PolicySpec(name)


def test_policy_names_are_the_canonical_names_in_report_order() -> None:
    assert POLICY_NAMES == ("fifo", "priority", "random", "batch", "bundles")
    assert [parse_policy(n).name for n in POLICY_NAMES] == list(POLICY_NAMES)


def test_revert_when_parse_policy_gets_an_unknown_name() -> None:
    with pytest.raises(ValueError) as info:
        parse_policy("fcfs")
    assert str(info.value) == (
        "unknown policy 'fcfs'; valid policies: fifo, priority, random, batch, bundles"
    )


def test_policy_spec_builds_with_its_params() -> None:
    spec = parse_policy("batch", {"window_ms": 250, "within": "tip"})
    assert spec == PolicySpec("batch", (("window_ms", 250), ("within", "tip")))
    policy = spec.build()
    assert isinstance(policy, FrequentBatchPolicy)
    assert (policy.window_ms, policy.within) == (250, "tip")
    assert spec.build() is not policy  # a new instance each time
    inner = parse_policy("bundles", {"inner": "fifo"}).build()
    assert inner.name == "bundles_first+fifo"
    with pytest.raises(TypeError):
        parse_policy("fifo", {"window_ms": 1}).build()
    with pytest.raises(ValueError, match="window_ms must be positive"):
        parse_policy("batch", {"window_ms": 0}).build()


def test_revert_when_a_policy_spec_is_not_canonical() -> None:
    with pytest.raises(ValueError, match="'priority_fee' is an alias of the policy 'priority'"):
        PolicySpec("priority_fee")
    with pytest.raises(ValueError, match="unknown policy 'lifo'"):
        PolicySpec("lifo")


class _OwnPolicy:
    """A user's policy written to the README's promise: a name and an order, nothing else."""

    name = "own"

    def order(self, pending: list[PoolTx], base_fee: int, rng: random.Random) -> list[PoolTx]:
        return merge_by_key(pending, lambda p: -p.seq)


def test_a_policy_without_bundles_first_builds_blocks_and_drops_bundles() -> None:
    chain = Chain(accounts=2, automine=False)
    own = _OwnPolicy()
    assert isinstance(own, OrderingPolicy)
    chain.set_policy(own)
    sender, other = chain.accounts
    fields = {"to": other.address, "value": 1, "gas": 21_000, "type": 2}
    fees = {"maxPriorityFeePerGas": GWEI, "maxFeePerGas": 10 * GWEI}
    public = chain.submit(chain.sign(sender, {**fields, **fees, "nonce": 0}))
    chain.submit_bundle([chain.sign(other, {**fields, **fees, "nonce": 0, "to": sender.address})])
    (block,) = chain.mine()
    assert block.policy == "own"
    assert block.tx_hashes == (public,)  # the bundle is dropped, as under a plain policy


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

SENDERS = [ALICE, BOB, CAROL, "0x" + "d4" * 20]


@st.composite
def pending_pools(draw: st.DrawFn) -> list[PoolTx]:
    """Executable pools: per sender contiguous nonces from a base, random arrivals and tips."""
    counts = draw(st.lists(st.integers(0, 5), min_size=len(SENDERS), max_size=len(SENDERS)))
    pool: list[PoolTx] = []
    seqs = draw(st.permutations(range(sum(counts))))
    seq_iter = iter(seqs)
    for sender, count in zip(SENDERS, counts, strict=True):
        base = draw(st.integers(0, 3))
        for nonce in range(base, base + count):
            tip = draw(st.integers(0, 50))
            pool.append(
                make_ptx(
                    sender,
                    nonce,
                    seq=next(seq_iter),
                    arrival_ms=draw(st.integers(0, 1_000)),
                    tip=tip,
                    fee_cap=draw(st.integers(0, 80)),
                )
            )
    return draw(st.permutations(pool))


@settings(max_examples=150, deadline=None)
@given(pool=pending_pools(), seed=st.integers(0, 2**32), base_fee=st.integers(0, 40))
def test_fuzz_every_policy_permutes_and_keeps_nonce_order(
    pool: list[PoolTx], seed: int, base_fee: int
) -> None:
    for policy in all_policies():
        ordered = policy.order(pool, base_fee, random.Random(seed))
        assert sorted(ordered, key=lambda p: p.seq) == sorted(pool, key=lambda p: p.seq)
        assert len(ordered) == len(pool)
        assert_nonce_order(ordered)


@settings(max_examples=50, deadline=None)
@given(pool=pending_pools(), seed=st.integers(0, 2**32))
def test_fuzz_every_policy_ignores_input_order(pool: list[PoolTx], seed: int) -> None:
    for policy in all_policies():
        forward = policy.order(pool, BASE_FEE, random.Random(seed))
        backward = policy.order(list(reversed(pool)), BASE_FEE, random.Random(seed))
        assert forward == backward
