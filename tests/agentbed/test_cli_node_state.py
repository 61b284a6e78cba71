"""A real ``testbed node`` process driven by web3's HTTPProvider: cheat codes, impersonation,
``--dump-state`` on Ctrl-C and ``--load-state`` on the next start."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from agentbed.cli import main
from agentbed.cli.common import EXIT_INTERRUPTED, EXIT_USAGE

WHALE = "0x000000000000000000000000000000000000bEEF"
SINK = "0x000000000000000000000000000000000000dEaD"
COMMAND = [sys.executable, "-c", "import sys; from agentbed.cli import main; sys.exit(main())"]


@contextmanager
def node(*args: str) -> Iterator[tuple[Web3, subprocess.Popen[str]]]:
    """A ``testbed node`` process on a free port and a Web3 over HTTP to it."""
    proc = subprocess.Popen(
        [*COMMAND, "node", "--port", "0", "--accounts", "2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("testbed node: listening on http://127.0.0.1:"), first
        yield Web3(HTTPProvider(first.split()[4], request_kwargs={"timeout": 60})), proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return err


def test_impersonation_and_set_balance_over_http_survive_a_dump_and_load(tmp_path: Path) -> None:
    state = tmp_path / "chain.state"
    with node("--dump-state", str(state)) as (w3, proc):
        assert w3.provider.make_request("anvil_setBalance", [WHALE, hex(10**18)])["result"] is None
        assert w3.eth.get_balance(WHALE) == 10**18
        assert w3.provider.make_request("anvil_impersonateAccount", [WHALE])["result"] is None
        tx_hash = w3.eth.send_transaction({"from": WHALE, "to": SINK, "value": 7})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert (receipt["status"], receipt["from"]) == (1, WHALE)
        balance, head = w3.eth.get_balance(WHALE), w3.eth.get_block("latest")
        err = _stop(proc)
    assert proc.returncode == EXIT_INTERRUPTED
    assert err == f"testbed node: stopped\ntestbed node: saved {state} (block 1)\n"

    with node("--load-state", str(state)) as (w3, proc):
        assert w3.eth.get_block("latest") == head
        assert w3.eth.get_balance(WHALE) == balance and w3.eth.get_balance(SINK) == 7
        assert w3.eth.get_transaction(tx_hash)["from"] == WHALE
        # still impersonated after the restart: anvil's eth_accounts lists it
        assert WHALE in w3.eth.accounts
        again = w3.eth.send_transaction({"from": WHALE, "to": SINK, "value": 1})
        assert w3.eth.wait_for_transaction_receipt(again)["status"] == 1
        err = _stop(proc)
    assert err == f"testbed node: loaded {state} (block 1)\ntestbed node: stopped\n"


def test_a_bad_state_file_stops_the_node_before_it_listens_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"not a state file")
    assert main(["node", "--port", "0", "--load-state", str(bad)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err == f"testbed node: {bad}: not an agentbed chain state file\n"
    assert captured.out == ""
    missing_dir = tmp_path / "nowhere" / "chain.state"
    assert main(["node", "--port", "0", "--dump-state", str(missing_dir)]) == EXIT_USAGE
    assert (
        capsys.readouterr().err == f"testbed node: --dump-state: no directory for {missing_dir}\n"
    )
