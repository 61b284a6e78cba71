"""What a language-model trader is told when it wakes: its view of the market as compact JSON.

The view holds the time and head block, the next base fee, the agent's own balances and
unmined transactions, each pool's reserves, marginal price and reference price, the public
swaps it can see pending (the most recent ``max_pending``), and what became of its own recent
transactions (and, when the market has an intent book, its open intents). Amounts are whole
tokens as decimal strings (the mock tokens have 18 decimals), exact to ``AMOUNT_DECIMALS``
places; prices have ``PRICE_DIGITS`` significant digits. The text is canonical JSON, so the
same view always renders to the same bytes (and the same request hash in a cassette).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from agentbed.agents.llm.cassette import canonical

if TYPE_CHECKING:
    from agentbed.agents.agent import AgentView
    from agentbed.agents.market.world import IntentBoard, Market, Pool

UNIT = 10**18
AMOUNT_DECIMALS = 6
PRICE_DIGITS = 6
_QUANTUM = Decimal(1).scaleb(-AMOUNT_DECIMALS)


def tokens(wei: int) -> str:
    """``wei`` as whole tokens, rounded down to ``AMOUNT_DECIMALS`` places (``"1.5"``)."""
    value = (Decimal(wei) / UNIT).quantize(_QUANTUM, rounding=ROUND_DOWN)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def price(value: float) -> str:
    """A price with ``PRICE_DIGITS`` significant digits."""
    return format(value, f".{PRICE_DIGITS}g")


def pool_labels(market: Market) -> dict[str, Pool]:
    """Each pool by the name the model uses for it: ``"WETH/USDC"``, or with ``@venue:fee``
    appended when a pair has more than one pool."""
    pairs = [(p.symbol0, p.symbol1) for p in market.pools]
    labels: dict[str, Pool] = {}
    for pool, pair in zip(market.pools, pairs, strict=True):
        name = f"{pair[0]}/{pair[1]}"
        if pairs.count(pair) > 1:
            name += f"@{pool.venue}:{pool.fee_bps}"
        labels[name] = pool
    return labels


def pool_rows(market: Market) -> list[dict[str, Any]]:
    """Reserves, marginal and reference price of every pool; prices are units of ``pair[1]``
    per unit of ``pair[0]``."""
    rows = []
    for name, pool in pool_labels(market).items():
        r0, r1 = market.reserves[pool.address]
        rows.append(
            {
                "pool": name,
                "pair": [pool.symbol0, pool.symbol1],
                "fee_bps": pool.fee_bps,
                "reserves": {pool.symbol0: tokens(r0), pool.symbol1: tokens(r1)},
                "price": price(market.price(pool)),
                "reference_price": price(market.reference[pool.address]),
            }
        )
    return rows


def pending_rows(view: AgentView, owner: str, limit: int) -> list[dict[str, Any]]:
    """The most recent ``limit`` visible pending swaps on the market's pools, not ``owner``'s
    own (its unmined count is in ``me``)."""
    market: Market = view.market
    names = {pool.address: name for name, pool in pool_labels(market).items()}
    rows = []
    for ptx in view.pending:
        if ptx.sender == owner:
            continue
        swap = market.pending_swap(ptx.tx)
        if swap is None or swap.pool not in names:
            continue
        rows.append(
            {
                "tx": "0x" + ptx.hash.hex(),
                "pool": names[swap.pool],
                "sell": market.symbols.get(swap.token_in, swap.token_in),
                "amount": tokens(swap.amount_in),
                "tip_gwei": price(max(0, ptx.tx.effective_tip(view.base_fee)) / 1e9),
            }
        )
    return rows[-limit:] if limit else []


def render_view(
    view: AgentView,
    owner: str,
    balances: Mapping[str, int],
    eth_wei: int,
    recent: Sequence[Mapping[str, Any]],
    *,
    max_pending: int,
    board: IntentBoard | None = None,
) -> str:
    """``owner``'s view as the canonical JSON text of the user message (with
    ``my_open_intents`` when the market has an intent ``board``)."""
    body = {
        "t_ms": view.now_ms,
        "woke_because": view.reason,
        "block": view.head.number,
        "base_fee_gwei": price(view.base_fee / 1e9),
        "me": {
            "eth": tokens(eth_wei),
            "tokens": {symbol: tokens(wei) for symbol, wei in sorted(balances.items())},
            "unmined_txs": view.nonce - view.confirmed_nonce,
        },
        "pools": pool_rows(view.market),
        "pending_swaps": pending_rows(view, owner, max_pending),
        "my_recent_txs": list(recent),
    }
    if board is not None:
        body["my_open_intents"] = intent_rows(view, owner, board)
    return canonical(body)


def intent_rows(view: AgentView, owner: str, board: IntentBoard) -> list[dict[str, Any]]:
    """``owner``'s intents on the board still open at the head: what each sells, its limit,
    seconds left and whether it is conditional."""
    market: Market = view.market
    now = view.head.timestamp
    return [
        {
            "nonce": p.intent.nonce,
            "sell": market.symbols.get(p.intent.sell_token, p.intent.sell_token),
            "amount": tokens(p.intent.sell_amount),
            "buy": market.symbols.get(p.intent.buy_token, p.intent.buy_token),
            "min_buy": tokens(p.intent.min_buy_amount),
            "expires_in_s": p.intent.deadline - now,
            "conditional": p.intent.condition.kind != 0,
        }
        for p in board.open(now)
        if p.intent.maker == owner
    ]
