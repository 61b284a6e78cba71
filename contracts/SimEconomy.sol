// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISimEconomy} from "./simecon/ISimEconomy.sol";
import {SimLottery} from "./simecon/SimLottery.sol";

/// @title SimEconomy
/// @notice The sim-economy paper's world on an EVM: agents act once per turn (mine, job, study,
///         stake, unstake, burn, transfer) on a credit ledger whose balances may go negative,
///         and a compute meter (the operator) closes each turn by billing inference above a
///         commons threshold, charging interest on debt and drawing the validator lottery.
/// @dev Order of `closeTurn`: (1) bill every agent that did not take a job, `fee = rate *
///      max(0, thinking * discount + output - threshold)` with the discounted thinking units
///      floored; (2) charge `ceil(debt * interestBps / 10_000)` on each negative balance;
///      (3) draw the lottery over `mine weight (if mined) + stake * stakeWeightPerToken +
///      sum of matured burns * burnWeightPerToken * (1 - decay)^age`, sealing a block and
///      minting the signing bonus to the winner only if the total reaches `blockThreshold`;
///      (4) pay the fee pool to core holders pro rata (the remainder of the division stays).
///      Lottery weights are in units of 1/10_000. The draw is `keccak256(seed, turn) mod total
///      weight`, `seed` being the run's root seed passed at deployment: nothing block-derived.
///      Balances are whole tokens (no decimals); the contract makes no external calls, so it
///      needs no reentrancy guard.
contract SimEconomy is ISimEconomy {
    /// @notice The world's parameters (Table 1 of the paper, plus the job's wage and the seed).
    struct Config {
        uint256 maxTurns;
        uint256 commonsThreshold;
        uint256 inferenceRate;
        uint256 thinkingDiscountBps;
        uint256 mineWeight;
        uint256 stakeWeightPerToken;
        uint256 burnWeightPerToken;
        uint256 burnDecayBps;
        uint256 burnMaturity;
        uint256 unstakeDelay;
        uint256 interestBps;
        uint256 signingBonus;
        uint256 blockThreshold;
        uint256 jobWage;
        uint256 jobWageSpread;
        bytes32 seed;
    }

    uint256 private constant BPS = 10_000;
    bytes32 private constant GENESIS = "genesis";
    bytes32 private constant BONUS = "bonus";
    bytes32 private constant WAGE = "wage";

    /// @notice Who closes turns and reports metered inference.
    address public immutable operator;
    Config private _config;
    address[] private _agents;
    address[] private _coreHolders;
    uint256[] private _coreShares;
    uint256 private _totalShares;

    mapping(address account => bool) public isAccount;
    mapping(address account => bool) public isAgent;
    mapping(address account => int256) public balanceOf;
    mapping(address agent => uint256) public stakedOf;
    mapping(address agent => uint256) public unlockTurnOf;
    mapping(address agent => uint256) public lastActedTurn;
    mapping(address agent => Action) public lastAction;
    mapping(address agent => SimLottery.Burn[]) private _burns;

    /// @notice The open turn (1-based); `maxTurns + 1` once the run is over.
    uint256 public turn = 1;
    /// @notice Fees billed and not yet paid out.
    uint256 public feePool;
    uint256 public totalMinted;
    uint256 public totalBurned;
    uint256 public totalInterest;
    uint256 public totalFees;
    uint256 public blocksSealed;

    /// @notice Creates the world.
    /// @param config_ The parameters; weights in 1/10_000 units, rates in basis points.
    /// @param agents_ The agents, in the order `closeTurn` reports their inference.
    /// @param operator_ The compute meter.
    /// @param coreHolders The holders of core shares (ledger accounts; may include agents).
    /// @param coreShares Each holder's number of core shares.
    constructor(
        Config memory config_,
        address[] memory agents_,
        address operator_,
        address[] memory coreHolders,
        uint256[] memory coreShares
    ) {
        if (agents_.length == 0) revert SimBadConfig("agents");
        if (coreHolders.length == 0 || coreHolders.length != coreShares.length) {
            revert SimBadConfig("core shares");
        }
        if (config_.thinkingDiscountBps > BPS || config_.burnDecayBps > BPS) {
            revert SimBadConfig("basis points");
        }
        if (config_.blockThreshold == 0) revert SimBadConfig("block threshold");
        if (config_.jobWageSpread > config_.jobWage) revert SimBadConfig("job wage spread");
        _config = config_;
        operator = operator_;
        for (uint256 i = 0; i < agents_.length; ++i) {
            if (isAgent[agents_[i]]) revert SimBadConfig("duplicate agent");
            isAgent[agents_[i]] = true;
            isAccount[agents_[i]] = true;
            _agents.push(agents_[i]);
        }
        for (uint256 i = 0; i < coreHolders.length; ++i) {
            isAccount[coreHolders[i]] = true;
            _coreHolders.push(coreHolders[i]);
            _coreShares.push(coreShares[i]);
            _totalShares += coreShares[i];
        }
        if (_totalShares == 0) revert SimBadConfig("core shares");
    }

    modifier onlyAgentTurn(Action action, uint256 amount) {
        if (!isAgent[msg.sender]) revert SimNotAgent(msg.sender);
        if (turn > _config.maxTurns) revert SimEconomyOver(_config.maxTurns);
        if (lastActedTurn[msg.sender] == turn) revert SimAlreadyActed(msg.sender, turn);
        _;
        lastActedTurn[msg.sender] = turn;
        lastAction[msg.sender] = action;
        emit Acted(msg.sender, turn, action, amount);
    }

    /// @notice The parameters the world was deployed with.
    /// @return The deployment's `Config`.
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @notice The agents, in `closeTurn`'s order.
    /// @return The agents' addresses.
    function agents() external view returns (address[] memory) {
        return _agents;
    }

    /// @notice The ledger in one read: the open turn and each agent's balance, stake and last
    ///         acted turn, in `agents()` order.
    /// @return turn_ The open turn.
    /// @return balances Each agent's balance (negative: debt).
    /// @return staked Each agent's stake, including stake whose unstake was requested.
    /// @return acted The last turn each agent acted in.
    function snapshot()
        external
        view
        returns (uint256 turn_, int256[] memory balances, uint256[] memory staked, uint256[] memory acted)
    {
        uint256 n = _agents.length;
        balances = new int256[](n);
        staked = new uint256[](n);
        acted = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            address agent = _agents[i];
            balances[i] = balanceOf[agent];
            staked[i] = stakedOf[agent];
            acted[i] = lastActedTurn[agent];
        }
        return (turn, balances, staked, acted);
    }

    /// @notice `agent`'s lottery weight in `atTurn` if it mines (`mined`) or not.
    /// @param agent An agent.
    /// @param atTurn The turn the weight is for (burns mature and decay by it).
    /// @param mined Whether the agent mines that turn (adds the base mining weight).
    /// @return The weight, in 1/10_000 units.
    function weightOf(address agent, uint256 atTurn, bool mined) public view returns (uint256) {
        Config storage c = _config;
        uint256 burnt = SimLottery.burnWeight(
            _burns[agent], atTurn, c.burnMaturity, c.burnWeightPerToken, c.burnDecayBps
        );
        return (mined ? c.mineWeight : 0) + stakedOf[agent] * c.stakeWeightPerToken + burnt;
    }

    /// @notice Credit genesis tokens to `account` before the first turn closes (operator only).
    /// @param account A ledger account.
    /// @param amount Tokens to mint.
    function grant(address account, uint256 amount) external {
        if (msg.sender != operator) revert SimNotOperator(msg.sender);
        if (turn != 1) revert SimGrantAfterStart();
        if (!isAccount[account]) revert SimUnknownAccount(account);
        _mint(account, amount, GENESIS);
    }

    /// @inheritdoc ISimEconomy
    function mine() external onlyAgentTurn(Action.Mine, 0) {}

    /// @inheritdoc ISimEconomy
    /// @dev The wage is `jobWage`, or with a spread `s` uniform on `jobWage - s .. jobWage + s`,
    ///      drawn from `keccak256(seed, agent, turn)`.
    function job() external onlyAgentTurn(Action.Job, wageOf(msg.sender, turn)) {
        _mint(msg.sender, wageOf(msg.sender, turn), WAGE);
    }

    /// @notice What a job pays `agent` in `atTurn`.
    /// @param agent An agent.
    /// @param atTurn A turn.
    /// @return The wage in tokens.
    function wageOf(address agent, uint256 atTurn) public view returns (uint256) {
        uint256 spread = _config.jobWageSpread;
        if (spread == 0) return _config.jobWage;
        uint256 draw = uint256(keccak256(abi.encode(_config.seed, agent, atTurn))) % (2 * spread + 1);
        return _config.jobWage - spread + draw;
    }

    /// @inheritdoc ISimEconomy
    function study() external onlyAgentTurn(Action.Study, 0) {}

    /// @inheritdoc ISimEconomy
    function stake(uint256 amount) external onlyAgentTurn(Action.Stake, amount) {
        _debit(msg.sender, amount);
        stakedOf[msg.sender] += amount;
    }

    /// @inheritdoc ISimEconomy
    /// @dev A repeated request keeps the first unlock turn (the clock does not restart).
    function requestUnstake() external onlyAgentTurn(Action.Unstake, stakedOf[msg.sender]) {
        if (stakedOf[msg.sender] == 0) revert SimNothingStaked(msg.sender);
        if (unlockTurnOf[msg.sender] == 0) unlockTurnOf[msg.sender] = turn + _config.unstakeDelay;
    }

    /// @inheritdoc ISimEconomy
    function burn(uint256 amount) external onlyAgentTurn(Action.Burn, amount) {
        _debit(msg.sender, amount);
        totalBurned += amount;
        _burns[msg.sender].push(SimLottery.Burn(turn, amount));
    }

    /// @inheritdoc ISimEconomy
    function transfer(address to, uint256 amount, uint256 fee)
        external
        onlyAgentTurn(Action.Transfer, amount)
    {
        if (!isAccount[to]) revert SimUnknownAccount(to);
        _debit(msg.sender, amount + fee);
        balanceOf[to] += int256(amount);
        feePool += fee;
    }

    /// @inheritdoc ISimEconomy
    function withdrawStake() external {
        uint256 amount = stakedOf[msg.sender];
        uint256 unlock = unlockTurnOf[msg.sender];
        if (amount == 0 || unlock == 0) revert SimNothingStaked(msg.sender);
        if (turn < unlock) revert SimStakeLocked(msg.sender, unlock);
        stakedOf[msg.sender] = 0;
        unlockTurnOf[msg.sender] = 0;
        balanceOf[msg.sender] += int256(amount);
        emit StakeWithdrawn(msg.sender, amount);
    }

    /// @inheritdoc ISimEconomy
    function closeTurn(uint256[] calldata thinking, uint256[] calldata output) external {
        if (msg.sender != operator) revert SimNotOperator(msg.sender);
        uint256 n = _agents.length;
        if (thinking.length != n) revert SimBadLength(thinking.length, n);
        if (output.length != n) revert SimBadLength(output.length, n);
        uint256 t = turn;
        if (t > _config.maxTurns) revert SimEconomyOver(_config.maxTurns);
        uint256 fees = _bill(t, thinking, output);
        _chargeInterest(t);
        _drawLottery(t);
        _payDividends(t);
        turn = t + 1;
        emit TurnClosed(t, fees);
    }

    function _bill(uint256 t, uint256[] calldata thinking, uint256[] calldata output)
        private
        returns (uint256 fees)
    {
        Config storage c = _config;
        for (uint256 i = 0; i < _agents.length; ++i) {
            address agent = _agents[i];
            // A job is labour, not inference: the paper's fee totals match billing only the
            // agents that did not work (docs/sim-economy.md derives this).
            if (lastActedTurn[agent] == t && lastAction[agent] == Action.Job) continue;
            uint256 units = (thinking[i] * c.thinkingDiscountBps) / BPS + output[i];
            uint256 fee = units > c.commonsThreshold ? (units - c.commonsThreshold) * c.inferenceRate : 0;
            balanceOf[agent] -= int256(fee);
            fees += fee;
            emit Billed(agent, t, units, fee);
        }
        feePool += fees;
        totalFees += fees;
    }

    function _chargeInterest(uint256 t) private {
        uint256 bps = _config.interestBps;
        for (uint256 i = 0; i < _agents.length; ++i) {
            address agent = _agents[i];
            int256 balance = balanceOf[agent];
            if (balance >= 0) continue;
            uint256 debt = uint256(-balance);
            uint256 interest = (debt * bps + BPS - 1) / BPS; // rounded up: any debt costs
            if (interest == 0) continue;
            balanceOf[agent] = balance - int256(interest);
            totalInterest += interest;
            emit InterestCharged(agent, t, interest);
        }
    }

    function _drawLottery(uint256 t) private {
        uint256 n = _agents.length;
        uint256[] memory weights = new uint256[](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            address agent = _agents[i];
            bool mined = lastActedTurn[agent] == t && lastAction[agent] == Action.Mine;
            weights[i] = weightOf(agent, t, mined);
            total += weights[i];
        }
        if (total < _config.blockThreshold) {
            emit BlockSkipped(t, total);
            return;
        }
        uint256 w = SimLottery.pick(weights, total, _config.seed, t);
        blocksSealed += 1;
        _mint(_agents[w], _config.signingBonus, BONUS);
        emit BlockSealed(t, _agents[w], total, _config.signingBonus);
    }

    function _payDividends(uint256 t) private {
        uint256 pool = feePool;
        uint256 paid = 0;
        for (uint256 i = 0; i < _coreHolders.length; ++i) {
            uint256 amount = (pool * _coreShares[i]) / _totalShares;
            if (amount == 0) continue;
            balanceOf[_coreHolders[i]] += int256(amount);
            paid += amount;
            emit DividendPaid(_coreHolders[i], t, amount);
        }
        feePool = pool - paid;
    }

    function _mint(address account, uint256 amount, bytes32 why) private {
        balanceOf[account] += int256(amount);
        totalMinted += amount;
        emit Minted(account, amount, why);
    }

    function _debit(address account, uint256 amount) private {
        if (amount == 0) revert SimZeroAmount();
        int256 balance = balanceOf[account];
        if (balance < int256(amount)) revert SimInsufficientBalance(account, balance, amount);
        balanceOf[account] = balance - int256(amount);
    }
}
