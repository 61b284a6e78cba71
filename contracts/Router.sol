// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IRouter} from "./interfaces/IRouter.sol";

/// @title Router
/// @notice Executes an order split across multi-hop routes through any venue, atomically and
///         with a minimum total output: the order's routes are computed off-chain and sent as
///         calldata, one call per hop.
/// @dev Venue-agnostic: each hop is a call to a venue contract (`target`) with calldata the
///      caller encoded for that venue, the router as recipient and no per-hop minimum. The
///      router writes the hop's actual input (the route's input for the first hop, the previous
///      hop's output after) into the 32 bytes at `amountOffset`, approves exactly that to
///      `spender`, makes the call, and takes the hop's output as the rise of its own balance of
///      `tokenOut`. Only the total is checked against `minAmountOut`: the order is one
///      commitment, all routes or none.
///
///      Targets are fixed at deployment. An open target list would let anyone make the router
///      call `token.transferFrom(user, attacker, ...)` with the approvals users gave it.
///      The router holds no tokens between calls: it pulls the order's input, spends all of it
///      in exact-input hops, and pays out everything it bought.
///      Checks-effects-interactions: the router keeps no state an order changes (only the
///      immutable target set), so there is nothing to write before the calls; `nonReentrant`
///      keeps a hop's callee from re-entering with the router's balances mid-order.
contract Router is IRouter, ReentrancyGuard {
    using SafeERC20 for IERC20;

    mapping(address target => bool registered) private _targets;

    /// @notice Registers the venue contracts hops may call (pools, venue routers).
    /// @param targets The venue contracts; never a token.
    constructor(address[] memory targets) {
        for (uint256 i = 0; i < targets.length; ++i) {
            _targets[targets[i]] = true;
        }
    }

    /// @inheritdoc IRouter
    function swap(
        address tokenIn,
        address tokenOut,
        Route[] calldata routes,
        uint256 minAmountOut,
        address to,
        uint256 deadline
    ) external nonReentrant returns (uint256 amountOut) {
        if (block.timestamp > deadline) revert RouterExpired(deadline, block.timestamp);
        uint256 amountIn = 0;
        for (uint256 r = 0; r < routes.length; ++r) {
            amountIn += routes[r].amountIn;
        }
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        for (uint256 r = 0; r < routes.length; ++r) {
            amountOut += _route(r, tokenIn, tokenOut, routes[r]);
        }
        if (amountOut < minAmountOut) revert RouterSlippage(amountOut, minAmountOut);
        emit Routed(msg.sender, tokenIn, tokenOut, amountIn, amountOut, to, routes.length);
        IERC20(tokenOut).safeTransfer(to, amountOut);
    }

    /// @inheritdoc IRouter
    function isTarget(address target) external view returns (bool registered) {
        return _targets[target];
    }

    /// @dev Runs route `r` and returns its output of `tokenOut`.
    function _route(uint256 r, address tokenIn, address tokenOut, Route calldata route)
        private
        returns (uint256 amount)
    {
        uint256 n = route.hops.length;
        if (n == 0 || route.amountIn == 0 || route.hops[n - 1].tokenOut != tokenOut) {
            revert RouterInvalidRoute(r);
        }
        amount = route.amountIn;
        address token = tokenIn;
        for (uint256 h = 0; h < n; ++h) {
            Hop calldata hop = route.hops[h];
            amount = _hop(r, h, token, amount, hop);
            token = hop.tokenOut;
        }
    }

    /// @dev Sells `amount` of `token` through `hop`; returns what it paid in `hop.tokenOut`.
    function _hop(uint256 r, uint256 h, address token, uint256 amount, Hop calldata hop)
        private
        returns (uint256)
    {
        if (!_targets[hop.target]) revert RouterUnknownTarget(hop.target);
        uint256 offset = hop.amountOffset;
        if (offset < 4 || offset + 32 > hop.data.length) revert RouterInvalidHop(r, h);
        bytes memory data = bytes.concat(hop.data[:offset], bytes32(amount), hop.data[offset + 32:]);
        uint256 before = IERC20(hop.tokenOut).balanceOf(address(this));
        IERC20(token).forceApprove(hop.spender, amount);
        // A registered venue contract, with calldata whose only free part is the amount above.
        (bool success, bytes memory reason) = hop.target.call(data);
        if (!success) revert RouterHopFailed(r, h, reason);
        // An exact-input venue pulls exactly `amount`; clearing the allowance keeps a venue
        // that pulled less from spending the rest later.
        IERC20(token).forceApprove(hop.spender, 0);
        return IERC20(hop.tokenOut).balanceOf(address(this)) - before;
    }
}
