"""Victim loss against the same block without the attacker's txs, replayed on the parent state.

Every expected number is worked out in the test from the constant-product formula with fee
(exact integers), independently of the pool contract, the replay and ``amm_math``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from agentbed.agents.market.mev import swaps_from_receipts
from agentbed.agents.market.truth import Hit, MevTruth, ground_truth
from agentbed.agents.market.valuation import Valuation
from agentbed.agents.market.victims import (
    VictimLoss,
    _Replays,
    counterfactual_output,
    victim_losses,
)
from agentbed.agents.market.world import MAX_UINT, Market, PoolSpec, swap_calldata
from agentbed.agents.sim import SentTx
from agentbed.chain.errors import UnknownBlock
from agentbed.chain.node import Chain
from agentbed.chain.ordering import FifoPolicy, PriorityFeePolicy
from agentbed.chain.signing import GWEI

R_WETH, R_USDC = 1_000 * 10**18, 3_000_000 * 10**18
FUNDS = {"WETH": 100 * 10**18, "USDC": 300_000 * 10**18}
FEE_BPS = 30
SWAP_GAS = 150_000
ETH_PRICE = 3_000.0


def out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """Constant product with a 30 bps fee on the input, rounded down."""
    with_fee = amount_in * (10_000 - FEE_BPS)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


class Pool:
    """Reserves moved by hand, trade by trade, in WETH and USDC."""

    def __init__(self) -> None:
        self.weth, self.usdc = R_WETH, R_USDC

    def sell_weth(self, amount: int) -> int:
        got = out(amount, self.weth, self.usdc)
        self.weth, self.usdc = self.weth + amount, self.usdc - got
        return got

    def sell_usdc(self, amount: int) -> int:
        got = out(amount, self.usdc, self.weth)
        self.usdc, self.weth = self.usdc + amount, self.weth - got
        return got


def setup(seed: int, **chain_kwargs: Any) -> tuple[Chain, Market, list[Any]]:
    """A chain with our pool at (R_WETH, R_USDC) and three funded traders that approved it."""
    chain = Chain(seed=seed, accounts=4, automine=True, **chain_kwargs)
    market = Market.deploy(chain, [PoolSpec("WETH", "USDC", R_WETH, R_USDC)], seed=seed)
    chain.automine = False
    traders = list(chain.accounts[1:4])
    market.fund({a.address: FUNDS for a in traders})
    for account in traders:
        for intent in market.approvals():
            chain.transact(account, to=intent.to, data=intent.data, gas=intent.gas)
    chain.mine()
    assert market.pools[0].fee_bps == FEE_BPS
    return chain, market, traders


def swap(
    chain: Chain, market: Market, account: Any, token: str, amount: int, min_out: int, **kw: Any
) -> bytes:
    pool = market.pools[0]
    data = swap_calldata(market.tokens[token], amount, min_out, account.address, MAX_UINT)
    return chain.transact(account, to=pool.address, data=data, gas=kw.pop("gas", SWAP_GAS), **kw)


def valuation(market: Market) -> Valuation:
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    return Valuation("USDC", {usdc: 1.0, weth: ETH_PRICE}, ETH_PRICE, dict(market.symbols))


def account(
    chain: Chain, market: Market, sent: dict[bytes, SentTx], bots: Any = ()
) -> tuple[MevTruth, tuple[VictimLoss, ...]]:
    """Ground truth from ``sent`` labels over every block, and the victims' losses."""
    numbers = range(1, chain.block_number + 1)
    receipts = [r for n in numbers for r in chain.receipts(n)]
    sim = SimpleNamespace(sent=sent)
    truth = ground_truth(sim, receipts, swaps_from_receipts(receipts))  # type: ignore[arg-type]
    agent_of = {chain.transaction(h).sender: s.agent for h, s in sent.items()}
    return truth, victim_losses(chain, truth, valuation(market), agent_of, market, bots)


def fee(chain: Chain, tx: bytes) -> int:
    receipt = chain.receipt(tx)
    return receipt.gas_used * receipt.effective_gas_price


