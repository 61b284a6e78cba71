"""Behaviour of the Chain front object: blocks, ordering, congestion, latency, bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import decode
from eth_account.signers.local import LocalAccount

from agentbed.chain.errors import (
    BundleRejected,
    ExecutionReverted,
    GasEstimationFailed,
    InvalidCall,
    InvalidChainId,
    NonceTooLow,
    UnknownBlock,
    UnknownSnapshot,
    UnknownTransaction,
)
from agentbed.chain.latency import PerObserverLatency
from agentbed.chain.node import Chain
from agentbed.chain.ordering import (
    BundlesFirstPolicy,
    FifoPolicy,
    FrequentBatchPolicy,
    PriorityFeePolicy,
    RandomPolicy,
)
from agentbed.chain.types import TxStatus

GWEI = 10**9
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"


@pytest.fixture(scope="module")
def probe_artifacts():
    from agentbed.chain.compiler import compile_files

    return compile_files([FIXTURES / "Probe.sol"])


def transfer(
    chain: Chain,
    sender: LocalAccount,
    *,
    tip: int = GWEI,
    fee_cap: int | None = None,
    nonce: int | None = None,
    value: int = 1,
    to: str | None = None,
    gas: int = 21_000,
) -> bytes:
    fields = {
        "to": to or "0x000000000000000000000000000000000000dEaD",
        "value": value,
        "gas": gas,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": fee_cap if fee_cap is not None else 10 * GWEI + tip,
        "type": 2,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(sender, fields)


def submit_all(chain: Chain, raws: list[bytes], *, step_ms: int = 10) -> list[bytes]:
    hashes = []
    for raw in raws:
        hashes.append(chain.submit(raw, at_ms=chain.now_ms + step_ms))
    return hashes


# ---------------------------------------------------------------------------------------------
# accounts, automine, receipts
# ---------------------------------------------------------------------------------------------


def test_accounts_are_derived_from_the_seed():
    a, b, c = Chain(seed=1, accounts=3), Chain(seed=1, accounts=3), Chain(seed=2, accounts=3)
    assert [x.address for x in a.accounts] == [x.address for x in b.accounts]
    assert a.accounts[0].address != c.accounts[0].address
    assert a.balance(a.accounts[2].address) == 10_000 * 10**18


def test_automine_includes_each_submit_in_its_own_block():
    chain = Chain(accounts=2)
    h = chain.submit(transfer(chain, chain.accounts[0], to=chain.accounts[1].address, value=5))
    rec = chain.receipt(h)
    assert rec.status == 1 and rec.block_number == 1
    assert chain.block(1).tx_hashes == (h,)
    assert chain.balance(chain.accounts[1].address) == 10_000 * 10**18 + 5


def test_receipt_of_unmined_tx_raises_unknown_transaction():
    chain = Chain(accounts=1, automine=False)
    h = chain.submit(transfer(chain, chain.accounts[0]))
    with pytest.raises(UnknownTransaction):
        chain.receipt(h)
    assert chain.fate(h).status is TxStatus.PENDING


def test_reverted_tx_is_mined_with_status_zero_and_decoded_reason(probe_artifacts):
    chain = Chain(accounts=1)
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    sender = chain.accounts[0]
    data = bytes.fromhex(probe.functions.reject(7)._encode_transaction_data()[2:])
    h = chain.submit(chain.sign(sender, {"to": probe.address, "data": data, "gas": 100_000}))
    rec = chain.receipt(h)
    assert rec.status == 0
    assert rec.revert_reason == f"ProbeRejected({sender.address}, 7)"
    with pytest.raises(ExecutionReverted) as err:
        chain.call(probe.address, data, sender=sender.address)
    assert err.value.reason == f"ProbeRejected({sender.address}, 7)"


def test_rejected_tx_never_enters_the_pool_and_changes_nothing():
    chain = Chain(accounts=1, automine=False)
    other = Chain(accounts=1, chain_id=5, seed=0)
    raw = transfer(other, other.accounts[0])
    with pytest.raises(InvalidChainId):
        chain.submit(raw)
    assert chain.mempool.status() == (0, 0)
    chain.submit(transfer(chain, chain.accounts[0]))
    chain.mine()
    with pytest.raises(NonceTooLow):
        chain.submit(transfer(chain, chain.accounts[0], nonce=0))
    assert chain.mempool.status() == (0, 0)


def test_logs_are_decoded_with_deployed_abis(probe_artifacts):
    chain = Chain(accounts=1)
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    h = chain.transact(chain.accounts[0], probe.functions.poke())
    (log,) = chain.receipt(h).logs
    assert log.event is not None
    assert log.event.name == "Poked"
    assert log.event.args == {"caller": chain.accounts[0].address, "count": 1}
    assert chain.logs(address=probe.address) == (log,)
    assert chain.logs(address=probe.address, topics=[b"\x00" * 32]) == ()


# ---------------------------------------------------------------------------------------------
# ordering policies inside real blocks
# ---------------------------------------------------------------------------------------------


def _ordering_setup(policy) -> tuple[Chain, list[bytes]]:
    chain = Chain(accounts=4, automine=False, policy=policy)
    tips = [1, 5, 3, 4]
    raws = [transfer(chain, a, tip=t * GWEI) for a, t in zip(chain.accounts, tips, strict=True)]
    return chain, submit_all(chain, raws)


def test_fifo_policy_orders_by_arrival():
    chain, hashes = _ordering_setup(FifoPolicy())
    (block,) = chain.mine()
    assert block.tx_hashes == tuple(hashes)
    assert block.policy == "fifo"


def test_priority_policy_orders_by_effective_tip():
    chain, hashes = _ordering_setup(PriorityFeePolicy())
    (block,) = chain.mine()
    assert block.tx_hashes == (hashes[1], hashes[3], hashes[2], hashes[0])


def test_priority_policy_keeps_sender_nonce_order():
    chain = Chain(accounts=2, automine=False, policy=PriorityFeePolicy())
    a, b = chain.accounts
    low = chain.submit(transfer(chain, a, tip=1 * GWEI, nonce=0))
    high = chain.submit(transfer(chain, a, tip=9 * GWEI, nonce=1))
    mid = chain.submit(transfer(chain, b, tip=5 * GWEI))
    (block,) = chain.mine()
    assert block.tx_hashes == (mid, low, high)


def test_random_policy_is_reproducible_per_seed_and_differs_across_seeds():
    def order(seed: int) -> tuple[int, ...]:
        chain = Chain(seed=seed, accounts=8, automine=False, policy=RandomPolicy())
        raws = [transfer(chain, a) for a in chain.accounts]
        hashes = submit_all(chain, raws)
        (block,) = chain.mine()
        return tuple(hashes.index(h) for h in block.tx_hashes)

    assert order(3) == order(3)
    assert len({order(s) for s in range(4)}) > 1


def test_frequent_batch_policy_orders_windows_first():
    chain = Chain(accounts=6, automine=False, policy=FrequentBatchPolicy(window_ms=1_000))
    early = [chain.submit(transfer(chain, a), at_ms=chain.now_ms + 100) for a in chain.accounts[:3]]
    chain.clock.advance(2_000)
    late = [chain.submit(transfer(chain, a), at_ms=chain.now_ms + 100) for a in chain.accounts[3:]]
    (block,) = chain.mine()
    assert set(block.tx_hashes[:3]) == set(early)
    assert set(block.tx_hashes[3:]) == set(late)


def test_policy_can_change_between_blocks():
    chain = Chain(accounts=4, automine=False, policy=FifoPolicy())
    (b1,) = chain.mine()
    chain.set_policy(PriorityFeePolicy())
    (b2,) = chain.mine()
    assert (b1.policy, b2.policy) == ("fifo", "priority_fee")
    with pytest.raises(TypeError):
        chain.set_policy(object())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# congestion: gas limit and EIP-1559
# ---------------------------------------------------------------------------------------------


def _expected_base_fee(parent: int, used: int, limit: int) -> int:
    # Written out from the EIP-1559 text, independently of chain.fees.
    target = limit // 2
    if used == target:
        return parent
    if used > target:
        return parent + max(parent * (used - target) // target // 8, 1)
    return parent - parent * (target - used) // target // 8


def test_base_fee_follows_eip1559_table():
    # 10 transfers fit per block at this limit; vary how full each block is.
    chain = Chain(accounts=10, automine=False, gas_limit=210_000)
    fills = [10, 10, 5, 0, 3, 10, 7, 0, 0, 1]
    for fill in fills:
        for acct in chain.accounts[:fill]:
            chain.submit(transfer(chain, acct, tip=GWEI, fee_cap=100 * GWEI))
        parent = chain.head
        expected = _expected_base_fee(parent.base_fee, parent.gas_used, parent.gas_limit)
        (block,) = chain.mine()
        assert block.base_fee == expected
        assert block.gas_used == 21_000 * fill
        assert block.burned == block.base_fee * block.gas_used


def test_txs_that_do_not_fit_wait_for_the_next_block():
    chain = Chain(accounts=5, automine=False, gas_limit=63_000)
    hashes = [chain.submit(transfer(chain, a)) for a in chain.accounts]
    (b1,) = chain.mine()
    assert len(b1.tx_hashes) == 3
    (b2,) = chain.mine()
    assert set(b1.tx_hashes) | set(b2.tx_hashes) == set(hashes)


def test_fee_cap_below_base_fee_waits_then_gets_in():
    chain = Chain(accounts=11, automine=False, gas_limit=210_000, base_fee=GWEI)
    for acct in chain.accounts[:10]:
        chain.submit(transfer(chain, acct, tip=GWEI, fee_cap=100 * GWEI))
    (full,) = chain.mine()  # a full block: the next base fee rises by 1/8
    assert chain.base_fee == full.base_fee + full.base_fee // 8
    cap = full.base_fee + 1  # below the next base fee, above the one after an empty block
    cheap = chain.submit(transfer(chain, chain.accounts[10], tip=1, fee_cap=cap))
    (blocked,) = chain.mine()
    assert cheap not in blocked.tx_hashes
    assert chain.fate(cheap).status is TxStatus.PENDING
    assert chain.base_fee <= cap
    (included,) = chain.mine()
    assert included.tx_hashes == (cheap,)


# ---------------------------------------------------------------------------------------------
# latency and the builder's view
# ---------------------------------------------------------------------------------------------


def test_mempool_view_is_latency_limited_per_observer():
    latency = PerObserverLatency({"near": 10, "far": 500}, default_ms=0)
    chain = Chain(accounts=1, automine=False, latency=latency)
    t0 = chain.now_ms
    h = chain.submit(transfer(chain, chain.accounts[0]), at_ms=t0 + 100, origin="sender")
    assert [p.hash for p in chain.mempool_view("sender", t0 + 100)] == [h]
    assert chain.mempool_view("near", t0 + 109) == ()
    assert [p.hash for p in chain.mempool_view("near", t0 + 110)] == [h]
    assert chain.mempool_view("far", t0 + 599) == ()
    assert [p.hash for p in chain.mempool_view("far", t0 + 600)] == [h]


def test_builder_only_includes_what_reached_it():
    latency = PerObserverLatency({"builder": 5_000})
    chain = Chain(accounts=2, automine=False, latency=latency, block_interval_ms=12_000)
    t0 = chain.now_ms
    early = chain.submit(transfer(chain, chain.accounts[0]), at_ms=t0 + 1_000)
    late = chain.submit(transfer(chain, chain.accounts[1]), at_ms=t0 + 8_000)
    (block,) = chain.mine()  # sealed at t0 + 12s: late arrived 4s before, builder needs 5s
    assert block.tx_hashes == (early,)
    (block2,) = chain.mine()
    assert block2.tx_hashes == (late,)
    assert chain.receipt(late).waited_ms == 16_000


# ---------------------------------------------------------------------------------------------
# bundles
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def bundle_chain(probe_artifacts) -> tuple[Chain, object]:
    chain = Chain(accounts=4, automine=True, policy=BundlesFirstPolicy(PriorityFeePolicy()))
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    chain.automine = False
    return chain, probe


def _call_raw(
    chain: Chain, acct: LocalAccount, fn, *, value: int = 0, tip: int = GWEI, **extra
) -> bytes:
    data = bytes.fromhex(fn._encode_transaction_data()[2:])
    return chain.sign(
        acct,
        {
            "to": fn.address,
            "data": data,
            "value": value,
            "gas": 120_000,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 10 * GWEI + tip,
            **extra,
        },
    )


def test_bundle_is_private_and_lands_first(bundle_chain):
    chain, probe = bundle_chain
    public = chain.submit(transfer(chain, chain.accounts[0], tip=50 * GWEI))
    raw = _call_raw(chain, chain.accounts[1], probe.functions.payCoinbase(), value=10**15)
    bid = chain.submit_bundle([raw])
    assert [p.hash for p in chain.mempool_view("anyone")] == [public]
    (block,) = chain.mine()
    assert block.bundles == (bid,)
    assert block.tx_hashes[1] == public
    assert chain.receipt(block.tx_hashes[0]).bundle == bid
    assert block.coinbase_transfers == 10**15


def test_public_tx_carried_in_a_bundle_keeps_its_pool_arrival(bundle_chain):
    chain, probe = bundle_chain
    start = chain.clock.now_ms
    victim_raw = transfer(chain, chain.accounts[0])
    victim = chain.submit(victim_raw, at_ms=start + 100)
    own = _call_raw(chain, chain.accounts[1], probe.functions.poke())
    bid = chain.submit_bundle([victim_raw, own], at_ms=start + 900)
    (block,) = chain.mine()
    assert block.bundles == (bid,)
    assert chain.receipt(victim).arrival_ms == start + 100
    assert chain.receipt(chain.decode(own).hash).arrival_ms == start + 900


def test_bundle_is_atomic_unless_revert_allowed(bundle_chain):
    chain, probe = bundle_chain
    a, b = chain.accounts[1], chain.accounts[2]
    ok = _call_raw(chain, a, probe.functions.poke())
    bad_first = _call_raw(chain, b, probe.functions.pokeUnless(0))  # reverts: count is 0
    bid = chain.submit_bundle([bad_first, ok])
    (block,) = chain.mine()
    assert block.tx_hashes == ()
    assert dict(chain.last_build.dropped_bundles)[bid].endswith("reverted")
    assert chain.nonce(a.address) == 0  # nothing from the dropped bundle stuck
    bad_hash = chain.decode(bad_first).hash
    bid2 = chain.submit_bundle([bad_first, ok], allowed_to_revert=[bad_hash])
    (block,) = chain.mine()
    assert block.bundles == (bid2,)
    assert chain.receipt(bad_hash).status == 0
    assert chain.receipt(chain.decode(ok).hash).status == 1


def test_bundles_ranked_by_coinbase_payment(bundle_chain):
    chain, probe = bundle_chain
    small = _call_raw(chain, chain.accounts[1], probe.functions.payCoinbase(), value=10**14)
    big = _call_raw(chain, chain.accounts[2], probe.functions.payCoinbase(), value=10**16)
    b_small = chain.submit_bundle([small])
    b_big = chain.submit_bundle([big])
    (block,) = chain.mine()
    assert block.bundles == (b_big, b_small)


def test_simulate_bundle_changes_nothing(bundle_chain):
    chain, probe = bundle_chain
    raw = _call_raw(chain, chain.accounts[1], probe.functions.poke())
    before = (chain.block_number, chain.nonce(chain.accounts[1].address), chain.mempool.status())
    receipts, failure = chain.simulate_bundle([raw])
    assert failure is None
    assert receipts[0].status == 1 and receipts[0].logs[0].event.name == "Poked"
    after = (chain.block_number, chain.nonce(chain.accounts[1].address), chain.mempool.status())
    assert before == after
    assert probe.functions.count().call() == 0


def test_non_bundle_policy_ignores_bundles(bundle_chain):
    chain, probe = bundle_chain
    chain.set_policy(PriorityFeePolicy())
    raw = _call_raw(chain, chain.accounts[1], probe.functions.poke())
    chain.submit_bundle([raw])
    (block,) = chain.mine()
    assert block.tx_hashes == ()


def test_bundle_errors_are_named(bundle_chain):
    chain, _ = bundle_chain
    with pytest.raises(BundleRejected, match="at least one"):
        chain.submit_bundle([])
    with pytest.raises(BundleRejected, match="already mined"):
        chain.submit_bundle([transfer(chain, chain.accounts[0])], target_block=0)


# ---------------------------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------------------------


def test_snapshot_revert_restores_state_mempool_and_clock():
    chain = Chain(accounts=2, automine=False)
    a, b = chain.accounts
    chain.submit(transfer(chain, a))
    chain.mine()
    pooled = chain.submit(transfer(chain, a))
    sid = chain.snapshot()
    before = (chain.now_ms, chain.block_number, chain.balance(a.address), chain.head.hash)
    chain.submit(transfer(chain, b), at_ms=chain.now_ms + 5_000)
    chain.mine(3)
    assert chain.fate(pooled).status is TxStatus.INCLUDED
    chain.revert(sid)
    assert (chain.now_ms, chain.block_number, chain.balance(a.address), chain.head.hash) == before
    assert [p.hash for p in chain.mempool.pending()] == [pooled]
    assert chain.fate(pooled).status is TxStatus.PENDING
    with pytest.raises(UnknownSnapshot):
        chain.revert(sid)
    (block,) = chain.mine()
    assert block.tx_hashes == (pooled,)


def test_revert_then_rebuild_gives_same_block_hash():
    chain = Chain(accounts=2, automine=False)
    sid = chain.snapshot()
    raw = transfer(chain, chain.accounts[0])
    chain.submit(raw)
    (first,) = chain.mine()
    chain.revert(sid)
    chain.submit(raw)
    (second,) = chain.mine()
    assert first.hash == second.hash


# ---------------------------------------------------------------------------------------------
# calls and receipts details
# ---------------------------------------------------------------------------------------------


def test_log_indices_count_across_the_block(probe_artifacts):
    chain = Chain(accounts=2)
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    chain.automine = False
    first = chain.transact(chain.accounts[0], probe.functions.poke())
    second = chain.transact(chain.accounts[1], probe.functions.poke())
    chain.mine()
    indices = [log.log_index for h in (first, second) for log in chain.receipt(h).logs]
    assert sorted(indices) == [0, 1]


def test_estimate_gas_of_small_creation_is_at_least_intrinsic():
    chain = Chain(accounts=1)
    # init code that returns an empty runtime: PUSH1 0 PUSH1 0 RETURN
    init = bytes.fromhex("60006000f3")
    gas = chain.estimate_gas(data=init)
    assert gas >= 53_000 + 2 * 1 + 16 * 3 + 4 * 2  # create + initcode word + calldata
    h = chain.submit(chain.sign(chain.accounts[0], {"data": init, "gas": gas}))
    assert chain.receipt(h).status == 1


def test_call_that_cannot_execute_is_a_named_error():
    chain = Chain(accounts=1)
    sender = chain.accounts[0].address
    with pytest.raises(InvalidCall, match="insufficient funds for transfer"):
        chain.call("0x000000000000000000000000000000000000dEaD", sender=sender, value=10**40)
    with pytest.raises(InvalidCall, match="intrinsic gas too low"):
        chain.call("0x000000000000000000000000000000000000dEaD", sender=sender, gas=20_000)


def test_estimate_beyond_block_gas_limit_says_so():
    chain = Chain(accounts=1, gas_limit=100_000)
    # init code that loops until out of gas: JUMPDEST PUSH1 0 JUMP
    with pytest.raises(GasEstimationFailed, match=r"gas required exceeds allowance \(100000\)"):
        chain.estimate_gas(data=bytes.fromhex("5b600056"))


def test_pooled_tx_whose_nonce_a_bundle_used_is_evicted(bundle_chain):
    chain, probe = bundle_chain
    sender = chain.accounts[1]
    public = chain.submit(transfer(chain, sender, nonce=0, tip=GWEI))
    private = _call_raw(chain, sender, probe.functions.payCoinbase(), value=10**15, nonce=0)
    chain.submit_bundle([private])
    (block,) = chain.mine()
    assert block.bundles and public not in block.tx_hashes
    fate = chain.fate(public)
    assert fate.status is TxStatus.EVICTED and fate.reason == "nonce too low"


def test_mined_transaction_is_read_back_from_the_chain():
    chain = Chain(accounts=2, automine=False)
    raw = transfer(chain, chain.accounts[0], value=7)
    h = chain.submit(raw)
    pooled = chain.transaction(h)
    chain.mine()
    assert chain.transaction(h) == pooled == chain.decode(raw)
    with pytest.raises(UnknownTransaction):
        chain.transaction(b"\x01" * 32)


def test_next_block_time_can_be_set_exactly():
    chain = Chain(accounts=1)
    target = (chain.head.timestamp + 100) * 1000
    chain.set_next_block_time(target)
    h = chain.submit(transfer(chain, chain.accounts[0]))
    assert chain.block(chain.receipt(h).block_number).timestamp == target // 1000
    (after,) = chain.mine()
    assert after.timestamp == target // 1000 + 12  # back to the block interval
    with pytest.raises(ValueError, match="must be after the head"):
        chain.set_next_block_time(after.timestamp * 1000)
    with pytest.raises(ValueError, match="before the clock"):
        chain.set_next_block_time(chain.now_ms - 1)


def test_calls_see_the_head_block_not_the_wall_clock(probe_artifacts):
    chain = Chain(accounts=1, genesis_ms=1_000_000_000)  # 1970: far from any wall clock
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    timestamp, number = probe.functions.context().call()
    assert (timestamp, number) == (chain.head.timestamp, chain.head.number)


def test_reverting_constructor_error_is_decoded():
    chain = Chain(accounts=1)
    token = chain.accounts[0].address
    with pytest.raises(ExecutionReverted) as err:
        chain.deploy("ConstantProductPool", token, token, 30)
    assert err.value.reason == f"PoolIdenticalTokens({token})"


def test_pending_nonce_counts_executable_txs_only():
    chain = Chain(accounts=1, automine=False)
    sender = chain.accounts[0]
    for _ in range(3):
        chain.submit(transfer(chain, sender))
    chain.submit(transfer(chain, sender, nonce=5))  # gapped: queued, not counted
    assert chain.pending_nonce(sender.address) == 3
    chain.mine()
    assert chain.pending_nonce(sender.address) == 3  # now from state


def test_call_at_block_number_runs_on_that_blocks_state(probe_artifacts):
    chain = Chain(accounts=2)
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    chain.mine(2)
    data = bytes.fromhex(probe.functions.context()._encode_transaction_data()[2:])
    deployed_at = chain.receipt(chain.block(chain.block_number - 2).tx_hashes[0]).block_number
    head_view = decode(["uint256", "uint256"], chain.call(probe.address, data))
    past_view = decode(
        ["uint256", "uint256"], chain.call(probe.address, data, block_number=deployed_at)
    )
    assert head_view[1] == chain.block_number
    assert past_view == (chain.block(deployed_at).timestamp, deployed_at)
    # before the deployment there is no code: the call succeeds and returns nothing
    assert chain.call(probe.address, data, block_number=deployed_at - 1) == b""
    # the balance check of a value call uses that block's balance too
    poor = chain.accounts[1]
    chain.transact(poor, to=chain.accounts[0].address, value=chain.balance(poor.address) // 2)
    with pytest.raises(InvalidCall):
        chain.call(probe.address, sender=poor.address, value=chain.balance(poor.address) + 1)
    chain.call(
        poor.address, sender=poor.address, value=chain.balance(poor.address) + 1, block_number=0
    )
    for bad in (chain.block_number + 1, -1):
        with pytest.raises(UnknownBlock):
            chain.call(probe.address, data, block_number=bad)
