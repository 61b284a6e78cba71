// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";
import {IFlashSwapCallee} from "./interfaces/IFlashSwapCallee.sol";

/// @title FlashArbitrage
/// @notice A searcher's executor for capital-free two-pool arbitrage: buy a token where it is
///         cheap and sell it where it is dear within one transaction, funded either by an
///         ERC-3156 flash loan or by a flash swap on the buying pool. The owner needs no
///         inventory, only gas: the transaction reverts unless it ends with at least
///         `minProfit`, which goes to the owner.
/// @dev Loan route (`arbitrageWithLoan`): borrow `amount` of `token`, swap it on `buyPool` for
///      the other token, swap that on `sellPool` back, approve `amount + fee` to the lender.
///      Flash-swap route (`arbitrageWithFlashSwap`): take `amountOut` of `tokenOut` out of
///      `borrowPool`, sell it on `sellPool`, pay `borrowPool` the least input of the other token
///      that keeps its fee-adjusted product (`ceil(rIn·out·BPS / ((rOut − out)·(BPS − fee)))`),
///      keep the rest. Callbacks are accepted only from the lender or pool this contract is
///      waiting on, for a call it started itself; the contract holds no tokens between calls.
contract FlashArbitrage is IERC3156FlashBorrower, IFlashSwapCallee {
    using SafeERC20 for IERC20;

    /// @notice What `onFlashLoan` returns (ERC-3156).
    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");
    /// @notice Denominator of pool fees.
    uint256 public constant BPS = 10_000;

    /// @notice The only account that may start an arbitrage, and receiver of its profit.
    address public immutable owner;
    /// @dev The lender or pool whose callback is expected (zero outside an arbitrage).
    address private _expected;

    /// @notice `caller` is not the owner.
    error FlashArbitrageNotOwner(address caller);
    /// @notice A callback came from `caller` for `initiator`, not from the awaited lender/pool.
    error FlashArbitrageUnexpectedCallback(address caller, address initiator);
    /// @notice `lender.flashLoan` returned false instead of lending.
    error FlashArbitrageLoanRefused(address lender);
    /// @notice The arbitrage would end with `profit`, below `minProfit`.
    error FlashArbitrageUnprofitable(uint256 profit, uint256 minProfit);

    /// @notice An arbitrage paid `profit` of `token` to the owner.
    event Arbitraged(address indexed token, uint256 profit);

    /// @notice Sets the owner.
    /// @param owner_ The searcher account that will use this executor.
    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert FlashArbitrageNotOwner(msg.sender);
        _;
    }

    /// @notice Arbitrage funded by a flash loan of `amount` of `token` from `lender`.
    /// @param lender The ERC-3156 lender.
    /// @param token The token borrowed, and in which the profit is made.
    /// @param amount The amount borrowed and sold on `buyPool`.
    /// @param buyPool The pool on which `token` buys the other token.
    /// @param sellPool The pool on which the other token buys `token` back.
    /// @param minProfit Least profit accepted (in `token`, after the lender's fee).
    /// @return profit The profit paid to the owner.
    function arbitrageWithLoan(
        IERC3156FlashLender lender,
        address token,
        uint256 amount,
        IConstantProductPool buyPool,
        IConstantProductPool sellPool,
        uint256 minProfit
    ) external onlyOwner returns (uint256 profit) {
        _expected = address(lender);
        if (!lender.flashLoan(this, token, amount, abi.encode(buyPool, sellPool))) {
            revert FlashArbitrageLoanRefused(address(lender));
        }
        _expected = address(0);
        return _payOut(token, minProfit);
    }

    /// @notice Arbitrage funded by a flash swap of `amountOut` of `tokenOut` out of `borrowPool`.
    /// @param borrowPool The pool `tokenOut` is taken from (and repaid in the other token).
    /// @param tokenOut The token taken out and sold on `sellPool`.
    /// @param amountOut The amount taken out.
    /// @param sellPool The pool on which `tokenOut` is sold for the other token.
    /// @param minProfit Least profit accepted (in the other token).
    /// @return profit The profit paid to the owner.
    function arbitrageWithFlashSwap(
        IConstantProductPool borrowPool,
        address tokenOut,
        uint256 amountOut,
        IConstantProductPool sellPool,
        uint256 minProfit
    ) external onlyOwner returns (uint256 profit) {
        bool outIs0 = tokenOut == borrowPool.token0();
        address tokenIn = outIs0 ? borrowPool.token1() : borrowPool.token0();
        _expected = address(borrowPool);
        borrowPool.flashSwap(outIs0 ? amountOut : 0, outIs0 ? 0 : amountOut, address(this), abi.encode(sellPool));
        _expected = address(0);
        return _payOut(tokenIn, minProfit);
    }

    /// @inheritdoc IERC3156FlashBorrower
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        _checkCallback(initiator);
        (IConstantProductPool buyPool, IConstantProductPool sellPool) =
            abi.decode(data, (IConstantProductPool, IConstantProductPool));
        uint256 bought = _swap(buyPool, token, amount);
        _swap(sellPool, _other(buyPool, token), bought);
        // A short balance makes the lender's pull fail, reverting everything.
        IERC20(token).forceApprove(msg.sender, amount + fee);
        return CALLBACK_SUCCESS;
    }

    /// @inheritdoc IFlashSwapCallee
    function onFlashSwap(address sender, uint256 amount0Out, uint256 amount1Out, bytes calldata data) external {
        _checkCallback(sender);
        IConstantProductPool pool = IConstantProductPool(msg.sender);
        IConstantProductPool sellPool = abi.decode(data, (IConstantProductPool));
        bool outIs0 = amount0Out != 0;
        (address tokenOut, address tokenIn) = outIs0 ? (pool.token0(), pool.token1()) : (pool.token1(), pool.token0());
        uint256 amountOut = outIs0 ? amount0Out : amount1Out;
        _swap(sellPool, tokenOut, amountOut);
        // The pool's reserves are not updated until this callback returns.
        (uint256 r0, uint256 r1) = pool.getReserves();
        (uint256 rIn, uint256 rOut) = outIs0 ? (r1, r0) : (r0, r1);
        uint256 owed = (rIn * amountOut * BPS) / ((rOut - amountOut) * (BPS - pool.fee())) + 1;
        IERC20(tokenIn).safeTransfer(msg.sender, owed);
    }

    /// @dev Only the awaited lender/pool, for a call this contract started.
    function _checkCallback(address initiator) private view {
        if (msg.sender != _expected || initiator != address(this)) {
            revert FlashArbitrageUnexpectedCallback(msg.sender, initiator);
        }
    }

    /// @dev Sells `amountIn` of `tokenIn` on `pool` (no minimum: the profit check guards).
    function _swap(IConstantProductPool pool, address tokenIn, uint256 amountIn) private returns (uint256) {
        IERC20(tokenIn).forceApprove(address(pool), amountIn);
        return pool.swapExactIn(tokenIn, amountIn, 0, address(this), type(uint256).max);
    }

    /// @dev The pool's token that is not `token`.
    function _other(IConstantProductPool pool, address token) private view returns (address) {
        address t0 = pool.token0();
        return token == t0 ? pool.token1() : t0;
    }

    /// @dev Sends the whole balance of `token` to the owner if it reaches `minProfit`.
    function _payOut(address token, uint256 minProfit) private returns (uint256 profit) {
        profit = IERC20(token).balanceOf(address(this));
        if (profit < minProfit) revert FlashArbitrageUnprofitable(profit, minProfit);
        emit Arbitraged(token, profit);
        if (profit != 0) IERC20(token).safeTransfer(owner, profit);
    }
}
