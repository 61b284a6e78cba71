"""Surplus-sharing conditional commitments over the router (``contracts/SurplusShare.sol``).

The seed paper's example: "I commit to change route if the other agents commit to
transferring me a fraction of the surplus they will get as a result of my action." A maker
whose order would congest a pool others use signs its order on an alternative route with a
condition naming its payers; each payer signs its own order with a reference quote and a share
for the maker; a solver settles all of them in one ``SurplusShare.settle`` call, which reverts
unless every named payer is in the batch on the maker's terms.

Measured surplus (the contract's definition): an order's output, measured on chain as a
balance rise across its router call, above the ``reference_out`` its trader signed. The
reference the solver proposes is the payer's quote of its own order when the maker keeps its
congesting route, i.e. what the payer gets without the maker's action; the maker accepts it by
signing ``max_references``.

:func:`coordinate` is the solver's decision: given the maker's congesting and alternative
routings and the orders queued behind it, it finds the share that compensates the maker's loss
(at the reference price) out of the payers' surplus, or None when the surplus does not cover it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.market.routing import Quote, Reserves, RoutingError, Split, execute
from agentbed.agents.market.routing_calls import BASE_GAS, HOP_GAS, encode_hop
from agentbed.chain.eip712 import digest, sign_typed_message, typed_message

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.market.world import Market

BPS: Final = 10_000
DOMAIN: Final = ("agent-testbed SurplusShare", "1")
ZERO_ADDRESS: Final = "0x" + "00" * 20
_ORDER_SPEC: Final = (
    "address trader, address tokenIn, address tokenOut, uint256 amountIn, uint256 minAmountOut,"
    " bytes32 routesHash, uint256 deadline, uint256 nonce, address payee, uint256 shareBps,"
    " uint256 referenceOut, address[] payers, uint256[] maxReferences, uint256 minShareBps"
)
ORDER_FIELDS: Final = tuple(
    {"name": n, "type": t} for t, n in (f.split() for f in _ORDER_SPEC.split(","))
)
_HOP = "(address,address,address,uint256,bytes)"
ROUTES_ABI: Final = f"(uint256,{_HOP}[])[]"
_ORDER_ABI: Final = (
    "(address,address,address,uint256,uint256,bytes32,uint256,uint256,address,uint256,uint256,"
    "address[],uint256[],uint256)"
)
SETTLE_ARGS: Final = (f"{_ORDER_ABI}[]", f"{ROUTES_ABI}[]", "bytes[]")
SETTLE_SELECTOR: Final = function_signature_to_4byte_selector(f"settle({','.join(SETTLE_ARGS)})")
SETTLE_GAS: Final = 60_000
"""Gas of a settlement beyond its router calls, per order (signature, nonce, two transfers)."""

RouteTuples = list[tuple[int, list[tuple[str, str, str, int, bytes]]]]
"""An order's routes as ``IRouter.Route[]`` values."""


