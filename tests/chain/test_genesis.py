"""Prague genesis: EIP-2935 / EIP-4788 system contracts and the CREATE2 deployment proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.vm.forks.cancun.constants import BEACON_ROOTS_CONTRACT_CODE
from eth.vm.forks.prague.constants import HISTORY_STORAGE_CONTRACT_CODE

from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.genesis import (
    BEACON_ROOTS_ADDRESS,
    CREATE2_DEPLOYER_ADDRESS,
    HISTORY_SERVE_WINDOW,
    HISTORY_STORAGE_ADDRESS,
    SYSTEM_ACCOUNTS,
    create2_address,
    create2_deployer_calldata,
    genesis_state,
)
from agentbed.chain.node import Chain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_system_contracts_are_in_the_genesis_state() -> None:
    chain = Chain(accounts=1)
    for address, acct in SYSTEM_ACCOUNTS.items():
        assert chain.code(address) == acct.code
        assert chain.nonce(address) == acct.nonce
    # The EIPs' bytecode is what py-evm's block pre-processing recognises.
    assert chain.code(HISTORY_STORAGE_ADDRESS) == HISTORY_STORAGE_CONTRACT_CODE
    assert chain.code(BEACON_ROOTS_ADDRESS) == BEACON_ROOTS_CONTRACT_CODE


def test_a_funded_system_address_keeps_its_code() -> None:
    state = genesis_state({CREATE2_DEPLOYER_ADDRESS: 5})
    [entry] = [v for k, v in state.items() if k == bytes.fromhex(CREATE2_DEPLOYER_ADDRESS[2:])]
    assert entry["balance"] == 5
    assert entry["code"] == SYSTEM_ACCOUNTS[CREATE2_DEPLOYER_ADDRESS].code


def test_history_contract_serves_past_block_hashes() -> None:
    chain = Chain(accounts=1)
    chain.mine(5)
    for number in range(5):
        assert chain.call(HISTORY_STORAGE_ADDRESS, word(number)) == chain.block(number).hash
        # The system call at the start of block n + 1 wrote block n's hash.
        slot = number % HISTORY_SERVE_WINDOW
        assert chain.storage_at(HISTORY_STORAGE_ADDRESS, slot) == int.from_bytes(
            chain.block(number).hash, "big"
        )
    # The head's own hash is not there yet; the contract reverts for it (EIP-2935's get).
    with pytest.raises(ExecutionReverted):
        chain.call(HISTORY_STORAGE_ADDRESS, word(5))


def test_beacon_roots_contract_serves_each_blocks_root() -> None:
    chain = Chain(accounts=1)
    chain.mine(2)
    for number in (1, 2):
        block = chain.block(number)
        assert block.header is not None
        root = chain.call(BEACON_ROOTS_ADDRESS, word(block.timestamp))
        assert root == block.header.parent_beacon_block_root
    with pytest.raises(ExecutionReverted):
        chain.call(BEACON_ROOTS_ADDRESS, word(chain.block(2).timestamp + 1))


@pytest.fixture(scope="module")
def probe_artifacts() -> Any:
    from agentbed.chain.compiler import compile_files

    return compile_files([FIXTURES / "Probe.sol"])


def test_create2_deployer_deploys_at_the_create2_address(probe_artifacts: Any) -> None:
    chain = Chain(accounts=1)
    chain.use_artifacts(probe_artifacts)
    init_code = bytes(probe_artifacts["Probe"].bytecode)
    salt = b"\x07" * 32
    expected = create2_address(CREATE2_DEPLOYER_ADDRESS, salt, init_code)
    tx_hash = chain.transact(
        chain.accounts[0],
        to=CREATE2_DEPLOYER_ADDRESS,
        data=create2_deployer_calldata(salt, init_code),
    )
    receipt = chain.receipt(tx_hash)
    assert receipt.status == 1
    assert chain.code(expected) != b""
    probe = chain.contract(expected, "Probe")
    assert probe.functions.count().call() == 0
    # The proxy returns the new address (20 bytes) as its output.
    out = chain.call(CREATE2_DEPLOYER_ADDRESS, create2_deployer_calldata(b"\x08" * 32, init_code))
    assert out == bytes.fromhex(
        create2_address(CREATE2_DEPLOYER_ADDRESS, b"\x08" * 32, init_code)[2:]
    )


def test_revert_when_create2_salt_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="salt must be 32 bytes, got 31"):
        create2_deployer_calldata(b"\x00" * 31, b"")
    with pytest.raises(ValueError, match="salt must be 32 bytes"):
        create2_address(CREATE2_DEPLOYER_ADDRESS, b"", b"")
