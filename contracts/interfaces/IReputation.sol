// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IReputation
/// @notice Verifiable reputation: attestations by registered issuers, signed off-chain as EIP-712
///         structs (anyone may submit them) or made directly by contract issuers, revocable by
///         their issuer, aggregated per (subject, schema).
interface IReputation {
    /// @notice One claim an issuer makes about a subject.
    /// @param issuer Who vouches (an EOA that signs, or a contract that calls `attest`).
    /// @param subject Who the claim is about.
    /// @param schema What kind of claim (e.g. keccak256("escrow.completed")).
    /// @param value The claim's value; negative values are allowed.
    /// @param expiry Unix time after which the claim no longer counts; 0 means never.
    /// @param uid A unique id chosen by the issuer; an attestation with a used uid is rejected.
    struct Attestation {
        address issuer;
        address subject;
        bytes32 schema;
        int256 value;
        uint64 expiry;
        bytes32 uid;
    }

    /// @notice `issuer` is not in the registry.
    error ReputationIssuerNotRegistered(address issuer);
    /// @notice The signature does not recover to the attestation's issuer (`recovered` did sign).
    error ReputationInvalidSignature(address issuer, address recovered);
    /// @notice `caller` tried to attest directly for another issuer.
    error ReputationNotIssuer(address caller, address issuer);
    /// @notice An attestation with `uid` already exists (replays are rejected).
    error ReputationDuplicateUid(bytes32 uid);
    /// @notice The attestation expired at `expiry` before it was submitted.
    error ReputationExpired(bytes32 uid, uint64 expiry);
    /// @notice No attestation with `uid` exists.
    error ReputationUnknownAttestation(bytes32 uid);
    /// @notice The attestation `uid` is already revoked.
    error ReputationAlreadyRevoked(bytes32 uid);
    /// @notice The issuer registry change is a no-op (`issuer` already in / not in the registry).
    error ReputationIssuerUnchanged(address issuer);

    /// @notice `issuer` was added to the registry.
    event IssuerRegistered(address indexed issuer);
    /// @notice `issuer` was removed; its attestations stop counting in scores.
    event IssuerRemoved(address indexed issuer);
    /// @notice An attestation was recorded.
    event Attested(
        bytes32 indexed uid,
        address indexed issuer,
        address indexed subject,
        bytes32 schema,
        int256 value,
        uint64 expiry
    );
    /// @notice Attestation `uid` was made about a dealing with `counterparty` in which `stake`
    ///         (saturated at 2**96 - 1) was at stake.
    event DealingRecorded(bytes32 indexed uid, address indexed counterparty, uint256 stake);
    /// @notice `issuer` revoked attestation `uid`.
    event Revoked(bytes32 indexed uid, address indexed issuer);

    /// @notice Add `issuer` to the registry (admin role only).
    function registerIssuer(address issuer) external;

    /// @notice Remove `issuer` from the registry (admin role only).
    function removeIssuer(address issuer) external;

    /// @notice Record an attestation whose issuer is the caller (contract issuers use this).
    function attest(Attestation calldata attestation) external;

    /// @notice Record an attestation whose issuer is the caller, about a dealing of its subject
    ///         with `counterparty` in which `stake` was at stake (an escrow's price and bonds).
    function attestDealing(Attestation calldata attestation, address counterparty, uint256 stake)
        external;

    /// @notice Record an attestation signed off-chain by its issuer; anyone may submit it.
    function attestWithSignature(Attestation calldata attestation, bytes calldata signature) external;

    /// @notice Revoke attestation `uid` (its issuer only).
    function revoke(bytes32 uid) external;

    /// @notice Whether `issuer` is registered.
    function isIssuer(address issuer) external view returns (bool);

    /// @notice Whether `uid` exists, is not revoked, has not expired and its issuer is registered.
    function isValid(bytes32 uid) external view returns (bool);

    /// @notice Whether attestation `uid` has been revoked.
    function isRevoked(bytes32 uid) external view returns (bool);

    /// @notice Sum of values and number of valid attestations about `subject` under `schema`.
    function score(address subject, bytes32 schema) external view returns (int256 total, uint256 count);

    /// @notice The Sybil-resistant side of a score: over the valid attestations about `subject`
    ///         under `schema` made through `attestDealing` with at least `minStake` (and more
    ///         than zero) at stake, the summed stake and the number of distinct counterparties.
    function weightedScore(address subject, bytes32 schema, uint256 minStake)
        external
        view
        returns (uint256 stake, uint256 counterparties);

    /// @notice The EIP-712 digest an issuer signs for `attestation`.
    function digest(Attestation calldata attestation) external view returns (bytes32);
}
