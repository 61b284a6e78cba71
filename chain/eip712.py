"""EIP-712 typed structured data: the project's one entry point to eth-account's encoding.

Every signed struct in this project (a reputation ``Attestation``, an IntentBook ``Intent``)
is built as a full message with :func:`typed_message` and then hashed or signed here; the
EIP's ``encodeType`` / ``hashStruct`` work is eth-account's ``encode_typed_data``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from eth_abi.exceptions import EncodingError
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak, to_checksum_address
from eth_utils.exceptions import ValidationError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

DOMAIN_FIELDS: Final = (
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
)
"""The fields of an EIP-712 domain as this project's contracts use it (OpenZeppelin EIP712)."""


class TypedDataError(ValueError):
    """A typed message does not fit its types (unknown type, missing field, bad value)."""


def typed_message(
    primary_type: str,
    types: Mapping[str, Sequence[Mapping[str, str]]],
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
            "EIP712Domain": [dict(field) for field in DOMAIN_FIELDS],
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


def signable_message(full_message: Mapping[str, Any]) -> SignableMessage:
    """``full_message`` as EIP-191 version ``0x01`` data, for eth-account's sign and recover.

    Its header is the domain separator, its body the primary struct's ``hashStruct``.

    Raises:
        TypedDataError: a field is missing, a type unknown or a value does not fit its type.
    """
    # eth-account reports misfits as eth_abi, eth_utils and builtin errors alike.
    try:
        return encode_typed_data(full_message=dict(full_message))
    except (EncodingError, ValidationError, TypeError, ValueError) as err:
        raise TypedDataError(f"typed message does not fit its types: {err}") from err


def digest(full_message: Mapping[str, Any]) -> bytes:
    """The 32 bytes a signer of ``full_message`` signs (a contract's ``_hashTypedDataV4``)."""
    signable = signable_message(full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_message(account: LocalAccount, full_message: Mapping[str, Any]) -> bytes:
    """Sign ``full_message``; return ``r || s || v`` (65 bytes, ``v`` in {27, 28}, low ``s``)."""
    return bytes(account.sign_message(signable_message(full_message)).signature)
