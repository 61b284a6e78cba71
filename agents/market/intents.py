"""Swap intents for ``contracts/IntentBook.sol``: records, EIP-712 signing, a reference solver.

A maker signs an ``Intent`` (sell exactly ``sell_amount`` of one token for at least
``min_buy_amount`` of another, optionally under a ``Condition``) with ``sign_intent``; a solver
collects signed intents, builds a ``Plan`` and sends ``settle(intents, signatures, plan)``. The
records mirror ``IIntentBook``'s structs and validate only what the Solidity types enforce
(TypeError / ValueError for a non-address or an int outside uint256; addresses are stored
checksummed), so a test can still build an intent the contract refuses (same token twice,
zero amount).

``solve_pair`` is a small reference solver for intents on one token pair (see its docstring);
``crosses`` is the book's ``CounterIntent`` test, and ``decode_settle`` reads a mined
settlement's calldata back for accounting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from agentbed.agents.market.amm_math import BPS, amount_out
from agentbed.chain.eip712 import digest, sign_typed_message, typed_message
from agentbed.chain.errors import TestbedError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

DOMAIN_NAME: Final = "agent-testbed IntentBook"
DOMAIN_VERSION: Final = "1"
UINT256_MAX: Final = 2**256 - 1
ALL: Final = UINT256_MAX
"""``Swap.amount_in`` meaning "all of ``token_in`` the batch holds" (for multi-hop routes)."""
ZERO_ADDRESS: Final = "0x" + "00" * 20
PRICE_SCALE: Final = 10**18
"""Fixed-point scale of ``PriceWithin`` bounds (buy-token units per sell token)."""


def _fields(spec: str) -> tuple[dict[str, str], ...]:
    """EIP-712 fields from ``"type name, ..."``, as in IntentConditions.sol's typehashes."""
    return tuple({"name": n, "type": t} for t, n in (f.split() for f in spec.split(",")))


CONDITION_FIELDS: Final = _fields(
    "uint8 kind, address maker, uint256 nonce, uint256 poolFee, uint256 minPrice, uint256 maxPrice"
)
INTENT_FIELDS: Final = _fields(
    "address maker, address sellToken, address buyToken, uint256 sellAmount,"
    "uint256 minBuyAmount, uint256 deadline, uint256 nonce, Condition condition"
)

_CONDITION_ABI: Final = "(uint8,address,uint256,uint256,uint256,uint256)"
_INTENT_ABI: Final = f"(address,address,address,uint256,uint256,uint256,uint256,{_CONDITION_ABI})"
_PLAN_ABI: Final = "(uint256[],address[],uint256[],(address,address,uint256,uint256,uint256)[])"
SETTLE_ARGS: Final = (f"{_INTENT_ABI}[]", "bytes[]", _PLAN_ABI)
"""ABI types of ``settle(intents, signatures, plan)``'s arguments."""
SETTLE_SELECTOR: Final = function_signature_to_4byte_selector(f"settle({','.join(SETTLE_ARGS)})")


class ConditionKind(IntEnum):
    """``IIntentBook.ConditionKind``."""

    NONE = 0
    COUNTER_INTENT = 1
    INTENT_SETTLES = 2
    PRICE_WITHIN = 3


class Pricing(IntEnum):
    """``IIntentBook.Pricing``: how a book prices executed intents.

    ``PAY_AS_FILLED`` is the vulnerable variant, kept for experiments: the plan names each
    intent's buy amount, so a solver can pay an honest maker exactly its limit and its own
    maker of the same pair the rest. ``FAIR_PAY_AS_FILLED`` sums the plan's buy amounts per
    group (intents selling the same token for the same token) and splits each group's total
    pro rata to sell amount (``fair_amounts``), so the split is not the solver's to choose.
    """

    PAY_AS_FILLED = 0
    UNIFORM_PRICE = 1
    FAIR_PAY_AS_FILLED = 2

    @property
    def names_buy_amounts(self) -> bool:
        """Whether the plan names buy amounts (either pay-as-filled variant), not prices."""
        return self != Pricing.UNIFORM_PRICE


