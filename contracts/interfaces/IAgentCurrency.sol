// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAgentCurrency
/// @notice The agent economy's currency: an ERC-20 with permit, role-gated minting, an optional
///         supply cap and burning. Declares the errors and events of both variants:
///         `AgentCurrency` (freely transferable) and `CommunityCurrency` (transferable only to or
///         from approved contracts such as staking, escrow and settlement).
/// @dev Transfers, mints and burns also emit the standard ERC-20 `Transfer`; approvals and
///      permits emit `Approval`. Invariant kept by both variants:
///      totalSupply == sum of minted - sum of burned == sum of all balances <= cap (if cap != 0).
interface IAgentCurrency {
    /// @notice A mint would raise the total supply to `requestedSupply`, above `cap`.
    error CurrencyCapExceeded(uint256 requestedSupply, uint256 cap);
    /// @notice The zero address was given as the admin.
    error CurrencyInvalidAdmin(address admin);
    /// @notice A transfer between `from` and `to`, neither of them an approved contract
    ///         (`CommunityCurrency` only).
    error CurrencyTransferRestricted(address from, address to);
    /// @notice `account` has no code, so it cannot be approved as a contract (`CommunityCurrency`).
    error CurrencyNotAContract(address account);
    /// @notice `account` is already an approved contract (`CommunityCurrency`).
    error CurrencyContractAlreadyApproved(address account);
    /// @notice `account` is not an approved contract (`CommunityCurrency`).
    error CurrencyContractNotApproved(address account);

    /// @notice `minter` created `amount` new tokens for `to`.
    event Minted(address indexed minter, address indexed to, uint256 amount);
    /// @notice `burner` destroyed `amount` tokens held by `from` (`burner == from` for `burn`).
    event Burned(address indexed burner, address indexed from, uint256 amount);
    /// @notice `admin` approved `account` as a contract that may send and receive the currency.
    event ContractApproved(address indexed account, address indexed admin);
    /// @notice `admin` revoked `account`'s approval; transfers to and from it are restricted again.
    event ContractRevoked(address indexed account, address indexed admin);

    /// @notice Create `amount` new tokens for `to` (only `MINTER_ROLE`).
    function mint(address to, uint256 amount) external;

    /// @notice Destroy `amount` of the caller's tokens.
    function burn(uint256 amount) external;

    /// @notice Destroy `amount` of `account`'s tokens, spending the caller's allowance.
    function burnFrom(address account, uint256 amount) external;

    /// @notice The maximum total supply; 0 means uncapped.
    function cap() external view returns (uint256);
}
