// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MockERC20} from "./MockERC20.sol";

/// @title ITokenReceivedHook
/// @notice What a HookedERC20 calls on a recipient that opted in to transfer hooks.
interface ITokenReceivedHook {
    /// @notice Called after `amount` tokens from `from` were credited to the implementer.
    /// @param from The sender of the tokens.
    /// @param amount The amount received.
    function onTokenReceived(address from, uint256 amount) external;
}

/// @title HookedERC20
/// @notice A mintable ERC-20 that, like ERC-777, calls the recipient after every transfer to an
///         address that opted in: the malicious-currency vector for reentrancy tests.
/// @dev The hook runs after the balances change, and a reverting hook reverts the transfer.
///      Never deploy outside a test chain.
contract HookedERC20 is MockERC20 {
    /// @notice Whether transfers to an address call its `onTokenReceived` hook.
    mapping(address account => bool) public hooked;

    /// @notice Creates the token with 18 decimals and no initial supply.
    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    constructor(string memory name_, string memory symbol_) MockERC20(name_, symbol_) {}

    /// @notice Opts the caller in to (or out of) the transfer hook.
    /// @param on Whether transfers to the caller should call its hook.
    function setHooked(bool on) external {
        hooked[msg.sender] = on;
    }

    /// @dev Moves balances, then calls the recipient's hook when it opted in.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (hooked[to]) ITokenReceivedHook(to).onTokenReceived(from, value);
    }
}
