"""agent-testbed's chain: compiler, in-process EVM backend, mempool, ordering, builder, front object."""
