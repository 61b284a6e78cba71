"""Parsing and validating JSON-RPC parameters into the values ``Chain`` methods take.

Every function raises :class:`InvalidParams` (``-32602``) with a message naming the parameter
and what was wrong. Block parameters (tags, quantities, EIP-1898 objects) resolve against the
chain's head; those functions raise geth's ``-32000`` answers for blocks past the head.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eth_utils import is_hex_address, to_checksum_address

from agentbed.chain.errors import UnknownBlock
from agentbed.chain.provider.errors import SERVER_ERROR, InvalidParams, RpcError
from agentbed.chain.txcodec import make_authorization

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Authorization

HEAD_TAGS = frozenset({"latest", "pending", "safe", "finalized"})
"""Block tags that name the head (or, for ``"pending"``, the block after it)."""

UINT64_LIMIT = 2**64
UINT256_LIMIT = 2**256

_TX_QUANTITIES = (
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "value",
    "nonce",
    "chainId",
    "type",
)

# ---------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------


def args(params: list[Any], required: int, total: int) -> list[Any]:
    """Positional params padded with None to ``total``; too few or too many is an error."""
    if len(params) < required:
        raise InvalidParams(f"missing value for required argument {len(params)}")
    if len(params) > total:
        raise InvalidParams(f"too many arguments, want at most {total}")
    return params + [None] * (total - len(params))


def object_arg(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object (a mapping)."""
    if not isinstance(value, Mapping):
        raise InvalidParams(f"{what} must be an object, got {type(value).__name__}")
    return value


