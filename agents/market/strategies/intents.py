"""Intent order flow: makers who sign swap intents instead of swapping, and the solvers who
settle them.

An ``IntentMaker`` posts signed intents to the market's ``intent_board`` (off-chain, so
nothing of its order reaches the public mempool); a ``Solver`` reads the open intents after
each block, batches them per token pair with ``agentbed.agents.market.intents.solve_pair`` and sends
``settle`` to the book. Several solvers compete for the same intents: the first settlement
mined wins and the others revert with ``IntentBookNonceUsed``. Both need a book deployed with
``Market.deploy_intent_book`` before the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import is_address

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent
from agentbed.agents.market.intent_settlement import commit_to_limits
from agentbed.agents.market.intents import (
    ALL,
    SETTLE_ARGS,
    SETTLE_SELECTOR,
    Condition,
    ConditionKind,
    Intent,
    NoSolution,
    Plan,
    Pricing,
    crosses,
    sign_intent,
    solve_pair,
)
from agentbed.agents.market.strategies.common import (
    BPS,
    check_slippage_bps,
    hash_hex,
    random_trade,
    token_balance,
)

if TYPE_CHECKING:
    from agentbed.agents.market.world import IntentBoard, Pool, PostedIntent

SETTLE_BASE_GAS = 150_000
SETTLE_GAS_PER_INTENT = 90_000
SETTLE_GAS_PER_SWAP = 120_000


def board_of(market: Any) -> IntentBoard:
    """The market's intent board; ValueError when no intent book was deployed."""
    board: IntentBoard | None = getattr(market, "intent_board", None)
    if board is None:
        raise ValueError("no intent book: call market.deploy_intent_book(...) before the run")
    return board


def settle_calldata(intents: Sequence[PostedIntent], plan: Plan) -> bytes:
    """Calldata of ``settle(intents, signatures, plan)``."""
    args = (
        [p.intent.as_tuple() for p in intents],
        [p.signature for p in intents],
        plan.as_tuple(),
    )
    return SETTLE_SELECTOR + encode(SETTLE_ARGS, args)


def steer_surplus(intents: Sequence[Intent], plan: Plan, own_maker: str) -> Plan:
    """A pay-as-filled ``plan`` rewritten to steer surplus to ``own_maker`` (the attack of
    issue 15, flaw 3): for each token bought, every other buyer is named exactly its limit and
    ``own_maker``'s intents share the rest of what the plan named for that token, pro rata to
    what they sell. Tokens ``own_maker`` does not buy keep the plan's amounts. On a vulnerable
    ``PAY_AS_FILLED`` book this moves the other makers' surplus to ``own_maker``; a
    ``FAIR_PAY_AS_FILLED`` book splits each group's total pro rata to sell amount anyway."""
    named = list(plan.buy_amounts)
    for token in {i.buy_token for i in intents}:
        side = [k for k, i in enumerate(intents) if i.buy_token == token]
        own = [k for k in side if intents[k].maker == own_maker]
        if not own:
            continue
        rest = sum(named[k] for k in side)
        for k in side:
            if k not in own:
                named[k] = intents[k].min_buy_amount
                rest -= named[k]
        sold = sum(intents[k].sell_amount for k in own)
        for k in own:
            named[k] = rest * intents[k].sell_amount // sold
    return Plan.pay_as_filled(named, plan.swaps)


def route_held(intents: Sequence[Intent], plan: Plan) -> Plan:
    """A one-sided pay-as-filled ``plan`` rewritten to sell all the book holds in each swap
    (``ALL``, no minimum output) and to commit only to the makers' limits, so that a skipped
    intent leaves less to swap instead of a swap the book cannot fund."""
    swaps = [replace(s, amount_in=ALL, min_amount_out=0) for s in plan.swaps]
    return Plan.pay_as_filled([i.min_buy_amount for i in intents], swaps)


