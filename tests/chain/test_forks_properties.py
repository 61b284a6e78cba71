"""Properties of forks and reorgs over random sequences of submits, blocks and side branches:
the canonical chain stays linked and longest, nonces follow it, the pool never holds a
canonical tx, the same operations give the same chain, and a snapshot undoes everything."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentbed.chain.node import Chain

Op = tuple[Any, ...]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("tx"), st.integers(0, 2)),
        st.tuples(st.just("mine")),
        st.tuples(st.just("fork"), st.integers(0, 3), st.integers(1, 4), st.booleans()),
        st.tuples(st.just("switch")),
    ),
    max_size=12,
)


def _apply(chain: Chain, op: Op) -> None:
    if op[0] == "tx":
        sender = chain.accounts[op[1]]
        chain.submit(chain.sign(sender, {"to": chain.accounts[3].address, "value": 1}))
    elif op[0] == "mine":
        chain.mine()
    elif op[0] == "switch":  # break a tie for the first side tip as long as the head
        ties = [b for b in chain.side_blocks() if b.number == chain.block_number]
        if ties:
            chain.switch_head(ties[0].hash)
    else:
        _, back, length, with_pool = op
        parent = chain.block(max(chain.block_number - back, 0)).hash
        txs = [p.tx for p in chain.pending_transactions()] if with_pool else []
        for _ in range(length):
            parent = chain.mine_on(parent, txs).hash
            txs = []


def _observed(chain: Chain) -> tuple[Any, ...]:
    return (
        tuple(chain.block(n) for n in range(chain.block_number + 1)),
        tuple(chain.nonce(a.address) for a in chain.accounts),
        tuple(chain.balance(a.address) for a in chain.accounts),
        tuple(p.tx.hash for p in chain.pending_transactions()),
        chain.logs(),
        chain.now_ms,
        chain.reorgs,
        chain.side_blocks(),
    )


def _check_invariants(chain: Chain) -> None:
    canonical_txs = []
    for n in range(1, chain.block_number + 1):
        block = chain.block(n)
        assert block.parent_hash == chain.block(n - 1).hash
        canonical_txs += block.tx_hashes
    assert all(b.number <= chain.block_number for b in chain.side_blocks())  # longest chain
    senders = [chain.transaction(h).sender for h in canonical_txs]
    for account in chain.accounts:
        assert chain.nonce(account.address) == senders.count(account.address)
    pooled = {p.tx.hash for p in chain.pending_transactions()}
    assert pooled.isdisjoint(canonical_txs)
    for reorg in chain.reorgs:
        assert reorg.depth == len(reorg.orphaned) >= 1
        assert len(reorg.adopted) >= reorg.depth  # longer, or a tie broken by switch_head


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_fuzz_forks_keep_the_chain_consistent_and_revertible(sequence: list[Op]) -> None:
    chain = Chain(seed=9, accounts=4, automine=False)
    chain.mine()
    before = _observed(chain)
    snap = chain.snapshot()
    for op in sequence:
        _apply(chain, op)
        _check_invariants(chain)
    after = _observed(chain)
    chain.revert(snap)
    assert _observed(chain) == before
    again = Chain(seed=9, accounts=4, automine=False)
    again.mine()
    for op in sequence:
        _apply(again, op)
    assert _observed(again) == after
