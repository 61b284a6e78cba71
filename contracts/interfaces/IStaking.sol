// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStaking
/// @notice Stake currency, unbond it over a fixed period, and be slashed by authorised slashers.
/// @dev Unbonding stake still counts as slashable. Invariant kept by every implementation:
///      currency.balanceOf(staking) == sum of bonded + sum of unbonding.
interface IStaking {
    /// @notice An amount of zero was given where a positive amount is required.
    error StakingZeroAmount();
    /// @notice `account` asked to unbond more than its bonded stake.
    error StakingInsufficientStake(address account, uint256 requested, uint256 bonded);
    /// @notice `account` has nothing unbonding to withdraw.
    error StakingNothingToWithdraw(address account);
    /// @notice `account` tried to withdraw before its unbonding ends at `releaseTime`.
    error StakingStillUnbonding(address account, uint256 releaseTime);
    /// @notice A slash of zero, or a sink of the zero address where burning is not possible.
    error StakingInvalidSlash(address account, uint256 amount);

    /// @notice `account` locked `amount` more; its bonded stake is now `bonded`.
    event Staked(address indexed account, uint256 amount, uint256 bonded);
    /// @notice `account` started unbonding `amount`; all its unbonding stake is released at `releaseTime`.
    event UnstakeRequested(address indexed account, uint256 amount, uint256 releaseTime);
    /// @notice `account` withdrew `amount` of unbonded stake.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice `slasher` took `amount` of `account`'s stake (bonded first, then unbonding) to `sink`.
    event Slashed(
        address indexed account, address indexed slasher, uint256 amount, bytes32 reason, address sink
    );

    /// @notice Lock `amount` of currency (the caller must have approved this contract).
    function stake(uint256 amount) external;

    /// @notice Move `amount` of bonded stake into unbonding; the release time restarts at
    ///         `block.timestamp + unbondingPeriod` for the whole unbonding balance.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraw all unbonding stake once its release time has been reached.
    function withdraw() external;

    /// @notice Slash up to `amount` of `account`'s slashable stake (only `SLASHER_ROLE`).
    /// @return slashed The amount actually taken (capped at the slashable stake).
    function slash(address account, uint256 amount, bytes32 reason) external returns (uint256 slashed);

    /// @notice Bonded (not unbonding) stake of `account`: what eligibility checks use.
    function stakeOf(address account) external view returns (uint256);

    /// @notice Unbonding stake of `account` and when it can be withdrawn.
    function unbondingOf(address account) external view returns (uint256 amount, uint256 releaseTime);

    /// @notice Bonded plus unbonding stake of `account`.
    function slashableOf(address account) external view returns (uint256);

    /// @notice Sum of all bonded and unbonding stake.
    function totalStaked() external view returns (uint256);
}
