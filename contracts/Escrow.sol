// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IEscrow} from "./interfaces/IEscrow.sol";
import {IReputation} from "./interfaces/IReputation.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title Escrow
/// @notice Three-party commitments (proposer, counterparty, staked arbitrator) in one ERC-20
///         currency, with bonds, a ruling window, permissionless timeouts and reputation records.
/// @dev Mechanism parameters are constructor arguments so that variants can be deployed side by
///      side. Deadlines: an action is allowed while `block.timestamp <= deadline`, the exit it
///      guards only when `block.timestamp > deadline` (see {IEscrow}); confirm, dispute and
///      timeout use `deliverBy + gracePeriod` ({_deliveryDeadline}). Every state-changing
///      function is `nonReentrant` and follows checks-effects-interactions; the only external
///      calls before payouts go to the trusted, immutable `staking` and `reputation`.
///      Reputation records are best effort (see {_attest}): a registry that rejects them cannot
///      hold the funds, and a caller cannot skip them by starving the call of gas.
///      Deployment needs: this contract registered as an issuer in `reputation` (otherwise no
///      outcome is recorded) and holding `SLASHER_ROLE` in `staking` when
///      `arbitratorSlashAmount > 0`. Fee-on-transfer currencies are not supported.
///      Anyone may name any staked arbitrator here, which lets a proposer and its own second
///      account have a stranger slashed for a no-show at no cost: {ConsentEscrow} is the fix,
///      this contract the vulnerable variant kept for experiments (issue 15).
///      `_propose`, `_pay`, `_attest` and `_close` are virtual so that {GovernedEscrow} can add its levers.
contract Escrow is IEscrow, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Schema attested for both parties when an agreement is released.
    bytes32 public constant COMPLETED = keccak256("escrow.completed");
    /// @notice Schema attested at timeout for each party that had not confirmed.
    bytes32 public constant DEFAULTED = keccak256("escrow.defaulted");
    /// @notice Schema attested for the winner(s) of a ruling.
    bytes32 public constant DISPUTE_WON = keccak256("escrow.dispute-won");
    /// @notice Schema attested for the loser of a ruling.
    bytes32 public constant DISPUTE_LOST = keccak256("escrow.dispute-lost");
    /// @notice Schema attested for an arbitrator who missed the ruling window; also the slash reason.
    bytes32 public constant ARBITRATOR_NO_SHOW = keccak256("escrow.arbitrator-no-show");

    /// @notice The currency every amount is denominated in.
    IERC20 public immutable currency;
    /// @notice Where arbitrators' stakes live (eligibility and slashing).
    IStaking public immutable staking;
    /// @notice Where outcomes are attested.
    IReputation public immutable reputation;
    /// @notice Bonded stake an arbitrator needs at proposal time.
    uint256 public immutable minArbitratorStake;
    /// @notice Seconds the arbitrator has after a dispute (ruleBy = dispute time + window).
    uint256 public immutable rulingWindow;
    /// @notice What happens to the bonds on a delivery timeout.
    TimeoutPolicy public immutable timeoutPolicy;
    /// @notice Stake taken from an arbitrator who misses the ruling window (capped at its stake).
    uint256 public immutable arbitratorSlashAmount;
    /// @notice Receiver of bonds slashed under SlashBoth.
    address public immutable slashSink;
    /// @notice Seconds after `deliverBy` during which confirm and dispute are still allowed and
    ///         timeout is not yet (0: none), so that congestion cannot break a commitment.
    uint256 public immutable gracePeriod;

    /// @notice Number of agreements proposed so far; the latest id.
    uint256 public agreementCount;
    /// @inheritdoc IEscrow
    uint256 public openObligations;

    mapping(uint256 id => Agreement) private _agreements;

    /// @notice Deploys one escrow variant.
    /// @param currency_ The ERC-20 currency.
    /// @param staking_ Staking contract holding arbitrators' stakes.
    /// @param reputation_ Reputation registry this contract attests to.
    /// @param minArbitratorStake_ Bonded stake an arbitrator needs at proposal time.
    /// @param rulingWindow_ Seconds the arbitrator has to rule after a dispute.
    /// @param timeoutPolicy_ RefundBoth or SlashBoth on a delivery timeout.
    /// @param arbitratorSlashAmount_ Stake slashed from an arbitrator who does not rule in time.
    /// @param slashSink_ Receiver of slashed bonds (must be non-zero under SlashBoth).
    /// @param gracePeriod_ Seconds confirm and dispute stay open after `deliverBy` (< 2**64).
    constructor(
        IERC20 currency_,
        IStaking staking_,
        IReputation reputation_,
        uint256 minArbitratorStake_,
        uint256 rulingWindow_,
        TimeoutPolicy timeoutPolicy_,
        uint256 arbitratorSlashAmount_,
        address slashSink_,
        uint256 gracePeriod_
    ) {
        if (timeoutPolicy_ == TimeoutPolicy.SlashBoth && slashSink_ == address(0)) {
            revert EscrowInvalidSlashSink(slashSink_);
        }
        if (gracePeriod_ > type(uint64).max) revert EscrowInvalidGracePeriod(gracePeriod_);
        currency = currency_;
        staking = staking_;
        reputation = reputation_;
        minArbitratorStake = minArbitratorStake_;
        rulingWindow = rulingWindow_;
        timeoutPolicy = timeoutPolicy_;
        arbitratorSlashAmount = arbitratorSlashAmount_;
        slashSink = slashSink_;
        gracePeriod = gracePeriod_;
    }

    /// @inheritdoc IEscrow
    /// @dev Virtual so that {ConsentEscrow} can close this path to appointments without consent.
    function propose(
        address counterparty,
        address arbitrator,
        uint256 price,
        uint256 proposerBond,
        uint256 counterpartyBond,
        uint256 arbitratorFee,
        uint64 acceptBy,
        uint64 deliverBy
    ) external virtual nonReentrant returns (uint256 id) {
        return _propose(
            Terms({
                counterparty: counterparty,
                arbitrator: arbitrator,
                price: price,
                proposerBond: proposerBond,
                counterpartyBond: counterpartyBond,
                arbitratorFee: arbitratorFee,
                acceptBy: acceptBy,
                deliverBy: deliverBy
            })
        );
    }

    /// @inheritdoc IEscrow
    function accept(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Proposed);
        if (msg.sender != a.counterparty) revert EscrowNotCounterparty(msg.sender);
        if (block.timestamp > a.acceptBy) revert EscrowDeadlinePassed(id, a.acceptBy);
        a.state = State.Accepted;
        openObligations += a.counterpartyBond;
        emit EscrowAccepted(id, msg.sender, a.counterpartyBond);
        currency.safeTransferFrom(msg.sender, address(this), a.counterpartyBond);
    }

    /// @inheritdoc IEscrow
    function confirm(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Accepted);
        bool byProposer = _requireParty(a);
        uint256 deadline = _deliveryDeadline(a);
        if (block.timestamp > deadline) revert EscrowDeadlinePassed(id, deadline);
        if (byProposer ? a.proposerConfirmed : a.counterpartyConfirmed) {
            revert EscrowAlreadyConfirmed(id, msg.sender);
        }
        if (byProposer) a.proposerConfirmed = true;
        else a.counterpartyConfirmed = true;
        emit EscrowConfirmed(id, msg.sender);
        if (!(a.proposerConfirmed && a.counterpartyConfirmed)) return;

        _close(a, State.Released);
        uint256 toCounterparty = a.price + a.counterpartyBond;
        emit EscrowReleased(id, toCounterparty, a.proposerBond, a.arbitratorFee);
        _attest(id, a, a.proposer, COMPLETED);
        _attest(id, a, a.counterparty, COMPLETED);
        _pay(a.counterparty, toCounterparty);
        _pay(a.proposer, a.proposerBond);
        _pay(a.arbitrator, a.arbitratorFee);
    }

    /// @inheritdoc IEscrow
    function dispute(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Accepted);
        _requireParty(a);
        uint256 deadline = _deliveryDeadline(a);
        if (block.timestamp > deadline) revert EscrowDeadlinePassed(id, deadline);
        a.state = State.Disputed;
        a.ruleBy = SafeCast.toUint64(block.timestamp + rulingWindow);
        emit EscrowDisputed(id, msg.sender, a.ruleBy);
    }

    /// @inheritdoc IEscrow
    function rule(uint256 id, uint256 proposerShare) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Disputed);
        if (msg.sender != a.arbitrator) revert EscrowNotArbitrator(msg.sender);
        if (block.timestamp > a.ruleBy) revert EscrowDeadlinePassed(id, a.ruleBy);
        uint256 pot = a.price + a.proposerBond + a.counterpartyBond;
        if (proposerShare > pot) revert EscrowShareExceedsPot(id, proposerShare, pot);
        _close(a, State.Ruled);
        emit EscrowRuled(id, proposerShare, pot - proposerShare, a.arbitratorFee);
        // An exact half is a draw: both parties are recorded as having won.
        _attest(id, a, a.proposer, 2 * proposerShare >= pot ? DISPUTE_WON : DISPUTE_LOST);
        _attest(id, a, a.counterparty, 2 * proposerShare <= pot ? DISPUTE_WON : DISPUTE_LOST);
        _pay(a.proposer, proposerShare);
        _pay(a.counterparty, pot - proposerShare);
        _pay(a.arbitrator, a.arbitratorFee);
    }

    /// @inheritdoc IEscrow
    function expire(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Proposed);
        if (block.timestamp <= a.acceptBy) revert EscrowDeadlineNotReached(id, a.acceptBy);
        uint256 refund = _close(a, State.Expired);
        emit EscrowExpired(id, refund);
        _pay(a.proposer, refund);
    }

    /// @inheritdoc IEscrow
    function timeout(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Accepted);
        uint256 deadline = _deliveryDeadline(a);
        if (block.timestamp <= deadline) revert EscrowDeadlineNotReached(id, deadline);
        _close(a, State.TimedOut);
        bool slash = timeoutPolicy == TimeoutPolicy.SlashBoth;
        uint256 slashed = slash ? a.proposerBond + a.counterpartyBond : 0;
        emit EscrowTimedOut(id, timeoutPolicy, slashed);
        if (!a.proposerConfirmed) _attest(id, a, a.proposer, DEFAULTED);
        if (!a.counterpartyConfirmed) _attest(id, a, a.counterparty, DEFAULTED);
        _pay(a.proposer, a.price + a.arbitratorFee + (slash ? 0 : a.proposerBond));
        _pay(a.counterparty, slash ? 0 : a.counterpartyBond);
        _pay(slashSink, slashed);
    }

    /// @inheritdoc IEscrow
    function arbitratorTimeout(uint256 id) external nonReentrant {
        Agreement storage a = _agreementIn(id, State.Disputed);
        if (block.timestamp <= a.ruleBy) revert EscrowDeadlineNotReached(id, a.ruleBy);
        _close(a, State.ArbitratorTimedOut);
        // Capped at the slashable stake and skipped at zero, so an arbitrator who withdrew
        // everything cannot make the parties' refund revert.
        uint256 amount = staking.slashableOf(a.arbitrator);
        if (arbitratorSlashAmount < amount) amount = arbitratorSlashAmount;
        uint256 slashed = amount == 0 ? 0 : staking.slash(a.arbitrator, amount, ARBITRATOR_NO_SHOW);
        emit EscrowArbitratorTimedOut(id, a.arbitrator, slashed);
        _attest(id, a, a.arbitrator, ARBITRATOR_NO_SHOW);
        _pay(a.proposer, a.price + a.proposerBond + a.arbitratorFee);
        _pay(a.counterparty, a.counterpartyBond);
    }

    /// @inheritdoc IEscrow
    function agreement(uint256 id) external view returns (Agreement memory) {
        return _agreements[id];
    }

    /// @dev Checks `t` and escrows the caller's deposit for a new agreement; returns its id.
    ///      Callers hold the reentrancy guard.
    function _propose(Terms memory t) internal virtual returns (uint256 id) {
        if (
            t.counterparty == address(0) || t.arbitrator == address(0)
                || t.counterparty == msg.sender || t.arbitrator == msg.sender
                || t.arbitrator == t.counterparty
        ) revert EscrowInvalidParties(msg.sender, t.counterparty, t.arbitrator);
        if (t.acceptBy <= block.timestamp || t.deliverBy <= t.acceptBy) {
            revert EscrowInvalidDeadlines(t.acceptBy, t.deliverBy, block.timestamp);
        }
        uint256 stake = staking.stakeOf(t.arbitrator);
        if (stake < minArbitratorStake) {
            revert EscrowArbitratorNotEligible(t.arbitrator, stake, minArbitratorStake);
        }
        id = ++agreementCount;
        Agreement storage a = _agreements[id];
        (a.proposer, a.acceptBy, a.state) = (msg.sender, t.acceptBy, State.Proposed);
        (a.counterparty, a.deliverBy, a.arbitrator) = (t.counterparty, t.deliverBy, t.arbitrator);
        (a.price, a.proposerBond) = (t.price, t.proposerBond);
        (a.counterpartyBond, a.arbitratorFee) = (t.counterpartyBond, t.arbitratorFee);
        uint256 deposit = t.price + t.proposerBond + t.arbitratorFee;
        openObligations += deposit;
        emit EscrowProposed(
            id, msg.sender, t.counterparty, t.arbitrator, deposit, t.acceptBy, t.deliverBy
        );
        currency.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @dev The agreement `id`, which must be in `expected`.
    function _agreementIn(uint256 id, State expected) private view returns (Agreement storage a) {
        a = _agreements[id];
        if (a.state != expected) revert EscrowWrongState(id, a.state);
    }

    /// @dev Reverts unless the caller is a party; returns whether it is the proposer.
    function _requireParty(Agreement storage a) private view returns (bool byProposer) {
        byProposer = msg.sender == a.proposer;
        if (!byProposer && msg.sender != a.counterparty) revert EscrowNotParty(msg.sender);
    }

    /// @dev The last second (inclusive) to confirm or dispute `a`, after which it may time out.
    function _deliveryDeadline(Agreement storage a) private view returns (uint256) {
        // Cannot overflow: deliverBy is a uint64 and the constructor caps gracePeriod likewise.
        return uint256(a.deliverBy) + gracePeriod;
    }

    /// @dev Moves `a` to the terminal `state` and drops everything it holds from the open
    ///      obligations; returns that amount (the counterparty bond counts only once accepted).
    function _close(Agreement storage a, State state) internal virtual returns (uint256 held) {
        held = a.price + a.proposerBond + a.arbitratorFee;
        if (a.state != State.Proposed) held += a.counterpartyBond;
        a.state = state;
        openObligations -= held;
    }

    /// @dev Records `schema` about `subject` for agreement `id`, with the value that was at
    ///      stake (price plus both bonds) and the other party (the proposer, for the
    ///      arbitrator), so that a buyer can discount records of deals worth nothing or made
    ///      again and again with one counterparty. The uid is unique per
    ///      (escrow, agreement, subject, schema), so an outcome can never be attested twice.
    ///      A rejection with revert data (e.g. this escrow is not a registered issuer) is
    ///      reported by {EscrowAttestationFailed} and the payout goes on. A failure without data
    ///      reverts everything with {EscrowAttestationOutOfGas}: the registry gives every
    ///      rejection a custom error and makes no inner calls, so empty data means it ran out of
    ///      gas, and the 63/64 rule could otherwise let a caller finish while the record starves.
    function _attest(uint256 id, Agreement storage a, address subject, bytes32 schema)
        internal
        virtual
    {
        address other = subject == a.proposer ? a.counterparty : a.proposer;
        try reputation.attestDealing(
            IReputation.Attestation({
                issuer: address(this),
                subject: subject,
                schema: schema,
                value: 1,
                expiry: 0,
                uid: keccak256(abi.encode(address(this), id, subject, schema))
            }),
            other,
            a.price + a.proposerBond + a.counterpartyBond
        ) {} catch (bytes memory reason) {
            // Empty data = out of gas: revert so a tight gas limit cannot skip the record.
            if (reason.length == 0) revert EscrowAttestationOutOfGas(id);
            emit EscrowAttestationFailed(id, subject, schema, reason);
        }
    }

    /// @dev Transfers `amount` to `to`, skipping zero amounts (some tokens reject them).
    function _pay(address to, uint256 amount) internal virtual {
        if (amount > 0) currency.safeTransfer(to, amount);
    }
}
