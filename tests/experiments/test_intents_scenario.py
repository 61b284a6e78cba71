"""The intents scenario: intent makers beside public swappers under sandwichers.

Short runs of ``scenarios/intents.toml`` (bundles-first ordering, where sandwiches land most
often) are shared by the module: the file as written (pay-as-filled) and its ``public`` and
``uniform`` variants, all on one seed. Its intents are filled and never squeezed, while public
swaps are; the makers' group loses to sandwiches when the same trades go out as public swaps
and nothing as intents under either pricing; uniform pricing gives every maker of a batch's
side one rate where pay-as-filled does not; conditional intents settle exactly beside a
crossing reverse intent, read from the chain. The summary's ``intents`` block agrees with
itself. ``[intents]`` validation names the offending key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode
from eth_utils import to_checksum_address

from agentbed.agents.market.accounting import RunAccount, VictimLoss, account_run, settled_batches
from agentbed.agents.market.intents import ConditionKind, Pricing, crosses
from agentbed.agents.market.mev import DetectedSandwich
from agentbed.agents.market.report import RunReport, intents_table, summarize
from agentbed.agents.market.world import Market
from agentbed.agents.reporting.tables import number_text
from agentbed.agents.sim import Simulation
from agentbed.experiments.scenario import (
    Scenario,
    ScenarioError,
    build,
    load_scenario,
    parse_scenario,
)

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ROOT / "scenarios" / "intents.toml"
BLOCKS = 12
POLICY = "bundles"


@dataclass(frozen=True)
class IntentsRun:
    scenario: Scenario
    sim: Simulation
    market: Market
    account: RunAccount
    summary: dict[str, Any]
    report: RunReport


def small_copy(tmp: Path) -> Path:
    text = INTENTS.read_text(encoding="utf-8")
    assert "\nblocks = 30\n" in text
    path = tmp / "intents.toml"
    path.write_text(text.replace("\nblocks = 30\n", f"\nblocks = {BLOCKS}\n"), encoding="utf-8")
    return path


def simulate(scenario: Scenario) -> IntentsRun:
    sim, market = build(scenario, policy=POLICY)
    sim.run()
    kinds = {agent: group.kind for group in scenario.agents for agent in group.agent_names()}
    account = account_run(sim, market, numeraire=scenario.market.numeraire, kinds=kinds)
    report = summarize(sim, account, scenario, POLICY, scenario.run.seed)
    if scenario.variant:
        report = replace(report, label=scenario.variant)
    return IntentsRun(scenario, sim, market, account, report.summary, report)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(small_copy(tmp_path_factory.mktemp("intents")))


@pytest.fixture(scope="module")
def run(small: Scenario) -> IntentsRun:
    """The file as written: the makers' trades as intents, pay-as-filled."""
    return simulate(small)


@pytest.fixture(scope="module")
def public_run(small: Scenario) -> IntentsRun:
    """The ``public`` variant: the makers' group sends the same trades as public swaps."""
    return simulate(small.variant_named("public"))


@pytest.fixture(scope="module")
def uniform_run(small: Scenario) -> IntentsRun:
    """The ``uniform`` variant: the makers' trades as intents, uniform-price settlement."""
    return simulate(small.variant_named("uniform"))


def group_victims(run: IntentsRun, group: str) -> list[VictimLoss]:
    """The victims among the agents of the scenario group named ``group``."""
    names = set(next(g for g in run.scenario.agents if g.name == group).agent_names())
    return [v for v in run.account.victims if v.agent in names]


def kind_of(run: IntentsRun, tx: bytes) -> str:
    """The scenario kind of the agent that sent ``tx`` ("" if no agent did)."""
    kinds = {a: g.kind for g in run.scenario.agents for a in g.agent_names()}
    sent = run.sim.sent.get(tx)
    return "" if sent is None else kinds.get(sent.agent, "")


def test_scenario_loads_with_its_intent_book() -> None:
    scenario = load_scenario(INTENTS)
    assert scenario.intents is not None
    assert scenario.intents.pricing == "pay_as_filled"
    kinds = {g.kind for g in scenario.agents}
    assert {"retail", "intent_maker", "solver", "sandwicher", "arbitrageur"} <= kinds
    makers = next(g for g in scenario.agents if g.name == "maker")
    assert makers.kind == "intent_maker"
    assert 0 < makers.params["conditional"] < 1
    assert list(scenario.variants) == ["public", "pay_as_filled", "uniform", "fair", "limits"]
    public = next(g for g in scenario.variant_named("public").agents if g.name == "maker")
    assert public.kind == "retail"
    # The same trade draw: only the intent-only parameters are left out.
    shared = ("mean_size", "size_sigma", "slippage_bps")
    assert {k: public.params[k] for k in shared} == {k: makers.params[k] for k in shared}
    assert public.schedule == makers.schedule
    pricing = {n: v.intents.pricing for n, v in scenario.variant_scenarios.items() if v.intents}
    assert pricing == {
        "public": "pay_as_filled",
        "pay_as_filled": "pay_as_filled",
        "uniform": "uniform",
        "fair": "fair_pay_as_filled",
        "limits": "pay_as_filled",
    }
    solvers = next(g for g in scenario.variant_named("limits").agents if g.kind == "solver")
    assert solvers.params["commit"] == "limits"


