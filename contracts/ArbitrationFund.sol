// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IArbitrationFund} from "./interfaces/IArbitrationFund.sol";

/// @title ArbitrationFund
/// @notice The treasury of {GovernedEscrow}'s transaction tax, at an address of its own so that
///         the economy's books show it: it holds the tax and pays arbitration subsidies when its
///         escrow asks.
/// @dev Deployed before the escrow (whose constructor names it), then bound to it once by the
///      owner. Anyone may send it tokens; only the bound escrow can take them out.
contract ArbitrationFund is IArbitrationFund {
    using SafeERC20 for IERC20;

    /// @notice The currency the fund holds.
    IERC20 public immutable currency;
    /// @notice Who binds the fund to its escrow.
    address public immutable owner;
    /// @notice The escrow that pays out of the fund (zero until bound).
    address public escrow;

    /// @notice Deploys an unbound fund.
    /// @param currency_ The currency.
    /// @param owner_ Who binds it.
    constructor(IERC20 currency_, address owner_) {
        currency = currency_;
        owner = owner_;
    }

    /// @inheritdoc IArbitrationFund
    function bind(address escrow_) external {
        if (msg.sender != owner) revert FundNotOwner(msg.sender);
        if (escrow != address(0) || escrow_ == address(0)) revert FundInvalidBinding(escrow_);
        escrow = escrow_;
        emit FundBound(escrow_);
    }

    /// @inheritdoc IArbitrationFund
    function pay(address to, uint256 amount) external {
        if (msg.sender != escrow || escrow == address(0)) revert FundNotEscrow(msg.sender);
        emit FundPaid(to, amount);
        currency.safeTransfer(to, amount);
    }
}
