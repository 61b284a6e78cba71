"""The closure of a run's books: the ledger on hand-made logs, and the identities, exact in wei,
on a shortened run of every bundled scenario (market and economy alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_canonical_address, to_checksum_address
from marketkit import balance_at

from agentbed.agents.closure import (
    TRANSFER_TOPIC,
    ZERO,
    EthLedger,
    balance_ledger,
    token_ledger,
    transfers_of,
)
from agentbed.agents.sim import Simulation
from agentbed.agents.study import World
from agentbed.chain.types import Log
from agentbed.experiments.build import build
from agentbed.experiments.studies import resolve_study
from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
TOKEN = to_checksum_address("0x" + "11" * 20)
OTHER = to_checksum_address("0x" + "22" * 20)
ALICE = to_checksum_address("0x" + "aa" * 20)
BOB = to_checksum_address("0x" + "bb" * 20)
VALUED_TOLERANCE = 1e-6
"""Numeraire units of float rounding allowed in the valued residual (the wei parts are exact)."""


def transfer_log(token: str, source: str, target: str, amount: int, block: int) -> Log:
    """A ``Transfer(source, target, amount)`` log of ``token`` in ``block``."""
    topics = tuple(b"\x00" * 12 + to_canonical_address(a) for a in (source, target))
    return Log(
        address=token,
        topics=(TRANSFER_TOPIC, *topics),
        data=amount.to_bytes(32, "big"),
        log_index=0,
        tx_index=0,
        tx_hash=b"\x00" * 32,
        block_number=block,
        block_hash=b"\x00" * 32,
    )


def test_ledger_replays_transfers_and_counts_mints_in_the_window() -> None:
    logs = [
        transfer_log(TOKEN, ZERO, ALICE, 100, 1),  # funding, before the window
        transfer_log(TOKEN, ALICE, BOB, 30, 5),
        transfer_log(TOKEN, ZERO, BOB, 7, 6),  # a mint inside the window: a source term
        transfer_log(TOKEN, BOB, ZERO, 2, 6),  # a burn inside it
        transfer_log(OTHER, ZERO, ALICE, 999, 5),  # another token
        transfer_log(TOKEN, ALICE, BOB, 50, 9),  # after the window
    ]
    transfers = transfers_of(logs)
    assert transfers[1] == (5, TOKEN, ALICE, BOB, 30)
    book = token_ledger(transfers, TOKEN, "T", first=5, last=8, supply=(100, 105))
    assert book.start == {ALICE: 100}
    assert book.end == {ALICE: 70, BOB: 35}
    assert (book.minted, book.burned) == (7, 2)
    assert book.change(ALICE) == -30 and book.change(BOB) == 35
    assert book.total_change == 5
    assert book.residual == 0 and book.supply_residual == 0


def test_ledger_reports_a_residual_when_supply_moves_without_a_log() -> None:
    logs = [transfer_log(TOKEN, ZERO, ALICE, 100, 1), transfer_log(TOKEN, ALICE, BOB, 30, 5)]
    book = token_ledger(transfers_of(logs), TOKEN, "T", first=5, last=8, supply=(100, 101))
    assert book.residual == 0
    assert book.supply_residual == 1


def test_transfers_skip_other_events_and_erc721_transfers() -> None:
    log = transfer_log(TOKEN, ALICE, BOB, 1, 3)
    erc721 = Log(
        address=TOKEN,
        topics=(*log.topics, (5).to_bytes(32, "big")),
        data=b"",
        log_index=0,
        tx_index=0,
        tx_hash=log.tx_hash,
        block_number=3,
        block_hash=log.block_hash,
    )
    other = Log(TOKEN, (b"\x01" * 32,), b"", 0, 0, log.tx_hash, 3, log.block_hash)
    assert transfers_of([log, erc721, other]) == [(3, TOKEN, ALICE, BOB, 1)]


def test_eth_ledger_closes_with_the_burned_base_fee() -> None:
    eth = EthLedger(start={ALICE: 1_000, BOB: 0}, end={ALICE: 900, BOB: 60}, burned=40)
    assert eth.total_change == -40 and eth.residual == 0
    assert EthLedger({ALICE: 10}, {ALICE: 9}, burned=0).residual == -1


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_closure_holds_exactly_on_every_bundled_scenario(path: Path) -> None:
    """Every scenario, cut to a few blocks: per token and for ETH the identities hold to the
    wei (tolerance 0 wei), the market's valued residual to rounding, and each holder's token
    balances in the ledger equal ``balanceOf`` read from the chain at both ends."""
    _check_closure(load_with_overrides(path, [("run.blocks", 4)]))


VENUE_VARIANTS = [("mev", "uniswap_v2")]
"""Bundled variants that put a scenario's pools on another venue."""


@pytest.mark.parametrize(
    ("stem", "variant"), VENUE_VARIANTS, ids=["-".join(v) for v in VENUE_VARIANTS]
)
def test_closure_holds_exactly_on_the_venue_variants(stem: str, variant: str) -> None:
    """The same identities on the flagship's Uniswap v2 variant (pairs and Router02)."""
    path = ROOT / "scenarios" / f"{stem}.toml"
    overrides = [*load_with_overrides(path, []).variants[variant], ("run.blocks", 4)]
    _check_closure(load_with_overrides(path, overrides))


def _check_closure(scenario: Any) -> None:
    sim, world = build(scenario)
    sim.run()
    study = resolve_study(scenario.study)
    report = study.summarize(
        sim, world, scenario, policy="priority", seed=scenario.run.seed, label="x", kinds={}
    )
    closure = report.summary["closure"]
    assert closure["blocks"] == [sim.metrics[0].number, sim.metrics[-1].number]
    assert closure["eth"]["residual_wei"] == 0
    assert closure["eth"]["burned_wei"] == sum(m.burned for m in sim.metrics) > 0
    for symbol, token in closure["tokens"].items():
        assert token["residual_wei"] == 0, symbol
        assert token["supply_residual_wei"] == 0, symbol
    assert closure["closes"]
    if "valued" in closure:
        assert abs(closure["valued"]["residual"]) < VALUED_TOLERANCE
        kinds = {row["kind"] for row in closure["holders"]}
        assert {"deployer / passive LP", "pool", "builder"} <= kinds
    _check_balances_against_the_chain(sim, world, closure)


def _check_balances_against_the_chain(sim: Simulation, world: World, closure: dict) -> None:
    """The ledger's balances, replayed from logs, equal ``balanceOf`` read from the chain's
    state for every holder and token at both ends."""
    chain = sim.chain
    tokens = getattr(world, "tokens", None)
    if tokens is None and not hasattr(world, "currency"):
        tracked = {}  # no ERC-20 (the sim-economy's credit closes by its own identity)
    elif tokens is None:
        tracked = {str(world.currency.address): "AGC"}  # type: ignore[attr-defined]
    else:
        tracked = {a: s for s, a in tokens.items()}
        tracked.update((p.address, p.address) for p in world.pools)  # type: ignore[attr-defined]
    numbers = [m.number for m in sim.metrics]
    ledger = balance_ledger(chain, tracked, numbers, [a.address for a in sim.agents])
    assert len(ledger.holders) <= closure["addresses"]
    for book in ledger.tokens:
        for holder in ledger.holders:
            assert book.start.get(holder, 0) == balance_at(
                chain, book.token, holder, numbers[0] - 1
            )
            assert book.end.get(holder, 0) == balance_at(chain, book.token, holder, numbers[-1])
