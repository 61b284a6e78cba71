"""Benchmark: ERC-20 transfers through our mempool + builder vs web3.py + EthereumTesterProvider.

A benchmark, not a test: it prints figures and never fails on them. Both sides run the same
workload in the same process: N ERC-20 transfers from several senders, signed one by one
(signing is part of the cost on both sides, each on its own path: ``Chain.sign`` for the
testbed, eth-account for web3), until every receipt is available.

- testbed: ``Chain(automine=False)``; each round submits one batch into the mempool, then
  ``mine()`` orders (priority fee), builds and seals a block and writes receipts.
- baseline: ``Web3(EthereumTesterProvider())`` with automine, ``send_raw_transaction`` per tx.
- anvil 1.7.1 (when ``npm ci`` installed it): the same transfers, signed with eth-account,
  sent over loopback JSON-RPC in batches of ``--per-block``, each batch mined with
  ``evm_mine`` and its receipts read in one batch.

Prints tx/s for each side and the ratios, the testbed's memory growth per 1,000 txs (RSS, after a
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

from eth_abi import encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402

from agentbed.chain.backend import contract_address_for  # noqa: E402
from agentbed.chain.compiler import compile_project  # noqa: E402
from agentbed.chain.node import Chain  # noqa: E402

GWEI = 10**9
TRANSFER_GAS = 60_000
MINT = bytes.fromhex("40c10f19")  # mint(address,uint256)


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


def bench_anvil(n_txs: int, senders: int, per_block: int) -> dict[str, float] | None:
    """anvil from node_modules fed the workload over JSON-RPC; None when it is not installed."""
    sys.path.append(str(ROOT / "tests"))
    from anvilkit import anvil_binary, genesis, running_anvil

    if anvil_binary() is None:
        return None
    art = compile_project(ROOT).get("MockERC20")
    accts = [Account.from_key(bytes([7]) * 31 + bytes([i + 1])) for i in range(senders)]
    spec = genesis(
        chain_id=1337,
        timestamp=1_700_000_000,
        gas_limit=60_000_000,
        base_fee=GWEI,
        coinbase="0x000000000000000000000000000000000000C0FE",
        alloc={a.address: 10**24 for a in accts},
    )
    with running_anvil(spec) as rpc:
        init = bytes(art.creation_bytecode) + encode(("string", "string"), ("Bench", "BEN"))
        deploy = {"type": 2, "chainId": 1337, "nonce": 0, "data": init, "gas": 3_000_000}
        deploy.update(maxFeePerGas=1_000 * GWEI, maxPriorityFeePerGas=GWEI, value=0)
        token = contract_address_for(accts[0].address, 0)
        setup = [accts[0].sign_transaction(deploy).raw_transaction]
        for i, acct in enumerate(accts):
            mint = MINT + encode(("address", "uint256"), (acct.address, 10**30))
            fields = transfer_fields(i + 1, token, acct.address, 1337, 1_000 * GWEI)
            fields.update(data=mint, gas=100_000)
            setup.append(accts[0].sign_transaction(fields).raw_transaction)
        for raw in setup:  # in order: anvil answers a batch's calls concurrently
            rpc.call("eth_sendRawTransaction", "0x" + bytes(raw).hex())
        rpc.call("evm_mine")
        nonces = dict.fromkeys((a.address for a in accts), 0)
        nonces[accts[0].address] = len(setup)
        sink = "0x000000000000000000000000000000000000bEEF"
        start, done = time.perf_counter(), 0
        while done < n_txs:
            batch = []
            for k in range(min(per_block, n_txs - done)):
                acct = accts[(done + k) % senders]
                raw = sign_transfer(acct, nonces[acct.address], token, sink, 1337, 1_000 * GWEI)
                nonces[acct.address] += 1
                batch.append(("eth_sendRawTransaction", ("0x" + raw.hex(),)))
            hashes = rpc.batch(batch)
            rpc.call("evm_mine")
            receipts = rpc.batch([("eth_getTransactionReceipt", (h,)) for h in hashes])
            if any(r is None or r["status"] != "0x1" for r in receipts):
                raise RuntimeError("an anvil transfer was not mined or reverted")
            done += len(batch)
        return {"tx_per_s": n_txs / (time.perf_counter() - start)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=10_000, help="transfers per side (>= 1000)")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--per-block", type=int, default=200, help="testbed txs per block")
    parser.add_argument("--skip-baseline", action="store_true", help="testbed side only")
    parser.add_argument("--skip-anvil", action="store_true", help="no anvil comparison")
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
    anvil = None if args.skip_anvil else bench_anvil(args.txs, args.senders, args.per_block)
    if anvil is not None:
        print(f"anvil 1.7.1 (JSON-RPC batches of {args.per_block}): {anvil['tx_per_s']:8.0f} tx/s")
        print(f"ratio testbed / anvil: {ours['tx_per_s'] / anvil['tx_per_s']:.2f}x")
    elif not args.skip_anvil:
        print("anvil: not installed (npm ci installs @foundry-rs/anvil-linux-amd64), skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
