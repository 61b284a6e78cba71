"""Saving and restoring a whole chain: what comes back, and what a bad file does (nothing)."""

from __future__ import annotations

import hashlib
import json
import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest

from agentbed.chain import state_io
from agentbed.chain.node import Chain
from agentbed.chain.provider import TestbedProvider
from agentbed.chain.state_io import (
    MAGIC,
    StateFileError,
    dump_state,
    load_state,
    load_state_bytes,
    save_state,
)
from agentbed.chain.types import TxStatus

WHALE = "0x000000000000000000000000000000000000bEEF"
SINK = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def saved() -> tuple[Chain, dict[str, Any]]:
    """A chain with history, cheat writes, a mined impersonated tx and a waiting pool."""
    chain = Chain(seed=5, accounts=3)
    token = chain.deploy("MockERC20", "Agent", "AGT")
    chain.transact(chain.accounts[0], token.functions.mint(chain.accounts[1].address, 100))
    chain.set_balance(WHALE, 10**18)
    chain.impersonate_account(WHALE)
    impersonated = chain.transact(WHALE, to=SINK, value=3)
    chain.set_automine(False)
    pending = chain.transact(chain.accounts[2], to=SINK, value=1)
    queued = chain.transact(chain.accounts[2], to=SINK, value=1, nonce=5)
    chain.set_storage_at(WHALE, 1, 5)
    chain.increase_time(30)
    return chain, {
        "token": token.address,
        "impersonated": impersonated,
        "pending": pending,
        "queued": queued,
    }


def _signature(chain: Chain, token: str) -> tuple[Any, ...]:
    """What a restore must reproduce, read through the public API."""
    return (
        chain.block_number,
        chain.head,
        tuple(chain.receipts(n) for n in range(chain.block_number + 1)),
        chain.logs(),
        chain.balance(WHALE),
        chain.storage_at(WHALE, 1),
        chain.code(token),
        chain.pool_status(),
        chain.now_ms,
        chain.next_block_timestamp(),
        chain.automine,
        chain.impersonated_accounts,
        tuple(a.address for a in chain.accounts),
    )


def test_a_restored_chain_answers_as_the_saved_one_and_mines_the_same_next_block(
    saved: tuple[Chain, dict[str, Any]], tmp_path: Path
) -> None:
    chain, known = saved
    path = save_state(chain, tmp_path / "chain.state")
    restored = load_state(path)
    assert _signature(restored, known["token"]) == _signature(chain, known["token"])
    tx = restored.transaction(known["impersonated"])
    assert tx.sender == WHALE  # a mined impersonated tx keeps its sender
    assert restored.fate(known["pending"]).status is TxStatus.PENDING  # type: ignore[union-attr]
    assert restored.fate(known["queued"]).status is TxStatus.QUEUED  # type: ignore[union-attr]
    snapshot = chain.snapshot()
    try:
        assert restored.mine()[0] == chain.mine()[0]  # same txs, time and hash
        # local keys and impersonation keep working
        restored.set_automine(True)
        assert restored.receipt(restored.transact(WHALE, to=SINK, value=1)).status == 1
        assert restored.receipt(restored.transact(restored.accounts[1], to=SINK)).status == 1
    finally:
        chain.revert(snapshot)


def test_the_policy_is_taken_again_and_snapshots_start_afresh(
    saved: tuple[Chain, dict[str, Any]],
) -> None:
    from agentbed.chain.ordering import FifoPolicy

    chain, _ = saved
    restored = load_state_bytes(dump_state(chain), policy=FifoPolicy())
    assert restored.policy.name == "fifo"
    assert restored.snapshot() == 1


def test_testbed_dump_state_answers_the_state_file_bytes(
    saved: tuple[Chain, dict[str, Any]],
) -> None:
    chain, known = saved
    answer = TestbedProvider(chain).handle("testbed_dumpState", [])
    restored = load_state_bytes(bytes.fromhex(answer[2:]))
    assert _signature(restored, known["token"]) == _signature(chain, known["token"])


