"""Uniswap v2 as a venue: pairs from v2-core and Router02 from v2-periphery, compiled by our
compiler and deployed on our chain.

1. The router finds the factory's pairs: the init-code hash patched into its library is the
   hash of the pair code compiled here (checked against CREATE2 computed in the test).
2. A router swap is decoded pending (``Market.pending_swap``), from its logs (the detector's
   swaps and the market's reserves) and from its return data (``counterfactual_output``).
3. Calls to the router or a pair that the venue cannot read are unknown, and counted.
4. The theory check of ``test_theory`` on a v2 pair: a sandwich's realised profit equals the
   optimum found here by exhaustive integer search over the pair's own formula (997/1000).
5. An LP deposits and withdraws through the router.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_canonical_address
from marketkit import OneShot, World, balance_at, block_receipts, build_world, once_at

from agentbed.agents.agent import GWEI, AgentView, TxIntent
from agentbed.agents.market.accounting import account_run, unknown_swap_calls
from agentbed.agents.market.mev import detect_sandwiches, swaps_from_receipts
from agentbed.agents.market.strategies.liquidity import LiquidityProvider
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.venues.uniswap_v2 import SWAP_GAS
from agentbed.agents.market.venues.uniswap_v2_build import (
    MAINNET_INIT_CODE_HASH,
    compile_uniswap_v2,
)
from agentbed.agents.market.victims import counterfactual_output
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.chain.ordering import BundlesFirstPolicy, PriorityFeePolicy

SEED = 20261206
V2 = "uniswap-v2"
SMALL_RESERVES = (10**7, 3 * 10**7)


def v2_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountOut``, written out here: 0.3 % fee as 997/1000."""
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def brute_force_sandwich(
    reserve_in: int, reserve_out: int, victim_in: int, victim_min: int, cap: int
) -> tuple[int, set[int]]:
    """The best sandwich profit on a v2 pair over every front-run size in ``[1, cap]``, and
    every size reaching it (the victim must still get its minimum)."""
    best, sizes = 0, set()
    for front in range(1, cap + 1):
        front_out = v2_out(front, reserve_in, reserve_out)
        r_in, r_out = reserve_in + front, reserve_out - front_out
        victim_out = v2_out(victim_in, r_in, r_out)
        if victim_out < max(victim_min, 1):
            break  # a larger front-run only lowers the victim's output further
        profit = v2_out(front_out, r_out - victim_out, r_in + victim_in) - front
        if profit > best:
            best, sizes = profit, {front}
        elif profit == best:
            sizes.add(front)
    return best, sizes


@pytest.fixture(scope="module")
def small_world() -> World:
    return build_world(
        SEED,
        [PoolSpec("AAA", "BBB", *SMALL_RESERVES, venue=V2)],
        {"AAA": 10**9, "BBB": 10**9},
        accounts=4,
    )


@pytest.fixture(scope="module")
def big_world() -> World:
    return build_world(
        SEED,
        [PoolSpec("WETH", "USDC", 10**21, 3 * 10**24, venue=V2)],
        {"WETH": 10**21, "USDC": 10**24},
        accounts=4,
    )


def test_router_finds_the_pairs_by_the_init_code_hash_of_this_compile(big_world: World) -> None:
    artifacts = compile_uniswap_v2()
    assert artifacts.init_code_hash == keccak(artifacts.pair.creation_bytecode)
    assert artifacts.init_code_hash.hex() != MAINNET_INIT_CODE_HASH  # the patch was needed
    with big_world.fresh() as market:
        (pool,) = market.pools
        venue = market.venue_of(pool)
        salt = keccak(to_canonical_address(pool.token0) + to_canonical_address(pool.token1))
        create2 = keccak(
            b"\xff" + to_canonical_address(venue.factory) + salt + artifacts.init_code_hash
        )
        assert to_canonical_address(pool.address) == create2[12:]
        router = big_world.chain.contract(venue.router, artifacts.router)
        path = [pool.token0, pool.token1]
        amounts = router.functions.getAmountsOut(10**18, path).call()
        assert (
            amounts[-1]
            == market.quote(pool, pool.token0, 10**18)
            == v2_out(10**18, *market.reserves_for(pool, pool.token0))
        )


