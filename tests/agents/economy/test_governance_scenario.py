"""scenarios/governance.toml: its lever variants, the ``[economy]`` lever keys, and a short run
in which collusion detection freezes the sybil farmer and the run reports its safety metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_helpers import load_error, with_blocks

from agentbed.agents.economy.governance import Governance
from agentbed.agents.economy.study import _setting
from agentbed.experiments.runner import simulate
from agentbed.experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
GOVERNANCE = ROOT / "scenarios" / "governance.toml"


def test_variants_switch_one_lever_each() -> None:
    scenario = load_scenario(GOVERNANCE)
    assert scenario.economy.governance == Governance()
    assert not scenario.economy.governance.active
    breaker = scenario.variant_named("breaker").economy.governance
    assert (breaker.freeze_defaults, breaker.freeze_window_s) == (2, 240)
    collusion = scenario.variant_named("collusion").economy.governance
    assert (collusion.collusion_z, collusion.collusion_min_deals) == (4.0, 5)
    decay = scenario.variant_named("decay")
    assert decay.agents[0].params["half_life_s"] == 120
    assert scenario.agents[10].params["audit_prob"] == 0
    assert scenario.variant_named("audit").agents[10].params["audit_prob"] == 0.3
    assert "circuit breaker at 2" in _setting(scenario.variant_named("breaker"))
    assert "collusion" not in _setting(scenario)
    tax = scenario.variant_named("tax").economy.governance
    assert tax == Governance(tax_bps=500) and tax.on_chain and not tax.active
    assert "taxed 500 bps" in _setting(scenario.variant_named("tax"))


@pytest.mark.parametrize(
    ("line", "key", "fragment"),
    [
        ("freeze_defaults = -1", "economy.freeze_defaults", ">= 0"),
        ("freeze_window_s = 0", "economy.freeze_window_s", ">= 1"),
        ('collusion_z = "high"', "economy.collusion_z", "expected a number"),
        ("collusion_min_deals = 0", "economy.collusion_min_deals", ">= 1"),
        ("tax_bps = 10000", "economy.tax_bps", "below 10000"),
        ("tax_bps = -5", "economy.tax_bps", ">= 0"),
    ],
)
def test_revert_when_a_lever_key_is_invalid(
    tmp_path: Path, line: str, key: str, fragment: str
) -> None:
    text = GOVERNANCE.read_text().replace("[economy]\n", f"[economy]\n{line}\n", 1)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    load_error(path, key, fragment)


def test_collusion_detection_freezes_the_farmer_in_a_short_run(tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text(with_blocks(GOVERNANCE.read_text(), 18))
    scenario = load_scenario(path).variant_named("collusion")
    report = simulate(scenario, policy="priority", seed=19)
    summary = report.summary
    assert summary["governance"]["collusion_flagged"] == [["sybil0", "farmer0"]]
    # Detected off chain, frozen on chain: the auditor, as governor, put both on the list.
    assert summary["governance"]["frozen_on_chain"] == ["farmer0", "sybil0"]
    assert summary["reverted"] == 0
    safety = summary["safety"]
    assert safety["accepted"] == summary["choice"]["proposals"] > 0
    assert 0.0 < safety["toxicity"] < 1.0
    assert safety["rejected"] > 0


def test_revert_when_an_on_chain_lever_has_no_consent(tmp_path: Path) -> None:
    text = GOVERNANCE.read_text().replace("arbitrator_consent = true", "arbitrator_consent = false")
    text = text.replace("[economy]\n", "[economy]\ntax_bps = 100\n", 1)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    load_error(path, "economy.arbitrator_consent", "GovernedEscrow")


def test_tax_fills_the_treasury_and_the_books_close_in_a_short_run(tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text(with_blocks(GOVERNANCE.read_text(), 18))
    base = simulate(load_scenario(path), policy="priority", seed=19).summary
    summary = simulate(load_scenario(path).variant_named("tax"), policy="priority", seed=19).summary
    treasury = summary["governance"]["treasury"]
    assert treasury["tax_collected"] > 0
    assert treasury["balance"] == pytest.approx(treasury["tax_collected"] - treasury["subsidised"])
    holders = {h["name"]: h for h in summary["closure"]["holders"]}
    # The treasury is an address of its own, and the books close with it.
    fund = holders["treasury (arbitration fund)"]
    assert fund["kind"] == "treasury"
    assert fund["currency_change_wei"] / 10**18 == pytest.approx(treasury["balance"])
    assert summary["closure"]["closes"] is True
    # A tax moves money, not what agents choose: the same agreements close the same way.
    assert summary["deals"] == base["deals"]


def test_revert_when_collusion_detection_has_no_auditor(tmp_path: Path) -> None:
    text = GOVERNANCE.read_text()
    auditor = text.index("# Present in every variant")
    text = text[:auditor] + text[text.index("# Circuit breaker") :]
    text = text.replace("[economy]\n", "[economy]\ncollusion_z = 3.0\n", 1)
    text = text.replace('[variants.audit]\n"agents[10].params.audit_prob" = 0.3\n', "")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    load_error(path, "economy.collusion_z", "auditor")


def test_responsive_sellers_leave_under_the_tax_and_stay_without_it(tmp_path: Path) -> None:
    text = with_blocks(GOVERNANCE.read_text(), 18)
    variant = "[variants.tax_responsive]\neconomy.tax_bps = 500\n"
    assert variant in text
    path = tmp_path / "short.toml"
    path.write_text(text)
    untaxed_path = tmp_path / "untaxed.toml"
    untaxed_path.write_text(text.replace(variant, variant.replace("500", "0")))
    scenario = load_scenario(path).variant_named("tax_responsive")
    assert scenario.agents[1].params["min_margin"] == 55 * 10**17  # whole tokens in the file
    assert "min_margin" not in scenario.agents[6].params  # the farmer sells for its record
    base = simulate(load_scenario(path), policy="priority", seed=19).summary
    taxed = simulate(scenario, policy="priority", seed=19).summary
    untaxed = simulate(
        load_scenario(untaxed_path).variant_named("tax_responsive"), policy="priority", seed=19
    ).summary
    # Untaxed, every margin clears 5.5 AGC: nobody leaves and the run is the base run.
    assert untaxed["priced_out"]["total"] == 0
    assert untaxed["deals"] == base["deals"] and untaxed["choice"] == base["choice"]
    # At 5 % a delivering seller nets 5 AGC: the honest sellers leave, the adversarial stays.
    assert taxed["priced_out"]["honest"] == 3
    assert taxed["priced_out"]["adversarial"] == 0
    assert taxed["choice"]["honest_share"] < base["choice"]["honest_share"]
