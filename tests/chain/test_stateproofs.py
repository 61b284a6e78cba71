"""``eth_getProof`` and ``eth_createAccessList`` through web3 (``chain/stateproofs.py``).

Proofs are checked by a Merkle-Patricia walk written here, independent of the trie library
that made them: from the block header's ``stateRoot`` down the listed nodes by their hashes to
the account's leaf, and from the account's ``storageHash`` to each slot's value. Access lists
are checked against what sending them costs: ``gasUsed`` must equal the receipt of a type-1 tx
that carries the returned list.
"""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from agentbed.chain.node import Chain

SUPPLY = 10**21
EMPTY = b""


def _nibbles(data: bytes) -> list[int]:
    return [n for byte in data for n in (byte >> 4, byte & 15)]


def prove(root: bytes, key: bytes, proof: list[bytes]) -> bytes:
    """The value at ``keccak(key)`` under ``root`` according to ``proof`` (b"" when absent).

    Fails when the proof is broken: a node referenced by hash that is not in it.
    """
    nodes = {keccak(node): node for node in proof}
    path, node = _nibbles(keccak(key)), rlp.decode(nodes[root])
    while True:
        if len(node) == 17:  # branch
            if not path:
                return bytes(node[16])
            child, path = node[path[0]], path[1:]
        else:  # leaf or extension, hex-prefix encoded
            encoded = _nibbles(node[0])
            flag = encoded[0]
            partial = encoded[1:] if flag & 1 else encoded[2:]
            if flag >= 2:  # leaf
                return bytes(node[1]) if partial == path else EMPTY
            if path[: len(partial)] != partial:
                return EMPTY
            child, path = node[1], path[len(partial) :]
        if child == EMPTY:
            return EMPTY
        node = child if isinstance(child, list) else rlp.decode(nodes[bytes(child)])


@pytest.fixture
def token(chain: Chain, deploy: Any, accounts: Any) -> Any:
    token = deploy("MockERC20", "Alpha", "A")
    chain.receipt(chain.transact(accounts[1], token.functions.mint(accounts[1].address, SUPPLY)))
    return token


def balance_slot(holder: str) -> int:
    """OpenZeppelin ERC20's ``_balances`` mapping is its first storage variable (slot 0)."""
    return int.from_bytes(keccak(bytes(12) + bytes.fromhex(holder[2:]) + bytes(32)), "big")


def test_account_and_storage_proofs_walk_from_the_state_root(w3: Web3, token: Any, accounts):
    holder = accounts[1].address
    slots = [balance_slot(holder), 12345]
    answer = w3.eth.get_proof(token.address, slots, "latest")
    root = bytes(w3.eth.get_block("latest")["stateRoot"])
    leaf = prove(root, bytes.fromhex(token.address[2:]), [bytes(n) for n in answer["accountProof"]])
    nonce, balance, storage_root, code_hash = rlp.decode(leaf)
    assert int.from_bytes(nonce, "big") == answer["nonce"] == 1  # EIP-161: contracts start at 1
    assert int.from_bytes(balance, "big") == answer["balance"] == 0
    assert bytes(storage_root) == bytes(answer["storageHash"])
    assert bytes(code_hash) == bytes(answer["codeHash"]) == keccak(w3.eth.get_code(token.address))
    held, empty = answer["storageProof"]
    # web3 hands the value over as bytes (geth sends a quantity)
    assert (
        int.from_bytes(held["value"], "big") == SUPPLY == token.functions.balanceOf(holder).call()
    )
    value = prove(
        bytes(storage_root), slots[0].to_bytes(32, "big"), [bytes(n) for n in held["proof"]]
    )
    assert rlp.decode(value) == SUPPLY.to_bytes(9, "big")
    # an unset slot: value 0, and its proof proves absence
    assert int.from_bytes(empty["value"], "big") == 0
    assert (
        prove(bytes(storage_root), (12345).to_bytes(32, "big"), [bytes(n) for n in empty["proof"]])
        == EMPTY
    )