def test_router_swap_is_read_pending_from_logs_and_from_its_return(big_world: World) -> None:
    world = big_world
    chain = world.chain
    with world.fresh() as market:
        (pool,) = market.pools
        trader = world.account(1)
        for intent in market.approvals():
            chain.transact(trader, to=intent.to, data=intent.data, gas=intent.gas)
        chain.mine()
        quote = market.quote(pool, pool.token1, 3 * 10**21)
        intent = market.swap(pool, pool.token1, 3 * 10**21, quote, trader.address, tip=GWEI)
        assert intent.to == market.venue_of(pool).router and intent.gas == SWAP_GAS
        tx_hash = chain.transact(trader, to=intent.to, data=intent.data, gas=intent.gas)
        pending = market.pending_swap(chain.transaction(tx_hash))
        assert pending is not None
        assert (pending.pool, pending.token_in, pending.amount_in, pending.min_amount_out) == (
            pool.address,
            pool.token1,
            3 * 10**21,
            quote,
        )
        (block,) = chain.mine()
        receipts = chain.receipts(block.number)
        (swap,) = swaps_from_receipts(receipts, market.venues.values())
        assert (swap.pool, swap.token_in, swap.amount_in, swap.amount_out) == (
            pool.address,
            pool.token1,
            3 * 10**21,
            quote,
        )
        assert swap.actor == trader.address and swap.recipient == trader.address
        assert swaps_from_receipts(receipts) == ()  # our pool's decoder alone sees no v2 swap
        market.on_block(block, receipts)
        raw = chain.call(pool.address, function_signature_to_4byte_selector("getReserves()"))
        live = (int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"))
        assert market.reserves[pool.address] == live == swap.reserves_after
        # The router returns uint[] amounts: the output, not the array's ABI offset (32).
        assert counterfactual_output(chain, tx_hash, block.number, market) == quote
        assert unknown_swap_calls(chain, market, receipts) == 0


def test_calls_the_venue_cannot_read_are_unknown_and_counted(big_world: World) -> None:
    world = big_world
    chain = world.chain
    with world.fresh() as market:
        (pool,) = market.pools
        venue = market.venue_of(pool)
        trader = world.account(1)
        exact_out = function_signature_to_4byte_selector(
            "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)"
        ) + encode(
            ("uint256", "uint256", "address[]", "address", "uint256"),
            (10**18, 10**30, [pool.token1, pool.token0], trader.address, 2**255),
        )
        pair_swap = function_signature_to_4byte_selector(
            "swap(uint256,uint256,address,bytes)"
        ) + encode(("uint256", "uint256", "address", "bytes"), (1, 0, trader.address, b""))
        assert market.is_unknown_call(venue.router, exact_out)
        assert market.is_unknown_call(pool.address, pair_swap)
        assert market.pending_swaps(venue.router, exact_out) == ()
        deposit = venue.encode_add(pool.address, 10**18, 3 * 10**21, trader.address)
        assert not market.is_unknown_call(deposit.to, deposit.data)
        assert not market.is_unknown_call(trader.address, pair_swap)  # not a venue's address
        for intent in market.approvals():
            chain.transact(trader, to=intent.to, data=intent.data, gas=intent.gas)
        chain.mine()
        chain.transact(trader, to=venue.router, data=exact_out, gas=300_000)
        chain.transact(trader, to=pool.address, data=pair_swap, gas=300_000)  # reverts: no input
        (block,) = chain.mine()
        receipts = chain.receipts(block.number)
        assert len(receipts) == 2
        assert unknown_swap_calls(chain, market, receipts) == 2


CASES = {
    # victim sells, slippage in bps (None: any output), the sandwicher's cap on the front-run
    "slippage-binds": ("AAA", 10**5, 200, None),
    "other-direction": ("BBB", 2 * 10**5, 150, None),
    "budget-binds": ("AAA", 10**5, 200, 2_000),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["fee", "bundle"])
def test_sandwich_profit_on_a_v2_pair_is_the_optimum_to_the_wei(
    small_world: World, mode: str, case: str
) -> None:
    sold, victim_in, slippage, cap = CASES[case]
    world = small_world
    with world.fresh() as market:
        pool = market.pools[0]
        token_in = world.tokens[sold]
        token_out = pool.other(token_in)
        reserve_in, reserve_out = market.reserves_for(pool, token_in)
        quote = v2_out(victim_in, reserve_in, reserve_out)
        victim_min = quote * (10_000 - slippage) // 10_000
        victim = world.account(1)

        def victim_swap(view: AgentView) -> Any:
            return (
                view.market.swap(pool, token_in, victim_in, victim_min, victim.address, tip=GWEI),
            )

        sandwicher = Sandwicher(
            "sandwicher",
            world.account(2),
            world.rng("sandwicher"),
            mode=mode,
            max_front_in=cap,
            prices_wei={"AAA": 10**14, "BBB": 10**14},
        )
        symbol_out = market.symbols[token_out]
        before = (
            world.balance(sold, sandwicher.address),
            world.balance(symbol_out, sandwicher.address),
        )
        policy = PriorityFeePolicy() if mode == "fee" else BundlesFirstPolicy()
        trader = OneShot("victim", victim, world.rng("victim"), once_at(1_000), make=victim_swap)
        sim = world.run(market, [trader, sandwicher], blocks=1, policy=policy)
        after = (
            world.balance(sold, sandwicher.address),
            world.balance(symbol_out, sandwicher.address),
        )
        receipts = [r for r in block_receipts(sim) if sim.sent[r.tx_hash].label != "approve"]
        swaps = swaps_from_receipts(receipts, market.venues.values())
        detected = detect_sandwiches(swaps)

    expected, optimal_fronts = brute_force_sandwich(
        reserve_in, reserve_out, victim_in, victim_min, cap or 10**9
    )
    assert expected > 0
    labels = [(sim.sent[r.tx_hash].agent, sim.sent[r.tx_hash].label, r.status) for r in receipts]
    assert labels == [
        ("sandwicher", "front", 1),
        ("victim", "trade", 1),
        ("sandwicher", "back", 1),
    ]
    assert all(r.to == market.venue_of(pool).router for r in receipts)  # all through Router02
    assert swaps[0].amount_in in optimal_fronts
    assert after[0] - before[0] == expected  # the realised profit, in the victim's input token
    assert after[1] == before[1]  # everything bought was sold back
    (found,) = detected  # detected from the pair's logs alone
    assert found.profit == expected and found.victim_txs == (receipts[1].tx_hash,)


def test_sandwich_on_a_v2_pair_is_accounted_against_the_block_without_it(
    small_world: World,
) -> None:
    world = small_world
    with world.fresh() as market:
        pool = market.pools[0]
        token_in = world.tokens["AAA"]
        reserve_in, reserve_out = market.reserves_for(pool, token_in)
        quote = v2_out(10**5, reserve_in, reserve_out)
        victim = world.account(1)

        def victim_swap(view: AgentView) -> Any:
            return (
                view.market.swap(
                    pool, token_in, 10**5, quote * 98 // 100, victim.address, tip=GWEI
                ),
            )

        trader = OneShot("victim", victim, world.rng("victim"), once_at(1_000), make=victim_swap)
        sandwicher = Sandwicher(
            "sandwicher",
            world.account(2),
            world.rng("s"),
            prices_wei={"AAA": 10**14, "BBB": 10**14},
        )
        sim = world.run(market, [trader, sandwicher], blocks=1, policy=PriorityFeePolicy())
        account = account_run(sim, market, numeraire="AAA", eth_price=1.0, kinds={})
        actual = balance_at(world.chain, pool.token1, victim.address)

    (loss,) = account.victims
    assert loss.fate == "landed" and loss.attack == "sandwich" and not loss.bot
    assert loss.counterfactual_out == quote  # alone in the block without the attack
    assert loss.loss == quote - loss.actual_out > 0
    assert actual >= loss.actual_out
    assert account.sandwich_score.true_positives == 1 and account.sandwich_score.precision == 1
    assert account.unknown_swap_calls == 0


def test_market_without_a_venue_for_its_pools_is_an_error(small_world: World) -> None:
    with pytest.raises(ValueError, match="no venue given for the pools of venue"):
        Market(small_world.chain, small_world.tokens, small_world.pools, seed=1, volatility=0.0)


def test_lp_deposits_and_withdraws_through_the_router(big_world: World) -> None:
    world = big_world
    chain = world.chain
    with world.fresh() as market:
        (pool,) = market.pools
        lp = LiquidityProvider("lp", world.account(1), world.rng("lp"), initial_fraction=0.01)
        r0, r1 = market.reserves[pool.address]
        deposits = [a for a in lp.setup(market) if isinstance(a, TxIntent)]
        # Tokens approved to the router, the pair's shares to the router, then the deposit.
        assert {d.to for d in deposits[:-1]} == {*market.tokens.values(), pool.address}
        assert deposits[-1].to == market.venue_of(pool).router
        hashes = [chain.transact(lp.account, to=d.to, data=d.data, gas=d.gas) for d in deposits]
        chain.mine()
        assert all(chain.receipt(h).status == 1 for h in hashes)
        shares = balance_at(chain, pool.address, lp.address)
        assert shares > 0
        assert balance_at(chain, pool.token0, pool.address) == r0 + r0 // 100
        assert balance_at(chain, pool.token1, pool.address) == r1 + (r0 // 100) * r1 // r0
        withdrawal = lp.remove(market, pool, shares)
        tx = chain.transact(lp.account, to=withdrawal.to, data=withdrawal.data, gas=withdrawal.gas)
        chain.mine()
        assert chain.receipt(tx).status == 1
        assert balance_at(chain, pool.address, lp.address) == 0
        assert not market.is_unknown_call(withdrawal.to, withdrawal.data)
