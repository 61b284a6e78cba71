"""What a pending ``settle`` of the IntentBook will do to the pools, read from its calldata.

A solver's settlement waits in the public mempool like any other transaction, and its plan
trades through the factory's pools. ``planned_swaps`` reads the calldata and replays the
book's own arithmetic (``IntentBook.settle``) off-chain at given pool reserves: for each plan
swap it returns the pool, the token in, the amount in (a plan's ``ALL`` resolved to what the
batch holds), the output expected at those reserves, and the *floor*: the least output at
which the settlement still succeeds. The floor is the larger of the plan's own
``minAmountOut`` and the least output with which ``IntentBook._payOut`` can still pay every
executed maker its signed limit and the plan's committed amounts. Everything above the floor
is exposed to a searcher: a sandwich may push the swap down to it and the batch still settles,
the makers taking the loss.

What is modelled and what is not:

* Conditions are resolved as ``IntentBook._resolveConditions`` does (the revert variant
  reverts the batch, so it makes no swaps; the skip variant drops unmet intents to a fixed
  point). ``COUNTER_INTENT`` and ``INTENT_SETTLES`` are decided from the batch alone, exactly;
  ``PRICE_WITHIN`` reads a pool's price at execution and is taken to hold.
* Signatures and deadlines are not checked: a settlement failing them reverts before any
  swap, which the chain will say. Used nonces and failing transfers cannot be read from the
  calldata: the caller names those intents (``unavailable``, the book's state at execution),
  which the revert variant reverts on and the skip variant leaves out before the conditions'
  fixed point, as ``IntentBook._validate`` and ``_pullSellAmounts`` do (the set left is the
  largest one, among the available intents, whose conditions all hold within it, whatever
  the order in which intents drop).
* The floor is exact for a swap whose output is paid out to makers (every plan of
  ``solve_pair``). A swap whose output feeds a later hop keeps the plan's ``minAmountOut`` as
  its floor, and later hops are quoted at the reserves the earlier ones leave.

``commit_to_limits`` turns a pay-as-filled plan into one that commits the solver only to the
makers' signed limits (the surplus is still paid out, pro rata, when the swap yields it): the
plan a solver sends when it does not protect its makers' surplus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from eth_abi.exceptions import DecodingError

from agentbed.agents.erc20 import MAX_UINT
from agentbed.agents.market.amm_math import amount_out
from agentbed.agents.market.intents import (
    ALL,
    ConditionKind,
    Intent,
    OnUnmetCondition,
    Plan,
    Pricing,
    crosses,
    decode_settle,
    fair_amounts,
    payout_shares,
)
from agentbed.agents.market.venues.protocol import SwapCall

if TYPE_CHECKING:
    from agentbed.agents.market.world import IntentBoard, Market, Pool

_NO_SWAPS: Final[tuple[PlannedSwap, ...]] = ()


@dataclass(frozen=True, slots=True)
class PlannedSwap:
    """One pool swap a pending settlement will make.

    Attributes:
        pool: The pool's address.
        token_in: Token the book sells.
        token_out: Token it buys.
        amount_in: What it sells (``ALL`` resolved).
        expected_out: The output at the reserves it was decoded against.
        min_amount_out: The least output at which the settlement still succeeds.
    """

    pool: str
    token_in: str
    token_out: str
    amount_in: int
    expected_out: int
    min_amount_out: int


def executed_intents(
    intents: Sequence[Intent], on_unmet: OnUnmetCondition, unavailable: Collection[int] = ()
) -> list[bool] | None:
    """Which intents of a batch execute (``IntentBook._validate``, ``_pullSellAmounts`` and
    ``_resolveConditions``), or None when the batch reverts: an unmet condition, or an index
    in ``unavailable`` (used nonce, failing transfer), under the revert variant. The skip
    variant also leaves out an intent repeating an earlier one's (maker, nonce) (the revert
    variant reverts on it when marking nonces, which is not modelled here). ``PRICE_WITHIN``
    is taken to hold."""
    if unavailable and on_unmet == OnUnmetCondition.REVERT:
        return None
    executed = [k not in unavailable for k in range(len(intents))]
    if on_unmet == OnUnmetCondition.SKIP:
        seen: set[tuple[str, int]] = set()
        for k, intent in enumerate(intents):
            key = (intent.maker, intent.nonce)
            executed[k] = executed[k] and key not in seen
            seen.add(key)
    changed = True
    while changed:
        changed = False
        for i in range(len(intents)):
            if not executed[i] or _holds(intents, executed, i):
                continue
            if on_unmet == OnUnmetCondition.REVERT:
                return None
            executed[i] = False
            changed = True
    return executed


def _holds(intents: Sequence[Intent], executed: Sequence[bool], i: int) -> bool:
    condition = intents[i].condition
    if condition.kind == ConditionKind.COUNTER_INTENT:
        test = lambda other: crosses(intents[i], other)  # noqa: E731
    elif condition.kind == ConditionKind.INTENT_SETTLES:
        test = lambda other: (other.maker, other.nonce) == (condition.maker, condition.nonce)  # noqa: E731
    else:
        return True
    return any(executed[j] and j != i and test(other) for j, other in enumerate(intents))


def base_amounts(
    intents: Sequence[Intent], executed: Sequence[bool], plan: Plan, pricing: Pricing
) -> list[int] | None:
    """What each executed intent is owed before its share of any excess
    (``IntentBook._baseAmounts``); None when the book would revert on the plan's shape."""
    if pricing.names_buy_amounts:
        if len(plan.buy_amounts) != len(intents):
            return None
        if pricing == Pricing.FAIR_PAY_AS_FILLED:
            return fair_amounts(intents, executed, plan.buy_amounts)
        return [a if x else 0 for a, x in zip(plan.buy_amounts, executed, strict=True)]
    if len(plan.prices) != len(plan.tokens):
        return None
    prices: dict[str, int] = {}
    for token, price in zip(plan.tokens, plan.prices, strict=True):
        if price > 0:
            prices.setdefault(token, price)  # priceOf takes the first positive entry
    amounts = []
    for intent, x in zip(intents, executed, strict=True):
        if not x:
            amounts.append(0)
        elif intent.sell_token not in prices or intent.buy_token not in prices:
            return None
        else:
            amounts.append(
                intent.sell_amount * prices[intent.sell_token] // prices[intent.buy_token]
            )
    return amounts


