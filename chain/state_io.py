"""Saving a whole chain to a file and restoring it (``testbed node --dump-state/--load-state``).

What a state file holds, and so what a restored chain answers exactly as the saved one did:

- **py-evm's whole database**: every header, block, transaction, receipt and state trie node
  since genesis, plus the state root the next block builds on (cheat-code writes included).
  Balances, code, storage and ``eth_call`` at any block, and the block and tx hashes, are
  the saved chain's own.
- **The chain's records**: blocks with their receipts, logs and decoded events (arrival and
  inclusion times, bundle ids, revert reasons), so history queries answer as before.
- **The pool and what waits for the next block**: pending and queued txs with their arrival
  times and fates, private bundles, a pinned next-block time, the arrival counter.
- **The clock, settings and keys**: simulated time, block interval, automine, interval
  mining, coinbase, chain id, pool config, seed, the local accounts' keys, impersonated
  accounts, ABIs and their addresses (to decode future logs), library deployments.

Not preserved: the ordering policy and latency model (code, not data: the loader takes them
again, e.g. ``--policy``), snapshot ids taken before the save, block listeners and the
server's filters and subscriptions, and the compiled-artifact cache (it is on disk anyway).

Format: a magic line, one JSON line (format version, payload length and SHA-256), then a
zlib-compressed pickle of the payload. The loader checks magic, version and checksum before
anything else, and unpickles only the project's record classes and the few containers that hold
them (no functions), so a foreign pickle cannot run code. A bad file raises
:class:`StateFileError` with one line and leaves nothing changed. Writing goes to a temporary
file in the same directory that is then renamed over the target, so a crash never leaves half
a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tempfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account

from agentbed.chain.clock import ClockState, SimClock
from agentbed.chain.errors import TestbedError
from agentbed.chain.signing import LocalSigner
from agentbed.chain.snapshots import ChainSnapshot, SnapshotStore
from agentbed.chain.statewrites import dump_db, load_db

if TYPE_CHECKING:
    from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
    from agentbed.chain.mempool import Mempool
    from agentbed.chain.node import Chain

MAGIC = b"agentbed-chain-state\n"
FORMAT_VERSION = 1
"""Bumped whenever the payload's layout changes; other versions are refused, not guessed at."""

