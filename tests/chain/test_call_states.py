"""Calls reuse one state per block: they still see each new head, old heads after a revert,
and nothing a previous call did (storage writes, warm accounts)."""

from __future__ import annotations

import pytest

from agentbed.chain.node import Chain

# Runtime code: SELFBALANCE, returned as one word.
BALANCE_RUNTIME = bytes.fromhex("47" + "600052" + "60206000f3")
# Runtime code: slot 0 += 1, return the new value (a call that writes storage).
COUNTER_RUNTIME = bytes.fromhex("600054" + "600101" + "80" + "600055" + "600052" + "60206000f3")


def _init_code(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime`` (CODECOPY from offset 12, RETURN)."""
    n = len(runtime)
    return bytes.fromhex(f"60{n:02x}600c60003960{n:02x}6000f3") + runtime


def _deploy(chain: Chain, runtime: bytes) -> str:
    tx_hash = chain.transact(chain.accounts[0], to=None, data=_init_code(runtime))
    address = chain.receipt(tx_hash).contract_address
    assert address is not None
    assert chain.code(address) == runtime
    return address


def _word(output: bytes) -> int:
    return int.from_bytes(output, "big")


@pytest.fixture
def chain() -> Chain:
    return Chain(accounts=2)


def test_call_after_a_new_block_sees_the_new_state(chain: Chain) -> None:
    vault = _deploy(chain, BALANCE_RUNTIME)
    assert _word(chain.call(vault)) == 0
    chain.transact(chain.accounts[1], to=vault, value=5)
    assert _word(chain.call(vault)) == 5
    chain.transact(chain.accounts[1], to=vault, value=7)
    assert _word(chain.call(vault)) == 12
    # calls at past blocks still see those blocks' states
    head = chain.block_number
    assert _word(chain.call(vault, block_number=head - 1)) == 5
    assert _word(chain.call(vault, block_number=head)) == 12


def test_call_after_a_revert_sees_the_old_state(chain: Chain) -> None:
    vault = _deploy(chain, BALANCE_RUNTIME)
    counter = _deploy(chain, COUNTER_RUNTIME)
    snapshot = chain.snapshot()
    chain.transact(chain.accounts[1], to=vault, value=5)
    chain.transact(chain.accounts[1], to=counter)
    assert (_word(chain.call(vault)), _word(chain.call(counter))) == (5, 2)
    chain.revert(snapshot)
    assert (_word(chain.call(vault)), _word(chain.call(counter))) == (0, 1)
    # a different block at the reverted height: its own state, not the discarded one's
    chain.transact(chain.accounts[1], to=vault, value=3)
    assert (_word(chain.call(vault)), _word(chain.call(counter))) == (3, 1)


def test_calls_leave_no_trace_on_the_shared_state(chain: Chain) -> None:
    counter = _deploy(chain, COUNTER_RUNTIME)
    results = [chain.backend.call(sender=chain.accounts[1].address, to=counter, data=b"")]
    results += [chain.backend.call(sender=chain.accounts[1].address, to=counter, data=b"")]
    # the same output (the write was undone) and the same gas (slot and account cold again)
    assert [_word(r.output) for r in results] == [1, 1]
    assert results[0].gas_used == results[1].gas_used
    assert chain.storage_at(counter, 0) == 0
