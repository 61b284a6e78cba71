"""Same seed and inputs give byte-identical blocks and receipts, across separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

WORKLOAD = textwrap.dedent(
    """
    import hashlib, random
    from agentbed.chain.node import Chain
    from agentbed.chain.latency import RandomLatency
    from agentbed.chain.ordering import RandomPolicy

    chain = Chain(seed=42, accounts=20, automine=False, policy=RandomPolicy(),
                  latency=RandomLatency(seed=42, low_ms=0, high_ms=3_000), gas_limit=420_000,
                  block_interval_ms=2_000)
    rng = random.Random(42)  # the workload's own generator, seeded: not the global one
    nonces = [0] * len(chain.accounts)
    sent = 0
    for _ in range(110):
        for _ in range(10):
            i = rng.randrange(len(chain.accounts))
            raw = chain.accounts[i].sign_transaction({
                "type": 2, "chainId": chain.chain_id, "nonce": nonces[i], "gas": 21_000,
                "to": chain.accounts[rng.randrange(len(chain.accounts))].address,
                "value": rng.randrange(1, 10**6),
                "maxPriorityFeePerGas": rng.randrange(1, 5) * 10**9,
                "maxFeePerGas": 50 * 10**9,
            }).raw_transaction
            chain.submit(raw, at_ms=chain.now_ms + rng.randrange(0, 200))
            nonces[i] += 1
            sent += 1
        chain.mine()
    while chain.mempool.status() != (0, 0):
        chain.mine()
    digest = hashlib.sha256()
    for n in range(chain.block_number + 1):
        digest.update(repr(chain.block(n)).encode())
        digest.update(repr(chain.receipts(n)).encode())
    print(chain.block_number, sent, chain.head.hash.hex(), digest.hexdigest())
    """
)


def _run(hash_seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    out = subprocess.run(
        [sys.executable, "-c", WORKLOAD], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_same_seed_gives_identical_blocks_and_receipts_across_processes():
    first, second = _run("1"), _run("2")
    blocks, sent, _head, _digest = first.split()
    assert int(blocks) >= 100 and int(sent) >= 1_000
    assert first == second
