// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AgentCurrency} from "./AgentCurrency.sol";

/// @title CommunityCurrency
/// @notice The seeds' "community currency": minted, capped, burned and permitted like
///         `AgentCurrency`, but not transferable between agents. A transfer (or `transferFrom`)
///         succeeds only if its sender or its receiver is an approved contract (staking,
///         escrow, settlement); mints and burns are always allowed.
/// @dev The restriction lives in `_update`, so it covers every balance move. It looks at the
///      token's `from` and `to`, not at the caller: an approved contract calling
///      `transferFrom(agentA, agentB, x)` is restricted too. The admin (`DEFAULT_ADMIN_ROLE`)
///      manages the approved set. A revoked contract keeps its balance but cannot move it
///      until approved again. Approvals and permits stay unrestricted (they move nothing).
contract CommunityCurrency is AgentCurrency {
    /// @notice Whether `account` is an approved contract.
    mapping(address account => bool) public isApprovedContract;

    /// @notice Creates the currency with no supply and no approved contracts.
    /// @param name_ Token name; also the EIP-712 domain name used by `permit` (version "1").
    /// @param symbol_ Token symbol.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (grants roles, approves contracts).
    /// @param cap_ Maximum total supply in the smallest unit; 0 means uncapped.
    constructor(string memory name_, string memory symbol_, address admin, uint256 cap_)
        AgentCurrency(name_, symbol_, admin, cap_)
    {}

    /// @notice Lets `account` send and receive the currency.
    /// @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `account` has code (else
    ///      `CurrencyNotAContract`, which keeps agents' own addresses out) and is not approved
    ///      yet (else `CurrencyContractAlreadyApproved`). Emits {ContractApproved}.
    /// @param account The contract to approve.
    function approveContract(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account.code.length == 0) revert CurrencyNotAContract(account);
        if (isApprovedContract[account]) revert CurrencyContractAlreadyApproved(account);
        isApprovedContract[account] = true;
        emit ContractApproved(account, _msgSender());
    }

    /// @notice Restricts `account` again: it can no longer send or receive the currency.
    /// @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `account` is approved (else
    ///      `CurrencyContractNotApproved`). Emits {ContractRevoked}.
    /// @param account The contract to revoke.
    function revokeContract(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!isApprovedContract[account]) revert CurrencyContractNotApproved(account);
        isApprovedContract[account] = false;
        emit ContractRevoked(account, _msgSender());
    }

    /// @dev Reverts with `CurrencyTransferRestricted` unless this is a mint, a burn, or one side
    ///      is an approved contract.
    function _update(address from, address to, uint256 value) internal override {
        if (
            from != address(0) && to != address(0) && !isApprovedContract[from]
                && !isApprovedContract[to]
        ) {
            revert CurrencyTransferRestricted(from, to);
        }
        super._update(from, to, value);
    }
}
