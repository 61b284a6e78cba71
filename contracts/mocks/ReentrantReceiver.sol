// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ITokenReceivedHook} from "./HookedERC20.sol";

/// @title ReentrantReceiver
/// @notice An attacker contract that takes part in agreements (through `execute`) and, once
///         armed, re-enters a target with a prepared call when a HookedERC20 pays it.
/// @dev Records every re-entry attempt: whether it succeeded and what it returned or reverted
///      with. In bubbling mode a failed re-entry reverts the payout that triggered it with the
///      original revert data. Never deploy outside a test chain.
contract ReentrantReceiver is ITokenReceivedHook {
    /// @notice `caller` is not the owner.
    error ReentrantReceiverNotOwner(address caller);

    /// @notice A re-entry into `target` was attempted from the hook.
    event ReentryAttempted(address indexed target, bool ok, bytes result);

    /// @notice The deployer, the only account that may act through this contract.
    address public immutable owner;
    /// @notice Contract the armed hook calls.
    address public target;
    /// @notice Calldata the armed hook sends.
    bytes public payload;
    /// @notice Whether a failed re-entry reverts the triggering transfer.
    bool public bubble;
    /// @notice Whether the next hook call re-enters (disarms itself when it fires).
    bool public armed;
    /// @notice Hook calls seen so far.
    uint256 public hooksSeen;
    /// @notice Re-entries attempted so far.
    uint256 public reentries;
    /// @notice Whether the last re-entry succeeded.
    bool public lastOk;
    /// @notice Return or revert data of the last re-entry.
    bytes public lastResult;

    /// @notice Sets the deployer as owner.
    constructor() {
        owner = msg.sender;
    }

    /// @notice Calls `to` with `data` as this contract, bubbling any revert (owner only).
    /// @param to The contract to call.
    /// @param data The calldata.
    /// @return The call's return data.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert ReentrantReceiverNotOwner(msg.sender);
        return Address.functionCall(to, data);
    }

    /// @notice Makes the next hook call send `payload_` to `target_` (owner only).
    /// @param target_ The contract to re-enter.
    /// @param payload_ The calldata to send.
    /// @param bubble_ Whether a failed re-entry reverts the triggering transfer.
    function arm(address target_, bytes calldata payload_, bool bubble_) external {
        if (msg.sender != owner) revert ReentrantReceiverNotOwner(msg.sender);
        (target, payload, bubble, armed) = (target_, payload_, bubble_, true);
    }

    /// @inheritdoc ITokenReceivedHook
    function onTokenReceived(address, uint256) external {
        hooksSeen += 1;
        if (!armed) return;
        armed = false;
        (bool ok, bytes memory result) = target.call(payload);
        (lastOk, lastResult) = (ok, result);
        reentries += 1;
        emit ReentryAttempted(target, ok, result);
        if (!ok && bubble) Address.verifyCallResult(false, result);
    }
}
