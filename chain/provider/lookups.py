"""Block-level reads newer clients use: a block's receipts, a tx by its place, the blob base fee.

``eth_getBlockReceipts(block)`` takes a tag, a number or an EIP-1898 object (as geth) and
answers ``null`` for a block past the head or the pending block; the by-index methods answer
``null`` past the end of the block. ``eth_blobBaseFee`` is the head block's blob base fee
(geth's ``CalcBlobFee`` on the current header): the chain has no blob transactions, so its
excess blob gas stays 0 and the fee stays at the 1-wei minimum, but the formula is EIP-4844's.

``eth_getProof`` and ``eth_createAccessList`` are in :mod:`.statereads`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentbed.chain.errors import UnknownBlock
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block

MIN_BASE_FEE_PER_BLOB_GAS = 1
"""EIP-4844's floor of the blob base fee (wei)."""
BLOB_BASE_FEE_UPDATE_FRACTION = 5_007_716
"""Prague's (EIP-7691) update fraction of the blob base fee."""


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844's integer approximation of ``factor * e ** (numerator / denominator)``."""
    i, output, accum = 1, 0, factor * denominator
    while accum > 0:
        output += accum
        accum = (accum * numerator) // (denominator * i)
        i += 1
    return output // denominator


def _block(chain: Chain, block_id: Any) -> Block | None:
    """The mined block a block parameter names, or None (pending, or past the head)."""
    number = prm.block_number(chain, block_id, allow_pending=True)
    if number is None or number > chain.block_number:
        return None
    return chain.block(number)


def get_block_receipts(chain: Chain, params: list[Any]) -> list[dict[str, Any]] | None:
    """``eth_getBlockReceipts(block)``: every receipt of a mined block, in block order."""
    (block_id,) = prm.args(params, 1, 1)
    block = _block(chain, block_id)
    if block is None:
        return None
    return [
        enc.receipt_json(rec, chain.transaction(rec.tx_hash).type, block.timestamp)
        for rec in chain.receipts(block.number)
    ]


def _tx_at(chain: Chain, block: Block | None, raw_index: Any) -> dict[str, Any] | None:
    index = prm.quantity(raw_index, "transaction index")
    if block is None or index >= len(block.tx_hashes):
        return None
    rec = chain.receipts(block.number)[index]
    return enc.tx_json(chain.transaction(rec.tx_hash), rec)


def tx_by_block_number_and_index(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getTransactionByBlockNumberAndIndex(block, index)``."""
    block_id, raw_index = prm.args(params, 2, 2)
    number = prm.block_number(chain, block_id, allow_pending=True, allow_object=False)
    block = None if number is None or number > chain.block_number else chain.block(number)
    return _tx_at(chain, block, raw_index)


def tx_by_block_hash_and_index(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """``eth_getTransactionByBlockHashAndIndex(hash, index)``."""
    block_hash, raw_index = prm.args(params, 2, 2)
    wanted = prm.hash32(block_hash, "block hash")
    try:
        block = chain.block_by_hash(wanted)
    except UnknownBlock:
        side = chain.side_block(wanted)  # orphaned by a reorg: served by hash, as geth does
        if side is None:
            return None
        index = prm.quantity(raw_index, "transaction index")
        if index >= len(side.txs):
            return None
        return enc.tx_json(side.txs[index], side.receipts[index])
    return _tx_at(chain, block, raw_index)


def blob_base_fee(chain: Chain, params: list[Any]) -> str:
    """``eth_blobBaseFee``: the head block's blob base fee."""
    prm.args(params, 0, 0)
    header = chain.head.header
    excess = 0 if header is None else header.excess_blob_gas
    fee = fake_exponential(MIN_BASE_FEE_PER_BLOB_GAS, excess, BLOB_BASE_FEE_UPDATE_FRACTION)
    return enc.hex_quantity(fee)


LOOKUP_METHODS = {
    "eth_getBlockReceipts": get_block_receipts,
    "eth_getTransactionByBlockNumberAndIndex": tx_by_block_number_and_index,
    "eth_getTransactionByBlockHashAndIndex": tx_by_block_hash_and_index,
    "eth_blobBaseFee": blob_base_fee,
}
"""The block-level reads, for the provider's method table."""
