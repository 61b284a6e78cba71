"""The web3 provider: ``Web3(chain.provider)`` drives the testbed like a geth/anvil node.

Uses the plugin's fixtures (``chain`` is fresh per test, automine on).
"""

from __future__ import annotations

import ast
import inspect
from importlib.metadata import version
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_bloom import BloomFilter
from eth_utils import function_abi_to_4byte_selector, keccak
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    MethodUnavailable,
    Web3RPCError,
)

from agentbed.chain.node import Chain
from agentbed.chain.provider import TestbedProvider, block_rewards, handlers, statereads
from agentbed.chain.provider.errors import HARDHAT_PREFIX
from agentbed.chain.types import Block, Receipt

GWEI = 10**9
DEAD = "0x000000000000000000000000000000000000dEaD"

# Hand-assembled contract whose every call reverts with Error("nope"): a require-string revert
# without depending on a Solidity source. Runtime (37 bytes): mstore Error(string) selector,
# offset 0x20, length 4, "nope"; revert(0, 0x64). Init code copies the runtime and returns it.
_NOPE_RUNTIME = "6308c379a060e01b60005260206004526004602452636e6f706560e01b60445260646000fd"
NOPE_BYTECODE = "0x6025806" + "00b6000396000f3" + _NOPE_RUNTIME
NOPE_ABI = [
    {
        "type": "function",
        "name": "poke",
        "inputs": [],
        "outputs": [],
        "stateMutability": "nonpayable",
    }
]


def rpc(w3: Web3, method: str, *params: Any) -> dict[str, Any]:
    """The raw JSON-RPC response (no web3 formatting)."""
    return dict(w3.provider.make_request(method, list(params)))  # type: ignore[arg-type]


@pytest.fixture
def token(w3: Web3, contracts: Any) -> Any:
    """MockERC20 deployed through web3 (constructor transact), not through Chain.deploy."""
    return _web3_token(w3, contracts)


