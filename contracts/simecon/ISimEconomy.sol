// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISimEconomy
/// @notice A turn-based, compute-metered agent economy (the sim-economy paper's world): a credit
///         ledger whose balances may go negative, inference billing above a commons threshold
///         paid out to core-share holders, and a validator lottery weighted by mining, stake
///         and matured burns that seals a turn's block only above a weight threshold.
/// @dev Invariant kept by every implementation (tokens, not wei):
///      sum(balances) + sum(staked) + feePool == minted - burned - interest.
interface ISimEconomy {
    /// @notice What an agent did in a turn (`None`: no action landed).
    enum Action {
        None,
        Mine,
        Job,
        Study,
        Stake,
        Unstake,
        Burn,
        Transfer
    }

    /// @notice `caller` is not one of the economy's agents.
    error SimNotAgent(address caller);
    /// @notice `caller` is not the compute meter (the operator closing turns).
    error SimNotOperator(address caller);
    /// @notice `agent` already acted in `turn`.
    error SimAlreadyActed(address agent, uint256 turn);
    /// @notice Every turn of the run has been closed.
    error SimEconomyOver(uint256 lastTurn);
    /// @notice `account`'s balance `balance` cannot cover `needed`.
    error SimInsufficientBalance(address account, int256 balance, uint256 needed);
    /// @notice A zero amount where a positive one is required.
    error SimZeroAmount();
    /// @notice `account` has no stake to unstake or withdraw.
    error SimNothingStaked(address account);
    /// @notice `account`'s stake unlocks only at turn `unlockTurn`.
    error SimStakeLocked(address account, uint256 unlockTurn);
    /// @notice A per-agent array of length `given` where `expected` entries are needed.
    error SimBadLength(uint256 given, uint256 expected);
    /// @notice A genesis grant after the first turn was closed.
    error SimGrantAfterStart();
    /// @notice `to` is not an account of the ledger.
    error SimUnknownAccount(address to);
    /// @notice A constructor argument out of its range, named by `what`.
    error SimBadConfig(string what);

    /// @notice `account` was credited `amount` new tokens (`why`: genesis, bonus, wage).
    event Minted(address indexed account, uint256 amount, bytes32 why);
    /// @notice `agent` took `action` in `turn` (amount: stake, burn or transfer size).
    event Acted(address indexed agent, uint256 indexed turn, Action action, uint256 amount);
    /// @notice `agent` was billed `fee` for `units` metered inference units in `turn`.
    event Billed(address indexed agent, uint256 indexed turn, uint256 units, uint256 fee);
    /// @notice `agent`'s negative balance was charged `interest` in `turn`.
    event InterestCharged(address indexed agent, uint256 indexed turn, uint256 interest);
    /// @notice `winner` sealed `turn`'s block out of total lottery weight `weight`.
    event BlockSealed(uint256 indexed turn, address indexed winner, uint256 weight, uint256 bonus);
    /// @notice No block in `turn`: total weight `weight` was below the threshold.
    event BlockSkipped(uint256 indexed turn, uint256 weight);
    /// @notice `holder` received `amount` of the fee pool for its core shares.
    event DividendPaid(address indexed holder, uint256 indexed turn, uint256 amount);
    /// @notice `agent` withdrew `amount` of stake whose delay had passed.
    event StakeWithdrawn(address indexed agent, uint256 amount);
    /// @notice `turn` closed having collected `fees`; the next turn is open.
    event TurnClosed(uint256 indexed turn, uint256 fees);

    /// @notice Enter this turn's validator lottery with the base mining weight.
    function mine() external;

    /// @notice Work this turn for the wage (no inference is billed for a job turn).
    function job() external;

    /// @notice Study this turn (billed as usual; no lottery entry, no wage).
    function study() external;

    /// @notice Lock `amount` of balance as stake (lottery weight per staked token).
    /// @param amount Tokens to lock (> 0, at most the balance).
    function stake(uint256 amount) external;

    /// @notice Ask for the whole stake back; it stays locked, weighted, until the delay passes.
    function requestUnstake() external;

    /// @notice Destroy `amount` of balance for lottery weight that matures and then decays.
    /// @param amount Tokens to burn (> 0, at most the balance).
    function burn(uint256 amount) external;

    /// @notice Send `amount` to `to`, paying `fee` into the fee pool.
    /// @param to A ledger account.
    /// @param amount Tokens `to` receives.
    /// @param fee Tokens paid into the fee pool (`amount + fee` at most the balance).
    function transfer(address to, uint256 amount, uint256 fee) external;

    /// @notice Return unlocked stake to the balance (not a turn's action).
    function withdrawStake() external;

    /// @notice Close the open turn: bill metered inference, charge interest, draw the lottery,
    ///         pay the fee pool to core holders (compute meter only).
    /// @param thinking Each agent's thinking-layer units this turn, in `agents()` order.
    /// @param output Each agent's output units this turn, in `agents()` order.
    function closeTurn(uint256[] calldata thinking, uint256[] calldata output) external;
}