_RECORD_MODULE = "agentbed.chain.types"
"""Every class here is a frozen record or an enum: safe to rebuild from a file."""
_CONTAINERS = frozenset(
    {
        ("agentbed.chain.clock", "ClockState"),
        ("agentbed.chain.history", "ChainHistory"),
        ("agentbed.chain.blocktree", "BlockTree"),
        ("agentbed.chain.blocktree", "TreeBlock"),
        ("agentbed.chain.blocktree", "Reorg"),
        ("agentbed.chain.interfaces", "PoolConfig"),
        ("agentbed.chain.mempool", "Mempool"),
        ("agentbed.chain.mempool", "_Account"),
        ("agentbed.chain.priceheap", "PriceHeap"),
        ("agentbed.chain.setcode", "SetCodeRules"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
    }
)
"""The other classes a payload holds: plain containers whose construction does nothing else."""


def _without_listeners(mempool: Mempool) -> Mempool:
    """A copy of the pool without its entry listeners: they are the running server's
    callbacks (filters, subscriptions), not state, and a restored node has none yet."""
    pool = mempool.copy()
    pool.entry_listeners = []
    return pool


class StateFileError(TestbedError):
    """A state file cannot be read: missing, not one, another version, or corrupt."""


class _RecordsOnly(pickle.Unpickler):
    """Unpickles the chain's own records and plain data, nothing that could run code."""

    def find_class(self, module: str, name: str) -> Any:
        if module == _RECORD_MODULE or (module, name) in _CONTAINERS:
            found = super().find_class(module, name)
            if isinstance(found, type):  # a class, never a function to call
                return found
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


# -- saving ----------------------------------------------------------------------------------


def _payload(chain: Chain) -> dict[str, Any]:
    signer = chain._signer
    abi = chain.abi
    return {
        "seed": chain.seed,
        "chain_id": chain.chain_id,
        "pool_config": chain.pool_config,
        "coinbase": chain.coinbase,
        "keys": [bytes(a.key) for a in chain.accounts],
        "impersonated": list(signer.impersonated),
        "ever_impersonated": list(signer._proxied.values()),
        "db": dump_db(chain.backend),
        "backend": chain.backend.snapshot(),
        "history": chain._history,
        "mempool": _without_listeners(chain.mempool),
        "clock": chain.clock.state(),
        "bundles": tuple(chain._producer.bundles),
        "seq": chain._seq,
        "automine": chain.automine,
        "pinned_ms": chain._producer.pinned_ms,
        "deployments": tuple(chain._deployer.deployments),
        "abis": {name: [dict(item) for item in abi.abi(name)] for name in abi.names},
        "bound": dict(abi._bound),
        "mining_interval_ms": chain.mining_interval_ms,
        "time_offset_s": chain.time_offset_s,
    }


def dump_state(chain: Chain) -> bytes:
    """The bytes of a state file for ``chain`` as it is now (see the module docstring)."""
    body = zlib.compress(pickle.dumps(_payload(chain), protocol=pickle.HIGHEST_PROTOCOL), 6)
    header = {
        "version": FORMAT_VERSION,
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "block": chain.block_number,
        "chain_id": chain.chain_id,
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body


def save_state(chain: Chain, path: str | os.PathLike[str]) -> Path:
    """Write ``chain``'s state file to ``path`` atomically (temp file, then rename)."""
    target = Path(path)
    data = dump_state(chain)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# -- loading ---------------------------------------------------------------------------------

_PAYLOAD_KEYS = frozenset(
    {
        "seed",
        "chain_id",
        "pool_config",
        "coinbase",
        "keys",
        "impersonated",
        "ever_impersonated",
        "db",
        "backend",
        "history",
        "mempool",
        "clock",
        "bundles",
        "seq",
        "automine",
        "pinned_ms",
        "deployments",
        "abis",
        "bound",
        "mining_interval_ms",
        "time_offset_s",
    }
)
"""What a payload holds (``_payload``'s keys)."""


def _parse(data: bytes, where: str) -> dict[str, Any]:
    """The payload of state-file bytes, every check done; :class:`StateFileError` if bad."""
    if not data.startswith(MAGIC):
        raise StateFileError(f"{where}: not an agentbed chain state file")
    header_line, _, body = data[len(MAGIC) :].partition(b"\n")
    try:
        header = json.loads(header_line)
        version, length, digest = header["version"], header["length"], header["sha256"]
    except (ValueError, TypeError, KeyError):
        raise StateFileError(f"{where}: corrupt state file (unreadable header)") from None
    if version != FORMAT_VERSION:
        raise StateFileError(
            f"{where}: state file format version {version!r}; this agentbed reads {FORMAT_VERSION}"
        )
    if len(body) != length or hashlib.sha256(body).hexdigest() != digest:
        raise StateFileError(f"{where}: corrupt state file (checksum mismatch)")
    try:
        raw = zlib.decompress(body)
    except zlib.error:
        raise StateFileError(f"{where}: corrupt state file (bad compression)") from None
    try:
        payload = _RecordsOnly(io.BytesIO(raw)).load()
    except Exception as err:  # any decoding failure is the file's fault, said in one line
        reason = " ".join(f"{type(err).__name__}: {err}".split())[:200]
        raise StateFileError(f"{where}: corrupt state file ({reason})") from None
    if not isinstance(payload, dict) or set(payload) != _PAYLOAD_KEYS:
        raise StateFileError(f"{where}: corrupt state file (unexpected contents)")
    return payload


def _restore(chain: Chain, p: dict[str, Any]) -> None:
    """Put the saved chain ``p`` into the freshly built ``chain`` (same seed and chain id)."""
    load_db(chain.backend, p["db"], p["backend"])
    chain.accounts = tuple(Account.from_key(key) for key in p["keys"])
    signer = chain._signer = LocalSigner(chain.accounts)
    for address in p["ever_impersonated"]:  # their mined txs resolve to them
        signer.impersonate(address)
        signer.stop(address)
    for address in p["impersonated"]:
        signer.impersonate(address)
    chain._history = chain._producer._history = p["history"]
    for name, abi in p["abis"].items():
        chain.abi.register(name, abi)
    for address, name in p["bound"].items():
        chain.abi.bind(name, address)
    chain._snapshots = SnapshotStore()  # the restore goes through revert, as a snapshot
    saved = ChainSnapshot(
        backend=p["backend"],
        mempool=p["mempool"],
        clock=SimClock.from_state(p["clock"]),
        n_blocks=len(p["history"]),
        bundles=p["bundles"],
        seq=p["seq"],
        automine=p["automine"],
        policy=chain.policy,
        latency=chain.latency,
        coinbase=p["coinbase"],
        next_block_time_ms=p["pinned_ms"],
        deployments=p["deployments"],
    )
    chain.revert(chain._snapshots.add(saved))
    chain._snapshots = SnapshotStore()  # ids taken before the save mean nothing here
    chain.mining_interval_ms = p["mining_interval_ms"]
    chain.time_offset_s = p["time_offset_s"]


def load_state_bytes(
    data: bytes,
    *,
    where: str = "state",
    policy: OrderingPolicy | None = None,
    latency: LatencyModel | None = None,
) -> Chain:
    """A new chain restored from state-file bytes (see :func:`load_state`)."""
    from agentbed.chain.node import Chain

    p = _parse(data, where)
    clock: ClockState = p["clock"]
    chain = Chain(
        seed=p["seed"],
        accounts=0,
        chain_id=p["chain_id"],
        block_interval_ms=clock.block_interval_ms,
        genesis_ms=clock.genesis_ms,
        policy=policy,
        latency=latency,
        pool_config=replace(p["pool_config"]),
        coinbase=p["coinbase"],
    )
    _restore(chain, p)
    return chain


def load_state(
    path: str | os.PathLike[str],
    *,
    policy: OrderingPolicy | None = None,
    latency: LatencyModel | None = None,
) -> Chain:
    """A new chain restored from the state file at ``path``.

    Args:
        path: A file :func:`save_state` wrote.
        policy: Ordering policy of the restored chain (default: priority fee).
        latency: Latency model of the restored chain (default: none).

    Raises:
        StateFileError: The file is missing, not a state file, of another format version, or
            corrupt; one line says which.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise StateFileError(f"{path}: cannot read state file ({err.strerror})") from None
    return load_state_bytes(data, where=str(path), policy=policy, latency=latency)