@dataclass(frozen=True, slots=True)
class SharedOrder:
    """``ISurplusShare.Order`` (see its NatSpec for each field)."""

    trader: str
    token_in: str
    token_out: str
    amount_in: int
    min_amount_out: int
    routes_hash: bytes
    deadline: int
    nonce: int
    payee: str = ZERO_ADDRESS
    share_bps: int = 0
    reference_out: int = 0
    payers: tuple[str, ...] = ()
    max_references: tuple[int, ...] = ()
    min_share_bps: int = 0

    def __post_init__(self) -> None:
        if len(self.routes_hash) != 32:
            raise ValueError(f"routes_hash must be 32 bytes, got {len(self.routes_hash)}")
        for name in ("amount_in", "min_amount_out", "deadline", "nonce", "share_bps"):
            value = getattr(self, name)
            if not 0 <= value < 2**256:
                raise ValueError(f"{name} must be a uint256, got {value}")

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI value of the struct."""
        return (
            self.trader,
            self.token_in,
            self.token_out,
            self.amount_in,
            self.min_amount_out,
            self.routes_hash,
            self.deadline,
            self.nonce,
            self.payee,
            self.share_bps,
            self.reference_out,
            list(self.payers),
            list(self.max_references),
            self.min_share_bps,
        )

    def as_message(self) -> dict[str, Any]:
        """The EIP-712 message of the struct."""
        names = [f["name"] for f in ORDER_FIELDS]
        values = list(self.as_tuple())
        values[8] = to_checksum_address(self.payee)
        return dict(zip(names, values, strict=True))


def deploy_surplus_share(market: Market) -> str:
    """Deploy a ``SurplusShare`` over ``market.router`` (which must exist); mined at once."""
    if market.router is None:
        raise ValueError("the market has no router: deploy one first (attach_router)")
    contract = market.chain.deploy("SurplusShare", market.router, sender=market.chain.accounts[0])
    return str(contract.address)


def route_tuples(market: Market, split: Split) -> tuple[RouteTuples, int]:
    """``split`` as ``IRouter.Route[]`` values for the market's router, and their hops' gas."""
    router = market.router
    if router is None:
        raise ValueError("the market has no router: deploy one first (attach_router)")
    routes: RouteTuples = []
    gas = 0
    for route, amount in zip(split.routes, split.amounts, strict=True):
        hops = [encode_hop(market, router, leg.pool.address, leg.token_in) for leg in route.legs]
        gas += sum(h.gas + HOP_GAS for h in hops)
        routes.append(
            (amount, [(h.target, h.spender, h.token_out, h.amount_offset, h.data) for h in hops])
        )
    return routes, gas


def routes_hash(routes: RouteTuples) -> bytes:
    """``keccak256(abi.encode(routes))``, the hash a trader signs."""
    return keccak(encode((ROUTES_ABI,), (routes,)))


def typed_data(order: SharedOrder, *, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The full EIP-712 message of ``order`` under a SurplusShare's domain."""
    return typed_message(
        "Order",
        {"Order": ORDER_FIELDS},
        order.as_message(),
        domain=DOMAIN,
        chain_id=chain_id,
        verifying_contract=verifying_contract,
    )


def order_digest(order: SharedOrder, *, chain_id: int, verifying_contract: str) -> bytes:
    """The digest the trader signs (equals ``SurplusShare.hashOrder``)."""
    return digest(typed_data(order, chain_id=chain_id, verifying_contract=verifying_contract))


def sign_order(
    account: LocalAccount, order: SharedOrder, *, chain_id: int, verifying_contract: str
) -> bytes:
    """Sign ``order``; return ``r || s || v``."""
    msg = typed_data(order, chain_id=chain_id, verifying_contract=verifying_contract)
    return sign_typed_message(account, msg)


def settle_calldata(
    orders: Sequence[SharedOrder], routes: Sequence[RouteTuples], signatures: Sequence[bytes]
) -> bytes:
    """``SurplusShare.settle(orders, routes, signatures)`` calldata."""
    args = ([o.as_tuple() for o in orders], [list(r) for r in routes], list(signatures))
    return SETTLE_SELECTOR + encode(SETTLE_ARGS, args)


def settle_gas(hop_gas: int, orders: int) -> int:
    """A gas limit for a settlement whose router calls' hops cost ``hop_gas`` in all."""
    return hop_gas + orders * (BASE_GAS + SETTLE_GAS)


@dataclass(frozen=True, slots=True)
class Deal:
    """A coordinated batch :func:`coordinate` found worth settling.

    Attributes:
        share_bps: The share every payer pays the maker.
        payers: Indices (into the orders behind the maker) of the orders that pay.
        references: Each order's output when the maker keeps its congesting route.
        outputs: Each order's output when the maker takes its alternative route.
        maker_loss: The maker's output given up by changing route (its token out).
        surplus_value: The payers' total surplus at the reference price.
        loss_value: The maker's loss at the reference price.
        expected_payments: Each payer's share of its quoted surplus.
    """

    share_bps: int
    payers: tuple[int, ...]
    references: tuple[int, ...]
    outputs: tuple[int, ...]
    maker_loss: int
    surplus_value: float
    loss_value: float
    expected_payments: tuple[int, ...]


def _replay(first: Split, others: Sequence[Split], reserves: Reserves, quote: Quote) -> list[int]:
    outputs, state = execute(first.routes, first.amounts, reserves, quote)
    found = [sum(outputs)]
    for split in others:
        out, state = execute(split.routes, split.amounts, state, quote)
        found.append(sum(out))
    return found