def payout_ok(
    intents: Sequence[Intent],
    executed: Sequence[bool],
    bases: Sequence[int],
    token: str,
    available: int,
    pricing: Pricing = Pricing.PAY_AS_FILLED,
) -> bool:
    """Whether ``IntentBook._payOut`` pays every executed buyer of ``token`` at least its limit
    out of ``available`` (monotone in ``available``)."""
    paid = payouts(intents, executed, bases, token, available, pricing)
    return paid is not None and all(paid[k] >= intents[k].min_buy_amount for k in paid)


def payouts(
    intents: Sequence[Intent],
    executed: Sequence[bool],
    bases: Sequence[int],
    token: str,
    available: int,
    pricing: Pricing,
) -> dict[int, int] | None:
    """What ``IntentBook._payOut`` pays each executed buyer of ``token`` (by batch index, the
    solver's reward included) out of ``available``, limits unchecked; None when it reverts
    on the total (less than the bases, or a token nobody buys)."""
    buyers = [k for k, i in enumerate(intents) if executed[k] and i.buy_token == token]
    required = sum(bases[k] for k in buyers)
    if available < required or (not buyers and available > 0):
        return None
    return payout_shares(intents, bases, buyers, available, pricing)


def _least_available(
    intents: Sequence[Intent],
    executed: Sequence[bool],
    bases: Sequence[int],
    token: str,
    high: int,
    pricing: Pricing,
) -> int:
    """The least amount of ``token`` in [0, high] the payout accepts (``high`` is accepted)."""
    low = 0
    while low < high:
        mid = (low + high) // 2
        low, high = (
            (low, mid)
            if payout_ok(intents, executed, bases, token, mid, pricing)
            else (mid + 1, high)
        )
    return low


