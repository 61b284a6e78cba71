// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IEscrow
/// @notice Three-party commitments: a proposer pays a counterparty for delivery, both post bonds,
///         and a staked arbitrator settles disputes. Every way out is permissionless once its
///         deadline has passed, so no funds can stay locked.
/// @dev Deadline semantics, used by every function: an action bounded by a deadline is allowed
///      while `block.timestamp <= deadline`; the exit that deadline opens is allowed only when
///      `block.timestamp > deadline`. The two never overlap in one block.
///      Delivery deadline with grace: a deployment's `gracePeriod` (seconds, 0 = none) extends
///      the delivery deadline of confirm, dispute and timeout to `deliverBy + gracePeriod`, so
///      that a confirmation or dispute delayed by congestion still counts. Reverts report that
///      effective deadline. Acceptance and ruling deadlines have no grace.
///      Reputation records made by terminal transitions are best effort: a record the registry
///      rejects is reported by {EscrowAttestationFailed} and the funds move anyway; a record
///      whose call runs out of gas reverts the transition with {EscrowAttestationOutOfGas}, so
///      that no caller can skip it by choosing the gas limit (retry with more gas).
interface IEscrow {
    /// @notice Life cycle of an agreement. `None` marks an id that was never proposed.
    /// @dev Non-terminal: Proposed, Accepted, Disputed. Terminal: every later value.
    enum State {
        None,
        Proposed,
        Accepted,
        Disputed,
        Released,
        Ruled,
        Expired,
        TimedOut,
        ArbitratorTimedOut
    }

    /// @notice What happens to the bonds when an accepted agreement is not settled in time.
    /// @dev RefundBoth returns each bond to its owner; SlashBoth sends both bonds to the slash sink
    ///      (whether or not a party had confirmed). The proposer gets price and fee back either way.
    enum TimeoutPolicy {
        RefundBoth,
        SlashBoth
    }

    /// @notice One agreement's terms and progress (fits in seven storage slots).
    /// @param proposer Who proposed and paid price, proposer bond and arbitrator fee.
    /// @param acceptBy Last second (inclusive) at which the counterparty may accept.
    /// @param state Where the agreement is in its life cycle.
    /// @param proposerConfirmed Whether the proposer has confirmed delivery.
    /// @param counterpartyConfirmed Whether the counterparty has confirmed delivery.
    /// @param counterparty Who delivers and is paid the price.
    /// @param deliverBy Last second (inclusive) to confirm or dispute, before the grace period.
    /// @param arbitrator Who rules on a dispute; must have been staked at proposal time.
    /// @param ruleBy Last second (inclusive) the arbitrator may rule; 0 until disputed.
    /// @param price Paid to the counterparty on release.
    /// @param proposerBond Posted by the proposer at proposal.
    /// @param counterpartyBond Posted by the counterparty at acceptance.
    /// @param arbitratorFee Paid to the arbitrator on release or ruling, refunded otherwise.
    struct Agreement {
        address proposer;
        uint64 acceptBy;
        State state;
        bool proposerConfirmed;
        bool counterpartyConfirmed;
        address counterparty;
        uint64 deliverBy;
        address arbitrator;
        uint64 ruleBy;
        uint256 price;
        uint256 proposerBond;
        uint256 counterpartyBond;
        uint256 arbitratorFee;
    }

    /// @notice The terms a proposer offers (and, in {ConsentEscrow}, the arbitrator signs).
    /// @param counterparty Who must accept, deliver and is paid `price`.
    /// @param arbitrator Who rules on a dispute.
    /// @param price Payment for delivery.
    /// @param proposerBond The proposer's bond.
    /// @param counterpartyBond The bond the counterparty posts on acceptance.
    /// @param arbitratorFee Paid to the arbitrator on release or ruling.
    /// @param acceptBy Last second (inclusive) to accept.
    /// @param deliverBy Last second (inclusive) to confirm or dispute, before the grace period.
    struct Terms {
        address counterparty;
        address arbitrator;
        uint256 price;
        uint256 proposerBond;
        uint256 counterpartyBond;
        uint256 arbitratorFee;
        uint64 acceptBy;
        uint64 deliverBy;
    }

