"""Issue 15's attacks, each against its vulnerable and its fixed variant, over seeds paired by seed.

Each attack is a scenario file whose text is the fixed variant and whose ``[variants.vulnerable]``
restores the flaw (``scenarios/attack_*.toml``). For every seed both are run, the attack metrics
of ``agentbed.agents.economy.attack_metrics`` and ``agentbed.agents.market.attack_metrics`` are
read from the finished run, and the table gives per metric the mean over seeds with its 95 %
t-interval under each variant and the paired difference vulnerable - fixed with its interval
("n.s." when that interval contains zero). Seeds are the scenario's seed and the next ones, as
``testbed compare --seeds N`` takes them. Definitions: docs/attacks.md.

    python scripts/attacks.py --seeds 5 --jobs 2 --out docs/attacks-table.md   # repo root

``--only`` runs a subset (``arbitrator,sybil,batch,steering``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from agentbed.agents.economy.attack_metrics import escrow_attack_metrics
from agentbed.agents.market.attack_metrics import intent_attack_metrics
from agentbed.agents.reporting.intervals import Interval, confidence_interval, paired_difference
from agentbed.agents.reporting.seeds import distinguishable
from agentbed.experiments.runner import seed_range
from agentbed.experiments.scenario import build, load_scenario

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("vulnerable", "fixed")


@dataclass(frozen=True)
class Row:
    """One metric of an attack's table: its label, its key in the metrics and a unit scale."""

    label: str
    key: str
    scale: float = 1.0


@dataclass(frozen=True)
class Attack:
    """An attack scenario, what it measures, and which variant of the contracts fixes it."""

    name: str
    scenario: str
    fix: str
    rows: tuple[Row, ...]


GAS = Row("attacker gas (mETH)", "attacker_gas_eth", 1_000)
ATTACKS: Mapping[str, Attack] = {
    "arbitrator": Attack(
        "arbitrator griefing",
        "scenarios/attack_arbitrator.toml",
        "ConsentEscrow vs Escrow",
        (
            GAS,
            Row("attacker net (AGC)", "attacker_net"),
            Row("victim stake lost (AGC)", "stake_lost"),
            Row("no-shows recorded", "no_shows"),
            Row("honest welfare (AGC)", "honest_welfare"),
        ),
    ),
    "sybil": Attack(
        "sybil reputation farming",
        "scenarios/attack_sybil.toml",
        "weighted vs raw record",
        (
            GAS,
            Row("attacker net (AGC)", "attacker_net"),
            Row("honest buyers' deals to the farmer", "displaced"),
            Row("honest welfare (AGC)", "honest_welfare"),
        ),
    ),
    "batch": Attack(
        "batch griefing",
        "scenarios/attack_batch.toml",
        "Skip vs Revert book",
        (
            GAS,
            Row("settlements reverted", "reverted"),
            Row("solver gas on reverted (mETH)", "reverted_gas_eth", 1_000),
            Row("honest intents filled", "honest_fills"),
            Row("honest makers' surplus (USDC)", "honest_surplus"),
        ),
    ),
    "steering": Attack(
        "surplus steering",
        "scenarios/attack_steering.toml",
        "fair vs plain pay-as-filled",
        (
            GAS,
            Row("surplus diverted (USDC)", "diverted"),
            Row("honest makers' surplus (USDC)", "honest_surplus"),
        ),
    ),
}
"""Every attack by its ``--only`` name."""


def run_one(attack: str, variant: str, seed: int) -> dict[str, float]:
    """The attack metrics of one run of ``attack``'s scenario under ``variant`` and ``seed``."""
    scenario = load_scenario(ROOT / ATTACKS[attack].scenario)
    if variant == "vulnerable":
        scenario = scenario.variant_named("vulnerable")
    sim, world = build(scenario, seed=seed)
    sim.run()
    if scenario.study == "economy":
        return escrow_attack_metrics(sim, world)  # type: ignore[arg-type]
    return intent_attack_metrics(sim, world)  # type: ignore[arg-type]


def _job(args: tuple[str, str, int]) -> dict[str, float]:
    return run_one(*args)


def run_all(
    attacks: Sequence[str], seeds: int, jobs: int, progress: Callable[[str], None]
) -> dict[tuple[str, str], list[dict[str, float]]]:
    """Every attack under both variants for ``seeds`` seeds: ``(attack, variant)`` to the
    metrics per seed, in seed order."""
    tasks = []
    for name in attacks:
        root = load_scenario(ROOT / ATTACKS[name].scenario).run.seed
        tasks += [(name, v, s) for s in seed_range(root, seeds) for v in VARIANTS]
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for (name, variant, seed), metrics in zip(tasks, pool.map(_job, tasks), strict=True):
            progress(f"{name} {variant} seed {seed}: {metrics}")
            results.setdefault((name, variant), []).append(metrics)
    return results


def _text(interval: Interval, *, sign: bool = False) -> str:
    def fmt(x: float) -> str:
        return f"{x:+.2f}" if sign else f"{x:.2f}"

    if interval.low is None or interval.high is None:
        return fmt(interval.mean)
    return f"{fmt(interval.mean)} [{fmt(interval.low)}, {fmt(interval.high)}]"


def table(results: Mapping[tuple[str, str], Sequence[Mapping[str, float]]]) -> list[str]:
    """The Markdown table: per attack and metric, each variant's mean [95 % CI] over seeds
    and the paired difference vulnerable - fixed ("n.s.": its interval contains zero)."""
    lines = [
        "| attack (fix) | metric | vulnerable | fixed | vulnerable - fixed |",
        "|---|---|---|---|---|",
    ]
    for name, attack in ATTACKS.items():
        if (name, "fixed") not in results:
            continue
        for row in attack.rows:
            cells = {v: [m[row.key] * row.scale for m in results[(name, v)]] for v in VARIANTS}
            diff = paired_difference(cells["vulnerable"], cells["fixed"])
            note = "" if distinguishable(diff) else " n.s."
            lines.append(
                f"| {attack.name} ({attack.fix}) | {row.label} "
                f"| {_text(confidence_interval(cells['vulnerable']))} "
                f"| {_text(confidence_interval(cells['fixed']))} "
                f"| {_text(diff, sign=True)}{note} |"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--only", default=",".join(ATTACKS), help="attacks to run, by name")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    attacks = [a for a in args.only.split(",") if a]
    unknown = sorted(set(attacks) - set(ATTACKS))
    if unknown:
        parser.error(f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(ATTACKS)}")
    if args.seeds < 2:
        parser.error("--seeds must be >= 2 (an interval needs two seeds)")

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    results = run_all(attacks, args.seeds, max(1, args.jobs), progress)
    lines = table(results)
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
