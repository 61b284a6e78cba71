// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRouter} from "./IRouter.sol";

/// @title ISurplusShare
/// @notice Types, errors and events of `SurplusShare`: router orders settled together in one
///         atomic batch, where a maker's order (its change of route) settles only if named
///         counterparties pay it a stated share of the surplus they measurably gain.
interface ISurplusShare {
    /// @notice A signed router order with surplus-sharing terms.
    /// @param trader The signer; sells `amountIn` of `tokenIn` and keeps what is left of the output.
    /// @param tokenIn The token sold.
    /// @param tokenOut The token bought.
    /// @param amountIn Exact input, the sum of the routes' inputs.
    /// @param minAmountOut Least output the trader keeps after paying its share.
    /// @param routesHash `keccak256(abi.encode(routes))` of the routes the trader accepts.
    /// @param deadline Last timestamp at which the order may settle.
    /// @param nonce Single-use per trader.
    /// @param payee Whom the trader pays a share of its surplus (the zero address: nobody).
    /// @param shareBps The share of the surplus paid to `payee`, in basis points.
    /// @param referenceOut The trader's committed reference quote: its surplus is its measured
    ///        output above this.
    /// @param payers The maker's condition: each of these traders must pay it in the batch.
    /// @param maxReferences The highest reference each payer may have committed (same order).
    /// @param minShareBps The least share each payer must pay.
    struct Order {
        address trader;
        address tokenIn;
        address tokenOut;
        uint256 amountIn;
        uint256 minAmountOut;
        bytes32 routesHash;
        uint256 deadline;
        uint256 nonce;
        address payee;
        uint256 shareBps;
        uint256 referenceOut;
        address[] payers;
        uint256[] maxReferences;
        uint256 minShareBps;
    }

    /// @notice `orders`, `routes` and `signatures` differ in length, or a maker's `payers` and
    ///         `maxReferences` do.
    error SurplusShareLengthMismatch();
    /// @notice Order `index` is past its `deadline`.
    error SurplusShareExpired(uint256 index, uint256 deadline);
    /// @notice Order `index` is not signed by its trader.
    error SurplusShareBadSignature(uint256 index);
    /// @notice `trader` already used `nonce`.
    error SurplusShareNonceUsed(address trader, uint256 nonce);
    /// @notice The routes sent for order `index` are not the ones its trader signed.
    error SurplusShareRoutesMismatch(uint256 index);
    /// @notice Order `index` names a share above 10000 bps, or a share with no payee.
    error SurplusShareInvalidShare(uint256 index, uint256 shareBps);
    /// @notice `payer` is not in the batch paying `maker` at least its terms (share, reference).
    error SurplusShareUnpaid(address maker, address payer);
    /// @notice Order `index` would leave its trader `kept`, below its `minAmountOut`.
    error SurplusShareSlippage(uint256 index, uint256 kept, uint256 minAmountOut);

    /// @notice `trader`'s order `nonce` sold `amountIn` for `amountOut` of `tokenOut`; `surplus`
    ///         of that is above its reference, and `paid` of it went to `payee`.
    event SurplusShared(
        address indexed trader,
        address indexed payee,
        address tokenOut,
        uint256 nonce,
        uint256 amountIn,
        uint256 amountOut,
        uint256 surplus,
        uint256 paid
    );
    /// @notice `solver` settled a batch of `orders` orders.
    event SurplusBatchSettled(address indexed solver, uint256 orders);

    /// @notice Settle `orders` atomically, each through the router on its `routes`.
    /// @param orders The signed orders, executed in this order.
    /// @param routes Each order's routes, hashing to its `routesHash`.
    /// @param signatures Each order's EIP-712 signature by its trader.
    function settle(Order[] calldata orders, IRouter.Route[][] calldata routes, bytes[] calldata signatures)
        external;

    /// @notice The EIP-712 digest `order`'s trader signs.
    /// @param order The order.
    /// @return digest The typed-data digest under this contract's domain.
    function hashOrder(Order calldata order) external view returns (bytes32 digest);

    /// @notice Whether `trader` has used `nonce`.
    /// @param trader The trader.
    /// @param nonce The nonce.
    /// @return used True once an order with it settled.
    function nonceUsed(address trader, uint256 nonce) external view returns (bool used);
}