    /// @notice The constructor was given a slash sink of the zero address for a SlashBoth variant.
    error EscrowInvalidSlashSink(address sink);
    /// @notice The constructor was given a grace period above `type(uint64).max` seconds.
    error EscrowInvalidGracePeriod(uint256 gracePeriod);
    /// @notice Proposer, counterparty and arbitrator must be distinct non-zero addresses.
    error EscrowInvalidParties(address proposer, address counterparty, address arbitrator);
    /// @notice Deadlines must satisfy `now < acceptBy < deliverBy`.
    error EscrowInvalidDeadlines(uint64 acceptBy, uint64 deliverBy, uint256 currentTime);
    /// @notice `arbitrator` has `stake` bonded in staking, less than the `required` minimum.
    error EscrowArbitratorNotEligible(address arbitrator, uint256 stake, uint256 required);
    /// @notice Agreement `id` is in `state`, where this action is not allowed.
    error EscrowWrongState(uint256 id, State state);
    /// @notice `caller` is neither the proposer nor the counterparty.
    error EscrowNotParty(address caller);
    /// @notice `caller` is not the counterparty.
    error EscrowNotCounterparty(address caller);
    /// @notice `caller` is not the arbitrator.
    error EscrowNotArbitrator(address caller);
    /// @notice The action's deadline (inclusive) has passed.
    error EscrowDeadlinePassed(uint256 id, uint256 deadline);
    /// @notice The exit is only open after `deadline`.
    error EscrowDeadlineNotReached(uint256 id, uint256 deadline);
    /// @notice `party` already confirmed agreement `id`.
    error EscrowAlreadyConfirmed(uint256 id, address party);
    /// @notice The ruling gives the proposer more than the pot (price plus both bonds).
    error EscrowShareExceedsPot(uint256 id, uint256 proposerShare, uint256 pot);
    /// @notice Recording an outcome of agreement `id` failed without revert data, i.e. ran out of
    ///         gas; the whole transition is undone so that the record cannot be skipped.
    error EscrowAttestationOutOfGas(uint256 id);

    /// @notice Agreement `id` was proposed; `deposit` (price + proposer bond + fee) is escrowed.
    event EscrowProposed(
        uint256 indexed id,
        address indexed proposer,
        address indexed counterparty,
        address arbitrator,
        uint256 deposit,
        uint64 acceptBy,
        uint64 deliverBy
    );
    /// @notice The counterparty accepted and posted `bond`.
    event EscrowAccepted(uint256 indexed id, address indexed counterparty, uint256 bond);
    /// @notice `party` confirmed delivery.
    event EscrowConfirmed(uint256 indexed id, address indexed party);
    /// @notice Both confirmed: price and bond to the counterparty, bond to the proposer, fee to
    ///         the arbitrator.
    event EscrowReleased(uint256 indexed id, uint256 toCounterparty, uint256 toProposer, uint256 fee);
    /// @notice `party` disputed; the arbitrator may rule until `ruleBy` (inclusive).
    event EscrowDisputed(uint256 indexed id, address indexed party, uint64 ruleBy);
    /// @notice The arbitrator split the pot and was paid `fee`.
    event EscrowRuled(uint256 indexed id, uint256 toProposer, uint256 toCounterparty, uint256 fee);
    /// @notice Not accepted in time; `refund` went back to the proposer.
    event EscrowExpired(uint256 indexed id, uint256 refund);
    /// @notice Not settled by `deliverBy + gracePeriod`; `slashed` (both bonds under SlashBoth,
    ///         else 0) went to the slash sink.
    event EscrowTimedOut(uint256 indexed id, TimeoutPolicy policy, uint256 slashed);
    /// @notice The arbitrator missed the ruling window; both parties were refunded and `slashed`
    ///         was taken from the arbitrator's stake.
    event EscrowArbitratorTimedOut(uint256 indexed id, address indexed arbitrator, uint256 slashed);
    /// @notice The reputation registry rejected the record of `schema` about `subject` for
    ///         agreement `id` (e.g. this escrow is not a registered issuer); `reason` is its revert
    ///         data. The transition and its payouts went ahead without the record.
    event EscrowAttestationFailed(
        uint256 indexed id, address indexed subject, bytes32 schema, bytes reason
    );

