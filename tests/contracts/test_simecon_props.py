"""Properties of ``contracts/SimEconomy.sol`` against a Python model of its rules.

Hypothesis plays a few turns of random actions (valid and invalid) and random metered units
for three agents; every transaction's outcome, every balance, stake, the fee pool and each
turn's lottery winner must match the model, and after every turn the ledger closes: what it
holds (balances, stake, fee pool) equals what was minted minus what was burned and charged as
interest. Each example runs on a chain snapshot, reverted afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from txkit import events, send, view

from agentbed.agents.simecon.world import WorldParams
from agentbed.chain.node import Chain

GAS = 3_000_000
SEED = 99
BPS = 10_000
PARAMS = WorldParams(turns=8, job_wage=75, job_wage_spread=40, unstake_delay=2, burn_maturity=1)
N = 3
GENESIS = 100  # small, so a few turns of billing reach debt and interest

amounts = st.sampled_from([0, 1, 50, 80, 700, 5_000])
action = st.one_of(
    st.sampled_from([("none",), ("mine",), ("job",), ("study",), ("unstake",)]),
    st.tuples(st.sampled_from(["stake", "burn"]), amounts),
    st.tuples(st.just("transfer"), st.integers(0, N - 1), amounts, st.sampled_from([0, 1])),
)
units = st.tuples(st.integers(0, 400), st.integers(0, 300))
turn_plan = st.tuples(
    st.lists(action, min_size=N, max_size=N), st.lists(units, min_size=N, max_size=N)
)


@dataclass
class Model:
    """The contract's rules in Python (integer arithmetic as on chain)."""

    config: tuple[Any, ...]
    agents: tuple[str, ...]
    bal: list[int] = field(default_factory=lambda: [GENESIS] * N)
    meter: int = 0
    staked: list[int] = field(default_factory=lambda: [0] * N)
    unlock: list[int] = field(default_factory=lambda: [0] * N)
    burns: list[list[tuple[int, int]]] = field(default_factory=lambda: [[] for _ in range(N)])
    pool: int = 0
    minted: int = GENESIS * N
    burned: int = 0
    interest: int = 0
    turn: int = 1

    def act(self, i: int, plan: tuple[Any, ...]) -> bool:
        """Apply agent ``i``'s action; False when the contract must revert it."""
        name = plan[0]
        if name == "job":
            wage = self.wage(i)
            self.bal[i] += wage
            self.minted += wage
        elif name == "unstake":
            if self.staked[i] == 0:
                return False
            if self.unlock[i] == 0:
                self.unlock[i] = self.turn + PARAMS.unstake_delay
        elif name in ("stake", "burn", "transfer"):
            debit = plan[1] if name != "transfer" else plan[2] + plan[3]
            if debit == 0 or self.bal[i] < debit:
                return False
            self.bal[i] -= debit
            if name == "stake":
                self.staked[i] += debit
            elif name == "burn":
                self.burned += debit
                self.burns[i].append((self.turn, debit))
            else:
                self.bal[plan[1]] += plan[2]
                self.pool += plan[3]
        return True

    def wage(self, i: int) -> int:
        base, spread, seed = self.config[13], self.config[14], self.config[15]
        if spread == 0:
            return int(base)
        key = keccak(encode(["bytes32", "address", "uint256"], [seed, self.agents[i], self.turn]))
        return int(base - spread + int.from_bytes(key) % (2 * spread + 1))

    def weight(self, i: int, mined: bool) -> int:
        c = self.config
        w = (c[4] if mined else 0) + self.staked[i] * c[5]
        for start, amount in self.burns[i]:
            if self.turn < start + c[8]:
                continue
            part = amount * c[6]
            for _ in range(start, self.turn):
                part = part * (BPS - c[7]) // BPS
            w += part
        return w

    def close(self, acted: list[str], metered: list[tuple[int, int]]) -> int | None:
        """Close the turn; return the winner's index or None."""
        c = self.config
        for i, (thinking, output) in enumerate(metered):
            if acted[i] == "job":
                continue
            used = thinking * c[3] // BPS + output
            fee = (used - c[1]) * c[2] if used > c[1] else 0
            self.bal[i] -= fee
            self.pool += fee
        for i in range(N):
            if self.bal[i] < 0:
                charge = (-self.bal[i] * c[10] + BPS - 1) // BPS
                self.bal[i] -= charge
                self.interest += charge
        weights = [self.weight(i, acted[i] == "mine") for i in range(N)]
        winner = None
        if sum(weights) >= c[12]:
            draw = int.from_bytes(keccak(encode(["bytes32", "uint256"], [c[15], self.turn])))
            draw %= sum(weights)
            winner = 0
            while draw >= weights[winner]:
                draw -= weights[winner]
                winner += 1
            self.bal[winner] += c[11]
            self.minted += c[11]
        self.meter += self.pool  # the meter holds every core share
        self.pool = 0
        self.turn += 1
        return winner