def _web3_token(w3: Web3, contracts: Any) -> Any:
    art = contracts.get("MockERC20")
    factory = w3.eth.contract(abi=list(art.abi), bytecode=art.creation_bytecode)
    tx_hash = factory.constructor("Agent", "AGT").transact({"from": w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=list(art.abi))


def signed_transfer(
    chain: Chain, sender: Any, *, tip: int = GWEI, nonce: int | None = None, chain_id: int = 0
) -> bytes:
    fields = {
        "to": DEAD,
        "value": 1,
        "gas": 21_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 10 * GWEI + tip,
        "chainId": chain_id or chain.chain_id,
        "nonce": chain.pending_nonce(sender.address) if nonce is None else nonce,
        "type": 2,
    }
    return bytes(sender.sign_transaction(fields).raw_transaction)


# ---------------------------------------------------------------------------------------------
# Contracts through web3
# ---------------------------------------------------------------------------------------------


def test_deploy_call_and_transact_through_web3(w3, token, chain):
    a0, a1 = w3.eth.accounts[:2]
    assert token.functions.name().call() == "Agent"
    assert token.functions.symbol().call() == "AGT"
    assert w3.eth.get_code(token.address) == chain.code(token.address) != b""

    tx_hash = token.functions.mint(a1, 100).transact({"from": a0})
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt.status == 1
    assert receipt["from"] == a0 and receipt.to == token.address
    assert receipt.blockNumber == chain.block_number
    assert receipt.effectiveGasPrice == chain.receipt(tx_hash).effective_gas_price
    assert token.functions.balanceOf(a1).call() == 100
    assert token.functions.totalSupply().call() == 100
    block = w3.eth.get_block(receipt.blockNumber, full_transactions=True)
    assert block.hash == receipt.blockHash and block.gasUsed == receipt.cumulativeGasUsed
    (tx,) = block.transactions
    assert tx["hash"] == tx_hash and tx["from"] == a0 and tx["blockNumber"] == block.number


def test_events_decode_from_receipt_and_get_logs(w3, token):
    a0, a1, a2 = w3.eth.accounts[:3]
    receipt = w3.eth.wait_for_transaction_receipt(
        token.functions.mint(a1, 7).transact({"from": a0})
    )
    (event,) = token.events.Transfer().process_receipt(receipt)
    assert event.event == "Transfer"
    assert dict(event.args) == {"from": "0x" + "00" * 20, "to": a1, "value": 7}
    token.functions.transfer(a2, 3).transact({"from": a1})

    logs = token.events.Transfer().get_logs(from_block=0)
    assert [(e.args["from"], e.args["to"], e.args["value"]) for e in logs] == [
        ("0x" + "00" * 20, a1, 7),
        (a1, a2, 3),
    ]
    # Topic filter with an OR list at position 2: only transfers to a2.
    transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    to_a2 = "0x" + "00" * 12 + a2[2:].lower()
    to_nobody = "0x" + "11" * 32
    raw = w3.eth.get_logs(
        {
            "address": token.address,
            "fromBlock": 0,
            "topics": [transfer_topic, None, [to_a2, to_nobody]],
        }
    )
    assert len(raw) == 1 and raw[0]["transactionHash"] == logs[1].transactionHash
    assert w3.eth.get_logs({"address": DEAD, "fromBlock": 0}) == []
    by_hash = w3.eth.get_logs({"blockHash": receipt.blockHash})
    assert [log["transactionHash"] for log in by_hash] == [receipt.transactionHash]


def test_receipt_bloom_contains_the_log_address_and_topics(w3, token):
    receipt = w3.eth.wait_for_transaction_receipt(
        token.functions.mint(w3.eth.accounts[1], 1).transact({"from": w3.eth.accounts[0]})
    )
    bloom = BloomFilter(int.from_bytes(bytes(receipt.logsBloom), "big"))
    assert bytes.fromhex(token.address[2:]) in bloom
    assert bytes(receipt.logs[0]["topics"][0]) in bloom
    assert bytes.fromhex(DEAD[2:]) not in bloom
    block = w3.eth.get_block(receipt.blockNumber)
    assert block.logsBloom == receipt.logsBloom


_HEADER_KEYS = (
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot",
    "logsBloom", "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData",
    "mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas",
    "parentBeaconBlockRoot", "requestsHash",
)  # fmt: skip
"""A Prague header's fields in RLP order."""


def _rlp_item(key: str, value: str) -> bytes | int:
    quantities = {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas"}
    quantities |= {"blobGasUsed", "excessBlobGas"}
    return int(value, 16) if key in quantities else bytes.fromhex(value[2:])


def test_block_json_carries_the_header_the_hash_is_made_of(w3, chain, accounts):
    w3.eth.send_raw_transaction(signed_transfer(chain, accounts[0]))
    numbers = (0, chain.block_number)
    blocks = [rpc(w3, "eth_getBlockByNumber", hex(n), False)["result"] for n in numbers]
    for number, block in zip(numbers, blocks, strict=True):
        header = [_rlp_item(key, block[key]) for key in _HEADER_KEYS]
        assert "0x" + keccak(rlp.encode(header)).hex() == block["hash"]
        n_txs = len(block["transactions"])
        raw_txs = [chain.backend.raw_transaction(number, i) for i in range(n_txs)]
        assert int(block["size"], 16) == len(rlp.encode([header, raw_txs, [], []]))
    assert (blocks[0]["extraData"], blocks[1]["extraData"]) == ("0x" + b"agent-testbed".hex(), "0x")
    assert blocks[0]["stateRoot"] != blocks[1]["stateRoot"]
    assert blocks[0]["transactionsRoot"] != blocks[1]["transactionsRoot"]


def test_receipt_carries_its_blocks_timestamp(w3, chain, accounts):
    tx_hash = w3.eth.send_raw_transaction(signed_transfer(chain, accounts[0]))
    receipt = rpc(w3, "eth_getTransactionReceipt", "0x" + bytes(tx_hash).hex())["result"]
    assert receipt["blockTimestamp"] == hex(chain.block(int(receipt["blockNumber"], 16)).timestamp)


def test_log_index_counts_across_the_block(w3, token, chain):
    a0, a1 = w3.eth.accounts[:2]
    assert rpc(w3, "evm_setAutomine", False)["result"] is True
    first = token.functions.mint(a1, 1).transact({"from": a0, "gas": 200_000})
    second = token.functions.mint(a1, 2).transact({"from": a0, "gas": 200_000})
    rpc(w3, "evm_mine")
    r1, r2 = w3.eth.get_transaction_receipt(first), w3.eth.get_transaction_receipt(second)
    assert r1.blockNumber == r2.blockNumber
    assert [r1.logs[0].logIndex, r2.logs[0].logIndex] == [0, 1]
    assert [log.logIndex for log in w3.eth.get_logs({"fromBlock": r1.blockNumber})] == [0, 1]


def test_custom_error_surfaces_decoded_in_the_error_message(contracts):
    # A chain of its own: the session chain's ABI registry is additive and other tests'
    # contracts (which declare the same OpenZeppelin errors) would already decode this one.
    chain = Chain(accounts=2)
    w3 = chain.w3
    token = _web3_token(w3, contracts)
    a0, a1 = w3.eth.accounts[:2]
    error_abi = next(item for item in token.abi if item.get("name") == "ERC20InsufficientBalance")
    selector = "0x" + function_abi_to_4byte_selector(error_abi).hex()
    with pytest.raises(ContractLogicError, match="unrecognized custom error") as excinfo:
        token.functions.transfer(a0, 1).call({"from": a1})
    assert excinfo.value.data["data"].startswith(selector)
    # The raw error carries geth's code 3, Hardhat's message and the revert data.
    data = token.functions.transfer(a0, 1)._encode_transaction_data()
    error = rpc(w3, "eth_call", {"from": a1, "to": token.address, "data": data}, "latest")["error"]
    assert error["code"] == 3
    assert error["data"]["data"].startswith(selector)
    assert error["message"] == (
        f"{HARDHAT_PREFIX}reverted with an unrecognized custom error (return data: "
        f"{error['data']['data']})"
    )
    # Once the chain knows the ABI (Chain.deploy/contract register it), the error is decoded,
    # and web3 shows it for eth_call and eth_estimateGas alike.
    chain.abi.register("MockERC20", token.abi, token.address)
    decoded = f"reverted with custom error 'ERC20InsufficientBalance({a1}, 0, 1)'"
    error = rpc(w3, "eth_call", {"from": a1, "to": token.address, "data": data}, "latest")["error"]
    assert error["message"] == error["data"]["message"] == HARDHAT_PREFIX + decoded
    with pytest.raises(ContractLogicError) as excinfo:
        token.functions.transfer(a0, 1).call({"from": a1})
    assert excinfo.value.message == f"execution reverted: {HARDHAT_PREFIX}{decoded}"
    with pytest.raises(ContractLogicError) as excinfo:  # estimate_gas inside transact
        token.functions.transfer(a0, 1).transact({"from": a1})
    assert excinfo.value.message == f"execution reverted: {HARDHAT_PREFIX}{decoded}"


def test_require_string_revert_surfaces_with_its_reason(w3):
    factory = w3.eth.contract(abi=NOPE_ABI, bytecode=NOPE_BYTECODE)
    receipt = w3.eth.wait_for_transaction_receipt(
        # Explicit gas: see the report on backend.estimate_gas for small init code.
        factory.constructor().transact({"from": w3.eth.accounts[0], "gas": 200_000})
    )
    nope = w3.eth.contract(address=receipt.contractAddress, abi=NOPE_ABI)
    reason = f"execution reverted: {HARDHAT_PREFIX}reverted with reason string 'nope'"
    with pytest.raises(ContractLogicError) as excinfo:
        nope.functions.poke().call()
    assert excinfo.value.message == reason
    with pytest.raises(ContractLogicError) as excinfo:
        nope.functions.poke().estimate_gas()
    assert excinfo.value.message == reason


def test_reverted_tx_is_mined_with_status_zero(w3, token):
    a0, a1 = w3.eth.accounts[:2]
    tx_hash = token.functions.transfer(a0, 1).transact({"from": a1, "gas": 100_000})
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt.status == 0
    assert receipt.logs == []


# ---------------------------------------------------------------------------------------------
# Transactions and rejections
# ---------------------------------------------------------------------------------------------


def test_send_raw_transaction_returns_the_hash_and_mines(w3, chain, accounts):
    raw = signed_transfer(chain, accounts[0])
    before = w3.eth.get_balance(DEAD)
    tx_hash = w3.eth.send_raw_transaction(raw)
    assert bytes(tx_hash) == keccak(raw)
    assert w3.eth.get_transaction_receipt(tx_hash).status == 1
    assert w3.eth.get_balance(DEAD) == before + 1
    tx = w3.eth.get_transaction(tx_hash)
    assert tx["from"] == accounts[0].address and tx.to == DEAD and tx.blockNumber == 1


def test_wrong_chain_id_is_rejected_with_geths_message(w3, chain, accounts):
    raw = signed_transfer(chain, accounts[0], chain_id=chain.chain_id + 1)
    with pytest.raises(Web3RPCError, match="invalid chain id for signer"):
        w3.eth.send_raw_transaction(raw)
    error = rpc(w3, "eth_sendRawTransaction", "0x" + raw.hex())["error"]
    assert error["code"] == -32000
    assert chain.block_number == 0


def test_nonce_too_low_is_rejected(w3, chain, accounts):
    w3.eth.send_raw_transaction(signed_transfer(chain, accounts[0]))
    with pytest.raises(Web3RPCError, match="nonce too low"):
        w3.eth.send_raw_transaction(signed_transfer(chain, accounts[0], nonce=0))


def test_send_transaction_needs_a_local_key(w3):
    stranger = Account.create().address
    with pytest.raises(Web3RPCError, match="unknown account"):
        w3.eth.send_transaction({"from": stranger, "to": DEAD, "value": 1, "gas": 21_000})
    tx_hash = w3.eth.send_transaction({"from": w3.eth.accounts[3], "to": DEAD, "value": 5})
    assert w3.eth.get_transaction_receipt(tx_hash).status == 1


def test_unknown_transaction_has_no_receipt(w3):
    assert rpc(w3, "eth_getTransactionReceipt", "0x" + "ab" * 32)["result"] is None
    assert rpc(w3, "eth_getTransactionByHash", "0x" + "ab" * 32)["result"] is None


# ---------------------------------------------------------------------------------------------
# Mempool views and test-node methods
# ---------------------------------------------------------------------------------------------


def test_txpool_status_and_content_with_automine_off(w3, chain, accounts):
    rpc(w3, "evm_setAutomine", False)
    sender = accounts[0]
    pending_hash = w3.eth.send_raw_transaction(signed_transfer(chain, sender, nonce=0))
    queued_hash = w3.eth.send_raw_transaction(signed_transfer(chain, sender, nonce=2))

    assert rpc(w3, "txpool_status")["result"] == {"pending": "0x1", "queued": "0x1"}
    content = w3.geth.txpool.content()
    assert set(content["pending"][sender.address]) == {"0"}
    assert set(content["queued"][sender.address]) == {"2"}
    assert content["pending"][sender.address]["0"]["hash"] == pending_hash.to_0x_hex()
    assert content["pending"][sender.address]["0"]["blockNumber"] is None
    inspect = w3.geth.txpool.inspect()
    assert inspect["queued"][sender.address]["2"].startswith(
        f"{DEAD}: 1 wei + 21000 gas × "  # noqa: RUF001 (geth's text)
    )

    assert w3.eth.get_transaction_count(sender.address) == 0
    assert w3.eth.get_transaction_count(sender.address, "pending") == 1
    assert w3.eth.get_transaction(pending_hash).blockNumber is None
    assert rpc(w3, "eth_getTransactionReceipt", "0x" + bytes(pending_hash).hex())["result"] is None

    pending_block = w3.eth.get_block("pending")
    assert pending_block.number == 1 and pending_block.hash is None
    assert pending_block.transactions == [pending_hash]

    assert rpc(w3, "evm_mine")["result"] == "0x0"
    assert w3.eth.get_transaction_receipt(pending_hash).blockNumber == 1
    assert rpc(w3, "txpool_status")["result"] == {"pending": "0x0", "queued": "0x1"}
    assert chain.mempool.content()["queued"][sender.address][2].hash == bytes(queued_hash)


def test_pending_block_previews_the_next_blocks_number_time_and_txs(w3, chain, accounts):
    rpc(w3, "evm_setAutomine", False)
    tx_hash = w3.eth.send_raw_transaction(signed_transfer(chain, accounts[0]))
    preview = rpc(w3, "eth_getBlockByNumber", "pending", True)["result"]
    assert rpc(w3, "eth_getBlockTransactionCountByNumber", "pending")["result"] == "0x1"
    assert [tx["hash"] for tx in preview["transactions"]] == [tx_hash.to_0x_hex()]
    assert preview["transactions"][0]["blockNumber"] is None

    rpc(w3, "evm_mine")
    mined = w3.eth.get_block("latest")
    assert (int(preview["number"], 16), int(preview["timestamp"], 16)) == (
        mined.number,
        mined.timestamp,
    )
    assert preview["parentHash"] == mined.parentHash.to_0x_hex()


def test_evm_mine_at_a_timestamp_moves_the_clock_first(w3, chain):
    target = chain.now_ms // 1000 + 3_600
    assert rpc(w3, "evm_mine", target)["result"] == "0x0"
    assert w3.eth.get_block("latest").timestamp == target
    assert chain.now_ms == target * 1000
    error = rpc(w3, "evm_mine", {"timestamp": target - 60})["error"]
    assert error == {
        "code": -32602,
        "message": f"timestamp {target - 60} is before the simulated clock ({target})",
    }


def test_client_version_names_the_installed_version_and_backend(w3):
    assert w3.client_version == f"agentbed/v{version('agentbed')}/py-evm"


def test_handlers_use_only_the_chains_public_api(chain):
    """The provider reads the chain through its public methods, never its insides."""
    reached = {
        node.attr
        for module in (handlers, statereads)
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "chain"
    }
    assert reached and not {a for a in reached if a.startswith("_")}
    assert not reached & {"backend", "mempool", "clock"}
    assert all(hasattr(chain, a) for a in reached)


def test_snapshot_and_revert(w3, token):
    a0, a1 = w3.eth.accounts[:2]
    snapshot = rpc(w3, "evm_snapshot")["result"]
    head = w3.eth.block_number
    token.functions.mint(a1, 10).transact({"from": a0})
    assert token.functions.balanceOf(a1).call() == 10
    assert rpc(w3, "evm_revert", snapshot)["result"] is True
    assert token.functions.balanceOf(a1).call() == 0
    assert w3.eth.block_number == head
    assert rpc(w3, "evm_revert", snapshot)["result"] is False  # consumed


def test_evm_mine_mines_several_blocks(w3):
    assert rpc(w3, "evm_mine", {"blocks": 3})["result"] == "0x0"
    assert w3.eth.block_number == 3
    b2, b3 = w3.eth.get_block(2), w3.eth.get_block(3)
    assert b3.parentHash == b2.hash and b3.timestamp > b2.timestamp
    assert w3.eth.get_block(b3.hash).number == 3


def test_evm_set_next_block_timestamp_sets_the_next_block_only(w3):
    target = w3.eth.get_block("latest").timestamp + 1_000
    assert rpc(w3, "evm_setNextBlockTimestamp", target)["result"] is None
    rpc(w3, "evm_mine")
    assert w3.eth.get_block("latest").timestamp == target
    error = rpc(w3, "evm_setNextBlockTimestamp", target)["error"]
    assert error["code"] == -32602 and "must be after the head" in error["message"]


# ---------------------------------------------------------------------------------------------
# Fees
# ---------------------------------------------------------------------------------------------


def test_fee_history_shape_and_values(w3, chain, accounts):
    rpc(w3, "evm_setAutomine", False)
    for sender, tip in zip(accounts[:3], (3 * GWEI, GWEI, 2 * GWEI), strict=True):
        w3.eth.send_raw_transaction(signed_transfer(chain, sender, tip=tip))
    rpc(w3, "evm_mine", {"blocks": 2})  # block 1 holds the three transfers, block 2 is empty

    history = w3.eth.fee_history(3, "latest", [0, 50, 100])
    assert history.oldestBlock == 0
    assert history.baseFeePerGas == [
        chain.block(0).base_fee,
        chain.block(1).base_fee,
        chain.block(2).base_fee,
        chain.base_fee,
    ]
    assert history.gasUsedRatio == [0.0, 63_000 / chain.gas_limit, 0.0]
    # Sorted by tip, weighted by gas: 0% -> cheapest, 50% -> the middle one, 100% -> dearest.
    assert history.reward == [[0, 0, 0], [GWEI, 2 * GWEI, 3 * GWEI], [0, 0, 0]]

    older = w3.eth.fee_history(1, 1)
    assert older.oldestBlock == 1
    assert older.baseFeePerGas == [chain.block(1).base_fee, chain.block(2).base_fee]
    assert older.reward == [[]]  # web3 asks for no percentiles by default


def test_fee_history_rejects_bad_percentiles_and_future_blocks(w3):
    error = rpc(w3, "eth_feeHistory", "0x2", "latest", [50, 10])["error"]
    assert error["code"] == -32602 and "invalid reward percentile" in error["message"]
    error = rpc(w3, "eth_feeHistory", "0x1", "0x5")["error"]
    assert "request beyond head block" in error["message"]


def test_gas_price_suggestions_cover_the_next_base_fee(w3, chain):
    assert w3.eth.max_priority_fee == GWEI
    assert w3.eth.gas_price == chain.base_fee + GWEI


def _block(gas_used: int, base_fee: int = GWEI) -> Block:
    return Block(
        number=1, hash=b"", parent_hash=b"", timestamp=0, timestamp_ms=0, base_fee=base_fee,
        gas_limit=30_000_000, gas_used=gas_used, coinbase=DEAD, prev_randao=b"", tx_hashes=(),
        policy="", priority_fees=0, coinbase_transfers=0, burned=0,
    )  # fmt: skip


def _receipt(tip: int, gas: int, base_fee: int = GWEI) -> Receipt:
    return Receipt(
        tx_hash=b"", status=1, block_number=1, block_hash=b"", tx_index=0, sender=DEAD, to=None,
        contract_address=None, gas_used=gas, cumulative_gas_used=0,
        effective_gas_price=base_fee + tip, logs=(), revert_reason=None, arrival_ms=None,
        included_ms=0, waited_ms=None,
    )  # fmt: skip


@given(
    st.lists(
        st.tuples(st.integers(0, 10 * GWEI), st.integers(21_000, 1_000_000)), min_size=1, max_size=8
    ),
    st.lists(st.floats(0, 100), min_size=1, max_size=6),
)
def test_fuzz_fee_history_rewards_are_included_tips_and_monotone(txs, percentiles):
    percentiles.sort()
    receipts = [_receipt(tip, gas) for tip, gas in txs]
    block = _block(sum(gas for _, gas in txs))
    rewards = block_rewards(block, receipts, percentiles)
    tips = sorted(tip for tip, _ in txs)
    assert all(r in tips for r in rewards)
    assert rewards == sorted(rewards)
    assert rewards[-1] <= tips[-1] and rewards[0] >= tips[0]
    if percentiles[-1] == 100:
        assert rewards[-1] == tips[-1]


# ---------------------------------------------------------------------------------------------
# Plain methods and errors
# ---------------------------------------------------------------------------------------------


def test_chain_identity_and_accounts(w3, chain):
    assert w3.is_connected()
    assert w3.eth.chain_id == chain.chain_id
    assert w3.net.version == str(chain.chain_id)
    assert w3.client_version.startswith("agentbed/")
    assert w3.eth.accounts == [a.address for a in chain.accounts]
    assert w3.eth.get_balance(chain.accounts[0].address) == chain.balance(chain.accounts[0].address)
    assert w3.eth.get_block("earliest").number == 0
    assert rpc(w3, "eth_getBlockByNumber", "0x64", False)["result"] is None


def test_storage_reads_the_head_state(w3, token):
    token.functions.mint(w3.eth.accounts[1], 42).transact({"from": w3.eth.accounts[0]})
    # OpenZeppelin ERC20 v5 storage: _balances (0), _allowances (1), _totalSupply (2).
    assert int.from_bytes(w3.eth.get_storage_at(token.address, 2), "big") == 42
    error = rpc(w3, "eth_getBalance", DEAD, "0x0")["error"]
    assert error["code"] == -32000 and "historical state" in error["message"]
    assert rpc(w3, "eth_getBalance", DEAD, "0x64")["error"]["message"] == "header not found"


def test_unknown_method_is_method_not_found(w3):
    response = rpc(w3, "eth_signTypedData_v9")
    assert response["error"] == {
        "code": -32601,
        "message": "the method eth_signTypedData_v9 does not exist/is not available",
    }
    with pytest.raises(MethodUnavailable):
        w3.manager.request_blocking("eth_signTypedData_v9", [])


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("eth_getBalance", ["not-an-address", "latest"], "is not an address"),
        ("eth_getBlockByNumber", ["banana", False], "not a hex quantity"),
        ("eth_sendRawTransaction", ["zz"], "not 0x-prefixed hex"),
        ("eth_getTransactionReceipt", ["0x1234"], "want 32 bytes"),
        ("eth_getBalance", [], "missing value for required argument 0"),
        ("eth_getLogs", [{"blockHash": "0x" + "00" * 32, "fromBlock": "0x0"}], "choose one"),
        ("evm_setNextBlockTimestamp", [hex(2**64)], "hex number > 64 bits"),
        ("evm_mine", [{"timestamp": hex(2**64)}], "hex number > 64 bits"),
        ("eth_getStorageAt", [DEAD, hex(2**256), "latest"], "want at most 32 bytes"),
        ("eth_getBlockByNumber", [{"blockNumber": "0x0"}, False], "not an object"),
        ("eth_getBlockTransactionCountByNumber", [{"blockNumber": "0x0"}], "not an object"),
        ("eth_getBlockByNumber", [["0x0"], False], "not a hex quantity"),
        ("eth_getBalance", [DEAD, {"blockNumber": "0x0", "blockHash": "0x" + "00" * 32}], "both"),
        ("eth_getBalance", [DEAD, {"requireCanonical": True}], "needs blockHash or blockNumber"),
        ("eth_getBalance", [DEAD, {"blockNumber": {"blockNumber": "0x0"}}], "not an object"),
    ],
)
def test_bad_params_are_invalid_params(chain, method, params, needle):
    response = TestbedProvider(chain).make_request(method, params)  # type: ignore[arg-type]
    assert response["error"]["code"] == -32602
    assert needle in response["error"]["message"]