    /// @notice Propose an agreement, escrowing `price + proposerBond + arbitratorFee` from the
    ///         caller (who must have approved this contract).
    /// @dev Requirements: distinct non-zero parties; `block.timestamp < acceptBy < deliverBy`;
    ///      the arbitrator's bonded stake is at least `minArbitratorStake`. Emits {EscrowProposed}.
    /// @param counterparty Who must accept, deliver and is paid `price`.
    /// @param arbitrator Who rules on a dispute.
    /// @param price Payment for delivery.
    /// @param proposerBond The proposer's bond.
    /// @param counterpartyBond The bond the counterparty posts on acceptance.
    /// @param arbitratorFee Paid to the arbitrator on release or ruling.
    /// @param acceptBy Last second (inclusive) to accept.
    /// @param deliverBy Last second (inclusive) to confirm or dispute, before the grace period.
    /// @return id The new agreement's id (ids start at 1).
    function propose(
        address counterparty,
        address arbitrator,
        uint256 price,
        uint256 proposerBond,
        uint256 counterpartyBond,
        uint256 arbitratorFee,
        uint64 acceptBy,
        uint64 deliverBy
    ) external returns (uint256 id);

    /// @notice Accept agreement `id` and post the counterparty bond (counterparty only).
    /// @dev Requirements: state Proposed; `block.timestamp <= acceptBy`. Emits {EscrowAccepted}.
    /// @param id The agreement.
    function accept(uint256 id) external;

    /// @notice Confirm delivery (either party). The second confirmation releases the funds.
    /// @dev Requirements: state Accepted; `block.timestamp <= deliverBy + gracePeriod`; not
    ///      confirmed yet by the caller. Emits {EscrowConfirmed}, then {EscrowReleased} on the
    ///      second confirmation; release attests `escrow.completed` for both parties.
    /// @param id The agreement.
    function confirm(uint256 id) external;

    /// @notice Dispute agreement `id` (either party, even one that already confirmed); the
    ///         arbitrator then has `rulingWindow` seconds to rule.
    /// @dev Requirements: state Accepted; `block.timestamp <= deliverBy + gracePeriod`.
    ///      Emits {EscrowDisputed}.
    /// @param id The agreement.
    function dispute(uint256 id) external;

    /// @notice Rule on a disputed agreement (arbitrator only): `proposerShare` of the pot (price
    ///         plus both bonds) to the proposer, the rest to the counterparty, the fee to the caller.
    /// @dev Requirements: state Disputed; `block.timestamp <= ruleBy`; `proposerShare <= pot`.
    ///      Attests `escrow.dispute-won` for the proposer if `2 * proposerShare > pot`, for the
    ///      counterparty if `2 * proposerShare < pot` (the other gets `escrow.dispute-lost`), and
    ///      `escrow.dispute-won` for both on an exact half. Emits {EscrowRuled}.
    /// @param id The agreement.
    /// @param proposerShare Tokens of the pot awarded to the proposer.
    function rule(uint256 id, uint256 proposerShare) external;

    /// @notice Refund the proposer of an agreement nobody accepted in time (anyone may call).
    /// @dev Requirements: state Proposed; `block.timestamp > acceptBy`. Records no attestation:
    ///      the counterparty never committed. Emits {EscrowExpired}.
    /// @param id The agreement.
    function expire(uint256 id) external;

    /// @notice Settle an accepted agreement nobody released or disputed by `deliverBy` plus the
    ///         grace period (anyone may call) under the deployment's timeout policy.
    /// @dev Requirements: state Accepted; `block.timestamp > deliverBy + gracePeriod`. The
    ///      proposer gets price and fee back; bonds follow the policy. Attests `escrow.defaulted`
    ///      for each party that had not confirmed. Emits {EscrowTimedOut}.
    /// @param id The agreement.
    function timeout(uint256 id) external;

    /// @notice Refund both parties of a dispute the arbitrator left unruled (anyone may call) and
    ///         slash the arbitrator's stake by up to `arbitratorSlashAmount`.
    /// @dev Requirements: state Disputed; `block.timestamp > ruleBy`. The slash is capped at the
    ///      arbitrator's slashable stake and skipped when that is zero. Attests
    ///      `escrow.arbitrator-no-show` for the arbitrator. Emits {EscrowArbitratorTimedOut}.
    /// @param id The agreement.
    function arbitratorTimeout(uint256 id) external;

    /// @notice Agreement `id` (all zero with state None if it was never proposed).
    /// @param id The agreement.
    /// @return The agreement's terms and progress.
    function agreement(uint256 id) external view returns (Agreement memory);

    /// @notice Tokens the escrow owes across all non-terminal agreements; equals its currency
    ///         balance unless someone sent tokens to it directly.
    /// @return The sum of escrowed deposits and bonds of open agreements.
    function openObligations() external view returns (uint256);
}
