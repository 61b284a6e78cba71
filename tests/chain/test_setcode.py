"""geth's txpool rules for EIP-7702 set-code txs (chain/setcode.py), and their decoding."""

from __future__ import annotations

from typing import Any

import coincurve
import pytest
from rawtxkit import CHAIN_ID, GWEI, TO, FakeState, account, address, assert_rejected_unchanged
from rawtxkit import make_tx as make_plain_tx

from agentbed.chain.errors import (
    AuthorityReserved,
    EmptyAuthorizationList,
    GappedNonceFromDelegated,
    InflightTxLimit,
    IntrinsicGasTooLow,
    MalformedTransaction,
    ReplacementUnderpriced,
)
from agentbed.chain.fees import intrinsic_gas
from agentbed.chain.hashing import keccak, rlp_encode
from agentbed.chain.interfaces import HeadInfo
from agentbed.chain.mempool import Mempool
from agentbed.chain.setcode import authorities
from agentbed.chain.txcodec import SECP256K1_N, decode_transaction
from agentbed.chain.txsigner import FastSigner
from agentbed.chain.types import Transaction, TxStatus

HEAD = HeadInfo(block_gas_limit=30_000_000, base_fee=GWEI)
DELEGATE = "0x00000000000000000000000000000000000c0dE1"
DELEGATION = b"\xef\x01\x00" + bytes.fromhex(DELEGATE[2:])


def authorization(i: int, nonce: int = 0, chain_id: int = CHAIN_ID) -> dict[str, Any]:
    """Account ``i`` delegates to DELEGATE."""
    return FastSigner(account(i).key).sign_authorization(
        chain_id=chain_id, address=DELEGATE, nonce=nonce
    )


def set_code_tx(
    i: int, nonce: int, auths: list[dict[str, Any]], *, tip: int = GWEI, gas: int = 100_000
) -> Transaction:
    fields = {
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "gas": gas,
        "maxFeePerGas": 2 * tip + GWEI,
        "maxPriorityFeePerGas": tip,
        "to": TO,
        "authorizationList": auths,
    }
    raw = FastSigner(account(i).key).sign(fields)
    assert raw is not None
    return decode_transaction(raw, chain_id=CHAIN_ID)


def hand_signed_set_code(i: int, to: bytes, auth_items: list[Any]) -> bytes:
    """A type-4 tx encoded by hand, for shapes signers refuse to produce."""
    body = [CHAIN_ID, 0, GWEI, 3 * GWEI, 100_000, to, 0, b"", [], auth_items]
    digest = keccak(b"\x04" + rlp_encode(body))
    sig = coincurve.PrivateKey(bytes(account(i).key)).sign_recoverable(digest, hasher=None)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
    return b"\x04" + rlp_encode([*body, sig[64], r, s])


def rich() -> FakeState:
    return FakeState(balances={address(i): 10**24 for i in range(1, 6)})


def add(pool: Mempool, state: FakeState, tx: Transaction) -> None:
    pool.add(tx, state=state, head=HEAD, arrival_ms=0)


def reject(pool: Mempool, state: FakeState, tx: Transaction, error: type) -> str:
    err = assert_rejected_unchanged(pool, state, tx, error, [], head=HEAD, arrival_ms=9)
    return str(err)


# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------


def test_decoded_set_code_tx_recovers_each_authority() -> None:
    tx = set_code_tx(1, 0, [authorization(2, 7), authorization(3, 0, chain_id=0)])
    assert tx.type == 4
    assert tx.sender == address(1)
    assert [a.authority for a in tx.authorization_list] == [address(2), address(3)]
    assert [(a.nonce, a.chain_id, a.address) for a in tx.authorization_list] == [
        (7, CHAIN_ID, DELEGATE),
        (0, 0, DELEGATE),
    ]
    assert intrinsic_gas(tx) == 21_000 + 2 * 25_000


def test_high_s_authorization_recovers_no_authority() -> None:
    good = authorization(2)
    bad = dict(good, s=SECP256K1_N - good["s"])  # the same signature, malleated
    tx = set_code_tx(1, 0, [bad, good, authorization(2, 1)])
    assert tx.authorization_list[0].authority is None
    assert authorities(tx) == (address(2),)  # unique, invalid ones left out


def test_revert_when_set_code_tx_creates_a_contract() -> None:
    item = [CHAIN_ID, bytes.fromhex(DELEGATE[2:]), 0, 0, 1, 1]
    with pytest.raises(MalformedTransaction, match="cannot be used to create contract"):
        decode_transaction(hand_signed_set_code(1, b"", [item]), chain_id=CHAIN_ID)


