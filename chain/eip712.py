"""EIP-712 typed structured data: building a message, hashing it, signing it.

One place for the steps every signed struct in this project goes through (a reputation
``Attestation``, an IntentBook ``Intent``): the full message a wallet signs
(:func:`typed_message`), the struct hash (:func:`hash_struct`), the domain separator
(:func:`domain_separator`) and the digest ``keccak256("\\x19\\x01" ‖ domainSeparator ‖
hashStruct(message))`` that a contract's ``ECDSA.recover`` checks (:func:`digest`).

The hashing follows the EIP's definitions (``encodeType``, ``typeHash``, ``encodeData``) and
covers the Solidity types these contracts sign: ``bool``, ``address``, ``uintN``/``intN``,
``bytesN``, ``bytes``, ``string``, nested structs and arrays (``T[]``, ``T[n]``) of any of
them. eth-account's ``encode_typed_data`` is the independent reference a test compares with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from eth_abi import encode as abi_encode
from eth_abi.exceptions import ABITypeError, EncodingError, ParseError
from eth_account.messages import SignableMessage
from eth_utils import keccak, to_checksum_address

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

Field = Mapping[str, str]
"""One struct member: ``{"name": ..., "type": ...}``."""
Types = Mapping[str, Sequence[Field]]
"""Struct definitions by struct name."""

DOMAIN_TYPE: Final = "EIP712Domain"
DOMAIN_FIELDS: Final = (
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
)
"""The fields of an EIP-712 domain as this project's contracts use it (OpenZeppelin EIP712)."""
_DOMAIN_FIELD_TYPES: Final = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
)
"""Every field the EIP allows in a domain, in the EIP's order (used when types omit it)."""

_ATOMIC: Final = re.compile(r"bool|address|u?int[0-9]*|bytes[0-9]+")
_ARRAY_SUFFIX: Final = re.compile(r"\[([0-9]*)\]$")


class TypedDataError(ValueError):
    """A typed message does not fit its types (unknown type, missing field, bad value)."""


def typed_message(
    primary_type: str,
    types: Types,
    message: Mapping[str, Any],
    *,
    domain: tuple[str, str],
    chain_id: int,
    verifying_contract: str,
) -> dict[str, Any]:
    """A full EIP-712 message (the ``full_message`` wallets and eth-account sign).

    Args:
        primary_type: The signed struct's name.
        types: The fields of that struct and of every struct it uses, by struct name.
        message: The struct's values.
        domain: The domain's ``(name, version)``.
        chain_id: Chain id of the domain.
        verifying_contract: Address of the domain's contract.
    """
    name, version = domain
    return {
        "types": {
            DOMAIN_TYPE: [dict(field) for field in DOMAIN_FIELDS],
            **{struct: [dict(field) for field in fields] for struct, fields in types.items()},
        },
        "primaryType": primary_type,
        "domain": {
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(verifying_contract),
        },
        "message": dict(message),
    }


# ---------------------------------------------------------------------------------------------
# encodeType / typeHash
# ---------------------------------------------------------------------------------------------


def _base_type(type_name: str) -> str:
    """``"Foo[2][]"`` -> ``"Foo"``: the element type under every array dimension."""
    return type_name.split("[", 1)[0]


def _dependencies(primary_type: str, types: Types) -> list[str]:
    """Struct types ``primary_type`` uses, directly or not, excluding itself, sorted by name."""
    found: set[str] = set()
    stack = [primary_type]
    while stack:
        struct = stack.pop()
        for field in _fields_of(struct, types):
            base = _base_type(field["type"])
            if base in types and base != primary_type and base not in found:
                found.add(base)
                stack.append(base)
    return sorted(found)


def _fields_of(struct: str, types: Types) -> Sequence[Field]:
    try:
        return types[struct]
    except KeyError:
        raise TypedDataError(f"struct type {struct!r} is not defined in types") from None


def encode_type(primary_type: str, types: Types) -> str:
    """EIP-712 ``encodeType``: ``"Mail(Person from,...)Person(...)"``, dependencies sorted.

    Raises:
        TypedDataError: ``primary_type`` (or a struct it uses) is not in ``types``.
    """
    parts = []
    for struct in [primary_type, *_dependencies(primary_type, types)]:
        members = ",".join(f"{f['type']} {f['name']}" for f in _fields_of(struct, types))
        parts.append(f"{struct}({members})")
    return "".join(parts)


def type_hash(primary_type: str, types: Types) -> bytes:
    """``keccak256(encodeType(primary_type))``: the ``*_TYPEHASH`` constant of a contract."""
    return keccak(text=encode_type(primary_type, types))


# ---------------------------------------------------------------------------------------------
# encodeData / hashStruct
# ---------------------------------------------------------------------------------------------


