"""Evaluation: anvil (a native EVM, over loopback) as the chain's backend vs py-evm in-process.

A measurement, not a test: it prints tables and never fails on them. Everything runs side by
side in this one process (anvil in its own process on 127.0.0.1), so ratios are taken under the
same machine load. The anvil side is the prototype in ``scripts/anvil_backend.py``: our
mempool, ordering and builder stay in charge and drive anvil through the backend interface.

1. **Per-operation costs** block building needs, each timed over ``--ops`` operations inside
   one block, median of ``--repeat`` rounds (wall clock, ``time.perf_counter``): applying a
   tx with its result, checkpoint and rollback (bundle atomicity), simulating a one-tx bundle
   (checkpoint, apply, rollback), sealing, ``eth_call`` at a past block, head reads (the
   first of an address is a round trip on anvil; the prototype remembers reads until the head
   changes, so repeated ones are not).
2. **Transfers end to end** through ``Chain`` (sign, submit, build, seal, receipts): ERC-20
   transfers, ``--per-block`` per block, on each backend; and anvil alone fed the same signed
   txs in JSON-RPC batches with no per-tx results (the issue's 1,609 tx/s figure's method).
3. **Identity** on a representative block mix through ``Chain`` (deploys, mints, approvals,
   liquidity, swaps both ways, a revert, ether transfers, a private bundle under bundles-first
   ordering, a chain snapshot and revert, calls at past blocks): receipts, block fields, call
   results; and whether two anvil runs of the same seed give the same block hashes.
4. **The flagship** (``scenarios/mev.toml``: its policy and seed, 50 blocks, report files) on
   each backend, rounds interleaved: wall time, every backend operation counted and timed
   (outermost calls), the bound on the speed-up if py-evm's share cost nothing (Amdahl), and
   whether the output files are identical.

    python scripts/eval_native_evm.py                    # everything, 3 rounds
    python scripts/eval_native_evm.py --skip-flagship    # sections 1-3 only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "scripts"))

from anvil_backend import AnvilBackend, AnvilSession, anvil_backend  # noqa: E402
from anvilkit import anvil_binary  # noqa: E402
from eth_abi import encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import function_signature_to_4byte_selector as selector  # noqa: E402

from agentbed.chain.backend import BlockSession, PyEVMBackend, contract_address_for  # noqa: E402
from agentbed.chain.compiler import compile_project  # noqa: E402
from agentbed.chain.node import Chain  # noqa: E402
from agentbed.chain.ordering import BundlesFirstPolicy, FifoPolicy  # noqa: E402
from agentbed.chain.txcodec import decode_transaction  # noqa: E402

GWEI = 10**9
CHAIN_ID = 1337
GENESIS_S = 1_700_000_000
SINK = "0x000000000000000000000000000000000000bEEF"
BACKENDS = ("py-evm", "anvil")


def _sig(fn: str, types: tuple[str, ...] = (), args: tuple[Any, ...] = ()) -> bytes:
    return selector(fn) + encode(types, args)


def _median_of(repeat: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeat))


# -- 1. per-operation costs ------------------------------------------------------------------


class OpBench:
    """One backend with an ERC-20 deployed and minted to ``senders`` keys, and signed txs."""

    def __init__(self, kind: str, senders: int, ops: int) -> None:
        self.keys = [Account.from_key(bytes([9]) * 31 + bytes([i + 1])) for i in range(senders)]
        alloc = {k.address: 10**24 for k in self.keys}
        cls = AnvilBackend if kind == "anvil" else PyEVMBackend
        self.backend: Any = cls(chain_id=CHAIN_ID, alloc=alloc, genesis_timestamp=GENESIS_S)
        self.nonces = dict.fromkeys((k.address for k in self.keys), 0)
        self.time = GENESIS_S
        art = compile_project(ROOT).get("MockERC20")
        init = bytes(art.creation_bytecode)
        init += encode(("string", "string"), ("Bench", "BEN"))
        self.token = contract_address_for(self.keys[0].address, 0)
        self.block([self.tx(0, None, init, gas=3_000_000)])
        mint = ("mint(address,uint256)", ("address", "uint256"))
        self.block(
            [
                self.tx(0, self.token, _sig(mint[0], mint[1], (k.address, 10**30)), gas=100_000)
                for k in self.keys
            ]
        )
        self.ops = ops
        self.probes = 0

    def close(self) -> None:
        if isinstance(self.backend, AnvilBackend):
            self.backend.close()

    def tx(self, i: int, to: str | None, data: bytes, gas: int = 60_000) -> Any:
        key = self.keys[i]
        fields: dict[str, Any] = {"type": 2, "chainId": CHAIN_ID, "nonce": self.nonces[key.address]}
        fields.update(
            gas=gas, maxFeePerGas=1_000 * GWEI, maxPriorityFeePerGas=GWEI, data=data, value=0
        )
        if to is not None:
            fields["to"] = to
        self.nonces[key.address] += 1
        raw = bytes(key.sign_transaction(fields).raw_transaction)
        return decode_transaction(raw, chain_id=CHAIN_ID)

    def transfers(self, n: int) -> list[Any]:
        data = _sig("transfer(address,uint256)", ("address", "uint256"), (SINK, 1))
        return [self.tx(i % len(self.keys), self.token, data) for i in range(n)]

    def open(self) -> Any:
        self.time += 12
        return self.backend.open_block(timestamp=self.time, coinbase=SINK, mix_hash=bytes(32))

    def block(self, txs: list[Any]) -> Any:
        session = self.open()
        for tx in txs:
            if session.apply(tx).status != 1:
                raise RuntimeError(f"{self.backend.name}: set-up tx 0x{tx.hash.hex()} reverted")
        return session.seal()

    def costs(self) -> dict[str, float]:
        """Seconds per operation, one round each (the caller takes medians)."""
        n, out = self.ops, {}
        txs = self.transfers(n)
        session = self.open()
        t0 = time.perf_counter()
        ok = sum(session.apply(tx).status for tx in txs)
        out["apply a tx, read its result"] = (time.perf_counter() - t0) / n
        if ok != n:
            raise RuntimeError(f"{self.backend.name}: {n - ok} of {n} timed transfers reverted")
        t0 = time.perf_counter()
        session.seal()
        out[f"seal a block of {n} txs (per block)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.block([])
        out["open + seal an empty block"] = time.perf_counter() - t0
        session = self.open()
        t0 = time.perf_counter()
        for _ in range(n):
            session.rollback(session.checkpoint())
        out["checkpoint + rollback"] = (time.perf_counter() - t0) / n
        sims = []
        for i in range(n):  # rolled back each time: every sender's next nonce stays unused
            data = _sig("transfer(address,uint256)", ("address", "uint256"), (SINK, i + 1))
            sims.append(self.tx(i % len(self.keys), self.token, data))
            self.nonces[sims[-1].sender] -= 1
        t0 = time.perf_counter()
        for tx in sims:  # each a one-tx bundle: simulated, then rolled back
            cp = session.checkpoint()
            session.apply(tx)
            session.rollback(cp)
        out["simulate a 1-tx bundle (cp, apply, rollback)"] = (time.perf_counter() - t0) / n
        session.seal()
        past = self.backend.head_number - 1
        bal = "balanceOf(address)"
        calls = [_sig(bal, ("address",), (f"0x{i + 1:040x}",)) for i in range(n)]
        t0 = time.perf_counter()
        for data in calls:  # distinct calls: py-evm's result memo would answer repeats
            self.backend.call(sender=SINK, to=self.token, data=data, block_number=past)
        out["eth_call at a past block"] = (time.perf_counter() - t0) / n
        fresh = [f"0x{0xFEED0000 + self.probes + i:040x}" for i in range(n)]
        self.probes += n
        t0 = time.perf_counter()
        for address in fresh:  # never read before: a round trip on anvil
            self.backend.nonce(address)
        out["head read, first of an address (nonce)"] = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        for i in range(n):  # the same 20 senders again and again, as admission reads them
            self.backend.nonce(self.keys[i % len(self.keys)].address)
        out["head read, repeated (nonce)"] = (time.perf_counter() - t0) / n
        return out


def simulated_block(repeat: int, n: int) -> float:
    """Seconds per tx of ``n`` transfers run as one ``eth_simulateV1`` request on anvil's head:
    what a whole candidate block would cost if the builder did not need each tx's result
    before choosing the next (the prototype does not build that way; see docs)."""
    bench = OpBench("anvil", 20, n)
    try:
        backend = bench.backend
        head = backend.head()
        context = replace(
            head,
            number=head.number + 1,
            timestamp=head.timestamp + 12,
            base_fee=backend.next_base_fee(),
        )

        def one() -> float:
            txs = bench.transfers(n)
            for tx in txs:  # simulated only: the nonces stay unused
                bench.nonces[tx.sender] -= 1
            t0 = time.perf_counter()
            if backend._simulate(context, txs) is None:
                raise RuntimeError("eth_simulateV1 refused the transfers")
            return (time.perf_counter() - t0) / n

        return _median_of(repeat, one)
    finally:
        bench.close()


def op_costs(repeat: int, ops: int) -> dict[str, dict[str, float]]:
    """Median seconds per operation, by backend."""
    rounds: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in BACKENDS}
    benches = {k: OpBench(k, 20, ops) for k in BACKENDS}
    try:
        for _ in range(repeat):
            for kind, bench in benches.items():  # interleaved: both see the same load
                for op, secs in bench.costs().items():
                    rounds[kind][op].append(secs)
    finally:
        for bench in benches.values():
            bench.close()
    return {k: {op: statistics.median(v) for op, v in r.items()} for k, r in rounds.items()}


# -- 2. transfers end to end -----------------------------------------------------------------


@contextmanager
def on_backend(kind: str) -> Iterator[None]:
    """New ``Chain`` objects use this backend while open."""
    with anvil_backend() if kind == "anvil" else nullcontext():
        yield


def chain_transfers(kind: str, n: int, per_block: int) -> float:
    """tx/s of ``n`` ERC-20 transfers through ``Chain`` (signing included)."""
    with on_backend(kind):
        chain = Chain(seed=1, accounts=20, automine=True, gas_limit=60_000_000)
        token = chain.deploy("MockERC20", "Bench", "BEN", gas=3_000_000)
        for acct in chain.accounts:
            chain.transact(
                chain.accounts[0], token.functions.mint(acct.address, 10**30), gas=100_000
            )
        chain.automine = False
        nonces = {a.address: chain.nonce(a.address) for a in chain.accounts}
        data = _sig("transfer(address,uint256)", ("address", "uint256"), (SINK, 1))
        start, done = time.perf_counter(), 0
        while done < n:
            batch = min(per_block, n - done)
            for k in range(batch):
                acct = chain.accounts[(done + k) % len(chain.accounts)]
                fields = {
                    "to": token.address,
                    "data": data,
                    "gas": 60_000,
                    "nonce": nonces[acct.address],
                }
                fields.update(maxFeePerGas=1_000 * GWEI, maxPriorityFeePerGas=GWEI, value=0)
                nonces[acct.address] += 1
                chain.submit(chain.sign(acct, fields))
            (block,) = chain.mine()
            if len(block.tx_hashes) != batch or any(
                chain.receipt(h).status != 1 for h in block.tx_hashes
            ):
                raise RuntimeError(f"{kind}: block {block.number} lost or reverted transfers")
            done += batch
        return n / (time.perf_counter() - start)


def anvil_alone(n: int, per_block: int) -> float:
    """tx/s of anvil fed signed transfers in JSON-RPC batches, mined per block, receipts read
    in batches: no per-tx results while building (anvil's own builder decides)."""
    bench = OpBench("anvil", 20, 1)
    rpc = bench.backend.rpc
    try:
        txs = bench.transfers(n)
        start = time.perf_counter()
        for lo in range(0, n, per_block):
            chunk = txs[lo : lo + per_block]
            hashes = rpc.batch([("eth_sendRawTransaction", ("0x" + t.raw.hex(),)) for t in chunk])
            rpc.call("evm_mine")
            receipts = rpc.batch([("eth_getTransactionReceipt", (h,)) for h in hashes])
            if any(r is None or r["status"] != "0x1" for r in receipts):
                raise RuntimeError("anvil alone: a transfer was not mined or reverted")
        return n / (time.perf_counter() - start)
    finally:
        bench.close()


# -- 3. identity on a block mix --------------------------------------------------------------


def block_mix(kind: str) -> dict[str, Any]:
    """Run the representative mix on ``kind``; return what each block and tx produced."""
    with on_backend(kind):
        chain = Chain(seed=5, accounts=6, automine=True, policy=BundlesFirstPolicy(FifoPolicy()))
        a0, a1, a2, a3 = chain.accounts[:4]
        ta = chain.deploy("MockERC20", "Alpha", "A", gas=3_000_000)
        tb = chain.deploy("MockERC20", "Beta", "B", gas=3_000_000)
        pool = chain.deploy("ConstantProductPool", ta.address, tb.address, 30, gas=5_000_000)
        for t in (ta, tb):
            for acct in (a1, a2, a3):
                chain.transact(a0, t.functions.mint(acct.address, 10**24), gas=100_000)
                chain.transact(acct, t.functions.approve(pool.address, 2**256 - 1), gas=100_000)
        add = pool.functions.addLiquidity(10**23, 10**23, 0, a1.address, 2**40)
        chain.transact(a1, add, gas=400_000)
        chain.automine = False
        past = chain.block_number
        snap = chain.snapshot()
        chain.transact(a2, ta.functions.transfer(a3.address, 5), gas=100_000)
        chain.mine()
        chain.revert(snap)  # the transfer's block is gone on both backends
        for r in range(3):
            for i, acct in enumerate((a1, a2, a3)):
                tin = (ta, tb)[(i + r) % 2]
                swap = pool.functions.swapExactIn(
                    tin.address, 10**20 * (i + 1), 0, acct.address, 2**40
                )
                chain.transact(acct, swap, gas=200_000)
            bad = pool.functions.swapExactIn(ta.address, 10**18, 10**30, a2.address, 2**40)
            chain.transact(a2, bad, gas=200_000)  # reverts: minimum output not met
            chain.transact(a3, to=chain.accounts[5].address, value=10**15 + r, gas=21_000)
            fields = {
                "to": chain.coinbase,
                "value": 10**16,
                "gas": 21_000,
                "maxPriorityFeePerGas": GWEI,
            }
            chain.submit_bundle([chain.sign(chain.accounts[4], fields)])
            chain.mine()
        receipts = [
            (r.status, r.gas_used, r.cumulative_gas_used, r.effective_gas_price, r.contract_address,
             tuple((lg.address, lg.topics, lg.data) for lg in r.logs), r.revert_reason)
            for n in range(1, chain.block_number + 1)
            for r in chain.receipts(n)
        ]  # fmt: skip
        blocks = [chain.block(n) for n in range(1, chain.block_number + 1)]
        calls = [
            ta.functions.balanceOf(pool.address).call(block_identifier=n)
            for n in range(past, chain.block_number + 1)
        ]
        return {
            "receipts": receipts,
            "fields": [
                (b.timestamp, b.base_fee, b.gas_used, b.gas_limit, len(b.tx_hashes), b.burned)
                for b in blocks
            ],
            "calls": calls,
            "state_roots": [b.header.state_root if b.header else b"" for b in blocks],
            "hashes": [b.hash for b in blocks],
        }  # fmt: skip


def identity() -> list[tuple[str, str]]:
    """Rows (what, verdict) comparing the mix on py-evm with two runs on anvil."""
    ours, first, second = block_mix("py-evm"), block_mix("anvil"), block_mix("anvil")
    n_rx, n_blocks = len(ours["receipts"]), len(ours["fields"])

    def same(key: str) -> str:
        diff = sum(a != b for a, b in zip(ours[key], first[key], strict=True))
        return "identical" if diff == 0 else f"{diff} of {len(ours[key])} differ"

    roots = sum(a == b for a, b in zip(ours["state_roots"], first["state_roots"], strict=True))
    again = sum(a == b for a, b in zip(first["hashes"], second["hashes"], strict=True))
    reverted = sum(r[0] == 0 for r in ours["receipts"])
    return [
        (f"receipts ({n_rx} txs, {reverted} reverted)", same("receipts")),
        (f"block fields ({n_blocks} blocks: time, base fee, gas, txs, burn)", same("fields")),
        (f"calls at past blocks ({len(ours['calls'])})", same("calls")),
        ("state roots equal to py-evm's", f"{roots} of {n_blocks} (anvil's genesis differs)"),
        ("same seed, same block hashes (anvil run twice)", f"{again} of {n_blocks}"),
    ]


# -- 4. the flagship on each backend ---------------------------------------------------------


def _ops(kind: str) -> tuple[tuple[str, object, str], ...]:
    """(label, owner, method): the backend operations timed in a flagship run."""
    session, backend = (
        (AnvilSession, AnvilBackend) if kind == "anvil" else (BlockSession, PyEVMBackend)
    )
    return (
        ("apply a tx, read its result", session, "apply"),
        ("checkpoint + rollback", session, "checkpoint"),
        ("checkpoint + rollback", session, "rollback"),
        ("seal", session, "seal"),
        ("open a block", backend, "open_block"),
        ("eth_call (head or past block)", backend, "call"),
        ("gas estimate", backend, "estimate_gas"),
        ("replay (counterfactual blocks)", backend, "replay"),
        *(("head read", backend, name) for name in ("nonce", "balance", "code", "storage_at")),
        ("block read", backend, "block_by_number"),
    )  # fmt: skip


def flagship(kind: str, out: Path) -> tuple[float, dict[str, list[float]]]:
    """Wall time of one flagship run (set-up, 50 blocks, report files) on ``kind``, and per
    backend operation [count, seconds] (outermost calls only: nothing is counted twice)."""
    from agentbed.agents.eventlog import EventLog
    from agentbed.experiments.build import build
    from agentbed.experiments.scenario import load_scenario
    from agentbed.experiments.studies import resolve_study

    scenario = load_scenario(ROOT / "scenarios" / "mev.toml")
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    depth = [0]
    ops = _ops(kind)
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in ops]

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    stats[label][0] += 1
                    stats[label][1] += time.perf_counter() - t0

        return run

    for label, owner, name in ops:
        setattr(owner, name, timed(label, getattr(owner, name)))
    study, seed, policy = resolve_study(scenario.study), scenario.run.seed, scenario.run.policy
    start = time.perf_counter()
    try:
        with on_backend(kind):
            log = EventLog(out / "events.jsonl")
            sim, world = build(scenario, policy=policy, seed=seed, log=log)
            sim.run()
            log.close()
            kinds = {a: g.kind for g in scenario.agents for a in g.agent_names()}
            data = study.summarize(
                sim, world, scenario, policy=policy, seed=seed, label=policy, kinds=kinds
            )
            study.write_run(out, data, scenario, seed)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return time.perf_counter() - start, dict(stats)  # fmt: skip


