"""MEV accounting after a run: who gained, who lost, who was paid, and what a detector sees.

Two views of the same run are kept apart on purpose:

* **Ground truth** comes from the simulation (``Simulation.sent``: each tx's sender agent, label
  and meta) combined with where the txs landed. A sandwich is a ``"front"`` and a ``"back"`` tx
  of one agent naming the same victim (``meta["victim"]``, a tx hash) that landed in one block
  as front < victim < back, all successful; its transactions are the front, the back and every
  other actor's swap in the same pool and direction between them (the swaps it actually
  squeezed, which the targeted victim is one of). A ``"front"`` without a landed back is a
  frontrun. A searcher's ``"backrun"``/``"arb"`` tx that landed as the next swap in a pool right
  after another actor's swap in the opposite direction, in the same block, is a backrun of that
  swap, whether or not the searcher named it (an arbitrageur restoring the price after a block's
  trades backruns the last of them just the same).
* **Detection** uses receipts and logs only (:mod:`agentbed.agents.market.mev`), and is scored
against the
  truth (precision and recall).

Victim loss is the victim's actual output against the output of the same transaction executed
alone on the pre-block state (``Chain.call`` on block ``N - 1``), exactly in wei of the output
token. Profit per agent is the change of its token and LP-share holdings over the measured
blocks (from ERC-20 ``Transfer`` logs, so exact), valued at the end's reference prices in the
scenario's numeraire, minus the ETH it spent (gas and direct payments to the coinbase). The
builder's revenue is priority fees plus direct coinbase transfers; the base fee is burned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.market.intents import (
    ConditionKind,
    Intent,
    crosses,
    decode_settle,
    intent_digest,
)
from agentbed.agents.market.mev import (
    Detection,
    DetectionScore,
    SwapEvent,
    TrueMev,
    detect_backruns,
    detect_sandwiches,
    score,
    swaps_from_receipts,
)
from agentbed.chain.errors import ExecutionReverted

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Address, Block, Receipt

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
_TOTAL_SUPPLY = function_signature_to_4byte_selector("totalSupply()")
SEARCHER_KINDS = frozenset({"arbitrageur", "backrunner", "frontrunner", "sandwicher"})
"""Scenario kinds counted as searchers (besides any agent that sent an MEV-labelled tx)."""
MEV_LABELS = frozenset({"front", "back", "arb", "backrun"})
"""Labels that mark a tx as a searcher's."""
UNIT = 10**18


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Valuation:
    """Prices of every holding in a numeraire, from the market's reference prices at the end.

    Attributes:
        numeraire: Symbol of the unit of account.
        prices: Numeraire per whole token (1e18 units), by token or LP-share address.
        eth_price: Numeraire per ETH.
        symbols: Display name by address (token symbols, ``LP:A/B`` for pool shares).
        unpriced: Symbols no chain of pools connects to the numeraire (valued at 0).
    """

    numeraire: str
    prices: Mapping[str, float]
    eth_price: float
    symbols: Mapping[str, str]
    unpriced: tuple[str, ...] = ()

    def value(self, token: str, amount: int) -> float:
        """``amount`` (smallest units) of ``token`` in numeraire units."""
        return amount / UNIT * self.prices.get(token, 0.0)

    def value_eth(self, wei: int) -> float:
        """``wei`` of ETH in numeraire units."""
        return wei / UNIT * self.eth_price

    @classmethod
    def from_market(
        cls, market: Market, numeraire: str, eth_price: float | None = None
    ) -> Valuation:
        """Value tokens along the pools' reference prices, starting from ``numeraire``.

        Args:
            market: The run's market (reference prices as of its last block).
            numeraire: Symbol of the unit of account.
            eth_price: Numeraire per ETH; None values ETH like the ``WETH`` token.

        Raises:
            ValueError: ``numeraire`` is not a market token, or no ETH price can be found.
        """
        if numeraire not in market.tokens:
            raise ValueError(f"numeraire {numeraire!r} is not a market token")
        prices = market.reference_prices(market.tokens[numeraire])
        symbols: dict[str, str] = dict(market.symbols)
        for pool in market.pools:
            symbols[pool.address] = f"LP:{pool.symbol0}/{pool.symbol1}"
            supply = int.from_bytes(market.chain.call(pool.address, _TOTAL_SUPPLY), "big")
            r0, r1 = market.reserves[pool.address]
            if supply > 0:
                worth = r0 / UNIT * prices.get(pool.token0, 0.0) + r1 / UNIT * prices.get(
                    pool.token1, 0.0
                )
                prices[pool.address] = worth / (supply / UNIT)
        unpriced = tuple(sorted(s for a, s in market.symbols.items() if a not in prices))
        if eth_price is None:
            weth = market.tokens.get("WETH")
            if weth is None or weth not in prices:
                raise ValueError("no eth_price given and no priced WETH token to value ETH by")
            eth_price = prices[weth]
        return cls(numeraire, prices, eth_price, symbols, unpriced)


