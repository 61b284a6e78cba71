"""Cheat codes: ``Chain`` methods and their anvil / Hardhat RPC names.

Each cheat is checked for what it changes, that a revert undoes it, that the next block builds
on it, and that a bad value raises :class:`InvalidCheatValue` and changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from agentbed.chain.cheats import MAX_CODE_SIZE, InvalidCheatValue
from agentbed.chain.errors import UnknownContract
from agentbed.chain.interval import mine_on_interval
from agentbed.chain.node import Chain
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.provider.errors import RpcError
from agentbed.chain.types import TxStatus

WHALE = "0x000000000000000000000000000000000000bEEF"
OTHER = "0x000000000000000000000000000000000000cAFE"
SINK = "0x000000000000000000000000000000000000dEaD"
# Runtime code returning storage slot 0 as one word: PUSH0 SLOAD PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
RETURN_SLOT0 = bytes.fromhex("5f545f5260205ff3")


def _state(chain: Chain, address: str) -> tuple[int, int, bytes, int]:
    return (
        chain.balance(address),
        chain.nonce(address),
        chain.code(address),
        chain.storage_at(address, 0),
    )


def test_set_balance_is_read_at_latest_without_a_block_and_the_next_block_builds_on_it() -> None:
    chain = Chain(seed=1, accounts=1)
    head = chain.head
    chain.set_balance(WHALE, 5 * 10**18)
    assert chain.balance(WHALE) == 5 * 10**18
    assert chain.head == head and chain.block_number == 0  # a cheat is not a block
    assert chain.balance(WHALE, 0) == 0  # the sealed block's own state is untouched
    chain.mine()
    assert chain.balance(WHALE) == 5 * 10**18
    assert chain.head.header.state_root != head.header.state_root


def test_set_code_and_storage_are_seen_by_calls_and_the_storage_word_can_be_bytes() -> None:
    chain = Chain(seed=1, accounts=1)
    chain.set_code(WHALE, RETURN_SLOT0)
    assert chain.call(WHALE) == bytes(32)  # the call cache must not serve the pre-write answer
    chain.set_storage_at(WHALE, 0, 42)
    assert int.from_bytes(chain.call(WHALE), "big") == 42
    chain.set_storage_at(WHALE, "0x00", "0x" + "ff" * 32)
    assert chain.storage_at(WHALE, 0) == 2**256 - 1
    chain.set_code(WHALE, b"")
    assert chain.code(WHALE) == b""


def test_revert_undoes_cheats_after_the_snapshot_and_keeps_those_before() -> None:
    chain = Chain(seed=1, accounts=1)
    chain.set_balance(WHALE, 1)
    before = chain.snapshot()
    chain.set_balance(WHALE, 2)
    chain.set_nonce(WHALE, 9)
    chain.set_code(WHALE, RETURN_SLOT0)
    chain.set_storage_at(WHALE, 0, 7)
    chain.mine()
    chain.revert(before)
    assert _state(chain, WHALE) == (1, 0, b"", 0)
    chain.mine()  # and the next block builds on the restored state
    assert chain.balance(WHALE) == 1


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["balance", "nonce", "code", "storage", "mine"]),
            st.integers(0, 2**64 - 1),
        ),
        max_size=6,
    )
)
def test_fuzz_any_cheats_then_revert_restore_the_state_exactly(ops: list[tuple[str, int]]) -> None:
    chain = Chain(seed=3, accounts=1)
    chain.set_balance(WHALE, 10**18)
    snapshot = chain.snapshot()
    token = chain.backend.snapshot()
    seen = _state(chain, WHALE)
    for op, value in ops:
        if op == "balance":
            chain.set_balance(WHALE, value)
        elif op == "nonce":
            chain.set_nonce(WHALE, value)
        elif op == "code":
            chain.set_code(WHALE, value.to_bytes(8, "big"))
        elif op == "storage":
            chain.set_storage_at(WHALE, 0, value)
        else:
            chain.mine()
    chain.revert(snapshot)
    assert _state(chain, WHALE) == seen
    assert chain.backend.snapshot() == token  # same head and the same pending state root


@pytest.mark.parametrize(
    ("cheat", "args", "needle"),
    [
        ("set_balance", (WHALE, -1), "balance must be in [0, 2**256)"),
        ("set_balance", (WHALE, 2**256), "balance must be in [0, 2**256)"),
        ("set_balance", (WHALE, 1.5), "balance must be an int"),
        ("set_balance", ("0x12", 1), "not an address"),
        ("set_storage_at", (WHALE, 2**256, 1), "slot must be in [0, 2**256)"),
        ("set_storage_at", (WHALE, 0, 2**256), "value must be in [0, 2**256)"),
        ("set_storage_at", (WHALE, 0, b"\x01" * 33), "value must be at most 32 bytes"),
        ("set_code", (WHALE, b"\x00" * (MAX_CODE_SIZE + 1)), "exceeds the 24576-byte limit"),
        ("set_code", (WHALE, "0xzz"), "code is not bytes or hex"),
        ("set_nonce", (WHALE, 2**64), "nonce must be in [0, 2**64)"),
        ("set_next_block_timestamp", (2**64,), "timestamp must be in [0, 2**64)"),
        ("set_next_block_timestamp", (5,), "before the clock"),
        ("increase_time", (-1,), "seconds must be in [0, 2**64)"),
        ("increase_time", (2**64 - 1,), "would pass uint64 seconds"),
        ("set_interval_mining", (-5,), "interval must be in [0, 2**64)"),
        ("set_automine", (1,), "automine must be a bool"),
    ],
)
def test_revert_when_a_cheat_gets_a_bad_value_and_nothing_changes(
    cheat: str, args: tuple[Any, ...], needle: str
) -> None:
    chain = Chain(seed=1, accounts=1)
    token, now = chain.backend.snapshot(), chain.now_ms
    with pytest.raises(InvalidCheatValue, match=None) as info:
        getattr(chain, cheat)(*args)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)
    assert chain.backend.snapshot() == token and chain.now_ms == now
    assert chain.automine and chain.mining_interval_ms is None


def test_set_nonce_evicts_pooled_txs_below_it_and_set_balance_those_it_cannot_pay() -> None:
    chain = Chain(seed=1, accounts=2, automine=False)
    alice, bob = chain.accounts
    first = chain.transact(alice, to=SINK, value=1)
    chain.transact(alice, to=SINK, value=1)
    chain.set_nonce(alice.address, 1)
    assert chain.fate(first) is not None and chain.fate(first).reason == "nonce too low"
    assert chain.pending_nonce(alice.address) == 2  # the nonce-1 tx is still pending
    paid = chain.transact(bob, to=SINK, value=1)
    chain.set_balance(bob.address, 0)
    fate = chain.fate(paid)
    assert fate is not None and (fate.status, fate.reason) == (
        TxStatus.EVICTED,
        "insufficient funds",
    )


def test_impersonated_address_transacts_without_a_key_and_keeps_its_sender_once_mined() -> None:
    chain = Chain(seed=1, accounts=1)
    chain.set_balance(WHALE, 10**18)
    with pytest.raises(UnknownContract):
        chain.transact(WHALE, to=SINK, value=1)
    with chain.impersonate(WHALE) as whale:
        assert chain.impersonated_accounts == (whale,)
        tx_hash = chain.transact(WHALE, to=SINK, value=5)
    assert chain.impersonated_accounts == ()
    receipt = chain.receipt(tx_hash)
    assert (receipt.status, receipt.sender) == (1, WHALE)
    tx = chain.transaction(tx_hash)  # decoded again from the block after impersonation ended
    assert tx.sender == WHALE and tx.hash == keccak(tx.raw) == tx_hash
    assert chain.balance(SINK) == 5 and chain.nonce(WHALE) == 1
    with pytest.raises(UnknownContract):
        chain.transact(WHALE, to=SINK, value=1)


def test_impersonated_txs_are_deterministic_and_distinct_per_sender() -> None:
    def run() -> tuple[bytes, bytes, bytes]:
        chain = Chain(seed=4, accounts=1)
        hashes = []
        for who in (WHALE, OTHER):
            chain.set_balance(who, 10**18)
            chain.impersonate_account(who)
            hashes.append(chain.transact(who, to=SINK, value=1, gas=21_000))
        return hashes[0], hashes[1], chain.head.hash

    first, second = run(), run()
    assert first == second  # same inputs, same tx and block hashes
    assert first[0] != first[1]  # same fields and nonce, different senders


def test_impersonation_outlives_a_revert_as_on_anvil() -> None:
    chain = Chain(seed=1, accounts=1)
    snapshot = chain.snapshot()
    chain.impersonate_account(WHALE)
    chain.revert(snapshot)
    assert chain.impersonated_accounts == (WHALE,)


def test_drop_transaction_removes_it_and_queues_the_senders_later_txs() -> None:
    chain = Chain(seed=1, accounts=1, automine=False)
    (alice,) = chain.accounts
    first = chain.transact(alice, to=SINK, value=1)
    second = chain.transact(alice, to=SINK, value=1)
    assert chain.drop_transaction(first)
    fate = chain.fate(first)
    assert fate is not None and (fate.status, fate.reason) == (TxStatus.EVICTED, "dropped")
    assert chain.fate(second) is not None and chain.fate(second).status is TxStatus.QUEUED
    assert not chain.drop_transaction(first)
    chain.mine()
    assert chain.head.tx_hashes == ()


def test_increase_time_moves_the_simulated_clock_and_revert_restores_it() -> None:
    chain = Chain(seed=1, accounts=1)
    snapshot = chain.snapshot()
    start = chain.head.timestamp
    assert chain.increase_time(3600) == 3600
    assert chain.increase_time(0) == 3600
    block = chain.mine()[0]
    assert block.timestamp >= start + 3600
    chain.revert(snapshot)
    assert chain.next_block_timestamp() == start + 12


def test_set_next_block_timestamp_pins_the_next_block() -> None:
    chain = Chain(seed=1, accounts=1)
    target = chain.head.timestamp + 100
    chain.set_next_block_timestamp(target)
    assert chain.mine()[0].timestamp == target


def test_interval_mining_mines_one_block_per_tick_and_automine_ends_it() -> None:
    chain = Chain(seed=1, accounts=1)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    asyncio.run(mine_on_interval(chain, sleep=no_wait, ticks=2))
    assert chain.block_number == 0  # no interval set: the task only polls
    chain.set_interval_mining(2000)
    assert not chain.automine
    asyncio.run(mine_on_interval(chain, sleep=no_wait, ticks=3))
    assert chain.block_number == 3 and waits[-3:] == [2.0, 2.0, 2.0]
    chain.set_automine(True)
    assert chain.mining_interval_ms is None


# -- RPC names -------------------------------------------------------------------------------


def _rpc(provider: TestbedProvider, method: str, *params: Any) -> Any:
    return provider.handle(method, list(params))


def test_anvil_and_hardhat_names_answer_as_each_node_does() -> None:
    chain = Chain(seed=1, accounts=1)
    provider = TestbedProvider(chain)
    assert _rpc(provider, "anvil_setBalance", WHALE, "0xde0b6b3a7640000") is None
    assert _rpc(provider, "hardhat_setBalance", OTHER, "0x1") is True
    assert chain.balance(WHALE) == 10**18 and chain.balance(OTHER) == 1
    word = "0x" + "00" * 31 + "2a"
    assert _rpc(provider, "anvil_setStorageAt", WHALE, "0x0", word) is True
    assert _rpc(provider, "hardhat_setCode", WHALE, "0x" + RETURN_SLOT0.hex()) is True
    assert _rpc(provider, "eth_call", {"to": WHALE}, "latest") == word
    assert _rpc(provider, "anvil_setNonce", WHALE, "0x5") is None
    assert _rpc(provider, "eth_getTransactionCount", WHALE, "latest") == "0x5"
    assert _rpc(provider, "evm_increaseTime", 60) == 60
    assert _rpc(provider, "evm_increaseTime", "0x3c") == 120
    assert _rpc(provider, "anvil_setAutomine", False) is None and not chain.automine
    assert _rpc(provider, "evm_setIntervalMining", 5) is None
    assert chain.mining_interval_ms == 5000


def test_eth_send_transaction_from_an_impersonated_account() -> None:
    chain = Chain(seed=1, accounts=1)
    provider = TestbedProvider(chain)
    _rpc(provider, "anvil_setBalance", WHALE, "0xde0b6b3a7640000")
    tx = {"from": WHALE, "to": SINK, "value": "0x7"}
    with pytest.raises(RpcError, match="unknown account"):
        _rpc(provider, "eth_sendTransaction", tx)
    assert _rpc(provider, "hardhat_impersonateAccount", WHALE) is True
    assert WHALE in _rpc(provider, "eth_accounts")
    tx_hash = _rpc(provider, "eth_sendTransaction", tx)
    receipt = _rpc(provider, "eth_getTransactionReceipt", tx_hash)
    assert receipt["from"].lower() == WHALE.lower() and receipt["status"] == "0x1"
    assert _rpc(provider, "eth_getTransactionByHash", tx_hash)["from"].lower() == WHALE.lower()
    assert _rpc(provider, "anvil_stopImpersonatingAccount", WHALE) is None
    with pytest.raises(RpcError, match="unknown account"):
        _rpc(provider, "eth_sendTransaction", tx)


def test_drop_transaction_answers_the_hash_or_null_and_hardhat_a_bool() -> None:
    chain = Chain(seed=1, accounts=1, automine=False)
    provider = TestbedProvider(chain)
    tx_hash = "0x" + chain.transact(chain.accounts[0], to=SINK, value=1).hex()
    assert _rpc(provider, "anvil_dropTransaction", tx_hash) == tx_hash
    assert _rpc(provider, "anvil_dropTransaction", tx_hash) is None
    assert _rpc(provider, "hardhat_dropTransaction", tx_hash) is False


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("anvil_setBalance", [WHALE, "0x1" + "0" * 64], "balance must be in [0, 2**256)"),
        ("anvil_setStorageAt", [WHALE, "0x1" + "0" * 64, "0x" + "00" * 32], "invalid slot"),
        ("anvil_setStorageAt", [WHALE, "0x0", "0x01"], "want 32 bytes"),
        ("anvil_setCode", [WHALE, "0x" + "00" * (MAX_CODE_SIZE + 1)], "24576-byte limit"),
        ("anvil_setNonce", [WHALE, "0x10000000000000000"], "nonce must be in [0, 2**64)"),
        ("evm_increaseTime", ["0xffffffffffffffff"], "would pass uint64 seconds"),
        ("evm_setIntervalMining", ["0x10000000000000000"], "hex number > 64 bits"),
        ("anvil_setAutomine", ["yes"], "must be a boolean"),
        ("anvil_impersonateAccount", ["0x12"], "is not an address"),
    ],
)
def test_bad_cheat_params_are_invalid_params(method: str, params: list[Any], needle: str) -> None:
    provider = TestbedProvider(Chain(seed=1, accounts=1))
    with pytest.raises(RpcError) as info:
        provider.handle(method, params)
    assert info.value.code == -32602
    assert needle in info.value.message