def coordinate(
    congesting: Split,
    alternative: Split,
    others: Sequence[Split],
    reserves: Reserves,
    quote: Quote,
    value: Callable[[str, int], float],
    can_pay: Sequence[bool] | None = None,
) -> Deal | None:
    """Whether (and on what share) a maker should change route for the orders behind it.

    Replays the maker's order followed by ``others`` from ``reserves`` twice: with the maker's
    ``congesting`` routing (the references) and with its ``alternative``. Each other order's
    surplus is its output gain; the maker's loss is its output given up. With ``value``
    pricing amounts at the reference price, the deal's share is the smallest (in whole basis
    points) for which the payers' shares cover the maker's loss: ``ceil(loss * BPS /
    surplus)``. Only orders with a positive surplus pay.

    Returns:
        The deal, or None when the change of route gains nothing net (the surplus does not
        exceed the loss) or no order gains.

    Raises:
        RoutingError: the maker's two routings sell different amounts or tokens.
    """
    if congesting.amount_in != alternative.amount_in or (
        congesting.routes[0].token_out != alternative.routes[0].token_out
    ):
        raise RoutingError("the maker's two routings must be the same order")
    without = _replay(congesting, others, reserves, quote)
    with_change = _replay(alternative, others, reserves, quote)
    maker_token = congesting.routes[0].token_out
    loss = max(0, without[0] - with_change[0])
    gains = [w - r for w, r in zip(with_change[1:], without[1:], strict=True)]
    allowed = [True] * len(others) if can_pay is None else list(can_pay)
    if len(allowed) != len(others):
        raise RoutingError(f"{len(others)} orders but {len(allowed)} can_pay flags")
    payers = tuple(i for i, g in enumerate(gains) if g > 0 and allowed[i])
    surplus = sum(value(others[i].routes[0].token_out, gains[i]) for i in payers)
    loss_value = value(maker_token, loss)
    if not payers or surplus <= loss_value:
        return None
    share = min(BPS, max(1, math.ceil(loss_value * BPS / surplus)))
    payments = tuple(gains[i] * share // BPS for i in payers)
    return Deal(
        share,
        payers,
        tuple(without[1:]),
        tuple(with_change[1:]),
        loss,
        surplus,
        loss_value,
        payments,
    )


SHARED_TOPIC: Final = keccak(
    text="SurplusShared(address,address,address,uint256,uint256,uint256,uint256,uint256)"
)
"""topic0 of ``ISurplusShare.SurplusShared`` (trader and payee indexed)."""


def sharing_summary(
    receipts: Sequence[Any], contract: str, value: Callable[[str, int], float]
) -> dict[str, Any]:
    """What a run's settlements shared, from the contract's ``SurplusShared`` events.

    Args:
        receipts: The run's receipts.
        contract: The ``SurplusShare`` address.
        value: An amount of a token (by address) valued in the numeraire.

    Returns:
        ``orders`` settled, ``paying_orders`` (with a payee), ``makers`` paid, ``surplus``
        (measured surplus of the paying orders) and ``paid``, both valued, and ``failed``
        settlements (reverted calls to the contract).
    """
    orders = paying = 0
    makers: set[str] = set()
    surplus = paid = 0.0
    failed = 0
    for receipt in receipts:
        if receipt.to == contract and receipt.status != 1:
            failed += 1
        for log in receipt.logs:
            if log.address != contract or not log.topics or log.topics[0] != SHARED_TOPIC:
                continue
            orders += 1
            token, _, _, _, measured, amount_paid = decode(
                ("address",) + ("uint256",) * 5, log.data
            )
            payee = to_checksum_address("0x" + log.topics[2][-20:].hex())
            if payee == to_checksum_address(ZERO_ADDRESS):
                continue
            token_out = to_checksum_address(token)
            paying += 1
            makers.add(payee)
            surplus += value(token_out, int(measured))
            paid += value(token_out, int(amount_paid))
    return {
        "orders": orders,
        "paying_orders": paying,
        "makers": len(makers),
        "surplus": surplus,
        "paid": paid,
        "failed": failed,
    }
