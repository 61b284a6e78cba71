// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IStaking} from "./interfaces/IStaking.sol";

/// @title Staking
/// @notice Agents lock an ERC-20 currency as stake, unbond it over a fixed period, and can be
///         slashed by holders of `SLASHER_ROLE` (an escrow contract, governance).
/// @dev Lifecycle of an account's stake: `stake` -> bonded -> `requestUnstake` -> unbonding ->
///      `withdraw` once `block.timestamp >= releaseTime`. A new `requestUnstake` restarts the
///      release time of the whole unbonding balance. Bonded and unbonding stake are both
///      slashable; a slash takes bonded stake first.
///
///      Slashed stake goes to the immutable `slashSink`. A sink of `address(0)` means "burn":
///      the contract calls the currency's `ERC20Burnable.burn(uint256)` and checks that its own
///      balance fell by exactly the slashed amount; if the currency cannot burn (no such
///      function, or the balance did not fall), the slash reverts with `StakingInvalidSlash`.
///
///      Invariant: `currency.balanceOf(this) == totalStaked() == sum(bonded) + sum(unbonding)`,
///      except for tokens sent to this contract directly (not through `stake`), which stay
///      here unaccounted. Fee-on-transfer and rebasing currencies are not supported: `stake`
///      credits the amount requested, not the amount received.
///
///      Every state-changing function is `nonReentrant` and follows checks-effects-interactions,
///      so the views are consistent even while the currency is called.
contract Staking is IStaking, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to call `slash`; its admin is `DEFAULT_ADMIN_ROLE`.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    /// @notice The currency staked.
    IERC20 public immutable currency;
    /// @notice Seconds between the last `requestUnstake` of an account and its release time.
    uint256 public immutable unbondingPeriod;
    /// @notice Receiver of slashed stake; `address(0)` burns it through the currency.
    address public immutable slashSink;

    /// @dev Stake being unbonded and the time it can be withdrawn (both zero when none).
    struct Unbonding {
        uint256 amount;
        uint256 releaseTime;
    }

    mapping(address account => uint256) private _bonded;
    mapping(address account => Unbonding) private _unbonding;
    uint256 private _totalStaked;

    /// @notice Creates the staking contract.
    /// @dev `admin` receives `DEFAULT_ADMIN_ROLE` and grants `SLASHER_ROLE`. A zero `admin`
    ///      leaves the roles ungranted forever (no slashing); that is the deployer's choice.
    /// @param currency_ The ERC-20 staked (plain transfers: no fee-on-transfer, no rebasing).
    /// @param unbondingPeriod_ Seconds an unstake request waits before `withdraw`.
    /// @param slashSink_ Receiver of slashed stake, or `address(0)` to burn it.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE`.
    constructor(IERC20 currency_, uint256 unbondingPeriod_, address slashSink_, address admin) {
        currency = currency_;
        unbondingPeriod = unbondingPeriod_;
        slashSink = slashSink_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Lock `amount` of currency as bonded stake of the caller.
    /// @dev Requirements: `amount > 0`; the caller approved at least `amount`.
    ///      Emits {Staked}.
    /// @param amount Currency units to lock.
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        uint256 bonded = _bonded[msg.sender] + amount;
        _bonded[msg.sender] = bonded;
        _totalStaked += amount;
        emit Staked(msg.sender, amount, bonded);
        currency.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Move `amount` of the caller's bonded stake into unbonding.
    /// @dev The release time of the caller's whole unbonding balance becomes
    ///      `block.timestamp + unbondingPeriod`. Requirements: `0 < amount <= stakeOf(caller)`.
    ///      Emits {UnstakeRequested}.
    /// @param amount Currency units to start unbonding.
    function requestUnstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        uint256 bonded = _bonded[msg.sender];
        if (amount > bonded) revert StakingInsufficientStake(msg.sender, amount, bonded);
        // Cannot underflow: checked just above.
        unchecked {
            _bonded[msg.sender] = bonded - amount;
        }
        Unbonding storage u = _unbonding[msg.sender];
        uint256 releaseTime = block.timestamp + unbondingPeriod;
        u.amount += amount;
        u.releaseTime = releaseTime;
        emit UnstakeRequested(msg.sender, amount, releaseTime);
    }

    /// @notice Withdraw all of the caller's unbonding stake.
    /// @dev Allowed from the release time on, inclusive: `block.timestamp >= releaseTime`.
    ///      Requirements: something is unbonding. Emits {Withdrawn}.
    function withdraw() external nonReentrant {
        Unbonding memory u = _unbonding[msg.sender];
        if (u.amount == 0) revert StakingNothingToWithdraw(msg.sender);
        if (block.timestamp < u.releaseTime) {
            revert StakingStillUnbonding(msg.sender, u.releaseTime);
        }
        delete _unbonding[msg.sender];
        _totalStaked -= u.amount;
        emit Withdrawn(msg.sender, u.amount);
        currency.safeTransfer(msg.sender, u.amount);
    }

    /// @notice Slash up to `amount` of `account`'s stake, bonded first, then unbonding.
    /// @dev Only `SLASHER_ROLE`. The slash is capped at `slashableOf(account)`; an account with
    ///      no stake is slashed by 0 without a revert or an event, so an escrow can always settle.
    ///      The unbonding release time is kept unless the unbonding balance reaches zero.
    ///      Requirements: `amount > 0`; with a zero sink, the currency can burn.
    ///      Emits {Slashed} when something was taken.
    /// @param account Account whose stake is slashed.
    /// @param amount Most currency units to take.
    /// @param reason Free-form tag recorded in the event (e.g. an escrow id).
    /// @return slashed The amount actually taken.
    function slash(address account, uint256 amount, bytes32 reason)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        if (amount == 0) revert StakingInvalidSlash(account, amount);
        uint256 bonded = _bonded[account];
        Unbonding storage u = _unbonding[account];
        uint256 unbonding = u.amount;
        slashed = _min(amount, bonded + unbonding);
        if (slashed == 0) return 0;

        uint256 fromBonded = _min(slashed, bonded);
        // Cannot underflow: fromBonded <= bonded and slashed - fromBonded <= unbonding,
        // because slashed <= bonded + unbonding.
        unchecked {
            _bonded[account] = bonded - fromBonded;
            uint256 fromUnbonding = slashed - fromBonded;
            if (fromUnbonding != 0) {
                if (fromUnbonding == unbonding) {
                    delete _unbonding[account];
                } else {
                    u.amount = unbonding - fromUnbonding;
                }
            }
        }
        _totalStaked -= slashed;
        emit Slashed(account, msg.sender, slashed, reason, slashSink);

        if (slashSink != address(0)) {
            currency.safeTransfer(slashSink, slashed);
        } else {
            _burn(account, amount, slashed);
        }
    }

    /// @inheritdoc IStaking
    function stakeOf(address account) external view returns (uint256) {
        return _bonded[account];
    }

    /// @inheritdoc IStaking
    function unbondingOf(address account) external view returns (uint256 amount, uint256 releaseTime) {
        Unbonding memory u = _unbonding[account];
        return (u.amount, u.releaseTime);
    }

    /// @inheritdoc IStaking
    function slashableOf(address account) external view returns (uint256) {
        return _bonded[account] + _unbonding[account].amount;
    }

    /// @inheritdoc IStaking
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @notice True for IStaking, IAccessControl and IERC165.
    /// @param interfaceId The ERC-165 interface id.
    /// @return Whether the interface is supported.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IStaking).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev Burns `slashed` through the currency; reverts with StakingInvalidSlash(account,
    ///      requested) if the currency has no `burn(uint256)` or the balance did not fall by it.
    function _burn(address account, uint256 requested, uint256 slashed) private {
        uint256 before = currency.balanceOf(address(this));
        try ERC20Burnable(address(currency)).burn(slashed) {}
        catch {
            revert StakingInvalidSlash(account, requested);
        }
        uint256 afterBurn = currency.balanceOf(address(this));
        if (afterBurn > before || before - afterBurn != slashed) {
            revert StakingInvalidSlash(account, requested);
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