def quantity(value: Any, what: str) -> int:
    """A non-negative integer from a ``"0x.."`` quantity (or an int, as web3 may pass)."""
    if isinstance(value, bool):
        raise InvalidParams(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidParams(f"invalid {what}: negative quantity {value}")
        return value
    if isinstance(value, str) and value.startswith(("0x", "0X")) and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise InvalidParams(f"invalid {what}: {value!r} is not a hex quantity")


def uint64(value: Any, what: str) -> int:
    """A quantity that fits geth's ``uint64`` (timestamps); larger ones are invalid params."""
    number = quantity(value, what)
    if number >= UINT64_LIMIT:
        raise InvalidParams(f"invalid {what}: hex number > 64 bits")
    return number


def storage_slot(value: Any) -> int:
    """A storage slot: a quantity below ``2**256`` (geth decodes it into a 32-byte hash)."""
    slot = quantity(value, "slot")
    if slot >= UINT256_LIMIT:
        raise InvalidParams("invalid slot: hex string too long, want at most 32 bytes")
    return slot


def data(value: Any, what: str) -> bytes:
    """Bytes from ``"0x.."`` hex data (or bytes)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise InvalidParams(f"invalid {what}: {value!r} is not 0x-prefixed hex data")


def hash32(value: Any, what: str) -> bytes:
    """A 32-byte hash (transaction, block or topic) from hex data."""
    raw = data(value, what)
    if len(raw) != 32:
        raise InvalidParams(f"invalid {what}: want 32 bytes, got {len(raw)}")
    return raw


def address(value: Any, what: str) -> str:
    """A checksummed address from hex (any case) or 20 bytes."""
    if isinstance(value, bytes | bytearray) and len(value) == 20:
        return to_checksum_address(bytes(value))
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    raise InvalidParams(f"invalid {what}: {value!r} is not an address")


def optional_address(value: Any, what: str) -> str | None:
    """An address, or None for a missing/empty one (contract creation)."""
    if value is None or value in ("", "0x"):
        return None
    return address(value, what)


def percentiles(value: Any) -> list[float] | None:
    """``eth_feeHistory``'s reward percentiles: increasing numbers in ``[0, 100]``, or None."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise InvalidParams("rewardPercentiles must be an array of numbers")
    out: list[float] = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise InvalidParams(f"invalid reward percentile: {p!r}")
        if not 0 <= p <= 100:
            raise InvalidParams(f"invalid reward percentile: {p}")
        if i > 0 and p < out[-1]:
            raise InvalidParams(f"invalid reward percentile: #{i - 1}:{out[-1]} > #{i}:{p}")
        out.append(float(p))
    return out


def mine_options(opts: Any) -> tuple[int, int | None]:
    """``evm_mine``'s ``timestamp | {"blocks": n, "timestamp": t}`` -> ``(blocks, seconds)``."""
    blocks, timestamp = 1, None
    if isinstance(opts, Mapping):
        if opts.get("blocks") is not None:
            blocks = quantity(opts["blocks"], "blocks")
        if opts.get("timestamp") is not None:
            timestamp = uint64(opts["timestamp"], "timestamp")
    elif opts is not None:
        timestamp = uint64(opts, "timestamp")
    return blocks, timestamp


# ---------------------------------------------------------------------------------------------
# Transactions and calls
# ---------------------------------------------------------------------------------------------


def call_input(tx: Mapping[str, Any]) -> bytes:
    """The calldata of a tx object: ``input`` or ``data`` (both only if equal, as geth)."""
    if tx.get("input") is not None and tx.get("data") is not None:
        given_input, given_data = data(tx["input"], "input"), data(tx["data"], "data")
        if given_input != given_data:
            raise InvalidParams(
                'both "data" and "input" are set and not equal. Please use "input" to pass '
                "transaction call data"
            )
        return given_input
    for key in ("input", "data"):
        if tx.get(key) is not None:
            return data(tx[key], key)
    return b""


def call_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    """``eth_call``/``eth_estimateGas`` object -> ``from``, ``to``, ``data``, ``value``, ``gas``
    and ``auths`` (its EIP-7702 ``authorizationList``, applied before the call runs)."""
    return {
        "from": optional_address(tx.get("from"), "from"),
        "to": optional_address(tx.get("to"), "to"),
        "data": call_input(tx),
        "value": 0 if tx.get("value") is None else quantity(tx["value"], "value"),
        "gas": 0 if tx.get("gas") is None else quantity(tx["gas"], "gas"),
        "auths": authorization_list(tx.get("authorizationList")),
    }


def authorization_list(value: Any) -> tuple[Authorization, ...]:
    """An ``authorizationList`` (``[{chainId, address, nonce, yParity, r, s}]``) as records."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InvalidParams("invalid authorizationList: want an array of authorization objects")
    limits = {"chainId": UINT256_LIMIT, "nonce": UINT64_LIMIT, "yParity": 256}
    limits |= {"r": UINT256_LIMIT, "s": UINT256_LIMIT}
    records = []
    for i, entry in enumerate(value):
        numbers = []
        for key, limit in limits.items():
            number = quantity(entry.get(key), f"authorizationList[{i}].{key}")
            if number >= limit:
                raise InvalidParams(f"invalid authorizationList[{i}].{key}: out of range")
            numbers.append(number)
        chain_id, nonce, y_parity, r, s = numbers
        delegate = address(entry.get("address"), f"authorizationList[{i}].address")
        records.append(
            make_authorization(chain_id, bytes.fromhex(delegate[2:]), nonce, y_parity, r, s)
        )
    return tuple(records)


def tx_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    """``eth_sendTransaction`` params -> fields for ``Chain.sign`` (which fills the rest)."""
    fields: dict[str, Any] = {"data": call_input(tx)}
    to = optional_address(tx.get("to"), "to")
    if to is not None:
        fields["to"] = to
    for key in _TX_QUANTITIES:
        if tx.get(key) is not None:
            fields[key] = quantity(tx[key], key)
    if tx.get("accessList") is not None:
        fields["accessList"] = tx["accessList"]
    if tx.get("authorizationList") is not None:  # EIP-7702: Chain.sign makes it a type-4 tx
        authorization_list(tx["authorizationList"])  # checked as eth_call checks it
        fields["authorizationList"] = tx["authorizationList"]
    if "gasPrice" in fields and ("maxFeePerGas" in fields or "maxPriorityFeePerGas" in fields):
        raise InvalidParams("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
    return fields


def no_state_overrides(overrides: Any) -> None:
    """Reject ``eth_call``/``eth_estimateGas``'s third parameter: overrides are unsupported."""
    if overrides is not None:
        raise InvalidParams("state overrides are not supported")


# ---------------------------------------------------------------------------------------------
# Log filters
# ---------------------------------------------------------------------------------------------


def address_filter(value: Any) -> list[str] | None:
    """A filter's ``address`` (one or a list) as sorted addresses; None (or []) matches all."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        addresses = {address(a, "address") for a in value}
    else:
        addresses = {address(value, "address")}
    return sorted(addresses) or None


def topic_filter(value: Any) -> list[frozenset[bytes] | None]:
    """Positional topic filter: None (or []) matches anything, a list is an OR of topics."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidParams("topics must be an array")
    if len(value) > 4:
        raise InvalidParams("too many topics, at most 4")
    out: list[frozenset[bytes] | None] = []
    for position in value:
        if position is None:
            out.append(None)
        elif isinstance(position, list | tuple):
            options = frozenset(hash32(t, "topic") for t in position if t is not None)
            has_null = any(t is None for t in position)
            out.append(None if not options or has_null else options)
        else:
            out.append(frozenset({hash32(position, "topic")}))
    return out


# ---------------------------------------------------------------------------------------------
# Block parameters
# ---------------------------------------------------------------------------------------------


def block_number(
    chain: Chain, block_id: Any, *, allow_pending: bool, allow_object: bool = True
) -> int | None:
    """Resolve a block parameter to a number; ``None`` means the pending block.

    Accepts tags, quantities and, unless ``allow_object`` is False (geth's by-number methods),
    EIP-1898 objects (``{"blockNumber"}`` / ``{"blockHash"}``, ``requireCanonical`` holds
    trivially: every block kept is canonical); a missing parameter means ``"latest"``.
    """
    if block_id is None or (isinstance(block_id, str) and block_id in HEAD_TAGS - {"pending"}):
        return chain.block_number
    if block_id == "pending":
        if not allow_pending:
            raise InvalidParams("the pending block is not allowed here")
        return None
    if block_id == "earliest":
        return 0
    if isinstance(block_id, Mapping):
        if not allow_object:
            raise InvalidParams("invalid block number: want a tag or a hex quantity, not an object")
        return _eip1898_block(chain, block_id, allow_pending)
    return quantity(block_id, "block number")


def _eip1898_block(chain: Chain, block_id: Mapping[str, Any], allow_pending: bool) -> int | None:
    """An EIP-1898 block object's number (geth's ``BlockNumberOrHash``)."""
    has_hash, has_number = "blockHash" in block_id, "blockNumber" in block_id
    if has_hash and has_number:
        raise InvalidParams(
            "cannot specify both BlockHash and BlockNumber, choose one or the other"
        )
    if has_hash:
        try:
            return chain.block_by_hash(hash32(block_id["blockHash"], "blockHash")).number
        except UnknownBlock:
            raise RpcError(SERVER_ERROR, "header for hash not found") from None
    if has_number:
        return block_number(
            chain, block_id["blockNumber"], allow_pending=allow_pending, allow_object=False
        )
    raise InvalidParams("block object needs blockHash or blockNumber")


def require_head(chain: Chain, block_id: Any) -> None:
    """State is only readable at the head: reject other explicit block numbers."""
    number = block_number(chain, block_id, allow_pending=True)
    head = chain.block_number
    if number is None or number == head:
        return
    if number > head:
        raise RpcError(SERVER_ERROR, "header not found")
    raise RpcError(
        SERVER_ERROR,
        f"historical state not available for block {number} "
        f"(head is {head}; only the head state is kept readable)",
    )


def call_block(chain: Chain, block_id: Any) -> int | None:
    """The block whose post-state an ``eth_call`` runs on; None for the head (or pending)."""
    number = block_number(chain, block_id, allow_pending=True)
    if number is not None and number > chain.block_number:
        raise RpcError(SERVER_ERROR, "header not found")
    return None if number == chain.block_number else number


def fee_history_newest(chain: Chain, newest_param: Any) -> int:
    """``eth_feeHistory``'s newest block; the pending block (no fee data yet) is the head."""
    newest = block_number(chain, newest_param, allow_pending=True)
    head = chain.block_number
    if newest is None:
        return head
    if newest > head:
        raise RpcError(SERVER_ERROR, f"request beyond head block: requested {newest}, head {head}")
    return newest


def log_range(chain: Chain, flt: Mapping[str, Any]) -> tuple[int, int]:
    """A log filter's ``(first, last)`` block numbers, from ``blockHash`` or a block range.

    ``toBlock`` past the head (or pending) stops at the head, as logs exist only there.
    """
    head = chain.block_number
    if flt.get("blockHash") is not None:
        if flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
            raise InvalidParams(
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other"
            )
        try:
            number = chain.block_by_hash(hash32(flt["blockHash"], "blockHash")).number
        except UnknownBlock:
            raise RpcError(SERVER_ERROR, "unknown block") from None
        return number, number
    first_n = block_number(chain, flt.get("fromBlock", "latest"), allow_pending=True)
    last_n = block_number(chain, flt.get("toBlock", "latest"), allow_pending=True)
    first = head if first_n is None else first_n
    last = head if last_n is None else min(last_n, head)
    if first_n is not None and last_n is not None and first_n > last_n:
        raise RpcError(SERVER_ERROR, "invalid block range params")
    return first, last
