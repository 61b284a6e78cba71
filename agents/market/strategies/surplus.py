"""Router traders that trade through surplus-sharing commitments, and their coordinator.

A :class:`SharingTrader` draws its orders as a
:class:`~agentbed.agents.market.strategies.routing.RoutingTrader` of the same ``choice`` does,
but instead of sending them it posts them to the market's :class:`SharingBoard`. After each
block the :class:`SurplusCoordinator` (a solver) takes the posted orders, in posting order,
and settles them as one ``SurplusShare.settle`` batch (``contracts/SurplusShare.sol``).

With ``coordinate = true`` it first looks for route changes worth paying for, greedily in
posting order: for each order (the maker) and each single route it does not use, it replays
the batch from the last block's reserves with the maker on its own routing and on that route
(:func:`~agentbed.agents.market.surplus_share.coordinate`); the orders behind it that gain are
its payers, at the smallest share of their surplus that covers the maker's loss at the
reference price. The best such deal (largest surplus net of the loss) is taken when its surplus
exceeds the loss: the maker signs its order on the new route on condition that the payers pay,
the payers sign theirs with the maker as payee and their replayed output without the change as
reference. An order pays one maker at most, and a maker pays nobody. With ``coordinate =
false`` the same orders settle in the same batches with no terms: the comparison's baseline.

Agreement is off-chain and instant within the coordinator's step (the coordinator asks each
trader to sign; a trader signs as payer only up to its ``max_share_bps``): the model's
assumption, as the intent book's makers post signed intents to a board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent
from agentbed.agents.market.routing import Split, best_route, execute
from agentbed.agents.market.strategies.common import BPS
from agentbed.agents.market.strategies.routing import RoutingTrader
from agentbed.agents.market.surplus_share import (
    Deal,
    SharedOrder,
    coordinate,
    route_tuples,
    routes_hash,
    settle_calldata,
    settle_gas,
    sign_order,
)

MAX_DEADLINE = 2**256 - 1


@dataclass
class SharingBoard:
    """Orders posted to the coordinator, oldest first, and the ``SurplusShare`` contract."""

    contract: str
    posted: list[Posted] = field(default_factory=list)

    def take(self) -> list[Posted]:
        """Every posted order, removed from the board."""
        taken, self.posted = self.posted, []
        return taken


@dataclass(frozen=True, slots=True)
class Posted:
    """An order a trader wants settled: its own routing quoted on the last block's reserves."""

    trader: SharingTrader
    split: Split


def board_of(market: Any) -> SharingBoard:
    """The market's sharing board; ValueError when no ``SurplusShare`` was deployed."""
    board: SharingBoard | None = getattr(market, "sharing_board", None)
    if board is None:
        raise ValueError("no SurplusShare: the scenario needs a surplus_coordinator")
    return board


