// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ConsentEscrow} from "./ConsentEscrow.sol";
import {IArbitrationFund} from "./interfaces/IArbitrationFund.sol";
import {IGovernedEscrow} from "./interfaces/IGovernedEscrow.sol";
import {IReputation} from "./interfaces/IReputation.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title GovernedEscrow
/// @notice {ConsentEscrow} with the governance levers of the distributional-safety sandbox
///         (Savitt 2026, section 8) enforced on chain: a transaction tax, a circuit breaker and
///         a governor's freeze list.
/// @dev Everything the plain escrow does is unchanged; the levers hook its four virtual
///      helpers. Tax: every payout except to the slash sink sends `floor(amount * taxBps /
///      10_000)` to the treasury (the payee keeps the rounding). Treasury: an
///      {IArbitrationFund} bound to this escrow; when an agreement is ruled, it pays the
///      proposer back the arbitrator fee, as far as its balance goes, so that the tax funds
///      dispute resolution. Breaker: the escrow itself records, per counterparty,
///      the time of each bad outcome (see {IGovernedEscrow}); a proposal naming a blocked
///      account as proposer or counterparty reverts. The freeze list is where a governor
///      enforces what it found off chain (collusion detection from the escrow's events).
contract GovernedEscrow is ConsentEscrow, IGovernedEscrow {
    /// @notice Share of each payout kept for the treasury, in basis points.
    uint256 public immutable taxBps;
    /// @notice Bad outcomes within the window that block an account (0: no breaker).
    uint256 public immutable breakerThreshold;
    /// @notice Seconds a bad outcome counts for the breaker.
    uint256 public immutable breakerWindow;
    /// @notice The arbitration fund the tax goes to (zero without a tax).
    address public immutable treasury;

    /// @notice Who keeps the freeze list.
    address public governor;
    /// @notice Whether the governor froze an account.
    mapping(address account => bool) public frozen;
    /// @notice All tax ever collected.
    uint256 public taxCollected;
    /// @notice All the treasury ever paid for arbitration.
    uint256 public subsidised;

    mapping(address account => uint64[] times) private _badAt;

    /// @notice Deploys the governed variant; the first nine arguments as for {Escrow}.
    /// @param currency_ The ERC-20 currency.
    /// @param staking_ Staking contract holding arbitrators' stakes.
    /// @param reputation_ Reputation registry this contract attests to.
    /// @param minArbitratorStake_ Bonded stake an arbitrator needs at proposal time.
    /// @param rulingWindow_ Seconds the arbitrator has to rule after a dispute.
    /// @param timeoutPolicy_ RefundBoth or SlashBoth on a delivery timeout.
    /// @param arbitratorSlashAmount_ Stake slashed from an arbitrator who does not rule in time.
    /// @param slashSink_ Receiver of slashed bonds (must be non-zero under SlashBoth).
    /// @param gracePeriod_ Seconds confirm and dispute stay open after `deliverBy` (< 2**64).
    /// @param levers The governor, tax and breaker (see {IGovernedEscrow.Levers}).
    constructor(
        IERC20 currency_,
        IStaking staking_,
        IReputation reputation_,
        uint256 minArbitratorStake_,
        uint256 rulingWindow_,
        TimeoutPolicy timeoutPolicy_,
        uint256 arbitratorSlashAmount_,
        address slashSink_,
        uint256 gracePeriod_,
        Levers memory levers
    )
        ConsentEscrow(
            currency_,
            staking_,
            reputation_,
            minArbitratorStake_,
            rulingWindow_,
            timeoutPolicy_,
            arbitratorSlashAmount_,
            slashSink_,
            gracePeriod_
        )
    {
        if (levers.taxBps >= 10_000) revert EscrowInvalidTax(levers.taxBps);
        if (levers.taxBps > 0 && levers.treasury == address(0)) {
            revert EscrowInvalidTreasury(levers.treasury);
        }
        if (levers.breakerThreshold > 0 && levers.breakerWindow == 0) {
            revert EscrowInvalidBreaker(levers.breakerThreshold, levers.breakerWindow);
        }
        if (levers.governor == address(0)) revert EscrowInvalidGovernor(levers.governor);
        taxBps = levers.taxBps;
        treasury = levers.treasury;
        breakerThreshold = levers.breakerThreshold;
        breakerWindow = levers.breakerWindow;
        governor = levers.governor;
    }

    /// @inheritdoc IGovernedEscrow
    function setFrozen(address account, bool isFrozen) external {
        if (msg.sender != governor) revert EscrowNotGovernor(msg.sender);
        frozen[account] = isFrozen;
        emit EscrowFreezeSet(account, isFrozen);
    }

    /// @inheritdoc IGovernedEscrow
    function setGovernor(address governor_) external {
        if (msg.sender != governor) revert EscrowNotGovernor(msg.sender);
        if (governor_ == address(0)) revert EscrowInvalidGovernor(governor_);
        governor = governor_;
        emit EscrowGovernorSet(governor_);
    }

    /// @inheritdoc IGovernedEscrow
    function isBlocked(address account) external view returns (bool) {
        (bool tripped,) = _tripped(account);
        return frozen[account] || tripped;
    }

    /// @inheritdoc IGovernedEscrow
    function treasuryBalance() public view returns (uint256) {
        return treasury == address(0) ? 0 : currency.balanceOf(treasury);
    }

    /// @inheritdoc IGovernedEscrow
    function badOutcomes(address account) external view returns (uint256) {
        return _badAt[account].length;
    }

    /// @dev Refuses a proposal naming a frozen or tripped account, then proposes as usual.
    function _propose(Terms memory t) internal override returns (uint256 id) {
        _requireOpen(msg.sender);
        _requireOpen(t.counterparty);
        return super._propose(t);
    }

    /// @dev Records a bad outcome about the counterparty for the breaker and, once per ruling
    ///      (at the proposer's record), pays the arbitration subsidy; then attests as usual.
    function _attest(uint256 id, Agreement storage a, address subject, bytes32 schema)
        internal
        override
    {
        if (
            breakerThreshold > 0 && subject == a.counterparty
                && (schema == DEFAULTED || schema == DISPUTE_LOST)
        ) {
            uint64[] storage times = _badAt[subject];
            times.push(uint64(block.timestamp));
            emit EscrowBadOutcomeRecorded(subject, id, times.length);
        }
        if (a.state == State.Ruled && subject == a.proposer) _subsidise(id, a);
        super._attest(id, a, subject, schema);
    }

    /// @dev Sends the tax of a payout to the treasury (none for the slash sink, whose share is
    ///      not a payout), the rest to `to`.
    function _pay(address to, uint256 amount) internal override {
        // Floor: the payee keeps the rounding, so the tax never exceeds taxBps of the amount.
        uint256 tax = to == slashSink ? 0 : amount * taxBps / 10_000;
        if (tax > 0) {
            taxCollected += tax;
            emit EscrowTaxed(to, tax);
        }
        super._pay(to, amount - tax);
        super._pay(treasury, tax);
    }

    /// @dev Has the treasury pay the proposer of ruled agreement `id` its arbitrator fee back,
    ///      capped at the treasury's balance. Callers hold the reentrancy guard; the fund is
    ///      trusted (deployed with this escrow, bound to it, no callbacks).
    function _subsidise(uint256 id, Agreement storage a) private {
        uint256 balance = treasuryBalance();
        uint256 amount = a.arbitratorFee < balance ? a.arbitratorFee : balance;
        if (amount == 0) return;
        subsidised += amount;
        emit EscrowArbitrationSubsidised(id, a.proposer, amount);
        IArbitrationFund(treasury).pay(a.proposer, amount);
    }

    /// @dev Reverts if `account` is frozen or its breaker is tripped.
    function _requireOpen(address account) private view {
        if (frozen[account]) revert EscrowAccountFrozen(account);
        (bool tripped, uint256 since) = _tripped(account);
        if (tripped) revert EscrowBreakerTripped(account, breakerThreshold, since);
    }

    /// @dev Whether `account`'s breaker is tripped now, and the time of the bad outcome that
    ///      opened its window (the `breakerThreshold`-th latest).
    function _tripped(address account) private view returns (bool tripped, uint256 since) {
        uint256 k = breakerThreshold;
        uint64[] storage times = _badAt[account];
        if (k == 0 || times.length < k) return (false, 0);
        since = times[times.length - k];
        tripped = block.timestamp <= since + breakerWindow;
    }
}
