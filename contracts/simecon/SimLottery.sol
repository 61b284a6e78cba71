// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SimLottery
/// @notice The validator lottery's arithmetic for `SimEconomy`: the weight of past burns and
///         the seeded weighted draw.
/// @dev Internal functions only (inlined into the caller; nothing to link). Weights are fixed
///      point in 1/10_000 units; decay is applied once per turn of age and floored each time,
///      so the chain and a Python model agree to the unit.
library SimLottery {
    uint256 internal constant BPS = 10_000;

    /// @notice One burn: the turn it happened in and the tokens destroyed.
    struct Burn {
        uint256 turn;
        uint256 amount;
    }

    /// @notice The lottery weight of `burns` in `atTurn`: each burn weighs `amount * perToken`
    ///         once `maturity` turns old, decayed by `decayBps` per turn of age since the burn.
    function burnWeight(
        Burn[] storage burns,
        uint256 atTurn,
        uint256 maturity,
        uint256 perToken,
        uint256 decayBps
    ) internal view returns (uint256 weight) {
        for (uint256 i = 0; i < burns.length; ++i) {
            if (atTurn < burns[i].turn + maturity) continue;
            uint256 w = burns[i].amount * perToken;
            for (uint256 age = burns[i].turn; age < atTurn; ++age) {
                w = (w * (BPS - decayBps)) / BPS;
            }
            weight += w;
        }
    }

    /// @notice The index drawn with probability proportional to its weight:
    ///         `keccak256(seed, turn) mod total`, walked through `weights` in order.
    /// @dev Requires `total == sum(weights) > 0`.
    function pick(uint256[] memory weights, uint256 total, bytes32 seed, uint256 turn)
        internal
        pure
        returns (uint256 index)
    {
        uint256 draw = uint256(keccak256(abi.encode(seed, turn))) % total;
        while (draw >= weights[index]) {
            draw -= weights[index];
            ++index;
        }
    }
}
