"""The time-bandit proposer: re-mines exactly when the MEV behind it beats the cost, never
past the finality depth, and takes the orphaned blocks' payments."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbed.agents.blockprod.bandit import BanditPlan, TimeBanditProposer
from agentbed.agents.blockprod.experiment import (
    ReorgConfig,
    ReorgConfigError,
    load_config,
    report,
    run_grid,
    run_once,
)
from agentbed.chain.node import GWEI, Chain

BANDIT = "0x00000000000000000000000000000000000000B0"
HONEST = "0x00000000000000000000000000000000000000a0"


def _chain_with_mev(tips_gwei: list[int]) -> Chain:
    """One honest block per entry, each holding one transfer tipping that much per gas."""
    chain = Chain(seed=4, accounts=3, automine=False)
    chain.coinbase = HONEST
    for tip in tips_gwei:
        fields = {
            "to": chain.accounts[2].address,
            "value": 1,
            "gas": 21_000,
            "maxPriorityFeePerGas": tip * GWEI,
            "maxFeePerGas": 2 * chain.base_fee + tip * GWEI,
        }
        chain.submit(chain.sign(chain.accounts[0], fields))
        chain.mine()
    return chain


def test_bandit_plans_the_most_profitable_depth() -> None:
    chain = _chain_with_mev([1000, 1, 2000])  # payments 0.021, 0.000021, 0.042 ETH
    cost = 21_000 * 1500 * GWEI  # 0.0315 ETH per orphaned block
    bandit = TimeBanditProposer("b", BANDIT, cost_per_block=cost, max_depth=3)
    paid = [chain.block(n).coinbase_payment for n in (3, 2, 1)]
    # depth 1: 0.042 - 0.0315 > 0; depth 2 and 3 add less than they cost.
    assert bandit.plan(chain) == BanditPlan(1, paid[0] - cost)
    expensive = TimeBanditProposer("b", BANDIT, cost_per_block=paid[0], max_depth=3)
    assert expensive.plan(chain) == BanditPlan(0, 0)


def test_bandit_reorgs_and_takes_the_orphaned_payments() -> None:
    chain = _chain_with_mev([500, 3000])
    orphaned = chain.head
    bandit = TimeBanditProposer("b", BANDIT, cost_per_block=10**15)
    block = bandit.propose(chain)
    (reorg,) = chain.reorgs
    assert reorg.depth == 2 and chain.head == block and block.number == 3
    assert chain.block(2).tx_hashes == orphaned.tx_hashes and chain.block(2).coinbase == BANDIT
    assert chain.balance(BANDIT) == sum(chain.block(n).coinbase_payment for n in (1, 2, 3))


@pytest.mark.parametrize(("finality", "depth"), [(1, 0), (2, 1), (None, 2)])
def test_bandit_stays_within_the_finality_depth(finality: int | None, depth: int) -> None:
    chain = _chain_with_mev([3000, 3000])
    chain.set_fork_choice(finality_depth=finality)
    bandit = TimeBanditProposer("b", BANDIT, cost_per_block=10**15)
    assert bandit.plan(chain).depth == depth
    bandit.propose(chain)
    assert [r.depth for r in chain.reorgs] == ([depth] if depth else [])


def test_experiment_is_deterministic_and_never_reorgs_at_finality_one() -> None:
    cfg = ReorgConfig(slots=12, seeds=(1, 2), mev_at_stake_eth=(0.0, 0.1), finality_depths=(0, 1))
    assert run_once(cfg, 1, 0.1, 0) == run_once(cfg, 1, 0.1, 0)
    grid = run_grid(cfg)
    for point in grid:
        if point.finality == 1 or point.mev_eth == 0.0:
            assert all(run.reorgs == 0 for run in point.runs)
    assert "| 0.1 | none |" in report(cfg, grid)


def test_reorg_config_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "reorgs.toml"
    path.write_text("[reorgs]\nslots = 3\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(ReorgConfigError, match="unknown keys in \\[reorgs\\]: \\['bogus'\\]"):
        load_config(path)
    path.write_text("[reorgs]\nslots = 3\n", encoding="utf-8")
    assert load_config(path).slots == 3
    assert load_config(Path("scenarios/blockprod/reorgs.toml")).seeds == (1, 2, 3, 4, 5)
