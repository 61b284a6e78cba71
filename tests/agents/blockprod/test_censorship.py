"""Censorship delay: without a censor every target tx is in the next block; with one, the
target waits for a slot the censor does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbed.agents.blockprod.censorship import (
    CensorshipConfig,
    CensorshipConfigError,
    load_config,
    report,
    run_grid,
    run_once,
)

SMALL = CensorshipConfig(slots=20, submit_slots=12, seeds=(1, 2))


def test_no_censor_means_the_next_block() -> None:
    stats = run_once(SMALL, 1, 0.0)
    assert stats.delays == (1,) * 12 and stats.pending == 0


def test_censored_target_waits_for_an_honest_slot() -> None:
    stats = run_once(SMALL, 3, 0.75)
    assert stats == run_once(SMALL, 3, 0.75)  # deterministic
    assert len(stats.delays) + stats.pending == 12
    assert min(stats.delays) >= 1 and max(stats.delays) > 1


def test_report_has_theory_and_paired_rows() -> None:
    cfg = CensorshipConfig(slots=10, submit_slots=6, seeds=(1, 2), censor_shares=(0.0, 0.5))
    text = report(cfg, run_grid(cfg))
    assert "| 0.5 |" in text and "| 2.00 |" in text
    assert "- share 0.5 minus share 0.0:" in text


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(CensorshipConfigError, match="censor_shares"):
        CensorshipConfig(censor_shares=(1.0,))
    with pytest.raises(CensorshipConfigError, match="submit_slots <= slots"):
        CensorshipConfig(slots=5, submit_slots=6)
    path = tmp_path / "c.toml"
    path.write_text("[credibility]\nslots = 3\n", encoding="utf-8")
    with pytest.raises(CensorshipConfigError, match=r"no \[censorship\] table"):
        load_config(path)
    assert load_config(Path("scenarios/blockprod/credibility.toml")).submit_slots == 40