def compare_outputs(ours: Path, theirs: Path) -> list[str]:
    """One line per output file: identical, or what differs."""
    lines = []
    for path in sorted(ours.iterdir()):
        other = theirs / path.name
        if path.read_bytes() == other.read_bytes():
            lines.append(f"  {path.name:<28} identical")
            continue
        if path.suffix != ".jsonl":
            lines.append(f"  {path.name:<28} DIFFERS")
            continue
        keys: set[str] = set()
        for a, b in zip(path.read_text().splitlines(), other.read_text().splitlines(), strict=True):
            ea, eb = json.loads(a), json.loads(b)
            keys |= {k for k in ea.keys() | eb.keys() if ea.get(k) != eb.get(k)}
        lines.append(f"  {path.name:<28} differs only in fields: {', '.join(sorted(keys))}")
    return lines


def flagship_table(repeat: int) -> list[str]:
    """The flagship on both backends, side by side: wall times, operation split, outputs."""
    walls: dict[str, list[float]] = {k: [] for k in BACKENDS}
    stats: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            for kind in BACKENDS:
                out = Path(tmp) / f"{kind}-{r}"
                out.mkdir()
                wall, stats[kind] = flagship(kind, out)
                walls[kind].append(wall)
        outputs = compare_outputs(Path(tmp) / "py-evm-0", Path(tmp) / "anvil-0")
    py, an = (statistics.median(walls[k]) for k in BACKENDS)
    lines = [
        f"  wall: py-evm {py:.2f} s, anvil {an:.2f} s: anvil runs at {py / an:.2f}x py-evm's speed"
    ]
    lines.append(
        f"  {'backend operation':<34} {'count':>7} {'py-evm s':>9} {'count':>7} {'anvil s':>9}"
    )
    labels = sorted(
        set(stats["py-evm"]) | set(stats["anvil"]), key=lambda k: -stats["py-evm"].get(k, [0, 0])[1]
    )
    for label in labels:
        (n1, s1), (n2, s2) = (
            stats["py-evm"].get(label, [0, 0.0]),
            stats["anvil"].get(label, [0, 0.0]),
        )
        lines.append(f"  {label:<34} {int(n1):>7,} {s1:9.2f} {int(n2):>7,} {s2:9.2f}")
    inside, last = sum(s for _, s in stats["py-evm"].values()), walls["py-evm"][-1]
    lines.append(
        f"  py-evm backend share: {inside:.2f} s of {walls['py-evm'][-1]:.2f} s; "
        f"the run with a backend costing nothing: {last / (last - inside):.2f}x"
    )
    return [*lines, "  outputs (py-evm vs anvil, first round):", *outputs]  # fmt: skip


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians reported)")
    parser.add_argument("--ops", type=int, default=200, help="operations per timed round")
    parser.add_argument("--txs", type=int, default=2_000, help="transfers end to end")
    parser.add_argument("--per-block", type=int, default=200)
    parser.add_argument("--skip-flagship", action="store_true")
    args = parser.parse_args(argv)
    if anvil_binary() is None:
        print(
            "anvil not installed: run `npm ci` (optional dependency @foundry-rs/anvil-linux-amd64)"
        )
        return 1
    compile_project(ROOT)  # warm the artifact cache outside every timed region

    costs = op_costs(args.repeat, args.ops)
    print(f"1. per-operation cost, wall ms (median of {args.repeat} rounds x {args.ops} ops)")
    print(f"  {'operation':<46} {'py-evm':>9} {'anvil':>9} {'anvil/py-evm':>13}")
    for op, secs in costs["py-evm"].items():
        theirs = costs["anvil"][op]
        print(f"  {op:<46} {secs * 1e3:9.3f} {theirs * 1e3:9.3f} {theirs / secs:12.2f}x")
    whole = simulated_block(args.repeat, args.ops)
    print(f"  anvil only, {args.ops} transfers in one eth_simulateV1 request: {whole * 1e3:.3f}/tx")

    print(
        f"2. ERC-20 transfers end to end, {args.txs} txs, {args.per_block}/block,"
        f" median of {args.repeat}"
    )
    rates = {
        k: _median_of(args.repeat, partial(chain_transfers, k, args.txs, args.per_block))
        for k in BACKENDS
    }
    alone = _median_of(args.repeat, lambda: anvil_alone(args.txs, args.per_block))
    print(f"  testbed Chain on py-evm           {rates['py-evm']:8.0f} tx/s")
    print(
        f"  testbed Chain on anvil prototype  {rates['anvil']:8.0f} tx/s"
        f"  ({rates['anvil'] / rates['py-evm']:.2f}x)"
    )
    print(
        f"  anvil alone, batched, no per-tx results {alone:8.0f} tx/s"
        f"  ({alone / rates['py-evm']:.2f}x)"
    )

    print("3. identity on the block mix (py-evm vs anvil prototype)")
    for what, verdict in identity():
        print(f"  {what:<62} {verdict}")

    if not args.skip_flagship:
        print(
            "4. flagship (scenarios/mev.toml: its policy, seed, 50 blocks, report),"
            f" median of {args.repeat}"
        )
        for line in flagship_table(args.repeat):
            print(line)
    return 0  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