def hash_struct(primary_type: str, types: Types, values: Mapping[str, Any]) -> bytes:
    """EIP-712 ``hashStruct``: ``keccak256(typeHash ‖ encodeData(values))``.

    Raises:
        TypedDataError: a field is missing, has an unknown type or a value its type refuses.
    """
    return keccak(type_hash(primary_type, types) + _encode_data(primary_type, types, values))


def _encode_data(struct: str, types: Types, values: Mapping[str, Any]) -> bytes:
    if not isinstance(values, Mapping):
        raise TypedDataError(f"{struct} value must be a mapping, got {type(values).__name__}")
    out = []
    for field in _fields_of(struct, types):
        name = field["name"]
        if name not in values:
            raise TypedDataError(f"{struct}.{name} is missing from the message")
        out.append(_encode_value(field["type"], values[name], types, f"{struct}.{name}"))
    return b"".join(out)


def _encode_value(type_name: str, value: Any, types: Types, where: str) -> bytes:
    """One member's 32-byte word: atomic values ABI-encoded, the rest hashed."""
    array = _ARRAY_SUFFIX.search(type_name)
    if array is not None:
        return _encode_array(type_name[: array.start()], array.group(1), value, types, where)
    if type_name in types:
        return hash_struct(type_name, types, value)
    if type_name == "string":
        if not isinstance(value, str):
            raise TypedDataError(f"{where}: string value must be str, got {type(value).__name__}")
        return keccak(text=value)
    if type_name == "bytes":
        return keccak(_as_bytes(value, where))
    if _ATOMIC.fullmatch(type_name):
        return _encode_atomic(type_name, value, where)
    raise TypedDataError(f"{where}: unknown type {type_name!r}")


def _encode_array(element_type: str, length: str, value: Any, types: Types, where: str) -> bytes:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise TypedDataError(f"{where}: array value must be a sequence, got {type(value).__name__}")
    if length and len(value) != int(length):
        raise TypedDataError(f"{where}: want {length} elements, got {len(value)}")
    return keccak(
        b"".join(
            _encode_value(element_type, item, types, f"{where}[{i}]")
            for i, item in enumerate(value)
        )
    )


def _encode_atomic(type_name: str, value: Any, where: str) -> bytes:
    if type_name.startswith("bytes"):
        value = _as_bytes(value, where)
    elif type_name != "bool" and isinstance(value, bool):
        # eth_abi would take True as 1; a flag in an integer field is a caller's mistake.
        raise TypedDataError(f"{where}: {type_name} value must be an int, got bool")
    try:
        return abi_encode([type_name], [value])
    except (ABITypeError, EncodingError, ParseError) as err:
        raise TypedDataError(f"{where}: {value!r} is not a valid {type_name}: {err}") from err


def _as_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise TypedDataError(f"{where}: {value!r} is neither bytes nor 0x-prefixed hex")


# ---------------------------------------------------------------------------------------------
# Domain, digest, signing
# ---------------------------------------------------------------------------------------------


def _domain_types(full_message: Mapping[str, Any]) -> Types:
    """The message's types, with an ``EIP712Domain`` made from the domain's keys if absent."""
    types: Types = full_message["types"]
    if DOMAIN_TYPE in types:
        return types
    domain = full_message["domain"]
    fields = [{"name": n, "type": t} for n, t in _DOMAIN_FIELD_TYPES if n in domain]
    return {**types, DOMAIN_TYPE: fields}


def domain_separator(full_message: Mapping[str, Any]) -> bytes:
    """``hashStruct(EIP712Domain)`` of ``full_message`` (a contract's ``_domainSeparatorV4()``)."""
    return hash_struct(DOMAIN_TYPE, _domain_types(full_message), full_message["domain"])


def message_hash(full_message: Mapping[str, Any]) -> bytes:
    """``hashStruct`` of ``full_message``'s primary struct (the part after the domain)."""
    return hash_struct(full_message["primaryType"], full_message["types"], full_message["message"])


def signable_message(full_message: Mapping[str, Any]) -> SignableMessage:
    """``full_message`` as EIP-191 version ``0x01`` data, for eth-account's sign and recover."""
    return SignableMessage(b"\x01", domain_separator(full_message), message_hash(full_message))


def digest(full_message: Mapping[str, Any]) -> bytes:
    """The 32 bytes a signer of ``full_message`` signs (a contract's ``_hashTypedDataV4``)."""
    return keccak(b"\x19\x01" + domain_separator(full_message) + message_hash(full_message))


def sign_typed_message(account: LocalAccount, full_message: Mapping[str, Any]) -> bytes:
    """Sign ``full_message``; return ``r || s || v`` (65 bytes, ``v`` in {27, 28}, low ``s``)."""
    return bytes(account.sign_message(signable_message(full_message)).signature)