class OnUnmetCondition(IntEnum):
    """``IIntentBook.OnUnmetCondition``: what a book does with an intent whose condition does
    not hold, whose nonce is used (or repeats an earlier one of the batch), or whose maker's
    transfer fails: revert the batch, or skip the intent and settle the rest."""

    REVERT = 0
    SKIP = 1


class NoSolution(TestbedError):
    """The batch cannot be settled with every intent paid at least its limit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _address(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise TypeError(f"{name} must be a hex address string, got {type(raw).__name__}")
    if not is_address(raw):
        raise ValueError(f"{name} is not an address: {raw!r}")
    return to_checksum_address(raw)


def _uint(name: str, raw: object) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise TypeError(f"{name} must be an int, got {type(raw).__name__}")
    if not 0 <= raw <= UINT256_MAX:
        raise ValueError(f"{name} {raw} is out of range [0, 2**256 - 1]")
    return raw


def _check(record: Any, addresses: Sequence[str], uints: Sequence[str]) -> None:
    for name in addresses:
        object.__setattr__(record, name, _address(name, getattr(record, name)))
    for name in uints:
        _uint(name, getattr(record, name))


@dataclass(frozen=True, slots=True)
class Condition:
    """``IIntentBook.Condition``; build one with the class methods (fields unused by the kind
    stay zero)."""

    kind: ConditionKind = ConditionKind.NONE
    maker: str = ZERO_ADDRESS
    nonce: int = 0
    pool_fee: int = 0
    min_price: int = 0
    max_price: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, int) or isinstance(self.kind, bool):
            raise TypeError(f"kind must be a ConditionKind, got {type(self.kind).__name__}")
        object.__setattr__(self, "kind", ConditionKind(self.kind))  # ValueError if unknown
        _check(self, ("maker",), ("nonce", "pool_fee", "min_price", "max_price"))

    @classmethod
    def none(cls) -> Condition:
        """Unconditional."""
        return cls()

    @classmethod
    def counter_intent(cls) -> Condition:
        """Another executed intent of the batch sells our pair the other way, crossing us."""
        return cls(ConditionKind.COUNTER_INTENT)

    @classmethod
    def intent_settles(cls, maker: str, nonce: int) -> Condition:
        """The intent (``maker``, ``nonce``) also executes in the batch."""
        return cls(ConditionKind.INTENT_SETTLES, maker, nonce)

    @classmethod
    def price_within(cls, pool_fee: int, min_price: int, max_price: int) -> Condition:
        """The pair's pool with ``pool_fee`` prices our sell token (x ``PRICE_SCALE``) in range."""
        return cls(ConditionKind.PRICE_WITHIN, ZERO_ADDRESS, 0, pool_fee, min_price, max_price)

    def as_tuple(self) -> tuple[int, str, int, int, int, int]:
        """The struct as a tuple, for contract calls."""
        k = self
        return (int(k.kind), k.maker, k.nonce, k.pool_fee, k.min_price, k.max_price)


