// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IRouter} from "./interfaces/IRouter.sol";
import {ISurplusShare} from "./interfaces/ISurplusShare.sol";

/// @title SurplusShare
/// @notice Surplus-sharing conditional commitments over the router: "I commit to change route
///         if the other agents commit to transferring me a fraction of the surplus they will
///         get as a result of my action." A maker signs its order on the alternative route
///         with a condition naming its payers; each payer signs its own order with a reference
///         quote and a share for the maker. A solver settles them in one call: every order runs
///         through the router, each payer pays the maker its share of its measured surplus out
///         of its own output, and if any named payer is missing or offers less than the
///         maker's terms, nothing settles.
/// @dev Measured surplus of an order: its output, measured on chain as the rise of this
///      contract's balance of `tokenOut` across the router call, above the `referenceOut` its
///      trader signed; zero when below. The reference is the payer's quote of its own order
///      on the state where the maker keeps its congesting route (the counterfactual "without
///      the maker's action", computed off-chain by the solver) and the maker accepts it by
///      signing `maxReferences`: a payer cannot shrink its surplus by inflating the reference
///      past what the maker accepted. Both sides are signed and the output is the chain's own
///      balance arithmetic, so the payment is verifiable from the settlement's events alone.
///
///      The condition is checked before any token moves (it is a property of the signed
///      batch), the share is then paid by construction inside the same call: the commitment
///      settles only together with its payments, all or none. Checks-effects-interactions:
///      signatures, deadlines, routes and conditions are checked and nonces spent before the
///      first transfer; `nonReentrant` guards the calls into the router and tokens. The
///      contract holds no tokens between calls.
contract SurplusShare is ISurplusShare, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;
    /// @notice EIP-712 typehash of `Order`.
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address trader,address tokenIn,address tokenOut,uint256 amountIn,uint256 minAmountOut,"
        "bytes32 routesHash,uint256 deadline,uint256 nonce,address payee,uint256 shareBps,uint256 referenceOut,"
        "address[] payers,uint256[] maxReferences,uint256 minShareBps)"
    );

    /// @notice The router every order runs through.
    IRouter public immutable router;

    mapping(address trader => mapping(uint256 nonce => bool used)) private _nonceUsed;

    /// @param router_ The router orders run through.
    constructor(IRouter router_) EIP712("agent-testbed SurplusShare", "1") {
        router = router_;
    }

    /// @inheritdoc ISurplusShare
    function settle(Order[] calldata orders, IRouter.Route[][] calldata routes, bytes[] calldata signatures)
        external
        nonReentrant
    {
        uint256 n = orders.length;
        if (routes.length != n || signatures.length != n) revert SurplusShareLengthMismatch();
        for (uint256 i = 0; i < n; ++i) {
            _validate(i, orders[i], routes[i], signatures[i]);
        }
        for (uint256 i = 0; i < n; ++i) {
            _checkCondition(orders, i);
        }
        for (uint256 i = 0; i < n; ++i) {
            _execute(i, orders[i], routes[i]);
        }
        emit SurplusBatchSettled(msg.sender, n);
    }

    /// @inheritdoc ISurplusShare
    function hashOrder(Order calldata order) public view returns (bytes32 digest) {
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(
                    ORDER_TYPEHASH,
                    order.trader,
                    order.tokenIn,
                    order.tokenOut,
                    order.amountIn,
                    order.minAmountOut,
                    order.routesHash,
                    order.deadline
                ),
                abi.encode(
                    order.nonce,
                    order.payee,
                    order.shareBps,
                    order.referenceOut,
                    keccak256(abi.encodePacked(order.payers)),
                    keccak256(abi.encodePacked(order.maxReferences)),
                    order.minShareBps
                )
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc ISurplusShare
    function nonceUsed(address trader, uint256 nonce) external view returns (bool used) {
        return _nonceUsed[trader][nonce];
    }

    /// @dev Checks order `i`'s deadline, share, routes and signature, then spends its nonce.
    function _validate(uint256 i, Order calldata order, IRouter.Route[] calldata routes, bytes calldata signature)
        private
    {
        if (block.timestamp > order.deadline) revert SurplusShareExpired(i, order.deadline);
        if (order.shareBps > BPS || (order.payee == address(0) && order.shareBps != 0)) {
            revert SurplusShareInvalidShare(i, order.shareBps);
        }
        if (order.payers.length != order.maxReferences.length) revert SurplusShareLengthMismatch();
        if (keccak256(abi.encode(routes)) != order.routesHash) revert SurplusShareRoutesMismatch(i);
        uint256 total = 0;
        for (uint256 r = 0; r < routes.length; ++r) {
            total += routes[r].amountIn;
        }
        // The router pulls exactly the routes' total, so nothing of `amountIn` can stay here.
        if (total != order.amountIn) revert SurplusShareRoutesMismatch(i);
        if (ECDSA.recover(hashOrder(order), signature) != order.trader) revert SurplusShareBadSignature(i);
        if (_nonceUsed[order.trader][order.nonce]) revert SurplusShareNonceUsed(order.trader, order.nonce);
        _nonceUsed[order.trader][order.nonce] = true;
    }

    /// @dev Order `i`'s condition: every named payer has an order in the batch paying the
    ///      maker at least `minShareBps` of its surplus over a reference the maker accepted.
    function _checkCondition(Order[] calldata orders, uint256 i) private pure {
        Order calldata maker = orders[i];
        for (uint256 p = 0; p < maker.payers.length; ++p) {
            bool found = false;
            for (uint256 j = 0; j < orders.length && !found; ++j) {
                Order calldata o = orders[j];
                found = j != i && o.trader == maker.payers[p] && o.payee == maker.trader
                    && o.shareBps >= maker.minShareBps && o.referenceOut <= maker.maxReferences[p];
            }
            if (!found) revert SurplusShareUnpaid(maker.trader, maker.payers[p]);
        }
    }

    /// @dev Runs order `i` through the router and pays out its output: the payee's share of
    ///      the surplus first, the rest to the trader.
    function _execute(uint256 i, Order calldata order, IRouter.Route[] calldata routes) private {
        IERC20 tokenOut = IERC20(order.tokenOut);
        IERC20(order.tokenIn).safeTransferFrom(order.trader, address(this), order.amountIn);
        IERC20(order.tokenIn).forceApprove(address(router), order.amountIn);
        uint256 before = tokenOut.balanceOf(address(this));
        // The minimum is checked below on what the trader keeps, after its share.
        router.swap(order.tokenIn, order.tokenOut, routes, 0, address(this), order.deadline);
        uint256 amountOut = tokenOut.balanceOf(address(this)) - before;
        uint256 surplus = amountOut > order.referenceOut ? amountOut - order.referenceOut : 0;
        uint256 paid = Math.mulDiv(surplus, order.shareBps, BPS);
        uint256 kept = amountOut - paid;
        if (kept < order.minAmountOut) revert SurplusShareSlippage(i, kept, order.minAmountOut);
        emit SurplusShared(
            order.trader, order.payee, order.tokenOut, order.nonce, order.amountIn, amountOut, surplus, paid
        );
        if (paid > 0) tokenOut.safeTransfer(order.payee, paid);
        tokenOut.safeTransfer(order.trader, kept);
    }
}
