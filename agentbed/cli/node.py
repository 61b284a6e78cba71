"""``testbed node``: serve a fresh chain over JSON-RPC (HTTP and WebSocket) until Ctrl-C.

Other tools (web3.py, ethers.js, Foundry's ``cast``) talk to it like a local geth/anvil node;
the methods are those of the in-process provider (see :mod:`agentbed.chain.server`). The server
library, aiohttp, is an optional extra, so the command checks for it first and says how to
install it. ``--load-state`` starts from a saved chain and ``--dump-state`` saves the chain on
Ctrl-C (what a state file keeps: :mod:`agentbed.chain.state_io`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agentbed.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Subparsers

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.server import NodeServer

NEEDS_AIOHTTP = 'testbed node needs aiohttp: pip install "agentbed[node]"'


def add_node(subparsers: Subparsers) -> None:
    """Declare ``testbed node``: address, ordering policy, accounts and seed."""
    parser = subparsers.add_parser(
        "node",
        help="serve a fresh chain over JSON-RPC (HTTP and WebSocket) until Ctrl-C",
        description="Start a chain and serve the provider's JSON-RPC methods over HTTP POST and "
        "WebSocket at the given address, until Ctrl-C (exit code 130). Prints the address and "
        "the funded accounts. Deterministic per seed.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8545, metavar="N", help="TCP port, 0 = any free (default 8545)"
    )
    parser.add_argument(
        "--policy",
        metavar="P",
        default="priority",
        help="ordering policy: fifo, priority, random, batch or bundles (default: priority)",
    )
    parser.add_argument(
        "--accounts", type=int, default=10, metavar="N", help="funded accounts (default 10)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="root seed (default 0)")
    parser.add_argument(
        "--dump-state",
        metavar="FILE",
        help="on Ctrl-C, save the whole chain (state, blocks, pool, clock) to FILE, atomically",
    )
    parser.add_argument(
        "--load-state",
        metavar="FILE",
        help="start from a chain saved with --dump-state (its seed and accounts; --policy applies)",
    )


def _aiohttp_importable() -> bool:
    """Whether aiohttp can be imported (answered without importing it)."""
    try:
        return importlib.util.find_spec("aiohttp") is not None
    except ValueError:  # a module without __spec__
        return False


async def _serve(server: NodeServer, out: TextIO, accounts: list[str]) -> None:
    """Start ``server``, print where it listens, then wait until cancelled (Ctrl-C)."""
    url = await server.start()
    try:
        ws_url = "ws" + url[len("http") :]
        print(f"testbed node: listening on {url} and {ws_url}", file=out)
        for index, address in enumerate(accounts):
            print(f"account {index}: {address}", file=out)
        out.flush()
        await asyncio.Event().wait()
    finally:
        await server.stop()


def run_node(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Serve until Ctrl-C.

    Returns:
        130 after Ctrl-C (the server is closed first), 1 when the address cannot be bound,
        2 for bad arguments or without aiohttp.
    """
    if not _aiohttp_importable():
        print(f"testbed: error: {NEEDS_AIOHTTP}", file=err)
        return EXIT_USAGE
    from agentbed.chain.node import Chain
    from agentbed.chain.ordering import parse_policy
    from agentbed.chain.server import NodeServer
    from agentbed.chain.state_io import StateFileError, load_state

    if not 0 <= args.port <= 65535:
        print(f"testbed node: --port must be in 0..65535, got {args.port}", file=err)
        return EXIT_USAGE
    if args.dump_state is not None and not Path(args.dump_state).resolve().parent.is_dir():
        print(f"testbed node: --dump-state: no directory for {args.dump_state}", file=err)
        return EXIT_USAGE
    try:
        policy = parse_policy(args.policy).build()
        if args.load_state is not None:
            chain = load_state(args.load_state, policy=policy)
            print(f"testbed node: loaded {args.load_state} (block {chain.block_number})", file=err)
        else:
            chain = Chain(seed=args.seed, accounts=args.accounts, policy=policy)
    except (TypeError, ValueError, StateFileError) as exc:
        print(f"testbed node: {exc}", file=err)
        return EXIT_USAGE
    server = NodeServer(chain, args.host, args.port)
    try:
        asyncio.run(_serve(server, out, [a.address for a in chain.accounts]))
    except OSError as exc:
        print(f"testbed node: cannot listen on {args.host}:{args.port}: {exc}", file=err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("testbed node: stopped", file=err)
        return _dump(chain, args.dump_state, err)
    return EXIT_FAILED  # unreachable in practice: the server runs until interrupted


def _dump(chain: Chain, path: str | None, err: TextIO) -> int:
    """Save ``chain`` to ``path`` if one was given; the exit code after Ctrl-C."""
    from agentbed.chain.state_io import save_state

    if path is None:
        return EXIT_INTERRUPTED
    try:
        save_state(chain, path)
    except OSError as exc:
        print(f"testbed node: cannot save state to {path}: {exc.strerror or exc}", file=err)
        return EXIT_FAILED
    print(f"testbed node: saved {path} (block {chain.block_number})", file=err)
    return EXIT_INTERRUPTED