def _call(sim: Any, plan: tuple[Any, ...], agents: tuple[LocalAccount, ...]) -> Any:
    f = sim.functions
    name = plan[0]
    if name == "unstake":
        return f.requestUnstake()
    if name in ("stake", "burn"):
        return getattr(f, name)(plan[1])
    if name == "transfer":
        return f.transfer(agents[plan[1]].address, plan[2], plan[3])
    return getattr(f, name)()


@pytest.fixture
def sim(chain: Chain, deploy: Any, accounts: tuple[LocalAccount, ...]) -> Any:
    """The world, its three agents granted GENESIS tokens each; the meter holds every core share."""
    meter, agents = accounts[1], accounts[2 : 2 + N]
    addresses = [a.address for a in agents]
    contract = deploy(
        "SimEconomy", PARAMS.contract_config(SEED), addresses, meter.address, [meter.address], [4]
    )
    for a in agents:
        send(chain, meter, contract.functions.grant(a.address, GENESIS), gas=GAS)
    return contract


# Each example reverts the chain to a snapshot taken after the fixtures, so sharing them is safe.
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(turns=st.lists(turn_plan, min_size=1, max_size=4))
def test_fuzz_contract_follows_the_model_and_the_ledger_closes(
    chain: Chain, sim: Any, accounts: tuple[LocalAccount, ...], turns: list[Any]
) -> None:
    meter, agents = accounts[1], accounts[2 : 2 + N]
    snapshot = chain.snapshot()
    try:
        model = Model(PARAMS.contract_config(SEED), tuple(a.address for a in agents))
        for plans, metered in turns:
            acted = []
            for i, plan in enumerate(plans):
                if plan[0] == "none":
                    acted.append("none")
                    continue
                rec = send(chain, agents[i], _call(sim, plan, agents), gas=GAS)
                expected = model.act(i, plan)
                assert (rec.status == 1) == expected, (plan, rec.revert_reason)
                acted.append(plan[0] if expected else "none")
            rec = send(
                chain,
                meter,
                sim.functions.closeTurn([t for t, _ in metered], [o for _, o in metered]),
                gas=GAS,
            )
            assert rec.status == 1, rec.revert_reason
            winner = model.close(acted, metered)
            sealed = [e["winner"] for _, e in events(rec, sim, name="BlockSealed")]
            assert sealed == ([] if winner is None else [agents[winner].address])
            on_chain = [view(chain, sim.functions.balanceOf(a.address)) for a in agents]
            staked = [view(chain, sim.functions.stakedOf(a.address)) for a in agents]
            meter_balance = view(chain, sim.functions.balanceOf(meter.address))
            assert on_chain == model.bal and staked == model.staked
            assert meter_balance == model.meter
            held = (
                sum(on_chain) + sum(staked) + meter_balance + view(chain, sim.functions.feePool())
            )
            issued = (
                view(chain, sim.functions.totalMinted())
                - view(chain, sim.functions.totalBurned())
                - view(chain, sim.functions.totalInterest())
            )
            assert held == issued
    finally:
        chain.revert(snapshot)
