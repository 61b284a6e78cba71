// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IConstantProductPool} from "../interfaces/IConstantProductPool.sol";
import {IFlashSwapCallee} from "../interfaces/IFlashSwapCallee.sol";

/// @title FlashBorrowerMock
/// @notice A flash borrower whose callback behaves as told, to test lenders and flash swaps:
///         repay in full, repay short, return the wrong value, or re-enter the lender / pool.
/// @dev Records what its callbacks saw. Never deploy outside a test chain.
contract FlashBorrowerMock is IERC3156FlashBorrower, IFlashSwapCallee {
    /// @notice What the next callback does.
    enum Mode {
        Repay,
        RepayShort,
        WrongReturn,
        Reenter
    }

    /// @notice The mode of the next callback.
    Mode public mode;
    /// @notice For flash swaps: how much of which token the callback pays the pool.
    address public payToken;
    /// @notice For flash swaps: the amount the callback pays the pool.
    uint256 public payAmount;
    /// @notice Initiator, amount and fee the last `onFlashLoan` saw.
    address public seenInitiator;
    /// @notice Amount the last callback saw.
    uint256 public seenAmount;
    /// @notice Fee the last `onFlashLoan` saw.
    uint256 public seenFee;
    /// @notice Balance of the borrowed token this contract held inside the last callback.
    uint256 public balanceInside;

    /// @notice Sets what the next callback does (and, for flash swaps, what it pays back).
    /// @param mode_ The behaviour.
    /// @param payToken_ Token paid to the pool in `onFlashSwap`.
    /// @param payAmount_ Amount paid to the pool in `onFlashSwap` (`RepayShort` pays one less).
    function configure(Mode mode_, address payToken_, uint256 payAmount_) external {
        mode = mode_;
        payToken = payToken_;
        payAmount = payAmount_;
    }

    /// @notice Borrows `amount` of `token` from `lender`.
    /// @param lender The ERC-3156 lender.
    /// @param token The token borrowed.
    /// @param amount The amount borrowed.
    function borrow(IERC3156FlashLender lender, address token, uint256 amount) external {
        lender.flashLoan(this, token, amount, "");
    }

    /// @notice Flash-swaps `amount0Out`/`amount1Out` out of `pool`, with a callback.
    /// @param pool The pool.
    /// @param amount0Out Token0 taken out.
    /// @param amount1Out Token1 taken out.
    function flash(IConstantProductPool pool, uint256 amount0Out, uint256 amount1Out) external {
        pool.flashSwap(amount0Out, amount1Out, address(this), hex"01");
    }

    /// @inheritdoc IERC3156FlashBorrower
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        seenInitiator = initiator;
        seenAmount = amount;
        seenFee = fee;
        balanceInside = IERC20(token).balanceOf(address(this));
        if (mode == Mode.Reenter) {
            IERC3156FlashLender(msg.sender).flashLoan(this, token, 1, "");
        }
        uint256 owed = mode == Mode.RepayShort ? amount + fee - 1 : amount + fee;
        IERC20(token).approve(msg.sender, owed);
        if (mode == Mode.WrongReturn) return keccak256("something else");
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    /// @inheritdoc IFlashSwapCallee
    function onFlashSwap(address, uint256 amount0Out, uint256 amount1Out, bytes calldata) external {
        seenAmount = amount0Out + amount1Out;
        if (mode == Mode.Reenter) {
            IConstantProductPool(msg.sender).sync();
        }
        uint256 pay = mode == Mode.RepayShort ? payAmount - 1 : payAmount;
        if (pay != 0) IERC20(payToken).transfer(msg.sender, pay);
    }
}
