"""The block-production game: proposers that may rewrite recent history (time-bandit attacks),
reorgs sold for bounties, censoring producers, and the experiments built on them; builders and
proposers as agents of the simulation loop (:mod:`.loop`, configured by a scenario's
``[block_production]`` table, :mod:`.loopconfig`, measured by :mod:`.loopmetrics`). Builders and
the slot auction live in :mod:`agentbed.chain.auction`; forks and reorgs in
:mod:`agentbed.chain.forks`."""
