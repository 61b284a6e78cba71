// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ICollateralVault} from "./interfaces/ICollateralVault.sol";
import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";

/// @title FlashLiquidator
/// @notice A liquidator's executor for `CollateralVault`: repay part of an unhealthy position's
///         debt, take the seized collateral, sell it on a pool for the debt token, and keep what
///         is left: funded by an ERC-3156 flash loan of the debt token (no capital needed), or by
///         the owner's own tokens. Either way the transaction reverts unless the owner ends with
///         at least `minProfit` of the debt token more than it put in.
/// @dev Loan route (`liquidateWithLoan`): borrow `repay` of the debt token, liquidate, sell the
///      collateral, approve `repay + fee` to the lender, pay the rest to the owner. Own-funds
///      route (`liquidateWithOwnFunds`): pull `repay` from the owner (approved to this
///      contract), liquidate, sell, pay everything back to the owner. The loan callback is
///      accepted only from the lender this contract is waiting on, for a call it started
///      itself; the contract holds no tokens between calls.
contract FlashLiquidator is IERC3156FlashBorrower, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice What `onFlashLoan` returns (ERC-3156).
    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @notice The only account that may liquidate through this executor, and receiver of profit.
    address public immutable owner;
    /// @dev The lender whose callback is expected (zero outside a loan).
    address private _expected;
    /// @dev Collateral seized inside the loan callback, for the event of the outer call.
    uint256 private _seized;

    /// @notice `caller` is not the owner.
    error FlashLiquidatorNotOwner(address caller);
    /// @notice A callback came from `caller` for `initiator`, not from the awaited lender.
    error FlashLiquidatorUnexpectedCallback(address caller, address initiator);
    /// @notice `lender.flashLoan` returned false instead of lending.
    error FlashLiquidatorLoanRefused(address lender);
    /// @notice The liquidation would end with `profit`, below `minProfit`.
    error FlashLiquidatorUnprofitable(uint256 profit, uint256 minProfit);

    /// @notice A liquidation of `borrower` repaid `repaid`, seized `seized` and paid `profit`.
    event LiquidationExecuted(address indexed borrower, uint256 repaid, uint256 seized, uint256 profit);

    /// @notice Sets the owner.
    /// @param owner_ The liquidator account that will use this executor.
    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert FlashLiquidatorNotOwner(msg.sender);
        _;
    }

    /// @notice Liquidate `borrower` with a flash loan of `repay` of the vault's debt token.
    /// @param lender The ERC-3156 lender.
    /// @param vault The lending market.
    /// @param borrower The unhealthy position's owner.
    /// @param repay Debt repaid (and borrowed).
    /// @param pool Where the seized collateral is sold for the debt token.
    /// @param minProfit Least profit accepted, in the debt token, after the lender's fee.
    /// @return profit The debt token paid to the owner.
    function liquidateWithLoan(
        IERC3156FlashLender lender,
        ICollateralVault vault,
        address borrower,
        uint256 repay,
        IConstantProductPool pool,
        uint256 minProfit
    ) external onlyOwner nonReentrant returns (uint256 profit) {
        address debt = address(vault.debtToken());
        _expected = address(lender);
        if (!lender.flashLoan(this, debt, repay, abi.encode(vault, borrower, pool))) {
            revert FlashLiquidatorLoanRefused(address(lender));
        }
        _expected = address(0);
        profit = IERC20(debt).balanceOf(address(this));
        if (profit < minProfit) revert FlashLiquidatorUnprofitable(profit, minProfit);
        emit LiquidationExecuted(borrower, repay, _seized, profit);
        _seized = 0;
        if (profit != 0) IERC20(debt).safeTransfer(owner, profit);
    }

    /// @notice Liquidate `borrower` repaying `repay` of the owner's own debt tokens.
    /// @param vault The lending market.
    /// @param borrower The unhealthy position's owner.
    /// @param repay Debt repaid, pulled from the owner.
    /// @param pool Where the seized collateral is sold for the debt token.
    /// @param minProfit Least gain accepted, in the debt token, over the `repay` put in.
    /// @return profit The owner's gain in the debt token.
    function liquidateWithOwnFunds(
        ICollateralVault vault,
        address borrower,
        uint256 repay,
        IConstantProductPool pool,
        uint256 minProfit
    ) external onlyOwner nonReentrant returns (uint256 profit) {
        IERC20 debt = vault.debtToken();
        debt.safeTransferFrom(owner, address(this), repay);
        uint256 seized = _liquidateAndSell(vault, borrower, repay, pool);
        uint256 proceeds = debt.balanceOf(address(this));
        profit = proceeds > repay ? proceeds - repay : 0;
        if (proceeds < repay + minProfit) revert FlashLiquidatorUnprofitable(profit, minProfit);
        emit LiquidationExecuted(borrower, repay, seized, profit);
        debt.safeTransfer(owner, proceeds);
    }

    /// @inheritdoc IERC3156FlashBorrower
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        if (msg.sender != _expected || initiator != address(this)) {
            revert FlashLiquidatorUnexpectedCallback(msg.sender, initiator);
        }
        (ICollateralVault vault, address borrower, IConstantProductPool pool) =
            abi.decode(data, (ICollateralVault, address, IConstantProductPool));
        _seized = _liquidateAndSell(vault, borrower, amount, pool);
        // A short balance makes the lender's pull fail, reverting everything.
        IERC20(token).forceApprove(msg.sender, amount + fee);
        return CALLBACK_SUCCESS;
    }

    /// @dev Repays `repay` of `borrower`'s debt and sells all the seized collateral on `pool`
    ///      (no minimum output: the profit check at the end guards the whole transaction).
    function _liquidateAndSell(ICollateralVault vault, address borrower, uint256 repay, IConstantProductPool pool)
        private
        returns (uint256 seized)
    {
        vault.debtToken().forceApprove(address(vault), repay);
        seized = vault.liquidate(borrower, repay);
        address collateral = address(vault.collateralToken());
        IERC20(collateral).forceApprove(address(pool), seized);
        pool.swapExactIn(collateral, seized, 0, address(this), type(uint256).max);
    }

}
