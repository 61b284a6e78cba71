// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IConstantProductPool} from "./interfaces/IConstantProductPool.sol";
import {IIntentBook} from "./interfaces/IIntentBook.sol";
import {IPoolFactory} from "./interfaces/IPoolFactory.sol";
import {IntentConditions} from "./IntentConditions.sol";

/// @title IntentBook
/// @notice Conditional commitments: makers sign swap intents off-chain, solvers settle them in
///         atomic batches that match intents against each other and route the rest through the
///         factory's AMM pools. Deploy once per variant: pricing (pay-as-filled, fair
///         pay-as-filled or uniform price), what an unmet condition, a used nonce or a failed
///         transfer does (revert the batch or skip the intent), and the solver's share of the
///         surplus over the makers' limits.
/// @dev The book holds no tokens between calls. Within `settle`, what the batch owes is judged
///      by balance differences from the start of the call, so tokens sent to the book directly
///      are never paid out and fee-on-transfer tokens can only make a batch revert. Makers'
///      proceeds always go to the maker; only the solver's reward goes to `msg.sender`, so a
///      copied `settle` call can redirect nothing but that reward.
contract IntentBook is IIntentBook, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;

    /// @notice The factory whose pools plans may route through and conditions may read.
    IPoolFactory public immutable factory;
    /// @notice How executed intents are priced.
    Pricing public immutable pricing;
    /// @notice What an unmet condition, a used nonce or a failed transfer does to the batch.
    OnUnmetCondition public immutable onUnmetCondition;
    /// @notice The solver's share, in basis points, of each maker's surplus over its limit.
    uint256 public immutable solverShareBps;

    mapping(address maker => mapping(uint256 nonce => bool used)) private _nonceUsed;

    /// @param factory_ The pool factory plans route through.
    /// @param pricing_ PayAsFilled (steerable by the solver), UniformPrice or FairPayAsFilled.
    /// @param onUnmetCondition_ Revert or Skip (also for used nonces and failed transfers).
    /// @param solverShareBps_ The solver's share of surplus, at most 10000.
    constructor(IPoolFactory factory_, Pricing pricing_, OnUnmetCondition onUnmetCondition_, uint256 solverShareBps_)
        EIP712("agent-testbed IntentBook", "1")
    {
        if (solverShareBps_ > BPS) revert IntentBookInvalidShare(solverShareBps_);
        factory = factory_;
        pricing = pricing_;
        onUnmetCondition = onUnmetCondition_;
        solverShareBps = solverShareBps_;
    }

    /// @inheritdoc IIntentBook
    /// @dev Order of work: validate every intent (signature, deadline; a used nonce reverts, or
    ///      in the Skip variant leaves the intent out), then resolve conditions and pull the sell
    ///      amounts together (in the Skip variant repeatedly: an intent whose transfer fails is
    ///      left out, which can break another's condition, whose tokens are then sent back), mark
    ///      nonces used, run the swaps, pay out.
    ///      Emits {IntentFilled} per executed intent, {IntentSkipped} per skipped one and
    ///      {BatchSettled}.
    function settle(Intent[] calldata intents, bytes[] calldata signatures, Plan calldata plan)
        external
        nonReentrant
        returns (uint256 filled)
    {
        uint256 n = intents.length;
        _checkLengths(n, signatures.length, plan);
        bytes32[] memory ids = new bytes32[](n);
        bool[] memory executed = new bool[](n);
        for (uint256 i = 0; i < n; ++i) {
            (ids[i], executed[i]) = _validate(intents, signatures[i], i);
        }
        address[] memory tokens = IntentConditions.tokensOf(intents, plan.swaps);
        uint256[] memory before = _balances(tokens);
        _pullSellAmounts(intents, executed);
        for (uint256 i = 0; i < n; ++i) {
            Intent calldata intent = intents[i];
            if (!executed[i]) {
                emit IntentSkipped(ids[i], intent.maker, intent.nonce);
                continue;
            }
            // A nonce listed twice in one batch passes `_validate` both times in the Revert
            // variant; this catches it (the Skip variant left repeats out in `_validate`).
            // Marked after the pulls: `nonReentrant` keeps a token from re-entering `settle`;
            // a maker's hook cancelling the nonce during its own pull cannot revert a Skip
            // batch, the intent having executed.
            if (_nonceUsed[intent.maker][intent.nonce] && onUnmetCondition == OnUnmetCondition.Revert) {
                revert IntentBookNonceUsed(intent.maker, intent.nonce);
            }
            _nonceUsed[intent.maker][intent.nonce] = true;
            ++filled;
        }
        for (uint256 s = 0; s < plan.swaps.length; ++s) {
            _swap(plan.swaps[s], tokens, before);
        }
        uint256[] memory amounts = _baseAmounts(intents, executed, plan);
        for (uint256 t = 0; t < tokens.length; ++t) {
            _payOut(intents, executed, ids, amounts, tokens[t], _held(tokens[t], before[t]));
        }
        emit BatchSettled(msg.sender, filled, n - filled);
    }

    /// @inheritdoc IIntentBook
    /// @dev Emits {IntentCancelled}.
    function cancel(uint256 nonce) external {
        if (_nonceUsed[msg.sender][nonce]) revert IntentBookNonceUsed(msg.sender, nonce);
        _nonceUsed[msg.sender][nonce] = true;
        emit IntentCancelled(msg.sender, nonce);
    }

    /// @inheritdoc IIntentBook
    function nonceUsed(address maker, uint256 nonce) external view returns (bool) {
        return _nonceUsed[maker][nonce];
    }

    /// @inheritdoc IIntentBook
    function hashIntent(Intent calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(IntentConditions.structHash(intent));
    }

    /// @inheritdoc IIntentBook
    function conditionHolds(Intent[] calldata batch, bool[] calldata executed, uint256 index)
        external
        view
        returns (bool)
    {
        if (executed.length != batch.length) revert IntentBookLengthMismatch(batch.length, executed.length);
        return IntentConditions.holds(factory, batch, executed, index);
    }

    /// @dev Reverts on the plan's array lengths unless they fit the batch and the pricing.
    function _checkLengths(uint256 n, uint256 signatures, Plan calldata plan) private view {
        if (signatures != n) revert IntentBookLengthMismatch(n, signatures);
        if (pricing != Pricing.UniformPrice && plan.buyAmounts.length != n) {
            revert IntentBookLengthMismatch(n, plan.buyAmounts.length);
        }
        if (pricing == Pricing.UniformPrice && plan.prices.length != plan.tokens.length) {
            revert IntentBookLengthMismatch(plan.tokens.length, plan.prices.length);
        }
    }

    /// @dev Reverts unless intent `i` is well formed, unexpired and signed by its maker. Its
    ///      nonce being used (filled, cancelled, or taken by an earlier intent of the batch)
    ///      reverts in the Revert variant and leaves it out (`live` false) in the Skip variant,
    ///      so nobody can revert a batch by settling or cancelling one of its intents first.
    function _validate(Intent[] calldata intents, bytes calldata signature, uint256 i)
        private
        view
        returns (bytes32 id, bool live)
    {
        Intent calldata intent = intents[i];
        if (intent.sellToken == intent.buyToken || intent.sellAmount == 0) revert IntentBookInvalidIntent(i);
        if (block.timestamp > intent.deadline) revert IntentBookExpired(i, intent.deadline, block.timestamp);
        id = hashIntent(intent);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(id, signature);
        if (err != ECDSA.RecoverError.NoError || signer != intent.maker) revert IntentBookBadSignature(i, signer);
        live = !_nonceUsed[intent.maker][intent.nonce];
        if (onUnmetCondition == OnUnmetCondition.Revert) {
            if (!live) revert IntentBookNonceUsed(intent.maker, intent.nonce);
            return (id, true);
        }
        for (uint256 j = 0; j < i && live; ++j) {
            live = intents[j].maker != intent.maker || intents[j].nonce != intent.nonce;
        }
    }

    /// @dev Pull every executed intent's sell amount. Revert variant: conditions are resolved
    ///      once and any failing transfer reverts. Skip variant: a failing transfer (revoked
    ///      approval, spent balance) leaves its intent out; conditions are resolved again, and
    ///      so on to a fixed point (each round drops an intent or ends); the tokens of intents
    ///      dropped after their pull are sent back to their makers.
    function _pullSellAmounts(Intent[] calldata intents, bool[] memory executed) private {
        uint256 n = intents.length;
        bool skip = onUnmetCondition == OnUnmetCondition.Skip;
        bool[] memory pulled = new bool[](n);
        bool changed = true;
        while (changed) {
            changed = false;
            _resolveConditions(intents, executed);
            for (uint256 i = 0; i < n; ++i) {
                if (!executed[i] || pulled[i]) continue;
                IERC20 token = IERC20(intents[i].sellToken);
                if (!skip) {
                    token.safeTransferFrom(intents[i].maker, address(this), intents[i].sellAmount);
                } else if (!token.trySafeTransferFrom(intents[i].maker, address(this), intents[i].sellAmount)) {
                    executed[i] = false;
                    changed = true;
                    continue;
                }
                pulled[i] = true;
            }
        }
        for (uint256 i = 0; i < n; ++i) {
            if (pulled[i] && !executed[i]) {
                IERC20(intents[i].sellToken).safeTransfer(intents[i].maker, intents[i].sellAmount);
            }
        }
    }

    /// @dev Drop from `executed` the intents whose condition does not hold. Revert variant:
    ///      revert at the first unmet condition instead. Skip variant: drop unmet ones until what
    ///      is left is consistent (a fixed point; each pass drops at least one intent or ends).
    function _resolveConditions(Intent[] calldata intents, bool[] memory executed) private view {
        uint256 n = intents.length;
        bool changed = true;
        while (changed) {
            changed = false;
            for (uint256 i = 0; i < n; ++i) {
                if (!executed[i] || IntentConditions.holds(factory, intents, executed, i)) continue;
                if (onUnmetCondition == OnUnmetCondition.Revert) revert IntentBookConditionFailed(i);
                executed[i] = false;
                changed = true;
            }
        }
    }

    /// @dev The book's balance of each token.
    function _balances(address[] memory tokens) private view returns (uint256[] memory balances) {
        balances = new uint256[](tokens.length);
        for (uint256 t = 0; t < tokens.length; ++t) {
            balances[t] = IERC20(tokens[t]).balanceOf(address(this));
        }
    }

    /// @dev One plan swap through the factory's pool; `type(uint256).max` means all the batch holds.
    function _swap(Swap calldata step, address[] memory tokens, uint256[] memory before) private {
        address pool = factory.getPool(step.tokenIn, step.tokenOut, step.fee);
        if (pool == address(0)) revert IntentBookUnknownPool(step.tokenIn, step.tokenOut, step.fee);
        uint256 amountIn = step.amountIn;
        if (amountIn == type(uint256).max) {
            amountIn = _held(step.tokenIn, before[IntentConditions.indexOf(tokens, step.tokenIn)]);
            // Nothing to route: the intents feeding this hop were skipped (Skip variant).
            // `< 1` is `== 0`, written so because the amount comes from balanceOf, which
            // Slither's incorrect-equality flags in any strict equality.
            if (amountIn < 1) return;
        }
        IERC20(step.tokenIn).forceApprove(pool, amountIn);
        // The pool is the factory's own contract and pulls exactly `amountIn`.
        IConstantProductPool(pool).swapExactIn(step.tokenIn, amountIn, step.minAmountOut, address(this), block.timestamp);
    }

    /// @dev What each executed intent is owed before the pro-rata share of any excess.
    function _baseAmounts(Intent[] calldata intents, bool[] memory executed, Plan calldata plan)
        private
        view
        returns (uint256[] memory amounts)
    {
        amounts = new uint256[](intents.length);
        for (uint256 i = 0; i < intents.length; ++i) {
            if (!executed[i]) continue;
            if (pricing == Pricing.PayAsFilled) {
                amounts[i] = plan.buyAmounts[i];
            } else if (pricing == Pricing.FairPayAsFilled) {
                amounts[i] = _fairShare(intents, executed, plan.buyAmounts, i);
            } else {
                uint256 sellPrice = IntentConditions.priceOf(plan.tokens, plan.prices, intents[i].sellToken);
                uint256 buyPrice = IntentConditions.priceOf(plan.tokens, plan.prices, intents[i].buyToken);
                amounts[i] = Math.mulDiv(intents[i].sellAmount, sellPrice, buyPrice);
            }
        }
    }

    /// @dev Intent `i`'s part of what the plan names for its group (the executed intents
    ///      selling its sell token for its buy token), pro rata to its sell amount: every maker
    ///      of a group gets the same rate however the plan splits the group's total.
    function _fairShare(Intent[] calldata intents, bool[] memory executed, uint256[] calldata buyAmounts, uint256 i)
        private
        pure
        returns (uint256)
    {
        uint256 groupBuy = 0;
        uint256 groupSell = 0;
        for (uint256 j = 0; j < intents.length; ++j) {
            if (!executed[j] || intents[j].sellToken != intents[i].sellToken) continue;
            if (intents[j].buyToken != intents[i].buyToken) continue;
            groupBuy += buyAmounts[j];
            groupSell += intents[j].sellAmount;
        }
        return Math.mulDiv(groupBuy, intents[i].sellAmount, groupSell);
    }

    /// @dev Pay every executed buyer of `token` from the `available` amount the batch holds: its
    ///      base amount plus its pro-rata part of the excess (when all bases are zero, an equal
    ///      part, or under fair pricing a part pro rata to sell amount), less the solver's reward. Rounding dust goes to the solver.
    function _payOut(
        Intent[] calldata intents,
        bool[] memory executed,
        bytes32[] memory ids,
        uint256[] memory amounts,
        address token,
        uint256 available
    ) private {
        (uint256 required, uint256 buyers, uint256 sold) = _owed(intents, executed, amounts, token);
        if (available < required) revert IntentBookInsufficientOutput(token, available, required);
        // What nobody buys was sold by makers and not routed: handing it to the solver would
        // let it keep their surplus, so such a plan is refused.
        if (buyers == 0 && available > 0) revert IntentBookUnspentToken(token, available);
        uint256 excess = available - required;
        uint256 paid = 0;
        for (uint256 i = 0; i < intents.length; ++i) {
            if (!executed[i] || intents[i].buyToken != token) continue;
            uint256 amount = _withShare(amounts[i], intents[i].sellAmount, excess, required, buyers, sold);
            if (amount < intents[i].minBuyAmount) revert IntentBookLimitViolated(i, amount, intents[i].minBuyAmount);
            _pay(intents[i], ids[i], amount);
            paid += amount;
        }
        if (available > paid) IERC20(token).safeTransfer(msg.sender, available - paid);
    }

    /// @dev A buyer's base amount plus its part of the excess: pro rata to base amounts, or
    ///      when all are zero an equal part (fair pricing: pro rata to sell amount, so that a
    ///      tiny intent cannot take as much as a large one).
    function _withShare(uint256 base, uint256 sell, uint256 excess, uint256 required, uint256 buyers, uint256 sold)
        private
        view
        returns (uint256)
    {
        if (required != 0) return base + Math.mulDiv(excess, base, required);
        if (pricing == Pricing.FairPayAsFilled) return Math.mulDiv(excess, sell, sold);
        return excess / buyers;
    }

    /// @dev What the batch holds of `token` beyond the book's balance at the start of the call;
    ///      spending into that starting balance (tokens donated to the book) is refused.
    function _held(address token, uint256 start) private view returns (uint256) {
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (balance < start) revert IntentBookInsufficientOutput(token, 0, start - balance);
        return balance - start;
    }

    /// @dev The total base amount owed to executed buyers of `token`, how many there are, and
    ///      what they sell in all.
    function _owed(Intent[] calldata intents, bool[] memory executed, uint256[] memory amounts, address token)
        private
        pure
        returns (uint256 required, uint256 buyers, uint256 sold)
    {
        for (uint256 i = 0; i < intents.length; ++i) {
            if (executed[i] && intents[i].buyToken == token) {
                required += amounts[i];
                sold += intents[i].sellAmount;
                ++buyers;
            }
        }
    }

    /// @dev Send `amount` of the buy token: the solver's share of the surplus to the solver, the
    ///      rest to the maker. Emits {IntentFilled}.
    function _pay(Intent calldata intent, bytes32 id, uint256 amount) private {
        uint256 reward = (amount - intent.minBuyAmount) * solverShareBps / BPS;
        emit IntentFilled(
            id, intent.maker, msg.sender, intent.sellToken, intent.buyToken, intent.sellAmount, amount, reward
        );
        IERC20(intent.buyToken).safeTransfer(intent.maker, amount - reward);
        if (reward > 0) IERC20(intent.buyToken).safeTransfer(msg.sender, reward);
    }
}
