// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IReputation} from "./interfaces/IReputation.sol";

/// @title Reputation
/// @notice Verifiable reputation: registered issuers attest claims about subjects, either by
///         signing an EIP-712 `Attestation` off-chain (anyone may submit it) or by calling
///         `attest` directly (contract issuers such as an escrow). Scores are aggregated at
///         query time over the attestations that are still valid.
/// @dev An attestation is valid while it is not revoked, not expired and its issuer is still
///      registered; removing an issuer therefore silences all of its attestations at once, and
///      registering it again brings them back. Uids share one global namespace (the interface
///      addresses attestations by uid alone).
contract Reputation is IReputation, EIP712, AccessControl {
    /// @notice EIP-712 typehash of `Attestation`.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address issuer,address subject,bytes32 schema,int256 value,uint64 expiry,bytes32 uid)"
    );

    /// @dev What `score` and `isValid` need per uid: issuer, expiry and revoked share one slot.
    struct Record {
        address issuer;
        uint64 expiry;
        bool revoked;
        int256 value;
    }

    /// @dev The dealing an `attestDealing` record was about; stake saturates at 2**96 - 1 (far
    ///      above any amount the economy moves) so that both fit one slot.
    struct Dealing {
        address counterparty;
        uint96 stake;
    }

    mapping(address issuer => bool registered) private _issuers;
    mapping(bytes32 uid => Record) private _records;
    mapping(address subject => mapping(bytes32 schema => bytes32[] uids)) private _uids;
    mapping(bytes32 uid => Dealing) private _dealings;

    /// @param admin Holder of `DEFAULT_ADMIN_ROLE`, which manages the issuer registry.
    constructor(address admin) EIP712("agent-testbed Reputation", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // -------------------------------------------------------------------------------------
    // Issuer registry
    // -------------------------------------------------------------------------------------

    /// @notice Add `issuer` (an EOA that signs or a contract that calls `attest`) to the registry.
    /// @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `issuer` is not registered.
    ///      Emits `IssuerRegistered`.
    /// @param issuer The address to register.
    function registerIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_issuers[issuer]) revert ReputationIssuerUnchanged(issuer);
        _issuers[issuer] = true;
        emit IssuerRegistered(issuer);
    }

    /// @notice Remove `issuer` from the registry; its attestations stop counting.
    /// @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `issuer` is registered.
    ///      Emits `IssuerRemoved`.
    /// @param issuer The address to remove.
    function removeIssuer(address issuer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_issuers[issuer]) revert ReputationIssuerUnchanged(issuer);
        _issuers[issuer] = false;
        emit IssuerRemoved(issuer);
    }

    // -------------------------------------------------------------------------------------
    // Attestations
    // -------------------------------------------------------------------------------------

    /// @notice Record an attestation whose issuer is the caller.
    /// @dev Requirements: `msg.sender == attestation.issuer`, the issuer is registered, the uid
    ///      is unused and the attestation has not expired. Emits `Attested`.
    /// @param attestation The claim to record.
    function attest(Attestation calldata attestation) external {
        if (msg.sender != attestation.issuer) {
            revert ReputationNotIssuer(msg.sender, attestation.issuer);
        }
        _record(attestation);
    }

    /// @notice Record an attestation whose issuer is the caller, about a dealing of its subject
    ///         with `counterparty` in which `stake` was at stake.
    /// @dev Requirements as for `attest`. Emits `Attested`, then `DealingRecorded`.
    /// @param attestation The claim to record.
    /// @param counterparty The subject's other party in the dealing.
    /// @param stake Value at stake in the dealing (saturated at 2**96 - 1).
    function attestDealing(Attestation calldata attestation, address counterparty, uint256 stake)
        external
    {
        if (msg.sender != attestation.issuer) {
            revert ReputationNotIssuer(msg.sender, attestation.issuer);
        }
        _record(attestation);
        uint96 kept = stake > type(uint96).max ? type(uint96).max : uint96(stake);
        _dealings[attestation.uid] = Dealing({counterparty: counterparty, stake: kept});
        emit DealingRecorded(attestation.uid, counterparty, kept);
    }

    /// @notice Record an attestation signed off-chain by its issuer; anyone may submit it.
    /// @dev The signature must be a 65-byte low-s ECDSA signature over `digest(attestation)`
    ///      recovering to `attestation.issuer`; replays are stopped by the uid check.
    ///      Requirements as for `attest`. Emits `Attested`.
    /// @param attestation The claim to record.
    /// @param signature The issuer's signature (r, s, v).
    function attestWithSignature(Attestation calldata attestation, bytes calldata signature)
        external
    {
        (address recovered, ECDSA.RecoverError err,) =
            ECDSA.tryRecoverCalldata(digest(attestation), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != attestation.issuer) {
            revert ReputationInvalidSignature(attestation.issuer, recovered);
        }
        _record(attestation);
    }

    /// @notice Revoke attestation `uid`.
    /// @dev Requirements: `uid` exists, the caller is its issuer (registered or not: revoking
    ///      only ever removes trust) and it is not already revoked. Emits `Revoked`.
    /// @param uid The attestation to revoke.
    function revoke(bytes32 uid) external {
        Record storage record = _records[uid];
        address issuer = record.issuer;
        if (issuer == address(0)) revert ReputationUnknownAttestation(uid);
        if (msg.sender != issuer) revert ReputationNotIssuer(msg.sender, issuer);
        if (record.revoked) revert ReputationAlreadyRevoked(uid);
        record.revoked = true;
        emit Revoked(uid, issuer);
    }

    // -------------------------------------------------------------------------------------
    // Views
    // -------------------------------------------------------------------------------------

    /// @notice Whether `issuer` is registered.
    /// @param issuer The address to look up.
    /// @return Whether it is in the registry.
    function isIssuer(address issuer) external view returns (bool) {
        return _issuers[issuer];
    }

    /// @notice Whether `uid` exists, is not revoked, has not expired and its issuer is registered.
    /// @param uid The attestation to check.
    /// @return Whether it counts in scores now.
    function isValid(bytes32 uid) external view returns (bool) {
        return _isValid(_records[uid]);
    }

    /// @notice Whether attestation `uid` has been revoked.
    /// @param uid The attestation to check.
    /// @return Whether it was revoked (false for unknown uids).
    function isRevoked(bytes32 uid) external view returns (bool) {
        return _records[uid].revoked;
    }

    /// @notice Sum of values and number of valid attestations about `subject` under `schema`.
    /// @dev Loops over every attestation ever recorded for the pair, so the cost grows with
    ///      their number. The sum is checked: values that overflow int256 make it revert.
    /// @param subject Who the claims are about.
    /// @param schema What kind of claims.
    /// @return total Sum of the valid attestations' values.
    /// @return count Number of valid attestations.
    function score(address subject, bytes32 schema)
        external
        view
        returns (int256 total, uint256 count)
    {
        bytes32[] storage uids = _uids[subject][schema];
        uint256 n = uids.length;
        for (uint256 i = 0; i < n; ++i) {
            Record storage record = _records[uids[i]];
            if (_isValid(record)) {
                total += record.value;
                ++count;
            }
        }
    }

    /// @notice The Sybil-resistant side of a score: over the valid attestations about `subject`
    ///         under `schema` made through `attestDealing` with at least `minStake` (and more
    ///         than zero) at stake, the summed stake and the number of distinct counterparties.
    /// @dev `score`'s count can be raised for gas alone (deals worth nothing, or with one's own
    ///      second account); this one costs value at stake per record and a funded account per
    ///      counterparty. Quadratic in the number of records (a view; callers read it off-chain).
    /// @param subject Who the claims are about.
    /// @param schema What kind of claims.
    /// @param minStake Records of dealings with less at stake are ignored (0 counts as 1).
    /// @return stake Summed value at stake of the counted records.
    /// @return counterparties Distinct counterparties among the counted records.
    function weightedScore(address subject, bytes32 schema, uint256 minStake)
        external
        view
        returns (uint256 stake, uint256 counterparties)
    {
        bytes32[] storage uids = _uids[subject][schema];
        uint256 n = uids.length;
        address[] memory seen = new address[](n);
        if (minStake == 0) minStake = 1;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 uid = uids[i];
            Dealing memory dealing = _dealings[uid];
            if (dealing.stake < minStake || !_isValid(_records[uid])) continue;
            stake += dealing.stake;
            bool known = false;
            for (uint256 j = 0; j < counterparties && !known; ++j) {
                known = seen[j] == dealing.counterparty;
            }
            if (!known) seen[counterparties++] = dealing.counterparty;
        }
    }

    /// @notice The EIP-712 digest an issuer signs for `attestation`.
    /// @param attestation The claim.
    /// @return The typed-data hash under this contract's domain.
    function digest(Attestation calldata attestation) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    attestation.issuer,
                    attestation.subject,
                    attestation.schema,
                    attestation.value,
                    attestation.expiry,
                    attestation.uid
                )
            )
        );
    }

    // -------------------------------------------------------------------------------------
    // Internals
    // -------------------------------------------------------------------------------------

    /// @dev Checks shared by both attest paths, then stores and emits.
    function _record(Attestation calldata a) private {
        if (!_issuers[a.issuer]) revert ReputationIssuerNotRegistered(a.issuer);
        // issuer is never address(0) here: ecrecover cannot yield it and no call comes from it.
        if (_records[a.uid].issuer != address(0)) revert ReputationDuplicateUid(a.uid);
        if (a.expiry != 0 && a.expiry <= block.timestamp) revert ReputationExpired(a.uid, a.expiry);
        _records[a.uid] = Record({issuer: a.issuer, expiry: a.expiry, revoked: false, value: a.value});
        _uids[a.subject][a.schema].push(a.uid);
        emit Attested(a.uid, a.issuer, a.subject, a.schema, a.value, a.expiry);
    }

    function _isValid(Record storage record) private view returns (bool) {
        address issuer = record.issuer;
        return issuer != address(0) && !record.revoked
            && (record.expiry == 0 || record.expiry > block.timestamp) && _issuers[issuer];
    }
}
