"""The market tools a language-model trader may call, and the checks every call passes.

Three tools (OpenAI function-calling schemas in :data:`MARKET_TOOLS`):

* ``swap(pool, sell, amount, max_slippage_bps?, tip_gwei?)``: a public exact-input swap; the
  minimum output is the quote at the last block's reserves less ``max_slippage_bps``.
* ``bundle(swaps, after_tx?, tip_gwei?)``: one to ``MAX_BUNDLE_SWAPS`` swaps sent as a private,
  atomic bundle for the next block, placed right after a visible pending transaction when
  ``after_tx`` names one (a backrun).
* ``do_nothing(reason?)``: end the wake without trading.

A call is checked before it becomes an action: its arguments must be a JSON object with the
tool's keys only, each of the right type and within range -- a pool and token the market has,
an amount above zero, within the agent's balance (less what this wake's earlier calls already
committed) and at most ``max_reserve_fraction`` of the pool's reserve of the sold token, a
slippage in ``[0, MAX_SLIPPAGE_BPS]``, a tip in ``[0, max_tip_gwei]``, a quote above zero. A
call that fails raises :class:`ToolError`, whose message goes back to the model as the tool's
result; nothing is sent for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from agentbed.agents.agent import GWEI, AgentView, BundleIntent, TxIntent
from agentbed.agents.llm.conversation import ToolError
from agentbed.agents.llm.view import UNIT, pool_labels, tokens

if TYPE_CHECKING:
    from agentbed.agents.market.world import Market, Pool

BPS = 10_000
MAX_SLIPPAGE_BPS = 5_000
MAX_BUNDLE_SWAPS = 3
DEFAULT_SLIPPAGE_BPS = 50

SWAP_PROPERTIES: dict[str, Any] = {
    "pool": {"type": "string", "description": "Pool name as in the view, e.g. WETH/USDC."},
    "sell": {"type": "string", "description": "Symbol of the token to sell (one of the pool's)."},
    "amount": {"type": "number", "exclusiveMinimum": 0, "description": "Whole tokens to sell."},
    "max_slippage_bps": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_SLIPPAGE_BPS,
        "description": f"Tolerance below the quote in basis points (default "
        f"{DEFAULT_SLIPPAGE_BPS}).",
    },
}
_TIP = {"type": "number", "minimum": 0, "description": "Priority fee per gas in gwei."}


def tool_schema(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    """An OpenAI function-calling tool schema with these properties, no others allowed."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


MARKET_TOOLS: tuple[dict[str, Any], ...] = (
    tool_schema(
        "swap",
        "Send a public exact-input swap on one pool.",
        {**SWAP_PROPERTIES, "tip_gwei": _TIP},
        ["pool", "sell", "amount"],
    ),
    tool_schema(
        "bundle",
        "Send 1-3 swaps as a private atomic bundle for the next block, optionally right after "
        "a visible pending transaction (a backrun).",
        {
            "swaps": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BUNDLE_SWAPS,
                "items": {
                    "type": "object",
                    "properties": SWAP_PROPERTIES,
                    "required": ["pool", "sell", "amount"],
                    "additionalProperties": False,
                },
            },
            "after_tx": {"type": "string", "description": "Hash of a pending tx to follow."},
            "tip_gwei": _TIP,
        },
        ["swaps"],
    ),
    tool_schema(
        "do_nothing",
        "Do not trade this time.",
        {"reason": {"type": "string"}},
        [],
    ),
)
"""The market tools' schemas, as a chat-completions request's ``tools``."""
TOOL_NAMES = tuple(t["function"]["name"] for t in MARKET_TOOLS)


@dataclass(slots=True)
class ToolContext:
    """What checking one wake's tool calls needs.

    Attributes:
        view: The agent's view this wake.
        owner: The agent's address (the swaps' recipient).
        balances: The agent's token balances by symbol (wei), less what this wake's accepted
            calls already committed; accepted calls subtract from it.
        default_tip: Tip in wei when a call names none.
        max_tip_gwei: The largest tip a call may name.
        max_reserve_fraction: The largest sale, as a fraction of the pool's reserve of the
            sold token.
    """

    view: AgentView
    owner: str
    balances: dict[str, int]
    default_tip: int
    max_tip_gwei: float
    max_reserve_fraction: float