def test_sandwich_loss_is_against_the_block_without_the_attacker() -> None:
    chain, market, (other, victim, attacker) = setup(11, policy=FifoPolicy())
    x, front_in, victim_in = 5 * 10**18, 30 * 10**18, 20 * 10**18
    # By hand: the block as built (other, front, victim, back) ...
    built = Pool()
    built.sell_weth(x)
    front_out = built.sell_weth(front_in)
    actual = built.sell_weth(victim_in)
    # ... and the same block without the attacker's two txs (other, victim).
    without = Pool()
    without.sell_weth(x)
    expected = without.sell_weth(victim_in)

    first = swap(chain, market, other, "WETH", x, 0)
    front = swap(chain, market, attacker, "WETH", front_in, 0)
    hit = swap(chain, market, victim, "WETH", victim_in, 0)
    back = swap(chain, market, attacker, "USDC", front_out, 0)
    (block,) = chain.mine()
    assert block.tx_hashes == (first, front, hit, back)
    assert all(r.status == 1 for r in chain.receipts(block.number))
    meta = {"victim": "0x" + hit.hex()}
    sent = {
        first: SentTx(first, "other0", "trade", {}, 0),
        front: SentTx(front, "sandwicher0", "front", meta, 0),
        hit: SentTx(hit, "retail0", "trade", {}, 0),
        back: SentTx(back, "sandwicher0", "back", meta, 0),
    }
    truth, victims = account(chain, market, sent)
    assert isinstance(truth, MevTruth) and truth.hits[hit].attack_txs == (front, back)
    (loss,) = victims
    assert isinstance(loss, VictimLoss)
    assert (loss.tx, loss.agent, loss.fate, loss.bot) == (hit, "retail0", "landed", False)
    assert (loss.attack, loss.attackers, loss.block) == ("sandwich", ("sandwicher0",), block.number)
    assert loss.token_out == market.tokens["USDC"] and loss.pool == market.pools[0].address
    assert loss.actual_out == actual
    assert loss.counterfactual_out == expected
    assert loss.loss == expected - actual > 0
    # The other trader's swap is in both: alone on the pre-block state is another number.
    assert counterfactual_output(chain, hit, block.number) == out(victim_in, R_WETH, R_USDC)
    assert counterfactual_output(chain, hit, block.number) != expected
    assert loss.value == pytest.approx(loss.loss / 10**18 + loss.gas_loss / 10**18 * ETH_PRICE)
    assert loss.note == ""

    # The same victim sent by a searcher is bot-on-bot.
    _, (as_bot,) = account(chain, market, sent, bots={"retail0"})
    assert as_bot.bot and as_bot.value == loss.value


def test_reverted_victim_loses_its_gas_and_its_trade() -> None:
    chain, market, (_, victim, attacker) = setup(12, policy=FifoPolicy())
    front_in, victim_in = 10 * 10**18, 20 * 10**18
    expected = Pool().sell_weth(victim_in)  # the block without the front: the victim alone

    front = swap(chain, market, attacker, "WETH", front_in, 0)
    hit = swap(chain, market, victim, "WETH", victim_in, expected)  # no slippage allowed
    (block,) = chain.mine()
    assert [r.status for r in chain.receipts(block.number)] == [1, 0]
    sent = {
        front: SentTx(front, "frontrunner0", "front", {"victim": "0x" + hit.hex()}, 0),
        hit: SentTx(hit, "retail0", "trade", {}, 0),
    }
    truth, (loss,) = account(chain, market, sent)
    assert truth.reverted_victims == 1 and dict(truth.victims) == {}
    assert (loss.fate, loss.attack, loss.attackers) == ("reverted", "frontrun", ("frontrunner0",))
    assert loss.actual_out == 0 and loss.counterfactual_out == expected
    (replayed,) = chain.replay([chain.transaction(hit).raw], block.number)
    assert replayed is not None and replayed.status == 1
    assert loss.gas_loss == fee(chain, hit) - replayed.gas_used * replayed.effective_gas_price
    # It kept its WETH: the trade it missed is worth its output less that input.
    worth = expected / 10**18 - victim_in / 10**18 * ETH_PRICE
    assert loss.value == pytest.approx(worth + loss.gas_loss / 10**18 * ETH_PRICE)


def test_displaced_victim_is_charged_its_trade_in_the_block_it_was_pushed_out_of() -> None:
    chain, market, (_, victim, attacker) = setup(13, policy=PriorityFeePolicy())
    front_in, victim_in = 10 * 10**18, 20 * 10**18
    expected = Pool().sell_weth(victim_in)  # would have been alone in the block
    later = Pool()
    later.sell_weth(front_in)
    actual = later.sell_weth(victim_in)  # it landed a block later, behind the front

    # The victim's gas limit leaves less room than the front uses: the higher-tip front,
    # built first, pushes it out; alone it would have fit.
    big = chain.gas_limit - 50_000
    hit = swap(chain, market, victim, "WETH", victim_in, 0, gas=big, maxPriorityFeePerGas=GWEI)
    front = swap(chain, market, attacker, "WETH", front_in, 0, maxPriorityFeePerGas=5 * GWEI)
    (first,) = chain.mine()
    assert first.tx_hashes == (front,)
    (second,) = chain.mine()
    assert second.tx_hashes == (hit,)
    sent = {
        front: SentTx(front, "frontrunner0", "front", {"victim": "0x" + hit.hex()}, 0),
        hit: SentTx(hit, "retail0", "trade", {}, 0),
    }
    truth, (loss,) = account(chain, market, sent)
    assert truth.hits[hit].fate == "displaced" and truth.frontruns == ()
    assert (loss.fate, loss.block, loss.delay) == ("displaced", first.number, 1)
    assert loss.counterfactual_out == expected and loss.actual_out == actual
    assert loss.loss == expected - actual > 0


