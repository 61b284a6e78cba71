// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IReputation} from "../interfaces/IReputation.sol";

/// @title MockReputation
/// @notice Minimal IReputation for unit tests: records every direct attestation in order so
///         tests can assert them, and rejects unregistered issuers and duplicate uids like the
///         real registry.
/// @dev Anyone may register or remove issuers; no signatures, expiry or revocation logic beyond
///      the bare minimum. Never deploy outside a test chain.
contract MockReputation is IReputation {
    mapping(address issuer => bool) private _issuers;
    mapping(bytes32 uid => bool) private _used;
    mapping(bytes32 uid => bool) private _revoked;
    mapping(address subject => mapping(bytes32 schema => int256)) private _totals;
    mapping(address subject => mapping(bytes32 schema => uint256)) private _counts;
    Attestation[] private _recorded;

    /// @inheritdoc IReputation
    function registerIssuer(address issuer) external {
        if (_issuers[issuer]) revert ReputationIssuerUnchanged(issuer);
        _issuers[issuer] = true;
        emit IssuerRegistered(issuer);
    }

    /// @inheritdoc IReputation
    function removeIssuer(address issuer) external {
        if (!_issuers[issuer]) revert ReputationIssuerUnchanged(issuer);
        _issuers[issuer] = false;
        emit IssuerRemoved(issuer);
    }

    /// @inheritdoc IReputation
    /// @dev Records like `attest`; the dealing is only emitted, and `weightedScore` is zero.
    function attestDealing(Attestation calldata attestation, address counterparty, uint256 stake)
        external
    {
        attest(attestation);
        emit DealingRecorded(attestation.uid, counterparty, stake);
    }

    /// @inheritdoc IReputation
    /// @dev Not supported by the mock: always (0, 0).
    function weightedScore(address, bytes32, uint256) external pure returns (uint256, uint256) {
        return (0, 0);
    }

    /// @inheritdoc IReputation
    function attest(Attestation calldata attestation) public {
        if (attestation.issuer != msg.sender) revert ReputationNotIssuer(msg.sender, attestation.issuer);
        if (!_issuers[msg.sender]) revert ReputationIssuerNotRegistered(msg.sender);
        if (_used[attestation.uid]) revert ReputationDuplicateUid(attestation.uid);
        _used[attestation.uid] = true;
        _recorded.push(attestation);
        _totals[attestation.subject][attestation.schema] += attestation.value;
        _counts[attestation.subject][attestation.schema] += 1;
        emit Attested(
            attestation.uid,
            attestation.issuer,
            attestation.subject,
            attestation.schema,
            attestation.value,
            attestation.expiry
        );
    }

    /// @inheritdoc IReputation
    /// @dev Not supported by the mock: always reverts with ReputationInvalidSignature.
    function attestWithSignature(Attestation calldata attestation, bytes calldata) external pure {
        revert ReputationInvalidSignature(attestation.issuer, address(0));
    }

    /// @inheritdoc IReputation
    function revoke(bytes32 uid) external {
        if (!_used[uid]) revert ReputationUnknownAttestation(uid);
        if (_revoked[uid]) revert ReputationAlreadyRevoked(uid);
        _revoked[uid] = true;
        emit Revoked(uid, msg.sender);
    }

    /// @notice Number of attestations recorded so far.
    /// @return The count.
    function attestationCount() external view returns (uint256) {
        return _recorded.length;
    }

    /// @notice The `i`-th recorded attestation.
    /// @param i Index from 0.
    /// @return The attestation as submitted.
    function attestationAt(uint256 i) external view returns (Attestation memory) {
        return _recorded[i];
    }

    /// @inheritdoc IReputation
    function isIssuer(address issuer) external view returns (bool) {
        return _issuers[issuer];
    }

    /// @inheritdoc IReputation
    function isValid(bytes32 uid) external view returns (bool) {
        return _used[uid] && !_revoked[uid];
    }

    /// @inheritdoc IReputation
    function isRevoked(bytes32 uid) external view returns (bool) {
        return _revoked[uid];
    }

    /// @inheritdoc IReputation
    /// @dev Sums everything ever attested; revocations are not subtracted.
    function score(address subject, bytes32 schema) external view returns (int256 total, uint256 count) {
        return (_totals[subject][schema], _counts[subject][schema]);
    }

    /// @inheritdoc IReputation
    /// @dev Not EIP-712: a plain hash of the encoded struct.
    function digest(Attestation calldata attestation) external pure returns (bytes32) {
        return keccak256(abi.encode(attestation));
    }
}
