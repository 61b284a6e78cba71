"""Builders and proposers as agents of the simulation loop (``[block_production]``).

Short runs of the bundled scenarios/builders.toml and scenarios/reorgs.toml (a few blocks, a
few retail traders), each pinned with a fixed seed: what the auction, the routing and the
time-bandit did in those runs, not how often something happens over random seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentbed.agents.blockprod.loop import LoopProducer
from agentbed.agents.blockprod.loopconfig import (
    BanditConfig,
    BlockProductionConfig,
    BuilderConfig,
    CensorConfig,
)
from agentbed.agents.sim import Simulation
from agentbed.chain.node import Chain
from agentbed.chain.ordering import PolicySpec
from agentbed.experiments.build import build
from agentbed.experiments.parse import parse_scenario, read_scenario_toml
from agentbed.experiments.runner import run_scenario
from agentbed.experiments.schema import Scenario

ROOT = Path(__file__).resolve().parents[3]


def _scenario(name: str, blocks: int, edit: Mapping[str, Any] | None = None) -> Scenario:
    """A bundled scenario cut to ``blocks`` blocks and four retail traders, ``edit`` applied
    to its ``[block_production]`` table."""
    data = read_scenario_toml(ROOT / "scenarios" / f"{name}.toml")
    data["run"]["blocks"] = blocks
    data["agents"][0]["count"] = 4
    data.pop("variants", None)
    data["block_production"].update(edit or {})
    return parse_scenario(data, f"{name}.toml")


def _run(scenario: Scenario, seed: int | None = None) -> Simulation:
    sim, _ = build(scenario, seed=seed)
    sim.run()
    return sim


def _producer(sim: Simulation) -> LoopProducer:
    assert sim.production is not None
    return sim.production


def _winners(sim: Simulation) -> dict[bytes, str | None]:
    """Who won each measured block, by hash."""
    slots = _producer(sim).slots
    return {
        block.hash: slots[block.hash].winner
        for block in (sim.chain.block(m.number) for m in sim.metrics)
    }


def test_default_mode_keeps_the_single_passive_builder() -> None:
    data = read_scenario_toml(ROOT / "scenarios" / "small.toml")
    data["run"]["blocks"] = 3
    scenario = parse_scenario(data, "small.toml")
    sim = _run(scenario)
    assert scenario.block_production is None and sim.production is None
    coinbases = {sim.chain.block(m.number).coinbase for m in sim.metrics}
    assert coinbases == {sim.chain.coinbase}
    assert not sim.chain.reorgs


# Builders listed pure-first, both bidding their full value: ties go to the pure builder, so
# the integrated builder wins a slot only with value the pure one does not have.
FULL_BIDS = {
    "builders": [
        {"name": "pure", "bid": "full"},
        {"name": "vi", "bid": "full", "integrated_with": "sandwich_bundle0"},
    ]
}


def _values(sim: Simulation) -> list[dict[str, int]]:
    """Each slot's block value by builder."""
    return [{b.builder: b.value for b in r.bids} for r in _producer(sim).auction.results]


def test_integrated_builder_outbids_a_pure_builder_on_the_same_flow() -> None:
    sim = _run(_scenario("builders", 8, FULL_BIDS))
    values = _values(sim)
    # It has every bundle the pure builder has, and its searcher's besides.
    assert all(v["vi"] >= v["pure"] for v in values)
    ahead = [v["vi"] > v["pure"] for v in values]
    assert any(ahead)  # seed 11: its searcher's exclusive bundle is worth more in some slot
    won = [r.winner == "vi" for r in _producer(sim).auction.results]
    assert won == ahead
    off = {"builders": [dict(b, integrated_with="") for b in FULL_BIDS["builders"]]}
    pure = _run(_scenario("builders", 8, off))
    # Not integrated, it sees what the pure builder sees: the same value, so it never wins.
    assert all(v["vi"] == v["pure"] for v in _values(pure))
    assert not any(r.winner == "vi" for r in _producer(pure).auction.results)