@pytest.mark.parametrize(
    ("name", "pricing"),
    [("uniform", Pricing.UNIFORM_PRICE), ("fair_pay_as_filled", Pricing.FAIR_PAY_AS_FILLED)],
)
def test_build_deploys_the_configured_book_variant(name: str, pricing: Pricing) -> None:
    data = tomllib.loads(INTENTS.read_text(encoding="utf-8"))
    data["intents"]["pricing"] = name
    data["run"]["blocks"] = 1
    _, market = build(parse_scenario(data, str(INTENTS)))
    assert market.intent_board is not None
    assert market.intent_board.pricing == pricing
    chain_pricing = market.chain.contract(market.intent_board.book, "IntentBook")
    assert chain_pricing.functions.pricing().call() == pricing
    assert market.intent_board.share_bps == data["intents"]["solver_share_bps"]


def test_intents_are_filled(run: IntentsRun) -> None:
    intents = run.summary["intents"]
    assert intents["posted"] >= 10
    assert intents["filled"] >= intents["posted"] // 2
    assert intents["filled"] <= intents["posted"]
    assert intents["fill_rate"] == pytest.approx(intents["filled"] / intents["posted"])


def test_makers_are_never_sandwiched_but_public_swaps_are(run: IntentsRun) -> None:
    true_victims = set(run.account.truth.victims)
    detected_victims = {
        tx for d in run.account.detected if isinstance(d, DetectedSandwich) for tx in d.victim_txs
    }
    victim_kinds = {kind_of(run, tx) for tx in true_victims | detected_victims}
    # Makers send no swaps and solvers' settlements are not sandwiched either.
    assert not victim_kinds & {"intent_maker", "solver"}
    assert "retail" in victim_kinds
    assert run.summary["sandwiches"]["true"] >= 1
    assert run.summary["intents"]["maker_victim_loss"] == 0
    assert run.summary["intents"]["public_victim_loss"] > 0


def test_summary_intents_block_is_consistent(run: IntentsRun) -> None:
    intents = run.summary["intents"]
    assert intents["maker_surplus"] > 0
    assert intents["solver_rewards"] > 0  # solver_share_bps > 0 and makers beat their limits
    latency = intents["fill_latency_ms"]
    assert 0 < latency["mean"] <= latency["max"]
    assert latency["max"] <= run.scenario.run.blocks * run.scenario.run.block_time_ms
    assert intents["public_victim_loss"] == pytest.approx(run.summary["victim_loss"])


def test_conditional_intents_settle_exactly_beside_a_crossing_reverse_intent(
    run: IntentsRun,
) -> None:
    # Everything here is read back from the chain: each settlement's intents from its
    # calldata, what became of each from the book's IntentFilled / IntentSkipped events.
    board = run.market.intent_board
    assert board is not None
    receipts = [r for m in run.sim.metrics for r in run.sim.chain.receipts(m.number)]
    batches = settled_batches(run.sim.chain, receipts, board.book, board.chain_id)
    assert batches == run.account.intents.batches

    def conditional(intent: Any) -> bool:
        return intent.condition.kind == ConditionKind.COUNTER_INTENT

    settled = [
        (b, k) for b in batches for k, i in enumerate(b.intents) if conditional(i) and b.fills[k]
    ]
    skipped = [
        (b, k)
        for b in batches
        for k, i in enumerate(b.intents)
        if conditional(i) and not b.fills[k]
    ]
    assert len(settled) >= 3
    assert all(b.counter_held(k) for b, k in settled)
    assert not any(b.counter_held(k) for b, k in skipped)  # the book skips only unmet ones

    # An intent whose condition never held: no crossing reverse intent executed in any
    # settlement between its posting and its deadline. None of them settled.
    at = {b.tx: run.sim.chain.block(b.block).timestamp_ms for b in batches}
    posted = [p for p in board.posted.values() if conditional(p.intent)]

    def ever_held(p: Any) -> bool:
        return any(
            p.posted_ms <= at[b.tx] <= p.intent.deadline * 1000 and crosses(p.intent, other)
            for b in batches
            for other in b.executed()
            if other != p.intent
        )

    # Whether any such intent exists depends on the run (how many settlements land); the
    # property is that none of them settled.
    never = [p for p in posted if not ever_held(p)]
    settled_digests = {b.digests[k] for b, k in settled}
    assert not settled_digests & {p.digest for p in never}

    block = run.summary["intents"]["conditional"]
    assert block["posted"] == len(posted) > len(settled)
    assert block["filled"] == len(settled)
    assert block["filled_without_counter"] == 0
    assert block["expired"] <= len(posted) - len(settled)


