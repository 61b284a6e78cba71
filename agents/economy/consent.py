"""An arbitrator's consent to one appointment, signed as EIP-712 typed data for ``ConsentEscrow``.

In the plain ``Escrow`` anyone may name any staked arbitrator, so a proposer and its own second
account can dispute, let the ruling window pass and have that arbitrator slashed at no cost of
their own (issue 15, first flaw). ``ConsentEscrow`` takes a proposal only with the arbitrator's
signature over the full terms (parties, amounts, its fee, deadlines) and a salt; each consent
serves one appointment and lapses with ``acceptBy``. This module builds and signs that message;
the digest equals ``ConsentEscrow.consentDigest`` on-chain (a test says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from agentbed.chain.eip712 import digest, sign_typed_message, typed_message

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.economy.world import Deal

DOMAIN: Final = ("agent-testbed Escrow", "1")
"""The EIP-712 domain's (name, version) of ``ConsentEscrow``."""

CONSENT_FIELDS: Final = (
    {"name": "proposer", "type": "address"},
    {"name": "counterparty", "type": "address"},
    {"name": "arbitrator", "type": "address"},
    {"name": "price", "type": "uint256"},
    {"name": "proposerBond", "type": "uint256"},
    {"name": "counterpartyBond", "type": "uint256"},
    {"name": "arbitratorFee", "type": "uint256"},
    {"name": "acceptBy", "type": "uint64"},
    {"name": "deliverBy", "type": "uint64"},
    {"name": "salt", "type": "bytes32"},
)
"""Fields of ``ArbitratorConsent``, in the order of ``ConsentEscrow.CONSENT_TYPEHASH``."""


@dataclass(frozen=True, slots=True)
class Terms:
    """An agreement's terms (``IEscrow.Terms``), which the arbitrator consents to.

    Attributes:
        counterparty: The seller.
        arbitrator: Who rules on a dispute (and signs the consent).
        price: Payment for delivery.
        proposer_bond: The buyer's bond.
        counterparty_bond: The seller's bond.
        fee: The arbitrator's fee.
        accept_by: Last second to accept (the consent lapses with it).
        deliver_by: Last second to confirm or dispute.
    """

    counterparty: str
    arbitrator: str
    price: int
    proposer_bond: int
    counterparty_bond: int
    fee: int
    accept_by: int
    deliver_by: int

    def as_tuple(self) -> tuple[str, str, int, int, int, int, int, int]:
        """The ``IEscrow.Terms`` tuple, as the ABI encodes it."""
        return (
            self.counterparty,
            self.arbitrator,
            self.price,
            self.proposer_bond,
            self.counterparty_bond,
            self.fee,
            self.accept_by,
            self.deliver_by,
        )


def consent_message(
    proposer: str, terms: Terms, salt: bytes, *, chain_id: int, escrow: str
) -> dict[str, Any]:
    """The full EIP-712 message of the arbitrator's consent to ``terms`` offered by ``proposer``.

    Raises:
        ValueError: ``salt`` is not 32 bytes.
    """
    if len(salt) != 32:
        raise ValueError(f"consent salt must be 32 bytes, got {len(salt)}")
    message = {
        "proposer": proposer,
        "counterparty": terms.counterparty,
        "arbitrator": terms.arbitrator,
        "price": terms.price,
        "proposerBond": terms.proposer_bond,
        "counterpartyBond": terms.counterparty_bond,
        "arbitratorFee": terms.fee,
        "acceptBy": terms.accept_by,
        "deliverBy": terms.deliver_by,
        "salt": salt,
    }
    return typed_message(
        "ArbitratorConsent",
        {"ArbitratorConsent": CONSENT_FIELDS},
        message,
        domain=DOMAIN,
        chain_id=chain_id,
        verifying_contract=escrow,
    )


def consent_digest(
    proposer: str, terms: Terms, salt: bytes, *, chain_id: int, escrow: str
) -> bytes:
    """The digest the arbitrator signs (equals ``ConsentEscrow.consentDigest``)."""
    return digest(consent_message(proposer, terms, salt, chain_id=chain_id, escrow=escrow))


def sign_consent(
    arbitrator: LocalAccount,
    proposer: str,
    terms: Terms,
    salt: bytes,
    *,
    chain_id: int,
    escrow: str,
) -> bytes:
    """The arbitrator's 65-byte consent signature (r, s, v) to ``terms`` offered by ``proposer``.

    Raises:
        ValueError: ``arbitrator`` is not the terms' arbitrator, or ``salt`` is not 32 bytes.
    """
    if arbitrator.address.lower() != terms.arbitrator.lower():
        raise ValueError(f"{arbitrator.address} cannot consent for arbitrator {terms.arbitrator}")
    message = consent_message(proposer, terms, salt, chain_id=chain_id, escrow=escrow)
    return sign_typed_message(arbitrator, message)


def terms_of(deal: Deal) -> Terms:
    """The terms ``deal`` was proposed with (what its arbitrator was asked to agree to)."""
    return Terms(
        deal.counterparty,
        deal.arbitrator,
        deal.price,
        deal.proposer_bond,
        deal.counterparty_bond,
        deal.fee,
        deal.accept_by,
        deal.deliver_by,
    )
