"""Trading strategies: each a small configurable ``Agent`` subclass.

Traders and liquidity providers make the order flow; searchers (arbitrageurs, frontrunners,
sandwichers) read the mempool and extract value from it; spammers make congestion; intent
makers sign swap intents that competing solvers settle through an intent book. In the
commitment economy, buyers, sellers and arbitrators form escrow agreements.
``STRATEGIES`` maps the names scenario files use to the classes.
"""

from agentbed.agents.agent import Agent
from agentbed.agents.economy.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agentbed.agents.economy.strategies.issuer import ReputationIssuer
from agentbed.agents.market.strategies.arbitrage import Arbitrageur
from agentbed.agents.market.strategies.frontrun import Frontrunner
from agentbed.agents.market.strategies.intents import IntentMaker, Solver
from agentbed.agents.market.strategies.liquidity import LiquidityProvider
from agentbed.agents.market.strategies.retail import RetailTrader
from agentbed.agents.market.strategies.sandwich import Sandwicher
from agentbed.agents.market.strategies.spam import Spammer

STRATEGIES: dict[str, type[Agent]] = {
    "retail": RetailTrader,
    "lp": LiquidityProvider,
    "arbitrageur": Arbitrageur,
    "frontrunner": Frontrunner,
    "sandwicher": Sandwicher,
    "spammer": Spammer,
    "intent_maker": IntentMaker,
    "solver": Solver,
    "buyer": ServiceBuyer,
    "seller": ServiceSeller,
    "arbitrator": Arbitrator,
    "issuer": ReputationIssuer,
}
"""Scenario-file name of each strategy."""

__all__ = [
    "STRATEGIES",
    "Arbitrageur",
    "Arbitrator",
    "Frontrunner",
    "IntentMaker",
    "LiquidityProvider",
    "ReputationIssuer",
    "RetailTrader",
    "Sandwicher",
    "ServiceBuyer",
    "ServiceSeller",
    "Solver",
    "Spammer",
]