def parse_arguments(raw: object) -> dict[str, Any]:
    """A call's ``arguments``: a JSON object (a string, as the API sends it, or a dict).

    Raises:
        ToolError: not JSON, or not an object.
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as err:
            raise ToolError(f"arguments are not valid JSON ({err.msg} at {err.pos})") from None
    if not isinstance(raw, dict):
        raise ToolError("arguments must be a JSON object")
    return raw


def require_keys(
    args: Mapping[str, Any], allowed: tuple[str, ...], required: tuple[str, ...]
) -> None:
    """Refuse keys not in ``allowed`` and missing ``required`` ones (``ToolError``)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ToolError(f"unknown argument(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    missing = [k for k in required if k not in args]
    if missing:
        raise ToolError(f"missing argument(s) {', '.join(missing)}")


def number_arg(args: Mapping[str, Any], key: str, default: float | None = None) -> Decimal:
    """``args[key]`` (or ``default``) as a finite number, else ``ToolError``."""
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ToolError(f"{key} must be a number, got {json.dumps(value)}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ToolError(f"{key} must be a number, got {json.dumps(value)}") from None
    if not number.is_finite():
        raise ToolError(f"{key} must be finite, got {value}")
    return number


def integer_arg(args: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    """``args[key]`` (or ``default``) as an integer in ``[low, high]``, else ``ToolError``."""
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(f"{key} must be an integer, got {json.dumps(value)}")
    if not low <= value <= high:
        raise ToolError(f"{key} must be in [{low}, {high}], got {value}")
    return value


def _tip(args: Mapping[str, Any], ctx: ToolContext) -> int:
    if "tip_gwei" not in args:
        return ctx.default_tip
    tip = number_arg(args, "tip_gwei")
    if not 0 <= tip <= Decimal(str(ctx.max_tip_gwei)):
        raise ToolError(f"tip_gwei must be in [0, {ctx.max_tip_gwei}], got {tip}")
    return int(tip * GWEI)


_SWAP_KEYS = ("pool", "sell", "amount", "max_slippage_bps")


def checked_sale(args: Mapping[str, Any], market: Market) -> tuple[Pool, str, str, int]:
    """The ``pool``, ``sell`` side and ``amount`` of a swap or an intent, checked: a pool the
    model was shown, one of its two tokens, more than zero. Returns the pool, the symbol sold,
    the token sold and the amount in base units.

    Raises:
        ToolError: naming the argument that fails.
    """
    pools = pool_labels(market)
    name = args["pool"]
    if not isinstance(name, str) or name not in pools:
        raise ToolError(f"unknown pool {json.dumps(name)}; pools: {', '.join(pools)}")
    pool = pools[name]
    sell = args["sell"]
    if sell not in (pool.symbol0, pool.symbol1):
        raise ToolError(f"sell must be {pool.symbol0} or {pool.symbol1}, got {json.dumps(sell)}")
    amount = int(number_arg(args, "amount") * UNIT)
    if amount <= 0:
        raise ToolError(f"amount must be > 0, got {args['amount']}")
    token_in = pool.token0 if sell == pool.symbol0 else pool.token1
    return pool, sell, token_in, amount


def check_reserve_cap(
    ctx: ToolContext, market: Market, pool: Pool, token_in: str, amount: int
) -> None:
    """Refuses a sale above ``ctx.max_reserve_fraction`` of the pool's reserve of ``token_in``.

    Raises:
        ToolError: the amount, the limit and what it comes to.
    """
    reserve_in, _ = market.reserves_for(pool, token_in)
    cap = int(Decimal(str(ctx.max_reserve_fraction)) * reserve_in)
    if amount > cap:
        sell = pool.symbol0 if token_in == pool.token0 else pool.symbol1
        raise ToolError(
            f"amount {tokens(amount)} {sell} is above the limit of {ctx.max_reserve_fraction} of "
            f"the pool's reserve ({tokens(cap)})"
        )


def _swap(args: object, ctx: ToolContext, tip: int, label: str, extra: tuple[str, ...]) -> TxIntent:
    """One checked swap; commits its amount against the balances."""
    if not isinstance(args, dict):
        raise ToolError("each swap must be an object")
    require_keys(args, _SWAP_KEYS + extra, ("pool", "sell", "amount"))
    market: Market = ctx.view.market
    pool, sell, token_in, amount = checked_sale(args, market)
    held = ctx.balances.get(sell, 0)
    if amount > held:
        raise ToolError(f"amount {tokens(amount)} {sell} exceeds your balance {tokens(held)}")
    check_reserve_cap(ctx, market, pool, token_in, amount)
    slippage = integer_arg(args, "max_slippage_bps", DEFAULT_SLIPPAGE_BPS, 0, MAX_SLIPPAGE_BPS)
    min_out = market.quote(pool, token_in, amount) * (BPS - slippage) // BPS
    if min_out <= 0:
        raise ToolError(f"amount {tokens(amount)} {sell} is too small: it buys nothing")
    ctx.balances[sell] = held - amount
    return market.swap(pool, token_in, amount, min_out, ctx.owner, tip=tip, label=label)


def run_tool(name: str, raw_arguments: object, ctx: ToolContext) -> TxIntent | BundleIntent | None:
    """The action of one tool call (None for ``do_nothing``).

    Raises:
        ToolError: an unknown tool or arguments that fail a check (nothing is committed then).
    """
    args = parse_arguments(raw_arguments)
    if name == "do_nothing":
        require_keys(args, ("reason",), ())
        return None
    if name == "swap":
        # One swap commits only after every check passed: nothing to undo on an error.
        return _swap(args, ctx, _tip(args, ctx), "trade", ("tip_gwei",))
    if name == "bundle":
        return _bundle(args, ctx)
    raise ToolError(f"unknown tool {json.dumps(name)}; tools: {', '.join(TOOL_NAMES)}")


def _bundle(args: dict[str, Any], ctx: ToolContext) -> BundleIntent:
    require_keys(args, ("swaps", "after_tx", "tip_gwei"), ("swaps",))
    swaps = args["swaps"]
    if not isinstance(swaps, list) or not 1 <= len(swaps) <= MAX_BUNDLE_SWAPS:
        raise ToolError(f"swaps must be a list of 1 to {MAX_BUNDLE_SWAPS} swaps")
    tip = _tip(args, ctx)
    items: list[TxIntent | bytes] = []
    label = "bundle"
    if "after_tx" in args:
        target = args["after_tx"]
        pending = {"0x" + p.hash.hex(): p for p in ctx.view.pending}
        if not isinstance(target, str) or target.lower() not in pending:
            raise ToolError(f"after_tx {json.dumps(target)} is not a pending tx you can see")
        items.append(pending[target.lower()].tx.raw)
        label = "backrun"
    saved = dict(ctx.balances)
    try:
        for index, swap in enumerate(swaps):
            try:
                items.append(_swap(swap, ctx, tip, label, ()))
            except ToolError as err:
                raise ToolError(f"swaps[{index}]: {err}") from None
    except ToolError:
        ctx.balances.update(saved)
        raise
    return BundleIntent(items=tuple(items), label=label)
