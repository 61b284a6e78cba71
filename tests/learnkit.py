"""Shared set-up of the learning environment's tests: the bundled PGA scenario, cut short."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentbed.experiments.sweep import load_with_overrides

ROOT = Path(__file__).resolve().parents[1]
PGA = ROOT / "scenarios" / "learning_pga.toml"


def short_pga(blocks: int = 4, *overrides: tuple[str, Any]) -> Any:
    """The bundled PGA scenario with ``blocks`` blocks (and any other overrides)."""
    return load_with_overrides(PGA, [("run.blocks", blocks), *overrides])
