"""The builder's sealed-bid, first-price auction among bundles that compete for one opportunity."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from agentbed.chain.bundles import conflicting_bundle
from agentbed.chain.node import Chain
from agentbed.chain.ordering import BundlesFirstPolicy, PriorityFeePolicy
from agentbed.chain.types import Bundle, Transaction

GWEI = 10**9
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"


@pytest.fixture(scope="module")
def probe_artifacts():
    from agentbed.chain.compiler import compile_files

    return compile_files([FIXTURES / "Probe.sol"])


@pytest.fixture
def auction_chain(probe_artifacts) -> tuple[Chain, object]:
    chain = Chain(accounts=4, automine=True, policy=BundlesFirstPolicy(PriorityFeePolicy()))
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    chain.automine = False
    return chain, probe


def _raw(
    chain: Chain, acct: LocalAccount, fn, *, value: int = 0, nonce: int | None = None
) -> bytes:
    fields = {
        "to": fn.address,
        "data": bytes.fromhex(fn._encode_transaction_data()[2:]),
        "value": value,
        "gas": 120_000,
        "maxPriorityFeePerGas": GWEI,
        "maxFeePerGas": 10 * GWEI + GWEI,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    return chain.sign(acct, fields)


def _victim(chain: Chain) -> bytes:
    return chain.sign(
        chain.accounts[3],
        {
            "to": "0x000000000000000000000000000000000000dEaD",
            "value": 1,
            "gas": 21_000,
            "maxPriorityFeePerGas": GWEI,
            "maxFeePerGas": 11 * GWEI,
        },
    )


def test_builder_includes_the_higher_paying_of_two_bundles_on_one_victim(auction_chain):
    chain, probe = auction_chain
    victim = _victim(chain)
    chain.submit(victim)
    # The loser pays less in total but more per gas: the auction is by payment, not per gas.
    low = [victim, _raw(chain, chain.accounts[1], probe.functions.payCoinbase(), value=10**15)]
    high = [
        victim,
        _raw(chain, chain.accounts[2], probe.functions.payCoinbase(), value=12 * 10**14),
        _raw(chain, chain.accounts[2], probe.functions.poke(), nonce=1),
    ]
    low_sim, low_failure = chain.simulate_bundle(low)
    high_sim, high_failure = chain.simulate_bundle(high)
    assert low_failure is None and high_failure is None
    low_gas = sum(r.gas_used for r in low_sim)
    high_gas = sum(r.gas_used for r in high_sim)
    assert 10**15 / low_gas > 12 * 10**14 / high_gas  # the premise: low wins per gas
    b_low = chain.submit_bundle(low)
    b_high = chain.submit_bundle(high)
    (block,) = chain.mine()
    assert block.bundles == (b_high,)
    assert dict(chain.last_build.dropped_bundles)[b_low].startswith(
        f"outbid by bundle 0x{b_high.hex()}"
    )
    assert block.coinbase_transfers == 12 * 10**14
    assert chain.nonce(chain.accounts[1].address) == 0  # nothing of the loser landed


def test_order_of_submission_does_not_decide_the_auction(auction_chain):
    chain, probe = auction_chain
    victim = _victim(chain)
    chain.submit(victim)
    high = [victim, _raw(chain, chain.accounts[1], probe.functions.payCoinbase(), value=2 * 10**15)]
    low = [victim, _raw(chain, chain.accounts[2], probe.functions.payCoinbase(), value=10**15)]
    b_high = chain.submit_bundle(high)
    chain.submit_bundle(low)
    (block,) = chain.mine()
    assert block.bundles == (b_high,)


def test_bundles_for_different_opportunities_both_land(auction_chain):
    chain, probe = auction_chain
    a = chain.submit_bundle(
        [_raw(chain, chain.accounts[1], probe.functions.payCoinbase(), value=10**14)]
    )
    b = chain.submit_bundle(
        [_raw(chain, chain.accounts[2], probe.functions.payCoinbase(), value=10**16)]
    )
    (block,) = chain.mine()
    assert block.bundles == (b, a)


def test_alternatives_of_one_searcher_conflict_by_nonce(auction_chain):
    chain, probe = auction_chain
    searcher = chain.accounts[1]
    cheap = chain.submit_bundle(
        [_raw(chain, searcher, probe.functions.payCoinbase(), value=10**14, nonce=0)]
    )
    dear = chain.submit_bundle(
        [_raw(chain, searcher, probe.functions.payCoinbase(), value=10**15, nonce=0)]
    )
    (block,) = chain.mine()
    assert block.bundles == (dear,)
    assert "outbid" in dict(chain.last_build.dropped_bundles)[cheap]


def _tx(sender: str, nonce: int, tag: int) -> Transaction:
    return Transaction(
        hash=bytes([tag]) * 32,
        raw=b"",
        type=2,
        chain_id=1,
        nonce=nonce,
        gas=21_000,
        max_fee_per_gas=GWEI,
        max_priority_fee_per_gas=GWEI,
        to=None,
        value=0,
        data=b"",
        access_list=(),
        sender=sender,
        v=0,
        r=0,
        s=0,
    )


def _bundle(*txs: Transaction) -> Bundle:
    return Bundle(txs=txs, target_block=1, allowed_to_revert=frozenset(), arrival_ms=0, seq=0)


def test_conflicting_bundle_names_shared_tx_or_nonce_and_nothing_else():
    victim = _tx("0xv", 0, 1)
    first = _bundle(_tx("0xa", 0, 2), victim)
    same_victim = _bundle(_tx("0xb", 0, 3), victim)
    same_nonce = _bundle(_tx("0xa", 0, 4))
    unrelated = _bundle(_tx("0xa", 1, 5), _tx("0xc", 0, 6))
    assert conflicting_bundle(same_victim, [first]) is first
    assert conflicting_bundle(same_nonce, [first]) is first
    assert conflicting_bundle(unrelated, [first]) is None
    assert conflicting_bundle(first, []) is None
