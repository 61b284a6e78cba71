"""agent-testbed chain: compiler, EVM backend, mempool, ordering, builder, front object."""
