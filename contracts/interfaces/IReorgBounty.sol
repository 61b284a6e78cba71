// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IReorgBounty
/// @notice Types, errors and events of `ReorgBounty`: reorg-as-a-service. A buyer escrows ETH
///         for "block `blockNumber` with hash `blockHash` is not canonical after block
///         `deadline`"; the coinbase of the block that replaced it is paid, else the buyer is
///         refunded.
interface IReorgBounty {
    /// @notice One bounty.
    /// @param buyer Who escrowed `amount` and is refunded if the block stays canonical.
    /// @param blockNumber Height of the block the buyer wants replaced.
    /// @param deadline Settlement is possible only in blocks after this one.
    /// @param amount Wei escrowed (0 once settled).
    /// @param blockHash Hash of the block the buyer wants replaced.
    struct Bounty {
        address buyer;
        uint64 blockNumber;
        uint64 deadline;
        uint256 amount;
        bytes32 blockHash;
    }

    /// @notice An offer escrows nothing.
    error ReorgBountyZeroAmount();
    /// @notice The target must be a past block, the offer made no later than `deadline`, and
    ///         `deadline` early enough that `blockhash(blockNumber)` can still be read after it.
    error ReorgBountyInvalidTarget(uint256 blockNumber, bytes32 blockHash, uint256 deadline);
    /// @notice Bounty `id` does not exist or was already paid or refunded.
    error ReorgBountyNotOpen(uint256 id);
    /// @notice Bounty `id` cannot be settled before its deadline has passed.
    error ReorgBountyDeadlineNotPassed(uint256 id, uint256 deadline);
    /// @notice Bounty `id`'s block is still canonical: nothing to claim.
    error ReorgBountyBlockCanonical(uint256 id);
    /// @notice Bounty `id`'s block was replaced and can still be proven so: no refund.
    error ReorgBountyBlockReplaced(uint256 id);
    /// @notice The settlement window of bounty `id` (while `blockhash` can read its block) closed.
    error ReorgBountyWindowClosed(uint256 id);
    /// @notice `header` does not hash to the canonical block at the bounty's height, or is not
    ///         an RLP block header of the expected shape.
    error ReorgBountyBadHeader(uint256 id);
    /// @notice Sending `amount` wei to `to` failed.
    error ReorgBountyPaymentFailed(address to, uint256 amount);

    /// @notice `buyer` escrowed `amount` for block `blockNumber` (hash `blockHash`) not to be
    ///         canonical after block `deadline`.
    event BountyOffered(
        uint256 indexed id,
        address indexed buyer,
        uint256 blockNumber,
        bytes32 blockHash,
        uint256 deadline,
        uint256 amount
    );
    /// @notice Bounty `id` was paid to `payee`, the coinbase of the block that replaced its target.
    event BountyClaimed(uint256 indexed id, address indexed payee, uint256 amount);
    /// @notice Bounty `id` was returned to its buyer.
    event BountyRefunded(uint256 indexed id, address indexed buyer, uint256 amount);

    /// @notice Escrow `msg.value` for block `blockNumber` with hash `blockHash` not to be
    ///         canonical after block `deadline`.
    /// @dev Requirements: `msg.value > 0`, `blockNumber < block.number <= deadline` and
    ///      `deadline < blockNumber + 256`. The block's current hash is not checked, so the
    ///      offer stays valid when re-included on the branch that replaces the block.
    ///      Emits {BountyOffered}.
    /// @param blockNumber Height of the block to replace.
    /// @param blockHash Its hash.
    /// @param deadline The last block before settlement opens.
    /// @return id The new bounty's id.
    function offer(uint256 blockNumber, bytes32 blockHash, uint256 deadline)
        external
        payable
        returns (uint256 id);

    /// @notice Pay bounty `id` to the coinbase of the canonical block at its height.
    /// @dev Requirements: the bounty is open, `deadline < block.number <= blockNumber + 256`,
    ///      `blockhash(blockNumber) != blockHash`, and `keccak256(header) ==
    ///      blockhash(blockNumber)`. Anyone may call; the payee is read from `header`.
    ///      Emits {BountyClaimed}.
    /// @param id The bounty.
    /// @param header RLP encoding of the canonical block header at the bounty's height.
    function claim(uint256 id, bytes calldata header) external;

    /// @notice Return bounty `id` to its buyer.
    /// @dev Requirements: the bounty is open, its deadline has passed, and either its block is
    ///      still canonical or the settlement window has closed (an unclaimed bounty cannot
    ///      stay locked). Anyone may call. Emits {BountyRefunded}.
    /// @param id The bounty.
    function refund(uint256 id) external;

    /// @notice Bounty `id` (all zero if unknown).
    /// @param id The bounty.
    /// @return The bounty record.
    function bounty(uint256 id) external view returns (Bounty memory);

    /// @notice Number of bounties offered so far; the latest id.
    /// @return The count.
    function bountyCount() external view returns (uint256);
}