@dataclass(frozen=True, slots=True)
class VictimLoss:
    """What one victim lost to the transactions ordered around it.

    Attributes:
        tx: The victim's tx hash.
        agent: The victim agent's name ("" if not a simulated agent).
        block: Block it landed in.
        pool: Pool it swapped on.
        token_out: The token it bought.
        actual_out: What it received.
        alone_out: What the same tx would have received alone on the pre-block state.
        loss: ``alone_out - actual_out`` in wei of ``token_out``.
        value: ``loss`` in numeraire units.
        attack: ``"sandwich"`` or ``"frontrun"``.
        attackers: Names of the agents whose txs hit it.
    """

    tx: bytes
    agent: str
    block: int
    pool: str
    token_out: str
    actual_out: int
    alone_out: int
    loss: int
    value: float
    attack: str
    attackers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentAccount:
    """One agent's figures over the measured blocks.

    Attributes:
        name: Agent name.
        kind: Scenario kind (strategy name).
        searcher: Whether it counts as a searcher.
        sent: Txs it got into the mempool or a bundle.
        included: Its txs mined (including reverted ones).
        failed: Its txs mined but reverted.
        rejected: Its submissions the mempool refused.
        gas_spent: Wei paid for gas (base fee and tip).
        tips_paid: Wei of priority fees it paid.
        coinbase_paid: Wei it sent directly to the coinbase.
        holdings: Change of each holding (symbol -> smallest units).
        profit: Net value change in numeraire units (holdings minus ETH spent).
    """

    name: str
    kind: str
    searcher: bool
    sent: int
    included: int
    failed: int
    rejected: int
    gas_spent: int
    tips_paid: int
    coinbase_paid: int
    holdings: Mapping[str, int]
    profit: float


@dataclass(frozen=True, slots=True)
class BlockAccount:
    """Per-block accounting series (not cumulative).

    Attributes:
        number: Block number.
        victim_loss: Numeraire value lost by the block's victims.
        searcher_profit: Numeraire value the searchers gained in the block, net of ETH spent.
    """

    number: int
    victim_loss: float
    searcher_profit: float


@dataclass(frozen=True, slots=True)
class MevTruth:
    """Ground truth assembled from the simulation's labels and where the txs landed.

    Attributes:
        cases: The sandwiches and backruns that happened, as :class:`TrueMev` keys.
        sandwich_attempts: Distinct (agent, victim) pairs for which a front and a back were sent.
        frontrun_attempts: Distinct (agent, victim) pairs with a front but no back sent.
        frontruns: (front tx, victim tx, agent) of fronts that landed ahead of their victim in
            the same block without a landed back.
        victims: victim tx -> (attack kind, attacker agents) of every squeezed swap (other
            searchers' labelled txs excluded).
        reverted_victims: Victims that reverted behind a front of their attacker in the same
            block (their slippage limit held; they lost gas and the trade, not output).
    """

    cases: tuple[TrueMev, ...]
    sandwich_attempts: int
    frontrun_attempts: int
    frontruns: tuple[tuple[bytes, bytes, str], ...]
    victims: Mapping[bytes, tuple[str, tuple[str, ...]]]
    reverted_victims: int = 0

    def count(self, kind: str) -> int:
        """Number of true cases of ``kind``."""
        return sum(1 for c in self.cases if c.kind == kind)


