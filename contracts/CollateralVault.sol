// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ICollateralVault} from "./interfaces/ICollateralVault.sol";
import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";

/// @title CollateralVault
/// @notice A minimal lending market for one pair: borrowers deposit a collateral token and
///         borrow a debt token up to a collateral factor of their collateral's value; anyone may
///         liquidate a position that owes more than that, repaying part of its debt and
///         receiving collateral worth the repaid amount plus a bonus.
/// @dev The price is the spot price of one `ConstantProductPool` of the pair
///      (`reserveDebt / reserveCollateral`, read when needed). A spot price can be moved within
///      one transaction (a large swap, or a flash loan's worth of one) and is the textbook way
///      lending markets have been drained; it is used here on purpose: the testbed's question is
///      what capital-free liquidators do when that pool's price falls, and the seized collateral
///      is sold on the same pool. A production market would read a time-weighted or an external
///      oracle. No interest accrues; supplied funds belong to the vault (no lender shares).
///
///      Healthy: `debt <= collateral · price · collateralFactorBps / BPS` (rounded down).
///      Liquidation of an unhealthy position: `repay <= debt · closeFactorBps / BPS`; it seizes
///      `floor(repay · (BPS + bonusBps) / (BPS · price))` of collateral, which must be at most
///      the position's collateral (else the liquidator must repay less; what cannot be covered
///      stays as debt: bad debt). Every function that moves tokens is `nonReentrant` and writes
///      the position and totals before any transfer (checks-effects-interactions).
contract CollateralVault is ICollateralVault, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Denominator of the basis-point parameters.
    uint256 public constant BPS = 10_000;

    /// @notice The token deposited as collateral.
    IERC20 public immutable collateralToken;
    /// @notice The token lent.
    IERC20 public immutable debtToken;
    /// @notice The pool whose spot price values the collateral.
    IConstantProductPool public immutable pool;
    /// @notice Borrowing limit per unit of collateral value, in basis points (e.g. 8,000).
    uint256 public immutable collateralFactorBps;
    /// @notice Collateral a liquidator gets above the repaid value, in basis points (e.g. 500).
    uint256 public immutable bonusBps;
    /// @notice Share of a position's debt one liquidation may repay, in basis points.
    uint256 public immutable closeFactorBps;
    bool private immutable _collateralIs0;

    /// @notice Total collateral deposited.
    uint256 public totalCollateral;
    /// @notice Total debt owed.
    uint256 public totalDebt;
    mapping(address => Position) private _positions;

    /// @notice Creates the market of `pool`'s pair.
    /// @param pool_ The oracle pool; it must hold both tokens.
    /// @param collateral_ The collateral token (one of the pool's).
    /// @param collateralFactorBps_ In (0, BPS).
    /// @param bonusBps_ At most BPS; with the factor, `factor · (BPS + bonus) < BPS²` so that a
    ///        position that just became unhealthy can be liquidated without seizing it whole.
    /// @param closeFactorBps_ In (0, BPS].
    constructor(
        IConstantProductPool pool_,
        address collateral_,
        uint256 collateralFactorBps_,
        uint256 bonusBps_,
        uint256 closeFactorBps_
    ) {
        address t0 = pool_.token0();
        address t1 = pool_.token1();
        if (collateral_ != t0 && collateral_ != t1) {
            revert VaultInvalidParameter("collateral", uint256(uint160(collateral_)));
        }
        if (collateralFactorBps_ == 0 || collateralFactorBps_ >= BPS) {
            revert VaultInvalidParameter("collateralFactorBps", collateralFactorBps_);
        }
        if (bonusBps_ > BPS || collateralFactorBps_ * (BPS + bonusBps_) >= BPS * BPS) {
            revert VaultInvalidParameter("bonusBps", bonusBps_);
        }
        if (closeFactorBps_ == 0 || closeFactorBps_ > BPS) {
            revert VaultInvalidParameter("closeFactorBps", closeFactorBps_);
        }
        pool = pool_;
        _collateralIs0 = collateral_ == t0;
        collateralToken = IERC20(collateral_);
        debtToken = IERC20(collateral_ == t0 ? t1 : t0);
        collateralFactorBps = collateralFactorBps_;
        bonusBps = bonusBps_;
        closeFactorBps = closeFactorBps_;
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Supplied}.
    function supply(uint256 amount) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        emit Supplied(msg.sender, amount);
        debtToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Deposited}.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        _positions[msg.sender].collateral += amount;
        totalCollateral += amount;
        emit Deposited(msg.sender, amount);
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Withdrawn}. Reverts with VaultInsufficientBalance or VaultUnhealthy.
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        Position storage p = _positions[msg.sender];
        if (amount > p.collateral) revert VaultInsufficientBalance(amount, p.collateral);
        p.collateral -= amount;
        totalCollateral -= amount;
        _requireHealthy(msg.sender, p);
        emit Withdrawn(msg.sender, amount);
        collateralToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Borrowed}. Reverts with VaultInsufficientBalance or VaultUnhealthy.
    function borrow(uint256 amount) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        uint256 available = debtToken.balanceOf(address(this));
        if (amount > available) revert VaultInsufficientBalance(amount, available);
        Position storage p = _positions[msg.sender];
        p.debt += amount;
        totalDebt += amount;
        _requireHealthy(msg.sender, p);
        emit Borrowed(msg.sender, amount);
        debtToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Repaid}. Reverts with VaultRepayTooLarge above the debt.
    function repay(address borrower, uint256 amount) external nonReentrant {
        if (amount == 0) revert VaultZeroAmount();
        Position storage p = _positions[borrower];
        if (amount > p.debt) revert VaultRepayTooLarge(amount, p.debt);
        p.debt -= amount;
        totalDebt -= amount;
        emit Repaid(borrower, msg.sender, amount);
        debtToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICollateralVault
    /// @dev Emits {Liquidated}. Reverts with VaultHealthy, VaultRepayTooLarge (above the close
    ///      factor's share of the debt) or VaultInsufficientCollateral.
    /// @param borrower The unhealthy position's owner.
    /// @param repayAmount Debt repaid, pulled from the caller.
    /// @return seized Collateral sent to the caller.
    function liquidate(address borrower, uint256 repayAmount) external nonReentrant returns (uint256 seized) {
        if (repayAmount == 0) revert VaultZeroAmount();
        Position storage p = _positions[borrower];
        (uint256 rColl, uint256 rDebt) = _reserves();
        uint256 limit = _limit(p.collateral, rColl, rDebt);
        if (p.debt <= limit) revert VaultHealthy(borrower, p.debt, limit);
        uint256 maxRepay = p.debt * closeFactorBps / BPS;
        if (repayAmount > maxRepay) revert VaultRepayTooLarge(repayAmount, maxRepay);
        seized = _seize(repayAmount, rColl, rDebt);
        if (seized > p.collateral) revert VaultInsufficientCollateral(seized, p.collateral);
        p.debt -= repayAmount;
        p.collateral -= seized;
        totalDebt -= repayAmount;
        totalCollateral -= seized;
        emit Liquidated(borrower, msg.sender, repayAmount, seized, rDebt * 1e18 / rColl);
        debtToken.safeTransferFrom(msg.sender, address(this), repayAmount);
        collateralToken.safeTransfer(msg.sender, seized);
    }

    /// @inheritdoc ICollateralVault
    function positionOf(address borrower) external view returns (uint256 collateral, uint256 debt) {
        Position storage p = _positions[borrower];
        return (p.collateral, p.debt);
    }

    /// @inheritdoc ICollateralVault
    function borrowLimit(address borrower) public view returns (uint256) {
        (uint256 rColl, uint256 rDebt) = _reserves();
        return _limit(_positions[borrower].collateral, rColl, rDebt);
    }

    /// @inheritdoc ICollateralVault
    function isLiquidatable(address borrower) external view returns (bool) {
        return _positions[borrower].debt > borrowLimit(borrower);
    }

    /// @inheritdoc ICollateralVault
    function seizeFor(uint256 repayAmount) external view returns (uint256) {
        (uint256 rColl, uint256 rDebt) = _reserves();
        return _seize(repayAmount, rColl, rDebt);
    }

    /// @dev The oracle pool's reserves of (collateral, debt) token.
    function _reserves() private view returns (uint256 rColl, uint256 rDebt) {
        (uint256 r0, uint256 r1) = pool.getReserves();
        return _collateralIs0 ? (r0, r1) : (r1, r0);
    }

    function _limit(uint256 collateral, uint256 rColl, uint256 rDebt) private view returns (uint256) {
        return collateral * rDebt * collateralFactorBps / (rColl * BPS);
    }

    function _seize(uint256 repayAmount, uint256 rColl, uint256 rDebt) private view returns (uint256) {
        return repayAmount * (BPS + bonusBps) * rColl / (BPS * rDebt);
    }

    function _requireHealthy(address borrower, Position storage p) private view {
        (uint256 rColl, uint256 rDebt) = _reserves();
        uint256 limit = _limit(p.collateral, rColl, rDebt);
        if (p.debt > limit) revert VaultUnhealthy(borrower, p.debt, limit);
    }
}
