// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";
import {IIntentBook} from "./interfaces/IIntentBook.sol";
import {IPoolFactory} from "./interfaces/IPoolFactory.sol";

/// @title IntentConditions
/// @notice The pure parts of `IntentBook`: EIP-712 struct hashing, condition checks and the
///         small array look-ups a batch needs.
/// @dev Batches are small (tens of intents), so look-ups are linear scans rather than maps.
library IntentConditions {
    /// @notice EIP-712 typehash of `Condition`.
    bytes32 internal constant CONDITION_TYPEHASH = keccak256(
        "Condition(uint8 kind,address maker,uint256 nonce,uint256 poolFee,uint256 minPrice,uint256 maxPrice)"
    );
    /// @notice EIP-712 typehash of `Intent` (the referenced `Condition` type appended, per EIP-712).
    bytes32 internal constant INTENT_TYPEHASH = keccak256(
        "Intent(address maker,address sellToken,address buyToken,uint256 sellAmount,uint256 minBuyAmount,"
        "uint256 deadline,uint256 nonce,Condition condition)"
        "Condition(uint8 kind,address maker,uint256 nonce,uint256 poolFee,uint256 minPrice,uint256 maxPrice)"
    );
    /// @notice Fixed-point scale of `PriceWithin` bounds.
    uint256 internal constant PRICE_SCALE = 1e18;

    /// @notice The EIP-712 struct hash of `intent`.
    function structHash(IIntentBook.Intent calldata intent) internal pure returns (bytes32) {
        IIntentBook.Condition calldata c = intent.condition;
        bytes32 conditionHash =
            keccak256(abi.encode(CONDITION_TYPEHASH, c.kind, c.maker, c.nonce, c.poolFee, c.minPrice, c.maxPrice));
        return keccak256(
            abi.encode(
                INTENT_TYPEHASH,
                intent.maker,
                intent.sellToken,
                intent.buyToken,
                intent.sellAmount,
                intent.minBuyAmount,
                intent.deadline,
                intent.nonce,
                conditionHash
            )
        );
    }

    /// @notice Whether the condition of `batch[i]` holds when exactly the `executed` intents execute.
    function holds(IPoolFactory factory, IIntentBook.Intent[] calldata batch, bool[] memory executed, uint256 i)
        internal
        view
        returns (bool)
    {
        IIntentBook.Condition calldata c = batch[i].condition;
        if (c.kind == IIntentBook.ConditionKind.None) return true;
        if (c.kind == IIntentBook.ConditionKind.PriceWithin) return priceWithin(factory, batch[i]);
        bool counter = c.kind == IIntentBook.ConditionKind.CounterIntent;
        for (uint256 j = 0; j < batch.length; ++j) {
            if (j == i || !executed[j]) continue;
            if (counter ? crosses(batch[i], batch[j]) : (batch[j].maker == c.maker && batch[j].nonce == c.nonce)) {
                return true;
            }
        }
        return false;
    }

    /// @notice Whether `other` sells `intent`'s buy token for its sell token at a rate `intent`
    ///         accepts: other.sell / other.minBuy >= intent.minBuy / intent.sell.
    /// @dev Compared as 512-bit products so no amounts can overflow the check.
    function crosses(IIntentBook.Intent calldata intent, IIntentBook.Intent calldata other)
        internal
        pure
        returns (bool)
    {
        if (other.sellToken != intent.buyToken || other.buyToken != intent.sellToken) return false;
        (uint256 offerHigh, uint256 offerLow) = Math.mul512(other.sellAmount, intent.sellAmount);
        (uint256 askHigh, uint256 askLow) = Math.mul512(intent.minBuyAmount, other.minBuyAmount);
        return offerHigh > askHigh || (offerHigh == askHigh && offerLow >= askLow);
    }

    /// @notice Whether the factory pool named by `intent.condition` prices the sell token within
    ///         the bounds, in buy-token units per sell token scaled by `PRICE_SCALE`.
    /// @dev No such pool, or an empty one, means the condition does not hold.
    function priceWithin(IPoolFactory factory, IIntentBook.Intent calldata intent) internal view returns (bool) {
        IIntentBook.Condition calldata c = intent.condition;
        address pool = factory.getPool(intent.sellToken, intent.buyToken, c.poolFee);
        if (pool == address(0)) return false;
        (uint256 reserve0, uint256 reserve1) = IConstantProductPool(pool).getReserves();
        bool sellIs0 = IConstantProductPool(pool).token0() == intent.sellToken;
        (uint256 reserveSell, uint256 reserveBuy) = sellIs0 ? (reserve0, reserve1) : (reserve1, reserve0);
        if (reserveSell == 0) return false;
        uint256 price = Math.mulDiv(reserveBuy, PRICE_SCALE, reserveSell);
        return c.minPrice <= price && price <= c.maxPrice;
    }

    /// @notice Every token the batch sells, buys or swaps, each once.
    function tokensOf(IIntentBook.Intent[] calldata batch, IIntentBook.Swap[] calldata swaps)
        internal
        pure
        returns (address[] memory tokens)
    {
        address[] memory all = new address[](2 * (batch.length + swaps.length));
        uint256 count = 0;
        for (uint256 i = 0; i < batch.length; ++i) {
            count = _addUnique(all, count, batch[i].sellToken);
            count = _addUnique(all, count, batch[i].buyToken);
        }
        for (uint256 s = 0; s < swaps.length; ++s) {
            count = _addUnique(all, count, swaps[s].tokenIn);
            count = _addUnique(all, count, swaps[s].tokenOut);
        }
        tokens = new address[](count);
        for (uint256 t = 0; t < count; ++t) {
            tokens[t] = all[t];
        }
    }

    /// @notice The position of `token` in `tokens` (it must be there).
    function indexOf(address[] memory tokens, address token) internal pure returns (uint256) {
        for (uint256 t = 0; t < tokens.length; ++t) {
            if (tokens[t] == token) return t;
        }
        // Callers only ask for tokens collected by `tokensOf` from the same batch.
        revert IIntentBook.IntentBookUnknownToken(token);
    }

    /// @notice The positive uniform price the plan gives `token`.
    function priceOf(address[] calldata tokens, uint256[] calldata prices, address token)
        internal
        pure
        returns (uint256)
    {
        for (uint256 t = 0; t < tokens.length; ++t) {
            if (tokens[t] == token && prices[t] > 0) return prices[t];
        }
        revert IIntentBook.IntentBookMissingPrice(token);
    }

    function _addUnique(address[] memory list, uint256 count, address token) private pure returns (uint256) {
        for (uint256 t = 0; t < count; ++t) {
            if (list[t] == token) return count;
        }
        list[count] = token;
        return count + 1;
    }
}
