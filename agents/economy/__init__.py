"""The escrow economy study: agreements between buyers, sellers and staked arbitrators.

:mod:`.world` deploys the currency, staking, reputation and escrow and follows every
agreement; :mod:`.strategies` holds the buyers, sellers, arbitrators and the reputation
issuer; :mod:`.reputation` verifies attestations off-chain and :mod:`.credentials` keeps the
credential board and its forgeries; :mod:`.observations`, :mod:`.metrics` and
:mod:`.collector` measure a run; :mod:`.markdown` and :mod:`.report` write it;
:mod:`.study` plugs it into the experiments.
"""
