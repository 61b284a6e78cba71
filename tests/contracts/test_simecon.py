"""Behaviour of ``contracts/SimEconomy.sol``: actions, billing, interest, lottery, dividends.

Three agents and a meter (the operator, holding three core shares; agent 0 holds the fourth).
Every transaction has a fixed gas limit, so reverts are mined and checked by custom-error name.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from txkit import events, tx_helpers, view

from agentbed.agents.simecon.world import WorldParams
from agentbed.chain.node import Chain

GAS = 3_000_000
SEED = 7
PARAMS = WorldParams(turns=4, job_wage=75)
send, ok, reverts = tx_helpers(GAS)


@pytest.fixture
def meter(accounts: tuple[LocalAccount, ...]) -> LocalAccount:
    return accounts[1]


@pytest.fixture
def agents(accounts: tuple[LocalAccount, ...]) -> tuple[LocalAccount, ...]:
    return accounts[2:5]


@pytest.fixture
def sim(chain: Chain, deploy: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]) -> Any:
    """The world with each agent granted 1,000 genesis tokens."""
    addresses = [a.address for a in agents]
    contract = deploy(
        "SimEconomy",
        PARAMS.contract_config(SEED),
        addresses,
        meter.address,
        [meter.address, addresses[0]],
        [3, 1],
    )
    for address in addresses:
        ok(chain, meter, contract.functions.grant(address, 1_000))
    return contract


def close(chain: Chain, sim: Any, meter: LocalAccount, units: list[tuple[int, int]]) -> Any:
    return ok(chain, meter, sim.functions.closeTurn([t for t, _ in units], [o for _, o in units]))


def balance(chain: Chain, sim: Any, who: LocalAccount) -> int:
    return int(view(chain, sim.functions.balanceOf(who.address)))


def test_bill_charges_units_above_commons_with_floored_thinking_discount(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    for a in agents:
        ok(chain, a, sim.functions.study())
    # 0.1 * 59 floors to 5: 5 + 100 = 105 units -> fee 5; 95 units -> 0; 35 + 280 -> 215.
    rec = close(chain, sim, meter, [(59, 100), (50, 45), (350, 280)])
    billed = [(e["units"], e["fee"]) for _, e in events(rec, sim, name="Billed")]
    assert billed == [(105, 5), (50, 0), (315, 215)]
    # agent 0 also holds one of the four core shares of the 220 billed
    assert [balance(chain, sim, a) for a in agents] == [995 + 55, 1000, 785]


def test_job_pays_the_wage_and_is_not_billed(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    ok(chain, agents[1], sim.functions.job())
    rec = close(chain, sim, meter, [(350, 280)] * 3)
    billed = [e["agent"] for _, e in events(rec, sim, name="Billed")]
    assert billed == [agents[0].address, agents[2].address]
    assert balance(chain, sim, agents[1]) == 1_000 + PARAMS.job_wage


def test_job_wage_spread_draws_from_the_seed(
    chain: Chain, deploy: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    params = WorldParams(turns=4, job_wage=75, job_wage_spread=75)
    alice = agents[0].address
    contract = deploy(
        "SimEconomy", params.contract_config(SEED), [alice], meter.address, [meter.address], [1]
    )
    key = keccak(encode(["bytes32", "address", "uint256"], [SEED.to_bytes(32, "big"), alice, 1]))
    expected = int.from_bytes(key) % 151  # 0 .. 150
    ok(chain, agents[0], contract.functions.job())
    assert view(chain, contract.functions.balanceOf(alice)) == expected
    assert view(chain, contract.functions.wageOf(alice, 1)) == expected


def test_revert_when_the_wage_spread_exceeds_the_wage(
    deploy: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    bad = WorldParams(job_wage=10, job_wage_spread=11).contract_config(SEED)
    with pytest.raises(Exception, match="SimBadConfig"):
        deploy("SimEconomy", bad, [agents[0].address], meter.address, [meter.address], [1])


def test_interest_on_debt_is_rounded_up(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    ok(chain, agents[1], sim.functions.stake(1_000))  # balance 0, then billed into debt
    rec = close(chain, sim, meter, [(0, 100), (0, 150), (0, 100)])
    (interest,) = [e for _, e in events(rec, sim, name="InterestCharged")]
    # debt 50 at 1%: 0.5 rounds up to 1
    assert interest["agent"] == agents[1].address and interest["interest"] == 1
    assert balance(chain, sim, agents[1]) == -51


def test_no_block_below_the_weight_threshold(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    ok(chain, agents[0], sim.functions.mine())  # weight 10 < 20
    rec = close(chain, sim, meter, [(0, 0)] * 3)
    assert [e["weight"] for _, e in events(rec, sim, name="BlockSkipped")] == [100_000]
    assert view(chain, sim.functions.blocksSealed()) == 0


def test_block_pays_the_bonus_to_the_seeded_draw(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    for a in agents[:2]:
        ok(chain, a, sim.functions.mine())
    rec = close(chain, sim, meter, [(0, 0)] * 3)
    (sealed,) = [e for _, e in events(rec, sim, name="BlockSealed")]
    draw = int.from_bytes(keccak(encode(["bytes32", "uint256"], [SEED.to_bytes(32, "big"), 1])))
    expected = agents[0] if draw % 200_000 < 100_000 else agents[1]
    assert sealed["winner"] == expected.address and sealed["weight"] == 200_000
    assert balance(chain, sim, expected) == 1_000 + PARAMS.signing_bonus


def test_burn_weighs_after_maturity_and_decays(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    ok(chain, agents[2], sim.functions.burn(100))  # turn 1
    weight = sim.functions.weightOf(agents[2].address, 3, False)
    assert view(chain, weight) == 0  # matures at turn 4
    at4 = view(chain, sim.functions.weightOf(agents[2].address, 4, False))
    # 100 tokens * 0.05 = 5.0, three turns of 2% decay: 50000 * 0.98^3 floored per step
    assert at4 == ((50_000 * 9_800 // 10_000) * 9_800 // 10_000) * 9_800 // 10_000


def test_fee_pool_is_paid_to_core_holders_pro_rata(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    for a in agents:
        ok(chain, a, sim.functions.study())
    close(chain, sim, meter, [(0, 101), (0, 100), (0, 100)])  # pool 1: 3/4 and 1/4 floor to 0
    assert view(chain, sim.functions.feePool()) == 1
    for a in agents:
        ok(chain, a, sim.functions.study())
    close(chain, sim, meter, [(0, 107), (0, 100), (0, 100)])  # pool 8: 6 and 2
    assert view(chain, sim.functions.feePool()) == 0
    assert balance(chain, sim, meter) == 6
    assert balance(chain, sim, agents[0]) == 1_000 - 8 + 2


def test_stake_stays_locked_until_the_unstake_delay_passes(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    alice = agents[0]
    ok(chain, alice, sim.functions.stake(80))
    reverts(chain, alice, sim.functions.withdrawStake(), error="SimNothingStaked")
    close(chain, sim, meter, [(0, 0)] * 3)
    ok(chain, alice, sim.functions.requestUnstake())  # turn 2: unlocks at turn 7
    reverts(chain, alice, sim.functions.withdrawStake(), error="SimStakeLocked")
    assert view(chain, sim.functions.stakedOf(alice.address)) == 80


def test_revert_when_acting_twice_or_not_an_agent(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    ok(chain, agents[0], sim.functions.mine())
    reverts(chain, agents[0], sim.functions.job(), error="SimAlreadyActed")
    reverts(chain, meter, sim.functions.mine(), error="SimNotAgent")
    reverts(chain, agents[1], sim.functions.burn(2_000), error="SimInsufficientBalance")
    reverts(chain, agents[1], sim.functions.stake(0), error="SimZeroAmount")


def test_revert_when_not_the_meter_or_wrong_lengths(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    reverts(chain, agents[0], sim.functions.closeTurn([0] * 3, [0] * 3), error="SimNotOperator")
    reverts(chain, meter, sim.functions.closeTurn([0] * 2, [0] * 3), error="SimBadLength")
    close(chain, sim, meter, [(0, 0)] * 3)
    reverts(chain, meter, sim.functions.grant(agents[0].address, 1), error="SimGrantAfterStart")


def test_revert_after_the_last_turn(
    chain: Chain, sim: Any, meter: LocalAccount, agents: tuple[LocalAccount, ...]
) -> None:
    for _ in range(PARAMS.turns):
        close(chain, sim, meter, [(0, 0)] * 3)
    reverts(chain, agents[0], sim.functions.mine(), error="SimEconomyOver")
    reverts(chain, meter, sim.functions.closeTurn([0] * 3, [0] * 3), error="SimEconomyOver")