class IntentMaker(Agent):
    """Signs and posts a swap intent of random side and size when it wakes.

    Sizes and limits follow ``RetailTrader``: log-normal around ``mean_size``, and the limit
    is the quote at the last block's reserves less ``slippage_bps``. The intent is valid for
    ``horizon_s`` seconds after the head block. A ``conditional`` share of the intents carry
    ``Condition.counter_intent()``: they execute only next to a crossing reverse intent. Which
    ones is counted, not drawn (each intent adds ``conditional`` to a credit and is conditional
    when the credit reaches 1), so the maker's random draws are exactly ``RetailTrader``'s and
    a group switched between the two kinds on one seed trades the same sides and sizes.

    Args:
        mean_size: Median size: a fraction of the sold token's reserve when ``relative``,
            else an absolute amount.
        size_sigma: Log-normal spread of the size.
        slippage_bps: Limit below the quote, in basis points.
        horizon_s: Seconds from the head block's timestamp to the deadline.
        conditional: Share of intents (in [0, 1]) that require a counter-intent.
        relative: Whether ``mean_size`` is a fraction of the pool's reserve.
        **kwargs: Passed to ``Agent``.
    """

    def __init__(
        self,
        *args: Any,
        mean_size: float = 0.005,
        size_sigma: float = 0.5,
        slippage_bps: int = 100,
        horizon_s: int = 60,
        conditional: float = 0.0,
        relative: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        check_slippage_bps(slippage_bps)
        if mean_size <= 0:
            raise ValueError(f"mean_size must be > 0, got {mean_size}")
        if horizon_s <= 0:
            raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
        if not 0 <= conditional <= 1:
            raise ValueError(f"conditional must be in [0, 1], got {conditional}")
        self.mean_size = mean_size
        self.size_sigma = size_sigma
        self.slippage_bps = slippage_bps
        self.horizon_s = horizon_s
        self.conditional = conditional
        self.relative = relative
        self._conditional_credit = 0.0
        self.intents: list[Intent] = []
        """Every intent the maker posted, in order (its index is its nonce)."""

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals([board_of(market).book])

    def observe(self, view: AgentView) -> Sequence[Action]:
        market = view.market
        board = board_of(market)
        pool, token_in, amount_in = random_trade(
            self.rng, market, self.mean_size, self.size_sigma, self.relative
        )
        if amount_in <= 0:
            return ()
        committed = sum(
            p.intent.sell_amount
            for p in board.open(view.head.timestamp)
            if p.intent.maker == self.address and p.intent.sell_token == token_in
        )
        if committed + amount_in > token_balance(view.reader, token_in, self.address):
            return ()  # a batch pulling more than it holds reverts (Revert book) or skips it
        min_out = market.quote(pool, token_in, amount_in) * (BPS - self.slippage_bps) // BPS
        if min_out <= 0:
            return ()
        self._conditional_credit += self.conditional
        conditional = self._conditional_credit >= 1 - 1e-9  # ten shares of 0.1 make one
        if conditional:
            self._conditional_credit -= 1
        intent = Intent(
            maker=self.address,
            sell_token=token_in,
            buy_token=pool.other(token_in),
            sell_amount=amount_in,
            min_buy_amount=min_out,
            deadline=view.head.timestamp + self.horizon_s,
            nonce=len(self.intents),
            condition=Condition.counter_intent() if conditional else Condition.none(),
        )
        signature = sign_intent(
            self.account, intent, chain_id=board.chain_id, verifying_contract=board.book
        )
        board.post(intent, signature, now_ms=view.now_ms)
        self.intents.append(intent)
        return ()


class Solver(Agent):
    """After each block, settles the open intents of each token pair in one batch.

    Per pair, unconditional intents join the batch in posting order as long as
    ``solve_pair`` still finds a plan; then each counter-intent-conditional one joins when an
    intent already in the batch (or another conditional one joining with it) crosses it, and
    the plan still solves. A batch is sent as one ``settle`` with tip ``tip``; the solver
    waits for its pending settlement to be mined before sending another.

    What the plan commits to (``commit``), which decides what a searcher reading the pending
    settlement can take (``agentbed.agents.market.intent_settlement``):

    * ``"quote"``: ``solve_pair``'s plan as it is: each maker's buy amount includes its share
      of the surplus and the swap's minimum output is its quoted output, so the settlement
      reverts if anything moves the pool first (nothing to sandwich, but fragile);
    * ``"limits"``: the plan commits only to the makers' signed limits
      (``commit_to_limits``; pay-as-filled books only): the surplus is paid when the swap
      yields it, and a sandwich can take it without making the settlement revert;
    * ``"held"``: each batch is one-sided (the side of the pair's oldest open intent), every
      swap sells all the book holds (``ALL``, no minimum) and the plan commits only to the
      limits (``route_held``; pay-as-filled books only). On a Skip book an intent removed
      before settlement (cancelled, its approval revoked) is skipped and the rest still
      settles, which a fixed swap input does not allow (issue 15, flaw 4); a sandwich can take
      everything above the limits.

    With ``steer_to`` (the address of a maker the solver controls) the solver is the
    surplus-steering attacker of issue 15: each quoted plan is rewritten by ``steer_surplus``
    (the other makers named their limits, ``steer_to`` the rest); a pay-as-filled book of
    either kind is required.

    Args:
        tip: Priority fee per gas in wei.
        max_batch: Most intents per settlement.
        expiry_margin_s: Leave out intents expiring within this many seconds of the head.
        commit: ``"quote"``, ``"limits"`` or ``"held"`` (above).
        steer_to: A maker to steer surplus to, by address or by agent name (a scenario file
            names the maker agent the solver controls), or None (honest).
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(
        self,
        *args: Any,
        tip: int = 2 * GWEI,
        max_batch: int = 12,
        expiry_margin_s: int = 4,
        commit: str = "quote",
        steer_to: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if expiry_margin_s < 0:
            raise ValueError(f"expiry_margin_s must be >= 0, got {expiry_margin_s}")
        self.tip = tip
        self.max_batch = max_batch
        if commit not in ("quote", "limits", "held"):
            raise ValueError(f"commit must be 'quote', 'limits' or 'held', got {commit!r}")
        self.expiry_margin_s = expiry_margin_s
        self.commit = commit
        if steer_to is not None and commit != "quote":
            raise ValueError("steer_to needs commit='quote' (limits mode names the limits)")
        self.steer_to = steer_to

    def meet(self, directory: Mapping[str, str]) -> None:
        if self.steer_to is None or is_address(self.steer_to):
            return
        if self.steer_to not in directory:
            raise ValueError(f"{self.name}: steer_to {self.steer_to!r} is no address or agent")
        self.steer_to = directory[self.steer_to]

    def setup(self, market: Any) -> Sequence[Action]:
        if self.commit != "quote" and board_of(market).pricing != Pricing.PAY_AS_FILLED:
            raise ValueError(f"{self.name}: commit={self.commit!r} needs a pay-as-filled book")
        if self.steer_to is not None and not board_of(market).pricing.names_buy_amounts:
            raise ValueError(f"{self.name}: steer_to needs a pay-as-filled intent book")
        return ()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.nonce > view.confirmed_nonce:
            return ()  # our last settlement is still pending
        market = view.market
        board = board_of(market)
        open_intents = board.open(view.head.timestamp + self.expiry_margin_s)
        actions: list[Action] = []
        for pool in market.pools:
            pair = {pool.token0, pool.token1}
            posted = [p for p in open_intents if {p.intent.sell_token, p.intent.buy_token} == pair]
            if not posted:
                continue
            open_intents = tuple(p for p in open_intents if p not in posted)  # one pool per pair
            if self.commit == "held":
                side = posted[0].intent.sell_token
                posted = [p for p in posted if p.intent.sell_token == side]
            batch, plan = self._batch(posted, pool, market, board)
            if plan is None:
                continue
            if self.steer_to is not None:
                plan = steer_surplus([p.intent for p in batch], plan, self.steer_to)
            if self.commit == "limits":
                plan = commit_to_limits(
                    [p.intent for p in batch],
                    plan,
                    pools=(pool,),
                    reserves=market.reserves,
                    on_unmet=board.on_unmet,
                )  # solve_pair checked the plan settles at these reserves, so this cannot raise
            elif self.commit == "held":
                plan = route_held([p.intent for p in batch], plan)
            gas = (
                SETTLE_BASE_GAS
                + SETTLE_GAS_PER_INTENT * len(batch)
                + SETTLE_GAS_PER_SWAP * len(plan.swaps)
            )
            if not self.can_afford(gas, 2 * view.base_fee + self.tip):
                break
            actions.append(
                TxIntent(
                    to=board.book,
                    data=settle_calldata(batch, plan),
                    gas=gas,
                    tip=self.tip,
                    label="settle",
                    meta={"intents": [hash_hex(p.digest) for p in batch]},
                )
            )
        return actions

    def _solve(
        self, batch: Sequence[PostedIntent], pool: Pool, market: Any, board: IntentBoard
    ) -> Plan | None:
        """``solve_pair``'s plan for ``batch`` at the last block's reserves, or None."""
        r0, r1 = market.reserves[pool.address]
        try:
            return solve_pair(
                [p.intent for p in batch],
                pool_reserves={pool.token0: r0, pool.token1: r1},
                fee_bps=pool.fee_bps,
                pricing=board.pricing,
            )
        except NoSolution:
            return None

    def _batch(
        self, posted: Sequence[PostedIntent], pool: Pool, market: Any, board: IntentBoard
    ) -> tuple[list[PostedIntent], Plan | None]:
        """The largest batch, built greedily, that solves and whose conditions all hold, and
        its plan (None for an empty batch)."""
        batch: list[PostedIntent] = []
        plan: Plan | None = None

        def fits(extra: list[PostedIntent]) -> bool:
            nonlocal plan
            if len(batch) + len(extra) > self.max_batch:
                return False
            solved = self._solve(batch + extra, pool, market, board)
            if solved is None:
                return False
            plan = solved  # every fit is kept, so the last one is the final batch's plan
            return True

        plain = [p for p in posted if p.intent.condition.kind == ConditionKind.NONE]
        counter = [p for p in posted if p.intent.condition.kind == ConditionKind.COUNTER_INTENT]
        for p in plain:
            if fits([p]):
                batch.append(p)
        for p in counter:
            if p in batch:
                continue
            if any(crosses(p.intent, q.intent) for q in batch):
                if fits([p]):
                    batch.append(p)
                continue
            # Two conditional intents can satisfy each other.
            for q in counter:
                if q is p or q in batch or not crosses(p.intent, q.intent):
                    continue
                if crosses(q.intent, p.intent) and fits([p, q]):
                    batch.extend((p, q))
                    break
        return batch, plan
