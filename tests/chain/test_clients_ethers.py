"""ethers.js v6 against a real ``testbed node`` process: deploy, transact, filters, subscriptions,
a decoded revert, impersonation and a Flashbots bundle (tests/clients/ethers_client.mjs).

Skipped only when ``node`` is not installed; ethers itself comes from the project's
devDependencies (``npm install``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "clients" / "ethers_client.mjs"
NODE = shutil.which("node")
NODE_COMMAND = "import sys; from agentbed.cli import main; sys.exit(main(sys.argv[1:]))"

pytestmark = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not installed")


@pytest.fixture
def node_url() -> Iterator[str]:
    """A ``testbed node`` process on a free port (seed 0, automine), stopped afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-c", NODE_COMMAND, "node", "--port", "0", "--accounts", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("testbed node: listening on http://127.0.0.1:"), first
        yield first.split()[4]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_ethers_client_uses_the_node_like_a_dapp_and_a_searcher(
    node_url: str, contracts: Any, tmp_path: Path
) -> None:
    if not (ROOT / "node_modules" / "ethers" / "package.json").exists():
        pytest.fail("ethers is not installed: run `npm install` (it is a devDependency)")
    art = contracts.get("MockERC20")
    artifact = tmp_path / "MockERC20.json"
    artifact.write_text(
        json.dumps({"abi": list(art.abi), "bytecode": "0x" + art.creation_bytecode.hex()})
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(SCRIPT), node_url, str(artifact)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    holder = out["filterTransfers"][0][1]
    assert out["chainId"] == 1337
    assert out["mintStatus"] == 1
    assert out["filterTransfers"] == [["Transfer", holder, "500"]]
    assert (out["balance"], out["queried"]) == ("500", 1)
    # ethers found the raw revert data inside Hardhat's error object and decoded it itself.
    assert out["revert"]["code"] == "CALL_EXCEPTION"
    assert out["revert"]["name"] == "ERC20InsufficientBalance"
    assert out["revert"]["args"][1:] == ["0", "1"]
    assert "reverted with custom error 'ERC20InsufficientBalance(" in out["revertMessage"]
    assert out["revertData"].startswith("0xe450d38c")  # the error's selector, found by ethers
    assert out["subscribedTransfer"] == [holder, "7"]
    assert out["pendingMatches"] is True
    assert out["callBundle"]["gasUsed"] == 21_000
    assert out["callBundle"]["ethSentToCoinbase"] == str(10**15)
    assert out["sendBundle"]["bundleHash"].startswith("0x")
    landed = out["bundleLanded"]
    assert (landed["status"], landed["block"]) == (1, landed["target"])
    assert out["impersonated"]["status"] == 1
    assert out["impersonated"]["from"].lower() == "0x00000000000000000000000000000000000b0b00"