def test_makers_lose_to_sandwiches_as_public_swaps_and_nothing_as_intents(
    run: IntentsRun, public_run: IntentsRun, uniform_run: IntentsRun
) -> None:
    # The paired design: one seed, the makers' group drawing the same trades each time.
    public = group_victims(public_run, "maker")
    assert len(public) >= 2
    assert sum(v.value for v in public) > 500  # USDC; 1,833 on this seed
    assert all(v.loss > 0 for v in public)
    for intents in (run, uniform_run):
        assert group_victims(intents, "maker") == []
        assert intents.summary["intents"]["victim_loss_by_group"]["maker"] == 0
        # The sandwichers were busy all the same: the public swappers beside them lost.
        assert intents.summary["intents"]["victim_loss_by_group"]["public"] > 500
    loss = public_run.summary["intents"]["victim_loss_by_group"]["maker"]
    assert loss == pytest.approx(sum(v.value for v in public))


def test_public_variant_sends_the_makers_intents_as_swaps(
    run: IntentsRun, public_run: IntentsRun
) -> None:
    """Each maker's intents, in order, reappear among its public swaps: the same token sold,
    in about the same amount (sizes are fractions of reserves, which the two runs move
    differently). A maker skips an intent its open intents' balance cannot cover, so the
    swaps are matched in order with gaps."""
    by_address = {a.address: a.name for a in run.sim.agents}
    board = run.market.intent_board
    assert board is not None
    intents: dict[str, list[tuple[str, int]]] = {}
    for p in sorted(board.posted.values(), key=lambda p: p.intent.nonce):
        intents.setdefault(by_address[p.intent.maker], []).append(
            (p.intent.sell_token, p.intent.sell_amount)
        )
    swaps: dict[str, list[tuple[str, int]]] = {}
    for tx, sent in public_run.sim.sent.items():
        if sent.agent in intents and sent.label == "trade":
            data = public_run.sim.chain.transaction(tx).data
            token, amount = decode(("address", "uint256"), data[4:68])
            swaps.setdefault(sent.agent, []).append((to_checksum_address(token), amount))
    matched = total = 0
    for maker, own in intents.items():
        theirs, at = swaps.get(maker, []), 0
        for token, amount in own:
            total += 1
            for k in range(at, min(at + 4, len(theirs))):  # a few skipped swaps at most
                swapped, swap_amount = theirs[k]
                if swapped == token and abs(swap_amount - amount) < 0.05 * amount:
                    matched, at = matched + 1, k + 1
                    break
    assert total >= 20
    assert matched >= 0.9 * total


def test_uniform_pricing_gives_every_maker_of_a_side_one_rate(
    run: IntentsRun, uniform_run: IntentsRun
) -> None:
    # Neither pricing rule leaves anything for a sandwicher (makers' victim loss is 0 under
    # both, see above); what differs is how a batch's proceeds are shared among its makers.
    uniform = uniform_run.account.intents.price_spreads_bps
    pay_as_filled = run.account.intents.price_spreads_bps
    assert len(uniform) >= 5
    assert max(uniform) < 1e-6
    assert len(pay_as_filled) >= 5
    assert min(pay_as_filled) > 1  # each maker is paid its own limit plus a pro-rata share
    assert uniform_run.summary["intents"]["price_spread_bps"]["max"] < 1e-6
    assert run.summary["intents"]["price_spread_bps"]["mean"] > 20


def test_intents_table_has_a_row_per_variant(
    run: IntentsRun, public_run: IntentsRun, uniform_run: IntentsRun
) -> None:
    base = replace(run.report, label="pay_as_filled")
    lines = intents_table([public_run.report, base, uniform_run.report], "variant")
    assert lines[0].startswith("| variant | posted | filled |")
    assert "conditional posted / filled / expired" in lines[0]
    assert "makers' full P&L (USDC)" in lines[0]
    assert "makers' surplus over limit (USDC, secondary)" in lines[0]
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:]}
    assert list(rows) == ["public", "pay_as_filled", "uniform"]
    c = run.summary["intents"]["conditional"]
    assert f"| {c['posted']} / {c['filled']} / {c['expired']} |" in rows["pay_as_filled"]
    assert "maker 0.00" in rows["uniform"]
    pnl = sum(run.summary["intents"]["maker_pnl"].values())
    makers = [a for a in run.account.agents if a.kind == "intent_maker"]
    assert len(run.summary["intents"]["maker_pnl"]) == len(makers) == 10
    assert pnl == pytest.approx(sum(a.profit for a in makers))
    assert f"| {number_text(pnl)} |" in rows["pay_as_filled"]
    assert "maker 0.00" not in rows["public"]


def test_scenario_without_intents_table_has_no_book() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "mev.toml")
    assert scenario.intents is None


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["intents"].update(pricing="dutch"), "intents.pricing"),
        (lambda d: d["intents"].update(on_unmet="ignore"), "intents.on_unmet"),
        (lambda d: d["intents"].update(solver_share_bps=10_001), "intents.solver_share_bps"),
        (lambda d: d["intents"].update(solver_share=5), "intents.solver_share"),
        (lambda d: d.pop("intents"), "intents"),
    ],
    ids=["pricing", "on_unmet", "share_range", "unknown_key", "missing_table"],
)
def test_revert_when_intents_table_is_invalid(edit: Any, key: str) -> None:
    data = tomllib.loads(INTENTS.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "intents.toml")
    assert info.value.key == key
    assert key in str(info.value)
