// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title FlashLender
/// @notice An ERC-3156 flash lender for any ERC-20 it holds: lends its whole balance of a token
///         for the duration of one call, against repayment of the amount plus a fee in basis
///         points within the same transaction.
/// @dev The commitment this makes is the one the cooperative-AI paper describes: "I lend you all
///      my money if there exists a commitment in the future from you that returns all my
///      money" — enforceable only because a transaction is atomic. ERC-3156's flow:
///      1. `flashLoan` checks `amount <= maxFlashLoan(token)`, transfers `amount` to `receiver`;
///      2. calls `receiver.onFlashLoan(msg.sender, token, amount, fee, data)` and requires it to
///         return `CALLBACK_SUCCESS` (keccak256("ERC3156FlashBorrower.onFlashLoan"));
///      3. pulls `amount + fee` back from `receiver` with `transferFrom` (the receiver approves
///         it in its callback), so a loan that is not repaid reverts the whole transaction.
///
///      Every token is supported (`flashFee` never reverts); `maxFlashLoan` is the balance. The
///      lender's liquidity is whatever was sent or `supply`-ed to it; fees stay in the contract
///      and only the owner can `withdraw`. `flashLoan` and `withdraw` are `nonReentrant`, so a
///      borrower cannot borrow again, or drain the lender, from inside its callback.
///      Fee-on-transfer tokens are not supported: the lender would be repaid less than it lent
///      and the pull of `amount + fee` would leave it short, which the final balance check
///      refuses (`FlashLenderNotRepaid`).
contract FlashLender is IERC3156FlashLender, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice What a borrower's `onFlashLoan` must return (ERC-3156).
    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");
    /// @notice The highest fee allowed (10 %).
    uint256 public constant MAX_FEE_BPS = 1000;
    /// @notice Denominator of the fee.
    uint256 public constant BPS = 10_000;

    /// @notice Fee per loan in basis points of the amount, rounded down.
    uint256 public immutable feeBps;

    /// @notice A fee of `feeBps` exceeds `MAX_FEE_BPS`.
    error FlashLenderInvalidFee(uint256 feeBps);
    /// @notice `amount` of `token` was asked for but only `available` is held.
    error FlashLenderExceedsMax(address token, uint256 amount, uint256 available);
    /// @notice The borrower's callback returned `returned` instead of `CALLBACK_SUCCESS`.
    error FlashLenderCallbackFailed(bytes32 returned);
    /// @notice After the loan the lender held `balance` of the token, below `required`.
    error FlashLenderNotRepaid(uint256 balance, uint256 required);
    /// @notice An amount of zero was given where a positive amount is required.
    error FlashLenderZeroAmount();

    /// @notice `receiver` borrowed `amount` of `token` for `initiator` and paid `fee`.
    event FlashLoan(
        address indexed initiator, address indexed receiver, address indexed token, uint256 amount, uint256 fee
    );
    /// @notice `from` added `amount` of `token` to the lender's liquidity.
    event Supplied(address indexed from, address indexed token, uint256 amount);
    /// @notice The owner took `amount` of `token` out to `to`.
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice Creates a lender charging `feeBps_` basis points per loan, owned by `owner_`.
    /// @param feeBps_ Fee in basis points (at most `MAX_FEE_BPS`; zero is allowed).
    /// @param owner_ The account that may withdraw liquidity and fees.
    constructor(uint256 feeBps_, address owner_) Ownable(owner_) {
        if (feeBps_ > MAX_FEE_BPS) revert FlashLenderInvalidFee(feeBps_);
        feeBps = feeBps_;
    }

    /// @inheritdoc IERC3156FlashLender
    function maxFlashLoan(address token) public view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    /// @inheritdoc IERC3156FlashLender
    function flashFee(address, uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS;
    }

    /// @inheritdoc IERC3156FlashLender
    /// @dev Emits {FlashLoan}. Reverts with FlashLenderExceedsMax, FlashLenderCallbackFailed,
    ///      FlashLenderNotRepaid, or the token's own error when the repayment cannot be pulled.
    function flashLoan(IERC3156FlashBorrower receiver, address token, uint256 amount, bytes calldata data)
        external
        nonReentrant
        returns (bool)
    {
        if (amount == 0) revert FlashLenderZeroAmount();
        uint256 before = maxFlashLoan(token);
        if (amount > before) revert FlashLenderExceedsMax(token, amount, before);
        uint256 fee = flashFee(token, amount);
        emit FlashLoan(msg.sender, address(receiver), token, amount, fee);
        IERC20(token).safeTransfer(address(receiver), amount);
        bytes32 returned = receiver.onFlashLoan(msg.sender, token, amount, fee, data);
        if (returned != CALLBACK_SUCCESS) revert FlashLenderCallbackFailed(returned);
        IERC20(token).safeTransferFrom(address(receiver), address(this), amount + fee);
        uint256 after_ = IERC20(token).balanceOf(address(this));
        if (after_ < before + fee) revert FlashLenderNotRepaid(after_, before + fee);
        return true;
    }

    /// @notice Add `amount` of `token` (approved to this contract) to the lender's liquidity.
    /// @dev Emits {Supplied}. Supplied tokens belong to the lender: only the owner withdraws.
    /// @param token The token supplied.
    /// @param amount The amount pulled from the caller.
    function supply(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert FlashLenderZeroAmount();
        emit Supplied(msg.sender, token, amount);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Send `amount` of `token` held by the lender (liquidity or fees) to `to`.
    /// @dev Only the owner. Emits {Withdrawn}.
    /// @param token The token withdrawn.
    /// @param amount The amount sent.
    /// @param to The receiver.
    function withdraw(address token, uint256 amount, address to) external onlyOwner nonReentrant {
        if (amount == 0) revert FlashLenderZeroAmount();
        emit Withdrawn(token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }
}
