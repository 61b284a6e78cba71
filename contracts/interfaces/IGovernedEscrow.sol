// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IConsentEscrow} from "./IConsentEscrow.sol";

/// @title IGovernedEscrow
/// @notice A consent escrow with the governance levers of the distributional-safety sandbox on
///         chain: a transaction tax on every payout into a treasury that subsidises arbitration,
///         a circuit breaker on counterparties with too many recent bad outcomes, and a freeze
///         list kept by a governor (where off-chain collusion detection is enforced).
/// @dev A bad outcome is an `escrow.defaulted` or `escrow.dispute-lost` record this escrow makes
///      about an agreement's counterparty. The breaker blocks an account while the
///      `breakerThreshold`-th latest of its bad outcomes is at most `breakerWindow` seconds old.
///      The treasury is an {IArbitrationFund} at its own address, bound to this escrow.
interface IGovernedEscrow is IConsentEscrow {
    /// @notice The levers fixed at deployment (all zero: none, the plain consent escrow's rules).
    /// @param governor Who keeps the freeze list (may hand the role on).
    /// @param treasury The {IArbitrationFund} the tax goes to (zero only without a tax).
    /// @param taxBps Share of every payout, in basis points, sent to the treasury (< 10_000).
    /// @param breakerThreshold Bad outcomes that trip the breaker (0: no breaker).
    /// @param breakerWindow Seconds a bad outcome counts for the breaker (> 0 with a breaker).
    struct Levers {
        address governor;
        address treasury;
        uint256 taxBps;
        uint256 breakerThreshold;
        uint256 breakerWindow;
    }

    /// @notice The tax is 100 % or more (`taxBps` >= 10_000).
    error EscrowInvalidTax(uint256 taxBps);
    /// @notice A tax without a treasury.
    error EscrowInvalidTreasury(address treasury);
    /// @notice A breaker with a threshold but no window.
    error EscrowInvalidBreaker(uint256 threshold, uint256 window);
    /// @notice The governor may not be the zero address.
    error EscrowInvalidGovernor(address governor);
    /// @notice Only the governor keeps the freeze list.
    error EscrowNotGovernor(address caller);
    /// @notice `account` is on the freeze list: no new agreement may name it.
    error EscrowAccountFrozen(address account);
    /// @notice `account` has `threshold` bad outcomes since `since` (within the window).
    error EscrowBreakerTripped(address account, uint256 threshold, uint256 since);

    /// @notice A bad outcome of agreement `id` was recorded about `account` (its `count`-th).
    event EscrowBadOutcomeRecorded(address indexed account, uint256 indexed id, uint256 count);
    /// @notice The governor put `account` on (`frozen`) or took it off the freeze list.
    event EscrowFreezeSet(address indexed account, bool frozen);
    /// @notice The governor role passed to `governor`.
    event EscrowGovernorSet(address indexed governor);
    /// @notice `tax` of a payout to `payee` went to the treasury.
    event EscrowTaxed(address indexed payee, uint256 tax);
    /// @notice The treasury paid `amount` of a ruled agreement's arbitrator fee back to its
    ///         proposer.
    event EscrowArbitrationSubsidised(uint256 indexed id, address indexed proposer, uint256 amount);

    /// @notice Put `account` on the freeze list or take it off.
    /// @dev Requirements: the caller is the governor. Emits {EscrowFreezeSet}.
    /// @param account The account.
    /// @param isFrozen Whether it is frozen from now on.
    function setFrozen(address account, bool isFrozen) external;

    /// @notice Hand the governor role to `governor`.
    /// @dev Requirements: the caller is the governor; `governor` is not zero. Emits
    ///      {EscrowGovernorSet}.
    /// @param governor The new governor.
    function setGovernor(address governor) external;

    /// @notice Whether a new agreement naming `account` would revert now (frozen or tripped).
    /// @param account The account.
    /// @return Whether it is blocked.
    function isBlocked(address account) external view returns (bool);

    /// @notice How many bad outcomes were recorded about `account` (only with a breaker).
    /// @param account The account.
    /// @return The count.
    function badOutcomes(address account) external view returns (uint256);

    /// @notice What the treasury holds now (tax collected, not yet spent on arbitration, plus
    ///         anything sent to it directly; 0 without a treasury).
    /// @return The treasury's balance, in the currency's smallest unit.
    function treasuryBalance() external view returns (uint256);
}
