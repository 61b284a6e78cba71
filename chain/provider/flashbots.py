"""Bundles the way searchers send them today: Flashbots' ``eth_sendBundle`` and ``eth_callBundle``.

Both take one object in Flashbots' shape (https://docs.flashbots.net/flashbots-auction/
advanced/rpc-endpoint) and map it onto ``Chain.submit_bundle`` / ``Chain.simulate_bundle``:

* ``eth_sendBundle({txs, blockNumber, minTimestamp?, maxTimestamp?, revertingTxHashes?})``:
  ``txs`` are raw signed transactions (hex), ``blockNumber`` the target block (hex; the next
  block when missing), ``revertingTxHashes`` the members allowed to revert. Answers
  ``{"bundleHash": ..}`` (keccak of the concatenated tx hashes, as Flashbots). The chain keeps
  the bundle privately for its target block; only a bundles-first ordering policy
  (``testbed_setPolicy("bundles")``) includes it. The timestamp window is checked once, on
  arrival, against the target block's scheduled time (the next block's time, plus one block
  interval per block after it); a bundle whose window misses it is refused (``-32000``) rather
  than kept to be dropped. ``replacementUuid`` and ``builders`` are accepted and ignored: there
  is one builder and no replacement.
* ``eth_callBundle({txs, blockNumber, stateBlockNumber?, timestamp?})``: simulates the bundle
  on the head state at the top of the next block, changing nothing, and answers Flashbots'
  result: per tx ``gasUsed``, ``gasPrice`` (its effective tip), ``gasFees`` (tip times gas),
  ``coinbaseDiff`` (what the coinbase gained), ``ethSentToCoinbase`` (the part paid directly),
  ``value`` (return data) or ``error`` and ``revert`` (revert data); for the bundle the sums,
  ``bundleGasPrice`` (coinbase gain per gas), ``bundleHash``, ``stateBlockNumber`` and
  ``totalGasUsed``. Wei amounts are decimal strings and gas counts numbers, as Flashbots sends
  them. A reverting member does not stop the simulation (every member's result is reported);
  a member that cannot apply at all (nonce, funds) is a ``-32000`` error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from agentbed.chain.errors import TxRejected
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import SERVER_ERROR, InvalidParams, RpcError
from agentbed.chain.types import SimulatedReceipt

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

MAX_BUNDLE_TXS = 100
"""Most transactions in one bundle, Flashbots' limit."""


def _raw_txs(bundle: Mapping[str, Any]) -> list[bytes]:
    txs = bundle.get("txs")
    if not isinstance(txs, list) or not txs:
        raise InvalidParams("bundle txs must be a non-empty array of signed transactions")
    if len(txs) > MAX_BUNDLE_TXS:
        raise InvalidParams(f"bundle has {len(txs)} txs, at most {MAX_BUNDLE_TXS}")
    return [prm.data(raw, f"bundle tx {i}") for i, raw in enumerate(txs)]


def _hashes(value: Any, what: str) -> list[bytes]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParams(f"{what} must be an array of tx hashes, got {type(value).__name__}")
    return [prm.hash32(item, what) for item in value]


def _timestamp(value: Any, what: str) -> int | None:
    """A Flashbots timestamp: seconds as a number (or a hex quantity); 0 means none."""
    if value is None:
        return None
    seconds = prm.uint64(value, what)
    return seconds or None


def _scheduled_timestamp(chain: Chain, target: int) -> int:
    """The header time (s) block ``target`` gets if every block until it is mined on time."""
    interval_ms = chain.clock.block_interval_ms
    return chain.next_block_timestamp() + (target - chain.block_number - 1) * interval_ms // 1000


