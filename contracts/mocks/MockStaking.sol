// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStaking} from "../interfaces/IStaking.sol";

/// @title MockStaking
/// @notice Token-free IStaking for unit tests: stakes are set directly and every slash call is
///         recorded so tests can assert who slashed whom, by how much and why.
/// @dev Anyone may set stakes and anyone may slash (no roles). Never deploy outside a test chain.
contract MockStaking is IStaking {
    /// @notice One recorded `slash` call.
    struct SlashCall {
        address slasher;
        address account;
        uint256 amount;
        bytes32 reason;
        uint256 slashed;
    }

    mapping(address account => uint256) private _bonded;
    mapping(address account => uint256) private _unbonding;
    uint256 private _total;
    SlashCall[] private _slashes;

    /// @notice Sets `account`'s bonded stake to `amount` (test set-up).
    /// @param account Whose stake.
    /// @param amount The new bonded stake.
    function setStake(address account, uint256 amount) external {
        _total = _total - _bonded[account] + amount;
        _bonded[account] = amount;
    }

    /// @inheritdoc IStaking
    function stake(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        _bonded[msg.sender] += amount;
        _total += amount;
        emit Staked(msg.sender, amount, _bonded[msg.sender]);
    }

    /// @inheritdoc IStaking
    function requestUnstake(uint256 amount) external {
        if (amount > _bonded[msg.sender]) {
            revert StakingInsufficientStake(msg.sender, amount, _bonded[msg.sender]);
        }
        _bonded[msg.sender] -= amount;
        _unbonding[msg.sender] += amount;
        emit UnstakeRequested(msg.sender, amount, block.timestamp);
    }

    /// @inheritdoc IStaking
    function withdraw() external {
        uint256 amount = _unbonding[msg.sender];
        if (amount == 0) revert StakingNothingToWithdraw(msg.sender);
        _unbonding[msg.sender] = 0;
        _total -= amount;
        emit Withdrawn(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function slash(address account, uint256 amount, bytes32 reason) external returns (uint256 slashed) {
        if (amount == 0) revert StakingInvalidSlash(account, amount);
        uint256 fromBonded = amount < _bonded[account] ? amount : _bonded[account];
        uint256 rest = amount - fromBonded;
        uint256 fromUnbonding = rest < _unbonding[account] ? rest : _unbonding[account];
        _bonded[account] -= fromBonded;
        _unbonding[account] -= fromUnbonding;
        slashed = fromBonded + fromUnbonding;
        _total -= slashed;
        _slashes.push(SlashCall(msg.sender, account, amount, reason, slashed));
        emit Slashed(account, msg.sender, slashed, reason, address(0));
    }

    /// @notice Number of recorded slash calls.
    /// @return The count.
    function slashCount() external view returns (uint256) {
        return _slashes.length;
    }

    /// @notice The `i`-th recorded slash call.
    /// @param i Index from 0.
    /// @return The call.
    function slashAt(uint256 i) external view returns (SlashCall memory) {
        return _slashes[i];
    }

    /// @inheritdoc IStaking
    function stakeOf(address account) external view returns (uint256) {
        return _bonded[account];
    }

    /// @inheritdoc IStaking
    function unbondingOf(address account) external view returns (uint256 amount, uint256 releaseTime) {
        return (_unbonding[account], 0);
    }

    /// @inheritdoc IStaking
    function slashableOf(address account) external view returns (uint256) {
        return _bonded[account] + _unbonding[account];
    }

    /// @inheritdoc IStaking
    function totalStaked() external view returns (uint256) {
        return _total;
    }
}