@dataclass(frozen=True, slots=True)
class SettledBatch:
    """One mined ``settle`` of the intent book, read back from the chain alone: the intents
    from the transaction's calldata, what became of each from the book's events.

    Attributes:
        tx: The settlement's tx hash.
        block: Block it landed in.
        solver: Who settled it (``BatchSettled.solver``).
        intents: The batch, in calldata order.
        digests: Each intent's EIP-712 digest (its id in the book's events).
        fills: Per intent, ``(buyAmount, solverReward)`` of its ``IntentFilled`` event, or None
            when the book skipped it (``IntentSkipped``: its condition did not hold).
    """

    tx: bytes
    block: int
    solver: str
    intents: tuple[Intent, ...]
    digests: tuple[bytes, ...]
    fills: tuple[tuple[int, int] | None, ...]

    def executed(self) -> tuple[Intent, ...]:
        """The intents that executed."""
        return tuple(i for i, f in zip(self.intents, self.fills, strict=True) if f is not None)

    def counter_held(self, index: int) -> bool:
        """Whether another executed intent of the batch crosses intent ``index`` (what its
        ``CounterIntent`` condition asks, per ``IntentConditions.holds``)."""
        intent = self.intents[index]
        return any(
            crosses(intent, other)
            for k, (other, fill) in enumerate(zip(self.intents, self.fills, strict=True))
            if k != index and fill is not None
        )


@dataclass(frozen=True, slots=True)
class IntentStats:
    """How the intents of a run's intent book fared.

    Attributes:
        posted: Intents posted to the board.
        filled: Intents settled (``IntentFilled`` events).
        maker_surplus: Sum over fills of ``buyAmount - minBuyAmount - solverReward`` (what the
            maker got above its limit), in numeraire units.
        solver_rewards: Sum of the solvers' rewards, in numeraire units.
        latencies_ms: Per fill, the block's time minus the time the intent was posted.
        conditional_posted: Posted intents with a ``counter_intent`` condition.
        conditional_filled: Those that settled.
        conditional_expired: Those past their deadline at the last block, unsettled.
        conditional_without_counter: Settled ones whose settlement executed no crossing
            reverse intent, read from the chain (the book's check makes this 0).
        surplus_bps: Per fill of a posted intent, the maker's part above its limit, in basis
            points of the limit.
        price_spreads_bps: Per batch and side with two or more fills, how far apart the
            makers' execution rates (``buyAmount / sellAmount``, solver reward included) are:
            ``max / min - 1`` in basis points. Uniform pricing makes each 0 up to rounding.
        batches: Every settlement, read from the chain.
    """

    posted: int
    filled: int
    maker_surplus: float
    solver_rewards: float
    latencies_ms: tuple[int, ...] = ()
    conditional_posted: int = 0
    conditional_filled: int = 0
    conditional_expired: int = 0
    conditional_without_counter: int = 0
    surplus_bps: tuple[float, ...] = ()
    price_spreads_bps: tuple[float, ...] = ()
    batches: tuple[SettledBatch, ...] = ()

    @property
    def fill_rate(self) -> float:
        """Filled over posted (0 without intents)."""
        return self.filled / self.posted if self.posted else 0.0