def send_bundle(chain: Chain, params: list[Any]) -> dict[str, str]:
    """``eth_sendBundle(bundle)``: keep the bundle for its target block; its hash."""
    (raw,) = prm.args(params, 1, 1)
    bundle = prm.object_arg(raw, "bundle")
    raw_txs = _raw_txs(bundle)
    target = None
    if bundle.get("blockNumber") is not None:
        target = prm.uint64(bundle["blockNumber"], "blockNumber")
    reverting = _hashes(bundle.get("revertingTxHashes"), "revertingTxHashes")
    earliest = _timestamp(bundle.get("minTimestamp"), "minTimestamp")
    latest = _timestamp(bundle.get("maxTimestamp"), "maxTimestamp")
    if earliest is not None or latest is not None:
        when = _scheduled_timestamp(chain, chain.block_number + 1 if target is None else target)
        if not (earliest or 0) <= when <= (latest or when):
            raise RpcError(
                SERVER_ERROR,
                f"bundle window [{earliest}, {latest}] misses the target block's time {when}",
            )
    bundle_id = chain.submit_bundle(raw_txs, target, allowed_to_revert=reverting)
    return {"bundleHash": enc.hex_data(bundle_id)}


def call_bundle(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """``eth_callBundle(bundle)``: Flashbots' simulation result; changes nothing."""
    (raw,) = prm.args(params, 1, 1)
    bundle = prm.object_arg(raw, "bundle")
    raw_txs = _raw_txs(bundle)
    if bundle.get("blockNumber") is not None:
        target = prm.uint64(bundle["blockNumber"], "blockNumber")
        if target <= chain.block_number:
            raise RpcError(SERVER_ERROR, f"block {target} is already mined")
    prm.require_head(chain, bundle.get("stateBlockNumber"))
    if bundle.get("timestamp") is not None:
        timestamp = prm.uint64(bundle["timestamp"], "timestamp")
        if timestamp != chain.next_block_timestamp():
            raise InvalidParams(
                f"timestamp {timestamp} is not supported: the simulation runs at the next "
                f"block's time {chain.next_block_timestamp()}"
            )
    hashes = []
    for i, tx in enumerate(raw_txs):
        try:
            hashes.append(chain.decode(tx).hash)
        except TxRejected as err:
            raise RpcError(SERVER_ERROR, f"bundle tx {i}: {err}") from err
    receipts, failure = chain.simulate_bundle(raw_txs, allowed_to_revert=hashes)
    if failure is not None:
        raise RpcError(SERVER_ERROR, f"bundle cannot apply: {failure}")
    return _call_bundle_json(chain, receipts, keccak(b"".join(hashes)))


def _call_bundle_json(chain: Chain, receipts: Any, bundle_hash: bytes) -> dict[str, Any]:
    results = []
    total_gas = total_fees = total_diff = 0
    base_fee = chain.base_fee
    for rec in receipts:
        if not isinstance(rec, SimulatedReceipt):  # what Chain.simulate_bundle returns
            raise TypeError(f"expected simulated receipts, got {type(rec).__name__}")
        tip = rec.effective_gas_price - base_fee
        fees = tip * rec.gas_used
        result: dict[str, Any] = {
            "coinbaseDiff": str(rec.coinbase_delta),
            "ethSentToCoinbase": str(rec.coinbase_delta - fees),
            "fromAddress": rec.sender,
            "gasFees": str(fees),
            "gasPrice": str(tip),
            "gasUsed": rec.gas_used,
            "toAddress": rec.to,
            "txHash": enc.hex_data(rec.tx_hash),
        }
        if rec.succeeded:
            result["value"] = enc.hex_data(rec.output)
        else:
            result["error"] = "execution reverted"
            result["revert"] = enc.hex_data(rec.output)
        results.append(result)
        total_gas += rec.gas_used
        total_fees += fees
        total_diff += rec.coinbase_delta
    return {
        "bundleGasPrice": str(total_diff // total_gas if total_gas else 0),
        "bundleHash": enc.hex_data(bundle_hash),
        "coinbaseDiff": str(total_diff),
        "ethSentToCoinbase": str(total_diff - total_fees),
        "gasFees": str(total_fees),
        "results": results,
        "stateBlockNumber": chain.block_number,
        "totalGasUsed": total_gas,
    }


BUNDLE_METHODS = {"eth_sendBundle": send_bundle, "eth_callBundle": call_bundle}
"""The bundle methods, for the provider's method table."""
