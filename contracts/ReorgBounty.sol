// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IReorgBounty} from "./interfaces/IReorgBounty.sol";

/// @title ReorgBounty
/// @notice Reorg-as-a-service: a buyer escrows ETH for "block N with hash H is not canonical
///         after block D"; after D, the coinbase of the block that replaced it is paid, proven
///         by its RLP header, otherwise the buyer is refunded.
/// @dev The verdict is read from `blockhash`, which follows the chain the settling transaction
///      executes on, so the contract needs no oracle: on a branch where N was replaced,
///      `blockhash(N) != H`. `blockhash` reads only the last 256 blocks, so settlement is open
///      in `(D, N + 256]`; after that an unclaimed bounty can only be refunded (the claimant had
///      the whole window). The payee is the replacing block's coinbase, read from the header
///      whose hash equals `blockhash(N)` (Daian et al. 2020, "Flash Boys 2.0", on paying miners
///      to rewrite history). Every value-moving function is `nonReentrant` and follows
///      checks-effects-interactions; the contract holds exactly the open bounties' amounts.
contract ReorgBounty is IReorgBounty, ReentrancyGuard {
    /// @dev `blockhash` answers for the 256 most recent blocks only.
    uint256 private constant BLOCKHASH_WINDOW = 256;
    /// @dev RLP header layout: a list longer than 255 bytes (0xf9 + 2 length bytes), then
    ///      parentHash and ommersHash (0xa0 + 32 bytes each), then the coinbase (0x94 + 20).
    uint256 private constant COINBASE_OFFSET = 70;

    /// @inheritdoc IReorgBounty
    uint256 public bountyCount;

    mapping(uint256 id => Bounty) private _bounties;

    /// @inheritdoc IReorgBounty
    function offer(uint256 blockNumber, bytes32 blockHash, uint256 deadline)
        external
        payable
        nonReentrant
        returns (uint256 id)
    {
        if (msg.value == 0) revert ReorgBountyZeroAmount();
        if (
            blockHash == bytes32(0) || blockNumber >= block.number || block.number > deadline
                || deadline >= blockNumber + BLOCKHASH_WINDOW
        ) revert ReorgBountyInvalidTarget(blockNumber, blockHash, deadline);
        id = ++bountyCount;
        // The casts cannot truncate: blockNumber < block.number and deadline < blockNumber + 256.
        _bounties[id] = Bounty({
            buyer: msg.sender,
            blockNumber: uint64(blockNumber),
            deadline: uint64(deadline),
            amount: msg.value,
            blockHash: blockHash
        });
        emit BountyOffered(id, msg.sender, blockNumber, blockHash, deadline, msg.value);
    }

    /// @inheritdoc IReorgBounty
    function claim(uint256 id, bytes calldata header) external nonReentrant {
        Bounty storage b = _settleable(id);
        if (block.number > uint256(b.blockNumber) + BLOCKHASH_WINDOW) {
            revert ReorgBountyWindowClosed(id);
        }
        bytes32 canonical = blockhash(b.blockNumber);
        if (canonical == b.blockHash) revert ReorgBountyBlockCanonical(id);
        if (
            keccak256(header) != canonical || header.length <= COINBASE_OFFSET + 20
                || header[0] != 0xf9 || header[3] != 0xa0 || header[36] != 0xa0
                || header[69] != 0x94
        ) revert ReorgBountyBadHeader(id);
        address payee = address(bytes20(header[COINBASE_OFFSET:COINBASE_OFFSET + 20]));
        uint256 amount = b.amount;
        b.amount = 0;
        emit BountyClaimed(id, payee, amount);
        _send(payee, amount);
    }

    /// @inheritdoc IReorgBounty
    function refund(uint256 id) external nonReentrant {
        Bounty storage b = _settleable(id);
        bool windowOpen = block.number <= uint256(b.blockNumber) + BLOCKHASH_WINDOW;
        if (windowOpen && blockhash(b.blockNumber) != b.blockHash) {
            revert ReorgBountyBlockReplaced(id);
        }
        uint256 amount = b.amount;
        b.amount = 0;
        emit BountyRefunded(id, b.buyer, amount);
        _send(b.buyer, amount);
    }

    /// @inheritdoc IReorgBounty
    function bounty(uint256 id) external view returns (Bounty memory) {
        return _bounties[id];
    }

    /// @dev The open bounty `id` whose deadline has passed.
    function _settleable(uint256 id) private view returns (Bounty storage b) {
        b = _bounties[id];
        if (b.amount == 0) revert ReorgBountyNotOpen(id);
        if (block.number <= b.deadline) revert ReorgBountyDeadlineNotPassed(id, b.deadline);
    }

    /// @dev Sends `amount` wei to `to`; a refusing receiver reverts the settlement (a coinbase
    ///      that cannot take ETH leaves the bounty to be refunded once the window closes).
    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ReorgBountyPaymentFailed(to, amount);
    }
}
