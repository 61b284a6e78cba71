"""The counter study: a mock token, agents that click (send one step of it to a sink), a count.

A scenario of this study holds a ``[counter]`` table (``symbol``, default ``"CNT"``); its agents
are ``clicker`` (sends ``step`` whole tokens to the sink on each wake) and ``watcher`` (wakes on
every block and sends nothing). The study deploys ``MockERC20`` under the symbol, mints the
agents' funding, counts the successful clicks block by block, and reports the count and the
sink's balance in a ``summary.json`` and a one-table ``report.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import Action, Agent, AgentView, TxIntent
from agentbed.agents.config import TOKEN_UNIT, Table
from agentbed.agents.study import Study, StudyReport, World

if TYPE_CHECKING:
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt
    from agentbed.experiments.schema import AgentGroup, Scenario

_TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
_MINT = function_signature_to_4byte_selector("mint(address,uint256)")
CLICK_GAS = 60_000


class CounterWorld:
    """The token and the sink; counts the clicks that landed."""

    def __init__(self, chain: Chain, token: str, sink: str) -> None:
        self.chain = chain
        self.token = token
        self.sink = sink
        self.clicks = 0

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Count the successful transfers to the token (every one is a click)."""
        self.clicks += sum(1 for r in receipts if r.to == self.token and r.status == 1)

    def sink_balance(self) -> int:
        """The sink's token balance, in wei."""
        data = function_signature_to_4byte_selector("balanceOf(address)") + encode(
            ("address",), (self.sink,)
        )
        return int.from_bytes(self.chain.call(self.token, data), "big")


class Clicker(Agent):
    """Sends ``step`` (wei of the token) to the sink every time it wakes."""

    def __init__(self, *args: Any, step: int = TOKEN_UNIT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if step <= 0:
            raise ValueError(f"step must be > 0, got {step}")
        self.step = step

    def observe(self, view: AgentView) -> Sequence[Action]:
        world: CounterWorld = view.market
        data = _TRANSFER + encode(("address", "uint256"), (world.sink, self.step))
        return (TxIntent(to=world.token, data=data, gas=CLICK_GAS, label="click"),)


class Watcher(Agent):
    """Wakes on every block and counts the blocks it saw; sends nothing."""

    wants_blocks = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen = 0

    def observe(self, view: AgentView) -> Sequence[Action]:
        self.seen += len(view.new_blocks)
        return ()


@dataclass(frozen=True, slots=True)
class CounterConfig:
    """The ``[counter]`` table: the token's symbol."""

    symbol: str = "CNT"


@dataclass(frozen=True, slots=True)
class CounterReport:
    """A counter run's report data."""

    label: str
    summary: dict[str, Any]


def _world(world: World) -> CounterWorld:
    assert isinstance(world, CounterWorld)
    return world


@dataclass(frozen=True, slots=True)
class CounterStudy:
    """The counter study; the fields are the ``Study`` attributes."""

    name: str = "counter"
    sections: tuple[str, ...] = ("[counter]",)
    strategies: Mapping[str, type[Agent]] = field(
        default_factory=lambda: MappingProxyType({"clicker": Clicker, "watcher": Watcher})
    )
    token_params: frozenset[str] = frozenset({"step"})
    extra_accounts: int = 1  # the sink
    metrics: tuple[str, ...] = ("clicks", "sink_balance")

    def parse(self, top: Table) -> dict[str, Any]:
        table = top.table("counter")
        table.expect(("symbol",))
        return {"counter": CounterConfig(table.string("symbol", "CNT"))}

    def funding_symbols(self, sections: Mapping[str, Any]) -> tuple[str, ...]:
        return (sections["counter"].symbol,)

    def check_agents(
        self, sections: Mapping[str, Any], agents: Sequence[AgentGroup], top: Table
    ) -> None:
        symbol = sections["counter"].symbol
        for index, group in enumerate(agents):
            if group.kind == "clicker" and group.count and not group.funding.get(symbol):
                raise top.error(f"agents[{index}].funding", f"required: a clicker needs {symbol}")

    def deploy(self, chain: Chain, scenario: Scenario, seed: int) -> World:
        symbol = scenario.counter.symbol
        token = chain.deploy("MockERC20", symbol, symbol, sender=chain.accounts[0])
        return CounterWorld(chain, str(token.address), chain.accounts[-1].address)

    def fund(self, world: World, funding: Mapping[str, Mapping[str, int]]) -> None:
        counter = _world(world)
        minter = counter.chain.accounts[0]
        for holder, amounts in funding.items():
            for amount in amounts.values():
                data = _MINT + encode(("address", "uint256"), (holder, amount))
                counter.chain.transact(minter, to=counter.token, data=data, gas=120_000)

    def summarize(
        self,
        sim: Simulation,
        world: World,
        scenario: Scenario,
        *,
        policy: str,
        seed: int,
        label: str,
        kinds: Mapping[str, str],
    ) -> StudyReport:
        counter = _world(world)
        summary = {
            "scenario": scenario.run.name,
            "seed": seed,
            "policy": policy,
            "variant": scenario.variant,
            "blocks": len(sim.metrics),
            "agents": dict(sorted(kinds.items())),
            "clicks": counter.clicks,
            "sink_balance": counter.sink_balance() / TOKEN_UNIT,
        }
        return CounterReport(label, summary)

    def write_run(self, out: Path, report: StudyReport, scenario: Scenario, seed: int) -> Path:
        return self._write(out, scenario, [report], "run")

    def write_comparison(
        self,
        out: Path,
        runs: Mapping[str, Sequence[StudyReport]],
        scenario: Scenario,
        seeds: Sequence[int],
        *,
        column: str,
        baseline: str,
    ) -> Path:
        # The first seed's runs: this test study shows the plug-in path, not statistics.
        return self._write(out, scenario, [group[0] for group in runs.values()], column)

    def _write(
        self, out: Path, scenario: Scenario, reports: Sequence[StudyReport], column: str
    ) -> Path:
        runs = {r.label: r.summary for r in reports}
        summary = runs[reports[0].label] if column == "run" else {"runs": runs}
        (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        rows = [f"| {r.label} | {r.summary['clicks']} |" for r in reports]
        lines = [f"# {scenario.run.name}", "", f"| {column} | clicks |", "| --- | --- |", *rows]
        report = out / "report.md"
        report.write_text("\n".join(lines) + "\n")
        return report

    def summary_line(self, summary: Mapping[str, Any]) -> str:
        return f"{summary['clicks']} clicks, sink holds {summary['sink_balance']:g}"


STUDY: Study = CounterStudy()
