"""ABI registry: log decoding by topic and address, revert data rendering."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from agentbed.chain.abi import AbiRegistry, event_topic, selector

ALICE = to_checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
BOB = to_checksum_address("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359")
TOKEN_A = to_checksum_address("0x" + "11" * 20)
TOKEN_B = to_checksum_address("0x" + "22" * 20)
UNBOUND = to_checksum_address("0x" + "33" * 20)

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


def param(name: str, typ: str, indexed: bool | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "type": typ, **extra}
    if indexed is not None:
        out["indexed"] = indexed
    return out


def transfer_event(src: str = "from", dst: str = "to", amount: str = "value") -> dict[str, Any]:
    return {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            param(src, "address", True),
            param(dst, "address", True),
            param(amount, "uint256", False),
        ],
    }


ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "transfer", "inputs": [], "outputs": []},
    transfer_event(),
]

ERC721_ABI: list[dict[str, Any]] = [
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            param("from", "address", True),
            param("to", "address", True),
            param("tokenId", "uint256", True),
        ],
    }
]

ESCROW_ABI: list[dict[str, Any]] = [
    {"type": "error", "name": "EscrowNotParty", "inputs": [param("caller", "address")]},
    {
        "type": "error",
        "name": "EscrowBadState",
        "inputs": [
            param("id", "uint256"),
            param("expected", "uint8"),
            param("ok", "bool"),
            param("tag", "bytes4"),
            param("note", "string"),
        ],
    },
    {
        "type": "error",
        "name": "EscrowBadTerms",
        "inputs": [
            param(
                "terms",
                "tuple",
                components=[param("payee", "address"), param("amount", "uint256")],
            ),
            param("ids", "int16[]"),
        ],
    },
    {
        "type": "event",
        "name": "EscrowOpened",
        "anonymous": False,
        "inputs": [
            param("id", "uint256", True),
            param("memo", "string", True),
            param(
                "terms",
                "tuple",
                False,
                components=[param("payee", "address"), param("amount", "uint256")],
            ),
            param("parties", "address[]", False),
            param("", "bytes", False),
        ],
    },
    {
        "type": "event",
        "name": "Anon",
        "anonymous": True,
        "inputs": [param("x", "uint256", False)],
    },
]


def addr_topic(address: str) -> bytes:
    return encode(["address"], [address])


def uint_topic(value: int) -> bytes:
    return encode(["uint256"], [value])


@pytest.fixture
def registry() -> AbiRegistry:
    reg = AbiRegistry()
    reg.register("Token", ERC20_ABI, TOKEN_A)
    reg.register("Escrow", ESCROW_ABI)
    return reg


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def test_selector_and_event_topic() -> None:
    assert selector("transfer(address,uint256)") == bytes.fromhex("a9059cbb")
    assert selector("Error(string)") == bytes.fromhex("08c379a0")
    assert selector("transfer(address, uint256)") == bytes.fromhex("a9059cbb")
    assert event_topic("Transfer(address,address,uint256)") == bytes.fromhex(
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    )


# ---------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------


def test_transfer_log_decodes(registry: AbiRegistry) -> None:
    event = registry.decode_log(
        TOKEN_A,
        [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)],
        encode(["uint256"], [10**18]),
    )
    assert event is not None
    assert event.name == "Transfer"
    assert event.contract == "Token"
    assert event.args == {"from": ALICE, "to": BOB, "value": 10**18}


def test_log_from_unbound_address_decodes_with_any_registered_abi(registry: AbiRegistry) -> None:
    event = registry.decode_log(
        UNBOUND.lower(),
        [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)],
        encode(["uint256"], [5]),
    )
    assert event is not None
    assert event.contract == "Token"
    assert event.args["value"] == 5


def test_address_bound_abi_is_preferred() -> None:
    reg = AbiRegistry()
    reg.register("TokenA", [transfer_event("src", "dst", "wad")], TOKEN_A)
    reg.register("TokenB", [transfer_event("sender", "recipient", "amount")], TOKEN_B)
    topics = [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)]
    data = encode(["uint256"], [7])

    from_b = reg.decode_log(TOKEN_B, topics, data)
    assert from_b is not None
    assert from_b.contract == "TokenB"
    assert from_b.args == {"sender": ALICE, "recipient": BOB, "amount": 7}

    from_a = reg.decode_log(TOKEN_A.lower(), topics, data)
    assert from_a is not None
    assert from_a.contract == "TokenA"
    assert set(from_a.args) == {"src", "dst", "wad"}

    # Not bound to either: registration order decides.
    anyone = reg.decode_log(UNBOUND, topics, data)
    assert anyone is not None
    assert anyone.contract == "TokenA"


def test_indexed_topic_count_selects_between_erc20_and_erc721(registry: AbiRegistry) -> None:
    registry.register("Nft", ERC721_ABI)
    nft = registry.decode_log(
        UNBOUND,
        [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB), uint_topic(42)],
        b"",
    )
    assert nft is not None
    assert nft.contract == "Nft"
    assert nft.args == {"from": ALICE, "to": BOB, "tokenId": 42}

    erc20 = registry.decode_log(
        UNBOUND, [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)], encode(["uint256"], [1])
    )
    assert erc20 is not None
    assert erc20.contract == "Token"


def test_struct_array_and_hashed_indexed_arguments(registry: AbiRegistry) -> None:
    memo_hash = keccak(text="rent")
    data = encode(
        ["(address,uint256)", "address[]", "bytes"],
        [(BOB, 300), [ALICE, BOB], b"\x01\x02"],
    )
    topic = event_topic("EscrowOpened(uint256,string,(address,uint256),address[],bytes)")
    event = registry.decode_log(UNBOUND, [topic, uint_topic(9), memo_hash], data)
    assert event is not None
    assert event.name == "EscrowOpened"
    assert event.args == {
        "id": 9,
        # An indexed string is stored as its hash; the hash is all a log can give back.
        "memo": memo_hash,
        "terms": {"payee": BOB, "amount": 300},
        "parties": (ALICE, BOB),
        "arg4": b"\x01\x02",
    }


def test_undecodable_logs_return_none(registry: AbiRegistry) -> None:
    good_topics = [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)]
    assert registry.decode_log(TOKEN_A, [], b"") is None
    assert registry.decode_log(TOKEN_A, [b"\x00" * 32], b"") is None
    # Truncated data, wrong topic count, malformed topic, dirty address padding.
    assert registry.decode_log(TOKEN_A, good_topics, b"\x01") is None
    assert registry.decode_log(TOKEN_A, good_topics[:2], encode(["uint256"], [1])) is None
    assert (
        registry.decode_log(
            TOKEN_A, [TRANSFER_TOPIC, b"\x01", addr_topic(BOB)], encode(["uint256"], [1])
        )
        is None
    )
    dirty = b"\xff" * 12 + bytes.fromhex(ALICE[2:])
    assert registry.decode_log(TOKEN_A, [TRANSFER_TOPIC, dirty, addr_topic(BOB)], bytes(32)) is None


def test_anonymous_events_are_ignored(registry: AbiRegistry) -> None:
    topic = event_topic("Anon(uint256)")
    assert registry.decode_log(UNBOUND, [topic], encode(["uint256"], [1])) is None


def test_reregistering_replaces_abi_and_keeps_bindings() -> None:
    reg = AbiRegistry()
    reg.register("Token", [transfer_event("a", "b", "c")], TOKEN_A)
    reg.register("Token", [transfer_event()], TOKEN_B)
    assert reg.contract_at(TOKEN_A) == "Token"
    assert reg.contract_at(TOKEN_B.lower()) == "Token"
    event = reg.decode_log(TOKEN_A, [TRANSFER_TOPIC, addr_topic(ALICE), addr_topic(BOB)], bytes(32))
    assert event is not None
    assert set(event.args) == {"from", "to", "value"}
    assert reg.names == ("Token",)


def test_bind_unknown_contract_raises() -> None:
    with pytest.raises(KeyError, match="Nope"):
        AbiRegistry().bind("Nope", TOKEN_A)


def test_register_rejects_invalid_types() -> None:
    bad = [{"type": "event", "name": "E", "inputs": [param("x", "uint7", False)]}]
    with pytest.raises(ValueError, match="uint7"):
        AbiRegistry().register("Bad", bad)


# ---------------------------------------------------------------------------------------------
# Reverts
# ---------------------------------------------------------------------------------------------


def test_revert_error_string(registry: AbiRegistry) -> None:
    data = selector("Error(string)") + encode(["string"], ["not enough balance"])
    assert registry.decode_revert(data) == "not enough balance"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0x01, "Panic(0x01): assertion failed"),
        (0x11, "Panic(0x11): arithmetic underflow or overflow"),
        (0x12, "Panic(0x12): division or modulo by zero"),
        (0x32, "Panic(0x32): array index out of bounds"),
        (0x99, "Panic(0x99): unknown panic code"),
    ],
)
def test_revert_panic(registry: AbiRegistry, code: int, text: str) -> None:
    data = selector("Panic(uint256)") + encode(["uint256"], [code])
    assert registry.decode_revert(data) == text


def test_revert_custom_error_with_address(registry: AbiRegistry) -> None:
    data = selector("EscrowNotParty(address)") + encode(["address"], [ALICE.lower()])
    assert registry.decode_revert(data) == f"EscrowNotParty({ALICE})"


def test_revert_custom_error_renders_each_type(registry: AbiRegistry) -> None:
    sig = "EscrowBadState(uint256,uint8,bool,bytes4,string)"
    data = selector(sig) + encode(
        ["uint256", "uint8", "bool", "bytes4", "string"],
        [12, 3, False, b"\xde\xad\xbe\xef", "a, b"],
    )
    assert registry.decode_revert(data) == 'EscrowBadState(12, 3, false, 0xdeadbeef, "a, b")'


def test_revert_custom_error_with_struct_and_array(registry: AbiRegistry) -> None:
    sig = "EscrowBadTerms((address,uint256),int16[])"
    data = selector(sig) + encode(["(address,uint256)", "int16[]"], [(BOB, 5), [-1, 2]])
    assert registry.decode_revert(data) == f"EscrowBadTerms(({BOB}, 5), [-1, 2])"


def test_revert_unknown_selector(registry: AbiRegistry) -> None:
    assert registry.decode_revert(bytes.fromhex("12345678")) == "unknown error 0x12345678"
    assert (
        registry.decode_revert(bytes.fromhex("12345678") + b"\xab\xcd")
        == "unknown error 0x12345678 (0xabcd)"
    )
    assert registry.decode_revert(b"\x01\x02") == "unknown error 0x0102"


def test_revert_undecodable_payload_of_known_selector(registry: AbiRegistry) -> None:
    # Known selectors with payloads that do not fit fall back to "unknown error", never raise.
    for sig in ("Error(string)", "Panic(uint256)", "EscrowNotParty(address)"):
        text = registry.decode_revert(selector(sig) + b"\x01")
        assert text == f"unknown error 0x{selector(sig).hex()} (0x01)"


def test_revert_empty_is_none(registry: AbiRegistry) -> None:
    assert registry.decode_revert(b"") is None
