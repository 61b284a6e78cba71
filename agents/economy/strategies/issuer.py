"""A rating agency for the escrow market: signs delivery credentials, revokes them on default.

``ReputationIssuer`` is registered as an issuer in the economy's Reputation contract at set-up
(by the admin, ``Economy.register_issuer``). Each block it looks at the agreements that closed
since, and for every Released one signs, off-chain, a "service.delivered" credential about the
seller (value 1, valid for ``validity_s`` seconds, uid unique per issuer and agreement) and
publishes it on the economy's ``CredentialBoard``. Signing costs no gas and needs no
transaction.

When a seller later defaults (a timeout without delivery, or a dispute it lost), the agency
revokes every earlier credential it gave that seller that has not expired. The contract can
only revoke a uid it has recorded (``revoke`` reverts with ``ReputationUnknownAttestation``
otherwise), so the agency records the credential on-chain first (``attest``) and revokes it in
the next transaction (consecutive nonces, so both land in order, normally in one block).
Credentials are thus recorded lazily: only those that are revoked ever cost gas, and a
verifier finds the rest valid off-chain with the registry check alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent
from agentbed.agents.economy.credentials import SERVICE_DELIVERED, credential_uid
from agentbed.agents.economy.reputation import Attestation, sign_attestation

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Deal, Economy

_ATTESTATION: Final = "(address,address,bytes32,int256,uint64,bytes32)"
_ATTEST: Final = function_signature_to_4byte_selector(f"attest({_ATTESTATION})")
_REVOKE: Final = function_signature_to_4byte_selector("revoke(bytes32)")
ATTEST_GAS: Final = 250_000
REVOKE_GAS: Final = 80_000


def defaulted(deal: Deal) -> bool:
    """Whether the seller defaulted on a closed agreement: timed out undelivered, or lost."""
    if deal.state == "Ruled":
        return 2 * deal.to_proposer > deal.pot
    return deal.state == "TimedOut" and not deal.counterparty_confirmed


class ReputationIssuer(Agent):
    """An off-chain rating agency of sellers (see the module docstring).

    Args:
        validity_s: Seconds a credential is valid from the head it was signed at.
        tip: Priority fee of its attest and revoke transactions.
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(self, *args: Any, validity_s: int = 3_600, tip: int = GWEI, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if validity_s <= 0:
            raise ValueError(f"validity_s must be > 0, got {validity_s}")
        self.validity_s = validity_s
        self.tip = tip
        self.issued: dict[str, list[Attestation]] = {}
        """Seller -> the credentials signed about it, oldest first."""
        self.revoked: list[bytes] = []
        """Uids whose revocation was sent, in order."""
        self._handled: set[int] = set()

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        economy.register_issuer(self.address)
        return ()

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        actions: list[Action] = []
        for deal in tuple(economy.deals.values()):
            if deal.is_open or deal.id in self._handled:
                continue
            self._handled.add(deal.id)
            if deal.state == "Released":
                self._issue(view, economy, deal)
            elif defaulted(deal):
                actions.extend(self._revoke_all(view, economy, deal.counterparty))
        return actions

    def _issue(self, view: AgentView, economy: Economy, deal: Deal) -> None:
        attestation = Attestation(
            issuer=self.address,
            subject=deal.counterparty,
            schema=SERVICE_DELIVERED,
            value=1,
            expiry=view.head.timestamp + self.validity_s,
            uid=credential_uid(self.address, deal.id),
        )
        signature = sign_attestation(
            self.account,
            attestation,
            chain_id=view.reader.chain_id,
            verifying_contract=economy.reputation.address,
        )
        self.issued.setdefault(deal.counterparty, []).append(attestation)
        economy.credentials.publish(deal.counterparty, attestation, signature)

    def _revoke_all(self, view: AgentView, economy: Economy, seller: str) -> list[TxIntent]:
        # A credential about to expire needs no revocation, and recording it would revert.
        alive_after = view.head.timestamp + 2 * economy.block_interval_s
        done = set(self.revoked)
        actions: list[TxIntent] = []
        for attestation in self.issued.get(seller, ()):
            if attestation.uid in done or attestation.expiry <= alive_after:
                continue
            self.revoked.append(attestation.uid)
            meta = {"subject": seller}
            actions += [
                TxIntent(
                    to=economy.reputation.address,
                    data=_ATTEST + encode((_ATTESTATION,), (attestation.as_tuple(),)),
                    gas=ATTEST_GAS,
                    tip=self.tip,
                    label="attest",
                    meta=meta,
                ),
                TxIntent(
                    to=economy.reputation.address,
                    data=_REVOKE + encode(("bytes32",), (attestation.uid,)),
                    gas=REVOKE_GAS,
                    tip=self.tip,
                    label="revoke",
                    meta=meta,
                ),
            ]
        return actions