@pytest.mark.parametrize(
    "item",
    [
        [CHAIN_ID, b"\x01" * 19, 0, 0, 1, 1],
        [CHAIN_ID, b"\x01" * 20, 0, 256, 1, 1],
        [CHAIN_ID, b"\x01" * 20, 2**64, 0, 1, 1],
        [CHAIN_ID, b"\x01" * 20, 0, 0, 1],
    ],
    ids=["short-address", "wide-y-parity", "wide-nonce", "five-fields"],
)
def test_revert_when_authorization_malformed(item: list[Any]) -> None:
    with pytest.raises(MalformedTransaction, match="authorization"):
        decode_transaction(hand_signed_set_code(1, b"\x02" * 20, [item]), chain_id=CHAIN_ID)


# ---------------------------------------------------------------------------------------------
# admission
# ---------------------------------------------------------------------------------------------


def test_set_code_tx_is_admitted_pending() -> None:
    pool, state = Mempool(), rich()
    tx = set_code_tx(1, 0, [authorization(2)])
    add(pool, state, tx)
    assert pool.fate(tx.hash).status is TxStatus.PENDING


def test_revert_when_authorization_list_empty() -> None:
    raw = hand_signed_set_code(1, b"\x02" * 20, [])
    tx = decode_transaction(raw, chain_id=CHAIN_ID)
    message = reject(Mempool(), rich(), tx, EmptyAuthorizationList)
    assert message == "set code tx must have at least one authorization tuple"


def test_revert_when_gas_does_not_cover_the_authorizations() -> None:
    tx = set_code_tx(1, 0, [authorization(2)], gas=45_999)
    assert "minimum needed 46000" in reject(Mempool(), rich(), tx, IntrinsicGasTooLow)


def test_revert_when_delegated_sender_sends_a_gapped_nonce() -> None:
    pool, state = Mempool(), rich()
    state.codes[address(2)] = DELEGATION
    message = reject(pool, state, make_plain_tx(2, 1), GappedNonceFromDelegated)
    assert message.startswith("gapped-nonce tx from delegated accounts")
    # An account without code may queue the same gapped tx.
    add(pool, state, make_plain_tx(3, 1))


def test_revert_when_delegated_sender_has_a_tx_in_flight() -> None:
    pool, state = Mempool(), rich()
    state.codes[address(2)] = DELEGATION
    first = make_plain_tx(2, 0)
    add(pool, state, first)
    message = reject(pool, state, make_plain_tx(2, 1), InflightTxLimit)
    assert message.startswith("in-flight transaction limit reached for delegated accounts")
    # Replacing the one in-flight tx is allowed (and still needs the price bump).
    reject(pool, state, make_plain_tx(2, 0, value=1), ReplacementUnderpriced)
    bumped = make_plain_tx(2, 0, tip=2 * GWEI, fee_cap=4 * GWEI)
    add(pool, state, bumped)
    assert pool.fate(first.hash).status is TxStatus.REPLACED


def test_pending_authority_gets_the_delegated_limits() -> None:
    pool, state = Mempool(), rich()
    add(pool, state, set_code_tx(1, 0, [authorization(2)]))
    reject(pool, state, make_plain_tx(2, 1), GappedNonceFromDelegated)
    add(pool, state, make_plain_tx(2, 0))
    reject(pool, state, make_plain_tx(2, 1), InflightTxLimit)


def test_revert_when_authority_already_reserved() -> None:
    pool, state = Mempool(), rich()
    add(pool, state, make_plain_tx(2, 0))
    # One pooled tx of the authority is tolerated (geth counts "more than one").
    add(pool, state, set_code_tx(1, 0, [authorization(2)]))
    add(pool, state, make_plain_tx(3, 0))
    add(pool, state, make_plain_tx(3, 1))
    message = reject(pool, state, set_code_tx(4, 0, [authorization(3)]), AuthorityReserved)
    assert message == f"authority already reserved: authority {address(3)}"


def test_authorization_without_authority_reserves_nothing() -> None:
    pool, state = Mempool(), rich()
    add(pool, state, make_plain_tx(3, 0))
    add(pool, state, make_plain_tx(3, 1))
    good = authorization(3)
    add(pool, state, set_code_tx(4, 0, [dict(good, s=SECP256K1_N - good["s"])]))
    # ... and the pool does not treat account 3 as a pending authority.
    add(pool, state, make_plain_tx(3, 2))


def test_authority_is_free_once_the_set_code_tx_left_the_pool() -> None:
    pool, state = Mempool(), rich()
    carrier = set_code_tx(1, 0, [authorization(2)])
    add(pool, state, carrier)
    add(pool, state, make_plain_tx(1, 0, tip=2 * GWEI, fee_cap=4 * GWEI))  # replaces it
    assert pool.fate(carrier.hash).status is TxStatus.REPLACED
    add(pool, state, make_plain_tx(2, 3))  # gapped, and no longer a pending authority


def test_pool_copy_keeps_its_own_authorities() -> None:
    pool, state = Mempool(), rich()
    snapshot = pool.copy()
    add(pool, state, set_code_tx(1, 0, [authorization(2)]))
    reject(pool, state, make_plain_tx(2, 1), GappedNonceFromDelegated)
    add(snapshot, state, make_plain_tx(2, 1))