class SharingTrader(RoutingTrader):
    """A routing trader that posts its orders for a coordinated batch (module docstring).

    Args:
        max_share_bps: The largest share of its surplus it agrees to pay a maker.
        **kwargs: Passed to :class:`~agentbed.agents.market.strategies.routing.RoutingTrader`.
    """

    def __init__(self, *args: Any, max_share_bps: int = BPS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not 0 <= max_share_bps <= BPS:
            raise ValueError(f"max_share_bps must be in [0, {BPS}], got {max_share_bps}")
        self.max_share_bps = max_share_bps
        self.next_nonce = 0

    def setup(self, market: Any) -> Sequence[Action]:
        super().setup(market)
        return market.approvals([board_of(market).contract])

    def observe(self, view: AgentView) -> Sequence[Action]:
        market = view.market
        token_in, token_out, amount = self.draw(market)
        if amount > 0:
            split = self.plan(market, token_in, token_out, amount)
            board_of(market).posted.append(Posted(self, split))
        return ()

    def sign(self, order: SharedOrder, *, chain_id: int, contract: str) -> bytes | None:
        """Sign ``order`` if its terms are acceptable (a share at most ``max_share_bps``)."""
        if order.trader != self.address or order.share_bps > self.max_share_bps:
            return None
        return sign_order(self.account, order, chain_id=chain_id, verifying_contract=contract)


def _net(deal: Deal) -> float:
    """What a deal gains the orders in all: the payers' surplus less the maker's loss."""
    return deal.surplus_value - deal.loss_value


class SurplusCoordinator(Agent):
    """Settles the posted orders after each block, with or without route-change deals.

    Args:
        coordinate: Whether to look for surplus-sharing deals (module docstring).
        numeraire: Symbol amounts are valued in when comparing surplus with loss.
        tip: Priority fee per gas in wei.
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(
        self,
        *args: Any,
        coordinate: bool = True,
        numeraire: str = "D",
        tip: int = GWEI,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.coordinate = coordinate
        self.numeraire = numeraire
        self.tip = tip
        self.deals = 0

    def setup(self, market: Any) -> Sequence[Action]:
        board_of(market)
        if self.numeraire not in market.tokens:
            raise ValueError(f"{self.name}: no numeraire token {self.numeraire!r}")
        return ()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason != "block":
            return ()
        market = view.market
        posted = board_of(market).take()
        if not posted:
            return ()
        plans = [p.split for p in posted]
        deals: dict[int, tuple[Deal, tuple[int, ...]]] = {}
        if self.coordinate:
            deals = self._deals(market, posted, plans)
        return (self._settlement(market, posted, plans, deals),)

    def _quote(self, market: Any) -> Any:
        def quote(pool: Any, amount_in: int, r_in: int, r_out: int) -> int:
            return int(market.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address))

        return quote

    def _deals(
        self, market: Any, posted: Sequence[Posted], plans: list[Split]
    ) -> dict[int, tuple[Deal, tuple[int, ...]]]:
        """Greedy route-change deals in posting order; updates ``plans`` with the new routes."""
        quote = self._quote(market)
        prices = market.reference_prices(market.tokens[self.numeraire])

        def value(token: str, amount: int) -> float:
            return float(amount * prices[token] / 1e18)

        deals: dict[int, tuple[Deal, tuple[int, ...]]] = {}
        paying: set[int] = set()
        state = dict(market.reserves)
        for m, item in enumerate(posted):
            best: tuple[Split, Deal] | None = None
            if m not in paying:
                used = set(plans[m].routes)
                can_pay = [j not in paying for j in range(m + 1, len(plans))]
                for route in item.trader.routes(
                    market, plans[m].routes[0].token_in, plans[m].routes[0].token_out
                ):
                    if route in used:
                        continue
                    alternative = best_route([route], plans[m].amount_in, state, quote)
                    deal = coordinate(
                        plans[m], alternative, plans[m + 1 :], state, quote, value, can_pay
                    )
                    if deal is not None and (best is None or _net(deal) > _net(best[1])):
                        best = (alternative, deal)
            if best is not None and any(
                posted[m + 1 + i].trader.max_share_bps < best[1].share_bps for i in best[1].payers
            ):
                best = None  # a payer would refuse the share, and the maker's condition fail
            if best is not None:
                plans[m] = best[0]
                payers = tuple(m + 1 + i for i in best[1].payers)
                deals[m] = (best[1], payers)
                paying.update(payers)
                self.deals += 1
            _, state = execute(plans[m].routes, plans[m].amounts, state, quote)
        return deals

    def _settlement(
        self,
        market: Any,
        posted: Sequence[Posted],
        plans: Sequence[Split],
        deals: dict[int, tuple[Deal, tuple[int, ...]]],
    ) -> TxIntent:
        """The ``settle`` transaction of the batch, every order signed by its trader."""
        board = board_of(market)
        quote = self._quote(market)
        terms: dict[int, dict[str, Any]] = {}
        for m, (deal, payers) in deals.items():
            terms[m] = {
                "payers": tuple(posted[j].trader.address for j in payers),
                "max_references": tuple(deal.references[j - m - 1] for j in payers),
                "min_share_bps": deal.share_bps,
            }
            for j in payers:
                terms[j] = {
                    "payee": posted[m].trader.address,
                    "share_bps": deal.share_bps,
                    "reference_out": deal.references[j - m - 1],
                }
        orders, routes, signatures, hop_gas = [], [], [], 0
        state = dict(market.reserves)
        for i, (item, split) in enumerate(zip(posted, plans, strict=True)):
            outputs, state = execute(split.routes, split.amounts, state, quote)
            out = sum(outputs)
            mine = terms.get(i, {})
            paid = max(0, out - mine.get("reference_out", out)) * mine.get("share_bps", 0) // BPS
            tuples, gas = route_tuples(market, split)
            trader = item.trader
            order = SharedOrder(
                trader=trader.address,
                token_in=split.routes[0].token_in,
                token_out=split.routes[0].token_out,
                amount_in=split.amount_in,
                min_amount_out=(out - paid) * (BPS - trader.slippage_bps) // BPS,
                routes_hash=routes_hash(tuples),
                deadline=MAX_DEADLINE,
                nonce=trader.next_nonce,
                **mine,
            )
            signature = trader.sign(order, chain_id=market.chain.chain_id, contract=board.contract)
            if signature is None:  # _deals kept only shares every payer accepts
                raise ValueError(f"{trader.name} refused the terms of order {i}")
            trader.next_nonce += 1
            orders.append(order)
            routes.append(tuples)
            signatures.append(signature)
            hop_gas += gas
        return TxIntent(
            to=board.contract,
            data=settle_calldata(orders, routes, signatures),
            gas=settle_gas(hop_gas, len(orders)),
            tip=self.tip,
            label="settle",
            meta={"orders": len(orders), "deals": len(deals)},
        )
