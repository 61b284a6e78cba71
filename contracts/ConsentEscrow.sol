// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Escrow} from "./Escrow.sol";
import {IConsentEscrow} from "./interfaces/IConsentEscrow.sol";
import {IEscrow} from "./interfaces/IEscrow.sol";
import {IReputation} from "./interfaces/IReputation.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title ConsentEscrow
/// @notice {Escrow} in which an arbitrator is appointed only with its consent: the proposer
///         submits the arbitrator's EIP-712 signature over the full terms (fee included).
/// @dev The fix of issue 15's first flaw. In the plain {Escrow} anyone may name any staked
///      arbitrator; a proposer and its own second account can then dispute, let the ruling
///      window pass and have the arbitrator slashed for a no-show at no cost of their own.
///      Here no stake is at risk before its owner signed for the very agreement (parties,
///      amounts, fee, deadlines), each consent serves one appointment, and it lapses with
///      `acceptBy`. Everything after the proposal is the plain escrow's.
contract ConsentEscrow is Escrow, IConsentEscrow, EIP712 {
    /// @notice EIP-712 typehash of the consent an arbitrator signs.
    bytes32 public constant CONSENT_TYPEHASH = keccak256(
        "ArbitratorConsent(address proposer,address counterparty,address arbitrator,uint256 price,"
        "uint256 proposerBond,uint256 counterpartyBond,uint256 arbitratorFee,uint64 acceptBy,"
        "uint64 deliverBy,bytes32 salt)"
    );

    /// @inheritdoc IConsentEscrow
    mapping(bytes32 digest => bool) public consentUsed;

    /// @notice Deploys the consent variant; arguments as for {Escrow}.
    /// @param currency_ The ERC-20 currency.
    /// @param staking_ Staking contract holding arbitrators' stakes.
    /// @param reputation_ Reputation registry this contract attests to.
    /// @param minArbitratorStake_ Bonded stake an arbitrator needs at proposal time.
    /// @param rulingWindow_ Seconds the arbitrator has to rule after a dispute.
    /// @param timeoutPolicy_ RefundBoth or SlashBoth on a delivery timeout.
    /// @param arbitratorSlashAmount_ Stake slashed from an arbitrator who does not rule in time.
    /// @param slashSink_ Receiver of slashed bonds (must be non-zero under SlashBoth).
    /// @param gracePeriod_ Seconds confirm and dispute stay open after `deliverBy` (< 2**64).
    constructor(
        IERC20 currency_,
        IStaking staking_,
        IReputation reputation_,
        uint256 minArbitratorStake_,
        uint256 rulingWindow_,
        TimeoutPolicy timeoutPolicy_,
        uint256 arbitratorSlashAmount_,
        address slashSink_,
        uint256 gracePeriod_
    )
        Escrow(
            currency_,
            staking_,
            reputation_,
            minArbitratorStake_,
            rulingWindow_,
            timeoutPolicy_,
            arbitratorSlashAmount_,
            slashSink_,
            gracePeriod_
        )
        EIP712("agent-testbed Escrow", "1")
    {}

    /// @notice Closed in this variant: always reverts with {EscrowConsentRequired}.
    /// @dev Use `proposeWithConsent`.
    /// @param arbitrator The arbitrator named without consent.
    /// @return Never returns.
    function propose(address, address arbitrator, uint256, uint256, uint256, uint256, uint64, uint64)
        external
        pure
        override(Escrow, IEscrow)
        returns (uint256)
    {
        revert EscrowConsentRequired(arbitrator);
    }

    /// @inheritdoc IConsentEscrow
    function proposeWithConsent(Terms calldata terms, bytes32 salt, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 id)
    {
        bytes32 hash = consentDigest(msg.sender, terms, salt);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err != ECDSA.RecoverError.NoError || signer != terms.arbitrator) {
            revert EscrowInvalidConsent(terms.arbitrator, signer);
        }
        if (consentUsed[hash]) revert EscrowConsentUsed(hash);
        consentUsed[hash] = true;
        id = _propose(terms);
        emit EscrowArbitratorConsented(id, terms.arbitrator, hash);
    }

    /// @inheritdoc IConsentEscrow
    function consentDigest(address proposer, Terms calldata terms, bytes32 salt)
        public
        view
        returns (bytes32)
    {
        bytes memory fields = abi.encode(
            CONSENT_TYPEHASH,
            proposer,
            terms.counterparty,
            terms.arbitrator,
            terms.price,
            terms.proposerBond,
            terms.counterpartyBond,
            terms.arbitratorFee,
            terms.acceptBy,
            terms.deliverBy,
            salt
        );
        return _hashTypedDataV4(keccak256(fields));
    }
}
