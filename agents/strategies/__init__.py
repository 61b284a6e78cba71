"""Trading strategies: each a small configurable ``Agent`` subclass.

Traders and liquidity providers make the order flow; searchers (arbitrageurs, frontrunners,
sandwichers) read the mempool and extract value from it; spammers make congestion; intent
makers sign swap intents that competing solvers settle through an intent book. In the
commitment economy, buyers, sellers and arbitrators form escrow agreements.
``STRATEGIES`` maps the names scenario files use to the classes.
"""

from agents.agent import Agent
from agents.strategies.arbitrage import Arbitrageur
from agents.strategies.credentials import ReputationIssuer
from agents.strategies.escrow import Arbitrator, ServiceBuyer, ServiceSeller
from agents.strategies.frontrun import Frontrunner
from agents.strategies.intents import IntentMaker, Solver
from agents.strategies.liquidity import LiquidityProvider
from agents.strategies.retail import RetailTrader
from agents.strategies.sandwich import Sandwicher
from agents.strategies.spam import Spammer

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