@dataclass(frozen=True, slots=True)
class Intent:
    """What a maker signs (``IIntentBook.Intent``)."""

    maker: str
    sell_token: str
    buy_token: str
    sell_amount: int
    min_buy_amount: int
    deadline: int
    nonce: int
    condition: Condition = Condition()

    def __post_init__(self) -> None:
        _check(
            self,
            ("maker", "sell_token", "buy_token"),
            ("sell_amount", "min_buy_amount", "deadline", "nonce"),
        )
        if not isinstance(self.condition, Condition):
            raise TypeError(f"condition must be a Condition, got {type(self.condition).__name__}")

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as a nested tuple, for contract calls."""
        i = self
        fields = (i.maker, i.sell_token, i.buy_token, i.sell_amount, i.min_buy_amount)
        return (*fields, i.deadline, i.nonce, i.condition.as_tuple())

    def as_message(self) -> dict[str, Any]:
        """The struct as an EIP-712 message dict."""
        names = [f["name"] for f in CONDITION_FIELDS + INTENT_FIELDS]
        message = dict(zip(names[6:], self.as_tuple(), strict=True))
        message["condition"] = dict(zip(names[:6], self.condition.as_tuple(), strict=True))
        return message


@dataclass(frozen=True, slots=True)
class Swap:
    """One AMM swap of a plan (``IIntentBook.Swap``); ``amount_in=ALL`` swaps all held."""

    token_in: str
    token_out: str
    fee: int
    amount_in: int
    min_amount_out: int = 0

    def __post_init__(self) -> None:
        _check(self, ("token_in", "token_out"), ("fee", "amount_in", "min_amount_out"))

    def as_tuple(self) -> tuple[str, str, int, int, int]:
        """The struct as a tuple, for contract calls."""
        return (self.token_in, self.token_out, self.fee, self.amount_in, self.min_amount_out)


@dataclass(frozen=True, slots=True)
class Plan:
    """A solver's settlement plan (``IIntentBook.Plan``); build one with the class methods."""

    buy_amounts: tuple[int, ...] = ()
    tokens: tuple[str, ...] = ()
    prices: tuple[int, ...] = ()
    swaps: tuple[Swap, ...] = ()

    def __post_init__(self) -> None:
        for name in ("buy_amounts", "tokens", "prices", "swaps"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for amount in self.buy_amounts + self.prices:
            _uint("buy amount or price", amount)
        object.__setattr__(self, "tokens", tuple(_address("token", t) for t in self.tokens))
        if not all(isinstance(s, Swap) for s in self.swaps):
            raise TypeError("swaps must be Swap records")

    @classmethod
    def pay_as_filled(cls, buy_amounts: Sequence[int], swaps: Sequence[Swap] = ()) -> Plan:
        """A plan naming each intent's buy amount (in batch order)."""
        return cls(tuple(buy_amounts), (), (), tuple(swaps))

    @classmethod
    def uniform(cls, prices: Mapping[str, int], swaps: Sequence[Swap] = ()) -> Plan:
        """A plan naming one price per token (only ratios matter)."""
        return cls((), tuple(prices), tuple(prices.values()), tuple(swaps))

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as a nested tuple, for contract calls."""
        swaps = tuple(s.as_tuple() for s in self.swaps)
        return (self.buy_amounts, self.tokens, self.prices, swaps)


def decode_settle(calldata: bytes) -> tuple[tuple[Intent, ...], tuple[bytes, ...], Plan]:
    """The intents, signatures and plan of ``settle`` calldata (what a mined settlement did).

    Raises:
        ValueError: ``calldata`` is not a ``settle`` call.
    """
    if calldata[:4] != SETTLE_SELECTOR:
        raise ValueError("not settle(...) calldata")
    raw_intents, signatures, (buy_amounts, tokens, prices, swaps) = decode(
        SETTLE_ARGS, calldata[4:]
    )
    intents = tuple(
        Intent(
            maker, sell, buy, amount, limit, deadline, nonce, Condition(ConditionKind(c[0]), *c[1:])
        )
        for maker, sell, buy, amount, limit, deadline, nonce, c in raw_intents
    )
    plan = Plan(buy_amounts, tokens, prices, tuple(Swap(*s) for s in swaps))
    return intents, tuple(bytes(s) for s in signatures), plan


def fair_amounts(
    intents: Sequence[Intent], executed: Sequence[bool], buy_amounts: Sequence[int]
) -> list[int]:
    """Each executed intent's base amount under fair pay-as-filled pricing
    (``IntentBook._fairShare``): its group's total of ``buy_amounts`` pro rata to its sell
    amount, a group being the executed intents selling the same token for the same token;
    0 for an intent left out."""
    totals: dict[tuple[str, str], list[int]] = {}
    for intent, x, amount in zip(intents, executed, buy_amounts, strict=True):
        if x:
            group = totals.setdefault((intent.sell_token, intent.buy_token), [0, 0])
            group[0] += amount
            group[1] += intent.sell_amount
    out = []
    for intent, x in zip(intents, executed, strict=True):
        if not x:
            out.append(0)
            continue
        buy, sell = totals[intent.sell_token, intent.buy_token]
        out.append(buy * intent.sell_amount // sell)
    return out


def crosses(intent: Intent, other: Intent) -> bool:
    """Whether ``other`` sells ``intent``'s buy token for its sell token at a rate ``intent``
    accepts, so that ``intent``'s ``counter_intent`` condition holds next to it
    (``IntentConditions.crosses``)."""
    if other.sell_token != intent.buy_token or other.buy_token != intent.sell_token:
        return False
    return other.sell_amount * intent.sell_amount >= intent.min_buy_amount * other.min_buy_amount


def typed_data(intent: Intent, *, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The full EIP-712 message for ``intent`` under an IntentBook's domain."""
    return typed_message(
        "Intent",
        {"Intent": INTENT_FIELDS, "Condition": CONDITION_FIELDS},
        intent.as_message(),
        domain=(DOMAIN_NAME, DOMAIN_VERSION),
        chain_id=chain_id,
        verifying_contract=verifying_contract,
    )


def intent_digest(intent: Intent, *, chain_id: int, verifying_contract: str) -> bytes:
    """The EIP-712 digest the maker signs (equals ``IntentBook.hashIntent``)."""
    return digest(typed_data(intent, chain_id=chain_id, verifying_contract=verifying_contract))


def sign_intent(
    account: LocalAccount, intent: Intent, *, chain_id: int, verifying_contract: str
) -> bytes:
    """Sign ``intent``; return ``r || s || v`` (65 bytes, ``v`` in {27, 28}, low ``s``)."""
    msg = typed_data(intent, chain_id=chain_id, verifying_contract=verifying_contract)
    return sign_typed_message(account, msg)


# ---------------------------------------------------------------------------------------------
# Reference solver
# ---------------------------------------------------------------------------------------------


def solve_pair(
    intents: Sequence[Intent],
    *,
    pool_reserves: Mapping[str, int] | None,
    fee_bps: int = 30,
    pricing: Pricing,
) -> Plan:
    """A plan settling ``intents`` (all on one token pair X/Y, either direction) in one batch.

    The X-sellers (selling ``SX`` in all) are paid out of what the Y-sellers sold (``SY``) and
    vice versa (coincidence of wants); the side in excess routes ``t`` of its token through
    the pool (``t > 0``: X in, ``t < 0``: Y in). ``t`` clears the batch at one price: the
    pool's average rate on ``t`` equals the rate at which the other side buys the rest,
    ``out(t) / t = SY / (SX - t)``, which is linear in ``t`` for the pool's formula (so it is
    solved in closed form, then the pool's exact integer output is used); a one-sided batch
    routes everything. If that leaves a limit unmet, ``t`` moves to the nearest value where
    each side's holdings cover its limits. Uniform pricing pays each side pro rata to what it
    sold; pay-as-filled pays each maker its limit plus a share of its side's surplus pro rata
    to what it sold, so it settles some batches uniform pricing cannot. The plan is checked
    with the contract's arithmetic; a batch failing by rounding alone (a few wei) is reported
    unsolvable. Fair pay-as-filled pays every maker of a side the same rate, so its limits
    are met as uniform pricing's are (the side's rate must reach each maker's limit rate).
    Conditions, deadlines and signatures are the caller's business: every intent is assumed
    to execute.

    Args:
        intents: The batch, in the order it will be passed to ``settle``.
        pool_reserves: The reserves of the factory pool for the pair, by token address, or
            None when the batch may not use a pool.
        fee_bps: That pool's fee (also names it in the plan's swap).
        pricing: The book's pricing variant.

    Returns:
        The plan; its swap (if any) has ``min_amount_out`` equal to the expected output.

    Raises:
        ValueError: the intents span more than one token pair, or a fee out of range.
        NoSolution: no intents, a repeated (maker, nonce), a malformed intent, or limits that
            cannot all be met.
    """
    x, y = _pair_of(intents, fee_bps)
    side = {t: [i for i in intents if i.sell_token == t] for t in (x, y)}
    sx, sy = (sum(i.sell_amount for i in side[t]) for t in (x, y))
    reserves: dict[str, int] = {to_checksum_address(k): v for k, v in (pool_reserves or {}).items()}
    batch = _Batch(sx, sy, reserves.get(x, 0), reserves.get(y, 0), fee_bps)
    if not batch.pool and (sx == 0 or sy == 0):  # nobody would buy the token sold
        raise NoSolution("a one-sided batch needs a pool with liquidity")
    need_x, need_y = _need(side[y], sy, pricing), _need(side[x], sx, pricing)
    t, hold_x, hold_y, got = _route(batch, need_x, need_y)
    swaps: tuple[Swap, ...] = ()
    if t != 0:
        swaps = (Swap(x, y, fee_bps, t, got) if t > 0 else Swap(y, x, fee_bps, -t, got),)
    holdings = {x: hold_x, y: hold_y}
    if pricing == Pricing.PAY_AS_FILLED:
        owed = {x: need_x, y: need_y}
        bases = _pay_as_filled_amounts(intents, {x: sx, y: sy}, holdings, owed)
        plan = Plan.pay_as_filled(bases, swaps)
    elif pricing == Pricing.FAIR_PAY_AS_FILLED:
        sold = {x: sx, y: sy}
        named = [holdings[i.buy_token] * i.sell_amount // sold[i.sell_token] for i in intents]
        bases = fair_amounts(intents, [True] * len(intents), named)
        plan = Plan.pay_as_filled(named, swaps)
    else:
        prices = {x: hold_y, y: sx} if sx else {x: sy, y: hold_x}
        if 0 in prices.values():
            raise NoSolution("one side of the batch would be paid nothing")
        bases = [i.sell_amount * prices[i.sell_token] // prices[i.buy_token] for i in intents]
        plan = Plan.uniform(prices, swaps)
    _check_payouts(intents, bases, holdings, pricing)
    return plan


def _pair_of(intents: Sequence[Intent], fee_bps: int) -> tuple[str, str]:
    """The batch's pair ``(X, Y)``, X being the first intent's sell token.

    Raises:
        ValueError: the intents span more than one token pair, or a fee out of range.
        NoSolution: no intents, a repeated (maker, nonce), or a malformed intent.
    """
    if not 0 <= fee_bps < BPS:
        raise ValueError(f"fee_bps must be in [0, {BPS}), got {fee_bps}")
    if not intents:
        raise NoSolution("no intents")
    x, y = intents[0].sell_token, intents[0].buy_token
    if any({i.sell_token, i.buy_token} != {x, y} for i in intents):
        raise ValueError("solve_pair needs intents on a single token pair")
    if x == y or any(i.sell_amount == 0 for i in intents):
        raise NoSolution("an intent sells nothing or buys the token it sells")
    if len({(i.maker, i.nonce) for i in intents}) < len(intents):
        raise NoSolution("a (maker, nonce) appears twice")
    return x, y


def _need(sellers: Sequence[Intent], total: int, pricing: Pricing) -> int:
    """What the batch must hold of the token ``sellers`` buy to meet all their limits.

    ``total`` is what they sell together: uniform and fair pay-as-filled pricing pay each of
    them pro rata to it.
    """
    if pricing == Pricing.PAY_AS_FILLED:
        return sum(i.min_buy_amount for i in sellers)
    # Uniform and fair pay-as-filled: every seller of the side gets the same rate.
    return max((-(-i.min_buy_amount * total // i.sell_amount) for i in sellers), default=0)


@dataclass(frozen=True, slots=True)
class _Batch:
    """A one-pair batch as the solver sees it: what each side sells, and the pool's reserves.

    Attributes:
        sx: X sold by the X-sellers in all.
        sy: Y sold by the Y-sellers in all.
        rx: The pool's X reserve (0: no pool).
        ry: The pool's Y reserve (0: no pool).
        fee_bps: The pool's fee.
    """

    sx: int
    sy: int
    rx: int
    ry: int
    fee_bps: int

    @property
    def pool(self) -> bool:
        """Whether the batch may route through a pool with liquidity."""
        return self.rx > 0 and self.ry > 0

    def held(self, t: int) -> tuple[int, int]:
        """The X and Y the batch holds after routing ``t`` (``t > 0``: X in, ``t < 0``: Y in)."""
        if t >= 0:
            got = amount_out(t, self.rx, self.ry, self.fee_bps) if t else 0
            return self.sx - t, self.sy + got
        return self.sx + amount_out(-t, self.ry, self.rx, self.fee_bps), self.sy + t

    def clearing_route(self) -> int:
        """The ``t`` at which the pool's rate on ``t`` equals the other side's on the rest."""
        if not self.pool:
            return 0
        # out(t)·(SX - t) >= SY·t with the pool's unrounded output, solved for t
        gamma = BPS - self.fee_bps
        sx, sy, rx, ry = self.sx, self.sy, self.rx, self.ry
        x_in = (gamma * ry * sx - sy * rx * BPS) // (gamma * (ry + sy))
        y_in = (gamma * rx * sy - sx * ry * BPS) // (gamma * (rx + sx))
        return x_in if x_in > 0 else -y_in if y_in > 0 else 0


def _route(batch: _Batch, need_x: int, need_y: int) -> tuple[int, int, int, int]:
    """The routed amount ``t``, the X and Y held after it, and what the pool pays for it.

    ``t`` is the clearing route moved into the range where each side's holdings cover its
    limits (``need_x`` of X for the Y-sellers, ``need_y`` of Y for the X-sellers).

    Raises:
        NoSolution: no ``t`` meets every limit, or the pool pays nothing for a one-sided batch.
    """
    sx, sy = batch.sx, batch.sy
    low, high = (-sy, sx) if batch.pool else (0, 0)
    low = _first(low, high, lambda t: batch.held(t)[1] >= need_y)
    high = -_first(-high, -low, lambda t: batch.held(-t)[0] >= need_x)
    if low > high:
        raise NoSolution(f"limits cannot all be met (need {need_x} X and {need_y} Y)")
    t = min(max(batch.clearing_route(), low), high)
    hold_x, hold_y = batch.held(t)
    got = hold_y - sy if t > 0 else hold_x - sx
    if t != 0 and got == 0:
        if sx == 0 or sy == 0:
            raise NoSolution("the pool pays nothing for the batch's surplus")
        t, (hold_x, hold_y) = 0, batch.held(0)  # as good for both limits: 0 is in [low, high]
    return t, hold_x, hold_y, got


def _pay_as_filled_amounts(
    intents: Sequence[Intent],
    sold: Mapping[str, int],
    holdings: Mapping[str, int],
    owed: Mapping[str, int],
) -> list[int]:
    """Each maker's limit plus a share of its side's surplus, pro rata to what it sold.

    ``sold``, ``holdings`` and ``owed`` are by token: what a side sells in all, what the batch
    holds after routing, and the sum of the limits of the makers buying that token.
    """
    bases = []
    for i in intents:
        surplus = max(holdings[i.buy_token] - owed[i.buy_token], 0)
        bases.append(i.min_buy_amount + surplus * i.sell_amount // sold[i.sell_token])
    return bases


def _first(low: int, high: int, ok: Callable[[int], bool]) -> int:
    """The least t in [low, high] with ``ok(t)`` (``ok`` monotone), or high + 1 if none."""
    hi = high + 1
    while low < hi:
        mid = (low + hi) // 2
        low, hi = (low, mid) if ok(mid) else (mid + 1, hi)
    return low


def payout_shares(
    intents: Sequence[Intent],
    bases: Sequence[int],
    buyers: Sequence[int],
    available: int,
    pricing: Pricing,
) -> dict[int, int]:
    """What ``IntentBook._payOut`` pays each of ``buyers`` (batch indices of one token's
    buyers) out of ``available`` (at least the sum of their ``bases``): its base plus its
    share of the excess — pro rata to the bases, or, when they are all zero, to the sell
    amounts (fair pay-as-filled) or equally."""
    required = sum(bases[k] for k in buyers)
    excess = available - required
    sold = sum(intents[k].sell_amount for k in buyers)
    out = {}
    for k in buyers:
        if required:
            share = excess * bases[k] // required
        elif pricing == Pricing.FAIR_PAY_AS_FILLED:
            share = excess * intents[k].sell_amount // sold
        else:
            share = excess // len(buyers)
        out[k] = bases[k] + share
    return out


def _check_payouts(
    intents: Sequence[Intent], bases: Sequence[int], held: Mapping[str, int], pricing: Pricing
) -> None:
    """Raise NoSolution unless ``IntentBook._payOut`` pays every intent its limit."""
    for token, available in held.items():
        buyers = [k for k, i in enumerate(intents) if i.buy_token == token]
        required = sum(bases[k] for k in buyers)
        if available < required:
            raise NoSolution(f"the batch holds {available} of {token} but owes {required}")
        for k, paid in payout_shares(intents, bases, buyers, available, pricing).items():
            if paid < intents[k].min_buy_amount:
                raise NoSolution(f"intent {k} would get {paid}, below its limit")
