"""MEV accounting: counterfactual victim loss to the wei, ground truth, detection, profit."""

from __future__ import annotations

import random
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, PeriodicSchedule, derive_seed
from agentbed.agents.market.accounting import (
    MevTruth,
    Valuation,
    account_run,
    counterfactual_output,
    ground_truth,
)
from agentbed.agents.market.amm_math import amount_out, optimal_sandwich, simulate_sandwich
from agentbed.agents.market.mev import swaps_from_receipts
from agentbed.agents.market.world import MAX_UINT, Market, PoolSpec, decode_swap, swap_calldata
from agentbed.agents.sim import SentTx, Simulation
from agentbed.chain.node import Chain
from agentbed.chain.ordering import FifoPolicy, PriorityFeePolicy

R0, R1 = 1_000 * 10**18, 3_000_000 * 10**18
FUNDS = {"WETH": 100 * 10**18, "USDC": 300_000 * 10**18}
VICTIM_IN = 20 * 10**18
SWAP_GAS = 150_000


def deploy(seed: int, accounts: int, **chain_kwargs: Any) -> tuple[Chain, Market]:
    chain = Chain(seed=seed, accounts=accounts + 1, automine=True, **chain_kwargs)
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", R0, R1)], seed=seed)
    chain.automine = False
    return chain, market


def deploy_victim_and_attacker(seed: int) -> tuple[Chain, Market, Any, Any]:
    """A FIFO chain whose victim and attacker accounts are funded and have approved the pool."""
    chain, market = deploy(seed, 2, policy=FifoPolicy())
    victim, attacker = chain.accounts[1], chain.accounts[2]
    market.fund({a.address: FUNDS for a in (victim, attacker)})
    for account in (victim, attacker):
        for intent in market.approvals():
            chain.transact(account, to=intent.to, data=intent.data, gas=intent.gas)
    chain.mine()
    return chain, market, victim, attacker


def test_counterfactual_victim_loss_on_a_hand_built_block() -> None:
    chain, market, victim, attacker = deploy_victim_and_attacker(1)
    pool = market.pools[0]
    weth = market.tokens["WETH"]
    r_in, r_out = market.reserves_for(pool, weth)
    need = amount_out(VICTIM_IN, r_in, r_out, pool.fee_bps) * 98 // 100
    plan = optimal_sandwich(r_in, r_out, pool.fee_bps, VICTIM_IN, need)
    assert plan is not None and plan.profit > 0

    def swap(account: Any, token: str, amount: int, min_out: int) -> bytes:
        data = swap_calldata(token, amount, min_out, account.address, MAX_UINT)
        return chain.transact(account, to=pool.address, data=data, gas=SWAP_GAS)

    # FIFO: the block holds them in the order they are sent.
    front = swap(attacker, weth, plan.front_in, 0)
    hit = swap(victim, weth, VICTIM_IN, need)
    back = swap(attacker, pool.other(weth), plan.front_out, 0)
    (block,) = chain.mine()
    assert block.tx_hashes == (front, hit, back)
    receipts = chain.receipts(block.number)
    assert all(r.status == 1 for r in receipts)

    alone = counterfactual_output(chain, hit, block.number)
    actual = next(s.amount_out for s in swaps_from_receipts(receipts) if s.tx_hash == hit)
    # Both sides recomputed independently from the constant-product formula with fee.
    assert alone == amount_out(VICTIM_IN, r_in, r_out, pool.fee_bps)
    assert (
        actual == simulate_sandwich(plan.front_in, r_in, r_out, pool.fee_bps, VICTIM_IN).victim_out
    )
    assert alone - actual > 0
    # On the block's own state (the sandwich already applied) the output would be different.
    assert counterfactual_output(chain, hit, block.number + 1) != alone