def _pool_for(pools: Sequence[Pool], token_in: str, token_out: str, fee: int) -> Pool | None:
    for pool in pools:
        if {pool.token0, pool.token1} == {token_in, token_out} and pool.fee_bps == fee:
            return pool
    return None


def plan_swaps(
    intents: Sequence[Intent],
    plan: Plan,
    *,
    pools: Sequence[Pool],
    reserves: Mapping[str, tuple[int, int]],
    pricing: Pricing,
    on_unmet: OnUnmetCondition,
    unavailable: Collection[int] = (),
) -> tuple[PlannedSwap, ...]:
    """The pool swaps a settlement of ``intents`` under ``plan`` makes at ``reserves``
    (pool address -> ``(reserve0, reserve1)``), with their floors; empty when it would revert
    there or make no swap (see the module docstring for what is checked). ``unavailable``
    names the intents whose nonce is used or whose transfer fails at execution."""
    executed = executed_intents(intents, on_unmet, unavailable)
    if executed is None or any(i.sell_token == i.buy_token or i.sell_amount == 0 for i in intents):
        return _NO_SWAPS
    bases = base_amounts(intents, executed, plan, pricing)
    if bases is None:
        return _NO_SWAPS
    held: dict[str, int] = defaultdict(int)
    for intent, x in zip(intents, executed, strict=True):
        if x:
            held[intent.sell_token] += intent.sell_amount
    local = dict(reserves)
    steps: list[PlannedSwap] = []
    for step in plan.swaps:
        pool = _pool_for(pools, step.token_in, step.token_out, step.fee)
        if pool is None or pool.address not in local:
            return _NO_SWAPS  # IntentBookUnknownPool (or a pool we cannot quote)
        amount = held[step.token_in] if step.amount_in == ALL else step.amount_in
        if amount == 0 and step.amount_in == ALL:
            continue  # the book skips an empty ALL hop
        r0, r1 = local[pool.address]
        forward = step.token_in == pool.token0
        r_in, r_out = (r0, r1) if forward else (r1, r0)
        out = amount_out(amount, r_in, r_out, pool.fee_bps) if amount > 0 else 0
        if amount > held[step.token_in] or out == 0 or out < step.min_amount_out:
            return _NO_SWAPS
        local[pool.address] = (r0 + amount, r1 - out) if forward else (r0 - out, r1 + amount)
        held[step.token_in] -= amount
        held[step.token_out] += out
        # The plan's own minimum for now; _with_floor raises it to the floor.
        steps.append(
            PlannedSwap(
                pool.address, step.token_in, step.token_out, amount, out, step.min_amount_out
            )
        )
    if any(
        not payout_ok(intents, executed, bases, token, held[token], pricing)
        for token in {*held, *(i.buy_token for i in intents)}
    ):
        return _NO_SWAPS
    return tuple(
        _with_floor(k, steps, intents, executed, bases, held, pricing) for k in range(len(steps))
    )


def _with_floor(
    k: int,
    steps: Sequence[PlannedSwap],
    intents: Sequence[Intent],
    executed: Sequence[bool],
    bases: Sequence[int],
    held: Mapping[str, int],
    pricing: Pricing,
) -> PlannedSwap:
    """Step ``k`` with its floor: the least output the payout of its token still accepts."""
    step = steps[k]
    own = step.min_amount_out
    if any(later.token_in == step.token_out for later in steps[k + 1 :]):
        return replace(step, min_amount_out=max(own, 1))  # feeds a later hop
    least = _least_available(
        intents, executed, bases, step.token_out, held[step.token_out], pricing
    )
    floor = least - (held[step.token_out] - step.expected_out)
    return replace(step, min_amount_out=max(own, floor, 1))