def test_a_bundle_sent_to_one_builder_is_not_in_another_builders_block() -> None:
    routes = {"routes": {"sandwich_bundle1": ["b2"]}}
    sim = _run(_scenario("builders", 8, routes))
    own = {s.bundle for s in sim.sent.values() if s.agent == "sandwich_bundle1" and s.bundle}
    holders = {
        bid.builder
        for result in _producer(sim).auction.results
        for bid in result.bids
        if own & set(bid.bundles)
    }
    assert holders == {"b2"}  # seed 11: b2 includes some of them; nobody else has them
    # Where they landed on chain, b2 won the block.
    winners = _winners(sim)
    mined = [s.hash for s in sim.sent.values() if s.bundle in own]
    landed = {
        winners[block.hash]
        for block in (sim.chain.block(m.number) for m in sim.metrics)
        if set(block.tx_hashes) & set(mined)
    }
    assert landed <= {"b2"}


def test_bandit_reorgs_history_unless_every_block_is_final() -> None:
    free = _run(_scenario("reorgs", 10))
    final = _run(_scenario("reorgs", 10, {"finality_depth": 1}))
    assert len(free.chain.reorgs) > 0  # seed 31: the bandit finds a block worth re-mining
    assert final.chain.reorgs == ()
    # Every measured block of the run is on the canonical chain and was sealed by the game.
    for sim in (free, final):
        assert [m.number for m in sim.metrics] == list(
            range(sim.metrics[0].number, sim.chain.block_number + 1)
        )
        assert set(_winners(sim)) <= set(_producer(sim).slots)


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    scenario = _scenario("reorgs", 6)
    for name in ("a", "b"):
        run_scenario(scenario, tmp_path / name)
    files = ("blocks.csv", "agents.csv", "summary.json", "events.jsonl", "report.md")
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def _bare(config: BlockProductionConfig) -> tuple[Chain, LoopProducer]:
    chain = Chain(seed=5, accounts=3, automine=False)
    addresses = {"target": chain.accounts[1].address, "other": chain.accounts[2].address}
    producer = LoopProducer(chain, config, 5, addresses, {})
    producer.setup()
    return chain, producer


def _transfer(chain: Chain, index: int) -> bytes:
    fields = {"to": chain.accounts[0].address, "value": 1, "gas": 21_000}
    fields |= {"maxPriorityFeePerGas": 10**9, "maxFeePerGas": 2 * chain.base_fee + 10**9}
    return chain.submit(chain.sign(chain.accounts[index], fields))


BUILDER = (BuilderConfig("b", PolicySpec("bundles")),)


def test_censoring_proposer_leaves_its_target_out() -> None:
    config = BlockProductionConfig(BUILDER, censor=CensorConfig(1.0, "target"))
    chain, producer = _bare(config)
    target, other = _transfer(chain, 1), _transfer(chain, 2)
    (block,) = producer.produce()
    assert producer.role_for(block.number) == "censor"
    assert producer.slots[block.hash].proposer == "censor"
    assert other in block.tx_hashes and target not in block.tx_hashes
    assert chain.mempool.get(target) is not None  # still waiting for an honest proposer


def test_slot_roles_follow_the_shares() -> None:
    every = BlockProductionConfig(BUILDER, bandit=BanditConfig(1.0, 0))
    never = BlockProductionConfig(BUILDER, bandit=BanditConfig(0.0, 0))
    _, always = _bare(every)
    _, honest = _bare(never)
    assert {always.role_for(n) for n in range(1, 30)} == {"bandit"}
    assert {honest.role_for(n) for n in range(1, 30)} == {"honest"}
    # A bandit with nothing worth re-mining proposes honestly, through the auction.
    (block,) = always.produce()
    assert always.slots[block.hash].proposer == "bandit" and not always.chain.reorgs


def test_bandit_rewrites_only_the_games_blocks() -> None:
    chain, producer = _bare(BlockProductionConfig(BUILDER, bandit=BanditConfig(0.5, 0)))
    _transfer(chain, 1)
    (setup,) = chain.mine()  # history before the game: it paid its coinbase, but it is final
    assert producer.bandit is not None and producer.bandit.plan(chain).depth > 0
    for _ in range(8):
        _transfer(chain, 1)
        _transfer(chain, 2)
        producer.produce()
    assert chain.reorgs  # seed 5: the bandit's slots follow paying blocks of others
    for reorg in chain.reorgs:
        assert reorg.ancestor >= setup.number
        assert all(block.hash in producer.slots for block in reorg.orphaned)
        assert all(producer.slots[block.hash].reorg for block in reorg.adopted)
    assert chain.block(setup.number).hash == setup.hash
