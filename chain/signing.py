"""Signing with the chain's local keys, filling in what the caller left out.

``Chain.sign`` and ``Chain.transact`` go through a :class:`LocalSigner`: it finds the key for
an address and completes a transaction dict the way a wallet would -- chain id, next pending
nonce, EIP-1559 fees from the next base fee, and a gas estimate -- reading the chain only for
fields the caller did not give. The signature itself comes from
:class:`agentbed.chain.txsigner.FastSigner` (the same bytes as eth-account's, faster).

A dict with an ``authorizationList`` becomes an EIP-7702 set-code tx (type 4), its gas
estimated with the delegations applied. :func:`sign_authorization` signs such a delegation
with a local key.

Impersonation (``Chain.impersonate_account``, anvil's cheat code) works without the account's
key: a tx "from" an impersonated address is signed with a *proxy key* derived from that address
(``keccak("agentbed impersonation" + address)``), and whenever the chain decodes a tx signed by
a proxy key, :meth:`LocalSigner.resolve` puts the impersonated address back as its sender. So
the mempool and the backend see the impersonated sender (py-evm executes with the sender it is
handed; the proxy signature only has to be a valid one), the tx hash is the keccak of real,
deterministic bytes, and two impersonated senders never produce the same bytes. A tx signed
while an address was impersonated stays valid after impersonation stops, like any signed tx.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.datastructures import SignedSetCodeAuthorization
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from agentbed.chain import calls
from agentbed.chain.errors import UnknownContract
from agentbed.chain.txcodec import SET_CODE_TX_TYPE, make_authorization
from agentbed.chain.txsigner import FastSigner
from agentbed.chain.types import Address, Authorization, Transaction

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

GWEI = 10**9
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_PROXY_DOMAIN = b"agentbed impersonation"


def proxy_account(address: Address) -> LocalAccount:
    """The key that signs for impersonated ``address`` (deterministic; see the module doc)."""
    seed = keccak(_PROXY_DOMAIN + bytes.fromhex(to_checksum_address(address)[2:]))
    while not 0 < int.from_bytes(seed, "big") < _SECP256K1_N:  # never in practice
        seed = keccak(seed)
    return Account.from_key(seed)


class LocalSigner:
    """The chain's local keys.

    Args:
        accounts: The accounts whose keys the chain holds.
    """

    def __init__(self, accounts: Iterable[LocalAccount]) -> None:
        self._keys = {a.address: a for a in accounts}
        self._fast: dict[str, FastSigner] = {}
        self.impersonated: dict[Address, LocalAccount] = {}
        """Impersonated addresses and their proxy keys, in the order impersonated."""
        self._proxied: dict[Address, Address] = {}
        """Proxy address -> impersonated address, for every address ever impersonated (its
        mined txs must keep their sender after impersonation stops)."""

    def account(self, address: Address) -> LocalAccount:
        """The local account of ``address``; raises :class:`UnknownContract` if none."""
        try:
            return self._keys[to_checksum_address(address)]
        except KeyError:
            raise UnknownContract(f"no local key for {address}") from None

    def impersonate(self, address: Address) -> None:
        """Sign for ``address`` with its proxy key from now on (until :meth:`stop`)."""
        address = to_checksum_address(address)
        if address not in self.impersonated:
            proxy = proxy_account(address)
            self.impersonated[address] = proxy
            self._proxied[proxy.address] = address

    def stop(self, address: Address) -> None:
        """Stop impersonating ``address`` (nothing happens if it was not impersonated)."""
        self.impersonated.pop(to_checksum_address(address), None)

    def resolve(self, tx: Transaction) -> Transaction:
        """``tx`` with the impersonated sender if a proxy key signed it, else ``tx`` itself."""
        real = self._proxied.get(tx.sender)
        return tx if real is None else replace(tx, sender=real)

    def _signing_key(self, account: LocalAccount | Address) -> tuple[LocalAccount, Address]:
        """The key that signs for ``account`` and the sender it stands for."""
        if isinstance(account, LocalAccount):
            return account, account.address
        address = to_checksum_address(account)
        key = self._keys.get(address) or self.impersonated.get(address)
        if key is None:
            raise UnknownContract(f"no local key for {address}")
        return key, address

    def sign(self, chain: Chain, account: LocalAccount | Address, tx: Mapping[str, Any]) -> bytes:
        """Sign ``tx`` for ``chain`` (see :meth:`Chain.sign`); return the raw transaction.

        An impersonated address is signed for with its proxy key; nonce and gas are filled
        in for the impersonated address itself.
        """
        acct, sender = self._signing_key(account)
        fields = dict(tx)
        fields.setdefault("chainId", chain.chain_id)
        # Nonce and base fee are state reads: only when the caller did not give the field.
        if "nonce" not in fields:
            fields["nonce"] = chain.pending_nonce(sender)
        fields.setdefault("value", 0)
        if "gasPrice" not in fields:
            fields.setdefault("maxPriorityFeePerGas", GWEI)
            if "maxFeePerGas" not in fields:
                fields["maxFeePerGas"] = 2 * chain.base_fee + fields["maxPriorityFeePerGas"]
            fields.setdefault("type", SET_CODE_TX_TYPE if "authorizationList" in fields else 2)
        if "gas" not in fields:
            fields["gas"] = calls.estimate_gas(
                chain.backend,
                chain.abi,
                sender=sender,
                to=fields.get("to"),
                data=as_bytes(fields.get("data", b"")),
                value=fields["value"],
                gas_limit=chain.gas_limit,
                auths=authorization_records(fields.get("authorizationList", ())),
            )
        fast = self._fast.get(acct.address)
        if fast is None:
            fast = self._fast[acct.address] = FastSigner(acct.key)
        raw = fast.sign(fields)
        if raw is None:  # a shape the fast path leaves to eth-account (and its errors)
            raw = bytes(acct.sign_transaction(fields).raw_transaction)
        return raw


def sign_authorization(
    chain: Chain,
    account: LocalAccount | Address,
    delegate: Address,
    *,
    nonce: int | None = None,
    sends_tx: bool = False,
    chain_id: int | None = None,
) -> dict[str, Any]:
    """Sign an EIP-7702 authorization: ``account`` (a local key) delegates to ``delegate``'s code.

    Args:
        chain: The chain whose nonce and id fill in what is not given.
        account: The authority.
        delegate: The contract whose code the authority's account will run.
        nonce: The authority's nonce the tuple is valid at. Default: its next pending nonce,
            plus one when ``sends_tx`` (the sender's nonce is bumped before authorizations
            are processed, so an authority sending its own set-code tx signs nonce + 1).
        sends_tx: The authority is also the sender of the tx that carries the tuple.
        chain_id: 0 makes the tuple valid on every chain. Default: this chain's id.

    Returns:
        An ``authorizationList`` entry: ``{"chainId", "address", "nonce", "yParity", "r", "s"}``.
    """
    acct = account if isinstance(account, LocalAccount) else chain.account(account)
    if nonce is None:
        nonce = chain.pending_nonce(acct.address) + (1 if sends_tx else 0)
    return FastSigner(acct.key).sign_authorization(
        chain_id=chain.chain_id if chain_id is None else chain_id,
        address=to_checksum_address(delegate),
        nonce=nonce,
    )


def authorization_records(entries: Iterable[Any]) -> tuple[Authorization, ...]:
    """``authorizationList`` entries (dicts in the JSON-RPC shape, with int or hex values, or
    eth-account's signed authorizations) as the project's records."""
    records = []
    for entry in entries:
        if isinstance(entry, SignedSetCodeAuthorization):
            entry = entry.model_dump(by_alias=True)
        chain_id, nonce, y_parity, r, s = (
            _int(entry[key]) for key in ("chainId", "nonce", "yParity", "r", "s")
        )
        address = bytes.fromhex(to_checksum_address(entry["address"])[2:])
        records.append(make_authorization(chain_id, address, nonce, y_parity, r, s))
    return tuple(records)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def transaction_fields(
    call: Any, *, to: Address | None, data: bytes, value: int, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The tx dict ``Chain.transact`` signs: ``call``'s target and calldata, when given.

    Args:
        call: A web3 contract function call (``token.functions.transfer(a, 1)``), or None.
        to: Target when there is no ``call``; None (and no ``call``) creates a contract.
        data: Calldata when there is no ``call``.
        value: Wei to send.
        fields: Further transaction fields, as given.
    """
    if call is not None:
        to = call.address
        data = bytes.fromhex(call._encode_transaction_data()[2:])
    tx = {"to": to, "data": data, "value": value, **fields}
    if to is None:
        tx.pop("to")
    return tx


def as_bytes(value: bytes | str) -> bytes:
    """``value`` as bytes; a ``str`` is hex, with or without ``0x`` (as web3 hands it over)."""
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)
