// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIntentBook
/// @notice Signed, conditional swap intents settled atomically in batches by solvers.
/// @dev A maker signs an EIP-712 `Intent` off-chain: sell exactly `sellAmount` of `sellToken`
///      for at least `minBuyAmount` of `buyToken`, valid until `deadline`, identified by
///      (`maker`, `nonce`), optionally only under a `Condition`. A solver submits a batch with a
///      `Plan`: the book pulls every executed intent's sell amount, runs the plan's AMM swaps, and
///      pays each maker out of what the batch holds (coincidence of wants, rings, AMM routes).
///      Every executed intent gets at least its limit or the whole call reverts.
interface IIntentBook {
    /// @notice What a maker's condition requires, checked once per batch before any transfer.
    /// @dev `None`: unconditional. `CounterIntent`: another executed intent in the batch sells
    ///      this intent's buy token for its sell token at a rate that crosses this limit.
    ///      `IntentSettles`: the intent (`condition.maker`, `condition.nonce`) also executes in
    ///      the batch. `PriceWithin`: the factory pool for the pair with fee `condition.poolFee`
    ///      prices the sell token, in buy-token units scaled by 1e18, within
    ///      [`condition.minPrice`, `condition.maxPrice`] at the start of the batch.
    enum ConditionKind {
        None,
        CounterIntent,
        IntentSettles,
        PriceWithin
    }

    /// @notice How executed intents are priced.
    /// @dev `PayAsFilled` (vulnerable, kept for experiments): the plan names each intent's buy
    ///      amount, so a solver can pay an honest maker exactly its limit and its own maker of
    ///      the same pair the rest. `UniformPrice`: the plan names one price per token and every
    ///      intent buys `sellAmount · price[sell] / price[buy]`, so all makers of a pair trade
    ///      at the same rate. `FairPayAsFilled`: the plan's buy amounts are summed per group
    ///      (executed intents selling the same token for the same token) and each group's total
    ///      is split pro rata to sell amount, so all makers of a group trade at the same rate
    ///      (to rounding) whatever split the plan names.
    enum Pricing {
        PayAsFilled,
        UniformPrice,
        FairPayAsFilled
    }

    /// @notice What a batch does with an intent whose condition does not hold, whose nonce is
    ///         already used (or repeats an earlier one of the batch), or whose maker's transfer
    ///         of the sell amount fails (revoked approval, spent balance): revert the batch, or
    ///         leave the intent out and settle the rest.
    enum OnUnmetCondition {
        Revert,
        Skip
    }

    /// @notice The optional condition of an intent (fields unused by its kind are ignored).
    struct Condition {
        ConditionKind kind;
        address maker;
        uint256 nonce;
        uint256 poolFee;
        uint256 minPrice;
        uint256 maxPrice;
    }

    /// @notice What a maker signs.
    struct Intent {
        address maker;
        address sellToken;
        address buyToken;
        uint256 sellAmount;
        uint256 minBuyAmount;
        uint256 deadline;
        uint256 nonce;
        Condition condition;
    }

    /// @notice One AMM swap of a plan, from and to the book, through the factory's pool for
    ///         (`tokenIn`, `tokenOut`, `fee`). `amountIn == type(uint256).max` swaps all of
    ///         `tokenIn` the batch holds at that point (for multi-hop routes).
    struct Swap {
        address tokenIn;
        address tokenOut;
        uint256 fee;
        uint256 amountIn;
        uint256 minAmountOut;
    }

    /// @notice A solver's settlement plan.
    /// @dev `buyAmounts` (one per intent, PayAsFilled and FairPayAsFilled) or `tokens` with `prices` (UniformPrice);
    ///      the other is ignored. Whatever the batch holds of a token beyond what its buyers are
    ///      owed is shared among them pro rata (so the solver cannot keep it); rounding dust goes
    ///      to the solver. A plan that leaves a token nobody buys in the batch is refused.
    struct Plan {
        uint256[] buyAmounts;
        address[] tokens;
        uint256[] prices;
        Swap[] swaps;
    }