@dataclass(frozen=True, slots=True)
class RunAccount:
    """All of one run's accounting.

    Attributes:
        policy: Name of the ordering policy.
        valuation: Prices used.
        agents: Per-agent figures, in the simulation's agent order.
        blocks: Per-block series.
        victims: Every victim's loss.
        truth: Ground truth.
        detected: What the detector found.
        sandwich_score: Detector vs truth, sandwiches only.
        backrun_score: Detector vs truth, backruns only.
        overall_score: Detector vs truth, both kinds.
        waits_ms: Inclusion delay of every mined tx that had an arrival time.
        intents: Intent fills and surplus, when the market has an intent book.
    """

    policy: str
    valuation: Valuation
    agents: tuple[AgentAccount, ...]
    blocks: tuple[BlockAccount, ...]
    victims: tuple[VictimLoss, ...]
    truth: MevTruth
    detected: tuple[Detection, ...]
    sandwich_score: DetectionScore
    backrun_score: DetectionScore
    overall_score: DetectionScore
    waits_ms: tuple[int, ...] = field(default=())
    intents: IntentStats | None = None

    @property
    def victim_loss(self) -> float:
        """Total victim loss in numeraire units."""
        return sum(v.value for v in self.victims)

    @property
    def searcher_profit(self) -> float:
        """Total searcher profit in numeraire units."""
        return sum(a.profit for a in self.agents if a.searcher)


# ---------------------------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------------------------