def test_a_tx_that_would_not_fit_without_the_attacker_is_not_displaced() -> None:
    chain, market, (other, victim, attacker) = setup(14, policy=PriorityFeePolicy())
    big = chain.gas_limit - 50_000
    # A third trader's tx outbids the victim and leaves it no room, with or without the front.
    filler = swap(chain, market, other, "WETH", 10**18, 0, maxPriorityFeePerGas=3 * GWEI)
    hit = swap(chain, market, victim, "WETH", 10**18, 0, gas=big, maxPriorityFeePerGas=GWEI)
    front = swap(chain, market, attacker, "WETH", 10**18, 0, maxPriorityFeePerGas=5 * GWEI)
    (first,) = chain.mine()
    assert set(first.tx_hashes) == {front, filler}
    chain.mine()
    sent = {
        front: SentTx(front, "frontrunner0", "front", {"victim": "0x" + hit.hex()}, 0),
        hit: SentTx(hit, "retail0", "trade", {}, 0),
    }
    truth, victims = account(chain, market, sent)
    assert truth.hits[hit].fate == "displaced"
    assert victims == ()


def fingerprint(chain: Chain, market: Market) -> tuple[Any, ...]:
    pool = market.pools[0].address
    return (
        chain.block_number,
        chain.head.hash,
        chain.now_ms,
        chain.base_fee,
        chain.pool_status(),
        tuple(p.tx.hash for p in chain.pending_transactions()),
        tuple((chain.balance(a.address), chain.nonce(a.address)) for a in chain.accounts),
        tuple(chain.storage_at(pool, slot) for slot in range(12)),
    )


def test_replay_reproduces_a_block_and_changes_nothing() -> None:
    chains = []
    for replay in (False, True):
        chain, market, (other, victim, attacker) = setup(15, policy=FifoPolicy())
        txs = [
            swap(chain, market, other, "WETH", 10**18, 0),
            swap(chain, market, victim, "USDC", 5_000 * 10**18, 0),
            swap(chain, market, attacker, "WETH", 2 * 10**18, 10**30),  # reverts
        ]
        (block,) = chain.mine()
        pending = swap(chain, market, other, "WETH", 10**18, 0)  # left in the mempool
        before = fingerprint(chain, market)
        if replay:
            raws = [chain.transaction(h).raw for h in txs]
            replayed = chain.replay(raws, block.number)
            for got, want in zip(replayed, chain.receipts(block.number), strict=True):
                assert got is not None
                assert (got.tx_hash, got.status, got.gas_used, got.cumulative_gas_used) == (
                    want.tx_hash,
                    want.status,
                    want.gas_used,
                    want.cumulative_gas_used,
                )
                assert got.effective_gas_price == want.effective_gas_price
                assert [(g.address, g.topics, g.data) for g in got.logs] == [
                    (w.address, w.topics, w.data) for w in want.logs
                ]
            # Without the first tx the others see other reserves; the chain is still as it was.
            assert chain.replay(raws[1:], block.number)[0] != replayed[1]
            # A tx the block could not include (its nonce is already used) is None.
            assert chain.replay([raws[0], raws[0]], block.number)[1] is None
            with pytest.raises(UnknownBlock):
                chain.replay(raws, 0)
        assert fingerprint(chain, market) == before
        (after,) = chain.mine()
        assert after.tx_hashes == (pending,)
        chains.append(after.hash)
    # The next block is the same, to the hash, whether or not a replay ran before it.
    assert chains[0] == chains[1]


def test_counterfactual_replays_stop_at_the_last_victim_asked_and_agree_with_the_whole_block() -> (
    None
):
    chain, market, (first, second, third) = setup(17, policy=FifoPolicy())
    txs = [
        swap(chain, market, first, "WETH", 3 * 10**18, 0),
        swap(chain, market, second, "WETH", 2 * 10**18, 0),  # the "attack" left out
        swap(chain, market, third, "USDC", 4_000 * 10**18, 0),
        swap(chain, market, first, "WETH", 10**18, 0),
        swap(chain, market, third, "WETH", 10**18, 0),
    ]
    (block,) = chain.mine()
    assert block.tx_hashes == tuple(txs)
    kept = [txs[0], *txs[2:]]
    replayed = chain.replay([chain.transaction(h).raw for h in kept], block.number)
    whole = dict(zip(kept, replayed, strict=True))
    hit = Hit("landed", "sandwich", ("bot",), block.number, (txs[1],))
    lengths: list[int] = []
    replay = chain.replay

    def counted(raws: Any, number: int) -> Any:
        lengths.append(len(raws))
        return replay(raws, number)

    chain.replay = counted  # type: ignore[method-assign]
    # Planned: one replay, up to the last victim (txs[3]); txs[4] is never run.
    planned = _Replays(chain)
    planned.plan({txs[2]: hit, txs[0]: hit, txs[3]: hit})
    for victim in (txs[2], txs[0], txs[3]):
        assert planned.receipt(hit, victim) == whole[victim]
    assert lengths == [3]
    assert planned.receipt(hit, txs[1]) is None  # an attack tx is not in its counterfactual
    # Unplanned, in block order: a later victim runs the replay further; same receipts.
    lengths.clear()
    unplanned = _Replays(chain)
    for victim in kept:
        assert unplanned.receipt(hit, victim) == whole[victim]
    assert lengths == [1, 2, 3, 4]
