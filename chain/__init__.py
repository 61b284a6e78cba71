"""The chain: compiler, EVM backend, mempool, ordering, builder and the ``Chain`` front object.

Never imports the agents or the experiments above it.
"""
