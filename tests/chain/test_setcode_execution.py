"""EIP-7702 set-code txs mined on a Chain: delegation, skipped tuples, gas, JSON-RPC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentbed.chain.node import Chain
from agentbed.chain.signing import sign_authorization

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chain"
DEAD = "0x000000000000000000000000000000000000dEaD"
GWEI = 10**9


@pytest.fixture(scope="module")
def probe_artifacts() -> Any:
    from agentbed.chain.compiler import compile_files

    return compile_files([FIXTURES / "Probe.sol"])


@pytest.fixture
def chain(probe_artifacts: Any) -> Chain:
    chain = Chain(seed=7)
    chain.use_artifacts(probe_artifacts)
    return chain


def poke_data(probe: Any) -> bytes:
    return bytes.fromhex(probe.functions.poke()._encode_transaction_data()[2:])


def test_delegated_eoa_runs_the_delegate_code(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[1]
    auth = sign_authorization(chain, eoa, probe.address)
    tx_hash = chain.transact(
        sponsor, to=eoa.address, data=poke_data(probe), authorizationList=[auth]
    )
    receipt = chain.receipt(tx_hash)
    assert receipt.status == 1
    assert chain.code(eoa.address) == b"\xef\x01\x00" + bytes.fromhex(probe.address[2:])
    assert chain.nonce(eoa.address) == 1  # the authority's nonce was bumped
    # Probe's counter lives in the EOA's storage, and the EOA emitted Poked.
    assert chain.storage_at(eoa.address, 0) == 1
    assert chain.storage_at(probe.address, 0) == 0
    [log] = receipt.logs
    assert log.address == eoa.address
    assert log.event is not None and log.event.args == {"caller": sponsor.address, "count": 1}
    # The delegation stays: a plain call later runs the same code.
    chain.transact(sponsor, to=eoa.address, data=poke_data(probe))
    assert chain.storage_at(eoa.address, 0) == 2


def test_authority_can_send_its_own_set_code_tx(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    eoa = chain.accounts[2]
    auth = sign_authorization(chain, eoa, probe.address, sends_tx=True)
    assert auth["nonce"] == chain.nonce(eoa.address) + 1
    tx_hash = chain.transact(eoa, to=eoa.address, data=poke_data(probe), authorizationList=[auth])
    assert chain.receipt(tx_hash).status == 1
    assert chain.nonce(eoa.address) == 2  # once as sender, once as authority
    assert chain.storage_at(eoa.address, 0) == 1


@pytest.mark.parametrize(
    ("change", "applies"),
    [
        ({}, True),
        ({"chain_id": 0}, True),  # valid on every chain
        ({"chain_id": 1}, False),  # another chain
        ({"nonce": 1}, False),  # not the authority's nonce
    ],
    ids=["valid", "any-chain", "wrong-chain-id", "wrong-nonce"],
)
def test_invalid_authorization_is_skipped(
    chain: Chain, change: dict[str, int], applies: bool
) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[3]
    auth = sign_authorization(chain, eoa, probe.address, **change)
    tx_hash = chain.transact(
        sponsor, to=eoa.address, data=poke_data(probe), authorizationList=[auth], gas=200_000
    )
    # A skipped tuple does not fail the tx: the call then reaches an account without code.
    assert chain.receipt(tx_hash).status == 1
    assert chain.code(eoa.address) == (
        b"\xef\x01\x00" + bytes.fromhex(probe.address[2:]) if applies else b""
    )
    assert chain.nonce(eoa.address) == (1 if applies else 0)
    assert chain.storage_at(eoa.address, 0) == (1 if applies else 0)


def test_delegation_to_the_zero_address_clears_the_code(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[4]
    chain.transact(
        sponsor, to=DEAD, authorizationList=[sign_authorization(chain, eoa, probe.address)]
    )
    assert chain.code(eoa.address) != b""
    clear = sign_authorization(chain, eoa, "0x" + "00" * 20)
    chain.transact(sponsor, to=DEAD, authorizationList=[clear])
    assert chain.code(eoa.address) == b""
    assert chain.nonce(eoa.address) == 2


def test_each_authorization_costs_intrinsic_gas(chain: Chain) -> None:
    sponsor = chain.accounts[0]
    fresh = Chain(seed=99, accounts=1).accounts[0]  # never funded: not in the state trie
    auth = sign_authorization(chain, fresh, DEAD, nonce=0)
    tx_hash = chain.transact(sponsor, to=DEAD, authorizationList=[auth])
    # 21,000 + 25,000 per tuple; an authority that did not exist gets no refund (EIP-7702).
    assert chain.receipt(tx_hash).gas_used == 46_000
    existing = chain.accounts[5]
    auth = sign_authorization(chain, existing, DEAD)
    tx_hash = chain.transact(sponsor, to=DEAD, authorizationList=[auth])
    # An existing authority refunds 25,000 - 12,500, capped at a fifth of the gas used.
    assert chain.receipt(tx_hash).gas_used == 46_000 - 46_000 // 5


def test_web3_sees_the_authorization_list(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[6]
    auth = sign_authorization(chain, eoa, probe.address)
    raw = chain.sign(
        sponsor, {"to": eoa.address, "data": poke_data(probe), "authorizationList": [auth]}
    )
    w3 = chain.w3
    tx_hash = w3.eth.send_raw_transaction(raw)
    tx = w3.eth.get_transaction(tx_hash)
    assert tx["type"] == 4
    [entry] = tx["authorizationList"]
    assert (entry["address"], entry["nonce"], entry["chainId"]) == (
        probe.address,
        0,
        chain.chain_id,
    )
    assert int.from_bytes(entry["r"], "big") == auth["r"]
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert (receipt["type"], receipt["status"]) == (4, 1)
    assert w3.eth.get_code(eoa.address)[:3] == b"\xef\x01\x00"


def test_eth_send_transaction_with_authorization_list(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[7]
    auth = sign_authorization(chain, eoa, probe.address)
    w3 = chain.w3
    tx_hash = w3.eth.send_transaction(
        {
            "from": sponsor.address,
            "to": eoa.address,
            "data": "0x" + poke_data(probe).hex(),
            "authorizationList": [auth],
        }
    )
    assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
    assert chain.storage_at(eoa.address, 0) == 1


def test_pool_drops_the_authoritys_tx_its_delegation_made_stale(chain: Chain) -> None:
    chain.automine = False
    sponsor, eoa = chain.accounts[0], chain.accounts[8]
    auth = sign_authorization(chain, eoa, DEAD)
    chain.submit(chain.sign(sponsor, {"to": DEAD, "gas": 100_000, "authorizationList": [auth]}))
    # The authority's own tx at the same nonce tips less: the set-code tx runs first and
    # bumps the authority's nonce, so this one can no longer be included.
    cheap = {"maxPriorityFeePerGas": 1, "maxFeePerGas": 10 * GWEI, "gas": 21_000}
    stale = chain.submit(chain.sign(eoa, {"to": DEAD, "value": 1, "nonce": 0, **cheap}))
    chain.mine()
    assert chain.nonce(eoa.address) == 1
    fate = chain.fate(stale)
    assert fate is not None and (fate.status.value, fate.reason) == ("evicted", "nonce too low")


def _rpc_auth(auth: dict[str, Any]) -> dict[str, Any]:
    """A signed authorization in the JSON-RPC shape (hex quantities)."""
    return {key: hex(auth[key]) for key in ("chainId", "nonce", "yParity", "r", "s")} | {
        "address": auth["address"]
    }


def test_eth_call_and_estimate_with_an_authorization_list(chain: Chain) -> None:
    probe = chain.deploy("Probe")
    sponsor, eoa = chain.accounts[0], chain.accounts[8]
    auth = _rpc_auth(sign_authorization(chain, eoa, probe.address))
    context = probe.functions.context()._encode_transaction_data()
    call = {"from": sponsor.address, "to": eoa.address, "data": context}
    provider = chain.provider
    # An EOA has no code: the plain call returns nothing; with the delegation, Probe's code runs.
    assert provider.make_request("eth_call", [call, "latest"])["result"] == "0x"
    delegated = provider.make_request("eth_call", [call | {"authorizationList": [auth]}, "latest"])
    timestamp, number = (int(delegated["result"][2 + 64 * i : 66 + 64 * i], 16) for i in (0, 1))
    assert (timestamp, number) == (chain.block().timestamp, chain.block_number)
    plain = int(provider.make_request("eth_estimateGas", [call])["result"], 16)
    with_auth = provider.make_request("eth_estimateGas", [call | {"authorizationList": [auth]}])
    assert (
        int(with_auth["result"], 16) >= plain + 12_500
    )  # the tuple's intrinsic cost, net of refund
    # both were reads: the EOA still has no code and its nonce did not move
    assert chain.code(eoa.address) == b"" and chain.nonce(eoa.address) == 0


def test_malformed_authorization_lists_are_invalid_params(chain: Chain) -> None:
    call = {"to": chain.accounts[1].address, "data": "0x"}
    good = _rpc_auth(sign_authorization(chain, chain.accounts[1], DEAD))
    for bad in ("0x1", [1], [good | {"yParity": "0x100"}], [good | {"nonce": hex(2**64)}], [{}]):
        reply = chain.provider.make_request("eth_call", [call | {"authorizationList": bad}])
        assert reply["error"]["code"] == -32602, (bad, reply)
        assert "authorizationList" in reply["error"]["message"]


def test_eth_send_transaction_checks_the_authorization_list_as_eth_call_does(chain: Chain) -> None:
    tx = {"from": chain.accounts[0].address, "to": chain.accounts[1].address}
    good = _rpc_auth(sign_authorization(chain, chain.accounts[1], DEAD))
    for bad in ("0x1", [{}], [good | {"address": "0x12"}], [good | {"yParity": "0x100"}]):
        reply = chain.provider.make_request(
            "eth_sendTransaction", [tx | {"authorizationList": bad}]
        )
        assert reply["error"]["code"] == -32602, (bad, reply)
        assert "authorizationList" in reply["error"]["message"]
    assert chain.block_number == 0  # nothing was sent
