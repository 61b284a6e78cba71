"""anvil (Foundry's node, the npm-installed binary) beside a :class:`Chain`, on the same genesis.

Used by the differential test (``tests/chain/test_anvil_diff.py``) and by the native-EVM
evaluation and transfer benchmark in ``scripts/``. The binary comes from the optional npm
dependency ``@foundry-rs/anvil-linux-amd64`` (``npm ci`` installs it on linux-x64): no
download happens here.

Alignment with a chain built by ``Chain(seed=..., accounts=...)``:

- chain id, block gas limit, coinbase and the accounts' balances come from a genesis file
  (``anvil --init``), with ``--accounts 0`` so anvil adds no dev accounts of its own;
- hardfork Prague; no automine (``--no-mining``), blocks are mined on request at the chain's
  own timestamps (``evm_mine`` with a timestamp) and hold the pending txs first come, first
  served (``--order fifo``);
- anvil's first block keeps the genesis base fee while ours applies EIP-1559 to genesis, so
  anvil's genesis base fee is our block 1's; later base fees follow EIP-1559 on both sides
  and are compared, not aligned.

What cannot be aligned: anvil derives each block's ``mixHash`` (prevrandao) itself -- the same
in every run, but not our seeded value -- and has no method to set it; its genesis holds the
EIP-2935 block-hash history contract and the CREATE2 deployer (``0x4e59...956c``), which our
genesis may lack.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
STARTUP_S = 20.0
"""How long to wait for anvil to answer before giving up (a loaded machine starts it slowly)."""

HISTORY_CONTRACT = "0x0000F90827F1C53a10cb7A02335B175320002935"
"""EIP-2935 block-hash history contract, in anvil's Prague genesis."""
CREATE2_DEPLOYER = "0x4e59b44847b379578588920ca78fbf26c0b4956c"
"""The deterministic CREATE2 deployer anvil puts in every genesis."""


class AnvilRpcError(Exception):
    """anvil answered a request with a JSON-RPC error (kept whole in ``error``)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error}")
        self.error = error


def anvil_binary(root: Path = ROOT) -> Path | None:
    """The anvil executable installed by npm under ``root/node_modules``, or None if absent."""
    path = root / "node_modules" / ANVIL_PACKAGE / "bin" / "anvil"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Rpc:
    """A JSON-RPC client over one kept-alive HTTP connection (loopback round trips are the
    cost being measured, so no per-request connection set-up)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._id = 0

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        self._conn.request("POST", "/", body, {"Content-Type": "application/json"})
        return json.loads(self._conn.getresponse().read())

    def call(self, method: str, *params: Any) -> Any:
        """Result of ``method(*params)``.

        Raises:
            AnvilRpcError: anvil answered with an error.
        """
        self._id += 1
        reply = self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        if "error" in reply:
            raise AnvilRpcError(method, reply["error"])
        return reply["result"]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Results of several calls sent in one request, in order.

        Raises:
            AnvilRpcError: any call in the batch failed.
        """
        if not calls:
            return []
        first = self._id + 1
        self._id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        replies = sorted(self._post(payload), key=lambda r: r["id"])
        errors = [(calls[r["id"] - first][0], r["error"]) for r in replies if "error" in r]
        if errors:
            raise AnvilRpcError(*errors[0])
        return [r["result"] for r in replies]

    def close(self) -> None:
        self._conn.close()


def genesis(
    *,
    chain_id: int,
    timestamp: int,
    gas_limit: int,
    base_fee: int,
    coinbase: str,
    alloc: Mapping[str, int],
) -> dict[str, Any]:
    """A geth-style genesis with every fork through Prague active from block 0.

    Args:
        base_fee: The base fee of anvil's block 1 (anvil keeps the genesis value for it).
        alloc: Balances in wei by address.
    """
    forks: tuple[str, ...] = (
        "homestead",
        "eip150",
        "eip155",
        "eip158",
        "byzantium",
        "constantinople",
    )
    forks += ("petersburg", "istanbul", "berlin", "london", "mergeNetsplit")
    config: dict[str, Any] = {"chainId": chain_id, **{f"{f}Block": 0 for f in forks}}
    config.update(shanghaiTime=0, cancunTime=0, pragueTime=0, terminalTotalDifficulty=0)
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "extraData": "0x",
        "gasLimit": hex(gas_limit),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": coinbase,
        "baseFeePerGas": hex(base_fee),
        "alloc": {addr: {"balance": hex(wei)} for addr, wei in alloc.items()},
    }


def chain_genesis(chain: Any, alloc: Mapping[str, int]) -> dict[str, Any]:
    """The genesis of a fresh ``Chain`` (nothing mined yet) as anvil should start from it.

    Args:
        chain: A ``Chain`` at block 0.
        alloc: The balances its genesis gave (accounts and any extra alloc).
    """
    if chain.block_number != 0:
        raise ValueError(f"chain must be at genesis, it is at block {chain.block_number}")
    return genesis(
        chain_id=chain.chain_id,
        timestamp=chain.head.timestamp,
        gas_limit=chain.gas_limit,
        base_fee=chain.base_fee,  # what our block 1 will have
        coinbase=chain.coinbase,
        alloc=alloc,
    )


@contextmanager
def running_anvil(spec: dict[str, Any], *, binary: Path | None = None) -> Iterator[Rpc]:
    """Start anvil on a free loopback port from genesis ``spec``; stop it on exit.

    Raises:
        FileNotFoundError: no anvil binary (install the npm dependencies: ``npm ci``).
        RuntimeError: anvil exited or did not answer within ``STARTUP_S`` seconds.
    """
    exe = binary or anvil_binary()
    if exe is None:
        raise FileNotFoundError(f"anvil not installed: npm ci (package {ANVIL_PACKAGE})")
    with tempfile.TemporaryDirectory(prefix="agentbed-anvil-") as tmp:
        spec_path = Path(tmp) / "genesis.json"
        spec_path.write_text(json.dumps(spec))
        port = free_port()
        args = [str(exe), "--init", str(spec_path), "--host", "127.0.0.1", "--port", str(port)]
        args += ["--hardfork", "prague", "--no-mining", "--order", "fifo", "--accounts", "0"]
        # anvil takes the block gas limit from its flag, not from the genesis file
        args += ["--gas-limit", str(int(spec["gasLimit"], 16)), "--silent"]
        log = open(Path(tmp) / "anvil.log", "wb")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        rpc = Rpc(port)
        try:
            _wait_ready(proc, rpc, Path(tmp) / "anvil.log")
            yield rpc
        finally:
            rpc.close()
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def _wait_ready(proc: subprocess.Popen[bytes], rpc: Rpc, log: Path) -> None:
    # A start-up wait, not a measurement: poll until the port answers.
    deadline = time.monotonic() + STARTUP_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"anvil exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            rpc.call("eth_chainId")
            return
        except (ConnectionError, http.client.HTTPException, OSError):
            rpc.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"anvil did not answer within {STARTUP_S} s") from None
            time.sleep(0.05)


def dump_accounts(rpc: Rpc) -> dict[str, dict[str, Any]]:
    """anvil's whole state (``anvil_dumpState``): ``{address: {nonce, balance, code, storage}}``."""
    blob = rpc.call("anvil_dumpState")
    return dict(json.loads(gzip.decompress(bytes.fromhex(blob[2:])))["accounts"])
