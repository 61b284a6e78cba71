"""The block-production game: proposers that may rewrite recent history (time-bandit attacks),
reorgs sold for bounties (:mod:`.bounty`, on the reorg market of :mod:`.reorg_market`),
censoring producers, and the experiments built on them (escrow and intent settlements reversed
at depth: :mod:`.credibility`, :mod:`.intent_credibility`); builders and
proposers as agents of the simulation loop (:mod:`.loop`, configured by a scenario's
``[block_production]`` table, :mod:`.loopconfig`, measured by :mod:`.loopmetrics`). Builders and
the slot auction live in :mod:`agentbed.chain.auction`; forks and reorgs in
:mod:`agentbed.chain.forks`."""
