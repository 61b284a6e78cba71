"""Off-chain credentials in the escrow market: where sellers show them, how they are faked, how
buyers weigh them.

A rating agency (``agentbed.agents.economy.strategies.issuer.ReputationIssuer``) signs EIP-712
"service.delivered" credentials about sellers and publishes them on the economy's
``CredentialBoard``; a seller *shows* whatever is on the board under its address, and a
dishonest one adds forgeries there (``forge_credential``). A buyer then either takes every
credential shown on faith ("naive") or checks each one with ``verify_attestation`` through its
view's reader and counts only the valid ones ("verify"): ``CredentialJudge``.

Publishing is off-chain and instant: the board is the world's bulletin board, not a contract,
and nothing on it is trusted until verified.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from agentbed.agents.economy.reputation import (
    Attestation,
    schema_id,
    sign_attestation,
    verify_attestation,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.agent import ChainReader

SERVICE_DELIVERED: Final = schema_id("service.delivered")
"""Schema of a rating agency's credential that a seller delivered one agreement."""

Shown: TypeAlias = tuple[Attestation, bytes]
"""A credential as shown: the claim and its issuer's 65-byte signature."""

Forgery = Literal["self_signed", "unregistered", "tampered", "stolen"]
"""How a dishonest seller fakes a credential about itself, and what a verifier then says:

- ``self_signed``: names a registered issuer but is signed with the seller's own key
  ("wrong signer");
- ``unregistered``: honestly signed, by a key that is no registered issuer ("unregistered
  issuer");
- ``tampered``: a genuine credential about another seller with the subject changed to itself
  (the signature no longer matches: "wrong signer");
- ``stolen``: a genuine credential about another seller, shown unchanged ("wrong subject").

A forger cannot make one that fails only for being revoked or expired: that needs a
registered issuer's signature. Those reasons come from genuine credentials shown after the
issuer revoked them (the seller defaulted) or after their expiry.
"""
FORGERIES: Final[tuple[Forgery, ...]] = ("self_signed", "unregistered", "tampered", "stolen")

CredentialMode = Literal["ignore", "verify", "naive"]
"""How a buyer treats the credentials sellers show: not at all, verified, or on faith."""

_PERMANENT: Final = frozenset(
    {"bad signature", "wrong signer", "uid conflict", "revoked", "expired"}
)
"""Verdicts after which a credential can never turn valid: signatures are fixed, on-chain
records and revocations are never undone, and time only moves on (a later check might name
another reason first, e.g. a removed issuer, but never "ok"). The others are re-checked every
block."""


class CredentialBoard:
    """The off-chain directory of credentials each subject shows, in publication order."""

    def __init__(self) -> None:
        self._shown: dict[str, list[Shown]] = {}
        self._issuers: list[str] = []

    def publish(self, subject: str, attestation: Attestation, signature: bytes) -> None:
        """Show ``attestation`` with ``signature`` under ``subject`` (checked by no one here)."""
        if not isinstance(attestation, Attestation):
            raise TypeError(f"attestation must be an Attestation, got {type(attestation).__name__}")
        shown = self._shown.setdefault(to_checksum_address(subject), [])
        shown.append((attestation, bytes(signature)))

    def shown_by(self, subject: str) -> tuple[Shown, ...]:
        """Everything shown under ``subject``, oldest first."""
        return tuple(self._shown.get(to_checksum_address(subject), ()))

    def entries(self) -> tuple[tuple[str, Shown], ...]:
        """Every ``(subject, credential)`` on the board, subject by subject."""
        return tuple((subject, c) for subject, shown in self._shown.items() for c in shown)

    def list_issuer(self, address: str) -> None:
        """Announce a rating agency (a directory entry: verifiers still check the registry)."""
        address = to_checksum_address(address)
        if address not in self._issuers:
            self._issuers.append(address)

    @property
    def issuers(self) -> tuple[str, ...]:
        """The announced rating agencies, in order."""
        return tuple(self._issuers)

    def __len__(self) -> int:
        return sum(len(shown) for shown in self._shown.values())


def credential_uid(issuer: str, deal: int) -> bytes:
    """An issuer's uid for its credential about agreement ``deal``: unique per (issuer, deal)."""
    return keccak(encode(("address", "uint256"), (to_checksum_address(issuer), deal)))


def forge_credential(
    kind: Forgery,
    account: LocalAccount,
    *,
    board: CredentialBoard,
    impersonate: str,
    serial: int,
    chain_id: int,
    reputation: str,
) -> Shown | None:
    """A fake "service.delivered" credential about ``account``'s own address.

    Args:
        kind: The kind of forgery (see ``Forgery``).
        account: The forger's key (and the subject).
        board: Where genuine credentials to tamper with or steal are found.
        impersonate: The registered issuer a self-signed forgery names.
        serial: The forger's running count, for distinct uids.
        chain_id: Chain id of the EIP-712 domain.
        reputation: Address of the Reputation contract (the domain's verifying contract).

    Returns:
        The forgery, or None when ``kind`` needs a genuine credential of another subject and
        the board has none yet.
    """
    me = to_checksum_address(account.address)
    if kind in ("tampered", "stolen"):
        others = [
            (attestation, signature)
            for subject, (attestation, signature) in board.entries()
            if subject != me
            and attestation.subject == subject
            and attestation.schema == SERVICE_DELIVERED
        ]
        if not others:
            return None
        attestation, signature = others[serial % len(others)]
        if kind == "stolen":
            return attestation, signature
        return _with_subject(attestation, me), signature
    issuer = impersonate if kind == "self_signed" else me
    uid = keccak(encode(("address", "string", "uint256"), (me, "forged", serial)))
    attestation = Attestation(issuer, me, SERVICE_DELIVERED, 1, 0, uid)
    signature = sign_attestation(
        account, attestation, chain_id=chain_id, verifying_contract=reputation
    )
    return attestation, signature


