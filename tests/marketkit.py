"""Shared pieces of the strategy tests: a market on a chain that can be reset, a scripted
trader, and readers for what a block did."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import Action, Agent, AgentView, PeriodicSchedule, derive_seed
from agentbed.agents.market.world import Market, PoolSpec
from agentbed.agents.sim import Simulation
from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

SWAP_EVENT = "Swap"
_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")


class OneShot(Agent):
    """Sends what ``make(view)`` returns on its first scheduled wake, then nothing."""

    def __init__(
        self, *args: Any, make: Callable[[AgentView], Sequence[Action]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.make = make
        self.fired = False

    def setup(self, market: Any) -> Sequence[Action]:
        return market.approvals()

    def observe(self, view: AgentView) -> Sequence[Action]:
        if self.fired or view.reason != "schedule":
            return ()
        self.fired = True
        return self.make(view)


@dataclass
class World:
    """A chain with a deployed market whose state can be reset between runs."""

    chain: Chain
    tokens: dict[str, str]
    pools: tuple[Any, ...]
    seed: int
    venues: tuple[Any, ...] = ()

    def market(self, volatility: float = 0.0) -> Market:
        """A fresh ``Market`` reading the chain's current reserves."""
        return Market(
            self.chain,
            self.tokens,
            self.pools,
            seed=self.seed,
            volatility=volatility,
            venues=self.venues,
        )

    @contextmanager
    def fresh(self) -> Iterator[Market]:
        """Run a block of code on a snapshot; everything it does to the chain is undone."""
        snapshot = self.chain.snapshot()
        try:
            yield self.market()
        finally:
            self.chain.revert(snapshot)

    def account(self, i: int) -> Any:
        return self.chain.accounts[i]

    def rng(self, *labels: object) -> random.Random:
        return random.Random(derive_seed(self.seed, *labels))

    def run(
        self,
        market: Market,
        agents: Sequence[Agent],
        *,
        blocks: int,
        policy: OrderingPolicy | None = None,
        latency: LatencyModel | None = None,
    ) -> Simulation:
        """Run ``agents`` for ``blocks`` blocks under ``policy`` and ``latency``."""
        if policy is not None:
            self.chain.set_policy(policy)
        if latency is not None:
            self.chain.latency = latency
        sim = Simulation(self.chain, agents, blocks=blocks, seed=self.seed, market=market)
        sim.run()
        return sim

    def balance(self, symbol: str, owner: str) -> int:
        return balance_at(self.chain, self.tokens[symbol], owner)


def build_world(
    seed: int,
    specs: Sequence[PoolSpec],
    funding: dict[str, int],
    *,
    accounts: int = 12,
    **chain_kwargs: Any,
) -> World:
    """Deploy ``specs`` and fund accounts 1.. with ``funding`` (symbol -> amount)."""
    chain = Chain(seed=seed, accounts=accounts, automine=True, **chain_kwargs)
    market = Market.deploy(chain, specs, seed=seed)
    market.fund({acct.address: funding for acct in chain.accounts[1:]})
    chain.automine = False
    return World(chain, dict(market.tokens), market.pools, seed, tuple(market.venues.values()))


def once_at(ms: int) -> PeriodicSchedule:
    """A schedule whose first wake is ``ms`` after the start (``OneShot`` ignores the rest)."""
    return PeriodicSchedule(ms)


def block_receipts(sim: Simulation) -> list[Receipt]:
    """Receipts of every block the simulation measured, in order."""
    chain = sim.chain
    return [r for m in sim.metrics for r in chain.receipts(m.number)]


def swap_amounts(receipt: Receipt) -> tuple[str, int, int]:
    """``(token_in, amount_in, amount_out)`` of the pool ``Swap`` event in ``receipt``."""
    for log in receipt.logs:
        if log.event is not None and log.event.name == SWAP_EVENT:
            args = log.event.args
            return str(args["tokenIn"]), int(args["amountIn"]), int(args["amountOut"])
    raise AssertionError(f"no Swap event in 0x{receipt.tx_hash.hex()}")


def balance_at(chain: Chain, token: str, owner: str, block: int | None = None) -> int:
    """``owner``'s balance of ``token`` at the head, or in the state after block ``block``."""
    data = _BALANCE_OF + encode(("address",), (owner,))
    (value,) = decode(("uint256",), chain.call(token, data, block_number=block))
    return int(value)