def _as_hash(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        text = value.removeprefix("0x")
        if len(text) == 64:
            try:
                return bytes.fromhex(text)
            except ValueError:
                return None
    return None


def _victims_of(meta: Mapping[str, Any]) -> tuple[bytes, ...]:
    """The victim tx hashes a searcher's meta names (``victim`` or ``victims``)."""
    found: list[bytes] = []
    single = _as_hash(meta.get("victim"))
    if single is not None:
        found.append(single)
    many = meta.get("victims")
    if isinstance(many, list | tuple):
        found.extend(h for h in (_as_hash(v) for v in many) if h is not None)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class _Landed:
    block: int
    index: int
    status: int


def ground_truth(
    sim: Simulation, receipts: Iterable[Receipt], swaps: Sequence[SwapEvent]
) -> MevTruth:
    """Assemble the run's true MEV from ``sim.sent`` labels and the mined receipts.

    Args:
        sim: The finished simulation.
        receipts: Receipts of the measured blocks.
        swaps: Successful swaps decoded from those receipts.
    """
    landed = {r.tx_hash: _Landed(r.block_number, r.tx_index, r.status) for r in receipts}
    swaps_of: dict[bytes, list[SwapEvent]] = defaultdict(list)
    by_pool_block: dict[tuple[int, str], list[SwapEvent]] = defaultdict(list)
    for swap in swaps:
        swaps_of[swap.tx_hash].append(swap)
        by_pool_block[(swap.block, swap.pool)].append(swap)

    fronts: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    backs: dict[tuple[str, bytes], list[bytes]] = defaultdict(list)
    followers: list[bytes] = []
    for tx_hash, sent in sim.sent.items():
        if sent.label in ("backrun", "arb"):
            followers.append(tx_hash)
        for victim in _victims_of(sent.meta):
            if sent.label == "front":
                fronts[(sent.agent, victim)].append(tx_hash)
            elif sent.label == "back":
                backs[(sent.agent, victim)].append(tx_hash)

    def ok(tx: bytes) -> _Landed | None:
        place = landed.get(tx)
        return place if place is not None and place.status == 1 else None

    cases: list[TrueMev] = []
    victims: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    frontruns: list[tuple[bytes, bytes, str]] = []
    squeezed_by: dict[bytes, set[str]] = defaultdict(set)
    sandwich_attempts = frontrun_attempts = reverted_victims = 0
    for (agent, victim), front_txs in sorted(fronts.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        back_txs = backs.get((agent, victim), [])
        if back_txs:
            sandwich_attempts += 1
        else:
            frontrun_attempts += 1
        v = ok(victim)
        hit = landed.get(victim)
        if hit is not None and hit.status == 0:
            if any(_before(ok(front), hit) for front in front_txs):
                reverted_victims += 1
            continue
        sandwiched = False
        for front in front_txs:
            f = ok(front)
            if f is None or v is None or not _before(f, v):
                continue
            for back in back_txs:
                b = ok(back)
                if b is None or b.block != v.block or b.index <= v.index:
                    continue
                squeezed = _squeezed(front, back, swaps_of, by_pool_block)
                if not squeezed:
                    continue
                cases.append(TrueMev("sandwich", frozenset({front, back, *squeezed})))
                for tx in squeezed:
                    squeezed_by[tx].add(agent)
                sandwiched = True
                break
            if sandwiched:
                break
            frontruns.append((front, victim, agent))
            break
    for tx, agents in squeezed_by.items():
        own = sim.sent.get(tx)
        if own is None or own.label not in MEV_LABELS:  # a rival's front is no victim
            victims[tx] = ("sandwich", tuple(sorted(agents)))
    for _front, victim, agent in frontruns:
        if victim not in victims:
            victims[victim] = ("frontrun", (agent,))
        elif victims[victim][0] == "frontrun":
            victims[victim] = ("frontrun", tuple(sorted({*victims[victim][1], agent})))
    for follower in followers:
        previous = _swap_before(follower, swaps_of, by_pool_block)
        if ok(follower) is None or previous is None:
            continue
        first = swaps_of[follower][0]
        if previous.actor != first.actor and previous.token_in != first.token_in:
            cases.append(TrueMev("backrun", frozenset({previous.tx_hash, follower})))
    return MevTruth(
        cases=tuple(dict.fromkeys(cases)),
        sandwich_attempts=sandwich_attempts,
        frontrun_attempts=frontrun_attempts,
        frontruns=tuple(frontruns),
        victims=victims,
        reverted_victims=reverted_victims,
    )


def _before(first: _Landed | None, second: _Landed) -> bool:
    """Whether ``first`` landed in ``second``'s block, ahead of it."""
    return first is not None and first.block == second.block and first.index < second.index


def _squeezed(
    front: bytes,
    back: bytes,
    swaps_of: Mapping[bytes, list[SwapEvent]],
    by_pool_block: Mapping[tuple[int, str], list[SwapEvent]],
) -> tuple[bytes, ...]:
    """Other actors' swaps in the front's pool and direction between front and back."""
    if not swaps_of.get(front) or not swaps_of.get(back):
        return ()
    first, last = swaps_of[front][0], swaps_of[back][0]
    if first.pool != last.pool or first.token_in == last.token_in:
        return ()
    between = by_pool_block[(first.block, first.pool)]
    out = [
        s.tx_hash
        for s in between
        if (first.tx_index, first.log_index) < (s.tx_index, s.log_index) < (last.tx_index, 0)
        and s.actor != first.actor
        and s.token_in == first.token_in
    ]
    return tuple(dict.fromkeys(out))


def _swap_before(
    tx: bytes,
    swaps_of: Mapping[bytes, list[SwapEvent]],
    by_pool_block: Mapping[tuple[int, str], list[SwapEvent]],
) -> SwapEvent | None:
    """The swap right before ``tx``'s first swap in the same pool and block, if any."""
    own = swaps_of.get(tx)
    if not own:
        return None
    first = own[0]
    previous = None
    for swap in by_pool_block[(first.block, first.pool)]:
        if (swap.tx_index, swap.log_index) >= (first.tx_index, first.log_index):
            break
        previous = swap
    return previous


# ---------------------------------------------------------------------------------------------
# Victim loss
# ---------------------------------------------------------------------------------------------


def counterfactual_output(chain: Chain, tx_hash: bytes, block: int) -> int | None:
    """Output of a mined swap tx had it run alone on the state before ``block``.

    Executes the same calldata from the same sender on block ``block - 1``'s post-state and
    decodes the returned ``amountOut``; None when it would have reverted alone.
    """
    tx = chain.transaction(tx_hash)
    try:
        output = chain.call(
            tx.to, tx.data, sender=tx.sender, value=tx.value, block_number=block - 1
        )
    except ExecutionReverted:
        return None
    if len(output) < 32:
        return None
    (amount,) = decode(("uint256",), output[:32])
    return int(amount)


def victim_losses(
    chain: Chain,
    truth: MevTruth,
    swaps_of: Mapping[bytes, Sequence[SwapEvent]],
    valuation: Valuation,
    agent_of: Mapping[str, str],
    market: Market,
) -> tuple[VictimLoss, ...]:
    """The loss of every victim in ``truth`` against its counterfactual alone on the pre-block
    state, in block and tx order."""
    out: list[VictimLoss] = []
    for tx in truth.victims:
        swaps = swaps_of.get(tx)
        if not swaps:
            continue  # reverted or not a swap: it kept its input; no output to compare
        swap = swaps[0]
        alone = counterfactual_output(chain, tx, swap.block)
        if alone is None:
            continue
        actual = sum(s.amount_out for s in swaps if s.pool == swap.pool)
        pool = market.by_address.get(swap.pool)
        token_out = pool.other(swap.token_in) if pool is not None else swap.token_in
        attack, attackers = truth.victims[tx]
        out.append(
            VictimLoss(
                tx=tx,
                agent=agent_of.get(swap.actor, ""),
                block=swap.block,
                pool=swap.pool,
                token_out=token_out,
                actual_out=actual,
                alone_out=alone,
                loss=alone - actual,
                value=valuation.value(token_out, alone - actual),
                attack=attack,
                attackers=attackers,
            )
        )
    out.sort(key=lambda v: (v.block, swaps_of[v.tx][0].tx_index))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------------------------


def _holding_flows(
    receipts: Iterable[Receipt], holders: Mapping[str, str], tracked: set[str]
) -> dict[tuple[str, int], dict[str, int]]:
    """(agent, block) -> {holding address: net change}, from ``Transfer`` logs."""
    flows: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for receipt in receipts:
        if receipt.status != 1:
            continue
        for log in receipt.logs:
            if (
                log.address not in tracked
                or len(log.topics) != 3
                or log.topics[0] != TRANSFER_TOPIC
            ):
                continue
            amount = int.from_bytes(log.data[:32], "big")
            source = to_checksum_address(log.topics[1][-20:])
            target = to_checksum_address(log.topics[2][-20:])
            if source in holders:
                flows[(holders[source], receipt.block_number)][log.address] -= amount
            if target in holders:
                flows[(holders[target], receipt.block_number)][log.address] += amount
    return flows


def settled_batches(
    chain: Chain, receipts: Iterable[Receipt], book: str, chain_id: int
) -> tuple[SettledBatch, ...]:
    """Every successful ``settle`` of ``book`` in ``receipts``, from calldata and events.

    A settlement made through another contract (calldata that is not ``settle``) is left out.
    """
    out: list[SettledBatch] = []
    for receipt in receipts:
        if receipt.status != 1:
            continue
        events = [g.event for g in receipt.logs if g.address == book and g.event is not None]
        settled = [e for e in events if e.name == "BatchSettled"]
        if not settled:
            continue
        try:
            intents, _, _ = decode_settle(chain.transaction(receipt.tx_hash).data)
        except ValueError:
            continue
        filled = {
            bytes(e.args["intentHash"]): (int(e.args["buyAmount"]), int(e.args["solverReward"]))
            for e in events
            if e.name == "IntentFilled"
        }
        digests = tuple(
            intent_digest(i, chain_id=chain_id, verifying_contract=book) for i in intents
        )
        out.append(
            SettledBatch(
                tx=receipt.tx_hash,
                block=receipt.block_number,
                solver=str(settled[0].args["solver"]),
                intents=intents,
                digests=digests,
                fills=tuple(filled.get(d) for d in digests),
            )
        )
    return tuple(out)


def _price_spreads_bps(batches: Iterable[SettledBatch]) -> tuple[float, ...]:
    """Per batch and sell token with two or more fills: ``max / min - 1`` of the fills'
    ``buyAmount / sellAmount``, in basis points."""
    spreads: list[float] = []
    for batch in batches:
        rates: dict[str, list[float]] = defaultdict(list)
        for intent, fill in zip(batch.intents, batch.fills, strict=True):
            if fill is not None:
                rates[intent.sell_token].append(fill[0] / intent.sell_amount)
        spreads += [(max(r) / min(r) - 1) * 10_000 for r in rates.values() if len(r) >= 2]
    return tuple(spreads)


def intent_stats(
    market: Market, valuation: Valuation, receipts: Iterable[Receipt]
) -> IntentStats | None:
    """Fills, makers' surplus over their limits, solver rewards, fill latency, conditional
    intents and price dispersion of the market's intent book (None without one).

    Args:
        market: The run's market.
        valuation: Prices to value surplus and rewards at.
        receipts: The measured blocks' receipts, where the settlements are read from.
    """
    board = market.intent_board
    if board is None:
        return None
    surplus = rewards = 0.0
    latencies: list[int] = []
    surplus_bps: list[float] = []
    for digest, fill in board.fills.items():
        posted = board.posted.get(digest)
        rewards += valuation.value(fill.buy_token, fill.solver_reward)
        if posted is None:
            continue  # filled from outside the board: no limit or posting time known
        # buyAmount is what the book paid out for the intent, the solver's reward included.
        above = fill.buy_amount - posted.intent.min_buy_amount - fill.solver_reward
        surplus += valuation.value(fill.buy_token, above)
        if posted.intent.min_buy_amount > 0:
            surplus_bps.append(above / posted.intent.min_buy_amount * 10_000)
        block_ms = market.chain.block(fill.block_number).timestamp_ms
        latencies.append(block_ms - posted.posted_ms)
    batches = settled_batches(market.chain, receipts, board.book, board.chain_id)
    filled_at = {
        d: (batch, k) for batch in batches for k, d in enumerate(batch.digests) if batch.fills[k]
    }
    conditional = [
        p for p in board.posted.values() if p.intent.condition.kind == ConditionKind.COUNTER_INTENT
    ]
    end = market.chain.head.timestamp
    settled = [filled_at[p.digest] for p in conditional if p.digest in filled_at]
    return IntentStats(
        len(board.posted),
        len(board.fills),
        surplus,
        rewards,
        tuple(latencies),
        conditional_posted=len(conditional),
        conditional_filled=len(settled),
        conditional_expired=sum(
            1 for p in conditional if p.digest not in filled_at and p.intent.deadline < end
        ),
        conditional_without_counter=sum(1 for b, k in settled if not b.counter_held(k)),
        surplus_bps=tuple(surplus_bps),
        price_spreads_bps=_price_spreads_bps(batches),
        batches=batches,
    )


def account_run(
    sim: Simulation,
    market: Market,
    *,
    numeraire: str,
    eth_price: float | None = None,
    kinds: Mapping[str, str] | None = None,
) -> RunAccount:
    """Account a finished run: per-agent profit, victim losses, truth and detection.

    Args:
        sim: The simulation after ``run()``.
        market: Its market (reference prices at the end value everything).
        numeraire: Token symbol to value in.
        eth_price: Numeraire per ETH; None values ETH like ``WETH``.
        kinds: Scenario kind per agent name; default: the agent's class name.
    """
    chain = sim.chain
    numbers = [m.number for m in sim.metrics]
    blocks: list[Block] = [chain.block(n) for n in numbers]
    receipts = [r for n in numbers for r in chain.receipts(n)]
    valuation = Valuation.from_market(market, numeraire, eth_price)
    swaps = swaps_from_receipts(receipts)
    swaps_of: dict[bytes, list[SwapEvent]] = defaultdict(list)
    for swap in swaps:
        swaps_of[swap.tx_hash].append(swap)

    truth = ground_truth(sim, receipts, swaps)
    sandwiches = detect_sandwiches(swaps)
    detected: tuple[Detection, ...] = sandwiches + detect_backruns(swaps, sandwiches)
    agent_of: dict[Address, str] = {a.address: a.name for a in sim.agents}
    victims = victim_losses(chain, truth, swaps_of, valuation, agent_of, market)

    kinds = dict(kinds or {})
    mev_senders = {s.agent for s in sim.sent.values() if s.label in MEV_LABELS}
    tracked = set(market.tokens.values()) | {p.address for p in market.pools}
    flows = _holding_flows(receipts, agent_of, tracked)
    base_fee = {b.number: b.base_fee for b in blocks}
    coinbase = {b.number: b.coinbase for b in blocks}
    eth: dict[tuple[str, int], int] = defaultdict(int)
    tips: dict[str, int] = defaultdict(int)
    direct: dict[str, int] = defaultdict(int)
    for receipt in receipts:
        name = agent_of.get(receipt.sender)
        if name is None:
            continue
        paid = receipt.gas_used * receipt.effective_gas_price
        tips[name] += receipt.gas_used * (
            receipt.effective_gas_price - base_fee[receipt.block_number]
        )
        if receipt.status == 1 and receipt.to == coinbase[receipt.block_number]:
            value = chain.transaction(receipt.tx_hash).value
            direct[name] += value
            paid += value
        eth[(name, receipt.block_number)] += paid

    accounts: list[AgentAccount] = []
    searchers: set[str] = set()
    for agent in sim.agents:
        kind = kinds.get(agent.name, agent.kind)
        searcher = kind in SEARCHER_KINDS or agent.name in mev_senders
        if searcher:
            searchers.add(agent.name)
        holdings: dict[str, int] = defaultdict(int)
        spent = 0
        for number in numbers:
            for token, amount in flows.get((agent.name, number), {}).items():
                holdings[token] += amount
            spent += eth.get((agent.name, number), 0)
        profit = sum(valuation.value(t, a) for t, a in holdings.items()) - valuation.value_eth(
            spent
        )
        accounts.append(
            AgentAccount(
                name=agent.name,
                kind=kind,
                searcher=searcher,
                sent=agent.sent,
                included=agent.included,
                failed=agent.failed,
                rejected=agent.rejected,
                gas_spent=agent.gas_spent,
                tips_paid=tips.get(agent.name, 0),
                coinbase_paid=direct.get(agent.name, 0),
                holdings={valuation.symbols.get(t, t): a for t, a in sorted(holdings.items()) if a},
                profit=profit,
            )
        )

    loss_by_block: dict[int, float] = defaultdict(float)
    for victim in victims:
        loss_by_block[victim.block] += victim.value
    series = []
    for number in numbers:
        gained = 0.0
        for name in sorted(searchers):
            for token, amount in flows.get((name, number), {}).items():
                gained += valuation.value(token, amount)
            gained -= valuation.value_eth(eth.get((name, number), 0))
        series.append(BlockAccount(number, loss_by_block.get(number, 0.0), gained))

    truth_sandwiches = [c for c in truth.cases if c.kind == "sandwich"]
    truth_backruns = [c for c in truth.cases if c.kind == "backrun"]
    return RunAccount(
        policy=chain.policy.name,
        valuation=valuation,
        agents=tuple(accounts),
        blocks=tuple(series),
        victims=victims,
        truth=truth,
        detected=detected,
        sandwich_score=score(sandwiches, truth_sandwiches),
        backrun_score=score(detected[len(sandwiches) :], truth_backruns),
        overall_score=score(detected, truth.cases),
        waits_ms=tuple(r.waited_ms for r in receipts if r.waited_ms is not None),
        intents=intent_stats(market, valuation, receipts),
    )
