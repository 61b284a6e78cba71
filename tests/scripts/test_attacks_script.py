"""``scripts/attacks.py``: the table of paired differences, on hand-built per-seed metrics, and
its command-line checks (no simulation runs here; the attacks' behaviour is tested with the
agents in ``tests/agents/economy/test_attack_agents.py`` and
``tests/agents/market/test_intent_attacks_agents.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    """Import ``scripts/attacks.py`` (scripts/ is not a package)."""
    name = "testbed_attacks_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "attacks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


attacks = _load_script()


def _steering(diverted: list[float], surplus: list[float]) -> list[dict[str, float]]:
    return [
        {"attacker_gas_eth": 0.001, "diverted": d, "honest_surplus": s}
        for d, s in zip(diverted, surplus, strict=True)
    ]


def test_table_pairs_by_seed_and_marks_intervals_containing_zero() -> None:
    results = {
        ("steering", "vulnerable"): _steering([10.0, 12.0, 14.0], [5.0, 9.0, 1.0]),
        ("steering", "fixed"): _steering([0.0, 0.0, 0.0], [6.0, 8.0, 2.0]),
    }
    lines = attacks.table(results)
    assert lines[0].startswith("| attack (fix) | metric |")
    rows = {line.split(" | ")[1]: line for line in lines[2:]}
    assert set(rows) == {
        "attacker gas (mETH)",
        "surplus diverted (USDC)",
        "honest makers' surplus (USDC)",
    }
    # Diverted: differences 10, 12, 14 -> mean 12, t(2) = 4.303, sd 2 -> half-width 4.97.
    assert "| +12.00 [+7.03, +16.97] |" in rows["surplus diverted (USDC)"]
    assert "| 0.00 [0.00, 0.00] |" in rows["surplus diverted (USDC)"]
    # Surplus: differences -1, +1, -1: its interval contains zero.
    assert rows["honest makers' surplus (USDC)"].endswith(" n.s. |")
    # Gas is scaled to mETH and equal in both: a zero difference is not claimed.
    assert "| 1.00 [1.00, 1.00] |" in rows["attacker gas (mETH)"]
    assert rows["attacker gas (mETH)"].endswith(" n.s. |")


def test_table_leaves_out_attacks_that_were_not_run() -> None:
    results = {
        ("steering", "vulnerable"): _steering([1.0, 2.0], [1.0, 1.0]),
        ("steering", "fixed"): _steering([0.0, 0.0], [1.0, 1.0]),
    }
    assert not any("griefing" in line for line in attacks.table(results))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "steering,bogus"], "unknown attack(s) bogus"),
        (["--seeds", "1"], "--seeds must be >= 2"),
    ],
)
def test_bad_arguments_are_named(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        attacks.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_every_attack_scenario_has_a_vulnerable_variant() -> None:
    from agentbed.experiments.scenario import load_scenario

    for attack in attacks.ATTACKS.values():
        scenario = load_scenario(ROOT / attack.scenario)
        assert "vulnerable" in scenario.variants, attack.scenario
