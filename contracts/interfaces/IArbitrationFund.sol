// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IArbitrationFund
/// @notice The treasury of {GovernedEscrow}'s transaction tax: it receives the tax and pays out
///         only what its escrow tells it to (arbitration subsidies).
interface IArbitrationFund {
    /// @notice Only the owner binds the fund, once.
    error FundNotOwner(address caller);
    /// @notice The fund is already bound to an escrow (or `escrow` is zero).
    error FundInvalidBinding(address escrow);
    /// @notice Only the bound escrow may pay out of the fund.
    error FundNotEscrow(address caller);

    /// @notice The fund now pays out only at `escrow`'s request.
    event FundBound(address indexed escrow);
    /// @notice `amount` was paid to `to` at the escrow's request.
    event FundPaid(address indexed to, uint256 amount);

    /// @notice Make `escrow` the only account that can pay out of the fund.
    /// @dev Requirements: the caller is the owner; not bound yet; `escrow` is not zero. Emits
    ///      {FundBound}.
    /// @param escrow The escrow whose tax the fund receives.
    function bind(address escrow) external;

    /// @notice Pay `amount` of the currency to `to`.
    /// @dev Requirements: the caller is the bound escrow; the fund holds `amount`. Emits
    ///      {FundPaid}.
    /// @param to The recipient.
    /// @param amount The amount, in the currency's smallest unit.
    function pay(address to, uint256 amount) external;
}
