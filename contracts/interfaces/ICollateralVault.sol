// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ICollateralVault
/// @notice Errors, events and functions of `CollateralVault`: a one-pair lending market where
///         collateral backs a debt up to a collateral factor, priced by a pool's spot price, and
///         anyone may liquidate an under-collateralised position for a bonus.
interface ICollateralVault {
    /// @notice One borrower's position.
    /// @param collateral Collateral token deposited (smallest units).
    /// @param debt Debt token owed (smallest units; no interest accrues).
    struct Position {
        uint256 collateral;
        uint256 debt;
    }

    /// @notice An amount of zero was given where a positive amount is required.
    error VaultZeroAmount();
    /// @notice A parameter is out of range: `name` got `value`.
    error VaultInvalidParameter(string name, uint256 value);
    /// @notice After the action the position would owe `debt` against a borrowing limit of `limit`.
    error VaultUnhealthy(address borrower, uint256 debt, uint256 limit);
    /// @notice `borrower` owes `debt` within its limit `limit`: it cannot be liquidated.
    error VaultHealthy(address borrower, uint256 debt, uint256 limit);
    /// @notice `repay` exceeds the most one liquidation (or repayment) may repay, `maxRepay`.
    error VaultRepayTooLarge(uint256 repay, uint256 maxRepay);
    /// @notice The liquidation would seize `seize` of collateral; the position holds `collateral`.
    error VaultInsufficientCollateral(uint256 seize, uint256 collateral);
    /// @notice `amount` was asked for but only `available` is there.
    error VaultInsufficientBalance(uint256 amount, uint256 available);

    /// @notice `from` added `amount` of the debt token to the vault's lendable funds.
    event Supplied(address indexed from, uint256 amount);
    /// @notice `borrower` deposited `amount` of collateral.
    event Deposited(address indexed borrower, uint256 amount);
    /// @notice `borrower` withdrew `amount` of collateral.
    event Withdrawn(address indexed borrower, uint256 amount);
    /// @notice `borrower` borrowed `amount` of the debt token.
    event Borrowed(address indexed borrower, uint256 amount);
    /// @notice `payer` repaid `amount` of `borrower`'s debt.
    event Repaid(address indexed borrower, address indexed payer, uint256 amount);
    /// @notice `liquidator` repaid `repaid` of `borrower`'s debt and seized `seized` collateral
    ///         at a price of `priceWad` debt units per collateral unit (scaled by 1e18).
    event Liquidated(
        address indexed borrower, address indexed liquidator, uint256 repaid, uint256 seized, uint256 priceWad
    );

    /// @notice Add `amount` of the debt token (approved) to the funds borrowers draw from.
    function supply(uint256 amount) external;
    /// @notice Deposit `amount` of collateral (approved) into the caller's position.
    function deposit(uint256 amount) external;
    /// @notice Withdraw `amount` of the caller's collateral, if the position stays healthy.
    function withdraw(uint256 amount) external;
    /// @notice Borrow `amount` of the debt token, if the position stays healthy.
    function borrow(uint256 amount) external;
    /// @notice Repay `amount` (approved) of `borrower`'s debt.
    function repay(address borrower, uint256 amount) external;
    /// @notice Repay `repayAmount` of an unhealthy `borrower`'s debt and receive its collateral
    ///         worth that amount plus the bonus.
    function liquidate(address borrower, uint256 repayAmount) external returns (uint256 seized);
    /// @notice The token deposited as collateral.
    function collateralToken() external view returns (IERC20);
    /// @notice The token lent.
    function debtToken() external view returns (IERC20);
    /// @notice The position of `borrower`.
    function positionOf(address borrower) external view returns (uint256 collateral, uint256 debt);
    /// @notice The most `borrower` may owe at the current price.
    function borrowLimit(address borrower) external view returns (uint256);
    /// @notice Whether `borrower` owes more than its limit and so can be liquidated.
    function isLiquidatable(address borrower) external view returns (bool);
    /// @notice The collateral a liquidation repaying `repayAmount` seizes at the current price.
    function seizeFor(uint256 repayAmount) external view returns (uint256);
}
