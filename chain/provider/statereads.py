"""``eth_getProof`` (EIP-1186) and ``eth_createAccessList`` (EIP-2930) over JSON-RPC.

Both take a block parameter like ``eth_call`` (a tag, a number or an EIP-1898 object; any
canonical block, since a proof or a call reads a block's post-state); answers follow geth's
shapes: ``eth_getProof`` gives ``address``, ``balance``, ``codeHash``, ``nonce``,
``storageHash``, ``accountProof`` and per key ``{key, value, proof}``; ``eth_createAccessList``
gives ``accessList`` (``[{address, storageKeys}]``), ``gasUsed`` and, when the call failed,
``error``. The reads are ``Chain.get_proof`` and ``Chain.create_access_list``
(:mod:`agentbed.chain.stateproofs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

MAX_PROOF_KEYS = 1024
"""Most storage keys one ``eth_getProof`` may ask for (geth caps a request's work too)."""


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def get_proof(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``eth_getProof(address, storageKeys, block)``."""
    address, keys, block = prm.args(params, 2, 3)
    if not isinstance(keys, list):
        raise InvalidParams("invalid storageKeys: want an array of 32-byte slots")
    if len(keys) > MAX_PROOF_KEYS:
        raise InvalidParams(f"too many storageKeys: {len(keys)}, limit {MAX_PROOF_KEYS}")
    slots = [prm.storage_slot(key) for key in keys]
    number = prm.call_block(chain, block)
    proof = chain.get_proof(prm.address(address, "address"), slots, number)
    return {
        "address": proof.address,
        "balance": enc.hex_quantity(proof.balance),
        "codeHash": enc.hex_data(proof.code_hash),
        "nonce": enc.hex_quantity(proof.nonce),
        "storageHash": enc.hex_data(proof.storage_hash),
        "accountProof": [enc.hex_data(node) for node in proof.account_proof],
        "storageProof": [
            {
                "key": _word(item.key),
                "value": enc.hex_quantity(item.value),
                "proof": [enc.hex_data(node) for node in item.proof],
            }
            for item in proof.storage_proof
        ],
    }


def create_access_list(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``eth_createAccessList(tx, block)``."""
    tx_param, block = prm.args(params, 1, 2)
    number = prm.call_block(chain, block)
    fields = prm.call_fields(prm.object_arg(tx_param, "transaction"))
    result = chain.create_access_list(
        fields["to"],
        fields["data"],
        sender=fields["from"],
        value=fields["value"],
        gas=fields["gas"],
        block_number=number,
    )
    answer: dict[str, Any] = {
        "accessList": [
            {"address": address, "storageKeys": [_word(slot) for slot in slots]}
            for address, slots in result.access_list
        ],
        "gasUsed": enc.hex_quantity(result.gas_used),
    }
    if result.failed:
        answer["error"] = "execution reverted"
    return answer


STATE_READ_METHODS = {
    "eth_getProof": get_proof,
    "eth_createAccessList": create_access_list,
}
"""The proof and access-list reads, for the provider's method table."""
