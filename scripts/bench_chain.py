"""Benchmark: ERC-20 transfers through our mempool + builder vs web3.py + EthereumTesterProvider.

A benchmark, not a test: it prints figures and never fails on them. Both sides run the same
workload in the same process: N ERC-20 transfers from several senders, signed one by one
(signing is part of the cost on both sides, each on its own path: ``Chain.sign`` for the
testbed, eth-account for web3), until every receipt is available.

- testbed: ``Chain(automine=False)``; each round submits one batch into the mempool, then
  ``mine()`` orders (priority fee), builds and seals a block and writes receipts.
- baseline: ``Web3(EthereumTesterProvider())`` with automine, ``send_raw_transaction`` per tx.

Prints tx/s for both and the ratio, the testbed's memory growth per 1,000 txs (RSS, after a
warm-up of the first 1,000), and the throughput of the first and last 1,000 txs.

    python scripts/bench_chain.py                  # 10,000 txs each side
    python scripts/bench_chain.py --txs 2000       # quicker look
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402

from agentbed.chain.compiler import compile_project  # noqa: E402
from agentbed.chain.node import Chain  # noqa: E402

GWEI = 10**9
TRANSFER_GAS = 60_000


def rss_bytes() -> int:
    """Current resident set size (Linux /proc; falls back to peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def transfer_data(to: str, amount: int) -> bytes:
    # transfer(address,uint256)
    return (
        bytes.fromhex("a9059cbb") + bytes(12) + bytes.fromhex(to[2:]) + amount.to_bytes(32, "big")
    )


def transfer_fields(
    nonce: int, token: str, to: str, chain_id: int, fee_cap: int
) -> dict[str, object]:
    """A type-2 ERC-20 transfer, every field given (no state reads when signing)."""
    return {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "to": token,
        "data": transfer_data(to, 1),
        "gas": TRANSFER_GAS,
        "maxPriorityFeePerGas": GWEI,
        "maxFeePerGas": fee_cap,
        "value": 0,
    }


def sign_transfer(
    acct: LocalAccount, nonce: int, token: str, to: str, chain_id: int, fee_cap: int
) -> bytes:
    """Signed with eth-account: the baseline's path (a web3 user signs this way)."""
    fields = transfer_fields(nonce, token, to, chain_id, fee_cap)
    return bytes(acct.sign_transaction(fields).raw_transaction)


def bench_testbed(n_txs: int, senders: int, per_block: int) -> dict[str, float]:
    chain = Chain(seed=1, accounts=senders, automine=True, gas_limit=60_000_000)
    token = chain.deploy("MockERC20", "Bench", "BEN")
    for acct in chain.accounts:
        chain.transact(chain.accounts[0], token.functions.mint(acct.address, 10**30))
    chain.automine = False
    nonces = {a.address: chain.nonce(a.address) for a in chain.accounts}
    sink = "0x000000000000000000000000000000000000bEEF"
    fee_cap = 1_000 * GWEI
    gc.collect()
    marks: list[tuple[int, float, int]] = []  # (txs done, time, rss)
    done = 0
    start = time.perf_counter()
    marks.append((0, start, rss_bytes()))
    while done < n_txs:
        batch = min(per_block, n_txs - done)
        for k in range(batch):
            acct = chain.accounts[(done + k) % senders]
            # the testbed's own path: Chain.sign (its fast signer, same bytes as eth-account)
            raw = chain.sign(
                acct,
                transfer_fields(nonces[acct.address], token.address, sink, chain.chain_id, fee_cap),
            )
            nonces[acct.address] += 1
            chain.submit(raw)
        (block,) = chain.mine()
        if len(block.tx_hashes) != batch:
            raise RuntimeError(f"block {block.number} held {len(block.tx_hashes)} of {batch}")
        for h in block.tx_hashes:
            if chain.receipt(h).status != 1:
                raise RuntimeError("a benchmark transfer reverted")
        done += batch
        marks.append((done, time.perf_counter(), rss_bytes()))
    elapsed = marks[-1][1] - start

    def rate_between(lo: int, hi: int) -> float:
        t_lo = next(t for d, t, _ in marks if d >= lo)
        d_hi, t_hi = next((d, t) for d, t, _ in marks if d >= hi)
        d_lo = next(d for d, _, _ in marks if d >= lo)
        return (d_hi - d_lo) / (t_hi - t_lo)

    def growth_from(done: int) -> float:
        d0, r0 = next((d, r) for d, _, r in marks if d >= done)
        return (marks[-1][2] - r0) / max(1, marks[-1][0] - d0) * 1_000

    growth = growth_from(min(1_000, n_txs))
    # The first half also fills bounded caches (py-evm's trie node memo, address memo);
    # the second half's slope is closer to what a long run keeps adding.
    growth_late = growth_from(n_txs // 2)
    return {
        "tx_per_s": n_txs / elapsed,
        "first_1000": rate_between(0, min(1_000, n_txs)),
        "last_1000": rate_between(max(0, n_txs - 1_000), n_txs),
        "mem_per_1000_mb": growth / 2**20,
        "mem_per_1000_late_mb": growth_late / 2**20,
        "blocks": chain.block_number,
    }


def bench_eth_tester(n_txs: int, senders: int) -> dict[str, float]:
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    w3 = Web3(EthereumTesterProvider())
    art = compile_project(ROOT).get("MockERC20")
    funder = w3.eth.accounts[0]
    accts = [Account.from_key(bytes([7]) * 31 + bytes([i + 1])) for i in range(senders)]
    factory = w3.eth.contract(abi=list(art.abi), bytecode=art.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor("Bench", "BEN").transact({"from": funder})
    )
    token = w3.eth.contract(address=receipt.contractAddress, abi=list(art.abi))
    for acct in accts:
        w3.eth.send_transaction({"from": funder, "to": acct.address, "value": 10**21})
        token.functions.mint(acct.address, 10**30).transact({"from": funder})
    chain_id = w3.eth.chain_id
    nonces = {a.address: w3.eth.get_transaction_count(a.address) for a in accts}
    sink = "0x000000000000000000000000000000000000bEEF"
    fee_cap = 1_000 * GWEI
    gc.collect()
    start = time.perf_counter()
    for i in range(n_txs):
        acct = accts[i % senders]
        raw = sign_transfer(acct, nonces[acct.address], token.address, sink, chain_id, fee_cap)
        nonces[acct.address] += 1
        h = w3.eth.send_raw_transaction(raw)
        if w3.eth.get_transaction_receipt(h)["status"] != 1:
            raise RuntimeError("a baseline transfer reverted")
    elapsed = time.perf_counter() - start
    return {"tx_per_s": n_txs / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=10_000, help="transfers per side (>= 1000)")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--per-block", type=int, default=200, help="testbed txs per block")
    parser.add_argument("--skip-baseline", action="store_true", help="testbed side only")
    args = parser.parse_args(argv)
    if args.txs < 1_000:
        parser.error("--txs must be at least 1000 (first/last 1,000 are reported)")
    if args.per_block * TRANSFER_GAS > 60_000_000:
        parser.error("--per-block too large for the 60M gas limit used here")

    compile_project(ROOT)  # warm the artifact cache outside the timed region
    print(f"workload: {args.txs} ERC-20 transfers from {args.senders} senders, signing included")
    ours = bench_testbed(args.txs, args.senders, args.per_block)
    print(
        f"testbed  (mempool + builder, {args.per_block} tx/block): {ours['tx_per_s']:8.0f} tx/s"
        f"  [{int(ours['blocks'])} blocks]"
    )
    print(
        f"  first 1,000: {ours['first_1000']:.0f} tx/s   last 1,000: {ours['last_1000']:.0f} tx/s"
        f"   last/first = {ours['last_1000'] / ours['first_1000']:.2f}"
    )
    print(
        f"  memory growth (RSS): {ours['mem_per_1000_mb']:.2f} MB per 1,000 txs after the"
        f" first 1,000; {ours['mem_per_1000_late_mb']:.2f} MB per 1,000 over the second half"
    )
    if not args.skip_baseline:
        base = bench_eth_tester(args.txs, args.senders)
        print(f"baseline (web3 + EthereumTesterProvider, automine): {base['tx_per_s']:8.0f} tx/s")
        print(f"ratio testbed / baseline: {ours['tx_per_s'] / base['tx_per_s']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