def test_counterfactual_is_none_when_the_tx_would_revert_alone() -> None:
    chain, market = deploy(2, 1)
    trader = chain.accounts[1]
    market.fund({trader.address: FUNDS})  # no approval: the swap reverts
    pool = market.pools[0]
    weth = market.tokens["WETH"]
    data = swap_calldata(weth, 10**18, 0, trader.address, MAX_UINT)
    tx = chain.transact(trader, to=pool.address, data=data, gas=SWAP_GAS)
    (block,) = chain.mine()
    assert chain.receipt(tx).status == 0
    assert counterfactual_output(chain, tx, block.number) is None


# -- a scripted sandwich through the simulation -------------------------------------------------


class OneSwap(Agent):
    """Sells ``amount`` WETH once, with 2% slippage, at its first wake."""

    def __init__(self, *args: Any, amount: int = VICTIM_IN, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.amount = amount
        self.done = False

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.done:
            return ()
        self.done = True
        market = view.market
        pool = market.pools[0]
        token = market.tokens["WETH"]
        min_out = market.quote(pool, token, self.amount) * 98 // 100
        return (market.swap(pool, token, self.amount, min_out, self.address, tip=GWEI),)


class ScriptedSandwicher(Agent):
    """Sandwiches every pending swap it sees with the optimal front-run: front outbids the
    victim's tip, back underbids it (priority ordering puts them around the victim)."""

    wants_pending = True

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        ptx = view.trigger
        if ptx is None:
            return ()
        swap = decode_swap(ptx.tx.to, ptx.tx.data)
        if swap is None:
            return ()
        market = view.market
        pool = market.by_address[swap.pool]
        r_in, r_out = market.reserves_for(pool, swap.token_in)
        plan = optimal_sandwich(r_in, r_out, pool.fee_bps, swap.amount_in, swap.min_amount_out)
        if plan is None:
            return ()
        victim = "0x" + ptx.hash.hex()
        other = pool.other(swap.token_in)
        return (
            market.swap(
                pool,
                swap.token_in,
                plan.front_in,
                0,
                self.address,
                tip=5 * GWEI,
                label="front",
                victim=victim,
            ),
            market.swap(
                pool,
                other,
                plan.front_out,
                0,
                self.address,
                tip=GWEI // 2,
                label="back",
                victim=victim,
            ),
        )


@pytest.fixture(scope="module")
def sandwiched() -> tuple[Simulation, Market]:
    chain, market = deploy(5, 2, policy=PriorityFeePolicy(), block_interval_ms=2_000)
    victim = OneSwap(
        "victim0", chain.accounts[1], random.Random(derive_seed(5, "v")), PeriodicSchedule(500)
    )
    attacker = ScriptedSandwicher("sandwicher0", chain.accounts[2], random.Random(1))
    market.fund({a.address: FUNDS for a in (victim, attacker)})
    sim = Simulation(chain, [victim, attacker], blocks=2, seed=5, market=market)
    sim.run()
    return sim, market


def test_scripted_sandwich_is_true_detected_and_its_loss_exact(
    sandwiched: tuple[Simulation, Market],
) -> None:
    sim, market = sandwiched
    account = account_run(
        sim, market, numeraire="USDC", kinds={"victim0": "retail", "sandwicher0": "sandwicher"}
    )
    front, back = (h for h, s in sim.sent.items() if s.label in ("front", "back"))
    (hit,) = (h for h, s in sim.sent.items() if s.label == "trade")
    assert account.truth.count("sandwich") == 1
    assert account.truth.cases[0].tx_hashes == frozenset({front, hit, back})
    assert account.truth.sandwich_attempts == 1
    assert account.sandwich_score.precision == 1.0 and account.sandwich_score.recall == 1.0
    assert account.sandwich_score.true_positives == 1

    r_in, r_out = R0, R1  # nothing traded before the sandwich's block
    plan = optimal_sandwich(
        r_in, r_out, 30, VICTIM_IN, amount_out(VICTIM_IN, r_in, r_out, 30) * 98 // 100
    )
    assert plan is not None
    (loss,) = account.victims
    assert loss.tx == hit and loss.agent == "victim0" and loss.attack == "sandwich"
    assert loss.attackers == ("sandwicher0",)
    assert loss.counterfactual_out == amount_out(VICTIM_IN, r_in, r_out, 30)
    assert loss.actual_out == plan.victim_out
    assert loss.loss == loss.counterfactual_out - loss.actual_out > 0
    assert loss.value == pytest.approx(loss.loss / 10**18)  # USDC is the numeraire

    by_name = {a.name: a for a in account.agents}
    attacker = by_name["sandwicher0"]
    assert attacker.searcher and not by_name["victim0"].searcher
    # The attacker ends with its WETH up by exactly the plan's profit and its USDC unchanged.
    assert attacker.holdings == {"WETH": plan.profit}
    gas_value = account.valuation.value_eth(attacker.gas_spent)
    assert attacker.profit == pytest.approx(
        account.valuation.value(market.tokens["WETH"], plan.profit) - gas_value
    )
    assert attacker.tips_paid > 0 and attacker.included == 2
    assert sum(b.victim_loss for b in account.blocks) == pytest.approx(loss.value)
    assert sum(b.searcher_profit for b in account.blocks) == pytest.approx(attacker.profit)


def test_ground_truth_needs_the_victim_between_front_and_back(
    sandwiched: tuple[Simulation, Market],
) -> None:
    sim, _ = sandwiched
    receipts = [r for m in sim.metrics for r in sim.chain.receipts(m.number)]
    swaps = swaps_from_receipts(receipts)
    truth = ground_truth(sim, receipts, swaps)
    assert isinstance(truth, MevTruth) and truth.count("sandwich") == 1
    # Drop the back from the mined receipts: no sandwich, a frontrun instead.
    back = next(h for h, s in sim.sent.items() if s.label == "back")
    without = [r for r in receipts if r.tx_hash != back]
    truth = ground_truth(sim, without, swaps_from_receipts(without))
    assert truth.count("sandwich") == 0
    assert len(truth.frontruns) == 1
    assert next(iter(truth.victims.values()))[0] == "frontrun"


def test_valuation_prices_tokens_lp_shares_and_eth(sandwiched: tuple[Simulation, Market]) -> None:
    _, market = sandwiched
    valuation = Valuation.from_market(market, "USDC")
    usdc, weth = market.tokens["USDC"], market.tokens["WETH"]
    pool = market.pools[0]
    assert valuation.prices[usdc] == 1.0
    assert valuation.prices[weth] == pytest.approx(3000, rel=0.01)
    assert valuation.eth_price == valuation.prices[weth]
    assert valuation.prices[pool.address] > 0
    assert valuation.symbols[pool.address].startswith("LP:")
    assert Valuation.from_market(market, "USDC", eth_price=10.0).eth_price == 10.0
    with pytest.raises(ValueError, match="numeraire"):
        Valuation.from_market(market, "EUR")


def test_a_victim_reverted_by_a_frontrun_is_counted_not_charged() -> None:
    chain, market, victim, attacker = deploy_victim_and_attacker(3)
    pool = market.pools[0]
    weth = market.tokens["WETH"]
    quote = market.quote(pool, weth, VICTIM_IN)

    def swap(account: Any, amount: int, min_out: int) -> bytes:
        data = swap_calldata(weth, amount, min_out, account.address, MAX_UINT)
        return chain.transact(account, to=pool.address, data=data, gas=SWAP_GAS)

    front = swap(attacker, 10**19, 0)
    hit = swap(victim, VICTIM_IN, quote)  # no slippage allowed: the front-run breaks it
    (block,) = chain.mine()
    receipts = chain.receipts(block.number)
    assert [r.status for r in receipts] == [1, 0]
    sim = SimpleNamespace(
        sent={
            front: SentTx(front, "frontrunner0", "front", {"victim": "0x" + hit.hex()}, 0),
            hit: SentTx(hit, "retail0", "trade", {}, 0),
        }
    )
    truth = ground_truth(sim, receipts, swaps_from_receipts(receipts))  # type: ignore[arg-type]
    assert truth.reverted_victims == 1
    assert truth.frontrun_attempts == 1
    assert truth.frontruns == () and dict(truth.victims) == {}
