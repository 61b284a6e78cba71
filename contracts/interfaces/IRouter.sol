// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRouter
/// @notice Types, errors and events of `Router`: an order split across multi-hop routes, each
///         hop a call to a registered venue contract whose calldata the router completes with
///         the hop's input amount.
interface IRouter {
    /// @notice One swap of a route.
    /// @param target The venue contract called (a pool, or a venue's router); must be registered.
    /// @param spender Whom the router approves for the hop's input (the pool, or the venue router).
    /// @param tokenOut The token the hop pays the router.
    /// @param amountOffset Byte offset in `data` of the 32-byte input amount the router writes.
    /// @param data The call, with the router as recipient and no minimum of its own.
    struct Hop {
        address target;
        address spender;
        address tokenOut;
        uint256 amountOffset;
        bytes data;
    }

    /// @notice A route: `amountIn` of the order's input token through `hops` in order.
    struct Route {
        uint256 amountIn;
        Hop[] hops;
    }

    /// @notice The order's routes paid `amountOut`, below the caller's `minAmountOut`.
    error RouterSlippage(uint256 amountOut, uint256 minAmountOut);
    /// @notice The block's timestamp `timestamp` is past the order's `deadline`.
    error RouterExpired(uint256 deadline, uint256 timestamp);
    /// @notice A hop calls `target`, which was not registered at deployment.
    error RouterUnknownTarget(address target);
    /// @notice Route `route` is empty, sells nothing, or does not end in the order's output token.
    error RouterInvalidRoute(uint256 route);
    /// @notice Hop `hop` of route `route` has no room for the amount at its offset.
    error RouterInvalidHop(uint256 route, uint256 hop);
    /// @notice Hop `hop` of route `route` reverted; `reason` is its revert data.
    error RouterHopFailed(uint256 route, uint256 hop, bytes reason);

    /// @notice `sender` sold `amountIn` of `tokenIn` for `amountOut` of `tokenOut`, paid to `to`,
    ///         across `routes` routes.
    event Routed(
        address indexed sender,
        address indexed tokenIn,
        address indexed tokenOut,
        uint256 amountIn,
        uint256 amountOut,
        address to,
        uint256 routes
    );

    /// @notice Sell `tokenIn` for at least `minAmountOut` of `tokenOut` across `routes`, atomically.
    /// @param tokenIn The token sold (pulled from the caller: the sum of the routes' inputs).
    /// @param tokenOut The token bought.
    /// @param routes The routes; each starts in `tokenIn` and ends in `tokenOut`.
    /// @param minAmountOut Least total output accepted.
    /// @param to Receiver of the output.
    /// @param deadline Last timestamp at which the order may execute.
    /// @return amountOut The total output paid to `to`.
    function swap(
        address tokenIn,
        address tokenOut,
        Route[] calldata routes,
        uint256 minAmountOut,
        address to,
        uint256 deadline
    ) external returns (uint256 amountOut);

    /// @notice Whether hops may call `target`.
    /// @param target A contract address.
    /// @return registered True when registered at deployment.
    function isTarget(address target) external view returns (bool registered);
}
