// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IEscrow} from "./IEscrow.sol";

/// @title IConsentEscrow
/// @notice An escrow whose arbitrators consent to each appointment: the proposer submits the
///         arbitrator's EIP-712 signature over the full terms with the proposal.
interface IConsentEscrow is IEscrow {
    /// @notice This variant takes proposals only with the arbitrator's consent
    ///         (`proposeWithConsent`); `arbitrator` was named without it.
    error EscrowConsentRequired(address arbitrator);
    /// @notice The consent signature recovers to `recovered`, not to the named `arbitrator`.
    error EscrowInvalidConsent(address arbitrator, address recovered);
    /// @notice The consent with this digest was already used for an appointment.
    error EscrowConsentUsed(bytes32 digest);

    /// @notice `arbitrator` consented to agreement `id` (signed consent `digest`).
    event EscrowArbitratorConsented(uint256 indexed id, address indexed arbitrator, bytes32 digest);

    /// @notice Propose an agreement as `propose` does, with the arbitrator's consent.
    /// @dev Requirements: as for `propose`, and `signature` is the arbitrator's 65-byte low-s
    ///      ECDSA signature over `consentDigest(msg.sender, terms, salt)`, not used before. The
    ///      consent lapses with `terms.acceptBy` (a proposal needs `block.timestamp < acceptBy`).
    ///      Emits {EscrowProposed}, then {EscrowArbitratorConsented}.
    /// @param terms The agreement's terms, exactly as the arbitrator signed them.
    /// @param salt The arbitrator's nonce, so that identical terms can be consented to twice.
    /// @param signature The arbitrator's signature (r, s, v).
    /// @return id The new agreement's id.
    function proposeWithConsent(Terms calldata terms, bytes32 salt, bytes calldata signature)
        external
        returns (uint256 id);

    /// @notice The EIP-712 digest an arbitrator signs to consent to `terms` offered by `proposer`.
    /// @param proposer Who will submit the proposal (and pay price, bond and fee).
    /// @param terms The agreement's terms, fee included.
    /// @param salt The arbitrator's nonce.
    /// @return The typed-data hash under this escrow's domain.
    function consentDigest(address proposer, Terms calldata terms, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice Whether the consent with `digest` was used.
    /// @param digest A `consentDigest`.
    /// @return Whether an agreement was proposed with it.
    function consentUsed(bytes32 digest) external view returns (bool);
}