def _with_body(data: bytes, body: bytes, **header_changes: Any) -> bytes:
    """``data`` with another body (header length and checksum made to match) and header."""
    header = json.loads(data[len(MAGIC) :].split(b"\n", 1)[0])
    header.update(length=len(body), sha256=hashlib.sha256(body).hexdigest(), **header_changes)
    return MAGIC + json.dumps(header).encode() + b"\n" + body


class _RunsCode:
    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("pwned",))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: b"hello" + d, "not an agentbed chain state file"),
        (lambda d: d[:-10], "corrupt state file (checksum mismatch)"),
        (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "corrupt state file (checksum mismatch)"),
        (lambda d: MAGIC + b"{not json\n", "corrupt state file (unreadable header)"),
        (
            lambda d: _with_body(d, d.split(b"\n", 2)[2], version=99),
            "state file format version 99; this agentbed reads 1",
        ),
        (lambda d: _with_body(d, b"not zlib"), "corrupt state file (bad compression)"),
        (
            lambda d: _with_body(d, zlib.compress(pickle.dumps(_RunsCode()))),
            "corrupt state file (UnpicklingError: refusing to load builtins.print)",
        ),
        (
            lambda d: _with_body(d, zlib.compress(pickle.dumps({"seed": 1}))),
            "corrupt state file (unexpected contents)",
        ),
    ],
)
def test_revert_when_the_file_is_bad_with_one_line_and_nothing_changed(
    saved: tuple[Chain, dict[str, Any]],
    tmp_path: Path,
    damage: Any,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain, _ = saved
    path = tmp_path / "bad.state"
    path.write_bytes(damage(dump_state(chain)))
    with pytest.raises(StateFileError) as info:
        load_state(path)
    assert str(info.value) == f"{path}: {message}"
    assert "pwned" not in capsys.readouterr().out


def test_a_missing_file_is_a_state_file_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="cannot read state file"):
        load_state(tmp_path / "nope.state")


def test_saving_replaces_the_file_whole_or_leaves_it_alone(
    saved: tuple[Chain, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, _ = saved
    path = tmp_path / "chain.state"
    path.write_bytes(b"previous")

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state_io.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        save_state(chain, path)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.state"]  # no temp file left
    monkeypatch.undo()
    save_state(chain, path)
    assert path.read_bytes() == dump_state(chain)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.state"]


class _CallsAFunctionOfOurs:
    def __reduce__(self) -> tuple[Any, ...]:
        return (save_state, (None, "/tmp/agentbed-should-not-exist"))


def test_a_pickle_may_name_only_record_classes_never_our_functions(
    saved: tuple[Chain, dict[str, Any]], tmp_path: Path
) -> None:
    chain, _ = saved
    path = tmp_path / "sly.state"
    body = zlib.compress(pickle.dumps(_CallsAFunctionOfOurs()))
    path.write_bytes(_with_body(dump_state(chain), body))
    with pytest.raises(StateFileError) as info:
        load_state(path)
    assert "refusing to load agentbed.chain.state_io.save_state" in str(info.value)


def test_a_chain_with_pool_listeners_saves_without_them(tmp_path: Path) -> None:
    """Pending-tx filters and subscriptions hook the pool; a state file holds state only."""
    chain = Chain(seed=5)
    heard: list[bytes] = []
    chain.mempool.entry_listeners.append(lambda ptx: heard.append(ptx.hash))
    chain.automine = False
    tx_hash = chain.transact(chain.accounts[0], to=chain.accounts[1].address, value=1)
    assert heard == [tx_hash]
    path = tmp_path / "chain.state"
    save_state(chain, path)
    assert len(chain.mempool.entry_listeners) == 1  # the live chain keeps its listener
    restored = load_state(path)
    assert restored.mempool.entry_listeners == []
    assert restored.mempool.get(tx_hash) is not None
