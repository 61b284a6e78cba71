"""A learner's action space, and what an action turns into: transactions or a bundle.

An action is a vector of seven integers (a ``MultiDiscrete`` space):

==========  =====================================================================================
component   values
==========  =====================================================================================
kind        0 nothing, 1 swap, 2 front-run, 3 sandwich
pool        which pool a plain swap trades on (scenario order)
side        0 sells the pool's token0, 1 sells token1 (plain swap)
size        bucket: a plain swap's fraction of the pool's reserve (``trade_sizes``), a
            front-run's or sandwich's multiple of the target's input (``copy_multiples``)
tip         bucket of ``tip_steps_gwei``: a plain swap tips the step; a front leg tips the step
            above the highest tip bid on the target's pool and direction
bundle      0 public transactions, 1 one private bundle for the next block
target      the pending-swap slot of the observation a front-run or sandwich aims at
==========  =====================================================================================

Components an action kind does not use are ignored. A front-run copies the target's swap ahead
of it (labels ``"front"``, ``meta["victim"]``); a sandwich adds a back leg that sells what the
front leg bought right after the target (``"back"``); in a bundle they go with the target's own
raw transaction, in block order. An action that does not apply now (an empty slot, no balance,
too many own transactions pending) sends nothing; the reason is reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import Action, BundleIntent, TxIntent
from agentbed.agents.learning.config import InvalidAction, LearningConfig
from agentbed.agents.market.strategies.common import BPS, effective_tip, hash_hex, token_balance

if TYPE_CHECKING:
    from agentbed.agents.agent import AgentView
    from agentbed.agents.learning.observation import VisibleSwap
    from agentbed.agents.market.world import Market, Pool

KINDS = ("nothing", "swap", "front", "sandwich")
COMPONENTS = ("kind", "pool", "side", "size", "tip", "bundle", "target")


def action_nvec(pools: int, config: LearningConfig) -> tuple[int, ...]:
    """The number of values of each component, in ``COMPONENTS`` order."""
    return (len(KINDS), pools, 2, config.sizes, len(config.tip_steps_gwei), 2, config.top_n)


def check_action(agent: str, action: Any, nvec: Sequence[int]) -> tuple[int, ...]:
    """``action`` as a tuple of ints, checked against the space.

    Raises:
        InvalidAction: not a sequence of ``len(nvec)`` integers each in ``[0, n)``.
    """
    try:
        values = [int(v) for v in action]
        exact = all(int(v) == v for v in action)
    except (TypeError, ValueError):
        raise InvalidAction(
            f"{agent}: action must be {len(nvec)} integers {tuple(COMPONENTS)}, got {action!r}"
        ) from None
    if len(values) != len(nvec) or not exact:
        raise InvalidAction(
            f"{agent}: action must be {len(nvec)} integers {tuple(COMPONENTS)}, got {action!r}"
        )
    for name, value, n in zip(COMPONENTS, values, nvec, strict=True):
        if not 0 <= value < n:
            raise InvalidAction(
                f"{agent}: action component {name} must be in [0, {n}), got {value}"
            )
    return tuple(values)


def plan(
    action: tuple[int, ...],
    view: AgentView,
    market: Market,
    own: str,
    swaps: Sequence[VisibleSwap],
    config: LearningConfig,
) -> tuple[tuple[Action, ...], str]:
    """What a checked action sends now.

    Returns:
        ``(actions, skipped)``: the intents to send, and why nothing is sent ("" otherwise).
    """
    kind, pool_index, side, size, tip, bundle, target = action
    if kind == 0:
        return (), ""
    if view.nonce - view.confirmed_nonce >= config.max_pending:
        return (), "too many own transactions pending"
    if kind == 1:
        pool = market.pools[pool_index]
        token_in = pool.token1 if side else pool.token0
        reserve_in, _ = market.reserves_for(pool, token_in)
        amount = int(config.trade_sizes[size] * reserve_in)
        intent = _swap(market, view, own, pool, token_in, amount, config.tip_wei(tip), config)
        if intent is None:
            return (), "no balance for the swap"
        return ((BundleIntent((intent,), label="trade"),) if bundle else (intent,)), ""
    if target >= len(swaps):
        return (), f"no pending swap in slot {target}"
    return _copy(view, market, own, swaps[target], kind == 3, size, tip, bundle, config)


def _swap(
    market: Market,
    view: AgentView,
    own: str,
    pool: Pool,
    token_in: str,
    amount: int,
    tip: int,
    config: LearningConfig,
    label: str = "trade",
    victim: str | None = None,
) -> TxIntent | None:
    """A swap of at most ``amount`` (capped by the balance), or None when nothing to sell."""
    amount = min(amount, token_balance(view.reader, token_in, own))
    if amount <= 0:
        return None
    quote = market.quote(pool, token_in, amount)
    min_out = quote * (BPS - config.slippage_bps) // BPS
    intent = market.swap(pool, token_in, amount, min_out, own, tip=tip, label=label)
    return intent if victim is None else dataclasses.replace(intent, meta={"victim": victim})


def _copy(
    view: AgentView,
    market: Market,
    own: str,
    seen: VisibleSwap,
    sandwich: bool,
    size: int,
    tip: int,
    bundle: int,
    config: LearningConfig,
) -> tuple[tuple[Action, ...], str]:
    """A front-run of ``seen`` (and, for a sandwich, the back leg after it)."""
    pool, token_in, victim = seen.pool, seen.swap.token_in, seen.ptx
    rivals = [
        effective_tip(p, view.base_fee)
        for p in view.pending
        if p.sender != own and _same_side(market, p, pool.address, token_in)
    ]
    bid = max(rivals, default=0) + config.tip_wei(tip)
    amount = int(config.copy_multiples[size] * seen.swap.amount_in)
    victim_hex = hash_hex(victim.hash)
    front = _swap(
        market, view, own, pool, token_in, amount, bid, config, label="front", victim=victim_hex
    )
    if front is None:
        return (), "no balance for the front-run"
    front = dataclasses.replace(front, max_fee=2 * view.base_fee + bid)
    if not sandwich:
        return ((BundleIntent((front, victim.tx.raw), label="front"),) if bundle else (front,)), ""
    back = _back_leg(view, market, own, seen, front, bundle)
    if back is None:
        return (), "the sandwich's back leg would get nothing"
    if bundle:
        return (BundleIntent((front, victim.tx.raw, back), label="sandwich"),), ""
    return (front, back), ""


def _back_leg(
    view: AgentView, market: Market, own: str, seen: VisibleSwap, front: TxIntent, bundle: int
) -> TxIntent | None:
    """Sell what the front leg buys, after the victim (at the reserves the two leave)."""
    pool, token_in = seen.pool, seen.swap.token_in
    venue = market.venue_of(pool)
    r_in, r_out = market.reserves_for(pool, token_in)
    front_in = _amount_in(market, front, pool)
    bought = venue.amount_out(front_in, r_in, r_out, pool.address)
    r_in, r_out = r_in + front_in, r_out - bought
    victim_out = venue.amount_out(seen.swap.amount_in, r_in, r_out, pool.address)
    if victim_out >= max(seen.swap.min_amount_out, 1):
        r_in, r_out = r_in + seen.swap.amount_in, r_out - victim_out
    if bought <= 0:
        return None
    # Public legs: tie the victim's tip, so the back leg lands after it (same tip, later arrival).
    tip = 0 if bundle else effective_tip(seen.ptx, view.base_fee)
    token_out = pool.other(token_in)
    back_out = venue.amount_out(bought, r_out, r_in, pool.address)
    victim = hash_hex(seen.ptx.hash)
    return market.swap(
        pool, token_out, bought, 0, own, tip=tip, label="back", victim=victim, expected_out=back_out
    )


def _amount_in(market: Market, intent: TxIntent, pool: Pool) -> int:
    """The input of the swap ``intent`` makes on ``pool``."""
    (swap,) = market.pending_swaps(intent.to, intent.data)
    return swap.amount_in


def _same_side(market: Market, ptx: Any, pool: str, token_in: str) -> bool:
    swap = market.pending_swap(ptx.tx)
    return swap is not None and swap.pool == pool and swap.token_in == token_in
