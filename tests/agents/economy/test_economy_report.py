"""The economy report (issue 7): its measures, its numbers against the economy's own, its files.

Three small escrow markets are run once per module, built directly as in
``test_escrow_agents``: a calm one where honest sellers deliver and adversarial ones lose
disputes, one where nobody disputes so defaults time out and bonds are slashed, and the calm
one again with a spammer filling blocks for a while.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbed.agents.agent import Agent, derive_seed
from agentbed.agents.economy.metrics import (
    base_fee,
    bribes,
    buyer_choice,
    congestion,
    credentials,
    deal_counts,
    gini_series,
    holdings_gini,
    kind_totals,
    net_results,
    outcome_rates,
    reputation_auc,
    reputation_auc_series,
    seller_behaviour,
    slashing,
    welfare,
)
from agentbed.agents.economy.observations import EconomyRun
from agentbed.agents.economy.report import (
    PLOTS,
    SEED_PLOTS,
    EconomyReport,
    attested_records,
    auc,
    economy_summary_line,
    gini,
    summarize_economy,
    write_economy_comparison,
    write_economy_run,
)
from agentbed.agents.economy.strategies.escrow import (
    Arbitrator,
    Behaviour,
    ServiceBuyer,
    ServiceSeller,
)
from agentbed.agents.economy.world import TOKEN, Economy, TimeoutPolicy
from agentbed.agents.sim import Simulation
from agentbed.agents.spam import Spammer
from agentbed.chain.node import Chain

BLOCKS = 24
SELLERS: tuple[Behaviour, ...] = ("honest", "honest", "adversarial", "adversarial")
CLOSED = frozenset({"Released", "Ruled", "TimedOut", "ArbitratorTimedOut"})
"""Terminal states of accepted agreements."""
FILES = ("blocks.csv", "agents.csv", "deals.csv", "summary.json", "report.md", *PLOTS)


# ---------------------------------------------------------------------------------------------
# gini and auc
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 1], 0.0),
        ([0, 0, 1], 2 / 3),
        ([0, 0, 0, 5], 3 / 4),
        ([1, 3], 0.25),
        ([], 0.0),
        ([0, 0], 0.0),
        ([7], 0.0),
    ],
)
def test_gini_known_values(values: list[int], expected: float) -> None:
    assert gini(values) == pytest.approx(expected)


def test_gini_is_exactly_zero_for_equal_wei_holdings() -> None:
    assert gini([1_000 * TOKEN + 1] * 7) == 0.0


def test_revert_when_gini_gets_a_negative_value() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


@given(st.lists(st.integers(min_value=0, max_value=10**24), min_size=1, max_size=30))
def test_fuzz_gini_is_in_range_and_scale_free(values: list[int]) -> None:
    g = gini(values)
    assert 0.0 <= g <= (len(values) - 1) / len(values) + 1e-12
    assert gini([3 * v for v in values]) == pytest.approx(g, abs=1e-9)


@pytest.mark.parametrize(
    ("positives", "negatives", "expected"),
    [
        ([0.9, 0.8], [0.2, 0.1, 0.3], 1.0),
        ([0.2, 0.1], [0.9, 0.8], 0.0),
        ([0.5, 0.5], [0.5], 0.5),
        ([], [0.1], 0.5),
        ([0.1], [], 0.5),
        ([0.8, 0.4], [0.5, 0.4], 0.625),
    ],
)
def test_auc_known_values(positives: list[float], negatives: list[float], expected: float) -> None:
    assert auc(positives, negatives) == pytest.approx(expected)


@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=12),
    st.lists(st.integers(0, 5), min_size=1, max_size=12),
)
def test_fuzz_auc_is_symmetric(positives: list[int], negatives: list[int]) -> None:
    pairs = [(p > n) + 0.5 * (p == n) for p in positives for n in negatives]
    assert auc(positives, negatives) == pytest.approx(sum(pairs) / len(pairs))
    assert auc(positives, negatives) + auc(negatives, positives) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Markets
# ---------------------------------------------------------------------------------------------


@dataclass
class Market:
    """A finished run and its report."""

    sim: Simulation
    economy: Economy
    kinds: dict[str, str]
    report: EconomyReport

    def agents_of(self, cls: type[Agent]) -> list[Any]:
        return [a for a in self.sim.agents if isinstance(a, cls)]


def run_market(
    label: str,
    seed: int,
    sellers: Sequence[Behaviour] = SELLERS,
    *,
    buyers: int = 4,
    spam: dict[str, Any] | None = None,
    timeout_policy: TimeoutPolicy = "slash",
    **buyer_kwargs: Any,
) -> Market:
    """Run buyers against sellers of the given behaviours with two honest arbitrators."""
    chain = Chain(seed=seed, accounts=5 + buyers + len(sellers), gas_limit=3_000_000)
    economy = Economy.deploy(chain, timeout_policy=timeout_policy)
    accounts = iter(chain.accounts[2:])

    def rng(*labels: object) -> random.Random:
        return random.Random(derive_seed(seed, *labels))

    agents: list[Agent] = [
        ServiceBuyer(f"buyer{i}", next(accounts), rng("buyer", i), **buyer_kwargs)
        for i in range(buyers)
    ]
    agents += [
        ServiceSeller(f"seller{i}", next(accounts), rng("seller", i), behaviour=behaviour)
        for i, behaviour in enumerate(sellers)
    ]
    agents += [Arbitrator(f"arbitrator{i}", next(accounts), rng("arbitrator", i)) for i in (0, 1)]
    economy.fund({a.address: 1_000 * TOKEN for a in agents})
    kinds = {a.name: a.name.rstrip("0123456789") for a in agents}
    if spam is not None:
        agents.append(Spammer("spammer0", chain.accounts[-1], rng("spammer"), **spam))
        kinds["spammer0"] = "spammer"
    chain.automine = False
    sim = Simulation(chain, agents, blocks=BLOCKS, seed=seed, market=economy)
    sim.run()
    report = summarize_economy(
        sim, economy, label=label, seed=seed, scenario_name="escrow-test", kinds=kinds
    )
    return Market(sim, economy, kinds, report)


@pytest.fixture(scope="module")
def disputed() -> Market:
    """Every default is watched: adversarial sellers lose rulings."""
    return run_market("disputed", 1, ignore_reputation=True)


@pytest.fixture(scope="module")
def unwatched() -> Market:
    """No default is disputed: they time out and both bonds are slashed."""
    return run_market("unwatched", 1, ignore_reputation=True, dispute_prob=0.0)


@pytest.fixture(scope="module")
def congested() -> Market:
    """The disputed market with a spammer outbidding everyone for a third of the run."""
    spam = {
        "txs_per_block": 16,
        "start_block": 3,
        "end_block": 12,
        "tip": 20 * 10**9,
        "fee_cap_multiple": 4.0,
    }
    return run_market("congested", 1, ignore_reputation=True, spam=spam)


@pytest.fixture(scope="module")
def tempted() -> Market:
    """Opportunistic sellers under refunds, half the defaults watched: some take the gain."""
    sellers: tuple[Behaviour, ...] = ("honest", "opportunistic", "opportunistic", "opportunistic")
    return run_market(
        "tempted", 2, sellers, timeout_policy="refund", ignore_reputation=True, dispute_prob=0.5
    )


MARKETS = ("disputed", "unwatched", "congested", "tempted")


def _market(request: pytest.FixtureRequest, name: str) -> Market:
    market = request.getfixturevalue(name)
    assert isinstance(market, Market)
    return market


# ---------------------------------------------------------------------------------------------
# The summary against the economy's own records
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MARKETS)
def test_deal_counts_equal_the_economys_outcomes(request: pytest.FixtureRequest, name: str) -> None:
    market = _market(request, name)
    deals, economy = market.report.summary["deals"], market.economy
    outcomes = economy.outcomes()
    assert deals["proposed"] == len(economy.deals) >= 8
    assert deals["released"] == outcomes["Released"]
    assert deals["ruled"] == outcomes["Ruled"]
    assert deals["timed_out"] == outcomes["TimedOut"]
    assert deals["expired"] == outcomes["Expired"]
    assert deals["arbitrator_timed_out"] == outcomes["ArbitratorTimedOut"]
    assert deals["open_at_end"] == len(economy.deals) - sum(outcomes.values())
    assert [row["id"] for row in market.report.deals] == sorted(economy.deals)


@pytest.mark.parametrize("name", MARKETS)
def test_run_txs_are_counted_once_and_set_up_txs_not_at_all(
    request: pytest.FixtureRequest, name: str
) -> None:
    report = _market(request, name).report
    summary = report.summary
    assert sum(row["included"] for row in report.agents) == summary["txs"] > 0
    assert sum(row["failed"] for row in report.agents) == summary["reverted"]
    assert sum(row["sent"] for row in report.agents) == summary["txs"] + summary["priced_out"]
    assert len(report.waits_ms) == summary["txs"]


def test_rates_follow_who_delivers(disputed: Market, unwatched: Market) -> None:
    calm = disputed.report.summary
    assert calm["deals"]["released"] >= 4 and calm["deals"]["ruled"] >= 4
    assert calm["timeout_rate"] == 0.0
    closed = calm["deals"]["released"] + calm["deals"]["ruled"]
    assert calm["settlement_rate"] == pytest.approx(calm["deals"]["released"] / closed)
    assert calm["dispute_rate"] == pytest.approx(calm["deals"]["ruled"] / closed)
    assert calm["default_rate"] == calm["dispute_rate"]  # exactly the adversarial deals
    honest, adversarial = calm["by_behaviour"]["honest"], calm["by_behaviour"]["adversarial"]
    assert (honest["default_rate"], adversarial["default_rate"]) == (0.0, 1.0)
    assert adversarial["dispute_lost"] == calm["deals"]["ruled"]
    assert honest["trust_mean"] > 0.5 > adversarial["trust_mean"]

    quiet = unwatched.report.summary
    assert quiet["deals"]["ruled"] == 0 and quiet["deals"]["timed_out"] >= 3
    assert quiet["by_behaviour"]["adversarial"]["timeout_rate"] == 1.0
    assert quiet["by_behaviour"]["honest"]["timeout_rate"] == 0.0


@pytest.mark.parametrize("name", MARKETS)
def test_welfare_components_add_up(request: pytest.FixtureRequest, name: str) -> None:
    market = _market(request, name)
    summary, economy = market.report.summary, market.economy
    welfare = summary["welfare"]
    delivered = sum(d.counterparty_confirmed for d in economy.deals.values())
    # Default value 15, cost 4: each delivery creates 11 tokens of surplus.
    assert welfare["trade_surplus"] == pytest.approx(11 * delivered)
    gains = sum(
        seller.outside_gains.get(d.id, 0)
        for seller in market.agents_of(ServiceSeller)
        for d in economy.deals.values()
        if d.counterparty == seller.address and d.state in CLOSED and not d.counterparty_confirmed
    )
    assert welfare["outside_gains"] == pytest.approx(gains / TOKEN)
    slashed = (economy.slashed_bonds + economy.slashed_stake) / TOKEN
    assert welfare["slashed"] == pytest.approx(slashed)
    assert welfare["total"] == pytest.approx(
        welfare["trade_surplus"] + welfare["outside_gains"] - welfare["slashed"]
    )
    # What the agents netted is the welfare less what the escrow still holds for open deals.
    held = economy.escrow.functions.openObligations().call() / TOKEN
    assert welfare["in_escrow_at_end"] == pytest.approx(held)
    nets = sum(row["net"] for row in market.report.agents)
    assert nets == pytest.approx(welfare["total"] - held)
    assert sum(row["net"] for row in summary["by_kind"].values()) == pytest.approx(nets)


def test_opportunistic_sellers_take_outside_gains_and_time_out(tempted: Market) -> None:
    summary, economy = tempted.report.summary, tempted.economy
    assert summary["welfare"]["outside_gains"] > 0
    opportunistic = {
        s.address for s in tempted.agents_of(ServiceSeller) if s.behaviour == "opportunistic"
    }
    closed = [
        d for d in economy.deals.values() if d.counterparty in opportunistic and d.state in CLOSED
    ]
    timed_out = sum(d.state == "TimedOut" for d in closed)
    assert timed_out >= 1
    rate = summary["by_behaviour"]["opportunistic"]["timeout_rate"]
    assert rate == pytest.approx(timed_out / len(closed))
    assert summary["by_behaviour"]["honest"]["timeout_rate"] == 0.0
    assert summary["slashing"]["bonds"] == 0.0  # refunds


def test_slashing_is_counted_when_defaults_time_out(unwatched: Market) -> None:
    summary, economy = unwatched.report.summary, unwatched.economy
    timed_out = [d for d in economy.deals.values() if d.state == "TimedOut"]
    assert summary["slashing"]["events"] == len(timed_out) >= 3
    assert summary["slashing"]["bonds"] == pytest.approx(
        sum(d.proposer_bond + d.counterparty_bond for d in timed_out) / TOKEN
    )
    assert summary["welfare"]["slashed"] > 0


@pytest.mark.parametrize("name", MARKETS)
def test_attested_records_equal_the_reputation_registry(
    request: pytest.FixtureRequest, name: str
) -> None:
    market = _market(request, name)
    chain, economy = market.sim.chain, market.economy
    records = attested_records(economy.deals.values(), chain.block_number)
    parties = market.agents_of(ServiceSeller) + market.agents_of(ServiceBuyer)
    assert any(records.get(a.address) for a in parties)
    for agent in parties:
        on_chain = economy.record(chain, agent.address)
        assert records.get(agent.address, type(on_chain)(0, 0, 0, 0)) == on_chain, agent.name


@pytest.mark.parametrize("name", ["disputed", "unwatched"])
def test_reputation_separates_honest_from_adversarial_sellers(
    request: pytest.FixtureRequest, name: str
) -> None:
    report = _market(request, name).report
    assert report.summary["auc"]["last"] > 0.5
    assert report.summary["auc"]["mean_second_half"] > 0.5
    assert report.blocks[0]["auc"] == 0.5  # nobody has a record before the first outcome
    assert report.blocks[-1]["auc"] == pytest.approx(report.summary["auc"]["last"], abs=1e-6)


def test_gini_samples_every_block_of_a_short_run(disputed: Market) -> None:
    report = disputed.report
    series = [row["gini"] for row in report.blocks]
    assert len(series) == BLOCKS and "" not in series
    # Everyone starts with 1,000 tokens (arbitrators partly staked): equal holdings.
    assert report.summary["gini"]["first"] == 0.0
    assert 0.0 < report.summary["gini"]["last"] < 0.5
    assert report.summary["gini"]["last"] == pytest.approx(series[-1], abs=1e-6)


def test_choices_and_bribes(disputed: Market) -> None:
    summary = disputed.report.summary
    buyers = disputed.agents_of(ServiceBuyer)
    chosen = [seller for buyer in buyers for seller in buyer.chosen]
    honest = {s.address for s in disputed.agents_of(ServiceSeller) if s.behaviour == "honest"}
    assert summary["choice"]["proposals"] == len(chosen) > 0
    assert summary["choice"]["honest_share"] == pytest.approx(
        sum(s in honest for s in chosen) / len(chosen)
    )
    assert summary["bribes"] == {"bribed_rulings": 0, "ruled_by_corruptible": 0, "side_payments": 0}


# ---------------------------------------------------------------------------------------------
# Congestion
# ---------------------------------------------------------------------------------------------


def test_congestion_breaks_commitments_the_calm_run_keeps(
    disputed: Market, congested: Market
) -> None:
    calm, busy = disputed.report.summary, congested.report.summary
    assert (calm["broken_commitments"], calm["late_deliveries"], calm["priced_out"]) == (0, 0, 0)
    assert busy["broken_commitments"] >= 1
    assert busy["late_deliveries"] >= 1
    assert busy["base_fee"]["max"] > 1.5 * calm["base_fee"]["max"]
    assert busy["fullness_mean"] > 2 * calm["fullness_mean"]
    assert busy["inclusion_delay_ms"]["mean"] > calm["inclusion_delay_ms"]["mean"]
    for kind in ("buyer", "seller"):  # the spam outbids them, so they wait
        delay = busy["by_kind"][kind]["inclusion_delay_ms_mean"]
        assert delay > 1.5 * calm["by_kind"][kind]["inclusion_delay_ms_mean"], kind
    # The broken ones are honest sellers' deals that timed out.
    broken = [
        row
        for row in congested.report.deals
        if row["planned_default"] is False and row["state"] == "TimedOut"
    ]
    assert len(broken) == busy["broken_commitments"]
    assert {row["seller_behaviour"] for row in broken} == {"honest"}
    spammer = next(row for row in congested.report.agents if row["name"] == "spammer0")
    assert spammer["economy"] is False and spammer["kind"] == "spammer"
    assert busy["by_kind"]["spammer"]["sent"] == spammer["sent"] > 0
    assert busy["economy_agents"] == busy["agents"] - 1


def test_late_deliveries_are_reverted_delivery_txs(congested: Market) -> None:
    chain = congested.sim.chain
    receipts = {r.tx_hash: r for n in range(chain.block_number + 1) for r in chain.receipts(n)}
    delivered = [s for s in congested.sim.sent.values() if s.label == "deliver"]
    late = [s for s in delivered if s.hash in receipts and receipts[s.hash].status == 0]
    assert congested.report.summary["late_deliveries"] == len(late) >= 1
    assert len(delivered) > len(late)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _tree(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_a_run_and_a_comparison_are_written(
    disputed: Market, unwatched: Market, tmp_path: Path
) -> None:
    runs = {"disputed": [disputed.report], "unwatched": [unwatched.report]}
    run_md = write_economy_run(tmp_path / "run", disputed.report, title="Run", intro=["Hello."])
    cmp_md = write_economy_comparison(
        tmp_path / "cmp",
        runs,
        title="Compared",
        intro=["Two."],
        seeds=[1],
        column="variant",
        baseline="disputed",
    )
    assert sorted(_tree(tmp_path / "run")) == sorted(FILES)
    tables = ("blocks.csv", "agents.csv", "deals.csv", "summary.json", "report.md")
    assert sorted(_tree(tmp_path / "cmp")) == sorted((*tables, *SEED_PLOTS))
    text = cmp_md.read_text()
    assert text.startswith("# Compared\n\nTwo.\n\n## Over 1 seed\n")
    assert "| unwatched | not distinguishable at 1 seed |" in text
    assert "## Comparison\n" in text
    for heading in ("## Sellers by behaviour", "## Congestion", "## Plots"):
        assert heading in text
    rows = [line for line in text.splitlines() if line.startswith(("| disputed", "| unwatched"))]
    assert len(rows) >= 2 * 3  # comparison, behaviour (2 each) and congestion tables
    assert "| run |" in run_md.read_text()

    summary = json.loads((tmp_path / "cmp" / "summary.json").read_text())
    assert summary["variants"] == ["disputed", "unwatched"]
    assert summary["runs"]["unwatched"]["seed1"] == unwatched.report.summary
    assert (summary["scenario"], summary["seeds"]) == ("escrow-test", [1])
    assert summary["statistics"]["baseline"] == "disputed"
    header, *lines = (tmp_path / "cmp" / "blocks.csv").read_text().splitlines()
    assert header.split(",")[:2] == ["variant", "seed"]
    assert len(lines) == 2 * BLOCKS
    deals = (tmp_path / "cmp" / "deals.csv").read_text().splitlines()
    assert len(deals) == 1 + len(disputed.report.deals) + len(unwatched.report.deals)


def test_writing_twice_gives_identical_bytes(disputed: Market, tmp_path: Path) -> None:
    again = summarize_economy(
        disputed.sim,
        disputed.economy,
        label="disputed",
        seed=1,
        scenario_name="escrow-test",
        kinds=disputed.kinds,
    )
    assert again == disputed.report
    write_economy_run(tmp_path / "a", disputed.report, title="T", intro=[])
    write_economy_run(tmp_path / "b", again, title="T", intro=[])
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_summary_line(disputed: Market) -> None:
    line = economy_summary_line(disputed.report.summary)
    proposed = disputed.report.summary["deals"]["proposed"]
    assert line.startswith(f"{proposed} deals: ")
    assert "AUC" in line and "welfare" in line


# ---------------------------------------------------------------------------------------------
# Named metrics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["disputed", "congested"])
def test_each_named_metric_is_its_summary_section(
    request: pytest.FixtureRequest, name: str
) -> None:
    market = _market(request, name)
    summary = market.report.summary
    run = EconomyRun(market.sim, market.economy, market.kinds)
    sections = {
        "deals": deal_counts(run),
        "by_behaviour": seller_behaviour(run),
        "welfare": welfare(run),
        "slashing": slashing(run),
        "gini": holdings_gini(gini_series(run)),
        "auc": reputation_auc(run, reputation_auc_series(run)),
        "choice": buyer_choice(run),
        "credentials": credentials(run),
        "bribes": bribes(run),
        "base_fee": base_fee(run),
        "by_kind": kind_totals(run, net_results(run)),
    }
    for key, section in sections.items():
        assert summary[key] == section, key
    for key, value in {**outcome_rates(run), **congestion(run)}.items():
        assert summary[key] == value, key
    assert set(outcome_rates(run)) == {
        "settlement_rate",
        "dispute_rate",
        "timeout_rate",
        "default_rate",
        "expire_rate",
    }


def test_net_results_add_up_to_the_agents_rows(disputed: Market) -> None:
    run = EconomyRun(disputed.sim, disputed.economy, disputed.kinds)
    nets = net_results(run)
    assert [nets[row["name"]] / TOKEN for row in disputed.report.agents] == [
        row["net"] for row in disputed.report.agents
    ]


def test_the_economy_report_does_not_import_the_market_report() -> None:
    code = (
        "import sys\n"
        "import agentbed.agents.economy.report\n"
        "print(sorted(m for m in sys.modules if m.startswith('agentbed.agents.market.report')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
