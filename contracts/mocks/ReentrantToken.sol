// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title ReentrantToken
/// @notice A malicious, burnable ERC-20 for attack tests: once armed, every `transfer`,
///         `transferFrom` and `burn` first calls a configured target with configured calldata,
///         like an ERC-777 `tokensToSend` hook, before moving any balance.
/// @dev Test-only; never deploy outside a test chain. `mint` is unrestricted, as in MockERC20.
///      The token can act as an attacking account itself: `execute` makes it call any contract
///      (e.g. approve/stake/withdraw on a staking contract), so a hook that calls the same
///      contract re-enters as the same `msg.sender`.
///
///      The hook runs once per outer call (it does not re-trigger from inside itself). With
///      `bubble` set, a failing hook call reverts the whole token call with the target's revert
///      data (so the victim's revert reason reaches the test). Without it, the failure is
///      recorded in {ReentryAttempted} and the token call goes on.
contract ReentrantToken is ERC20, ERC20Burnable {
    /// @notice Contract the hook calls (`address(0)`: disarmed).
    address public target;
    /// @notice Calldata the hook sends to `target`.
    bytes public payload;
    /// @notice Whether a failing hook call reverts the token call.
    bool public bubble;

    bool private _inHook;

    /// @notice The hook called `target`; `success` and `returnData` are what the call gave back.
    event ReentryAttempted(address indexed target, bool success, bytes returnData);
    /// @notice The hook was configured (a zero `target` disarms it).
    event Armed(address indexed target, bytes payload, bool bubble);

    /// @notice Creates the token with 18 decimals and no initial supply.
    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` new tokens to `to` (unrestricted, for tests).
    /// @param to Recipient of the new tokens.
    /// @param amount Number of tokens to create.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Configure the hook; a zero `target_` disarms it.
    /// @param target_ Contract to call from inside transfers.
    /// @param payload_ Calldata for that call.
    /// @param bubble_ Whether a failing hook call reverts the token call.
    function arm(address target_, bytes calldata payload_, bool bubble_) external {
        target = target_;
        payload = payload_;
        bubble = bubble_;
        emit Armed(target_, payload_, bubble_);
    }

    /// @notice Make this token call `to` with `data` (it acts as an attacking account).
    /// @dev Reverts with the callee's revert data if the call fails.
    /// @param to Contract to call.
    /// @param data Calldata.
    /// @return The call's return data.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        return Address.functionCall(to, data);
    }

    /// @notice ERC-20 transfer, after running the hook.
    /// @param to Recipient.
    /// @param value Amount.
    /// @return Always true (reverts on failure).
    function transfer(address to, uint256 value) public override returns (bool) {
        _hook();
        return super.transfer(to, value);
    }

    /// @notice ERC-20 transferFrom, after running the hook.
    /// @param from Owner of the tokens.
    /// @param to Recipient.
    /// @param value Amount.
    /// @return Always true (reverts on failure).
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _hook();
        return super.transferFrom(from, to, value);
    }

    /// @notice Burn `value` of the caller's tokens, after running the hook.
    /// @param value Amount.
    function burn(uint256 value) public override {
        _hook();
        super.burn(value);
    }

    /// @dev Calls `target` once per outer token call; see the contract's @dev for `bubble`.
    function _hook() private {
        if (target == address(0) || _inHook) return;
        _inHook = true;
        if (bubble) {
            bytes memory returnData = Address.functionCall(target, payload);
            emit ReentryAttempted(target, true, returnData);
        } else {
            (bool success, bytes memory returnData) = target.call(payload);
            emit ReentryAttempted(target, success, returnData);
        }
        _inHook = false;
    }
}
