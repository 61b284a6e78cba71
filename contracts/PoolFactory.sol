// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ConstantProductPool} from "./ConstantProductPool.sol";
import {IPoolFactory} from "./interfaces/IPoolFactory.sol";

/// @title PoolFactory
/// @notice Creates `ConstantProductPool`s, at most one per (sorted token pair, fee), so a
///         scenario can set up several pools (e.g. for multi-hop routing) and find them again.
/// @dev Pools are deployed with CREATE2, salted by `keccak256(token0, token1, feeBps)`, so their
///      addresses are predictable. The pool's constructor validates the tokens and the fee and
///      its custom errors (PoolIdenticalTokens, PoolInvalidToken, PoolInvalidFee) bubble up.
contract PoolFactory is IPoolFactory {
    mapping(address token0 => mapping(address token1 => mapping(uint256 feeBps => address))) private _pools;
    address[] private _allPools;

    /// @notice Create the pool for `tokenA`/`tokenB` (any order) with a fee of `feeBps`.
    /// @dev Requirements: no pool yet for the pair and fee; the pool constructor's checks.
    ///      Emits {PoolCreated}.
    /// @param tokenA One token.
    /// @param tokenB The other token.
    /// @param feeBps Swap fee in basis points (at most 1000).
    /// @return pool The new pool's address.
    function createPool(address tokenA, address tokenB, uint256 feeBps) external returns (address pool) {
        (address t0, address t1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        address existing = _pools[t0][t1][feeBps];
        if (existing != address(0)) revert PoolExists(t0, t1, feeBps, existing);
        bytes32 salt = keccak256(abi.encode(t0, t1, feeBps));
        pool = address(new ConstantProductPool{salt: salt}(t0, t1, feeBps));
        _pools[t0][t1][feeBps] = pool;
        _allPools.push(pool);
        emit PoolCreated(t0, t1, feeBps, pool, _allPools.length - 1);
    }

    /// @notice The pool for `tokenA`/`tokenB` (any order) and `feeBps`.
    /// @param tokenA One token.
    /// @param tokenB The other token.
    /// @param feeBps Swap fee in basis points.
    /// @return The pool, or the zero address if none was created.
    function getPool(address tokenA, address tokenB, uint256 feeBps) external view returns (address) {
        (address t0, address t1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        return _pools[t0][t1][feeBps];
    }

    /// @notice The pool created `index`-th (zero-based).
    /// @param index Position in creation order.
    /// @return The pool's address.
    function allPools(uint256 index) external view returns (address) {
        return _allPools[index];
    }

    /// @notice How many pools this factory created.
    /// @return The number of pools.
    function allPoolsLength() external view returns (uint256) {
        return _allPools.length;
    }
}
