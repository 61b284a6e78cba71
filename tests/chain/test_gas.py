"""Gas reporting: per-operation gas from sealed blocks, and the pytest ``--gas-report`` option."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbed.chain.compiler import compile_files
from agentbed.chain.errors import ExecutionReverted
from agentbed.chain.gas import DEPLOYMENT, GasReport, render
from agentbed.chain.node import Chain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"


@pytest.fixture(scope="module")
def probe_artifacts():
    return compile_files([FIXTURES / "Probe.sol"])


def test_report_attributes_deploys_calls_and_reverts(probe_artifacts):
    chain = Chain(accounts=2)
    report = GasReport(chain.abi)
    chain.add_block_listener(report)
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    first = chain.transact(chain.accounts[0], probe.functions.poke())
    second = chain.transact(chain.accounts[1], probe.functions.poke())
    data = bytes.fromhex(probe.functions.reject(1)._encode_transaction_data()[2:])
    chain.submit(chain.sign(chain.accounts[0], {"to": probe.address, "data": data, "gas": 50_000}))
    chain.transact(chain.accounts[0], to=chain.accounts[1].address, value=1)
    rows = {(r.contract, r.operation): r for r in report.rows()}
    assert set(rows) == {
        ("Probe", DEPLOYMENT),
        ("Probe", "poke"),
        ("Probe", "reject"),
        ("(plain transfer)", "transfer"),
    }
    poke = rows[("Probe", "poke")]
    gas = sorted([chain.receipt(first).gas_used, chain.receipt(second).gas_used])
    assert (poke.calls, poke.min, poke.max, poke.reverted) == (2, gas[0], gas[1], 0)
    assert rows[("Probe", "reject")].reverted == 1
    table = render(report.rows())
    assert table.splitlines()[0].split() == [
        "contract",
        "operation",
        "calls",
        "min",
        "mean",
        "max",
        "reverted",
    ]
    with pytest.raises(ExecutionReverted):
        chain.call(probe.address, data)


def test_snapshot_revert_keeps_what_was_recorded(probe_artifacts):
    chain = Chain(accounts=1)
    report = GasReport(chain.abi)
    chain.add_block_listener(report)
    sid = chain.snapshot()
    chain.transact(chain.accounts[0], to=chain.accounts[0].address, value=1)
    chain.revert(sid)
    assert len(report) == 1  # a gas report measures what ran, including reverted-away work


def test_testbed_gas_command_prints_the_table(capsys):
    from agentbed.cli import main

    assert (
        main(
            ["gas", str(Path(__file__).resolve().parents[1] / "fixtures" / "gas" / "gas_suite.py")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "gas report (agent-testbed)" in out
    assert any(line.split()[:3] == ["MockERC20", "mint", "1"] for line in out.splitlines())


def test_testbed_gas_rejects_a_missing_path(capsys):
    from agentbed.cli import main

    assert main(["gas", "no/such/dir"]) == 2
    assert "no such test path: no/such/dir" in capsys.readouterr().err


def test_calls_are_credited_to_the_contract_at_the_time_despite_address_reuse(probe_artifacts):
    from agentbed.chain.compiler import compile_project

    chain = Chain(accounts=1)
    report = GasReport(chain.abi)
    chain.add_block_listener(report)
    sid = chain.snapshot()
    chain.use_artifacts(probe_artifacts)
    probe = chain.deploy("Probe")
    chain.transact(chain.accounts[0], probe.functions.poke())
    chain.revert(sid)
    chain.use_artifacts(compile_project())
    token = chain.deploy("MockERC20", "Agent", "AGT")
    assert token.address == probe.address  # same deployer nonce after the revert
    chain.transact(chain.accounts[0], token.functions.mint(chain.accounts[0].address, 1))
    ops = {(r.contract, r.operation) for r in report.rows()}
    assert ops == {
        ("Probe", DEPLOYMENT),
        ("Probe", "poke"),
        ("MockERC20", DEPLOYMENT),
        ("MockERC20", "mint"),
    }
