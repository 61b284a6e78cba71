// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IFlashSwapCallee
/// @notice The callback a `ConstantProductPool.flashSwap` makes to its receiver.
interface IFlashSwapCallee {
    /// @notice Called after the pool paid `amount0Out`/`amount1Out` to this contract and before
    ///         it checks its product: pay the pool back (in either token) here.
    /// @param sender Who called `flashSwap`.
    /// @param amount0Out Token0 received.
    /// @param amount1Out Token1 received.
    /// @param data The `data` passed to `flashSwap`.
    function onFlashSwap(address sender, uint256 amount0Out, uint256 amount1Out, bytes calldata data) external;
}