def test_eip1898_block_objects_name_a_block_by_number_or_hash(w3, chain, token):
    token.functions.mint(w3.eth.accounts[1], 42).transact({"from": w3.eth.accounts[0]})
    head = chain.head
    by_hash = {"blockHash": "0x" + head.hash.hex(), "requireCanonical": True}
    owner = w3.eth.accounts[1]
    balance_call = {"to": token.address, "data": token.encode_abi("balanceOf", [owner])}
    assert rpc(w3, "eth_getBalance", owner, by_hash)["result"] == hex(chain.balance(owner))
    assert rpc(w3, "eth_getBalance", owner, {"blockNumber": hex(head.number)})["result"] == hex(
        chain.balance(owner)
    )
    assert int(rpc(w3, "eth_call", balance_call, by_hash)["result"], 16) == 42
    before = {"blockHash": "0x" + chain.block(head.number - 1).hash.hex()}
    assert int(rpc(w3, "eth_call", balance_call, before)["result"], 16) == 0
    assert token.functions.balanceOf(owner).call(block_identifier=head.hash) == 42
    unknown = rpc(w3, "eth_getBalance", owner, {"blockHash": "0x" + "11" * 32})["error"]
    assert unknown == {"code": -32000, "message": "header for hash not found"}


def test_fee_history_serves_at_most_1024_blocks(w3, chain):
    chain.mine(1_030)
    history = rpc(w3, "eth_feeHistory", hex(5_000), "latest")["result"]
    assert len(history["gasUsedRatio"]) == 1_024
    assert int(history["oldestBlock"], 16) == chain.block_number - 1_023


def test_call_runs_on_a_past_blocks_state(w3, token):
    before = w3.eth.block_number
    token.functions.mint(w3.eth.accounts[1], 42).transact({"from": w3.eth.accounts[0]})
    assert token.functions.totalSupply().call() == 42
    assert token.functions.totalSupply().call(block_identifier=before) == 0
    call = {"to": token.address, "data": token.encode_abi("totalSupply")}
    assert rpc(w3, "eth_call", call, "earliest")["result"] == "0x"  # no code at genesis
    assert rpc(w3, "eth_call", call, hex(w3.eth.block_number + 1))["error"]["message"] == (
        "header not found"
    )
