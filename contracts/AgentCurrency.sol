// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {IAgentCurrency} from "./interfaces/IAgentCurrency.sol";

/// @title AgentCurrency
/// @notice The agent economy's currency: an 18-decimal ERC-20 with EIP-2612 permit. Only
///         accounts holding `MINTER_ROLE` (the scenario's treasury or faucet) create tokens, up
///         to an optional supply cap; any holder can burn its own tokens, or others' tokens
///         within an allowance.
/// @dev The admin (`DEFAULT_ADMIN_ROLE`) grants and revokes `MINTER_ROLE`; it does not mint
///      itself unless it grants the role to itself. The cap is checked in `_update` for every
///      mint, so variants that add other mint paths stay capped.
contract AgentCurrency is ERC20, ERC20Permit, AccessControl, IAgentCurrency {
    /// @notice Role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @inheritdoc IAgentCurrency
    uint256 public immutable cap;

    /// @notice Creates the currency with no supply.
    /// @param name_ Token name; also the EIP-712 domain name used by `permit` (version "1").
    /// @param symbol_ Token symbol.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (grants `MINTER_ROLE`); must not be zero.
    /// @param cap_ Maximum total supply in the smallest unit; 0 means uncapped.
    constructor(string memory name_, string memory symbol_, address admin, uint256 cap_)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        if (admin == address(0)) revert CurrencyInvalidAdmin(admin);
        cap = cap_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Creates `amount` new tokens for `to`.
    /// @dev Requirements: caller has `MINTER_ROLE` (else `AccessControlUnauthorizedAccount`);
    ///      `to` is not zero (else `ERC20InvalidReceiver`); the new supply is within the cap
    ///      (else `CurrencyCapExceeded`). Emits {Transfer} from zero, then {Minted}.
    /// @param to Recipient of the new tokens.
    /// @param amount Number of tokens in the smallest unit.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
        emit Minted(_msgSender(), to, amount);
    }

    /// @notice Destroys `amount` of the caller's tokens.
    /// @dev Requirements: the caller holds at least `amount` (else `ERC20InsufficientBalance`).
    ///      Emits {Transfer} to zero, then {Burned}.
    /// @param amount Number of tokens in the smallest unit.
    function burn(uint256 amount) external {
        address burner = _msgSender();
        _burn(burner, amount);
        emit Burned(burner, burner, amount);
    }

    /// @notice Destroys `amount` of `account`'s tokens, spending the caller's allowance.
    /// @dev Requirements: allowance of the caller over `account` is at least `amount` (else
    ///      `ERC20InsufficientAllowance`; an infinite allowance is not decreased); `account`
    ///      holds at least `amount`. Emits {Transfer} to zero, then {Burned}.
    /// @param account Holder whose tokens are destroyed.
    /// @param amount Number of tokens in the smallest unit.
    function burnFrom(address account, uint256 amount) external {
        address burner = _msgSender();
        _spendAllowance(account, burner, amount);
        _burn(account, amount);
        emit Burned(burner, account, amount);
    }

    /// @dev Enforces the cap on every mint (`from == address(0)`).
    function _update(address from, address to, uint256 value) internal virtual override {
        super._update(from, to, value);
        if (from == address(0) && cap != 0) {
            uint256 supply = totalSupply();
            if (supply > cap) revert CurrencyCapExceeded(supply, cap);
        }
    }
}
