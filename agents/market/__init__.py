"""The market study: pools and a reference price, traders and searchers, MEV accounting.

:mod:`.world` deploys the tokens, factory and pools and follows their reserves;
:mod:`.strategies` holds the traders, liquidity providers, arbitrageurs, frontrunners,
sandwichers, intent makers and solvers; :mod:`.amm_math` the constant-product maths;
:mod:`.intents` signs and solves swap intents; :mod:`.mev` detects sandwiches and backruns
from receipts; :mod:`.accounting` (with :mod:`.truth`, :mod:`.victims`, :mod:`.valuation` and
:mod:`.intent_accounting`) measures who gained and lost; :mod:`.metrics`, :mod:`.markdown` and
:mod:`.report` write the run's report; :mod:`.study` plugs it into the experiments.
"""