def planned_swaps(
    calldata: bytes,
    *,
    pools: Sequence[Pool],
    reserves: Mapping[str, tuple[int, int]],
    pricing: Pricing,
    on_unmet: OnUnmetCondition,
) -> tuple[PlannedSwap, ...]:
    """The pool swaps a pending ``settle`` transaction makes at ``reserves``, with their floors;
    empty for calldata that is not a well-formed ``settle`` or a settlement that would revert
    there."""
    try:
        intents, _, plan = decode_settle(calldata)
    except (ValueError, TypeError, DecodingError):  # not settle(...), or malformed arguments
        return _NO_SWAPS
    return plan_swaps(
        intents, plan, pools=pools, reserves=reserves, pricing=pricing, on_unmet=on_unmet
    )


class SettlementDecoder:
    """Reads a pending ``settle`` to a market's intent book into the pool swaps it will make.

    Plugged into the market's pending-call decoders (``Market.add_decoder``) when the book is
    deployed, so every searcher that asks ``market.pending_swap(tx)`` sees settlements like
    direct swaps. Each swap is the plan's swap at the last block's reserves, with the *floor*
    (the least output at which the settlement still pays every maker its signed limit) as its
    ``min_amount_out``; its ``to`` is the book and its ``deadline`` ``MAX_UINT`` (the book swaps
    with ``block.timestamp``; the intents' own deadlines revert the whole settlement before any
    swap).
    """

    def __init__(self, market: Market, board: IntentBoard) -> None:
        self.market = market
        self.board = board

    def decode_call(self, to: str | None, data: bytes) -> tuple[SwapCall, ...] | None:
        """The settlement's swaps; None for a call to anything but the book."""
        if to is None or to.lower() != self.board.book.lower():
            return None
        swaps = planned_swaps(
            data,
            pools=self.market.pools,
            reserves=self.market.reserves,
            pricing=self.board.pricing,
            on_unmet=self.board.on_unmet,
        )
        book = self.board.book
        return tuple(
            SwapCall(s.pool, s.token_in, s.amount_in, s.min_amount_out, book, MAX_UINT)
            for s in swaps
        )


def commit_to_limits(
    intents: Sequence[Intent],
    plan: Plan,
    *,
    pools: Sequence[Pool],
    reserves: Mapping[str, tuple[int, int]],
    on_unmet: OnUnmetCondition,
) -> Plan:
    """A pay-as-filled ``plan`` rewritten to commit only to the makers' limits.

    Each intent's buy amount becomes its signed limit, so what the swaps yield beyond the
    limits is paid as the book's pro-rata excess (to the limits) instead of being committed;
    each swap's ``minAmountOut`` becomes its floor (``plan_swaps``). The settlement pays the
    same in all when nothing moves the pool first, but a sandwich can now take everything
    above the limits without making it revert.

    Raises:
        ValueError: ``plan`` would not settle ``intents`` at ``reserves``.
    """
    loose = Plan.pay_as_filled(
        [i.min_buy_amount for i in intents],
        [replace(s, min_amount_out=0) for s in plan.swaps],
    )
    steps = plan_swaps(
        intents,
        loose,
        pools=pools,
        reserves=reserves,
        pricing=Pricing.PAY_AS_FILLED,
        on_unmet=on_unmet,
    )
    if plan.swaps and len(steps) != len(plan.swaps):
        raise ValueError("the plan does not settle its intents at these reserves")
    swaps = [
        replace(s, min_amount_out=t.min_amount_out) for s, t in zip(plan.swaps, steps, strict=True)
    ]
    return Plan.pay_as_filled(loose.buy_amounts, swaps)
