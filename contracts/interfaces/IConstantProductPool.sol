// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IConstantProductPool
/// @notice A two-token x·y = k pool with a swap fee in basis points and ERC-20 LP shares.
/// @dev Invariant kept by every implementation: after every call the stored reserves equal the
///      pool's token balances, unless tokens were sent to the pool directly (a donation), which
///      `sync` absorbs and `skim` returns.
interface IConstantProductPool {
    /// @notice An amount out (swap output, LP shares, withdrawn tokens) fell below its minimum.
    error PoolSlippage(uint256 amountOut, uint256 minAmountOut);
    /// @notice The transaction was mined after its `deadline` (`timestamp > deadline`).
    error PoolExpired(uint256 deadline, uint256 timestamp);
    /// @notice `token` is not one of the pool's two tokens (or is the zero address).
    error PoolInvalidToken(address token);
    /// @notice Both tokens of a pool are the same `token`.
    error PoolIdenticalTokens(address token);
    /// @notice A fee of `feeBps` exceeds the maximum of 1000 basis points.
    error PoolInvalidFee(uint256 feeBps);
    /// @notice An amount of zero was given where a positive amount is required.
    error PoolZeroAmount();
    /// @notice The operation would pay out nothing (rounding down to zero).
    error PoolZeroOutput();
    /// @notice The reserves (`reserve0`, `reserve1`) cannot serve the request (empty pool).
    error PoolInsufficientLiquidity(uint256 reserve0, uint256 reserve1);
    /// @notice A first deposit of `liquidity` (= sqrt(amount0·amount1)) is not above `minimum`.
    error PoolInsufficientInitialLiquidity(uint256 liquidity, uint256 minimum);
    /// @notice `to` cannot receive tokens from the pool (the pool itself or the zero address).
    error PoolInvalidRecipient(address to);
    /// @notice A flash swap's repayment left the fee-adjusted product at `product`, below `required`
    ///         (both scaled by BPS²).
    error PoolFlashNotRepaid(uint256 product, uint256 required);

    /// @notice `sender` swapped `amountIn` of `tokenIn` for `amountOut` of the other token, paid to `to`.
    event Swap(
        address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address indexed to
    );
    /// @notice The reserves changed; they are now `reserve0` and `reserve1`.
    event Sync(uint256 reserve0, uint256 reserve1);
    /// @notice `provider` deposited `amount0` and `amount1`; `shares` LP shares were minted to `to`.
    event LiquidityAdded(
        address indexed provider, address indexed to, uint256 amount0, uint256 amount1, uint256 shares
    );
    /// @notice `provider` burned `shares` LP shares; `amount0` and `amount1` were paid to `to`.
    event LiquidityRemoved(
        address indexed provider, address indexed to, uint256 amount0, uint256 amount1, uint256 shares
    );
    /// @notice Balances above the reserves (`amount0`, `amount1`) were sent to `to`.
    event Skimmed(address indexed to, uint256 amount0, uint256 amount1);
    /// @notice `sender` flash-swapped: `amount0Out`/`amount1Out` went to `to` first, and
    ///         `amount0In`/`amount1In` (net of the outputs) came back before the product check.
    event FlashSwap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );

    /// @notice Deposit exactly `amount0` of token0 and `amount1` of token1 for LP shares.
    /// @return shares The LP shares minted to `to`.
    function addLiquidity(uint256 amount0, uint256 amount1, uint256 minShares, address to, uint256 deadline)
        external
        returns (uint256 shares);

    /// @notice Burn `shares` of the caller's LP shares for their pro-rata part of the reserves.
    /// @return amount0 Token0 paid to `to`.
    /// @return amount1 Token1 paid to `to`.
    function removeLiquidity(uint256 shares, uint256 min0, uint256 min1, address to, uint256 deadline)
        external
        returns (uint256 amount0, uint256 amount1);

    /// @notice Swap exactly `amountIn` of `tokenIn` for at least `minAmountOut` of the other token.
    /// @return amountOut The amount of the other token paid to `to`.
    function swapExactIn(address tokenIn, uint256 amountIn, uint256 minAmountOut, address to, uint256 deadline)
        external
        returns (uint256 amountOut);

    /// @notice Pay out first, call back `to` with `data` (when non-empty), then check the product.
    /// @return amount0In Token0 paid in, net of the output.
    /// @return amount1In Token1 paid in, net of the output.
    function flashSwap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data)
        external
        returns (uint256 amount0In, uint256 amount1In);

    /// @notice Set the reserves to the balances (absorbs donations).
    function sync() external;

    /// @notice Send the balances above the reserves to `to`.
    function skim(address to) external;

    /// @notice The output of swapping `amountIn` of `tokenIn` at the current reserves.
    function getAmountOut(address tokenIn, uint256 amountIn) external view returns (uint256 amountOut);

    /// @notice The reserves of token0 and token1.
    function getReserves() external view returns (uint256 reserve0, uint256 reserve1);

    /// @notice The token with the lower address.
    function token0() external view returns (address);

    /// @notice The token with the higher address.
    function token1() external view returns (address);

    /// @notice The swap fee in basis points.
    function fee() external view returns (uint256);
}
