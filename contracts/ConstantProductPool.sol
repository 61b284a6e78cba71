// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";
import {IFlashSwapCallee} from "./interfaces/IFlashSwapCallee.sol";

/// @title ConstantProductPool
/// @notice A Uniswap-v2-style x·y = k pool for two ERC-20 tokens with a swap fee in basis
///         points; liquidity providers hold the pool's own ERC-20 LP shares.
/// @dev Swaps use Uniswap v2's integer formula:
///      `out = amountIn·(10000 − fee)·reserveOut / (reserveIn·10000 + amountIn·(10000 − fee))`,
///      which rounds down, so k = reserve0·reserve1 never decreases on a swap.
///      The first deposit mints `sqrt(amount0·amount1) − MINIMUM_LIQUIDITY` shares and locks
///      `MINIMUM_LIQUIDITY` at `DEAD` (OpenZeppelin's ERC20 refuses to mint to address(0));
///      later deposits mint `min(amount0·supply/reserve0, amount1·supply/reserve1)`, and any
///      excess over the proportional amounts stays in the pool for all LPs.
///
///      Tokens are pulled with `safeTransferFrom` of exactly the amount credited, so after
///      every call the reserves equal the balances (except for direct donations, which `sync`
///      absorbs and `skim` returns). Fee-on-transfer and rebasing tokens are NOT supported:
///      they would leave the reserves above the balances.
///
///      Every function that moves value is `nonReentrant` and follows
///      checks-effects-interactions: reserves, shares and events are written before any token
///      call. The one exception is `flashSwap`, whose point is to pay out before it is paid: it
///      writes the reserves only after its callback, and `nonReentrant` keeps every other entry
///      point (swaps, liquidity, `sync`, `skim`) closed meanwhile, so nothing can read or move the
///      stale reserves. Arithmetic is checked: reserves whose products overflow 256 bits revert
///      (Panic).
contract ConstantProductPool is IConstantProductPool, ERC20, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Shares locked forever by the first deposit, so the share price cannot be inflated.
    uint256 public constant MINIMUM_LIQUIDITY = 1000;
    /// @notice Holder of the locked minimum liquidity.
    address public constant DEAD = 0x000000000000000000000000000000000000dEaD;
    /// @notice The fee a pool usually charges (0.30 %).
    uint256 public constant DEFAULT_FEE_BPS = 30;
    /// @notice The highest fee allowed (10 %).
    uint256 public constant MAX_FEE_BPS = 1000;
    /// @notice Denominator of the fee.
    uint256 public constant BPS = 10_000;

    /// @inheritdoc IConstantProductPool
    address public immutable token0;
    /// @inheritdoc IConstantProductPool
    address public immutable token1;
    /// @inheritdoc IConstantProductPool
    uint256 public immutable fee;

    uint256 private _reserve0;
    uint256 private _reserve1;

    /// @dev Reverts with PoolExpired once `block.timestamp > deadline` (the deadline itself is allowed).
    modifier ensure(uint256 deadline) {
        if (block.timestamp > deadline) revert PoolExpired(deadline, block.timestamp);
        _;
    }

    /// @notice Creates an empty pool for `tokenA`/`tokenB` (sorted into token0 < token1).
    /// @dev Requirements: distinct, non-zero tokens; `feeBps <= MAX_FEE_BPS`.
    /// @param tokenA One token (plain ERC-20: no fee-on-transfer, no rebasing).
    /// @param tokenB The other token.
    /// @param feeBps Swap fee in basis points, e.g. `DEFAULT_FEE_BPS`.
    constructor(address tokenA, address tokenB, uint256 feeBps) ERC20("Constant Product LP", "CP-LP") {
        if (tokenA == tokenB) revert PoolIdenticalTokens(tokenA);
        (address t0, address t1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        if (t0 == address(0)) revert PoolInvalidToken(address(0));
        if (feeBps > MAX_FEE_BPS) revert PoolInvalidFee(feeBps);
        token0 = t0;
        token1 = t1;
        fee = feeBps;
    }

    /// @notice Deposit exactly `amount0` of token0 and `amount1` of token1 for LP shares.
    /// @dev Requirements: both amounts > 0; the caller approved them; `block.timestamp <= deadline`;
    ///      at least `minShares` minted; a first deposit above `MINIMUM_LIQUIDITY`.
    ///      Emits {Transfer} (mint), {Sync} and {LiquidityAdded}.
    /// @param amount0 Token0 to deposit.
    /// @param amount1 Token1 to deposit.
    /// @param minShares Fewest shares accepted (else PoolSlippage(shares, minShares)).
    /// @param to Receiver of the shares.
    /// @param deadline Last timestamp at which the deposit may execute.
    /// @return shares The LP shares minted to `to`.
    function addLiquidity(uint256 amount0, uint256 amount1, uint256 minShares, address to, uint256 deadline)
        external
        nonReentrant
        ensure(deadline)
        returns (uint256 shares)
    {
        if (amount0 == 0 || amount1 == 0) revert PoolZeroAmount();
        uint256 supply = totalSupply();
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        if (supply == 0) {
            uint256 liquidity = Math.sqrt(amount0 * amount1);
            if (liquidity <= MINIMUM_LIQUIDITY) {
                revert PoolInsufficientInitialLiquidity(liquidity, MINIMUM_LIQUIDITY);
            }
            // Cannot underflow: checked just above.
            unchecked {
                shares = liquidity - MINIMUM_LIQUIDITY;
            }
            _mint(DEAD, MINIMUM_LIQUIDITY);
        } else {
            shares = Math.min(amount0 * supply / r0, amount1 * supply / r1);
        }
        if (shares == 0) revert PoolZeroOutput();
        if (shares < minShares) revert PoolSlippage(shares, minShares);
        _mint(to, shares);
        _update(r0 + amount0, r1 + amount1);
        emit LiquidityAdded(msg.sender, to, amount0, amount1, shares);
        IERC20(token0).safeTransferFrom(msg.sender, address(this), amount0);
        IERC20(token1).safeTransferFrom(msg.sender, address(this), amount1);
    }

    /// @notice Burn `shares` of the caller's LP shares for their pro-rata part of the reserves.
    /// @dev Pays `shares·reserve/supply` of each token, rounded down. Requirements: `shares > 0`
    ///      and held by the caller; both amounts > 0 and at least `min0`/`min1`;
    ///      `block.timestamp <= deadline`; `to` is not the pool. Emits {Transfer} (burn), {Sync}
    ///      and {LiquidityRemoved}.
    /// @param shares LP shares to burn.
    /// @param min0 Least token0 accepted (else PoolSlippage(amount0, min0)).
    /// @param min1 Least token1 accepted (else PoolSlippage(amount1, min1)).
    /// @param to Receiver of the tokens.
    /// @param deadline Last timestamp at which the withdrawal may execute.
    /// @return amount0 Token0 paid to `to`.
    /// @return amount1 Token1 paid to `to`.
    function removeLiquidity(uint256 shares, uint256 min0, uint256 min1, address to, uint256 deadline)
        external
        nonReentrant
        ensure(deadline)
        returns (uint256 amount0, uint256 amount1)
    {
        if (shares == 0) revert PoolZeroAmount();
        _checkRecipient(to);
        uint256 supply = totalSupply();
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        amount0 = shares * r0 / supply;
        amount1 = shares * r1 / supply;
        if (amount0 == 0 || amount1 == 0) revert PoolZeroOutput();
        if (amount0 < min0) revert PoolSlippage(amount0, min0);
        if (amount1 < min1) revert PoolSlippage(amount1, min1);
        _burn(msg.sender, shares);
        _update(r0 - amount0, r1 - amount1);
        emit LiquidityRemoved(msg.sender, to, amount0, amount1, shares);
        IERC20(token0).safeTransfer(to, amount0);
        IERC20(token1).safeTransfer(to, amount1);
    }

    /// @notice Swap exactly `amountIn` of `tokenIn` for at least `minAmountOut` of the other token.
    /// @dev Requirements: `tokenIn` is token0 or token1; `amountIn > 0`; non-empty reserves; a
    ///      non-zero output of at least `minAmountOut`; `block.timestamp <= deadline`; `to` is not
    ///      the pool. Emits {Sync} and {Swap}.
    /// @param tokenIn The token paid in.
    /// @param amountIn Amount of `tokenIn` pulled from the caller.
    /// @param minAmountOut Least output accepted (else PoolSlippage(amountOut, minAmountOut)).
    /// @param to Receiver of the output.
    /// @param deadline Last timestamp at which the swap may execute.
    /// @return amountOut The amount of the other token paid to `to`.
    function swapExactIn(address tokenIn, uint256 amountIn, uint256 minAmountOut, address to, uint256 deadline)
        external
        nonReentrant
        ensure(deadline)
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert PoolZeroAmount();
        _checkRecipient(to);
        bool zeroForOne = _isToken0(tokenIn);
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        amountOut = zeroForOne ? _amountOut(amountIn, r0, r1) : _amountOut(amountIn, r1, r0);
        // `< 1` means `== 0`; written so because the reserves can come from balanceOf (sync)
        // and Slither's incorrect-equality flags any strict equality on them.
        if (amountOut < 1) revert PoolZeroOutput();
        if (amountOut < minAmountOut) revert PoolSlippage(amountOut, minAmountOut);
        address tokenOut;
        if (zeroForOne) {
            _update(r0 + amountIn, r1 - amountOut);
            tokenOut = token1;
        } else {
            _update(r0 - amountOut, r1 + amountIn);
            tokenOut = token0;
        }
        emit Swap(msg.sender, tokenIn, amountIn, amountOut, to);
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        IERC20(tokenOut).safeTransfer(to, amountOut);
    }

    /// @notice Flash swap: pay out `amount0Out`/`amount1Out` to `to` first, call
    ///         `to.onFlashSwap(msg.sender, amount0Out, amount1Out, data)` when `data` is non-empty,
    ///         then require that the tokens paid back in keep the fee-adjusted product.
    /// @dev Uniswap v2's `swap` with the fee in basis points: with balances `b` after the
    ///      callback and `in = b − (reserve − out)` (zero when negative), require
    ///      `(b0·BPS − in0·fee)·(b1·BPS − in1·fee) >= reserve0·reserve1·BPS²`. Paying back in the
    ///      borrowed token (a flash loan from the pool) costs the same fee as paying in the other
    ///      (a swap whose input arrives after its output). Requirements: some output; each output
    ///      below its reserve; `to` is not the pool. Emits {Sync} and {FlashSwap}.
    /// @param amount0Out Token0 sent to `to` before the callback.
    /// @param amount1Out Token1 sent to `to` before the callback.
    /// @param to Receiver of the outputs, and the callee when `data` is non-empty.
    /// @param data Passed to the callback; empty means no callback (the input must already be here).
    /// @return amount0In Token0 paid in, net of the output.
    /// @return amount1In Token1 paid in, net of the output.
    function flashSwap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data)
        external
        nonReentrant
        returns (uint256 amount0In, uint256 amount1In)
    {
        if (amount0Out == 0 && amount1Out == 0) revert PoolZeroAmount();
        _checkRecipient(to);
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        if (amount0Out >= r0 || amount1Out >= r1) revert PoolInsufficientLiquidity(r0, r1);
        if (amount0Out != 0) IERC20(token0).safeTransfer(to, amount0Out);
        if (amount1Out != 0) IERC20(token1).safeTransfer(to, amount1Out);
        if (data.length != 0) IFlashSwapCallee(to).onFlashSwap(msg.sender, amount0Out, amount1Out, data);
        (amount0In, amount1In) = _settleFlash(r0, r1, amount0Out, amount1Out);
        emit FlashSwap(msg.sender, amount0In, amount1In, amount0Out, amount1Out, to);
    }

    /// @notice Set the reserves to the balances, absorbing tokens donated to the pool.
    /// @dev Emits {Sync}.
    function sync() external nonReentrant {
        _update(IERC20(token0).balanceOf(address(this)), IERC20(token1).balanceOf(address(this)));
    }

    /// @notice Send the balances above the reserves to `to`.
    /// @dev Requirements: `to` is not the pool. Emits {Skimmed} (also when nothing is above).
    /// @param to Receiver of the excess.
    function skim(address to) external nonReentrant {
        _checkRecipient(to);
        uint256 excess0 = IERC20(token0).balanceOf(address(this)) - _reserve0;
        uint256 excess1 = IERC20(token1).balanceOf(address(this)) - _reserve1;
        emit Skimmed(to, excess0, excess1);
        if (excess0 != 0) IERC20(token0).safeTransfer(to, excess0);
        if (excess1 != 0) IERC20(token1).safeTransfer(to, excess1);
    }

    /// @notice The output of swapping `amountIn` of `tokenIn` at the current reserves.
    /// @dev Reverts with PoolInvalidToken for a foreign token and PoolInsufficientLiquidity for
    ///      an empty pool.
    /// @param tokenIn The token paid in.
    /// @param amountIn Amount paid in.
    /// @return amountOut The amount of the other token the swap would pay.
    function getAmountOut(address tokenIn, uint256 amountIn) external view returns (uint256 amountOut) {
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        return _isToken0(tokenIn) ? _amountOut(amountIn, r0, r1) : _amountOut(amountIn, r1, r0);
    }

    /// @notice The reserves of token0 and token1.
    /// @return reserve0 The token0 reserve.
    /// @return reserve1 The token1 reserve.
    function getReserves() external view returns (uint256 reserve0, uint256 reserve1) {
        return (_reserve0, _reserve1);
    }

    /// @dev Stores the new reserves and emits {Sync}.
    function _update(uint256 reserve0, uint256 reserve1) private {
        _reserve0 = reserve0;
        _reserve1 = reserve1;
        emit Sync(reserve0, reserve1);
    }

    /// @dev A flash swap's inputs from the balances after its callback; checks the fee-adjusted
    ///      product against the reserves `r0`, `r1` from before it and stores the balances.
    function _settleFlash(uint256 r0, uint256 r1, uint256 amount0Out, uint256 amount1Out)
        private
        returns (uint256 amount0In, uint256 amount1In)
    {
        uint256 b0 = IERC20(token0).balanceOf(address(this));
        uint256 b1 = IERC20(token1).balanceOf(address(this));
        // Cannot underflow: each output is below its reserve (checked by flashSwap).
        unchecked {
            amount0In = b0 > r0 - amount0Out ? b0 - (r0 - amount0Out) : 0;
            amount1In = b1 > r1 - amount1Out ? b1 - (r1 - amount1Out) : 0;
        }
        uint256 required = r0 * r1 * BPS * BPS;
        // `< 1` means `== 0`, written so for Slither's incorrect-equality (see swapExactIn).
        if (amount0In < 1 && amount1In < 1) revert PoolFlashNotRepaid(0, required);
        uint256 product = (b0 * BPS - amount0In * fee) * (b1 * BPS - amount1In * fee);
        if (product < required) revert PoolFlashNotRepaid(product, required);
        _update(b0, b1);
    }

    /// @dev True for token0, false for token1; reverts with PoolInvalidToken otherwise.
    function _isToken0(address token) private view returns (bool) {
        if (token == token0) return true;
        if (token != token1) revert PoolInvalidToken(token);
        return false;
    }

    /// @dev Paying the pool itself would leave balances above the reserves.
    function _checkRecipient(address to) private view {
        if (to == address(this) || to == address(0)) revert PoolInvalidRecipient(to);
    }

    /// @dev Uniswap v2's `getAmountOut` with the fee in basis points; reverts on an empty pool.
    function _amountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) private view returns (uint256) {
        // Shares exist exactly when both reserves are positive: the first deposit locks
        // MINIMUM_LIQUIDITY forever, withdrawals and swaps always leave part of each reserve.
        if (totalSupply() == 0) revert PoolInsufficientLiquidity(_reserve0, _reserve1);
        uint256 amountInWithFee = amountIn * (BPS - fee);
        return amountInWithFee * reserveOut / (reserveIn * BPS + amountInWithFee);
    }
}
