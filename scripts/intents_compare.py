"""The intents comparison over seeds: the same makers' full P&L as intents and as public swaps.

Runs the scenario's variants (default: ``public``, the file as written ``base``, and ``limits``)
on seeds ``root .. root + N - 1`` under the scenario's policy, and writes ``intents.md`` and
``intents.csv`` into ``--out``:

* per variant, the mean over seeds of the makers' total full P&L with its 95% t-interval
  (``agentbed.experiments.intervals``), and the seed-paired difference against the first
  variant (same seed: same reference-price path, same draws of sides and sizes);
* the same per maker;
* secondary lines: intents filled / posted, settlements hit by an attack (victims whose sender
  is a solver), and the makers' surplus over their signed limits (what fills paid above the
  limit; not a P&L).

Full P&L: ``agentbed.agents.market.intent_accounting.maker_pnl`` (holdings change at the final
reference prices, net of ETH spent). A difference is called one only when its paired interval
excludes zero; otherwise the table says "not distinguishable at n seeds".

Usage (from the repository root)::

    python scripts/intents_compare.py scenarios/intents.toml --seeds 10 --out runs/intents-seeds
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's agentbed, however the script is started

from agentbed.agents.market.intent_accounting import group_members  # noqa: E402
from agentbed.experiments.intervals import Interval, confidence_interval  # noqa: E402
from agentbed.experiments.parse import load_scenario  # noqa: E402
from agentbed.experiments.runner import BASE, simulate  # noqa: E402

Run = dict[str, Any]
"""One run's figures: ``pnl`` (maker -> P&L), ``filled``, ``posted``, ``hit``, ``surplus``,
``unit`` (the numeraire)."""


def run_once(scenario_path: Path, variant: str, seed: int) -> Run:
    """One variant on one seed: its makers' full P&L and the secondary figures."""
    scenario = load_scenario(scenario_path)
    chosen = scenario if variant == BASE else scenario.variant_named(variant)
    policy = chosen.policy_spec(None).name
    report = simulate(chosen, policy=policy, seed=seed, label=variant)
    rows = {row["name"]: row for row in report.agents}
    makers = group_members(rows)
    solvers = set(group_members(rows, "solver"))
    intents = report.summary.get("intents", {})
    return {
        "pnl": {m: float(rows[m]["profit"]) for m in makers},
        "filled": intents.get("filled", 0),
        "posted": intents.get("posted", 0),
        "hit": sum(1 for v in report.victims if v["agent"] in solvers),
        "surplus": intents.get("maker_surplus", 0.0),
        "unit": report.summary["numeraire"],
    }


def interval_text(interval: Interval) -> str:
    """``mean [low, high]`` with two decimals."""
    if interval.low is None or interval.high is None:
        return f"{interval.mean:,.2f}"
    return f"{interval.mean:,.2f} [{interval.low:,.2f}, {interval.high:,.2f}]"


def verdict(interval: Interval) -> str:
    """Whether a paired difference is one at 95%."""
    if interval.low is None or interval.high is None:
        return "one seed: no interval"
    if interval.low > 0 or interval.high < 0:
        return "differs (interval excludes 0)"
    return f"not distinguishable at {interval.n} seeds"


def tables(runs: Mapping[str, Sequence[Run]], seeds: Sequence[int], unit: str) -> str:
    """The markdown of the comparison."""
    variants = list(runs)
    baseline = variants[0]
    makers = list(runs[baseline][0]["pnl"])
    total = {v: [sum(r["pnl"].values()) for r in runs[v]] for v in variants}
    lines = [
        f"Seeds {seeds[0]}..{seeds[-1]} (n = {len(seeds)}); 95% t-intervals; differences "
        f"paired by seed against `{baseline}`. Full P&L in {unit}: holdings change at the "
        "final reference prices, net of ETH spent (gas, direct payments).",
        "",
        f"| variant | makers' total P&L ({unit}) | paired difference vs {baseline} | verdict | "
        "intents filled / posted | settlements hit | makers' surplus over limit (secondary) |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for v in variants:
        diff = confidence_interval([a - b for a, b in zip(total[v], total[baseline], strict=True)])
        same = v == baseline
        filled = sum(r["filled"] for r in runs[v])
        posted = sum(r["posted"] for r in runs[v])
        lines.append(
            f"| {v} | {interval_text(confidence_interval(total[v]))} | "
            f"{'-' if same else interval_text(diff)} | {'-' if same else verdict(diff)} | "
            f"{filled} / {posted} | {sum(r['hit'] for r in runs[v])} | "
            f"{interval_text(confidence_interval([r['surplus'] for r in runs[v]]))} |"
        )
    lines += [
        "",
        f"Per maker: mean P&L ({unit}) and the paired difference vs `{baseline}` (intervals not "
        "corrected for multiple comparisons: at 95%, about one in twenty excludes 0 by chance).",
        "",
    ]
    others = variants[1:]
    header = ["maker", baseline, *others, *(f"{v} - {baseline}" for v in others)]
    lines += ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for m in makers:
        series = {v: [r["pnl"][m] for r in runs[v]] for v in variants}
        cells = [interval_text(confidence_interval(series[v])) for v in variants]
        cells += [
            interval_text(
                confidence_interval(
                    [a - b for a, b in zip(series[v], series[baseline], strict=True)]
                )
            )
            for v in others
        ]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_text(runs: Mapping[str, Sequence[Run]], seeds: Sequence[int]) -> str:
    """One row per variant, seed and maker."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variant", "seed", "maker", "pnl", "filled", "posted", "settlements_hit"])
    for v, series in runs.items():
        for seed, run in zip(seeds, series, strict=True):
            for maker, pnl in run["pnl"].items():
                writer.writerow(
                    [v, seed, maker, repr(pnl), run["filled"], run["posted"], run["hit"]]
                )
    return out.getvalue()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    parser.add_argument("--root", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--variants", default=f"public,{BASE},limits")
    parser.add_argument("--out", type=Path, default=Path("runs/intents-seeds"))
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 for an interval")
    seeds = list(range(args.root, args.root + args.seeds))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    done = args.out / "runs.jsonl"  # one line per finished run, so a stopped comparison resumes
    cached: dict[tuple[str, int], Run] = {}
    if done.exists():
        for line in done.read_text().splitlines():
            record = json.loads(line)
            cached[(record["variant"], record["seed"])] = record["run"]
    runs: dict[str, list[Run]] = {v: [] for v in variants}
    for seed in seeds:
        for v in variants:
            if (v, seed) not in cached:
                cached[(v, seed)] = run_once(args.scenario, v, seed)
                with done.open("a") as log:
                    log.write(json.dumps({"variant": v, "seed": seed, "run": cached[(v, seed)]}))
                    log.write("\n")
            runs[v].append(cached[(v, seed)])
            total = sum(runs[v][-1]["pnl"].values())
            print(f"seed {seed} {v}: makers' P&L {total:,.2f}", file=sys.stderr, flush=True)
    unit = runs[variants[0]][0]["unit"]
    (args.out / "intents.md").write_text(tables(runs, seeds, unit))
    (args.out / "intents.csv").write_text(csv_text(runs, seeds))
    print((args.out / "intents.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
