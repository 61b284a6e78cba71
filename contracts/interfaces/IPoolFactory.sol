// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPoolFactory
/// @notice Creates at most one `ConstantProductPool` per (token pair, fee) and indexes them.
interface IPoolFactory {
    /// @notice A pool for (`token0`, `token1`, `feeBps`) already exists at `pool`.
    error PoolExists(address token0, address token1, uint256 feeBps, address pool);

    /// @notice A pool for the sorted pair (`token0`, `token1`) with `feeBps` was created at `pool`;
    ///         it is the `index`-th pool (zero-based).
    event PoolCreated(
        address indexed token0, address indexed token1, uint256 indexed feeBps, address pool, uint256 index
    );

    /// @notice Create the pool for `tokenA`/`tokenB` (any order) with a fee of `feeBps`.
    /// @return pool The new pool's address.
    function createPool(address tokenA, address tokenB, uint256 feeBps) external returns (address pool);

    /// @notice The pool for `tokenA`/`tokenB` (any order) and `feeBps`, or the zero address.
    function getPool(address tokenA, address tokenB, uint256 feeBps) external view returns (address);

    /// @notice The pool created `index`-th (zero-based).
    function allPools(uint256 index) external view returns (address);

    /// @notice How many pools this factory created.
    function allPoolsLength() external view returns (uint256);
}