def test_absent_account_and_past_blocks(w3: Web3, chain: Chain, accounts):
    stranger = to_checksum_address("0x" + "ab" * 20)
    answer = w3.eth.get_proof(stranger, [], "latest")
    assert (answer["balance"], answer["nonce"], answer["storageProof"]) == (0, 0, [])
    root = bytes(w3.eth.get_block("latest")["stateRoot"])
    assert (
        prove(root, bytes.fromhex(stranger[2:]), [bytes(n) for n in answer["accountProof"]])
        == EMPTY
    )
    # after a transfer, the proof at the earlier block still shows the earlier balance
    before = chain.block_number
    chain.receipt(chain.transact(accounts[2], to=stranger, value=777))
    assert w3.eth.get_proof(stranger, [], "latest")["balance"] == 777
    old = w3.eth.get_proof(stranger, [], before)
    assert old["balance"] == 0
    old_root = bytes(w3.eth.get_block(before)["stateRoot"])
    assert (
        prove(old_root, bytes.fromhex(stranger[2:]), [bytes(n) for n in old["accountProof"]])
        == EMPTY
    )


def test_proof_params_are_checked(w3: Web3, token: Any):
    reply = w3.provider.make_request("eth_getProof", [token.address, "0x1", "latest"])  # type: ignore[arg-type]
    assert reply["error"]["code"] == -32602 and "storageKeys" in reply["error"]["message"]
    reply = w3.provider.make_request("eth_getProof", [token.address, ["0x" + "1" * 65], "latest"])  # type: ignore[arg-type]
    assert reply["error"]["code"] == -32602
    reply = w3.provider.make_request("eth_getProof", [token.address, [], "0x99999"])  # type: ignore[arg-type]
    assert "error" in reply


def _send_with(
    chain: Chain, sender: Any, to: str, data: bytes, access_list: list[dict[str, Any]]
) -> int:
    tx = {"to": to, "data": data, "accessList": access_list, "gas": 500_000, "type": 1}
    tx["gasPrice"] = 2 * chain.base_fee + 10**9
    return chain.receipt(chain.transact(sender, **tx)).gas_used


def test_access_list_of_a_call_into_another_contract(
    w3: Web3, chain: Chain, deploy: Any, token: Any, accounts
):
    lender = deploy("FlashLender", 9, accounts[0].address)
    call = lender.functions.maxFlashLoan(token.address)
    data = bytes.fromhex(call._encode_transaction_data()[2:])
    answer = w3.eth.create_access_list(
        {"from": accounts[2].address, "to": lender.address, "data": data}
    )
    listed = {entry["address"]: entry["storageKeys"] for entry in answer["accessList"]}
    # the lender (the recipient) reads no storage of its own, so it is left out; the token it
    # calls is listed with the one slot balanceOf read
    assert list(listed) == [token.address]
    assert [int(k, 16) for k in listed[token.address]] == [balance_slot(lender.address)]
    sent = [{"address": a, "storageKeys": list(keys)} for a, keys in listed.items()]
    assert answer["gasUsed"] == _send_with(chain, accounts[2], lender.address, data, sent)


def test_access_list_of_a_transfer_lists_the_recipient_contracts_slots(
    w3: Web3, chain: Chain, token: Any, accounts
):
    holder, other = accounts[1].address, accounts[3].address
    data = bytes.fromhex(token.functions.transfer(other, 5)._encode_transaction_data()[2:])
    answer = w3.eth.create_access_list({"from": holder, "to": token.address, "data": data})
    (entry,) = answer["accessList"]
    assert entry["address"] == token.address
    keys = sorted(int(k, 16) for k in entry["storageKeys"])
    assert keys == sorted([balance_slot(holder), balance_slot(other)])
    sent = [
        {
            "address": token.address,
            "storageKeys": list(entry["storageKeys"]),
        }
    ]
    assert answer["gasUsed"] == _send_with(chain, accounts[1], token.address, data, sent)


def test_access_list_of_a_reverting_call_reports_the_error(w3: Web3, token: Any, accounts):
    data = bytes.fromhex(
        token.functions.transfer(accounts[3].address, SUPPLY + 1)._encode_transaction_data()[2:]
    )
    reply = w3.provider.make_request(  # type: ignore[arg-type]
        "eth_createAccessList",
        [{"from": accounts[2].address, "to": token.address, "data": "0x" + data.hex()}],
    )
    assert reply["result"]["error"] == "execution reverted"
    assert reply["result"]["accessList"][0]["address"] == token.address
