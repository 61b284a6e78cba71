"""``testbed node``: argument errors, the missing-extra hint, the address line and Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import urllib.request

import pytest

from agentbed.chain.node import Chain
from agentbed.chain.server import NodeServer
from agentbed.cli import EXIT_USAGE, main
from agentbed.cli import node as node_cli
from agentbed.cli.common import EXIT_INTERRUPTED


def test_node_without_aiohttp_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # how a missing module looks to find_spec
    assert main(["node", "--port", "0"]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert (
        captured.err == 'testbed: error: testbed node needs aiohttp: pip install "agentbed[node]"\n'
    )
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "testbed node: --port must be in 0..65535, got 70000\n"),
        (["--policy", "nope"], "testbed node: unknown policy 'nope'; valid policies: fifo,"),
        (["--accounts", "-1"], "testbed node: accounts must be >= 0, got -1\n"),
    ],
)
def test_node_rejects_bad_arguments_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["node", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_ctrl_c_stops_the_server_and_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(server: NodeServer, out: object, accounts: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(node_cli, "_serve", interrupted)
    assert main(["node", "--port", "0"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "testbed node: stopped\n"


def test_serve_prints_the_address_answers_and_closes_when_cancelled() -> None:
    out = io.StringIO()
    chain = Chain(seed=2, accounts=2)
    server = NodeServer(chain, port=0)

    async def scenario() -> str:
        task = asyncio.create_task(
            node_cli._serve(server, out, [a.address for a in chain.accounts])
        )
        while "account 1" not in out.getvalue():
            await asyncio.sleep(0.01)
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_accounts"}'
        reply = await asyncio.to_thread(
            lambda: urllib.request.urlopen(
                urllib.request.Request(server.url, data=body, method="POST"), timeout=30
            ).read()
        )
        task.cancel()  # what asyncio.run does to the main task on Ctrl-C
        with pytest.raises(asyncio.CancelledError):
            await task
        return reply.decode()

    reply = json.loads(asyncio.run(scenario()))
    assert [a.lower() for a in reply["result"]] == [a.address.lower() for a in chain.accounts]
    lines = out.getvalue().splitlines()
    assert lines[0] == f"testbed node: listening on {server.url} and ws{server.url[4:]}"
    assert server.port != 0
    assert lines[1:] == [f"account {i}: {a.address}" for i, a in enumerate(chain.accounts)]
    with pytest.raises(OSError):  # the listening socket is closed
        urllib.request.urlopen(
            urllib.request.Request(server.url, data=b"{}", method="POST"), timeout=5
        )


def test_sigint_to_a_real_node_process_closes_it_with_exit_130() -> None:
    import signal
    import subprocess

    command = [sys.executable, "-c", "import sys; from agentbed.cli import main; sys.exit(main())"]
    proc = subprocess.Popen(
        [*command, "node", "--port", "0", "--accounts", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("testbed node: listening on http://127.0.0.1:"), first
        url = first.split()[4]
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}'
        request = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.loads(response.read())["result"] == "0x539"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_INTERRUPTED
    assert err == "testbed node: stopped\n"