    /// @notice Array arguments of lengths `expected` and `actual` should match.
    error IntentBookLengthMismatch(uint256 expected, uint256 actual);
    /// @notice Intent `index` of the batch is malformed (same token both sides or zero amount).
    error IntentBookInvalidIntent(uint256 index);
    /// @notice The signature of intent `index` recovers to `signer`, not the maker.
    error IntentBookBadSignature(uint256 index, address signer);
    /// @notice Intent `index` expired: `timestamp > deadline`.
    error IntentBookExpired(uint256 index, uint256 deadline, uint256 timestamp);
    /// @notice `maker`'s `nonce` was already filled or cancelled (Revert variant).
    error IntentBookNonceUsed(address maker, uint256 nonce);
    /// @notice The condition of intent `index` does not hold (the `Revert` variant).
    error IntentBookConditionFailed(uint256 index);
    /// @notice Intent `index` would buy `amount`, below its `minBuyAmount`.
    error IntentBookLimitViolated(uint256 index, uint256 amount, uint256 minBuyAmount);
    /// @notice The batch holds `available` of `token` but owes its buyers `required`.
    error IntentBookInsufficientOutput(address token, uint256 available, uint256 required);
    /// @notice The batch ends holding `amount` of `token` that no executed intent buys.
    error IntentBookUnspentToken(address token, uint256 amount);
    /// @notice The factory has no pool for (`tokenIn`, `tokenOut`, `fee`).
    error IntentBookUnknownPool(address tokenIn, address tokenOut, uint256 fee);
    /// @notice A uniform-price plan names no positive price for `token`.
    error IntentBookMissingPrice(address token);
    /// @notice `token` is not among the batch's tokens (an internal invariant: every plan swap's
    ///         tokens are collected, so this cannot be reached through `settle`).
    error IntentBookUnknownToken(address token);
    /// @notice A solver share of `shareBps` exceeds 10000 basis points.
    error IntentBookInvalidShare(uint256 shareBps);

    /// @notice Intent `intentHash` executed: `maker` sold `sellAmount` and bought `buyAmount`,
    ///         of which `solverReward` went to `solver` and the rest to the maker.
    event IntentFilled(
        bytes32 indexed intentHash,
        address indexed maker,
        address indexed solver,
        address sellToken,
        address buyToken,
        uint256 sellAmount,
        uint256 buyAmount,
        uint256 solverReward
    );
    /// @notice Intent `intentHash` was left out of a batch (Skip variant): its condition did not
    ///         hold, its nonce was used, or its maker's transfer failed. A nonce unused before
    ///         stays usable.
    event IntentSkipped(bytes32 indexed intentHash, address indexed maker, uint256 nonce);
    /// @notice `maker` cancelled `nonce`.
    event IntentCancelled(address indexed maker, uint256 indexed nonce);
    /// @notice `solver` settled a batch: `filled` intents executed, `skipped` left out.
    event BatchSettled(address indexed solver, uint256 filled, uint256 skipped);

    /// @notice Settle a batch of signed intents according to `plan`.
    /// @param intents The intents, each signed by its maker.
    /// @param signatures One 65-byte EIP-712 signature per intent.
    /// @param plan How to price and route the batch.
    /// @return filled How many intents executed.
    function settle(Intent[] calldata intents, bytes[] calldata signatures, Plan calldata plan)
        external
        returns (uint256 filled);

    /// @notice Cancel the caller's `nonce`: no intent with it can settle any more.
    function cancel(uint256 nonce) external;

    /// @notice Whether `maker`'s `nonce` was filled or cancelled.
    function nonceUsed(address maker, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 digest a maker signs for `intent` (also its id in events).
    function hashIntent(Intent calldata intent) external view returns (bytes32);

    /// @notice Whether `intent`'s condition holds if exactly the `executed` ones of `batch` execute.
    function conditionHolds(Intent[] calldata batch, bool[] calldata executed, uint256 index)
        external
        view
        returns (bool);
}
