// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20
/// @notice An OpenZeppelin ERC-20 whose tokens anyone can mint, for tests and simulations.
/// @dev Deliberately unrestricted `mint`: the testbed funds agents with it. Never deploy this
/// outside a test chain. Emits the standard ERC-20 `Transfer(address(0), to, amount)` on mint.
contract MockERC20 is ERC20 {
    /// @notice Creates the token with 18 decimals and no initial supply.
    /// @param name_ Token name, e.g. "Agent Credit".
    /// @param symbol_ Token symbol, e.g. "CRED".
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` new tokens to `to`.
    /// @dev Emits {Transfer} from the zero address (via ERC20._mint).
    /// @param to Recipient of the new tokens.
    /// @param amount Number of tokens (in the smallest unit) to create.
    function mint(address to, uint256 amount) public {
        _mint(to, amount);
    }
}
