"""Every way an experiment's settings file can be wrong ends in the experiment's named error."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentbed.agents.blockprod.builders import BuildersConfigError, load_builders_config
from agentbed.agents.blockprod.experiment import ReorgConfigError, load_config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[reorgs\nslots = 3", "not valid TOML"),
        ("[other]\nslots = 3", "no [reorgs] table"),
        ("[reorgs]\nslotz = 3", "unknown keys in [reorgs]: ['slotz']"),
    ],
)
def test_bad_reorg_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "reorgs.toml"
    path.write_text(text)
    with pytest.raises(ReorgConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_a_missing_builders_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BuildersConfigError, match="cannot read"):
        load_builders_config(tmp_path / "nope.toml")


def test_the_bundled_files_load() -> None:
    root = Path(__file__).resolve().parents[3] / "scenarios" / "blockprod"
    assert load_config(root / "reorgs.toml").seeds == (1, 2, 3, 4, 5)
    assert load_builders_config(root / "builders.toml").builder_counts == (1, 2, 4)
