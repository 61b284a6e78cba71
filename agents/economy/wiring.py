"""Deployment checks and wiring of the commitment economy's contracts (``Economy.deploy``).

Apart from ``world`` so that the economy's front object keeps to its reading and intents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.node import Chain

POLICY_ID: Final[dict[str, int]] = {"refund": 0, "slash": 1}
"""``IEscrow.TimeoutPolicy`` by the economy's name for it."""


def deploy_escrow(
    chain: Chain,
    owner: LocalAccount,
    args: tuple[Any, ...],
    *,
    consent: bool,
    levers: tuple[str, str, int, int, int] | None = None,
) -> Any:
    """Deploy the escrow variant: ``GovernedEscrow`` with ``levers`` (its constructor's
    ``Levers``; it extends ``ConsentEscrow``), else ``ConsentEscrow`` or the plain ``Escrow``.
    With a tax, an ``ArbitrationFund`` is deployed first as the treasury and bound to the
    escrow (the bind is sent, to be mined with :func:`wire`'s calls).

    Args:
        chain: The chain.
        owner: The deployer.
        args: The nine constructor arguments every variant shares (``Escrow``'s).
        consent: Whether arbitrators consent to each appointment.
        levers: The governance levers, or None for the variants without them.

    Raises:
        ValueError: levers without consent (``GovernedEscrow`` is a consent escrow).
    """
    if levers is None:
        return chain.deploy("ConsentEscrow" if consent else "Escrow", *args, sender=owner)
    if not consent:
        raise ValueError(
            "[economy] tax_bps, freeze_defaults and collusion_z deploy GovernedEscrow, which "
            "needs arbitrator_consent = true"
        )
    governor, _, tax_bps, threshold, window = levers
    fund = (
        chain.deploy("ArbitrationFund", args[0], owner.address, sender=owner) if tax_bps else None
    )
    treasury = fund.address if fund is not None else levers[1]
    escrow = chain.deploy(
        "GovernedEscrow", *args, (governor, treasury, tax_bps, threshold, window), sender=owner
    )
    if fund is not None:
        chain.transact(owner, fund.functions.bind(escrow.address), gas=100_000)
    return escrow


def check_terms(timeout_policy: str, min_arbitrator_stake: int, grace_period: int) -> None:
    """Reject escrow terms the contracts would refuse or misread (see ``Economy.deploy``).

    Raises:
        ValueError: an unknown timeout policy, a negative stake, or a grace period out of range.
    """
    if timeout_policy not in POLICY_ID:
        raise ValueError(f"timeout_policy must be 'refund' or 'slash', got {timeout_policy!r}")
    if min_arbitrator_stake < 0:
        raise ValueError(f"min_arbitrator_stake must be >= 0, got {min_arbitrator_stake}")
    if not 0 <= grace_period < 2**64:  # the contract caps it at type(uint64).max
        raise ValueError(f"grace_period must be >= 0 and < 2**64 seconds, got {grace_period}")


def wire(
    chain: Chain,
    owner: LocalAccount,
    currency: Any,
    staking: Any,
    reputation: Any,
    escrow: Any,
    *,
    community: bool,
) -> None:
    """Give the deployed contracts the roles the escrow needs, in one fixed order of calls.

    The admin mints the currency; the escrow slashes stakes and records attestations; a
    community currency moves only through staking and the escrow. A block is mined to include
    the calls when automine is off.
    """
    calls = [
        currency.functions.grantRole(currency.functions.MINTER_ROLE().call(), owner.address),
        staking.functions.grantRole(staking.functions.SLASHER_ROLE().call(), escrow.address),
        reputation.functions.registerIssuer(escrow.address),
    ]
    if community:
        calls += [
            currency.functions.approveContract(staking.address),
            currency.functions.approveContract(escrow.address),
        ]
    for call in calls:
        chain.transact(owner, call, gas=200_000)
    if not chain.automine:
        chain.mine()
