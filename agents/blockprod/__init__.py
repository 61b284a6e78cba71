"""The block-production game: proposers that may rewrite recent history (time-bandit attacks),
reorgs sold for bounties, censoring producers, and the experiments built on them. Builders and
the slot auction live in :mod:`agentbed.chain.auction`; forks and reorgs in
:mod:`agentbed.chain.forks`."""