def publish_forgeries(
    kinds: list[Forgery],
    account: LocalAccount,
    *,
    board: CredentialBoard,
    escrow: str,
    serial: int,
    chain_id: int,
    reputation: str,
) -> list[Forgery]:
    """Show a fake credential of each of ``kinds`` about ``account`` on ``board``, naming the
    board's first issuer (the rating agency) or else ``escrow`` (a registered issuer).

    Returns:
        The kinds that could not be forged yet (nothing genuine to copy), to try again later;
        the others were published with serials counting on from ``serial``.
    """
    impersonate = board.issuers[0] if board.issuers else escrow
    waiting: list[Forgery] = []
    for kind in kinds:
        fake = forge_credential(
            kind,
            account,
            board=board,
            impersonate=impersonate,
            serial=serial,
            chain_id=chain_id,
            reputation=reputation,
        )
        if fake is None:
            waiting.append(kind)
            continue
        board.publish(to_checksum_address(account.address), *fake)
        serial += 1
    return waiting


def _with_subject(attestation: Attestation, subject: str) -> Attestation:
    a = attestation
    return Attestation(a.issuer, subject, a.schema, a.value, a.expiry, a.uid)


class HeadVerdicts:
    """``verify_attestation``'s verdict on each shown credential at the head block, checked
    once per credential and head however many buyers ask (an ``Economy`` keeps one for all).

    Args:
        reputation: Address of the Reputation contract.
    """

    def __init__(self, reputation: str) -> None:
        self.reputation = to_checksum_address(reputation)
        self.checks = 0
        """Calls of ``verify_attestation`` made (the caches save the rest)."""
        self._head: bytes | None = None
        self._reasons: dict[Shown, str] = {}

    def reason(self, reader: ChainReader, credential: Shown) -> str:
        """Why ``credential`` is valid ("ok") or not at ``reader``'s head."""
        head = reader.head.hash
        if head != self._head:
            self._head, self._reasons = head, {}
        reason = self._reasons.get(credential)
        if reason is None:
            self.checks += 1
            reason = verify_attestation(reader, self.reputation, *credential).reason
            self._reasons[credential] = reason
        return reason


class CredentialJudge:
    """A buyer's judgement of the "service.delivered" credentials a seller shows.

    "naive" counts every such credential shown. "verify" counts a credential only if it is
    about that seller and ``verify_attestation`` finds it valid at the head (signature of a
    registered issuer, not revoked, not expired), and each (issuer, uid) once, so showing a
    genuine credential twice gains nothing. Rejections are counted in ``rejected`` by reason,
    once per distinct credential and reason.

    Args:
        mode: "verify" or "naive".
        reputation: Address of the Reputation contract.
        verdicts: Head verdicts shared with other judges (default: the judge's own).
    """

    def __init__(
        self,
        mode: Literal["verify", "naive"],
        reputation: str,
        verdicts: HeadVerdicts | None = None,
    ) -> None:
        if mode not in ("verify", "naive"):
            raise ValueError(f"mode must be 'verify' or 'naive', got {mode!r}")
        self.mode = mode
        self.reputation = to_checksum_address(reputation)
        if verdicts is not None and verdicts.reputation != self.reputation:
            raise ValueError("verdicts must be about the same Reputation contract")
        self._verdicts = verdicts if verdicts is not None else HeadVerdicts(self.reputation)
        self.rejected: Counter[str] = Counter()
        """Reason -> distinct credentials rejected for it ("wrong subject" for stolen ones)."""
        self._final: dict[Shown, str] = {}
        self._counted: set[tuple[Shown, str]] = set()

    @property
    def checks(self) -> int:
        """Calls of ``verify_attestation`` made for its verdicts (and any sharing them)."""
        return self._verdicts.checks

    def count(
        self, reader: ChainReader, board: CredentialBoard, subject: str, *, tally: bool = True
    ) -> int:
        """How many delivery credentials shown under ``subject`` this buyer accepts now.

        ``tally=False`` asks without remembering: rejections are not counted and no verdict
        is kept (a look that must not change what the judge reports later).
        """
        subject = to_checksum_address(subject)
        shown = [c for c in board.shown_by(subject) if c[0].schema == SERVICE_DELIVERED]
        if self.mode == "naive":
            return len(shown)
        accepted: set[tuple[str, bytes]] = set()
        for credential in shown:
            attestation = credential[0]
            reason = (
                "wrong subject"
                if attestation.subject != subject
                else self._verdict(reader, credential, remember=tally)
            )
            if reason == "ok":
                accepted.add((attestation.issuer, attestation.uid))
            elif tally and (credential, reason) not in self._counted:
                self._counted.add((credential, reason))
                self.rejected[reason] += 1
        return len(accepted)

    def _verdict(self, reader: ChainReader, credential: Shown, *, remember: bool = True) -> str:
        # The judge keeps its own first permanent verdict: a later check may name another
        # reason first (see _PERMANENT), and each buyer counts the reason it saw.
        final = self._final.get(credential)
        if final is not None:
            return final
        reason = self._verdicts.reason(reader, credential)
        if remember and reason in _PERMANENT:
            self._final[credential] = reason
        return reason
